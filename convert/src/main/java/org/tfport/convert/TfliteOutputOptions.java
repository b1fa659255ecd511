package org.tfport.convert;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import org.tfport.convert.tflite.TfliteOptions;
import org.tfport.core.TfportException.UsageException;

/**
 * How to write a TFLite model: the op sets it may use (TFLite's {@code target_spec.supported_ops}),
 * custom ops, quantization with its representative data, the quantized model's input and output
 * types, and tflite-support metadata. Built with {@link #builder()}; {@link #defaults()} is
 * builtins only, float32, no metadata.
 */
public final class TfliteOutputOptions {
  /** What the converted model's ops may be ({@code tf.lite.OpsSet}). */
  public enum OpSet {
    /** TFLite builtin ops. */
    TFLITE_BUILTINS,
    /** TensorFlow ops run by the Flex delegate, for ops with no builtin. */
    SELECT_TF_OPS,
    /** Builtins with int8 kernels only: with full int8 quantization, no op may stay float. */
    TFLITE_BUILTINS_INT8,
    /** Builtins with int16-activation, int8-weight kernels (16x8 quantization). */
    EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
  }

  /** The type of a quantized model's inputs or outputs. */
  public enum IoType {
    FLOAT32,
    INT8,
    UINT8,
    INT16
  }

  private final Set<OpSet> opSets;
  private final boolean allowCustomOps;
  private final TfliteQuantizationMode quantization;
  private final Path representativeData;
  private final IoType inferenceInputType;
  private final IoType inferenceOutputType;
  private final TfliteSupportMetadata metadata;
  private final boolean castFloat64ToFloat32;

  private TfliteOutputOptions(Builder b) {
    this.opSets = Set.copyOf(b.opSets);
    this.allowCustomOps = b.allowCustomOps;
    this.quantization = b.quantization;
    this.representativeData = b.representativeData;
    this.inferenceInputType = b.inferenceInputType;
    this.inferenceOutputType = b.inferenceOutputType;
    this.metadata = b.metadata;
    this.castFloat64ToFloat32 = b.castFloat64ToFloat32;
  }

  public static TfliteOutputOptions defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public Set<OpSet> opSets() {
    return opSets;
  }

  public boolean allowCustomOps() {
    return allowCustomOps;
  }

  public TfliteQuantizationMode quantization() {
    return quantization;
  }

  /** The folder of {@code .npy} samples full integer quantization calibrates on, or null. */
  public Path representativeData() {
    return representativeData;
  }

  public IoType inferenceInputType() {
    return inferenceInputType;
  }

  public IoType inferenceOutputType() {
    return inferenceOutputType;
  }

  /** The tflite-support metadata to attach, or null. */
  public TfliteSupportMetadata metadata() {
    return metadata;
  }

  /** Whether a float64 graph is computed in float32 (constants and placeholders cast). */
  public boolean castFloat64ToFloat32() {
    return castFloat64ToFloat32;
  }

  /** The TFLite target's own options. */
  TfliteOptions targetOptions() {
    boolean select = opSets.contains(OpSet.SELECT_TF_OPS);
    boolean builtins = !opSets.equals(Set.of(OpSet.SELECT_TF_OPS));
    // Integer op sets without TFLITE_BUILTINS or SELECT_TF_OPS: no op may stay float.
    boolean integerOnly = !opSets.contains(OpSet.TFLITE_BUILTINS) && !select;
    return new TfliteOptions(
        allowCustomOps,
        select,
        builtins,
        quantization,
        representativeData,
        inferenceInputType.name().toLowerCase(Locale.ROOT),
        inferenceOutputType.name().toLowerCase(Locale.ROOT),
        metadata,
        integerOnly,
        castFloat64ToFloat32);
  }

  @Override
  public String toString() {
    return "TfliteOutputOptions[opSets="
        + opSets
        + ", allowCustomOps="
        + allowCustomOps
        + ", quantization="
        + quantization
        + ", representativeData="
        + representativeData
        + ", inferenceInputType="
        + inferenceInputType
        + ", inferenceOutputType="
        + inferenceOutputType
        + ", metadata="
        + metadata
        + ", castFloat64ToFloat32="
        + castFloat64ToFloat32
        + "]";
  }

