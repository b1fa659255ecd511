package org.tfport.runtime.ops;

import java.util.Arrays;

/**
 * The micro-kernels in plain Java, for JVMs without the Vector API module: the same tiles and
 * packed panels (wider ones, so that the inner loops are long enough for the JIT to vectorize).
 * Products are rounded before they are added, as the reference kernels do.
 */
final class ScalarMicrokernel extends Microkernel {
  static final ScalarMicrokernel INSTANCE = new ScalarMicrokernel();
  private static final int MR = 4;
  private static final int NR = 64;

  private ScalarMicrokernel() {}

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
    for (int p = p0; p < p1; p++) {
      tile(
          a,
          base,
          rows,
          tapOff,
          taps,
          cin,
          packed,
          p * k * NR,
          c,
          cOff + p * NR,
          ldc,
          Math.min(NR, n - p * NR));
    }
  }

  private static void tile(
      float[] a,
      int[] base,
      int rows,
      int[] tapOff,
      int taps,
      int cin,
      float[] panel,
      int panelOff,
      float[] c,
      int cOff,
      int ldc,
      int ncols) {
    // Row by row, each step a saxpy over the panel's columns: a loop the JIT vectorizes (several
    // rows in one loop
    // measured no faster, the JIT cannot tell the rows apart).
    for (int i = 0; i < rows; i++) {
      int row = cOff + i * ldc;
      Arrays.fill(c, row, row + ncols, 0f);
      int k = panelOff;
      for (int t = 0; t < taps; t++) {
        int o = base[i] + tapOff[t];
        for (int ic = 0; ic < cin; ic++, k += NR) {
          float av = a[o + ic];
          for (int j = 0; j < ncols; j++) {
            c[row + j] += av * panel[k + j];
          }
        }
      }
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
    for (int q = 0; q < pixels; q++) {
      int yo = yOff + q * channels;
      Arrays.fill(y, yo, yo + channels, 0f);
      for (int t = 0; t < taps; t++) {
        int xo = xOff + q * xStep + xTap[t];
        int fo = fTap[t];
        for (int ch = 0; ch < channels; ch++) {
          y[yo + ch] += x[xo + ch] * f[fo + ch];
        }
      }
    }
  }

  @Override
  void prelu(float[] x, int xOff, float[] alpha, int aOff, float[] y, int yOff, int n) {
    for (int i = 0; i < n; i++) {
      float v = x[xOff + i];
      y[yOff + i] = v < 0 ? alpha[aOff + i] * v : v;
    }
  }

  @Override
  void leakyRelu(float[] x, int xOff, float alpha, float[] y, int yOff, int n) {
    for (int i = 0; i < n; i++) {
      float v = x[xOff + i];
      y[yOff + i] = v < 0 ? alpha * v : v;
    }
  }

  @Override
  void maxInto(float[] x, int xOff, float[] y, int yOff, int n) {
    for (int i = 0; i < n; i++) {
      float v = x[xOff + i];
      if (v > y[yOff + i]) {
        y[yOff + i] = v;
      }
    }
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
    if (bias != null) {
      for (int i = 0; i < n; i++) {
        y[off + i] += bias[c0 + i];
      }
    }
    if (addend != null) {
      for (int i = off; i < off + n; i++) {
        y[i] += addend[i];
      }
    }
    switch (act) {
      case RELU -> {
        for (int i = off; i < off + n; i++) {
          y[i] = Math.max(y[i], 0f);
        }
      }
      case RELU6 -> {
        for (int i = off; i < off + n; i++) {
          y[i] = Math.min(Math.max(y[i], 0f), 6f);
        }
      }
      case LEAKY_RELU -> leakyRelu(y, off, leaky, y, off, n);
      case PRELU -> prelu(y, off, alpha, c0, y, off, n);
      default -> {}
    }
  }
}
