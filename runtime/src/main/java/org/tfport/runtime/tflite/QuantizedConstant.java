package org.tfport.runtime.tflite;

import org.tfport.core.Tensor;

/**
 * A quantized weight of the {@code .tflite} file that the importer made a float32 {@code Const}:
 * what the file stored, so that a converter writing the model back can keep the integers instead of
 * the floats. The float values of the node are exactly {@code scale·(float)(q − zeroPoint)}
 * (TFLite's own dequantization) per element, with {@code scale} and {@code zeroPoint} broadcast
 * from {@link #scaleShape}.
 *
 * @param function the library function whose body holds the node, or null for the graph itself
 * @param node the float32 {@code Const} holding the dequantized values
 * @param tensor the TFLite tensor's name, for messages
 * @param integers the stored integers (int8, uint8 or int16), or float16 values (scale 1, zero
 *     point 0: they widen exactly), in the node's shape and layout: the file's values, permuted or
 *     reshaped as the node's float values were
 * @param scales one scale for the tensor or one per channel
 * @param zeroPoints as many as {@code scales}
 * @param scaleShape the shape {@code scales} and {@code zeroPoints} take to broadcast against
 *     {@code integers}: empty for one per tensor, else all 1 but the channel dimensions
 */
public record QuantizedConstant(
    String function,
    String node,
    String tensor,
    Tensor integers,
    float[] scales,
    long[] zeroPoints,
    long[] scaleShape) {

  /** Whether one scale and zero point cover the whole tensor. */
  public boolean perTensor() {
    return scales.length == 1;
  }

  /** The name TF.js gives the weight: the node, under its function's name inside a function. */
  public String weightName() {
    return function == null ? node : function + "/" + node;
  }
}
