package org.tfport.runtime.ops;

import org.tfport.core.DType;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * TensorFlow's {@code Cast} between every pair of real types and bool, as its CPU kernel converts
 * on x86: floats to integers truncate toward zero and NaN or out-of-range floats give the CPU's
 * "integer indefinite" (the lowest int32 or int64), narrowed modulo the width for 8- and 16-bit
 * integers. That is TensorFlow's scalar path; its vectorized float64 and half conversions to 8- and
 * 16-bit integers saturate instead, so for those out-of-range values (undefined in C++)
 * TensorFlow's own result depends on the tensor's length and position. Doubles and integers reach
 * half types through float (two roundings, as Eigen's conversions do); {@code Truncate} clears the
 * mantissa bits a narrower float type cannot hold instead of rounding.
 */
final class CastOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference(
        "Cast",
        node -> {
          DType src = node.hasAttr("SrcT") ? node.typeAttr("SrcT") : node.inputType(0);
          DType dst = node.typeAttr("DstT");
          boolean truncate = node.boolAttr("Truncate", false);
          for (DType t : new DType[] {src, dst}) {
            if (t == null || t == DType.STRING || t == DType.COMPLEX64) {
              throw new KernelException("Cast from " + src + " to " + dst + " is not supported");
            }
          }
          if (src == dst) {
            return (in, ctx) -> new Value[] {in[0]};
          }
          boolean fromFloat = src.isFloating();
          // TensorFlow truncates only for these pairs; float64 or float16 to bfloat16 round even
          // with Truncate.
          boolean truncates =
              truncate
                  && (src == DType.FLOAT32 && (dst == DType.FLOAT16 || dst == DType.BFLOAT16)
                      || src == DType.FLOAT64 && (dst == DType.FLOAT32 || dst == DType.FLOAT16));
          int dropBits = truncates ? mantissa(src) - mantissa(dst) : 0;
          return (in, ctx) -> {
            Value x = in[0];
            Elements.check(x, src, "x");
            int n = x.size();
            if (fromFloat) {
              double[] v = new double[n];
              for (int i = 0; i < n; i++) {
                v[i] = dropBits == 0 ? x.doubleAt(i) : dropLowBits(src, x.doubleAt(i), dropBits);
              }
              return new Value[] {fromDoubles(dst, x.shape(), v)};
            }
            long[] v = new long[n];
            for (int i = 0; i < n; i++) {
              v[i] = x.longAt(i);
            }
            return new Value[] {fromLongs(dst, x.shape(), v)};
          };
        });
  }

  private static int mantissa(DType t) {
    return switch (t) {
      case FLOAT64 -> 52;
      case FLOAT32 -> 23;
      case FLOAT16 -> 10;
      default -> 7;
    };
  }

  /**
   * {@code x} (a value of float type {@code src}) with the low {@code bits} bits of its mantissa
   * cleared.
   */
  private static double dropLowBits(DType src, double x, int bits) {
    if (Double.isNaN(x)) {
      return x;
    }
    return switch (src) {
      case FLOAT64 -> Double.longBitsToDouble(Double.doubleToRawLongBits(x) & (-1L << bits));
      case FLOAT32 -> Float.intBitsToFloat(Float.floatToRawIntBits((float) x) & (-1 << bits));
      default -> x;
    };
  }

  private static Value fromDoubles(DType dst, long[] shape, double[] v) {
    int n = v.length;
    switch (dst) {
      case FLOAT64 -> {
        return Value.of(dst, shape, v);
      }
      case FLOAT32, FLOAT16, BFLOAT16 -> {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
          f[i] = (float) v[i];
        }
        return Elements.ofFloats(dst, shape, f);
      }
      case BOOL -> {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
          b[i] = (byte) (v[i] != 0 ? 1 : 0);
        }
        return Value.of(dst, shape, b);
      }
      case INT64 -> {
        long[] l = new long[n];
        for (int i = 0; i < n; i++) {
          double x = v[i];
          // cvttsd2si: in range truncates, anything else is the indefinite value
          // 0x8000000000000000.
          l[i] = x > -0x1p63 - 1 && x < 0x1p63 ? (long) x : Long.MIN_VALUE;
        }
        return Value.of(dst, shape, l);
      }
      default -> {
        long[] l = new long[n];
        for (int i = 0; i < n; i++) {
          double x = v[i];
          l[i] = x > -0x1p31 - 1 && x < 0x1p31 ? (long) x : Integer.MIN_VALUE;
        }
        return fromLongs(dst, shape, l);
      }
    }
  }

  /**
   * Integers (or bools as 0/1) converted to {@code dst}: narrowed modulo the width, or rounded to
   * nearest.
   */
  private static Value fromLongs(DType dst, long[] shape, long[] v) {
    int n = v.length;
    return switch (dst) {
      case INT64 -> Value.of(dst, shape, v);
      case FLOAT64 -> {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
          d[i] = v[i];
        }
        yield Value.of(dst, shape, d);
      }
      case FLOAT32, FLOAT16, BFLOAT16 -> {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
          f[i] = v[i];
        }
        yield Elements.ofFloats(dst, shape, f);
      }
      case BOOL -> {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
          b[i] = (byte) (v[i] != 0 ? 1 : 0);
        }
        yield Value.of(dst, shape, b);
      }
      default -> {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
          a[i] = (int) v[i];
        }
        yield Elements.ofInts(dst, shape, a);
      }
    };
  }
}
