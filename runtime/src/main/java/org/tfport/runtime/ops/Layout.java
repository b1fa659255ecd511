package org.tfport.runtime.ops;

import java.util.Arrays;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.Value;

/**
 * Index arithmetic and dtype-generic element moves shared by the shape and array kernels. Ops that
 * only move elements compute where each output element comes from (an int index map, -1 for "the
 * fill value") and then {@link #take} it from the input's storage, so one loop per storage class
 * serves every dtype, strings included.
 */
final class Layout {
  private Layout() {}

  /** C-order strides (in elements) of {@code shape}. */
  static int[] strides(long[] shape) {
    int[] s = new int[shape.length];
    int acc = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      s[i] = acc;
      acc = Math.multiplyExact(acc, (int) shape[i]);
    }
    return s;
  }

  /** The product of {@code shape[from..to)}. */
  static int product(long[] shape, int from, int to) {
    long n = 1;
    for (int i = from; i < to; i++) {
      n = Math.multiplyExact(n, shape[i]);
    }
    return Math.toIntExact(n);
  }

  /** {@code axis} in [-rank, rank) made non-negative; {@code what} names it in the error. */
  static int axis(long axis, int rank, String what) {
    if (axis < -rank || axis >= rank) {
      throw new KernelException(what + " " + axis + " is not in [" + -rank + ", " + rank + ")");
    }
    return (int) (axis < 0 ? axis + rank : axis);
  }

  static String shape(long[] shape) {
    return Arrays.toString(shape).replace(" ", "");
  }

  /** The single element of a scalar (or one-element) integer input, such as an axis. */
  static long scalar(Value v, String what) {
    if (v.size() != 1) {
      throw new KernelException(what + " must be a scalar, got shape " + shape(v.shape()));
    }
    return v.longAt(0);
  }

  /** The elements of a vector integer input, such as a shape or a list of axes. */
  static long[] vector(Value v, String what) {
    if (v.rank() != 1) {
      throw new KernelException(what + " must be a vector, got shape " + shape(v.shape()));
    }
    return v.toLongArray();
  }

  /** A 1-D int32 or int64 value holding {@code dims}. */
  static Value shapeValue(long[] dims, DType type) {
    long[] shape = {dims.length};
    if (type == DType.INT64) {
      return Value.longs(shape, dims.clone());
    }
    int[] out = new int[dims.length];
    for (int i = 0; i < dims.length; i++) {
      out[i] = Math.toIntExact(dims[i]);
    }
    return Value.ints(shape, out);
  }

  static Value integerScalar(long v, DType type) {
    return type == DType.INT64
        ? Value.longs(new long[0], v)
        : Value.ints(new long[0], Math.toIntExact(v));
  }

  /** Storage slots per element: complex64 keeps (re, im) pairs in its float[]. */
  static int width(DType dtype) {
    return dtype == DType.COMPLEX64 ? 2 : 1;
  }

  /** An uninitialized (zero or null) storage array for {@code n} elements of {@code dtype}. */
  static Object allocate(DType dtype, int n) {
    return switch (dtype) {
      case FLOAT32 -> new float[n];
      case COMPLEX64 -> new float[2 * n];
      case FLOAT64 -> new double[n];
      case INT32 -> new int[n];
      case INT64 -> new long[n];
      case INT8, UINT8, BOOL -> new byte[n];
      case INT16, UINT16, FLOAT16, BFLOAT16 -> new short[n];
      case STRING -> new byte[n][];
    };
  }

  /** Copies {@code n} elements of {@code dtype} between storage arrays. */
  static void copy(DType dtype, Object src, int srcPos, Object dst, int dstPos, int n) {
    int w = width(dtype);
    System.arraycopy(src, srcPos * w, dst, dstPos * w, n * w);
  }

  /**
   * {@code out[i] = src[from[i]]}, or {@code fill[0]} where {@code from[i] < 0}; {@code fill} is a
   * one-element storage array of the same class, or null when the map has no holes.
   */
  static Object take(DType dtype, Object src, int[] from, Object fill) {
    int n = from.length;
    Object out = allocate(dtype, n);
    switch (out) {
      case float[] o when dtype == DType.COMPLEX64 -> {
        float[] s = (float[]) src;
        float[] f = fill == null ? new float[2] : (float[]) fill;
        for (int i = 0; i < n; i++) {
          int j = from[i];
          o[2 * i] = j < 0 ? f[0] : s[2 * j];
          o[2 * i + 1] = j < 0 ? f[1] : s[2 * j + 1];
        }
      }
      case float[] o -> {
        float[] s = (float[]) src;
        float v = fill == null ? 0 : ((float[]) fill)[0];
        for (int i = 0; i < n; i++) {
          o[i] = from[i] < 0 ? v : s[from[i]];
        }
      }
      case double[] o -> {
        double[] s = (double[]) src;
        double v = fill == null ? 0 : ((double[]) fill)[0];
        for (int i = 0; i < n; i++) {
          o[i] = from[i] < 0 ? v : s[from[i]];
        }
      }
      case int[] o -> {
        int[] s = (int[]) src;
        int v = fill == null ? 0 : ((int[]) fill)[0];
        for (int i = 0; i < n; i++) {
          o[i] = from[i] < 0 ? v : s[from[i]];
        }
      }
      case long[] o -> {
        long[] s = (long[]) src;
        long v = fill == null ? 0 : ((long[]) fill)[0];
        for (int i = 0; i < n; i++) {
          o[i] = from[i] < 0 ? v : s[from[i]];
        }
      }
      case byte[] o -> {
        byte[] s = (byte[]) src;
        byte v = fill == null ? 0 : ((byte[]) fill)[0];
        for (int i = 0; i < n; i++) {
          o[i] = from[i] < 0 ? v : s[from[i]];
        }
      }
      case short[] o -> {
        short[] s = (short[]) src;
        short v = fill == null ? 0 : ((short[]) fill)[0];
        for (int i = 0; i < n; i++) {
          o[i] = from[i] < 0 ? v : s[from[i]];
        }
      }
      case byte[][] o -> {
        byte[][] s = (byte[][]) src;
        byte[] v = fill == null ? new byte[0] : ((byte[][]) fill)[0];
        for (int i = 0; i < n; i++) {
          o[i] = from[i] < 0 ? v : s[from[i]];
        }
      }
      default -> throw new AssertionError(out.getClass());
    }
    return out;
  }

  /** {@link #take} into a value of {@code shape}. */
  static Value take(Value src, long[] shape, int[] from, Object fill) {
    return Value.of(src.dtype(), shape, take(src.dtype(), src.data(), from, fill));
  }

  /** A storage array of {@code n} copies of element {@code index} of {@code src}. */
  static Object repeat(DType dtype, Object src, int index, int n) {
    int[] from = new int[n];
    Arrays.fill(from, index);
    return take(dtype, src, from, null);
  }

  /**
   * The index map of a separable move: output element (c0, c1, ...) comes from input index {@code
   * tables[0][c0] + tables[1][c1] + ...}, or is a hole (-1) when any term is negative. Transpose,
   * slices, reversal, tiling, padding and broadcasting are all of this form.
   */
  static int[] walk(int[][] tables) {
    int r = tables.length;
    long count = 1;
    for (int[] t : tables) {
      count *= t.length;
    }
    int[] out = new int[Math.toIntExact(count)];
    if (count == 0) {
      return out;
    }
    if (r == 0) {
      return out;
    }
    int[] last = tables[r - 1];
    int[] c = new int[r];
    int pos = 0;
    while (true) {
      int base = 0;
      boolean hole = false;
      for (int i = 0; i < r - 1; i++) {
        int t = tables[i][c[i]];
        hole |= t < 0;
        base += t;
      }
      if (hole) {
        Arrays.fill(out, pos, pos + last.length, -1);
        pos += last.length;
      } else {
        for (int t : last) {
          out[pos++] = t < 0 ? -1 : base + t;
        }
      }
      int k = r - 2;
      while (k >= 0 && ++c[k] == tables[k].length) {
        c[k] = 0;
        k--;
      }
      if (k < 0) {
        return out;
      }
    }
  }

  /**
   * The coordinates of C-order element {@code flat} of {@code shape}, as "i,j,k" for error
   * messages.
   */
  static String coords(long flat, long[] shape) {
    long[] c = new long[shape.length];
    for (int i = shape.length - 1; i >= 0; i--) {
      c[i] = shape[i] == 0 ? 0 : flat % shape[i];
      flat = shape[i] == 0 ? 0 : flat / shape[i];
    }
    return Arrays.toString(c).replace(" ", "").replace("[", "").replace("]", "");
  }

  /** The table of an affine axis: {@code start + c * step} for c in [0, length). */
  static int[] affine(long length, long start, long step) {
    int[] t = new int[Math.toIntExact(length)];
    for (int c = 0; c < t.length; c++) {
      t[c] = Math.toIntExact(start + c * step);
    }
    return t;
  }

  /**
   * The broadcast shape of {@code a} and {@code b} (numpy rules), or null when they do not
   * broadcast.
   */
  static long[] broadcast(long[] a, long[] b) {
    int r = Math.max(a.length, b.length);
    long[] out = new long[r];
    for (int i = 0; i < r; i++) {
      long x = i < r - a.length ? 1 : a[i - (r - a.length)];
      long y = i < r - b.length ? 1 : b[i - (r - b.length)];
      if (x != y && x != 1 && y != 1) {
        return null;
      }
      out[i] = x == 1 ? y : x;
    }
    return out;
  }

  /** Where each element of {@code outShape} comes from when {@code inShape} is broadcast to it. */
  static int[] broadcastMap(long[] inShape, long[] outShape) {
    int r = outShape.length;
    int lead = r - inShape.length;
    int[] inStrides = strides(inShape);
    int[][] tables = new int[r][];
    for (int i = 0; i < r; i++) {
      boolean repeated = i < lead || inShape[i - lead] == 1;
      tables[i] = affine(outShape[i], 0, repeated ? 0 : inStrides[i - lead]);
    }
    return walk(tables);
  }
}
