package org.tfport.runtime.ops;

import org.tfport.core.DType;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.RunContext;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.FastQuantizedOps.Geometry;
import org.tfport.runtime.ops.FastQuantizedOps.Padded;

/**
 * 8-bit convolutions with few output channels (MobileNet's first layer, 3 → 8 channels) run by the
 * float GEMM on the input's codes. The sums are exact: the codes and the weights (zero points
 * subtracted) are integers, and when every output channel's Σ|w| times the largest code magnitude
 * stays within 2^24 ({@link #exact}) every partial sum is an integer a float holds, so any order of
 * fused multiply-adds gives TFLite's int32 sum. The results then go through the same requantization
 * as the integer path's.
 *
 * <p>Why: the integer micro-kernel multiplies in 32-bit lanes (two instructions a product on
 * AVX-512) across a panel of 32 output channels, so an 8-channel layer used a quarter of each
 * vector; the float micro-kernel has tiles of 8 rows by 8 or 16 columns and one instruction per
 * multiply-add: MobileNet V1 0.25 uint8's first layer took 87-90 % of the CPU time of the integer
 * path (3 JVMs each, 6000 runs, load 10). Depthwise layers stay integer: widening the whole input
 * to floats cost more than the float arithmetic saved (C = 16 to 128: 1.3-2x slower).
 *
 * <p>Only with the Vector API: the scalar kernels keep the integer path.
 */
final class FloatExactConv {
  private static final long EXACT = 1L << 24;

  /** Output channels up to which a (not 1×1) convolution takes the float path. */
  static final int NARROW = 16;

  private FloatExactConv() {}

  /** The largest magnitude of a code of {@code t}. */
  static int maxCode(DType t) {
    return t == DType.UINT8 ? 255 : 128;
  }

  /**
   * Whether every output channel's Σ|w| · maxCode stays within 2^24; {@code w} holds {@code
   * channels} channels, innermost when {@code channelsLast}, else one row each.
   */
  static boolean exact(int[] w, int channels, boolean channelsLast, int maxCode) {
    long[] sum = new long[channels];
    int per = w.length / channels;
    for (int i = 0; i < per * channels; i++) {
      sum[channelsLast ? i % channels : i / per] += Math.abs((long) w[i]);
    }
    for (long s : sum) {
      if (s * maxCode > EXACT) {
        return false;
      }
    }
    return true;
  }

  /** The padded input's codes as floats, in a buffer from the arena (give it back). */
  private static float[] widened(Padded p, int mask, RunContext ctx) {
    float[] f = FastKernels.floats(ctx, p.data().length);
    FloatExactIntGemm.widen(p.data(), mask, f);
    return f;
  }

  /** The float sums as the int32 accumulators they hold exactly. */
  private static void toInts(float[] c, int n, int[] acc) {
    for (int i = 0; i < n; i++) {
      acc[i] = (int) c[i];
    }
  }

  /** Float copies of integer weights. */
  static float[] floats(int[] w) {
    float[] f = new float[w.length];
    for (int i = 0; i < w.length; i++) {
      f[i] = w[i];
    }
    return f;
  }

  /**
   * A convolution of {@code oc} ≤ {@link #NARROW} output channels: the indirect float GEMM over the
   * zero-point-bordered input, in blocks of rows requantized as they finish. {@code packed} is the
   * [kh·kw·cin, oc] filter (OHWI transposed) packed for {@code mk}.
   */
  record Conv(
      Kernel reference,
      DType t,
      Geometry g,
      int oc,
      int cin,
      Gemm.Packed packed,
      Microkernel mk,
      IntMicrokernel imk,
      int[] zeroPointTerms,
      NarrowRequantizer rq) {
    // Rows per block: the block's float and int sums stay in L1.
    private static final int BLOCK = 128;

    Value[] run(Value[] ins, RunContext ctx) {
      Value x = ins[0];
      if (!FastQuantizedOps.fits(x, t)
          || x.dim(3) != cin
          || ins[1].rank() != 4
          || ins[1].dim(0) != oc) {
        return reference.run(ins, ctx);
      }
      int[] bias = FastQuantizedOps.bias(ins, 2, zeroPointTerms);
      int[] wideBias = rq.wideBias(bias);
      int n = (int) x.dim(0);
      int oh = g.outHeight((int) x.dim(1));
      int ow = g.outWidth((int) x.dim(2));
      byte[] y = ctx.bytes(Math.multiplyExact(Math.multiplyExact(n * oh, ow), oc));
      long[] shape = {n, oh, ow, oc};
      if (y.length == 0) {
        return new Value[] {Value.of(t, shape, y)};
      }
      Padded p = Padded.of(x, g, oh, ow, 0, ctx);
      float[] xf = widened(p, FastQuantizedOps.mask(t), ctx);
      p.giveBack(x, ctx);
      // Undilated along the width, a window row is one run of kw·cin codes, in the filter's order.
      boolean rowTaps = g.dilation()[1] == 1;
      int[] tapOff;
      if (rowTaps) {
        tapOff = new int[g.kh()];
        for (int ky = 0; ky < g.kh(); ky++) {
          tapOff[ky] = ky * g.dilation()[0] * p.width() * cin;
        }
      } else {
        tapOff = p.taps(g, cin);
      }
      int tapLength = rowTaps ? g.kw() * cin : cin;
      int taps = tapOff.length;
      int rows = n * oh * ow;
      int hp = p.height();
      int wp = p.width();
      int sh = g.stride()[0];
      int sw = g.stride()[1];
      int blocks = (rows + BLOCK - 1) / BLOCK;
      FastKernels.split(
          ctx,
          blocks,
          (long) BLOCK * packed.k() * oc,
          (from, to) -> {
            float[] c = new float[BLOCK * oc];
            int[] acc = new int[BLOCK * oc + IntMicrokernel.SLACK];
            for (int blk = from; blk < to; blk++) {
              int r0 = blk * BLOCK;
              int count = Math.min(BLOCK, rows - r0);
              Gemm.Bases bases =
                  (first, m, out) -> {
                    for (int i = 0; i < m; i++) {
                      int r = r0 + first + i;
                      int ox = r % ow;
                      int oy = r / ow % oh;
                      int b = r / (ow * oh);
                      out[i] = ((b * hp + oy * sh) * wp + ox * sw) * cin;
                    }
                  };
              Gemm.run(null, mk, xf, bases, count, tapOff, taps, tapLength, packed, c, 0, null);
              toInts(c, count * oc, acc);
              rq.rows(imk, count, acc, bias, wideBias, y, r0 * oc);
            }
          });
      FastKernels.giveBack(ctx, xf);
      return new Value[] {Value.of(t, shape, y)};
    }
  }
}
