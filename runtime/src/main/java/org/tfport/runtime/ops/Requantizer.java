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
record Requantizer(int[] significand, int[] shift, int zeroPoint, int lo, int hi) {
  static Requantizer of(Multiplier[] m, int zeroPoint, int[] range) {
    int[] q = new int[m.length];
    int[] s = new int[m.length];
    for (int c = 0; c < m.length; c++) {
      q[c] = m[c].significand();
      s[c] = m[c].shift();
    }
    return new Requantizer(q, s, zeroPoint, range[0], range[1]);
  }

  int channels() {
    return significand.length;
  }

  /**
   * The bias as the int32 TFLite adds to an 8-bit kernel's accumulator (zeros when absent); the
   * reference kernel's long sum truncated to int is the same value modulo 2^32.
   */
  static int[] bias(long[] bias, int channels) {
    int[] b = new int[channels];
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
    int n = significand.length;
    for (int ch = 0; ch < n; ch++) {
      int v = FixedPoint.multiply(acc[accOff + ch] + bias[ch], significand[ch], shift[ch]);
      v += zeroPoint;
      y[yOff + ch] = (byte) Math.min(Math.max(v, lo), hi);
    }
  }
}
