package org.tfport.formats.tfjs;

import java.util.Objects;
import java.util.function.Supplier;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;

/**
 * A weight to be written. The value comes from {@code data} so that a writer can fetch one tensor,
 * write it and drop it, and convert a model far larger than the heap it runs in. The supplier may
 * be called more than once (string weights are fetched once to size them and once to write them)
 * and must return the same tensor each time.
 *
 * @param dtype the dtype {@code data} yields; the writer converts it if TF.js lacks it (int64 →
 *     int32, ...)
 * @param group {@code "model"}, {@code "optimizer"} or null, copied to the manifest entry
 * @param keep how the weight was stored when it comes from a quantized TF.js model being written
 *     again: its float32 values are exactly what {@code keep} dequantizes to, so the writer stores
 *     the same bytes again instead of the float32 values (null: the write options decide)
 */
public record WeightEntry(
    String name, DType dtype, Shape shape, Supplier<Tensor> data, String group, Quantization keep) {
  public WeightEntry {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dtype, "dtype");
    Objects.requireNonNull(shape, "shape");
    Objects.requireNonNull(data, "data");
    if (keep != null && dtype != DType.FLOAT32) {
      throw new IllegalArgumentException(
          "weight '" + name + "': only float32 weights are stored quantized, not " + dtype);
    }
  }

  /** An entry whose storage the write options decide. */
  public WeightEntry(String name, DType dtype, Shape shape, Supplier<Tensor> data, String group) {
    this(name, dtype, shape, data, group, null);
  }

  /** An entry for a tensor already in memory. */
  public static WeightEntry of(String name, Tensor value) {
    return new WeightEntry(name, value.dtype(), value.shape(), () -> value, null);
  }
}
