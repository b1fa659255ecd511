package org.tfport.runtime.ops;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * 8-bit depthwise convolution of stride 1 along the width when the channels divide an int vector (8
 * channels in 16 lanes, MobileNet V1 0.25's second layer at 112×112): consecutive output pixels
 * read consecutive inputs, so one vector holds {@code lanes / channels} pixels, multiplied by the
 * filter tap repeated as often ({@link #repeatTaps}). {@link IntMicrokernel#depthwise} took a whole
 * vector per pixel and used half of it (the layer ran in 57 % of the time with this and {@link
 * NarrowRequantizer}). The float kernels gain nothing from the same packing: their half-width
 * vectors already run 8 channels at full rate ({@link VectorDepthwise}). Loaded only with the
 * Vector API.
 */
final class VectorNarrowDepthwise {
  private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
  // Bytes as many as the int lanes, widened by one conversion.
  private static final VectorSpecies<Byte> B =
      VectorSpecies.of(byte.class, VectorShape.forBitSize(I.vectorBitSize() / 4));

  private VectorNarrowDepthwise() {}

  /** Whether {@code channels} pixels-per-vector packing applies at {@code lanes} lanes. */
  static boolean packs(int channels, int lanes) {
    return channels > 0 && channels < lanes && lanes % channels == 0;
  }

  /**
   * Each tap's row of {@code channels} weights ({@code w[t·channels + c]}) repeated to fill {@code
   * lanes}: tap t at {@code [t·lanes, (t + 1)·lanes)}.
   */
  static int[] repeatTaps(int[] w, int taps, int channels, int lanes) {
    int[] r = new int[taps * lanes];
    for (int t = 0; t < taps; t++) {
      for (int i = 0; i < lanes; i++) {
        r[t * lanes + i] = w[t * channels + i % channels];
      }
    }
    return r;
  }

  /**
   * The 8-bit form into int32 accumulators ({@code & mask} on the codes, as {@link
   * IntMicrokernel#depthwise}): {@code acc[q·channels + c]} for q &lt; pixels rounded up to whole
   * vectors, so it reads up to a vector past the last pixel's window and writes up to a vector past
   * {@code acc[pixels·channels]} (callers leave {@link IntMicrokernel#SLACK} after both); {@code
   * fr} is the repeated filter.
   */
  static void bytes(
      byte[] x,
      int mask,
      int xOff,
      int[] xTap,
      int taps,
      int[] fr,
      int[] acc,
      int pixels,
      int channels) {
    int lanes = I.length();
    int per = lanes / channels;
    int groups = (pixels + per - 1) / per;
    boolean unsigned = mask == 0xff;
    int g = 0;
    for (; g + 2 <= groups; g += 2) {
      int xb = xOff + g * lanes;
      IntVector s0 = IntVector.zero(I);
      IntVector s1 = IntVector.zero(I);
      for (int t = 0; t < taps; t++) {
        IntVector w = IntVector.fromArray(I, fr, t * lanes);
        int xo = xb + xTap[t];
        s0 = s0.add(widen(x, xo, unsigned).mul(w));
        s1 = s1.add(widen(x, xo + lanes, unsigned).mul(w));
      }
      s0.intoArray(acc, g * lanes);
      s1.intoArray(acc, (g + 1) * lanes);
    }
    for (; g < groups; g++) {
      int xb = xOff + g * lanes;
      IntVector s0 = IntVector.zero(I);
      for (int t = 0; t < taps; t++) {
        s0 = s0.add(widen(x, xb + xTap[t], unsigned).mul(IntVector.fromArray(I, fr, t * lanes)));
      }
      s0.intoArray(acc, g * lanes);
    }
  }

  // The conversion operator must be a constant for the JIT: one branch per signedness.
  private static IntVector widen(byte[] x, int at, boolean unsigned) {
    ByteVector b = ByteVector.fromArray(B, x, at);
    return (IntVector)
        (unsigned
            ? b.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0)
            : b.convertShape(VectorOperators.B2I, I, 0));
  }
}
