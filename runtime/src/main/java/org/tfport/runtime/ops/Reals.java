package org.tfport.runtime.ops;

import java.util.Arrays;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.Value;

/**
 * Real-valued tensors as double arrays, for the reference kernels that compute in double and round
 * once on the way out (pooling, normalization, resizing, fused epilogues): a float32 result is then
 * the float nearest the exact one.
 */
final class Reals {
  private Reals() {}

  static final Set<DType> FLOATS = Set.of(DType.FLOAT32, DType.FLOAT64);

  /** The type attribute {@code attr}, checked to be one of {@code allowed}. */
  static DType type(BindContext b, String attr, Set<DType> allowed) {
    DType t = b.typeAttr(attr, DType.FLOAT32);
    if (!allowed.contains(t)) {
      throw new KernelException(
          b.op()
              + " computes "
              + allowed.stream().map(DType::jsName).sorted().toList()
              + ", not "
              + t.jsName());
    }
    return t;
  }

  /** A copy of a real tensor's elements as doubles. */
  static double[] read(Value v) {
    if (v.dtype() == DType.FLOAT64) {
      return v.doubles().clone();
    }
    double[] out = new double[v.size()];
    if (v.dtype() == DType.FLOAT32) {
      float[] f = v.floats();
      for (int i = 0; i < out.length; i++) {
        out[i] = f[i];
      }
      return out;
    }
    for (int i = 0; i < out.length; i++) {
      out[i] = v.doubleAt(i);
    }
    return out;
  }

  /**
   * Doubles as a tensor of {@code type}: floats round to nearest, integers round half away from
   * zero.
   */
  static Value write(DType type, long[] shape, double[] d) {
    int n = d.length;
    Object data =
        switch (type) {
          case FLOAT64 -> d;
          case FLOAT32 -> {
            float[] f = new float[n];
            for (int i = 0; i < n; i++) {
              f[i] = (float) d[i];
            }
            yield f;
          }
          case INT32 -> {
            int[] a = new int[n];
            for (int i = 0; i < n; i++) {
              a[i] = (int) Math.rint(d[i]);
            }
            yield a;
          }
          case INT64 -> {
            long[] a = new long[n];
            for (int i = 0; i < n; i++) {
              a[i] = (long) Math.rint(d[i]);
            }
            yield a;
          }
          case INT8, UINT8 -> {
            byte[] a = new byte[n];
            for (int i = 0; i < n; i++) {
              a[i] = (byte) (int) Math.rint(d[i]);
            }
            yield a;
          }
          case INT16, UINT16 -> {
            short[] a = new short[n];
            for (int i = 0; i < n; i++) {
              a[i] = (short) (int) Math.rint(d[i]);
            }
            yield a;
          }
          default -> throw new KernelException("cannot hold " + type.jsName() + " results");
        };
    return Value.of(type, shape, data);
  }

  /**
   * A tensor's elements as a long vector ({@code ksize}, {@code size}, {@code input_sizes} inputs).
   */
  static long[] vector(Value v, String what, int length) {
    if (v.rank() != 1 || v.size() != length) {
      throw new KernelException(what + " must be a vector of " + length + " integers, not " + v);
    }
    return v.toLongArray();
  }

  /**
   * {@code v}'s elements broadcast (numpy rules, right-aligned) to {@code shape}, as doubles; used
   * for the alpha of PReLU and bias tensors that are not one per channel.
   */
  static double[] broadcast(Value v, long[] shape, String what) {
    long[] s = v.shape();
    int rank = shape.length;
    if (s.length > rank) {
      throw new KernelException(
          what + " " + Arrays.toString(s) + " does not broadcast to " + Arrays.toString(shape));
    }
    int[] strides = new int[rank];
    int stride = 1;
    for (int i = s.length - 1; i >= 0; i--) {
      int a = rank - s.length + i;
      if (s[i] != 1 && s[i] != shape[a]) {
        throw new KernelException(
            what + " " + Arrays.toString(s) + " does not broadcast to " + Arrays.toString(shape));
      }
      strides[a] = s[i] == 1 ? 0 : stride;
      stride *= (int) s[i];
    }
    double[] src = read(v);
    double[] out = new double[(int) Value.elementCount(shape)];
    int[] index = new int[rank];
    int offset = 0;
    for (int i = 0; i < out.length; i++) {
      out[i] = src[offset];
      for (int a = rank - 1; a >= 0; a--) {
        offset += strides[a];
        if (++index[a] < shape[a]) {
          break;
        }
        offset -= strides[a] * index[a];
        index[a] = 0;
      }
    }
    return out;
  }
}
