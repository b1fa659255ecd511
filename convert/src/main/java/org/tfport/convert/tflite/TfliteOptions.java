package org.tfport.convert.tflite;

import java.nio.file.Path;
import java.util.Objects;
import org.tfport.convert.TfliteQuantizationMode;
import org.tfport.convert.TfliteSupportMetadata;

/**
 * What a conversion to {@code .tflite} may use and how it stores weights: the TFLite converter's
 * {@code target_spec.supported_ops}, {@code allow_custom_ops}, {@code optimizations} and inference
 * types, plus the tflite-support metadata to attach. The TFLite target's own form of {@link
 * org.tfport.convert.TfliteOutputOptions}, which library users build.
 *
 * @param allowCustomOps ops with no builtin become custom ops named after the TF op (attrs as a
 *     FlexBuffer map)
 * @param selectTfOps ops with no builtin become Flex ops ({@code SELECT_TF_OPS})
 * @param builtins false when only {@code SELECT_TF_OPS} is asked for: every op becomes Flex
 * @param quantization how weights (and activations) are stored
 * @param representativeData folder of {@code .npy} input samples (full integer modes), or null
 * @param inferenceInputType {@code float32}, {@code int8}, {@code uint8} or {@code int16}
 * @param metadata tflite-support metadata to attach, or null
 * @param integerOnly full integer modes: every op must get an integer kernel ({@code
 *     TFLITE_BUILTINS_INT8} alone in the target ops); false lets ops without one stay float between
 *     DEQUANTIZE and QUANTIZE
 * @param castFloat64 float64 constants, placeholders and ops become float32 before lowering
 */
public record TfliteOptions(
    boolean allowCustomOps,
    boolean selectTfOps,
    boolean builtins,
    TfliteQuantizationMode quantization,
    Path representativeData,
    String inferenceInputType,
    String inferenceOutputType,
    TfliteSupportMetadata metadata,
    boolean integerOnly,
    boolean castFloat64) {
  public TfliteOptions {
    Objects.requireNonNull(quantization, "quantization");
    inferenceInputType = inferenceInputType == null ? "float32" : inferenceInputType;
    inferenceOutputType = inferenceOutputType == null ? "float32" : inferenceOutputType;
  }

  public TfliteOptions(
      boolean allowCustomOps,
      boolean selectTfOps,
      boolean builtins,
      TfliteQuantizationMode quantization,
      Path representativeData,
      String inferenceInputType,
      String inferenceOutputType,
      TfliteSupportMetadata metadata) {
    this(
        allowCustomOps,
        selectTfOps,
        builtins,
        quantization,
        representativeData,
        inferenceInputType,
        inferenceOutputType,
        metadata,
        false,
        false);
  }

  public TfliteOptions(
      boolean allowCustomOps,
      boolean selectTfOps,
      boolean builtins,
      TfliteQuantizationMode quantization,
      Path representativeData,
      String inferenceInputType,
      String inferenceOutputType,
      TfliteSupportMetadata metadata,
      boolean integerOnly) {
    this(
        allowCustomOps,
        selectTfOps,
        builtins,
        quantization,
        representativeData,
        inferenceInputType,
        inferenceOutputType,
        metadata,
        integerOnly,
        false);
  }

  /** Builtins only, float32, no metadata: the converter's defaults. */
  public static TfliteOptions defaults() {
    return new TfliteOptions(
        false, false, true, TfliteQuantizationMode.NONE, null, null, null, null);
  }

  public TfliteOptions withQuantization(TfliteQuantizationMode q) {
    return new TfliteOptions(
        allowCustomOps,
        selectTfOps,
        builtins,
        q,
        representativeData,
        inferenceInputType,
        inferenceOutputType,
        metadata,
        integerOnly,
        castFloat64);
  }

  public TfliteOptions withOps(boolean custom, boolean select) {
    return new TfliteOptions(
        custom,
        select,
        builtins,
        quantization,
        representativeData,
        inferenceInputType,
        inferenceOutputType,
        metadata,
        integerOnly,
        castFloat64);
  }

  public TfliteOptions withMetadata(TfliteSupportMetadata m) {
    return new TfliteOptions(
        allowCustomOps,
        selectTfOps,
        builtins,
        quantization,
        representativeData,
        inferenceInputType,
        inferenceOutputType,
        m,
        integerOnly,
        castFloat64);
  }

  public TfliteOptions withCastFloat64(boolean cast) {
    return new TfliteOptions(
        allowCustomOps,
        selectTfOps,
        builtins,
        quantization,
        representativeData,
        inferenceInputType,
        inferenceOutputType,
        metadata,
        integerOnly,
        cast);
  }

  /** Full integer quantization calibrated on {@code dir}, with the given inference I/O types. */
  public TfliteOptions withFullInteger(
      TfliteQuantizationMode q, Path dir, String inputType, String outputType) {
    return new TfliteOptions(
        allowCustomOps,
        selectTfOps,
        builtins,
        q,
        dir,
        inputType,
        outputType,
        metadata,
        integerOnly,
        castFloat64);
  }
}
