package org.tfport.runtime.ops;

import java.util.Arrays;
import org.tfport.runtime.kernel.KernelException;

/**
 * NumPy broadcasting of several operands, as rows: the output is walked as runs of its innermost
 * (coalesced) dimension, during which every operand advances by a fixed step of 0 or 1. Adjacent
 * dimensions that every operand either has in full or broadcasts are merged, so same-shape and
 * scalar operands give a single run over the whole output and elementwise loops never compute
 * multi-dimensional indices per element.
 */
final class Broadcast {
  /**
   * One run: output elements {@code out .. out+length-1} read operand k from {@code in[k]} on, by
   * its step.
   */
  @FunctionalInterface
  interface Row {
    void run(int out, int[] in, int length);
  }

  private final long[] shape;
  private final int size;
  private final int[] dims;
  private final int[][] strides;

  private Broadcast(long[] shape, int size, int[] dims, int[][] strides) {
    this.shape = shape;
    this.size = size;
    this.dims = dims;
    this.strides = strides;
  }

  /**
   * The broadcast of {@code shapes}, or a KernelException naming the shapes that do not broadcast.
   */
  static Broadcast of(long[]... shapes) {
    int rank = 0;
    for (long[] s : shapes) {
      rank = Math.max(rank, s.length);
    }
    long[] out = new long[rank];
    Arrays.fill(out, 1);
    for (long[] s : shapes) {
      for (int i = 0; i < s.length; i++) {
        int d = rank - s.length + i;
        if (s[i] != 1) {
          if (out[d] != 1 && out[d] != s[i]) {
            throw new KernelException("Incompatible shapes: " + describe(shapes));
          }
          out[d] = s[i];
        }
      }
    }
    int size = Math.toIntExact(org.tfport.runtime.kernel.Value.elementCount(out));
    int k = shapes.length;
    // Coalesced dimensions, outermost first, with for each operand whether it has the dimension in
    // full.
    int[] dims = new int[rank];
    boolean[][] full = new boolean[k][rank];
    int m = 0;
    for (int d = 0; d < rank; d++) {
      if (out[d] == 1) {
        continue;
      }
      boolean same = m > 0;
      for (int j = 0; j < k; j++) {
        long[] s = shapes[j];
        int i = d - (rank - s.length);
        boolean has = i >= 0 && s[i] == out[d];
        same &= full[j][m - (m > 0 ? 1 : 0)] == has;
        full[j][m] = has;
      }
      if (same) {
        dims[m - 1] *= (int) out[d];
      } else {
        dims[m++] = (int) out[d];
      }
    }
    int[][] strides = new int[k][m];
    for (int j = 0; j < k; j++) {
      int acc = 1;
      for (int d = m - 1; d >= 0; d--) {
        strides[j][d] = full[j][d] ? acc : 0;
        acc *= full[j][d] ? dims[d] : 1;
      }
    }
    return new Broadcast(out, size, Arrays.copyOf(dims, m), strides);
  }

  private static String describe(long[][] shapes) {
    StringBuilder b = new StringBuilder();
    for (long[] s : shapes) {
      b.append(b.isEmpty() ? "" : " vs. ").append(Arrays.toString(s));
    }
    return b.toString();
  }

  /** The output shape (shared; do not modify). */
  long[] shape() {
    return shape;
  }

  int size() {
    return size;
  }

  /**
   * How far operand {@code k} advances per element within a row: 1, or 0 when it is broadcast along
   * it.
   */
  int step(int k) {
    return dims.length == 0 ? 0 : strides[k][dims.length - 1];
  }

  /**
   * Calls {@code row} for every run of the output in order; once in all for same-shape and scalar
   * operands.
   */
  void forEachRow(Row row) {
    if (size == 0) {
      return;
    }
    int k = strides.length;
    int[] in = new int[k];
    if (dims.length <= 1) {
      row.run(0, in, size);
      return;
    }
    int inner = dims[dims.length - 1];
    int outer = dims.length - 1;
    int[] idx = new int[outer];
    for (int out = 0; out < size; out += inner) {
      row.run(out, in, inner);
      for (int d = outer - 1; d >= 0; d--) {
        for (int j = 0; j < k; j++) {
          in[j] += strides[j][d];
        }
        if (++idx[d] < dims[d]) {
          break;
        }
        for (int j = 0; j < k; j++) {
          in[j] -= strides[j][d] * dims[d];
        }
        idx[d] = 0;
      }
    }
  }
}
