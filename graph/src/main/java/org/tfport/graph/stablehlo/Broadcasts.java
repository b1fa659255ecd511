package org.tfport.graph.stablehlo;

/** NumPy-style broadcasting of two static shapes. */
final class Broadcasts {
  private Broadcasts() {}

  static long[] shape(long[] a, long[] b) {
    int r = Math.max(a.length, b.length);
    long[] out = new long[r];
    for (int k = 0; k < r; k++) {
      long x = k - (r - a.length) >= 0 ? a[k - (r - a.length)] : 1;
      long y = k - (r - b.length) >= 0 ? b[k - (r - b.length)] : 1;
      out[k] = x == 1 ? y : x;
    }
    return out;
  }
}
