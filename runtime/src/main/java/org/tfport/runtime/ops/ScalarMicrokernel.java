package org.tfport.runtime.ops;

import java.util.Arrays;

/**
 * The micro-kernels in plain Java, for JVMs without the Vector API module: the same tiles and packed panels, with
 * the panel-wide inner loops left for the JIT to vectorize. Products are rounded before they are added, as the
 * reference kernels do.
 */
final class ScalarMicrokernel extends Microkernel {
  static final ScalarMicrokernel INSTANCE = new ScalarMicrokernel();
  private static final int MR = 4;
  private static final int NR = 16;

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
  void tile(float[] a, int[] base, int rows, int[] tapOff, int taps, int cin, float[] panel, int panelOff,
      float[] c, int cOff, int ldc, int ncols) {
    float[] acc = new float[rows * NR];
    int k = panelOff;
    for (int t = 0; t < taps; t++) {
      int o = tapOff[t];
      for (int ic = 0; ic < cin; ic++, k += NR) {
        for (int i = 0; i < rows; i++) {
          float av = a[base[i] + o + ic];
          int ai = i * NR;
          for (int j = 0; j < NR; j++) {
            acc[ai + j] += av * panel[k + j];
          }
        }
      }
    }
    for (int i = 0; i < rows; i++) {
      System.arraycopy(acc, i * NR, c, cOff + i * ldc, ncols);
    }
  }

  @Override
  void depthwise(float[] x, int xOff, int xStep, int[] xTap, int[] fTap, int taps, float[] f, float[] y, int yOff,
      int pixels, int channels) {
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
}
