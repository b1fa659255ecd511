package org.tfport.formats.tflite;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * {@code QuantizationParameters}: {@code real = scale * (q - zeroPoint)}, one scale/zero point for
 * the whole tensor or one per index of {@code quantizedDimension}. A tensor with this record but
 * every list empty is what the MLIR converter writes for float tensors (an empty table); a tensor
 * without quantization has {@code null} instead.
 *
 * @param customDetails the {@code CustomQuantization.custom} bytes when {@code details} is that
 *     union member, else null
 */
public record TfliteQuantization(
    List<Float> min,
    List<Float> max,
    List<Float> scale,
    List<Long> zeroPoint,
    int quantizedDimension,
    ByteBuffer customDetails) {
  public TfliteQuantization {
    min = List.copyOf(min);
    max = List.copyOf(max);
    scale = List.copyOf(scale);
    zeroPoint = List.copyOf(zeroPoint);
    customDetails = customDetails == null ? null : customDetails.slice().asReadOnlyBuffer();
  }

  @Override
  public ByteBuffer customDetails() {
    return customDetails == null ? null : customDetails.duplicate();
  }

  /** The empty table. */
  public static TfliteQuantization empty() {
    return new TfliteQuantization(List.of(), List.of(), List.of(), List.of(), 0, null);
  }

  /** Per-tensor affine parameters. */
  public static TfliteQuantization perTensor(float scale, long zeroPoint) {
    return new TfliteQuantization(
        List.of(), List.of(), List.of(scale), List.of(zeroPoint), 0, null);
  }

  /** Per-axis parameters along {@code dimension}. */
  public static TfliteQuantization perAxis(
      List<Float> scales, List<Long> zeroPoints, int dimension) {
    return new TfliteQuantization(List.of(), List.of(), scales, zeroPoints, dimension, null);
  }

  /** Whether no parameter at all is set (the MLIR converter's placeholder for float tensors). */
  public boolean isEmpty() {
    return min.isEmpty()
        && max.isEmpty()
        && scale.isEmpty()
        && zeroPoint.isEmpty()
        && quantizedDimension == 0
        && customDetails == null;
  }

  /** Whether there is more than one scale (per-channel quantization). */
  public boolean isPerAxis() {
    return scale.size() > 1;
  }
}
