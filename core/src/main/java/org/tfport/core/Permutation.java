package org.tfport.core;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Axis permutations as {@code Transpose} and numpy's {@code transpose} use them: axis {@code i} of
 * the result is axis {@code perm[i]} of the input. The one place that permutes shapes, strides and
 * element bytes, inverts and composes permutations, and knows the NHWC/NCHW ones, so the graph
 * passes, the converters and the evaluators agree on the convention.
 */
public final class Permutation {
  private Permutation() {}

  /** NCHW to NHWC: {@code 0, 2, 3, 1}. */
  public static int[] nchwToNhwc() {
    return new int[] {0, 2, 3, 1};
  }

  /** NHWC to NCHW: {@code 0, 3, 1, 2}, the inverse of {@link #nchwToNhwc()}. */
  public static int[] nhwcToNchw() {
    return new int[] {0, 3, 1, 2};
  }

  /** Whether {@code perm} holds each axis of a tensor of rank {@code rank} exactly once. */
  public static boolean isValid(long[] perm, int rank) {
    if (perm.length != rank) {
      return false;
    }
    boolean[] seen = new boolean[rank];
    for (long p : perm) {
      if (p < 0 || p >= rank || seen[(int) p]) {
        return false;
      }
      seen[(int) p] = true;
    }
    return true;
  }

  public static boolean isIdentity(long[] perm) {
    for (int i = 0; i < perm.length; i++) {
      if (perm[i] != i) {
        return false;
      }
    }
    return true;
  }

  /**
   * The permutation that undoes {@code perm}: transposing by one and then the other changes
   * nothing.
   */
  public static int[] inverse(int[] perm) {
    int[] inv = new int[perm.length];
    for (int i = 0; i < perm.length; i++) {
      inv[perm[i]] = i;
    }
    return inv;
  }

  /**
   * The dimensions (or strides, or any per-axis values) of {@code values} in the permuted order:
   * {@code out[i] = values[perm[i]]}; null when {@code perm} has another length or an axis out of
   * range.
   */
  public static long[] apply(long[] values, long[] perm) {
    if (perm.length != values.length) {
      return null;
    }
    long[] out = new long[perm.length];
    for (int i = 0; i < perm.length; i++) {
      if (perm[i] < 0 || perm[i] >= values.length) {
        return null;
      }
      out[i] = values[(int) perm[i]];
    }
    return out;
  }

  /**
   * {@link #apply(long[], long[])} for a permutation known to be valid.
   *
   * @throws IllegalArgumentException when {@code perm} does not fit {@code values}
   */
  public static long[] apply(long[] values, int[] perm) {
    long[] out = apply(values, toLongs(perm));
    if (out == null) {
      throw new IllegalArgumentException(
          "permutation of rank " + perm.length + " for " + values.length + " axes");
    }
    return out;
  }

  /**
   * Transposing by {@code first} and then by {@code second} is transposing by the result; null when
   * {@code second} names an axis {@code first} lacks.
   */
  public static long[] compose(long[] first, long[] second) {
    return apply(first, second);
  }

  /** Row-major strides in elements: the last axis is contiguous. */
  public static long[] strides(long[] dims) {
    long[] s = new long[dims.length];
    long acc = 1;
    for (int i = dims.length - 1; i >= 0; i--) {
      s[i] = acc;
      acc *= dims[i];
    }
    return s;
  }

  /**
   * For each element of the transposed tensor, in row-major order, the row-major index of the
   * element of the input it comes from; for gathers over any element type.
   *
   * @param dims the input's dimensions, {@code perm} valid for them
   */
  public static int[] sourceIndices(long[] dims, int[] perm) {
    long[] outDims = apply(dims, perm);
    long[] stride = apply(strides(dims), perm);
    long n = 1;
    for (long d : outDims) {
      n *= d;
    }
    int[] src = new int[Math.toIntExact(n)];
    walk(outDims, stride, (k, offset) -> src[(int) k] = (int) offset);
    return src;
  }

  /**
   * The tensor transposed, moving raw element bytes so it works for any fixed-width dtype and never
   * changes a value.
   *
   * @throws IllegalArgumentException when {@code perm} does not fit the tensor's rank
   */
  public static Tensor transpose(Tensor t, int... perm) {
    long[] d = t.shape().dims();
    if (perm.length != d.length) {
      throw new IllegalArgumentException(
          "permutation of rank " + perm.length + " for a tensor of shape " + t.shape());
    }
    long[] outDims = apply(d, perm);
    long[] stride = apply(strides(d), perm);
    int width = t.dtype().byteSize();
    ByteBuffer src = t.bytes();
    ByteBuffer dst = ByteBuffer.allocate(src.remaining()).order(ByteOrder.LITTLE_ENDIAN);
    byte[] elem = new byte[width];
    walk(
        outDims,
        stride,
        (k, offset) -> {
          if (width == 4) {
            dst.putInt(Math.toIntExact(k * 4), src.getInt(Math.toIntExact(offset * 4)));
          } else {
            src.get(Math.toIntExact(offset * width), elem);
            dst.put(Math.toIntExact(k * width), elem);
          }
        });
    return new Tensor(t.dtype(), Shape.of(outDims), dst);
  }

  private interface Visitor {
    void visit(long outIndex, long sourceOffset);
  }

  /** Odometer over the output index; the source offset follows by strides, without any division. */
  private static void walk(long[] outDims, long[] stride, Visitor v) {
    int rank = outDims.length;
    long n = 1;
    for (long d : outDims) {
      n *= d;
    }
    long[] idx = new long[rank];
    long offset = 0;
    for (long k = 0; k < n; k++) {
      v.visit(k, offset);
      for (int i = rank - 1; i >= 0; i--) {
        idx[i]++;
        offset += stride[i];
        if (idx[i] < outDims[i]) {
          break;
        }
        offset -= stride[i] * outDims[i];
        idx[i] = 0;
      }
    }
  }

  private static long[] toLongs(int[] v) {
    long[] out = new long[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i];
    }
    return out;
  }
}
