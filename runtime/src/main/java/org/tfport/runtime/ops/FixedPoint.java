package org.tfport.runtime.ops;

import org.tfport.core.DType;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.Value;

/**
 * TFLite's integer arithmetic (runtime.md §3): real multipliers as a 32-bit significand and a
 * power-of-two shift, the gemmlowp rounding primitives, the requantization of accumulators, the
 * quantized activation ranges, and the widening and narrowing of int8/uint8/int16 tensors that the
 * quantized kernels loop over as {@code int[]}.
 */
final class FixedPoint {
  private FixedPoint() {}

  /**
   * A real multiplier M = significand · 2^(shift − 31), significand in [2^30, 2^31) (or 0 for M =
   * 0).
   */
  record Multiplier(int significand, int shift) {
    /**
     * M = f·2^shift by frexp, f in [0.5, 1); significand = round(f·2^31), carried into the shift at
     * 2^31.
     */
    static Multiplier of(double m) {
      if (m == 0 || !Double.isFinite(m)) {
        if (m != 0) {
          throw new KernelException("the rescaling factor " + m + " is not finite");
        }
        return new Multiplier(0, 0);
      }
      if (m < 0) {
        throw new KernelException("the rescaling factor " + m + " is negative");
      }
      int shift = Math.getExponent(m) + 1;
      double f = Math.scalb(m, -shift);
      if (f < 0.5) { // subnormal input: getExponent reports the minimum exponent
        int extra = Math.getExponent(f) + 1;
        shift += extra;
        f = Math.scalb(f, -extra);
      }
      long q = (long) roundHalfAway(f * (1L << 31));
      if (q == 1L << 31) {
        q /= 2;
        shift++;
      }
      if (shift < -31) {
        // Everything would be shifted out: TFLite flushes such multipliers to zero.
        return new Multiplier(0, 0);
      }
      return new Multiplier((int) q, shift);
    }

    /**
     * x·M rounded as TFLite's {@code MultiplyByQuantizedMultiplier} does for a 32-bit accumulator.
     */
    int apply(int x) {
      return multiply(x, significand, shift);
    }

    /**
     * x·M for a 64-bit accumulator (16x8 kernels), as TFLite's int64 {@code
     * MultiplyByQuantizedMultiplier}.
     */
    int apply(long x) {
      return multiply(x, significand, shift);
    }
  }

  /** std::round: halves away from zero. */
  static double roundHalfAway(double x) {
    double a = Math.abs(x);
    double t = Math.floor(a);
    double r = a - t >= 0.5 ? t + 1 : t;
    return Math.copySign(r, x);
  }

  /**
   * (a·b·2 + 2^31 rounding) / 2^32 in int32, saturating the one overflowing case (−2^31)·(−2^31).
   */
  static int saturatingRoundingDoublingHighMul(int a, int b) {
    if (a == Integer.MIN_VALUE && b == Integer.MIN_VALUE) {
      return Integer.MAX_VALUE;
    }
    long p = (long) a * b;
    long nudge = p >= 0 ? 1L << 30 : 1 - (1L << 30);
    return (int) ((p + nudge) / (1L << 31));
  }

