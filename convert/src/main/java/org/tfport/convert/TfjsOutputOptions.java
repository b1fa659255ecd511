package org.tfport.convert;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.tfjs.QuantizationMap;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * How to write a TF.js model: shard size (4 MiB by default, as upstream), weight quantization,
 * weight grouping and the {@code userDefinedMetadata} object. Built with {@link #builder()}; {@link
 * #defaults()} is the converter's defaults.
 */
public final class TfjsOutputOptions {
  public static final long DEFAULT_SHARD_SIZE = 4L * 1024 * 1024;

  /** The types TF.js stores quantized weights as. */
  public enum WeightQuantization {
    /** IEEE half precision. */
    FLOAT16(DType.FLOAT16),
    /** Affine 8-bit: {@code min + scale * q}. */
    UINT8(DType.UINT8),
    /** Affine 16-bit. */
    UINT16(DType.UINT16);

    private final DType dtype;

    WeightQuantization(DType dtype) {
      this.dtype = dtype;
    }
  }

  /** How weights are grouped into shard files. */
  public enum WeightGrouping {
    /** All weights in one group, sharded by size (the converter's default). */
    ONE_GROUP,
    /**
     * One group per layer (Keras and TF.js layers models), so each layer's weights load on their
     * own.
     */
    PER_LAYER
  }

  private final long shardSizeBytes;
  private final QuantizationMap quantization;
  private final WeightGrouping weightGrouping;
  private final ObjectNode userDefinedMetadata;
  private final boolean overwrite;

  private TfjsOutputOptions(
      long shardSizeBytes,
      QuantizationMap quantization,
      WeightGrouping weightGrouping,
      ObjectNode userDefinedMetadata,
      boolean overwrite) {
    this.overwrite = overwrite;
    this.shardSizeBytes = shardSizeBytes;
    this.quantization = quantization;
    this.weightGrouping = weightGrouping;
    this.userDefinedMetadata = userDefinedMetadata;
  }

  public static TfjsOutputOptions defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public long shardSizeBytes() {
    return shardSizeBytes;
  }

  /** Which weights get which quantization, by name. */
  public QuantizationMap quantization() {
    return quantization;
  }

  public WeightGrouping weightGrouping() {
    return weightGrouping;
  }

  /** The model.json {@code userDefinedMetadata} object, or null for none. */
  public ObjectNode userDefinedMetadata() {
    return userDefinedMetadata == null ? null : userDefinedMetadata.deepCopy();
  }

  /**
   * Whether an output folder holding files tfport did not write may be written into (its old
   * model.json and weight files replaced, other files left); otherwise such a folder is refused.
   */
  public boolean overwrite() {
    return overwrite;
  }

  @Override
  public String toString() {
    return "TfjsOutputOptions[shardSizeBytes="
        + shardSizeBytes
        + ", quantization="
        + quantization
        + ", weightGrouping="
        + weightGrouping
        + ", userDefinedMetadata="
        + userDefinedMetadata
        + ", overwrite="
        + overwrite
        + "]";
  }

  /** Collects the options; every setter returns the builder. */
  public static final class Builder {
    private long shardSizeBytes = DEFAULT_SHARD_SIZE;
    private final Map<WeightQuantization, List<String>> patterns =
        new EnumMap<>(WeightQuantization.class);
    private WeightQuantization quantizeRest;
    private QuantizationMap map;
    private WeightGrouping weightGrouping = WeightGrouping.ONE_GROUP;
    private ObjectNode userDefinedMetadata;
    private boolean overwrite;

    private Builder() {}

    /** See {@link TfjsOutputOptions#overwrite()}; off by default. */
    public Builder overwrite(boolean overwrite) {
      this.overwrite = overwrite;
      return this;
    }

    /** The largest shard file; weights are split across files of at most this many bytes. */
    public Builder shardSizeBytes(long bytes) {
      if (bytes <= 0) {
        throw new UsageException(
            "TfjsOutputOptions.shardSizeBytes must be a positive number of bytes, got " + bytes);
      }
      this.shardSizeBytes = bytes;
      return this;
    }

    /**
     * Stores the float32 weights whose names match one of {@code namePatterns} (fnmatch: {@code *},
     * {@code ?}, {@code [...]}) as {@code type}. A weight matched by patterns of two types is an
     * error when written.
     */
    public Builder quantize(WeightQuantization type, String... namePatterns) {
      Objects.requireNonNull(type, "type");
      if (namePatterns.length == 0) {
        throw new UsageException(
            "TfjsOutputOptions.quantize needs at least one weight name pattern; use"
                + " TfjsOutputOptions.quantizeAll to quantize every weight");
      }
      for (String p : namePatterns) {
        if (p == null || p.isBlank() || p.contains(",")) {
          throw new UsageException(
              "TfjsOutputOptions.quantize: weight name pattern '"
                  + p
                  + "' is empty or holds"
                  + " a comma; give each pattern as its own argument");
        }
      }
      map = null;
      patterns.computeIfAbsent(type, t -> new ArrayList<>()).addAll(Arrays.asList(namePatterns));
      return this;
    }

    /**
     * The quantization as a ready map (e.g. {@link QuantizationMap#fromFlags} from the converter's
     * flags); replaces what {@link #quantize} and {@link #quantizeAll} gave.
     */
    public Builder quantization(QuantizationMap map) {
      patterns.clear();
      quantizeRest = null;
      this.map = Objects.requireNonNull(map, "map");
      return this;
    }

    /** Stores every float32 weight no {@link #quantize} pattern matched as {@code type}. */
    public Builder quantizeAll(WeightQuantization type) {
      Objects.requireNonNull(type, "type");
      map = null;
      this.quantizeRest = type;
      return this;
    }

    public Builder weightGrouping(WeightGrouping grouping) {
      this.weightGrouping = Objects.requireNonNull(grouping, "grouping");
      return this;
    }

    /** Stores {@code value} as {@code userDefinedMetadata[key]} in model.json. */
    public Builder userDefinedMetadata(String key, JsonNode value) {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
      if (userDefinedMetadata == null) {
        userDefinedMetadata = Json.MAPPER.createObjectNode();
      }
      userDefinedMetadata.set(key, value.deepCopy());
      return this;
    }

    public TfjsOutputOptions build() {
      return new TfjsOutputOptions(
          shardSizeBytes,
          quantizationMap(),
          weightGrouping,
          userDefinedMetadata == null ? null : userDefinedMetadata.deepCopy(),
          overwrite);
    }

    private QuantizationMap quantizationMap() {
      if (map != null) {
        return map;
      }
      if (patterns.isEmpty() && quantizeRest == null) {
        return QuantizationMap.NONE;
      }
      if (patterns.isEmpty()) {
        return QuantizationMap.all(quantizeRest.dtype);
      }
      // The map's one constructor from several types is the flag form: patterns comma-joined, ""
      // for the rest.
      String[] byType = new String[WeightQuantization.values().length];
      for (WeightQuantization t : WeightQuantization.values()) {
        List<String> p = patterns.get(t);
        byType[t.ordinal()] = p != null ? String.join(",", p) : t == quantizeRest ? "" : null;
      }
      if (quantizeRest != null && patterns.containsKey(quantizeRest)) {
        // Patterns and the fallthrough of one type: the fallthrough covers the patterns too.
        byType[quantizeRest.ordinal()] = "";
      }
      return QuantizationMap.fromFlags(
          byType[WeightQuantization.FLOAT16.ordinal()],
          byType[WeightQuantization.UINT8.ordinal()],
          byType[WeightQuantization.UINT16.ordinal()],
          null);
    }
  }
}
