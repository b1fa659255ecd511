package org.tfport.core;

import java.util.Arrays;
import java.util.List;

/**
 * A tensor shape. A dimension of {@code -1} is unknown (a batch of any size, say). Shapes of stored
 * tensors are always fully known.
 */
public record Shape(long[] dims) {
  public static final Shape SCALAR = new Shape(new long[0]);

  public Shape {
    dims = dims.clone();
    for (long d : dims) {
      if (d < -1) {
        throw new IllegalArgumentException("bad dimension " + d + " in " + Arrays.toString(dims));
      }
    }
  }

  public static Shape of(long... dims) {
    return new Shape(dims);
  }

  public static Shape of(List<? extends Number> dims) {
    long[] d = new long[dims.size()];
    for (int i = 0; i < d.length; i++) {
      d[i] = dims.get(i) == null ? -1 : dims.get(i).longValue();
    }
    return new Shape(d);
  }

  public int rank() {
    return dims.length;
  }

  public long dim(int i) {
    return dims[i];
  }

  @Override
  public long[] dims() {
    return dims.clone();
  }

  public boolean isFullyKnown() {
    for (long d : dims) {
      if (d < 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * The element count; throws when a dimension is unknown or the product does not fit a long, so
   * callers that size buffers from file data cannot be tricked into overflow.
   */
  public long size() {
    long n = 1;
    for (long d : dims) {
      if (d < 0) {
        throw new IllegalStateException("shape " + this + " has an unknown dimension");
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Shape s && Arrays.equals(dims, s.dims);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(dims);
  }

  @Override
  public String toString() {
    return Arrays.toString(dims);
  }
}
