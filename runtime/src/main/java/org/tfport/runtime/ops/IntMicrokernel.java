package org.tfport.runtime.ops;

/**
 * The inner loops of the optimized integer (quantized) kernels, in two implementations chosen at
 * start-up ({@link #chosen()}): Vector API and plain Java. Activations are read as stored, bytes
 * ({@code & mask}: 0xff for uint8, −1 for int8), weights are ints with their zero points already
 * subtracted; the input zero point is the caller's (a per-channel sum of the weights folded into
 * the bias), so a product is one multiply. Accumulators are int32 and wrap exactly as TFLite's do
 * (the sum of a run is the same modulo 2^32 whatever the order), which keeps the results
 * bit-identical to the reference kernels.
 */
abstract class IntMicrokernel {
  /**
   * The integer micro-kernels a kernel bound now uses: the Vector API ones exactly when the float
   * kernels use theirs (the module is present and tests have not forced the scalar path).
   */
  static IntMicrokernel chosen() {
    return FastKernels.microkernel() instanceof VectorMicrokernel
        ? VectorHolder.INSTANCE
        : ScalarIntMicrokernel.INSTANCE;
  }

  // A holder so that VectorIntMicrokernel (and jdk.incubator.vector) is loaded only when needed.
  private static final class VectorHolder {
    static final IntMicrokernel INSTANCE = new VectorIntMicrokernel();
  }

  /** Rows of a full tile (output pixels, or matrix rows). */
  abstract int mr();

  /** Columns of a packed weight panel ({@link #pack}). */
  abstract int nr();

  /**
   * Channels {@link #depthwise} takes at a time: when a row's channels are not a multiple, its
   * input needs {@link #SLACK} bytes after the last pixel.
   */
  abstract int lanes();

  /**
   * Rows {@code i < rows} of an indirect GEMM over all {@code panels} of a packed B ([k, n] in
   * panels of {@link #nr()} columns, zero beyond n): {@code acc[i·ldc + j] = Σ_t Σ_ic (a[base[i] +
   * tapOff[t] + ic] & mask) · B[t·cin + ic, j]} for every column j < panels·nr, with taps·cin = k.
   */
  abstract void block(
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
      int ldc);

  /**
   * Columns of the narrow panels {@link #blockNarrow} runs, for layers of at most that many output
   * channels, where a full panel would multiply mostly zeros; {@link #nr()} when there are none.
   */
  int narrowNr() {
    return nr();
  }

  /** {@link #block} on panels of {@link #narrowNr()} columns. */
  void blockNarrow(
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
    block(a, mask, base, rows, tapOff, taps, cin, packed, panels, acc, ldc);
  }

  /**
   * Slack callers leave after the arrays the vector kernels read a row at a time (acc, bias,
   * depthwise weights and input): a last partial vector may read this far past a row's end.
   */
  static final int SLACK = 64;

  /**
   * A run of depthwise output pixels, channels innermost: {@code acc[q·channels + ch] = Σ_t (x[xOff
   * + q·xStep + xTap[t] + ch] & mask) · f[fTap[t] + ch]} for q < pixels, ch < channels.
   */
  abstract void depthwise(
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
      int channels);

  /**
   * The output stage of one row of channels: {@code y[yOff + ch] = rq(acc[accOff + ch] +
   * bias[ch])}, exactly {@link Requantizer#row}.
   */
  final void requantize(Requantizer rq, int[] acc, int accOff, int[] bias, byte[] y, int yOff) {
    requantize(rq, rq.channels(), acc, accOff, bias, y, yOff);
  }

  /**
   * {@link #requantize} of {@code rows} rows of rq's channels: row i from {@code acc[accOff +
   * i·accStride]} into {@code y[yOff + i·channels]}, the output rows contiguous.
   */
  void requantizeRows(
      Requantizer rq,
      int rows,
      int[] acc,
      int accOff,
      int accStride,
      int[] bias,
      byte[] y,
      int yOff) {
    int n = rq.channels();
    for (int i = 0; i < rows; i++) {
      requantize(rq, n, acc, accOff + i * accStride, bias, y, yOff + i * n);
    }
  }

  /** As the above for the first {@code channels} of rq's channels only. */
  abstract void requantize(
      Requantizer rq, int channels, int[] acc, int accOff, int[] bias, byte[] y, int yOff);

  /**
   * Packs weights given per output column ({@code w[j·k + kk]} is B[kk, j]) into panels of {@code
   * nr} columns: {@code packed[(p·k + kk)·nr + jj] = B[kk, p·nr + jj]}, zero past n.
   */
  static int[] pack(int[] w, int n, int k, int nr) {
    int panels = (n + nr - 1) / nr;
    int[] packed = new int[Math.multiplyExact(Math.multiplyExact(panels, k), nr)];
    for (int j = 0; j < n; j++) {
      int p = j / nr;
      int jj = j % nr;
      int src = j * k;
      int dst = p * k * nr + jj;
      for (int kk = 0; kk < k; kk++) {
        packed[dst + kk * nr] = w[src + kk];
      }
    }
    return packed;
  }
}
