package org.tfport.runtime.fold;

import org.tfport.graph.optimize.Tensors;

/**
 * The element pairs a broadcasting binary op combines, for checks on each pair before the kernel
 * runs.
 */
final class Pairs {
  private Pairs() {}

  @FunctionalInterface
  interface Test {
    /**
     * Whether the pair of flat indices {@code i} (into the first operand) and {@code j} (the
     * second) is foldable.
     */
    boolean ok(int i, int j);
  }

  /**
   * Declines (see {@link FoldRules#need}) unless every pair of operands of shapes {@code a} and
   * {@code b} passes.
   */
  static void check(long[] a, long[] b, Test test) {
    long[] out = Tensors.broadcastShape(a, b);
    int r = out.length;
    int[] sa = strides(a, r);
    int[] sb = strides(b, r);
    long n = 1;
    for (long d : out) {
      n *= d;
    }
    int[] idx = new int[r];
    int i = 0;
    int j = 0;
    for (long k = 0; k < n; k++) {
      FoldRules.need(test.ok(i, j));
      for (int d = r - 1; d >= 0; d--) {
        i += sa[d];
        j += sb[d];
        if (++idx[d] < out[d]) {
          break;
        }
        i -= sa[d] * idx[d];
        j -= sb[d] * idx[d];
        idx[d] = 0;
      }
    }
  }

  /**
   * Element strides of {@code shape} right-aligned to rank {@code r}, 0 along broadcast (size 1 or
   * absent) axes.
   */
  private static int[] strides(long[] shape, int r) {
    int[] s = new int[r];
    int acc = 1;
    for (int d = shape.length - 1; d >= 0; d--) {
      s[r - shape.length + d] = shape[d] == 1 ? 0 : acc;
      acc *= (int) shape[d];
    }
    return s;
  }
}
