package org.tfport.runtime.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The micro-kernels on the Vector API (loaded only when jdk.incubator.vector is present, see {@link
 * FastKernels}): register tiles of 8 or 4 rows by two vectors of columns, or one row by four with
 * the reduction loop innermost and fused multiply-adds; depthwise convolution across channels, four
 * pixels at a time sharing each filter vector.
 */
final class VectorMicrokernel extends Microkernel {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  private static final int NR = 2 * L;
  private static final int MR = 8;

  private static final int HL = VectorNarrowTiles.HL;

  @Override
  int mr() {
    return MR;
  }

  @Override
  int nr() {
    return NR;
  }

  @Override
  void block(
      float[] a,
      int[] base,
      int rows,
      int[] tapOff,
      int taps,
      int cin,
      float[] packed,
      int k,
      int n,
      int p0,
      int p1,
      float[] c,
      int cOff,
      int ldc) {
    int panelSize = k * NR;
    int i = 0;
    float[] partial = null;
    for (; i + 8 <= rows; i += 8) {
      for (int p = p0; p < p1; p++) {
        int ncols = Math.min(NR, n - p * NR);
        if (ncols < NR) {
          // Kept out of tile8: with masked stores as well its C1 compile runs out of virtual
          // registers, and the method then stays in C1 code, where no vector op is intrinsified.
          if (ncols == L || ncols == HL) {
            // Exactly one vector (or half of one) per row: stored in place, no copy. Layers of 8
            // and 16 output channels spend most of their time here, not in the multiply-adds.
            (ncols == L ? VectorNarrowTiles.HALF : VectorNarrowTiles.NARROW)
                .run(
                    a,
                    base[i],
                    base[i + 1],
                    base[i + 2],
                    base[i + 3],
                    base[i + 4],
                    base[i + 5],
                    base[i + 6],
                    base[i + 7],
                    tapOff,
                    taps,
                    cin,
                    packed,
                    p * panelSize,
                    c,
                    cOff + i * ldc + p * NR,
                    ldc);
            continue;
          }
          if (partial == null) {
            partial = new float[8 * NR];
          }
          if (ncols <= L) {
            // Layers with few output channels (8 or 16): the panel's second vector is all zeros.
            VectorNarrowTiles.tile8Half(
                a,
                base[i],
                base[i + 1],
                base[i + 2],
                base[i + 3],
                base[i + 4],
                base[i + 5],
                base[i + 6],
                base[i + 7],
                tapOff,
                taps,
                cin,
                packed,
                p * panelSize,
                partial,
                0,
                NR);
            for (int r = 0; r < 8; r++) {
              System.arraycopy(partial, r * NR, c, cOff + (i + r) * ldc + p * NR, ncols);
            }
            continue;
          }
          tile8(
              a,
              base[i],
              base[i + 1],
              base[i + 2],
              base[i + 3],
              base[i + 4],
              base[i + 5],
              base[i + 6],
              base[i + 7],
              tapOff,
              taps,
              cin,
              packed,
              p * panelSize,
              partial,
              0,
              NR);
          for (int r = 0; r < 8; r++) {
            System.arraycopy(partial, r * NR, c, cOff + (i + r) * ldc + p * NR, ncols);
          }
          continue;
        }
        tile8(
            a,
            base[i],
            base[i + 1],
            base[i + 2],
            base[i + 3],
            base[i + 4],
            base[i + 5],
            base[i + 6],
            base[i + 7],
            tapOff,
            taps,
            cin,
            packed,
            p * panelSize,
            c,
            cOff + i * ldc + p * NR,
            ldc);
      }
    }
    for (; i + 4 <= rows; i += 4) {
      for (int p = p0; p < p1; p++) {
        tile4(
            a,
            base[i],
            base[i + 1],
            base[i + 2],
            base[i + 3],
            tapOff,
            taps,
            cin,
            packed,
            p * panelSize,
            c,
            cOff + i * ldc + p * NR,
            ldc,
            Math.min(NR, n - p * NR));
      }
    }
    // A lone row (a matrix-vector product) has too few accumulators to hide the fma latency in one
    // panel: take
    // two panels at a time.
    for (; i < rows; i++) {
      int row = cOff + i * ldc;
      int p = p0;
      for (; p + 2 <= p1; p += 2) {
        pair(
            a,
            base[i],
            tapOff,
            taps,
            cin,
            packed,
            p * panelSize,
            c,
            row + p * NR,
            Math.min(NR, n - (p + 1) * NR));
      }
      if (p < p1) {
        tile1(
            a,
            base[i],
            tapOff,
            taps,
            cin,
            packed,
            p * panelSize,
            c,
            row + p * NR,
            ldc,
            Math.min(NR, n - p * NR));
      }
    }
  }

