package org.tfport.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.runtime.kernel.Memory;

/**
 * Seeded example inputs for a signature, so any model can be tried without data: floats uniform in
 * [-1, 1), signed integers in [0, 10) (small and non-negative, as ids and indices are), uint8 and
 * uint16 over their whole range, bools, and strings of one digit. Dimensions the signature leaves
 * open are 1; an input of unknown rank is a vector of one element.
 */
public final class RandomInputs {
  private RandomInputs() {}

  /**
   * One tensor per input of {@code sig}, by input name, drawn in signature order from one
   * generator.
   */
  public static Map<String, Tensor> of(Signature sig, long seed) {
    Random rnd = new Random(seed);
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (TensorSpec s : sig.inputs()) {
      if (s.dtype() == null) {
        throw new UnsupportedModelException(
            "input '" + s.name() + "' has no known type to make values for");
      }
      long[] shape = shape(s);
      String why = Memory.shortfall(s.dtype(), shape);
      if (why != null) {
        throw new TfportException("example values for input '" + s.name() + "': " + why);
      }
      out.put(s.name(), random(s.dtype(), shape, rnd));
    }
    return out;
  }

  /** The spec's shape with every unknown dimension 1 ({@code [1]} for an unknown rank). */
  public static long[] shape(TensorSpec s) {
    long[] d = s.shape();
    if (d == null) {
      return new long[] {1};
    }
    for (int i = 0; i < d.length; i++) {
      d[i] = d[i] < 0 ? 1 : d[i];
    }
    return d;
  }

  /** A tensor of {@code t} and {@code shape} with values as the class comment says. */
  public static Tensor random(DType t, long[] shape, Random rnd) {
    int n = Math.toIntExact(Shape.of(shape).size());
    if (t == DType.STRING) {
      List<String> v = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        v.add(Integer.toString(rnd.nextInt(10)));
      }
      return Tensor.ofStrings(Shape.of(shape), v);
    }
    if (t == DType.COMPLEX64) {
      throw new UnsupportedModelException("cannot make example values of type complex64");
    }
    ByteBuffer b =
        ByteBuffer.allocate(Math.multiplyExact(n, t.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      float f = rnd.nextFloat() * 2 - 1;
      int small = rnd.nextInt(10);
      switch (t) {
        case FLOAT32 -> b.putFloat(f);
        case FLOAT64 -> b.putDouble(f);
        case FLOAT16 -> b.putShort(Float.floatToFloat16(f));
        case BFLOAT16 -> b.putShort((short) (Float.floatToRawIntBits(f) >>> 16));
        case INT8 -> b.put((byte) small);
        case INT16 -> b.putShort((short) small);
        case INT32 -> b.putInt(small);
        case INT64 -> b.putLong(small);
        case UINT8 -> b.put((byte) rnd.nextInt(256));
        case UINT16 -> b.putShort((short) rnd.nextInt(65536));
        case BOOL -> b.put((byte) (small & 1));
        default ->
            throw new UnsupportedModelException("cannot make example values of type " + t.jsName());
      }
    }
    return new Tensor(t, Shape.of(shape), b.flip());
  }
}
