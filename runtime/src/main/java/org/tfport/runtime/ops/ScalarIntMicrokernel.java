package org.tfport.runtime.ops;

/** The integer micro-kernels in plain Java, for JVMs without the Vector API module. */
final class ScalarIntMicrokernel extends IntMicrokernel {
  static final ScalarIntMicrokernel INSTANCE = new ScalarIntMicrokernel();
  private static final int NR = 8;

  private ScalarIntMicrokernel() {}

  @Override
  int mr() {
    return 4;
  }

  @Override
  int nr() {
    return NR;
  }

  @Override
  int lanes() {
    return 1;
  }

  @Override
  void block(
      byte[] a,
      int mask,
      int[] base,
      int rows,
      int[] tapOff,
      int taps,
      int cin,
      int[] packed,
      int panels,
      int[] acc,
      int ldc) {
    int k = taps * cin;
    int[] sums = new int[NR];
    for (int i = 0; i < rows; i++) {
      for (int p = 0; p < panels; p++) {
        java.util.Arrays.fill(sums, 0);
        int w = p * k * NR;
        for (int t = 0; t < taps; t++) {
          int a0 = base[i] + tapOff[t];
          for (int ic = 0; ic < cin; ic++, w += NR) {
            int x = a[a0 + ic] & mask;
            for (int j = 0; j < NR; j++) {
              sums[j] += x * packed[w + j];
            }
          }
        }
        System.arraycopy(sums, 0, acc, i * ldc + p * NR, NR);
      }
    }
  }

  @Override
  void depthwise(
      byte[] x,
      int mask,
      int xOff,
      int xStep,
      int[] xTap,
      int[] fTap,
      int taps,
      int[] f,
      int[] acc,
      int pixels,
      int channels) {
    for (int q = 0; q < pixels; q++) {
      int xq = xOff + q * xStep;
      int out = q * channels;
      for (int ch = 0; ch < channels; ch++) {
        int s = 0;
        for (int t = 0; t < taps; t++) {
          s += (x[xq + xTap[t] + ch] & mask) * f[fTap[t] + ch];
        }
        acc[out + ch] = s;
      }
    }
  }

  @Override
  void requantize(
      Requantizer rq, int channels, int[] acc, int accOff, int[] bias, byte[] y, int yOff) {
    rq.rowFrom(0, channels, acc, accOff, bias, y, yOff);
  }
}