  /** Collects the options; every setter returns the builder. */
  public static final class Builder {
    private Set<OpSet> opSets = EnumSet.of(OpSet.TFLITE_BUILTINS);
    private boolean allowCustomOps;
    private TfliteQuantizationMode quantization = TfliteQuantizationMode.NONE;
    private Path representativeData;
    private IoType inferenceInputType = IoType.FLOAT32;
    private IoType inferenceOutputType = IoType.FLOAT32;
    private TfliteSupportMetadata metadata;
    private boolean castFloat64ToFloat32;

    private Builder() {}

    /**
     * Computes a float64 graph in float32: float64 constants are rounded to float32, placeholders
     * and ops take float32. TFLite's builtins have no float64 kernels for most ops; off by default.
     */
    public Builder castFloat64ToFloat32(boolean cast) {
      this.castFloat64ToFloat32 = cast;
      return this;
    }

    /** The op sets the model may use; {@code TFLITE_BUILTINS} alone by default. */
    public Builder opSets(Set<OpSet> sets) {
      if (sets.isEmpty()) {
        throw new UsageException("TfliteOutputOptions.opSets: give at least one op set");
      }
      this.opSets = EnumSet.copyOf(sets);
      return this;
    }

    public Builder opSets(OpSet first, OpSet... more) {
      return opSets(EnumSet.of(first, more));
    }

    /**
     * Whether ops with no builtin may become custom ops you register kernels for; off by default.
     */
    public Builder allowCustomOps(boolean allow) {
      this.allowCustomOps = allow;
      return this;
    }

    public Builder quantization(TfliteQuantizationMode mode) {
      this.quantization = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /**
     * The folder of {@code .npy} input samples that {@code INT8} and {@code INT16X8} quantization
     * calibrate on: one file per sample for a one-input model, or one sub-folder per sample holding
     * {@code INPUT.npy} per input.
     */
    public Builder representativeData(Path folder) {
      this.representativeData = Objects.requireNonNull(folder, "folder");
      return this;
    }

    /** The fully quantized model's input type (float32 by default: QUANTIZE at the inputs). */
    public Builder inferenceInputType(IoType type) {
      this.inferenceInputType = Objects.requireNonNull(type, "type");
      return this;
    }

    /** The fully quantized model's output type (float32 by default: DEQUANTIZE at the outputs). */
    public Builder inferenceOutputType(IoType type) {
      this.inferenceOutputType = Objects.requireNonNull(type, "type");
      return this;
    }

    public Builder metadata(TfliteSupportMetadata metadata) {
      this.metadata = Objects.requireNonNull(metadata, "metadata");
      return this;
    }

    public TfliteOutputOptions build() {
      boolean fullInteger =
          quantization == TfliteQuantizationMode.INT8
              || quantization == TfliteQuantizationMode.INT16X8;
      if (fullInteger && representativeData == null) {
        throw new UsageException(
            "full integer quantization ("
                + quantization
                + ") needs"
                + " TfliteOutputOptions.representativeData, a folder of .npy input samples to calibrate on");
      }
      if (!fullInteger && opSets.contains(OpSet.TFLITE_BUILTINS_INT8)) {
        throw new UsageException(
            "the op set TFLITE_BUILTINS_INT8 needs full integer quantization (INT8) with"
                + " TfliteOutputOptions.representativeData, a folder of .npy input samples to calibrate on");
      }
      for (IoType t : new IoType[] {inferenceInputType, inferenceOutputType}) {
        if (t != IoType.FLOAT32 && !fullInteger) {
          throw new UsageException(
              "TfliteOutputOptions.inferenceInputType/inferenceOutputType "
                  + t
                  + " needs"
                  + " full integer quantization (INT8 or INT16X8) with TfliteOutputOptions.representativeData");
        }
      }
      return new TfliteOutputOptions(this);
    }
  }
}
