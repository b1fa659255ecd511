package org.tfport.graph.optimize;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;

/** Small conversions between tensors and Java arrays, for passes that read or make constants. */
public final class Tensors {
  private Tensors() {}

  public static float[] floats(Tensor t) {
    float[] v = new float[(int) t.size()];
    t.bytes().asFloatBuffer().get(v);
    return v;
  }

  public static double[] doubles(Tensor t) {
    double[] v = new double[(int) t.size()];
    t.bytes().asDoubleBuffer().get(v);
    return v;
  }

  public static long[] int64s(Tensor t) {
    long[] v = new long[(int) t.size()];
    t.bytes().asLongBuffer().get(v);
    return v;
  }

  /**
   * An int32 or int64 tensor's values (an index or shape argument).
   *
   * @throws IllegalArgumentException for a tensor of any other type
   */
  public static long[] ints(Tensor t) {
    if (t.dtype() == DType.INT64) {
      return int64s(t);
    }
    if (t.dtype() != DType.INT32) {
      throw new IllegalArgumentException("expected int32 or int64 values, got " + t.dtype());
    }
    int[] v = new int[(int) t.size()];
    t.bytes().asIntBuffer().get(v);
    long[] out = new long[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i];
    }
    return out;
  }

  private static ByteBuffer alloc(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  public static Tensor of(long[] shape, float[] v) {
    ByteBuffer b = alloc(v.length * 4);
    b.asFloatBuffer().put(v);
    return new Tensor(DType.FLOAT32, Shape.of(shape), b);
  }

  public static Tensor of(long[] shape, double[] v) {
    ByteBuffer b = alloc(v.length * 8);
    b.asDoubleBuffer().put(v);
    return new Tensor(DType.FLOAT64, Shape.of(shape), b);
  }

  public static Tensor of(long[] shape, int[] v) {
    ByteBuffer b = alloc(v.length * 4);
    b.asIntBuffer().put(v);
    return new Tensor(DType.INT32, Shape.of(shape), b);
  }

  public static Tensor of(long[] shape, long[] v) {
    ByteBuffer b = alloc(v.length * 8);
    b.asLongBuffer().put(v);
    return new Tensor(DType.INT64, Shape.of(shape), b);
  }

  public static Tensor of(long[] shape, boolean[] v) {
    ByteBuffer b = alloc(v.length);
    for (boolean x : v) {
      b.put((byte) (x ? 1 : 0));
    }
    return new Tensor(DType.BOOL, Shape.of(shape), b.flip());
  }

  /**
   * NumPy broadcasting of two fully known shapes.
   *
   * @throws IllegalArgumentException when they do not broadcast
   */
  public static long[] broadcastShape(long[] a, long[] b) {
    int r = Math.max(a.length, b.length);
    long[] out = new long[r];
    for (int i = 0; i < r; i++) {
      long x = i < r - a.length ? 1 : a[i - (r - a.length)];
      long y = i < r - b.length ? 1 : b[i - (r - b.length)];
      if (x != y && x != 1 && y != 1) {
        throw new IllegalArgumentException(
            "shapes " + Arrays.toString(a) + " and " + Arrays.toString(b) + " do not broadcast");
      }
      out[i] = x == 1 ? y : x;
    }
    return out;
  }
}
