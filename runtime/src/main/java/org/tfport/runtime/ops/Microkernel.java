package org.tfport.runtime.ops;

/**
 * The inner loops of the optimized convolution and matrix kernels, in two implementations chosen at
 * start-up ({@link FastKernels#microkernel()}): Vector API and plain Java. Both compute each output
 * element as one accumulator over the reduction index in ascending order, so blocking and thread
 * splits never change a result.
 */
abstract class Microkernel {
  /** Rows of a full tile (output pixels, or matrix rows). */
  abstract int mr();

  /** Columns of a packed weight panel ({@link Gemm#pack}). */
  abstract int nr();

  /**
   * Rows {@code i < rows} of an indirect GEMM over panels [p0, p1) of a packed B ([k, n] in panels
   * of {@link #nr()} columns, {@link Gemm#pack}): for each column j of those panels, {@code c[cOff
   * + i·ldc + j] = Σ_t Σ_ic a[base[i] + tapOff[t] + ic] · B[t·cin + ic, j]} with taps·cin = k. A
   * plain GEMM is one tap at offset 0 with {@code cin} = k; a convolution has one tap per filter
   * position.
   */
  abstract void block(
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
      int ldc);

  /**
   * A run of depthwise output pixels, channels innermost: for pixels {@code q < pixels} and
   * channels {@code ch < channels}, {@code y[yOff + q·channels + ch] = Σ_t x[xOff + q·xStep +
   * xTap[t] + ch] · f[fTap[t] + ch]}.
   */
  abstract void depthwise(
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
      int channels);

  /**
   * {@code y[yOff + i] = x[xOff + i] < 0 ? alpha[aOff + i] · x[xOff + i] : x[xOff + i]} for {@code
   * i < n} (PReLU, and LeakyReLU with every alpha the same); y may be x. Branch-free: with random
   * signs a branch per element mispredicts half the time.
   */
  abstract void prelu(float[] x, int xOff, float[] alpha, int aOff, float[] y, int yOff, int n);

  /**
   * {@code y[yOff + i] = x[xOff + i] < 0 ? alpha · x[xOff + i] : x[xOff + i]} for {@code i < n}.
   */
  abstract void leakyRelu(float[] x, int xOff, float alpha, float[] y, int yOff, int n);

  /**
   * {@code y[yOff + i] = x[xOff + i] > y[yOff + i] ? x[xOff + i] : y[yOff + i]} for {@code i < n}:
   * a running maximum that keeps the earlier value on ties and NaNs, as the reference pooling does.
   */
  abstract void maxInto(float[] x, int xOff, float[] y, int yOff, int n);

  /** Activations {@link #epilogue} applies. */
  static final int NONE = 0;

  static final int RELU = 1;
  static final int RELU6 = 2;
  static final int LEAKY_RELU = 3;
  static final int PRELU = 4;

  /**
   * A contraction's output row in one pass, each stage rounded to float as the unfused ops do: for
   * {@code i < n}, {@code v = y[off + i]}, then {@code v += bias[c0 + i]} (when bias is not null),
   * {@code v += addend[off + i]} (when addend is not null), then the activation {@code act} (PReLU
   * reads {@code alpha[c0 + i]}, LeakyReLU {@code leaky}; ReLU and ReLU6 as {@link Math#max} and
   * {@link Math#min}).
   */
  abstract void epilogue(
      float[] y,
      int off,
      int n,
      float[] bias,
      int c0,
      float[] addend,
      int act,
      float[] alpha,
      float leaky);

  /** {@link #epilogue} on {@code rows} rows {@code ldc} apart from {@code off}. */
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
    for (int r = 0; r < rows; r++) {
      epilogue(y, off + r * ldc, n, bias, c0, addend, act, alpha, leaky);
    }
  }
}
