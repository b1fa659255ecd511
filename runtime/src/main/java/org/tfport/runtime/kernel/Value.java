package org.tfport.runtime.kernel;

import java.util.Arrays;
import java.util.Objects;
import org.tfport.core.DType;

/**
 * A tensor as kernels see it: a dtype, a fully known shape and the elements in C order in a
 * primitive Java array (no byte buffers in inner loops, no boxing). Storage by dtype: FLOAT32 and
 * COMPLEX64 (re, im interleaved) {@code float[]}; FLOAT64 {@code double[]}; INT32 {@code int[]};
 * INT64 {@code long[]}; INT8, UINT8 and BOOL (0 or 1) {@code byte[]}; INT16, UINT16, FLOAT16 and
 * BFLOAT16 (raw bits) {@code short[]}; STRING {@code byte[][]} (each element's bytes). A handle (a
 * TensorList, a hash table, a resource) is a scalar whose storage is the object it stands for, with
 * dtype null.
 *
 * <p>Values are not modified once a kernel has returned them: a kernel that wants to write into an
 * input allocates instead (the planner may later hand it a dead buffer to reuse).
 */
public final class Value {
  private final DType dtype;
  private final long[] shape;
  private final Object data;

  private Value(DType dtype, long[] shape, Object data) {
    this.dtype = dtype;
    this.shape = shape;
    this.data = data;
  }

  /**
   * Wraps {@code data} (not copied) as a value of {@code dtype} and {@code shape}, checking the
   * length.
   */
  public static Value of(DType dtype, long[] shape, Object data) {
    Objects.requireNonNull(dtype, "dtype");
    long n = elementCount(shape);
    int length =
        switch (data) {
          case float[] a -> dtype == DType.COMPLEX64 ? a.length / 2 : a.length;
          case double[] a -> a.length;
          case int[] a -> a.length;
          case long[] a -> a.length;
          case byte[] a -> a.length;
          case short[] a -> a.length;
          case byte[][] a -> a.length;
          default ->
              throw new IllegalArgumentException(
                  "no storage for " + dtype + ": " + data.getClass());
        };
    if (!storageClass(dtype).isInstance(data) || length != n) {
      throw new IllegalArgumentException(
          dtype
              + Arrays.toString(shape)
              + " needs "
              + n
              + " elements in a "
              + storageClass(dtype).getSimpleName()
              + ", got "
              + length
              + " in a "
              + data.getClass().getSimpleName());
    }
    return new Value(dtype, shape.clone(), data);
  }

  /** A scalar handle holding {@code object} (a TensorList, a hash table, ...). */
  public static Value handle(Object object) {
    return new Value(null, new long[0], Objects.requireNonNull(object));
  }

  /** A zero-filled value. */
  public static Value zeros(DType dtype, long[] shape) {
    Memory.reserve(dtype, shape);
    int n = Math.toIntExact(elementCount(shape));
    Object data =
        switch (dtype) {
          case FLOAT32 -> new float[n];
          case COMPLEX64 -> new float[2 * n];
          case FLOAT64 -> new double[n];
          case INT32 -> new int[n];
          case INT64 -> new long[n];
          case INT8, UINT8, BOOL -> new byte[n];
          case INT16, UINT16, FLOAT16, BFLOAT16 -> new short[n];
          case STRING -> {
            byte[][] s = new byte[n][];
            Arrays.fill(s, new byte[0]);
            yield s;
          }
        };
    return new Value(dtype, shape.clone(), data);
  }

  public static Value floats(long[] shape, float... data) {
    return of(DType.FLOAT32, shape, data);
  }

  public static Value doubles(long[] shape, double... data) {
    return of(DType.FLOAT64, shape, data);
  }

  public static Value ints(long[] shape, int... data) {
    return of(DType.INT32, shape, data);
  }

  public static Value longs(long[] shape, long... data) {
    return of(DType.INT64, shape, data);
  }

  public static Value bools(long[] shape, byte... data) {
    return of(DType.BOOL, shape, data);
  }

