package org.tfport.runtime.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link VectorMicrokernel}'s tiles for panels narrower than its two vectors: 8 rows by one vector,
 * or by one half-width vector (8 floats on AVX-512), for layers of 8 or 16 output channels.
 */
final class VectorNarrowTiles {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  private static final int NR = 2 * L;

  /** Half of {@link #S}, or null where that would be under 4 floats. */
  private static final VectorSpecies<Float> H = VectorDepthwise.H;

  /** Columns of a half-width vector; -1 without one. */
  static final int HL = H == null ? -1 : H.length();

  private VectorNarrowTiles() {}

  /** An 8-row tile of one vector's width, stored at {@code c[cOff + r·ldc ...]}. */
  @FunctionalInterface
  interface Tile8 {
    void run(
        float[] a,
        int b0,
        int b1,
        int b2,
        int b3,
        int b4,
        int b5,
        int b6,
        int b7,
        int[] tapOff,
        int taps,
        int cin,
        float[] panel,
        int panelOff,
        float[] c,
        int cOff,
        int ldc);
  }

  static final Tile8 HALF = VectorNarrowTiles::tile8Half;
  static final Tile8 NARROW = VectorNarrowTiles::tile8Narrow;

  // 8 rows × 1 vector (the first L columns of a panel): 8 accumulators.
  static void tile8Half(
      float[] a,
      int b0,
      int b1,
      int b2,
      int b3,
      int b4,
      int b5,
      int b6,
      int b7,
      int[] tapOff,
      int taps,
      int cin,
      float[] panel,
      int panelOff,
      float[] c,
      int cOff,
      int ldc) {
    FloatVector c0 = FloatVector.zero(S);
    FloatVector c1 = FloatVector.zero(S);
    FloatVector c2 = FloatVector.zero(S);
    FloatVector c3 = FloatVector.zero(S);
    FloatVector c4 = FloatVector.zero(S);
    FloatVector c5 = FloatVector.zero(S);
    FloatVector c6 = FloatVector.zero(S);
    FloatVector c7 = FloatVector.zero(S);
    int k = panelOff;
    for (int t = 0; t < taps; t++) {
      int o = tapOff[t];
      int a0 = b0 + o;
      int a1 = b1 + o;
      int a2 = b2 + o;
      int a3 = b3 + o;
      int a4 = b4 + o;
      int a5 = b5 + o;
      int a6 = b6 + o;
      int a7 = b7 + o;
      for (int ic = 0; ic < cin; ic++, k += NR) {
        FloatVector w = FloatVector.fromArray(S, panel, k);
        c0 = w.fma(FloatVector.broadcast(S, a[a0 + ic]), c0);
        c1 = w.fma(FloatVector.broadcast(S, a[a1 + ic]), c1);
        c2 = w.fma(FloatVector.broadcast(S, a[a2 + ic]), c2);
        c3 = w.fma(FloatVector.broadcast(S, a[a3 + ic]), c3);
        c4 = w.fma(FloatVector.broadcast(S, a[a4 + ic]), c4);
        c5 = w.fma(FloatVector.broadcast(S, a[a5 + ic]), c5);
        c6 = w.fma(FloatVector.broadcast(S, a[a6 + ic]), c6);
        c7 = w.fma(FloatVector.broadcast(S, a[a7 + ic]), c7);
      }
    }
    c0.intoArray(c, cOff);
    c1.intoArray(c, cOff + ldc);
    c2.intoArray(c, cOff + 2 * ldc);
    c3.intoArray(c, cOff + 3 * ldc);
    c4.intoArray(c, cOff + 4 * ldc);
    c5.intoArray(c, cOff + 5 * ldc);
    c6.intoArray(c, cOff + 6 * ldc);
    c7.intoArray(c, cOff + 7 * ldc);
  }

  // 8 rows × 1 half-width vector (the first HL columns of a panel): 8 accumulators.
  static void tile8Narrow(
      float[] a,
      int b0,
      int b1,
      int b2,
      int b3,
      int b4,
      int b5,
      int b6,
      int b7,
      int[] tapOff,
      int taps,
      int cin,
      float[] panel,
      int panelOff,
      float[] c,
      int cOff,
      int ldc) {
    FloatVector c0 = FloatVector.zero(H);
    FloatVector c1 = FloatVector.zero(H);
    FloatVector c2 = FloatVector.zero(H);
    FloatVector c3 = FloatVector.zero(H);
    FloatVector c4 = FloatVector.zero(H);
    FloatVector c5 = FloatVector.zero(H);
    FloatVector c6 = FloatVector.zero(H);
    FloatVector c7 = FloatVector.zero(H);
    int k = panelOff;
    for (int t = 0; t < taps; t++) {
      int o = tapOff[t];
      int a0 = b0 + o;
      int a1 = b1 + o;
      int a2 = b2 + o;
      int a3 = b3 + o;
      int a4 = b4 + o;
      int a5 = b5 + o;
      int a6 = b6 + o;
      int a7 = b7 + o;
      for (int ic = 0; ic < cin; ic++, k += NR) {
        FloatVector w = FloatVector.fromArray(H, panel, k);
        c0 = w.fma(FloatVector.broadcast(H, a[a0 + ic]), c0);
        c1 = w.fma(FloatVector.broadcast(H, a[a1 + ic]), c1);
        c2 = w.fma(FloatVector.broadcast(H, a[a2 + ic]), c2);
        c3 = w.fma(FloatVector.broadcast(H, a[a3 + ic]), c3);
        c4 = w.fma(FloatVector.broadcast(H, a[a4 + ic]), c4);
        c5 = w.fma(FloatVector.broadcast(H, a[a5 + ic]), c5);
        c6 = w.fma(FloatVector.broadcast(H, a[a6 + ic]), c6);
        c7 = w.fma(FloatVector.broadcast(H, a[a7 + ic]), c7);
      }
    }
    c0.intoArray(c, cOff);
    c1.intoArray(c, cOff + ldc);
    c2.intoArray(c, cOff + 2 * ldc);
    c3.intoArray(c, cOff + 3 * ldc);
    c4.intoArray(c, cOff + 4 * ldc);
    c5.intoArray(c, cOff + 5 * ldc);
    c6.intoArray(c, cOff + 6 * ldc);
    c7.intoArray(c, cOff + 7 * ldc);
  }
}
