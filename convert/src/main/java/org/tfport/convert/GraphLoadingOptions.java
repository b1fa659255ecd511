package org.tfport.convert;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.tfport.core.TfportException.UsageException;
import org.tfport.graph.GraphOptions;

/**
 * How a TensorFlow graph source (SavedModel, TF Hub module, frozen GraphDef) is loaded for a graph
 * target: which signature and tag set, which output nodes to keep, debug ops, the op check and the
 * optimizer. Built with {@link #builder()}; {@link #defaults()} is the converter's defaults.
 */
public final class GraphLoadingOptions {
  private final List<String> signatures;
  private final Set<String> tags;
  private final List<String> outputNodeNames;
  private final List<String> inputNodeNames;
  private final Map<String, long[]> inputShapes;
  private final boolean stripDebugOps;
  private final boolean checkOps;
  private final boolean structuredOutputKeys;
  private final boolean optimize;
  private final boolean keepQuantization;

  private GraphLoadingOptions(Builder b) {
    this.signatures = List.copyOf(b.signatures);
    this.tags = b.tags == null ? null : Set.copyOf(b.tags);
    this.outputNodeNames = List.copyOf(b.outputNodeNames);
    this.inputNodeNames = List.copyOf(b.inputNodeNames);
    Map<String, long[]> shapes = new LinkedHashMap<>();
    b.inputShapes.forEach((k, v) -> shapes.put(k, v.clone()));
    this.inputShapes = shapes;
    this.stripDebugOps = b.stripDebugOps;
    this.checkOps = b.checkOps;
    this.structuredOutputKeys = b.structuredOutputKeys;
    this.optimize = b.optimize;
    this.keepQuantization = b.keepQuantization;
  }

  public static GraphLoadingOptions defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Signature keys to convert; empty for the format's default ({@code serving_default}, {@code
   * default} for Hub).
   */
  public List<String> signatures() {
    return signatures;
  }

  /** The MetaGraph's tag set, or null for the default ({@code serve}; none for TF1 Hub modules). */
  public Set<String> tags() {
    return tags;
  }

  public List<String> outputNodeNames() {
    return outputNodeNames;
  }

  public List<String> inputNodeNames() {
    return inputNodeNames;
  }

  /** Placeholder shapes by node name (copies). */
  public Map<String, long[]> inputShapes() {
    Map<String, long[]> out = new LinkedHashMap<>();
    inputShapes.forEach((k, v) -> out.put(k, v.clone()));
    return out;
  }

  public boolean stripDebugOps() {
    return stripDebugOps;
  }

  public boolean checkOps() {
    return checkOps;
  }

  public boolean structuredOutputKeys() {
    return structuredOutputKeys;
  }

  public boolean optimize() {
    return optimize;
  }

  public boolean keepQuantization() {
    return keepQuantization;
  }

  /** The graph module's loading options for one signature (null: the default). */
  GraphOptions graphOptions(String signature) {
    return new GraphOptions(
        signature, tags, stripDebugOps, !checkOps, structuredOutputKeys, outputNodeNames, optimize);
  }

  @Override
  public String toString() {
    return "GraphLoadingOptions[signatures="
        + signatures
        + ", tags="
        + tags
        + ", outputNodeNames="
        + outputNodeNames
        + ", inputNodeNames="
        + inputNodeNames
        + ", inputShapes="
        + inputShapes.keySet()
        + ", stripDebugOps="
        + stripDebugOps
        + ", checkOps="
        + checkOps
        + ", structuredOutputKeys="
        + structuredOutputKeys
        + ", optimize="
        + optimize
        + ", keepQuantization="
        + keepQuantization
        + "]";
  }

  /** Collects the options; every setter returns the builder. */
  public static final class Builder {
    private List<String> signatures = List.of();
    private Set<String> tags;
    private List<String> outputNodeNames = List.of();
    private List<String> inputNodeNames = List.of();
    private final Map<String, long[]> inputShapes = new LinkedHashMap<>();
    private boolean stripDebugOps = true;
    private boolean checkOps = true;
    private boolean structuredOutputKeys;
    private boolean optimize = true;
    private boolean keepQuantization;

    private Builder() {}

    /**
     * The signature to convert (a TF.js graph model holds one; a TFLite model may hold several).
     */
    public Builder signature(String key) {
      return signatures(List.of(Objects.requireNonNull(key, "key")));
    }

    /**
     * Signature keys to convert, each a TFLite subgraph with its SignatureDef (TFLite output only).
     */
    public Builder signatures(List<String> keys) {
      this.signatures = List.copyOf(keys);
      return this;
    }

    /**
     * The tag set of the MetaGraph to load; none selects a MetaGraph without tags (TF1 Hub
     * modules).
     */
    public Builder tags(String... tags) {
      this.tags = Set.of(tags);
      return this;
    }

    /**
     * The nodes a frozen GraphDef is converted for (required for GraphDef sources); everything else
     * is dropped.
     */
    public Builder outputNodeNames(String... names) {
      return outputNodeNames(Arrays.asList(names));
    }

    public Builder outputNodeNames(List<String> names) {
      this.outputNodeNames = List.copyOf(names);
      return this;
    }

    /**
     * The placeholders that become a frozen GraphDef's TFLite inputs, in order (default: every
     * placeholder).
     */
    public Builder inputNodeNames(List<String> names) {
      this.inputNodeNames = List.copyOf(names);
      return this;
    }

    /**
     * Sets a frozen GraphDef placeholder's shape for TFLite ({@code -1} for an unknown dimension),
     * or a StableHLO program argument's ({@code arg0}, ...), which fixes its {@code ?} dimensions.
     */
    public Builder inputShape(String placeholder, long... dims) {
      inputShapes.put(Objects.requireNonNull(placeholder, "placeholder"), dims.clone());
      return this;
    }

    /** Whether to remove debug ops (Assert, CheckNumerics, Print, ...); on by default. */
    public Builder stripDebugOps(boolean strip) {
      this.stripDebugOps = strip;
      return this;
    }

    /**
     * Whether to refuse ops TF.js has no kernel for before anything is written; on by default. Off
     * writes the model anyway.
     */
    public Builder checkOps(boolean check) {
      this.checkOps = check;
      return this;
    }

    /**
     * Whether to record the signature's output keys as model.json {@code structuredOutputKeys}; off
     * by default.
     */
    public Builder structuredOutputKeys(boolean record) {
      this.structuredOutputKeys = record;
      return this;
    }

    /**
     * Whether to fold constants, fold batch norms and fuse ops as the converter's Grappler passes
     * do; on by default. Off writes the frozen graph as it is, to compare or to debug.
     */
    public Builder optimize(boolean optimize) {
      this.optimize = optimize;
      return this;
    }

    /**
     * Whether a {@code .tflite} source's quantized integer weights stay integers in the written
     * TensorFlow or TF.js model, instead of being dequantized to float32; off by default.
     */
    public Builder keepQuantization(boolean keep) {
      this.keepQuantization = keep;
      return this;
    }

    public GraphLoadingOptions build() {
      for (String s : signatures) {
        if (s == null || s.isBlank()) {
          throw new UsageException("GraphLoadingOptions.signatures: a signature key is empty");
        }
      }
      return new GraphLoadingOptions(this);
    }
  }
}
