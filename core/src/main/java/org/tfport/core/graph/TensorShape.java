package org.tfport.core.graph;

import java.util.Arrays;
import org.tfport.core.Shape;

/**
 * A {@code TensorShapeProto}: unknown rank, or dimensions where -1 is unknown.
 *
 * @param dims empty for a scalar; ignored when {@code unknownRank}
 */
public record TensorShape(boolean unknownRank, long[] dims) {
  public static final TensorShape UNKNOWN = new TensorShape(true, new long[0]);
  public static final TensorShape SCALAR = new TensorShape(false, new long[0]);

  public TensorShape {
    dims = unknownRank ? new long[0] : dims.clone();
  }

  public static TensorShape of(long... dims) {
    return new TensorShape(false, dims);
  }

  /** The shape of a tensor of known rank; its unknown dimensions (-1) stay unknown. */
  public static TensorShape of(Shape shape) {
    return new TensorShape(false, shape.dims());
  }

  /**
   * The same dimensions as a {@link Shape}, which has a rank always.
   *
   * @throws IllegalStateException when the rank is unknown
   */
  public Shape toShape() {
    if (unknownRank) {
      throw new IllegalStateException("a shape of unknown rank has no dimensions");
    }
    return Shape.of(dims);
  }

  @Override
  public long[] dims() {
    return dims.clone();
  }

  public int rank() {
    return unknownRank ? -1 : dims.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorShape s
        && s.unknownRank == unknownRank
        && Arrays.equals(s.dims, dims);
  }

  @Override
  public int hashCode() {
    return Boolean.hashCode(unknownRank) * 31 + Arrays.hashCode(dims);
  }

  @Override
  public String toString() {
    return unknownRank ? "<unknown rank>" : Arrays.toString(dims);
  }
}