  /** x / 2^e rounded to nearest, halves away from zero. */
  static int roundingDivideByPOT(int x, int e) {
    int mask = (int) ((1L << e) - 1);
    int rem = x & mask;
    int threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> e) + (rem > threshold ? 1 : 0);
  }

  static int multiply(int x, int significand, int shift) {
    int left = Math.max(shift, 0);
    int right = Math.max(-shift, 0);
    return roundingDivideByPOT(
        saturatingRoundingDoublingHighMul(x * (1 << left), significand), right);
  }

  /**
   * The 64-bit accumulator form: the significand rounded to 16 bits, then one rounding shift, so
   * that a 48-bit accumulator times it fits in int64.
   */
  static int multiply(long x, int significand, int shift) {
    int reduced = significand < 0x7FFF0000 ? (significand + (1 << 15)) >> 16 : 0x7FFF;
    int total = 15 - shift;
    long round = 1L << (total - 1);
    long r = (x * reduced + round) >> total;
    return (int) r;
  }

  // -------------------------------------------------------------------------------------------
  // ranges

  static int min(DType t) {
    return switch (t) {
      case INT8 -> Byte.MIN_VALUE;
      case UINT8 -> 0;
      case INT16 -> Short.MIN_VALUE;
      case INT32 -> Integer.MIN_VALUE;
      default -> throw new KernelException(t.jsName() + " is not a quantized integer type");
    };
  }

  static int max(DType t) {
    return switch (t) {
      case INT8 -> Byte.MAX_VALUE;
      case UINT8 -> 255;
      case INT16 -> Short.MAX_VALUE;
      case INT32 -> Integer.MAX_VALUE;
      default -> throw new KernelException(t.jsName() + " is not a quantized integer type");
    };
  }

  /**
   * The quantized range of a fused activation on an output of type {@code t}: the type's range cut
   * at the activation's real bounds, each quantized as zero point + round(bound / scale) in float.
   */
  static int[] activationRange(String activation, DType t, float scale, int zeroPoint) {
    int lo = min(t);
    int hi = max(t);
    return switch (activation) {
      case "NONE" -> new int[] {lo, hi};
      case "RELU" -> new int[] {Math.max(lo, quantize(0f, scale, zeroPoint)), hi};
      case "RELU6" ->
          new int[] {
            Math.max(lo, quantize(0f, scale, zeroPoint)),
            Math.min(hi, quantize(6f, scale, zeroPoint))
          };
      case "RELU_N1_TO_1" ->
          new int[] {
            Math.max(lo, quantize(-1f, scale, zeroPoint)),
            Math.min(hi, quantize(1f, scale, zeroPoint))
          };
      default ->
          throw new KernelException("fused activation '" + activation + "' has no quantized form");
    };
  }

  private static int quantize(float real, float scale, int zeroPoint) {
    return zeroPoint + (int) roundHalfAway(real / scale);
  }

  // -------------------------------------------------------------------------------------------
  // storage

  /** The elements of an int8/uint8/int16/int32 value as ints. */
  static int[] widen(Value v) {
    int n = v.size();
    int[] out = new int[n];
    switch (v.dtype()) {
      case INT8 -> {
        byte[] b = v.bytes();
        for (int i = 0; i < n; i++) {
          out[i] = b[i];
        }
      }
      case UINT8 -> {
        byte[] b = v.bytes();
        for (int i = 0; i < n; i++) {
          out[i] = b[i] & 0xff;
        }
      }
      case INT16 -> {
        short[] s = v.shorts();
        for (int i = 0; i < n; i++) {
          out[i] = s[i];
        }
      }
      case INT32 -> System.arraycopy(v.ints(), 0, out, 0, n);
      default ->
          throw new KernelException(
              "expected a quantized int8, uint8, int16 or int32 tensor, got " + v.dtype().jsName());
    }
    return out;
  }

  /** A value of {@code t} holding {@code q}, whose elements are already within the type's range. */
  static Value narrow(DType t, long[] shape, int[] q) {
    int n = q.length;
    return switch (t) {
      case INT8, UINT8 -> {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
          b[i] = (byte) q[i];
        }
        yield Value.of(t, shape, b);
      }
      case INT16 -> {
        short[] s = new short[n];
        for (int i = 0; i < n; i++) {
          s[i] = (short) q[i];
        }
        yield Value.of(t, shape, s);
      }
      case INT32 -> Value.of(t, shape, q);
      default -> throw new KernelException(t.jsName() + " is not a quantized integer type");
    };
  }

  /** Bias values (int32, or int64 for 16x8) as longs; null when there is no bias. */
  static long[] bias(Value b, int channels) {
    if (b == null) {
      return null;
    }
    if (b.dtype() != DType.INT32 && b.dtype() != DType.INT64) {
      throw new KernelException("the bias is " + b.dtype().jsName() + ", not int32 or int64");
    }
    if (b.size() != channels) {
      throw new KernelException(
          "the bias has " + b.size() + " values for " + channels + " output channels");
    }
    return b.toLongArray();
  }
}
