package org.tfport.formats.tflite;

import java.util.List;
import java.util.Objects;

/**
 * One {@code Tensor} of a subgraph.
 *
 * @param shape dims; unknown dims are 1 here and -1 in {@code shapeSignature}
 * @param shapeSignature null when the file has none (static shape)
 * @param buffer index into {@link TfliteModel#buffers()}; 0 = no data
 * @param quantization null when absent
 * @param sparsity null unless the constant is stored sparse
 * @param variantTensors nested types of a VARIANT tensor (usually empty)
 */
public record TfliteTensor(
    String name,
    TfliteType type,
    List<Integer> shape,
    List<Integer> shapeSignature,
    int buffer,
    TfliteQuantization quantization,
    boolean isVariable,
    boolean hasRank,
    TfliteSparsity sparsity,
    List<VariantType> variantTensors) {
  public TfliteTensor {
    Objects.requireNonNull(type, "type");
    shape = List.copyOf(shape);
    shapeSignature = shapeSignature == null ? null : List.copyOf(shapeSignature);
    variantTensors = List.copyOf(variantTensors);
    if (buffer < 0) {
      throw new IllegalArgumentException("buffer index must be >= 0, got " + buffer);
    }
  }

  /** A dense, ranked tensor: the common case. */
  public TfliteTensor(
      String name,
      TfliteType type,
      List<Integer> shape,
      int buffer,
      TfliteQuantization quantization) {
    this(name, type, shape, null, buffer, quantization, false, true, null, List.of());
  }

  /**
   * Product of {@code shape} (1 for a scalar), -1 when a dim is negative, {@link Long#MAX_VALUE}
   * when the product does not fit a long.
   */
  public long elementCount() {
    long n = 1;
    for (int d : shape) {
      if (d < 0) {
        return -1;
      }
    }
    for (int d : shape) {
      if (d == 0) {
        return 0;
      }
    }
    for (int d : shape) {
      // A wrapped product could equal a buffer's size and pass the size check (found by fuzzing).
      if (n > Long.MAX_VALUE / d) {
        return Long.MAX_VALUE;
      }
      n *= d;
    }
    return n;
  }

  /** {@code VariantSubType}. */
  public record VariantType(List<Integer> shape, TfliteType type, boolean hasRank) {
    public VariantType {
      shape = List.copyOf(shape);
      Objects.requireNonNull(type, "type");
    }
  }
}