  // One row × two adjacent panels (the first full, the second with ncols columns): four
  // accumulators.
  private static void pair(
      float[] a,
      int b0,
      int[] tapOff,
      int taps,
      int cin,
      float[] packed,
      int panelOff,
      float[] c,
      int cOff,
      int ncols) {
    FloatVector c0 = FloatVector.zero(S);
    FloatVector c1 = FloatVector.zero(S);
    FloatVector c2 = FloatVector.zero(S);
    FloatVector c3 = FloatVector.zero(S);
    int second = taps * cin * NR;
    int k = panelOff;
    for (int t = 0; t < taps; t++) {
      int a0 = b0 + tapOff[t];
      for (int ic = 0; ic < cin; ic++, k += NR) {
        FloatVector x = FloatVector.broadcast(S, a[a0 + ic]);
        c0 = FloatVector.fromArray(S, packed, k).fma(x, c0);
        c1 = FloatVector.fromArray(S, packed, k + L).fma(x, c1);
        c2 = FloatVector.fromArray(S, packed, k + second).fma(x, c2);
        c3 = FloatVector.fromArray(S, packed, k + second + L).fma(x, c3);
      }
    }
    c0.intoArray(c, cOff);
    c1.intoArray(c, cOff + L);
    if (ncols == NR) {
      c2.intoArray(c, cOff + NR);
      c3.intoArray(c, cOff + NR + L);
    } else {
      c2.intoArray(c, cOff + NR, S.indexInRange(0, ncols));
      c3.intoArray(c, cOff + NR + L, S.indexInRange(L, ncols));
    }
  }

