package org.tfport.runtime.ops;

import org.tfport.runtime.kernel.RunContext;

/**
 * The blocked (indirect) GEMM driver behind the optimized convolutions and matrix products: C = A ×
 * B with B packed into column panels ({@link #pack}) and A read in place through per-row base
 * offsets (a matrix's rows, or the corners of convolution windows), tiled by {@link
 * Microkernel#block}. Work is split across threads by row blocks, or by panels when there are few
 * rows.
 */
final class Gemm {
  /**
   * Panels are grouped so that one group of packed weights stays in the L2 cache while the rows
   * stream by.
   */
  private static final int L2_PANEL_BYTES = 512 * 1024;

  private Gemm() {}

  /**
   * B [k, n] in panels of {@code nr} columns: panel p holds, for each k, columns p·nr ... p·nr+nr−1
   * contiguously (zeros past n), the order in which the micro-kernel reads them.
   */
  record Packed(float[] data, int k, int n, int nr) {
    int panels() {
      return (n + nr - 1) / nr;
    }
  }

  /**
   * Packs B, read at {@code b[off + kk·n + j]}, or at {@code b[off + j·k + kk]} when {@code
   * transposed}.
   */
  static Packed pack(float[] b, int off, int k, int n, boolean transposed, int nr) {
    int panels = (n + nr - 1) / nr;
    float[] data = new float[Math.multiplyExact(Math.multiplyExact(panels, k), nr)];
    int d = 0;
    for (int p = 0; p < panels; p++) {
      int j0 = p * nr;
      int width = Math.min(nr, n - j0);
      for (int kk = 0; kk < k; kk++, d += nr) {
        if (transposed) {
          for (int j = 0; j < width; j++) {
            data[d + j] = b[off + (j0 + j) * k + kk];
          }
        } else {
          System.arraycopy(b, off + kk * n + j0, data, d, width);
        }
      }
    }
    return new Packed(data, k, n, nr);
  }

  /** Where the rows of A start. */
  @FunctionalInterface
  interface Bases {
    /**
     * Writes the base offsets of rows {@code first} ... {@code first + rows − 1} into {@code out}.
     */
    void fill(int first, int rows, int[] out);
  }

  /** A row-major matrix at {@code offset} with rows {@code stride} apart. */
  static Bases rows(int offset, int stride) {
    return (first, rows, out) -> {
      for (int i = 0; i < rows; i++) {
        out[i] = offset + (first + i) * stride;
      }
    };
  }

  /**
   * Computes rows [0, m) of C (at {@code c[cOff + r·n + j]}, n = b.n()) from A through {@code
   * bases}, {@code taps} taps at {@code tapOff} of {@code cin} elements each (taps·cin = b.k()),
   * then applies {@code epilogue} (may be null) to each finished tile.
   */
  static void run(
      RunContext ctx,
      Microkernel mk,
      float[] a,
      Bases bases,
      int m,
      int[] tapOff,
      int taps,
      int cin,
      Packed b,
      float[] c,
      int cOff,
      RowEpilogue epilogue) {
    int mr = mk.mr();
    int panels = b.panels();
    if (m == 0 || panels == 0) {
      return;
    }
    int rowBlocks = (m + mr - 1) / mr;
    int threads = ctx == null ? 1 : ctx.threads();
    if (rowBlocks >= 4 * threads || panels < threads) {
      long work = (long) mr * b.k() * b.n();
      FastKernels.split(
          ctx,
          rowBlocks,
          work,
          (from, to) ->
              block(
                  mk,
                  a,
                  bases,
                  from * mr,
                  Math.min(m, to * mr),
                  tapOff,
                  taps,
                  cin,
                  b,
                  0,
                  panels,
                  c,
                  cOff,
                  epilogue));
    } else {
      long work = (long) m * b.k() * b.nr();
      FastKernels.split(
          ctx,
          panels,
          work,
          (from, to) ->
              block(mk, a, bases, 0, m, tapOff, taps, cin, b, from, to, c, cOff, epilogue));
    }
  }

  private static void block(
      Microkernel mk,
      float[] a,
      Bases bases,
      int r0,
      int r1,
      int[] tapOff,
      int taps,
      int cin,
      Packed b,
      int p0,
      int p1,
      float[] c,
      int cOff,
      RowEpilogue epilogue) {
    int mr = mk.mr();
    int nr = b.nr();
    int k = b.k();
    int n = b.n();
    int[] base = new int[mr];
    int group = (int) Math.max(1, L2_PANEL_BYTES / Math.max(1L, (long) k * nr * Float.BYTES));
    for (int g = p0; g < p1; g += group) {
      int gEnd = Math.min(p1, g + group);
      for (int r = r0; r < r1; r += mr) {
        int rows = Math.min(mr, r1 - r);
        bases.fill(r, rows, base);
        mk.block(a, base, rows, tapOff, taps, cin, b.data(), k, n, g, gEnd, c, cOff + r * n, n);
        if (epilogue != null) {
          int j0 = g * nr;
          int width = Math.min(n, gEnd * nr) - j0;
          epilogue.applyRows(c, cOff + r * n + j0, n, rows, j0, width);
        }
      }
    }
  }
}
