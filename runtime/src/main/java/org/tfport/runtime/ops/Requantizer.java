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
    boolean anyLeft,
    FloatForm floatForm,
    int zeroPoint,
    int lo,
    int hi) {
  /**
   * The requantization as one float multiply-add, which the vector form takes where it is provably
   * TFLite's result and otherwise leaves to the exact long arithmetic (null when the output range
   * is too wide for the error bound below).
   *
   * <p>For a right shift e ≥ 1 TFLite computes h = ⌊(v·q + 2^30) / 2^31⌋ and then h / 2^e rounded
   * half away from zero, which is ⌊(h + 2^(e−1) − 1 + [h ≥ 0]) / 2^e⌋; nesting the floors, that is
   * ⌊x + 1/2 + δ⌋ with x = v·q / 2^(31+e) and δ = +2^−(e+1) when v·q ≥ −2^30, −2^−(e+1) otherwise
   * (for e = 0 it is ⌊x + 1/2⌋, δ = 0). The sign of v picks δ: the one case where they disagree (v
   * = −1 with q = 2^30, or q = 0) gives the same floor either way. With the zero point z and the
   * clamp [lo, hi], the byte is lo + ⌊clamp(x + 1/2 + δ + z − lo, 1/2, hi − lo + 1/2)⌋: clamping to
   * the half-points leaves the floor's clamp unchanged.
   *
   * <p>The float form computes s = fma(float(v), m, offset) in units of 2^−11, plus one unit, with
   * m = q·2^(11−31−e) and offset = (1/2 + δ + z − lo)·2^11 rounded to float, and truncates it to an
   * int i (as computed, see the last paragraph). Each of float(v), m and the product is within
   * 2^−24 relative, the offset and the sum within half an ulp: where the clamped s is in range, |x|
   * ≤ 2^10 and s ≤ 2^9 (8-bit ranges: hi − lo + |z − lo| ≤ 510), so s is within 2^−13 + 2·2^−15 =
   * 2^−12.4 (unscaled) of the exact value. The floor of s is therefore the exact one unless the
   * fraction of s is within 2^−11 of an integer, which i's low 11 bits show (they are 0 or 1 then,
   * the added unit moving the near-integers from above and below to the same two codes): those
   * lanes take the exact path. Out-of-range values are off by far less than the half-point margin
   * of the clamp.
   *
   * <p>The kernels take i without a float-to-int conversion (Java's saturating one costs a compare
   * and a branch on top of the instruction): the offsets and clamps carry half a unit more, and
   * adding {@link #ROUND} = 2^23 to s (at most 2^20) leaves j = s + 1/2 rounded to the nearest
   * integer (ties to even) in the low bits of the float, so j = ⌊s⌋ + 1, or ⌊s⌋ when s is an
   * integer. A lane is trusted when j mod 2^11 ≥ 4 ({@link #RISKY} bits not all 0): then ⌊s⌋ mod
   * 2^11 is neither 0 nor 1 and j has ⌊s⌋'s code, j >> 11.
   *
   * @param scale m per channel
   * @param offsetPositive the offset per channel for v ≥ 0
   * @param offsetNegative the offset per channel for v &lt; 0
   * @param top (hi − lo + 1/2)·2^11 + 3/2, the upper clamp
   */
  record FloatForm(float[] scale, float[] offsetPositive, float[] offsetNegative, float top) {
    /** Fraction bits of s. */
    static final int BITS = 11;

    /** The lower clamp: 1/2 in units of 2^−11, plus one unit, plus the half unit of j. */
    static final float BOTTOM = (1 << (BITS - 1)) + 1.5f;

    /** Added to s, leaves j in the float's low bits. */
    static final float ROUND = 1 << 23;

    /** The bits of s + {@link #ROUND} that are all 0 in an untrusted lane. */
    static final int RISKY = (1 << BITS) - 4;

    /** lo plus this, plus the bits of s + ROUND shifted right by BITS, is the code. */
    static final int CODE = -(Float.floatToRawIntBits(ROUND) >> BITS);

    /** The largest hi − lo + |z − lo| the error bound above covers with margin. */
    static final int MAX_SPAN = 1 << 9;

    static FloatForm of(int[] significand, int[] right, int zeroPoint, int lo, int hi) {
      if (hi < lo || (long) hi - lo + Math.abs((long) zeroPoint - lo) > MAX_SPAN) {
        return null;
      }
      int n = significand.length;
      float[] scale = new float[n + IntMicrokernel.SLACK];
      float[] positive = new float[n + IntMicrokernel.SLACK];
      float[] negative = new float[n + IntMicrokernel.SLACK];
      for (int c = 0; c < n; c++) {
        int e = right[c];
        scale[c] = (float) Math.scalb((double) significand[c], BITS - 31 - e);
        double delta = e == 0 ? 0 : Math.scalb(1.0, -(e + 1));
        double base = 0.5 + zeroPoint - lo;
        positive[c] = (float) (Math.scalb(base + delta, BITS) + 1.5);
        negative[c] = (float) (Math.scalb(base - delta, BITS) + 1.5);
      }
      float top = (float) (Math.scalb(hi - lo + 0.5, BITS) + 1.5);
      return new FloatForm(scale, positive, negative, top);
    }
  }

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
    boolean anyLeft = false;
    for (int c = 0; c < n; c++) {
      anyLeft |= left[c] != 0;
    }
    FloatForm form = FloatForm.of(q, right, zeroPoint, range[0], range[1]);
    return new Requantizer(
        q, s, left, right, wide, wideRight, half, unit, anyLeft, form, zeroPoint, range[0],
        range[1]);
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
