package org.tfport.runtime.ops;

import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.RunContext;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.FixedPoint.Multiplier;
import org.tfport.runtime.ops.QuantizedConvOps.Quant;

/**
 * Optimized 8-bit (int8 and uint8) TFLite convolutions and dense layers: the weights widened once
 * at bind time with their zero points subtracted and packed into the integer micro-kernel's panels,
 * with −(input zero point)·Σw per output channel folded into the bias, so the micro-kernels
 * multiply the input's stored codes (bordered by the zero point where windows reach past the image:
 * those taps then add nothing, as TFLite's skipped taps), int32 accumulation, and the
 * requantization and activation clamp fused per finished row ({@link Requantizer}). Results are
 * bit-identical to {@link QuantizedConvOps}, which runs whatever this does not cover: 16x8 models,
 * weights that arrive at run time, grouped filters, depthwise multipliers above 1, and every
 * malformed case (so errors keep the reference kernel's wording).
 */
final class FastQuantizedOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.optimized("TfliteQuantizedConv2D", b -> bindConv(b, false));
    r.optimized("TfliteQuantizedDepthwiseConv2D", b -> bindConv(b, true));
    r.optimized("TfliteQuantizedFullyConnected", FastQuantizedOps::bindFullyConnected);
  }

  /** The 8-bit weights, or null when they are not a constant of the expected rank. */
  private static Value constantBytes(BindContext b, int rank) {
    Value f = b.constantInput(1);
    if (f == null
        || f.rank() != rank
        || (f.dtype() != DType.INT8 && f.dtype() != DType.UINT8)
        || f.size() == 0) {
      return null;
    }
    return f;
  }

  /** The weights as ints with each output channel's zero point subtracted; channel = row. */
  private static int[] centeredRows(Value f, int[] wOff, int rows) {
    int[] w = FixedPoint.widen(f);
    int cols = w.length / rows;
    for (int r = 0; r < rows; r++) {
      int off = wOff[r];
      for (int i = r * cols; i < (r + 1) * cols; i++) {
        w[i] += off;
      }
    }
    return w;
  }

  // -------------------------------------------------------------------------------------------
  // conv

  private static Kernel bindConv(BindContext b, boolean depthwise) {
    Kernel reference = QuantizedConvOps.bindConv(b, depthwise);
    try {
      DType t = QuantizedConvOps.activationType(b);
      Value f = constantBytes(b, 4);
      if (t == DType.INT16 || f == null) {
        return reference;
      }
      Quant in = Quant.of(b, "input");
      Quant out = Quant.of(b, "output");
      int oc = (int) f.dim(depthwise ? 3 : 0);
      Multiplier[] multipliers = QuantizedConvOps.multipliers(b, in, out, oc);
      int[] range = QuantizedConvOps.range(b, t, out);
      NarrowRequantizer rq = NarrowRequantizer.of(multipliers, out.zeroPoint(), range);
      int[] wOff = QuantizedConvOps.filterOffsets(b, oc);
      IntMicrokernel mk = IntMicrokernel.chosen();
      Geometry g =
          new Geometry(
              QuantizedConvOps.hw(b, "strides"),
              QuantizedConvOps.hw(b, "dilations"),
              QuantizedConvOps.same(b),
              (int) f.dim(1),
              (int) f.dim(2),
              in.zeroPoint());
      if (depthwise) {
        if (f.dim(0) != 1 || b.intAttr("depth_multiplier", 0) > 1) {
          return reference;
        }
        // [1, kh, kw, oc]: tap-major rows of oc weights, each column shifted by its zero point.
        int[] w = FixedPoint.widen(f);
        for (int i = 0; i < w.length; i++) {
          w[i] += wOff[i % oc];
        }
        int[] zp = zeroPointTerms(w, oc, in.zeroPoint(), true);
        // Stride 1 along the width with channels that divide a vector: pixels packed per vector.
        int[] repeated =
            mk instanceof ScalarIntMicrokernel
                    || g.stride()[1] != 1
                    || !VectorNarrowDepthwise.packs(oc, mk.lanes())
                ? null
                : VectorNarrowDepthwise.repeatTaps(w, w.length / oc, oc, mk.lanes());
        w = java.util.Arrays.copyOf(w, w.length + IntMicrokernel.SLACK);
        return new Depthwise(reference, t, g, oc, w, repeated, zp, rq, mk)::run;
      }
      int k = reduction(f);
      Requantizer plain = rq.rq();
      int[] w = centeredRows(f, wOff, oc);
      int[] zp = zeroPointTerms(w, oc, in.zeroPoint(), false);
      // Few output channels and more than one tap (1×1 layers are plain GEMMs, kept as they are).
      if (oc <= FloatExactConv.NARROW
          && k > f.dim(3)
          && !(mk instanceof ScalarIntMicrokernel)
          && FloatExactConv.exact(w, oc, false, FloatExactConv.maxCode(t))) {
        Microkernel fmk = FastKernels.microkernel();
        Gemm.Packed packed = Gemm.pack(FloatExactConv.floats(w), 0, k, oc, true, fmk.nr());
        return new FloatExactConv.Conv(reference, t, g, oc, (int) f.dim(3), packed, fmk, mk, zp, rq)
            ::run;
      }
      return new Conv(
              reference, t, g, oc, (int) f.dim(3), PackedGemm.of(w, oc, k, t, mk), zp, plain)
          ::run;
    } catch (KernelException e) {
      return reference; // its own words, when it runs
    }
  }

  /** Taps × input channels of an OHWI filter. */
  private static int reduction(Value f) {
    return Math.toIntExact(f.dim(1) * f.dim(2) * f.dim(3));
  }

  /** Strides, dilations, padding and window of a convolution; the input's zero point. */
  record Geometry(int[] stride, int[] dilation, boolean same, int kh, int kw, int inZeroPoint) {
    int outHeight(int h) {
      return QuantizedConvOps.outSize(same, h, kh, stride[0], dilation[0]);
    }

    int outWidth(int w) {
      return QuantizedConvOps.outSize(same, w, kw, stride[1], dilation[1]);
    }
  }

  /**
   * The input's bytes inside a border of its zero point wide enough that every tap of every output
   * window falls in it (a border tap then adds (zero point − zero point)·w = 0, as TFLite's skipped
   * taps do); the input itself when no window reaches past it.
   */
  record Padded(byte[] data, int height, int width) {
    /**
     * {@code slack} zero bytes follow the last pixel (a copy is made for them). A copy is {@code
     * ctx}'s scratch, to {@link #giveBack} once the op is done.
     */
    static Padded of(Value x, Geometry g, int oh, int ow, int slack, RunContext ctx) {
      int n = (int) x.dim(0);
      int h = (int) x.dim(1);
      int w = (int) x.dim(2);
      int c = (int) x.dim(3);
      int top = QuantizedConvOps.padBefore(g.same(), h, oh, g.kh(), g.stride()[0], g.dilation()[0]);
      int left =
          QuantizedConvOps.padBefore(g.same(), w, ow, g.kw(), g.stride()[1], g.dilation()[1]);
      int hp = Math.max(h + top, (oh - 1) * g.stride()[0] + (g.kh() - 1) * g.dilation()[0] + 1);
      int wp = Math.max(w + left, (ow - 1) * g.stride()[1] + (g.kw() - 1) * g.dilation()[1] + 1);
      byte[] src = x.bytes();
      if (top == 0 && left == 0 && hp == h && wp == w && slack == 0) {
        return new Padded(src, h, w);
      }
      int size = Math.multiplyExact(Math.multiplyExact(n * hp, wp), c);
      byte[] p = ctx.bytes(Math.addExact(size, slack));
      java.util.Arrays.fill(p, 0, size, (byte) g.inZeroPoint());
      java.util.Arrays.fill(p, size, p.length, (byte) 0);
      int rowLength = w * c;
      for (int b = 0; b < n; b++) {
        for (int y = 0; y < h; y++) {
          System.arraycopy(
              src, (b * h + y) * rowLength, p, ((b * hp + y + top) * wp + left) * c, rowLength);
        }
      }
      return new Padded(p, hp, wp);
    }

    /** Returns a copy's buffer to {@code ctx} ({@code x} is the input it was made from). */
    void giveBack(Value x, RunContext ctx) {
      if (data != x.data()) {
        ctx.giveBack(data);
      }
    }

    /** Offsets of the window's taps from its first cell, row-major over (ky, kx). */
    int[] taps(Geometry g, int c) {
      int[] off = new int[g.kh() * g.kw()];
      for (int ky = 0; ky < g.kh(); ky++) {
        for (int kx = 0; kx < g.kw(); kx++) {
          off[ky * g.kw() + kx] = (ky * g.dilation()[0] * width + kx * g.dilation()[1]) * c;
        }
      }
      return off;
    }
  }

  /** 0xff for uint8 codes, −1 (sign extension) for int8. */
  static int mask(DType t) {
    return t == DType.UINT8 ? 0xff : -1;
  }

  /**
   * −zero point · Σ w per output channel: what the input zero point contributes to each
   * accumulator, folded into the bias so that the products take the stored codes.
   */
  private static int[] zeroPointTerms(int[] w, int channels, int zeroPoint, boolean channelsLast) {
    int[] sum = new int[channels];
    int per = w.length / channels;
    for (int i = 0; i < w.length; i++) {
      sum[channelsLast ? i % channels : i / per] += w[i];
    }
    for (int c = 0; c < channels; c++) {
      sum[c] *= -zeroPoint;
    }
    return sum;
  }

  /** The int32 bias plus the zero-point terms. */
  static int[] bias(Value[] ins, int biasInput, int[] zeroPointTerms) {
    int oc = zeroPointTerms.length;
    int[] b =
        Requantizer.bias(FixedPoint.bias(ins.length > biasInput ? ins[biasInput] : null, oc), oc);
    for (int c = 0; c < oc; c++) {
      b[c] += zeroPointTerms[c];
    }
    return b;
  }

  static boolean fits(Value x, DType t) {
    return x.dtype() == t && x.rank() == 4 && x.dim(1) > 0 && x.dim(2) > 0 && x.dim(3) > 0;
  }

  /**
   * The packed weights of a convolution or dense layer and the GEMM that runs them: exact float
   * FMAs ({@link FloatExactIntGemm}) with the Vector API where they pay, the integer micro-kernel's
   * otherwise. The float path saves an instruction per multiply-add but costs a float copy of the
   * input (amortized over the output channels) and a conversion per accumulator (amortized over the
   * reduction): measured per layer on MobileNet V2's shapes (AVX-512), it won 6-24 % where 1/k +
   * 1/n ≤ 1/32 (k = 64, n = 384; k = 576, n = 96; k = 160, n = 960) and lost up to 20 % on narrow
   * or short layers (k = 24, n = 144; k = 144, n = 24).
   */
  private record PackedGemm(IntMicrokernel mk, int[] packed, float[] floatPacked, int chunk) {
    static PackedGemm of(int[] w, int n, int k, DType t, IntMicrokernel mk) {
      if (mk instanceof ScalarIntMicrokernel || 32L * (k + n) > (long) k * n) {
        return new PackedGemm(mk, IntMicrokernel.pack(w, n, k, mk.nr()), null, 0);
      }
      int maxCode = t == DType.UINT8 ? 255 : 128;
      return new PackedGemm(
          mk, null, FloatExactIntGemm.pack(w, n, k), FloatExactIntGemm.chunk(w, n, k, maxCode));
    }

    int mr() {
      return packed != null ? mk.mr() : FloatExactIntGemm.MR;
    }

    int nr() {
      return packed != null ? mk.nr() : FloatExactIntGemm.NR;
    }

    /** The input as the GEMM reads it: the bytes, or their codes as floats. */
    Object input(byte[] a, int mask, RunContext ctx) {
      if (packed != null) {
        return a;
      }
      float[] f = FastKernels.floats(ctx, a.length);
      FloatExactIntGemm.widen(a, mask, f);
      return f;
    }

    void release(Object input, RunContext ctx) {
      if (input instanceof float[] f) {
        FastKernels.giveBack(ctx, f);
      }
    }

    void block(
        Object a,
        int mask,
        int[] base,
        int rows,
        int[] tapOff,
        int taps,
        int cin,
        int panels,
        int[] acc,
        int ldc) {
      if (packed != null) {
        mk.block((byte[]) a, mask, base, rows, tapOff, taps, cin, packed, panels, acc, ldc);
      } else {
        FloatExactIntGemm.block(
            (float[]) a, base, rows, tapOff, taps, cin, floatPacked, panels, chunk, acc, ldc);
      }
    }
  }

  private record Conv(
      Kernel reference,
      DType t,
      Geometry g,
      int oc,
      int cin,
      PackedGemm gemm,
      int[] zeroPointTerms,
      Requantizer rq) {
    Value[] run(Value[] ins, RunContext ctx) {
      Value x = ins[0];
      if (!fits(x, t) || x.dim(3) != cin || ins[1].rank() != 4 || ins[1].dim(0) != oc) {
        return reference.run(ins, ctx);
      }
      int[] bias = bias(ins, 2, zeroPointTerms);
      int n = (int) x.dim(0);
      int oh =
          QuantizedConvOps.outSize(
              g.same(), (int) x.dim(1), g.kh(), g.stride()[0], g.dilation()[0]);
      int ow =
          QuantizedConvOps.outSize(
              g.same(), (int) x.dim(2), g.kw(), g.stride()[1], g.dilation()[1]);
      byte[] y = ctx.bytes(Math.multiplyExact(Math.multiplyExact(n * oh, ow), oc));
      long[] shape = {n, oh, ow, oc};
      if (y.length == 0) {
        return new Value[] {Value.of(t, shape, y)};
      }
      Padded p = Padded.of(x, g, oh, ow, 0, ctx);
      int[] tapOff = p.taps(g, cin);
      int taps = tapOff.length;
      int mr = gemm.mr();
      int nr = gemm.nr();
      int panels = (oc + nr - 1) / nr;
      int ldc = panels * nr;
      int rows = n * oh * ow;
      int blocks = (rows + mr - 1) / mr;
      int sh = g.stride()[0];
      int sw = g.stride()[1];
      int mask = mask(t);
      Object in = gemm.input(p.data(), mask, ctx);
      IntMicrokernel mk = gemm.mk();
      FastKernels.split(
          ctx,
          blocks,
          (long) mr * taps * cin * oc,
          (from, to) -> {
            int[] acc = new int[mr * ldc];
            int[] base = new int[mr];
            for (int blk = from; blk < to; blk++) {
              int r0 = blk * mr;
              int count = Math.min(mr, rows - r0);
              for (int i = 0; i < count; i++) {
                int r = r0 + i;
                int ox = r % ow;
                int oy = r / ow % oh;
                int b = r / (ow * oh);
                base[i] = ((b * p.height() + oy * sh) * p.width() + ox * sw) * cin;
              }
              gemm.block(in, mask, base, count, tapOff, taps, cin, panels, acc, ldc);
              mk.requantizeRows(rq, count, acc, 0, ldc, bias, y, r0 * oc);
            }
          });
      gemm.release(in, ctx);
      p.giveBack(x, ctx);
      return new Value[] {Value.of(t, shape, y)};
    }
  }

  private record Depthwise(
      Kernel reference,
      DType t,
      Geometry g,
      int oc,
      int[] w,
      int[] repeated,
      int[] zeroPointTerms,
      NarrowRequantizer rq,
      IntMicrokernel mk) {
    Value[] run(Value[] ins, RunContext ctx) {
      Value x = ins[0];
      if (!fits(x, t) || x.dim(3) != oc || ins[1].rank() != 4 || ins[1].dim(3) != oc) {
        return reference.run(ins, ctx);
      }
      int[] bias = bias(ins, 2, zeroPointTerms);
      int[] wideBias = rq.wideBias(bias);
      int mask = mask(t);
      int n = (int) x.dim(0);
      int oh =
          QuantizedConvOps.outSize(
              g.same(), (int) x.dim(1), g.kh(), g.stride()[0], g.dilation()[0]);
      int ow =
          QuantizedConvOps.outSize(
              g.same(), (int) x.dim(2), g.kw(), g.stride()[1], g.dilation()[1]);
      byte[] y = ctx.bytes(Math.multiplyExact(Math.multiplyExact(n * oh, ow), oc));
      long[] shape = {n, oh, ow, oc};
      if (y.length == 0) {
        return new Value[] {Value.of(t, shape, y)};
      }
      Padded p = Padded.of(x, g, oh, ow, oc % mk.lanes() == 0 ? 0 : IntMicrokernel.SLACK, ctx);
      int[] xTap = p.taps(g, oc);
      int taps = xTap.length;
      int[] fTap = new int[taps];
      for (int i = 0; i < taps; i++) {
        fTap[i] = i * oc;
      }
      int sh = g.stride()[0];
      int sw = g.stride()[1];
      FastKernels.split(
          ctx,
          n * oh,
          (long) ow * taps * oc,
          (from, to) -> {
            int[] acc = new int[ow * oc + IntMicrokernel.SLACK];
            for (int row = from; row < to; row++) {
              int b = row / oh;
              int oy = row % oh;
              int xOff = (b * p.height() + oy * sh) * p.width() * oc;
              if (repeated != null) {
                VectorNarrowDepthwise.bytes(
                    p.data(), mask, xOff, xTap, taps, repeated, acc, ow, oc);
              } else {
                mk.depthwise(p.data(), mask, xOff, sw * oc, xTap, fTap, taps, w, acc, ow, oc);
              }
              rq.rows(mk, ow, acc, bias, wideBias, y, row * ow * oc);
            }
          });
      p.giveBack(x, ctx);
      return new Value[] {Value.of(t, shape, y)};
    }
  }

  // -------------------------------------------------------------------------------------------
  // dense

  private static Kernel bindFullyConnected(BindContext b) {
    Kernel reference = QuantizedConvOps.bindFullyConnected(b);
    try {
      DType t = QuantizedConvOps.activationType(b);
      Value f = constantBytes(b, 2);
      if (t == DType.INT16 || f == null) {
        return reference;
      }
      Quant in = Quant.of(b, "input");
      Quant out = Quant.of(b, "output");
      int units = (int) f.dim(0);
      int depth = (int) f.dim(1);
      Multiplier[] m = QuantizedConvOps.multipliers(b, in, out, units);
      Requantizer rq = Requantizer.of(m, out.zeroPoint(), QuantizedConvOps.range(b, t, out));
      IntMicrokernel mk = IntMicrokernel.chosen();
      int[] wOff = QuantizedConvOps.filterOffsets(b, units);
      int[] w = centeredRows(f, wOff, units);
      int[] zp = zeroPointTerms(w, units, in.zeroPoint(), false);
      boolean keepDims = b.boolAttr("keep_num_dims", false);
      PackedGemm gemm = PackedGemm.of(w, units, depth, t, mk);
      return new Dense(reference, t, units, depth, zp, keepDims, gemm, rq)::run;
    } catch (KernelException e) {
      return reference;
    }
  }

  private record Dense(
      Kernel reference,
      DType t,
      int units,
      int depth,
      int[] zeroPointTerms,
      boolean keepDims,
      PackedGemm gemm,
      Requantizer rq) {
    Value[] run(Value[] ins, RunContext ctx) {
      Value x = ins[0];
      if (x.dtype() != t
          || x.size() % depth != 0
          || ins[1].rank() != 2
          || ins[1].dim(0) != units
          || ins[1].dim(1) != depth) {
        return reference.run(ins, ctx);
      }
      int[] bias = bias(ins, 2, zeroPointTerms);
      int rows = x.size() / depth;
      byte[] a = x.bytes();
      int mask = mask(t);
      byte[] y = ctx.bytes(Math.multiplyExact(rows, units));
      int mr = gemm.mr();
      int nr = gemm.nr();
      int panels = (units + nr - 1) / nr;
      int ldc = panels * nr;
      int[] tapOff = {0};
      Object in = gemm.input(a, mask, ctx);
      IntMicrokernel mk = gemm.mk();
      FastKernels.split(
          ctx,
          (rows + mr - 1) / mr,
          (long) mr * depth * units,
          (from, to) -> {
            int[] acc = new int[mr * ldc];
            int[] base = new int[mr];
            for (int blk = from; blk < to; blk++) {
              int r0 = blk * mr;
              int count = Math.min(mr, rows - r0);
              for (int i = 0; i < count; i++) {
                base[i] = (r0 + i) * depth;
              }
              gemm.block(in, mask, base, count, tapOff, 1, depth, panels, acc, ldc);
              mk.requantizeRows(rq, count, acc, 0, ldc, bias, y, r0 * units);
            }
          });
      gemm.release(in, ctx);
      long[] shape;
      if (keepDims) {
        shape = x.shape().clone();
        shape[shape.length - 1] = units;
      } else {
        shape = new long[] {rows, units};
      }
      return new Value[] {Value.of(t, shape, y)};
    }
  }
}
