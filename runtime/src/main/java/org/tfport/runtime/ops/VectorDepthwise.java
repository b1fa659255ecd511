package org.tfport.runtime.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link VectorMicrokernel#depthwise} across channels: four pixels at a time sharing each filter
 * vector, channels in full vectors, then a remainder of at least half a vector in one half-width
 * vector, then masked. The half-width step matters for narrow layers: MobileNet V1 0.25 has 8
 * channels at 112×112, which as a masked 16-lane vector ran one pixel at a time at a fifth of the
 * speed.
 */
final class VectorDepthwise {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();

  /** Half of {@link #S} (8 floats on AVX-512), or null where that would be under 4 floats. */
  static final VectorSpecies<Float> H =
      L >= 8 ? VectorSpecies.of(float.class, VectorShape.forBitSize(S.vectorBitSize() / 2)) : null;

  private static final int HL = H == null ? Integer.MAX_VALUE : H.length();

  private VectorDepthwise() {}

  /** See {@link Microkernel#depthwise}. */
  static void run(
      float[] x,
      int xOff,
      int xStep,
      int[] xTap,
      int[] fTap,
      int taps,
      float[] f,
      float[] y,
      int yOff,
      int pixels,
      int channels) {
    // Pixels outer, channels inner: the window rows of a few pixels and the whole filter stay in
    // L1.
    int full = S.loopBound(channels);
    boolean half = channels - full >= HL;
    int masked = half ? full + HL : full;
    int q = 0;
    for (; q + 4 <= pixels; q += 4) {
      int xb = xOff + q * xStep;
      int yo = yOff + q * channels;
      for (int ch = 0; ch < full; ch += L) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        for (int t = 0; t < taps; t++) {
          FloatVector w = FloatVector.fromArray(S, f, fTap[t] + ch);
          int xo = xb + xTap[t] + ch;
          a0 = FloatVector.fromArray(S, x, xo).fma(w, a0);
          a1 = FloatVector.fromArray(S, x, xo + xStep).fma(w, a1);
          a2 = FloatVector.fromArray(S, x, xo + 2 * xStep).fma(w, a2);
          a3 = FloatVector.fromArray(S, x, xo + 3 * xStep).fma(w, a3);
        }
        a0.intoArray(y, yo + ch);
        a1.intoArray(y, yo + channels + ch);
        a2.intoArray(y, yo + 2 * channels + ch);
        a3.intoArray(y, yo + 3 * channels + ch);
      }
      if (half) {
        half4(x, xb, xStep, xTap, fTap, taps, f, y, yo, full, channels);
      }
      for (int p = 0; p < 4 && masked < channels; p++) {
        tail(x, xb + p * xStep, xTap, fTap, taps, f, y, yo + p * channels, masked, channels);
      }
    }
    for (; q < pixels; q++) {
      int xb = xOff + q * xStep;
      int yo = yOff + q * channels;
      for (int ch = 0; ch < full; ch += L) {
        FloatVector a0 = FloatVector.zero(S);
        for (int t = 0; t < taps; t++) {
          a0 =
              FloatVector.fromArray(S, x, xb + xTap[t] + ch)
                  .fma(FloatVector.fromArray(S, f, fTap[t] + ch), a0);
        }
        a0.intoArray(y, yo + ch);
      }
      if (half) {
        half1(x, xb, xTap, fTap, taps, f, y, yo, full);
      }
      if (masked < channels) {
        tail(x, xb, xTap, fTap, taps, f, y, yo, masked, channels);
      }
    }
  }

  // Channels [ch, ch + HL) of four pixels in half-width vectors.
  private static void half4(
      float[] x,
      int xb,
      int xStep,
      int[] xTap,
      int[] fTap,
      int taps,
      float[] f,
      float[] y,
      int yo,
      int ch,
      int channels) {
    FloatVector a0 = FloatVector.zero(H);
    FloatVector a1 = FloatVector.zero(H);
    FloatVector a2 = FloatVector.zero(H);
    FloatVector a3 = FloatVector.zero(H);
    for (int t = 0; t < taps; t++) {
      FloatVector w = FloatVector.fromArray(H, f, fTap[t] + ch);
      int xo = xb + xTap[t] + ch;
      a0 = FloatVector.fromArray(H, x, xo).fma(w, a0);
      a1 = FloatVector.fromArray(H, x, xo + xStep).fma(w, a1);
      a2 = FloatVector.fromArray(H, x, xo + 2 * xStep).fma(w, a2);
      a3 = FloatVector.fromArray(H, x, xo + 3 * xStep).fma(w, a3);
    }
    a0.intoArray(y, yo + ch);
    a1.intoArray(y, yo + channels + ch);
    a2.intoArray(y, yo + 2 * channels + ch);
    a3.intoArray(y, yo + 3 * channels + ch);
  }

  // Channels [ch, ch + HL) of one pixel in a half-width vector.
  private static void half1(
      float[] x, int xb, int[] xTap, int[] fTap, int taps, float[] f, float[] y, int yo, int ch) {
    FloatVector a0 = FloatVector.zero(H);
    for (int t = 0; t < taps; t++) {
      a0 =
          FloatVector.fromArray(H, x, xb + xTap[t] + ch)
              .fma(FloatVector.fromArray(H, f, fTap[t] + ch), a0);
    }
    a0.intoArray(y, yo + ch);
  }

  // The channels [from, channels) of one pixel, fewer than a vector: masked.
  private static void tail(
      float[] x,
      int xb,
      int[] xTap,
      int[] fTap,
      int taps,
      float[] f,
      float[] y,
      int yo,
      int from,
      int channels) {
    VectorMask<Float> m = S.indexInRange(from, channels);
    FloatVector a0 = FloatVector.zero(S);
    for (int t = 0; t < taps; t++) {
      a0 =
          FloatVector.fromArray(S, x, xb + xTap[t] + from, m)
              .fma(FloatVector.fromArray(S, f, fTap[t] + from, m), a0);
    }
    a0.intoArray(y, yo + from, m);
  }
}
