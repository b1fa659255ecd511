package org.tfport.convert.tflite;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What a conversion to {@code .tflite} may use and how it stores weights: the TFLite converter's
 * {@code target_spec.supported_ops}, {@code allow_custom_ops}, {@code optimizations} and inference types, plus the
 * tflite-support metadata to attach.
 *
 * @param allowCustomOps     ops with no builtin become custom ops named after the TF op (attrs as a FlexBuffer map)
 * @param selectTfOps        ops with no builtin become Flex ops ({@code SELECT_TF_OPS})
 * @param builtins           false when only {@code SELECT_TF_OPS} is asked for: every op becomes Flex
 * @param quantization       how weights (and activations) are stored
 * @param representativeData folder of {@code .npy} input samples (full integer modes), or null
 * @param inferenceInputType {@code float32}, {@code int8}, {@code uint8} or {@code int16}
 * @param metadata           tflite-support metadata to attach, or null
 * @param integerOnly        full integer modes: every op must get an integer kernel ({@code TFLITE_BUILTINS_INT8}
 *                           alone in the target ops); false lets ops without one stay float between
 *                           DEQUANTIZE and QUANTIZE
 */
public record TfliteOptions(boolean allowCustomOps, boolean selectTfOps, boolean builtins, Quantization quantization,
    Path representativeData, String inferenceInputType, String inferenceOutputType, Metadata metadata,
    boolean integerOnly) {
  public TfliteOptions {
    Objects.requireNonNull(quantization, "quantization");
    inferenceInputType = inferenceInputType == null ? "float32" : inferenceInputType;
    inferenceOutputType = inferenceOutputType == null ? "float32" : inferenceOutputType;
  }

  public TfliteOptions(boolean allowCustomOps, boolean selectTfOps, boolean builtins, Quantization quantization,
      Path representativeData, String inferenceInputType, String inferenceOutputType, Metadata metadata) {
    this(allowCustomOps, selectTfOps, builtins, quantization, representativeData, inferenceInputType,
        inferenceOutputType, metadata, false);
  }

  /** Builtins only, float32, no metadata: the converter's defaults. */
  public static TfliteOptions defaults() {
    return new TfliteOptions(false, false, true, Quantization.NONE, null, null, null, null);
  }

  public TfliteOptions withQuantization(Quantization q) {
    return new TfliteOptions(allowCustomOps, selectTfOps, builtins, q, representativeData, inferenceInputType,
        inferenceOutputType, metadata, integerOnly);
  }

  public TfliteOptions withOps(boolean custom, boolean select) {
    return new TfliteOptions(custom, select, builtins, quantization, representativeData, inferenceInputType,
        inferenceOutputType, metadata, integerOnly);
  }

  public TfliteOptions withMetadata(Metadata m) {
    return new TfliteOptions(allowCustomOps, selectTfOps, builtins, quantization, representativeData,
        inferenceInputType, inferenceOutputType, m, integerOnly);
  }

  /** Full integer quantization calibrated on {@code dir}, with the given inference I/O types. */
  public TfliteOptions withFullInteger(Quantization q, Path dir, String inputType, String outputType) {
    return new TfliteOptions(allowCustomOps, selectTfOps, builtins, q, dir, inputType, outputType, metadata,
        integerOnly);
  }

  /** Post-training quantization modes ({@code CONVERSION_METADATA} model_optimization_modes in brackets). */
  public enum Quantization {
    NONE,
    /** float32 constants stored as float16, each behind a DEQUANTIZE (1001). */
    FLOAT16,
    /** int8 weights of conv/fully connected ops, float activations, hybrid kernels (1002). */
    DYNAMIC_RANGE,
    /** int8 weights and activations, calibrated on representative data (1003). */
    INT8,
    /** int16 activations, int8 weights (1004). */
    INT16X8
  }

  /**
   * tflite-support metadata: model fields, input normalization {@code (x - mean) / std} per channel and an output
   * labels file (one label per line; stored as an associated file of output 0).
   */
  public record Metadata(String name, String description, String version, String author, String license,
      List<Float> mean, List<Float> std, Path labelsFile) {
    public Metadata {
      mean = mean == null ? List.of() : List.copyOf(mean);
      std = std == null ? List.of() : List.copyOf(std);
    }
  }
}