  // 8 rows × 2 vectors: 16 accumulators, the two weight vectors of step k shared by every row.
  private static void tile8(
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
    FloatVector c00 = FloatVector.zero(S);
    FloatVector c01 = FloatVector.zero(S);
    FloatVector c10 = FloatVector.zero(S);
    FloatVector c11 = FloatVector.zero(S);
    FloatVector c20 = FloatVector.zero(S);
    FloatVector c21 = FloatVector.zero(S);
    FloatVector c30 = FloatVector.zero(S);
    FloatVector c31 = FloatVector.zero(S);
    FloatVector c40 = FloatVector.zero(S);
    FloatVector c41 = FloatVector.zero(S);
    FloatVector c50 = FloatVector.zero(S);
    FloatVector c51 = FloatVector.zero(S);
    FloatVector c60 = FloatVector.zero(S);
    FloatVector c61 = FloatVector.zero(S);
    FloatVector c70 = FloatVector.zero(S);
    FloatVector c71 = FloatVector.zero(S);
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
        FloatVector w0 = FloatVector.fromArray(S, panel, k);
        FloatVector w1 = FloatVector.fromArray(S, panel, k + L);
        FloatVector x = FloatVector.broadcast(S, a[a0 + ic]);
        c00 = w0.fma(x, c00);
        c01 = w1.fma(x, c01);
        x = FloatVector.broadcast(S, a[a1 + ic]);
        c10 = w0.fma(x, c10);
        c11 = w1.fma(x, c11);
        x = FloatVector.broadcast(S, a[a2 + ic]);
        c20 = w0.fma(x, c20);
        c21 = w1.fma(x, c21);
        x = FloatVector.broadcast(S, a[a3 + ic]);
        c30 = w0.fma(x, c30);
        c31 = w1.fma(x, c31);
        x = FloatVector.broadcast(S, a[a4 + ic]);
        c40 = w0.fma(x, c40);
        c41 = w1.fma(x, c41);
        x = FloatVector.broadcast(S, a[a5 + ic]);
        c50 = w0.fma(x, c50);
        c51 = w1.fma(x, c51);
        x = FloatVector.broadcast(S, a[a6 + ic]);
        c60 = w0.fma(x, c60);
        c61 = w1.fma(x, c61);
        x = FloatVector.broadcast(S, a[a7 + ic]);
        c70 = w0.fma(x, c70);
        c71 = w1.fma(x, c71);
      }
    }
    c00.intoArray(c, cOff);
    c01.intoArray(c, cOff + L);
    c10.intoArray(c, cOff + ldc);
    c11.intoArray(c, cOff + ldc + L);
    c20.intoArray(c, cOff + 2 * ldc);
    c21.intoArray(c, cOff + 2 * ldc + L);
    c30.intoArray(c, cOff + 3 * ldc);
    c31.intoArray(c, cOff + 3 * ldc + L);
    c40.intoArray(c, cOff + 4 * ldc);
    c41.intoArray(c, cOff + 4 * ldc + L);
    c50.intoArray(c, cOff + 5 * ldc);
    c51.intoArray(c, cOff + 5 * ldc + L);
    c60.intoArray(c, cOff + 6 * ldc);
    c61.intoArray(c, cOff + 6 * ldc + L);
    c70.intoArray(c, cOff + 7 * ldc);
    c71.intoArray(c, cOff + 7 * ldc + L);
  }

  // 4 rows × 2 vectors: 8 accumulators, the two weight vectors of step k shared by every row.
  private static void tile4(
      float[] a,
      int b0,
      int b1,
      int b2,
      int b3,
      int[] tapOff,
      int taps,
      int cin,
      float[] panel,
      int panelOff,
      float[] c,
      int cOff,
      int ldc,
      int ncols) {
    FloatVector c00 = FloatVector.zero(S);
    FloatVector c01 = FloatVector.zero(S);
    FloatVector c10 = FloatVector.zero(S);
    FloatVector c11 = FloatVector.zero(S);
    FloatVector c20 = FloatVector.zero(S);
    FloatVector c21 = FloatVector.zero(S);
    FloatVector c30 = FloatVector.zero(S);
    FloatVector c31 = FloatVector.zero(S);
    int k = panelOff;
    for (int t = 0; t < taps; t++) {
      int o = tapOff[t];
      int a0 = b0 + o;
      int a1 = b1 + o;
      int a2 = b2 + o;
      int a3 = b3 + o;
      for (int ic = 0; ic < cin; ic++, k += NR) {
        FloatVector w0 = FloatVector.fromArray(S, panel, k);
        FloatVector w1 = FloatVector.fromArray(S, panel, k + L);
        FloatVector x = FloatVector.broadcast(S, a[a0 + ic]);
        c00 = w0.fma(x, c00);
        c01 = w1.fma(x, c01);
        x = FloatVector.broadcast(S, a[a1 + ic]);
        c10 = w0.fma(x, c10);
        c11 = w1.fma(x, c11);
        x = FloatVector.broadcast(S, a[a2 + ic]);
        c20 = w0.fma(x, c20);
        c21 = w1.fma(x, c21);
        x = FloatVector.broadcast(S, a[a3 + ic]);
        c30 = w0.fma(x, c30);
        c31 = w1.fma(x, c31);
      }
    }
    if (ncols == NR) {
      c00.intoArray(c, cOff);
      c01.intoArray(c, cOff + L);
      c10.intoArray(c, cOff + ldc);
      c11.intoArray(c, cOff + ldc + L);
      c20.intoArray(c, cOff + 2 * ldc);
      c21.intoArray(c, cOff + 2 * ldc + L);
      c30.intoArray(c, cOff + 3 * ldc);
      c31.intoArray(c, cOff + 3 * ldc + L);
    } else {
      VectorMask<Float> m0 = S.indexInRange(0, ncols);
      VectorMask<Float> m1 = S.indexInRange(L, ncols);
      c00.intoArray(c, cOff, m0);
      c01.intoArray(c, cOff + L, m1);
      c10.intoArray(c, cOff + ldc, m0);
      c11.intoArray(c, cOff + ldc + L, m1);
      c20.intoArray(c, cOff + 2 * ldc, m0);
      c21.intoArray(c, cOff + 2 * ldc + L, m1);
      c30.intoArray(c, cOff + 3 * ldc, m0);
      c31.intoArray(c, cOff + 3 * ldc + L, m1);
    }
  }

  // 1 rows × 2 vectors: 2 accumulators, the two weight vectors of step k shared by every row.
  private static void tile1(
      float[] a,
      int b0,
      int[] tapOff,
      int taps,
      int cin,
      float[] panel,
      int panelOff,
      float[] c,
      int cOff,
      int ldc,
      int ncols) {
    FloatVector c00 = FloatVector.zero(S);
    FloatVector c01 = FloatVector.zero(S);
    int k = panelOff;
    for (int t = 0; t < taps; t++) {
      int o = tapOff[t];
      int a0 = b0 + o;
      for (int ic = 0; ic < cin; ic++, k += NR) {
        FloatVector w0 = FloatVector.fromArray(S, panel, k);
        FloatVector w1 = FloatVector.fromArray(S, panel, k + L);
        FloatVector x = FloatVector.broadcast(S, a[a0 + ic]);
        c00 = w0.fma(x, c00);
        c01 = w1.fma(x, c01);
      }
    }
    if (ncols == NR) {
      c00.intoArray(c, cOff);
      c01.intoArray(c, cOff + L);
    } else {
      VectorMask<Float> m0 = S.indexInRange(0, ncols);
      VectorMask<Float> m1 = S.indexInRange(L, ncols);
      c00.intoArray(c, cOff, m0);
      c01.intoArray(c, cOff + L, m1);
    }
  }

  @Override
  void depthwise(
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
    VectorDepthwise.run(x, xOff, xStep, xTap, fTap, taps, f, y, yOff, pixels, channels);
  }

  @Override
  void prelu(float[] x, int xOff, float[] alpha, int aOff, float[] y, int yOff, int n) {
    VectorLoops.prelu(x, xOff, alpha, aOff, y, yOff, n);
  }

  @Override
  void leakyRelu(float[] x, int xOff, float alpha, float[] y, int yOff, int n) {
    VectorLoops.leakyRelu(x, xOff, alpha, y, yOff, n);
  }

  @Override
  void maxInto(float[] x, int xOff, float[] y, int yOff, int n) {
    VectorLoops.maxInto(x, xOff, y, yOff, n);
  }

  @Override
  void epilogue(
      float[] y,
      int off,
      int n,
      float[] bias,
      int c0,
      float[] addend,
      int act,
      float[] alpha,
      float leaky) {
    VectorLoops.epilogue(y, off, n, bias, c0, addend, act, alpha, leaky);
  }

  @Override
  void epilogueRows(
      float[] y,
      int off,
      int ldc,
      int rows,
      int n,
      float[] bias,
      int c0,
      float[] addend,
      int act,
      float[] alpha,
      float leaky) {
    if (bias != null && addend == null && (act == NONE || act == RELU || act == RELU6)) {
      VectorLoops.biasRows(y, off, ldc, rows, n, bias, c0, act != NONE, act == RELU6);
      return;
    }
    for (int r = 0; r < rows; r++) {
      VectorLoops.epilogue(y, off + r * ldc, n, bias, c0, addend, act, alpha, leaky);
    }
  }
}
