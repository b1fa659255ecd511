package org.tfport.runtime.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;

/** Conversions between the runtime's {@link Value} and tfport's byte-backed {@link Tensor}. */
public final class Values {
  private Values() {}

  /** Copies a tensor's elements into a value. */
  public static Value fromTensor(Tensor t) {
    long[] shape = t.shape().dims();
    int n = Math.toIntExact(t.size());
    ByteBuffer b = t.bytes();
    Object data =
        switch (t.dtype()) {
          case FLOAT32 -> {
            float[] a = new float[n];
            b.asFloatBuffer().get(a);
            yield a;
          }
          case COMPLEX64 -> {
            float[] a = new float[2 * n];
            b.asFloatBuffer().get(a);
            yield a;
          }
          case FLOAT64 -> {
            double[] a = new double[n];
            b.asDoubleBuffer().get(a);
            yield a;
          }
          case INT32 -> {
            int[] a = new int[n];
            b.asIntBuffer().get(a);
            yield a;
          }
          case INT64 -> {
            long[] a = new long[n];
            b.asLongBuffer().get(a);
            yield a;
          }
          case INT8, UINT8, BOOL -> {
            byte[] a = new byte[n];
            b.get(a);
            yield a;
          }
          case INT16, UINT16, FLOAT16, BFLOAT16 -> {
            short[] a = new short[n];
            b.asShortBuffer().get(a);
            yield a;
          }
          case STRING -> t.toByteStrings().toArray(new byte[0][]);
        };
    return Value.of(t.dtype(), shape, data);
  }

  /** Copies a value's elements into a little-endian tensor; a handle cannot be converted. */
  public static Tensor toTensor(Value v) {
    if (v.isHandle()) {
      throw new IllegalArgumentException("a " + v + " is not a tensor");
    }
    Shape shape = Shape.of(v.shape());
    if (v.dtype() == DType.STRING) {
      int bytes = 0;
      for (byte[] s : v.strings()) {
        bytes = Math.addExact(bytes, 4 + s.length);
      }
      ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
      for (byte[] s : v.strings()) {
        b.putInt(s.length).put(s);
      }
      return new Tensor(DType.STRING, shape, b.flip());
    }
    int n = v.size();
    ByteBuffer b =
        ByteBuffer.allocate(
                Math.multiplyExact(
                    v.dtype() == DType.COMPLEX64 ? 2 * n : n,
                    v.dtype() == DType.COMPLEX64 ? 4 : v.dtype().byteSize()))
            .order(ByteOrder.LITTLE_ENDIAN);
    switch (v.dtype()) {
      case FLOAT32, COMPLEX64 -> b.asFloatBuffer().put(v.floats());
      case FLOAT64 -> b.asDoubleBuffer().put(v.doubles());
      case INT32 -> b.asIntBuffer().put(v.ints());
      case INT64 -> b.asLongBuffer().put(v.longs());
      case INT8, UINT8, BOOL -> b.put(v.bytes()).flip();
      case INT16, UINT16, FLOAT16, BFLOAT16 -> b.asShortBuffer().put(v.shorts());
      case STRING -> throw new AssertionError();
    }
    return new Tensor(v.dtype(), shape, b.position(0));
  }

  /** Strings as a value (UTF-8). */
  public static Value strings(long[] shape, List<String> values) {
    byte[][] s = new byte[values.size()][];
    for (int i = 0; i < s.length; i++) {
      s[i] = values.get(i).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
    return Value.of(DType.STRING, shape, s);
  }
}
