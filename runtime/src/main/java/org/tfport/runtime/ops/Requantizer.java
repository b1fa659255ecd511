package org.tfport.runtime.ops;

import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.ops.FixedPoint.Multiplier;

/**
 * The output stage of the optimized 8-bit kernels, fused after the int32 accumulation: + bias,
 * times the channel's fixed-point multiplier with TFLite's rounding ({@link FixedPoint#multiply}),
 * + output zero point, clamped to the activation's range, narrowed to a byte. Exactly {@link
 * QuantizedConvOps#requantize} for 32-bit accumulators, with the per-channel parameters unpacked
 * into arrays once at bind time.
 */
record Requantizer(
    int[] significand,
    int[] shift,
    int[] left,
    int[] right,
    long[] wideSignificand,
    long[] wideRight,
    long[] wideHalf,
    long[] wideUnit,
    int zeroPoint,
    int lo,
    int hi) {
  /**
   * The channels' multipliers, also unpacked for the vector form: the left shift, and in longs the
   * significand, the right shift e, and the two terms of the rounding right shift (2^(e−1) − 1 and
   * the 1 added for values ≥ 0; both 0 when e = 0).
   */
  static Requantizer of(Multiplier[] m, int zeroPoint, int[] range) {
    int n = m.length;
    int[] q = new int[n];
    int[] s = new int[n];
    // The arrays only the vector form reads have slack: its last vector may read past channel n.
    int[] left = new int[n + IntMicrokernel.SLACK];
    int[] right = new int[n + IntMicrokernel.SLACK];
    long[] wide = new long[n + IntMicrokernel.SLACK];
    long[] wideRight = new long[n + IntMicrokernel.SLACK];
    long[] half = new long[n + IntMicrokernel.SLACK];
    long[] unit = new long[n + IntMicrokernel.SLACK];
    for (int c = 0; c < n; c++) {
      q[c] = m[c].significand();
      s[c] = m[c].shift();
      left[c] = Math.max(s[c], 0);
      right[c] = Math.max(-s[c], 0);
      wide[c] = q[c];
      wideRight[c] = right[c];
      half[c] = right[c] == 0 ? 0 : (1L << (right[c] - 1)) - 1;
      unit[c] = right[c] == 0 ? 0 : 1;
    }
    return new Requantizer(
        q, s, left, right, wide, wideRight, half, unit, zeroPoint, range[0], range[1]);
  }

  int channels() {
    return significand.length;
  }

  /**
   * The bias as the int32 TFLite adds to an 8-bit kernel's accumulator (zeros when absent); the
   * reference kernel's long sum truncated to int is the same value modulo 2^32.
   */
  static int[] bias(long[] bias, int channels) {
    int[] b = new int[channels + IntMicrokernel.SLACK];
    if (bias != null) {
      if (bias.length != channels) {
        throw new KernelException(
            "the bias has " + bias.length + " values for " + channels + " output channels");
      }
      for (int c = 0; c < channels; c++) {
        b[c] = (int) bias[c];
      }
    }
    return b;
  }

  /** {@code y[yOff + ch] = requantize(acc[accOff + ch] + bias[ch])} for ch < channels. */
  void row(int[] acc, int accOff, int[] bias, byte[] y, int yOff) {
    rowFrom(0, significand.length, acc, accOff, bias, y, yOff);
  }

  /** As {@link #row}, for channels {@code first} to {@code end} − 1. */
  void rowFrom(int first, int end, int[] acc, int accOff, int[] bias, byte[] y, int yOff) {
    int n = end;
    for (int ch = first; ch < n; ch++) {
      int v = FixedPoint.multiply(acc[accOff + ch] + bias[ch], significand[ch], shift[ch]);
      v += zeroPoint;
      y[yOff + ch] = (byte) Math.min(Math.max(v, lo), hi);
    }
  }
}