  public static Value scalar(float v) {
    return floats(new long[0], v);
  }

  public static Value scalar(int v) {
    return ints(new long[0], v);
  }

  /** The Java array class that holds elements of {@code dtype}. */
  public static Class<?> storageClass(DType dtype) {
    return switch (dtype) {
      case FLOAT32, COMPLEX64 -> float[].class;
      case FLOAT64 -> double[].class;
      case INT32 -> int[].class;
      case INT64 -> long[].class;
      case INT8, UINT8, BOOL -> byte[].class;
      case INT16, UINT16, FLOAT16, BFLOAT16 -> short[].class;
      case STRING -> byte[][].class;
    };
  }

  /**
   * The product of the dimensions, checked: every dimension known (≥ 0) and the count below 2^31.
   */
  public static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("dimension " + d + " in " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "tensor of " + n + " elements " + Arrays.toString(shape) + " is too large");
    }
    return n;
  }

  /** Null for a handle. */
  public DType dtype() {
    return dtype;
  }

  public boolean isHandle() {
    return dtype == null;
  }

  /** The shape; the array is shared, never modify it. */
  public long[] shape() {
    return shape;
  }

  public int rank() {
    return shape.length;
  }

  public long dim(int i) {
    return shape[i];
  }

  public int size() {
    return (int) elementCount(shape);
  }

  /** The storage array itself (see the class comment for its type); shared, never modify it. */
  public Object data() {
    return data;
  }

  public float[] floats() {
    return (float[]) data;
  }

  public double[] doubles() {
    return (double[]) data;
  }

  public int[] ints() {
    return (int[]) data;
  }

  public long[] longs() {
    return (long[]) data;
  }

  public byte[] bytes() {
    return (byte[]) data;
  }

  public short[] shorts() {
    return (short[]) data;
  }

  public byte[][] strings() {
    return (byte[][]) data;
  }

  /** The handle's object. */
  public <T> T handleAs(Class<T> type) {
    return type.cast(data);
  }

  /** The same elements under another shape of equal element count (no copy). */
  public Value reshaped(long[] newShape) {
    if (elementCount(newShape) != elementCount(shape)) {
      throw new IllegalArgumentException(
          "cannot reshape " + Arrays.toString(shape) + " to " + Arrays.toString(newShape));
    }
    return new Value(dtype, newShape.clone(), data);
  }

  /**
   * Element {@code i} of an integer-typed value (INT32, INT64, INT8/16, UINT8/16, BOOL) as a long.
   */
  public long longAt(int i) {
    return switch (dtype) {
      case INT32 -> ((int[]) data)[i];
      case INT64 -> ((long[]) data)[i];
      case INT8 -> ((byte[]) data)[i];
      case UINT8, BOOL -> ((byte[]) data)[i] & 0xff;
      case INT16 -> ((short[]) data)[i];
      case UINT16 -> ((short[]) data)[i] & 0xffff;
      default -> throw new IllegalArgumentException("not an integer tensor: " + dtype);
    };
  }

  /** Element {@code i} of a real-typed value, widened to double (floats, halves, integers). */
  public double doubleAt(int i) {
    return switch (dtype) {
      case FLOAT32 -> ((float[]) data)[i];
      case FLOAT64 -> ((double[]) data)[i];
      case FLOAT16 -> Float.float16ToFloat(((short[]) data)[i]);
      case BFLOAT16 -> Float.intBitsToFloat((((short[]) data)[i] & 0xffff) << 16);
      case STRING, COMPLEX64 -> throw new IllegalArgumentException("not a real tensor: " + dtype);
      default -> longAt(i);
    };
  }

  /** All elements of an integer-typed value as longs (shape arguments, axes, indices). */
  public long[] toLongArray() {
    long[] out = new long[size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = longAt(i);
    }
    return out;
  }

  @Override
  public String toString() {
    return isHandle()
        ? "handle(" + data.getClass().getSimpleName() + ")"
        : dtype.jsName() + Arrays.toString(shape);
  }
}
