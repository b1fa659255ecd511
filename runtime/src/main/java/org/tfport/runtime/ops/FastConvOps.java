package org.tfport.runtime.ops;

import java.util.Arrays;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.RunContext;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.Windows.Axis;
import org.tfport.runtime.ops.Windows.Grid;

/**
 * Optimized float32 NHWC convolutions: Conv2D and _FusedConv2D as an indirect GEMM over the
 * (zero-padded) input with the filter packed once at bind time when it is a constant (a 1×1
 * stride-1 convolution is a plain GEMM over [N·H·W, Cin] × [Cin, Cout]); DepthwiseConv2dNative and
 * FusedDepthwiseConv2dNative vectorized across channels. Fused bias and activation are applied per
 * finished tile. Everything else (float64, NCHW, grouped filters) runs the reference kernel of
 * {@link ConvOps}, bound alongside.
 */
final class FastConvOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.optimized("Conv2D", b -> bind(b, false, false));
    r.optimized("_FusedConv2D", b -> bind(b, false, true));
    r.optimized("DepthwiseConv2dNative", b -> bind(b, true, false));
    r.optimized("FusedDepthwiseConv2dNative", b -> bind(b, true, true));
  }

  private static Kernel bind(BindContext b, boolean depthwise, boolean fused) {
    Kernel reference = ConvOps.bind(b, 2, depthwise, fused);
    ConvOps.Spec spec = ConvOps.Spec.of(b, 2, true);
    if (Reals.type(b, "T", Reals.FLOATS) != DType.FLOAT32 || !spec.format().channelsLast()) {
      return reference;
    }
    FusedEpilogue epilogue = fused ? FusedEpilogue.of(b, 2, DType.FLOAT32) : null;
    Microkernel mk = FastKernels.microkernel();
    Value filter = b.constantInput(1);
    if (filter != null && (filter.dtype() != DType.FLOAT32 || filter.rank() != 4)) {
      filter = null;
    }
    if (depthwise) {
      return new Depthwise(reference, spec, epilogue, mk)::run;
    }
    long[] x = b.inputShape(0);
    if (filter != null && x != null && x.length == 4 && x[3] >= 0 && x[3] != filter.dim(2)) {
      filter = null; // grouped: the reference kernel runs it, from the plan's filter
    }
    if (filter == null) {
      return new Conv(reference, spec, epilogue, mk, null, null)::run;
    }
    // The packed copy is the only one kept: the plan drops its value, the fallback unpacks.
    b.keepsConstant(1);
    return new Conv(reference, spec, epilogue, mk, filter.shape(), packFilter(filter, mk))::run;
  }

  // The filter [kh, kw, cin, cout] is a [kh·kw·cin, cout] matrix in the order the taps are visited.
  private static Gemm.Packed packFilter(Value filter, Microkernel mk) {
    int k = Math.toIntExact(filter.dim(0) * filter.dim(1) * filter.dim(2));
    return Gemm.pack(filter.floats(), 0, k, Math.toIntExact(filter.dim(3)), false, mk.nr());
  }

  /** The input zero-padded so that every window tap of every output falls inside it. */
  private record Padded(float[] data, int height, int width, int top, int left) {
    /**
     * The padded input in a buffer from {@code ctx}'s arena (give it back after use when it is not
     * {@code x}); only the padding is zeroed, the rest is copied over.
     */
    static Padded of(RunContext ctx, float[] x, Grid g, Axis ah, Axis aw) {
      int top = ah.padBefore();
      int left = aw.padBefore();
      int bottom =
          Math.max(
              0,
              (ah.out() - 1) * ah.stride()
                  + (ah.window() - 1) * ah.dilation()
                  + 1
                  - top
                  - g.height());
      int right =
          Math.max(
              0,
              (aw.out() - 1) * aw.stride()
                  + (aw.window() - 1) * aw.dilation()
                  + 1
                  - left
                  - g.width());
      if (top == 0 && left == 0 && bottom == 0 && right == 0) {
        return new Padded(x, g.height(), g.width(), 0, 0);
      }
      int hp = g.height() + top + bottom;
      int wp = g.width() + left + right;
      int c = g.channels();
      float[] p =
          FastKernels.floats(ctx, Math.multiplyExact(Math.multiplyExact(g.batch() * hp, wp), c));
      int rowLength = g.width() * c;
      int paddedRow = wp * c;
      for (int n = 0; n < g.batch(); n++) {
        int image = n * hp * paddedRow;
        Arrays.fill(p, image, image + top * paddedRow, 0f);
        for (int h = 0; h < g.height(); h++) {
          int row = image + (h + top) * paddedRow;
          Arrays.fill(p, row, row + left * c, 0f);
          System.arraycopy(x, (n * g.height() + h) * rowLength, p, row + left * c, rowLength);
          Arrays.fill(p, row + left * c + rowLength, row + paddedRow, 0f);
        }
        Arrays.fill(p, image + (g.height() + top) * paddedRow, image + hp * paddedRow, 0f);
      }
      return new Padded(p, hp, wp, top, left);
    }
  }

  /**
   * A Conv2D; when its filter is a plan constant, {@code filterShape} and {@code packed} are all
   * that is kept of it and the plan passes null for it (or that constant, when another reader needs
   * its value).
   */
  private record Conv(
      Kernel reference,
      ConvOps.Spec spec,
      FusedEpilogue epilogue,
      Microkernel mk,
      long[] filterShape,
      Gemm.Packed packed) {
    Value[] run(Value[] in, RunContext ctx) {
      Value x = in[0];
      Value f = in[1];
      long[] fs = f == null ? filterShape : f.shape();
      if (x.dtype() != DType.FLOAT32
          || f != null && f.dtype() != DType.FLOAT32
          || x.rank() != 4
          || fs.length != 4
          || fs[2] != x.dim(3)
          || fs[2] == 0) {
        // Grouped, or an error the reference kernel words: it reads the filter itself.
        Value[] args = in.clone();
        if (f == null) {
          args[1] = Value.of(DType.FLOAT32, filterShape, Gemm.unpack(packed));
        }
        return reference.run(args, ctx);
      }
      Grid g = Grid.of(x.shape(), spec.format(), "input");
      int[] window = {1, Math.toIntExact(fs[0]), Math.toIntExact(fs[1])};
      Axis[] axes = spec.axes(g, window);
      int cout = Math.toIntExact(fs[3]);
      Grid og = g.windowed(axes, cout);
      long[] shape = og.shape(spec.format());
      float[] y = FastKernels.floats(ctx, og.size());
      RowEpilogue rows = epilogue == null ? null : RowEpilogue.of(epilogue, in, shape, cout, mk);
      if (y.length > 0) {
        // A filter packed at bind is a plan constant: the plan passes it, or null when no other
        // reader needs its value, never another tensor.
        Gemm.Packed p = packed != null ? packed : packFilter(f, mk);
        Axis ah = axes[1];
        Axis aw = axes[2];
        int c = g.channels();
        Padded xp = Padded.of(ctx, x.floats(), g, ah, aw);
        boolean pointwise = ah.window() == 1 && aw.window() == 1;
        // Undilated along the width, a window row's taps are one run of kw·c inputs in the padded
        // image, and the filter's rows come in the same order: one tap of kw·c per window row. The
        // sums keep their order; the inner loop runs longer (9 instead of 3 for an RGB 3×3).
        boolean rowTaps = aw.dilation() == 1;
        int taps = rowTaps ? ah.window() : ah.window() * aw.window();
        int tapLength = rowTaps ? aw.window() * c : c;
        int[] tapOff = new int[taps];
        for (int kh = 0; kh < ah.window(); kh++) {
          if (rowTaps) {
            tapOff[kh] = kh * ah.dilation() * xp.width() * c;
            continue;
          }
          for (int kw = 0; kw < aw.window(); kw++) {
            tapOff[kh * aw.window() + kw] =
                (kh * ah.dilation() * xp.width() + kw * aw.dilation()) * c;
          }
        }
        int oh = og.height();
        int ow = og.width();
        int sh = ah.stride();
        int sw = aw.stride();
        int hp = xp.height();
        int wp = xp.width();
        Gemm.Bases bases =
            pointwise && sh == 1 && sw == 1 && xp.data() == x.floats()
                ? Gemm.rows(0, c)
                : (first, count, out) -> {
                  for (int i = 0; i < count; i++) {
                    int pixel = first + i;
                    int n = pixel / (oh * ow);
                    int r = pixel - n * oh * ow;
                    int row = r / ow;
                    out[i] = ((n * hp + row * sh) * wp + (r - row * ow) * sw) * c;
                  }
                };
        Gemm.run(
            ctx,
            mk,
            xp.data(),
            bases,
            og.batch() * oh * ow,
            tapOff,
            taps,
            tapLength,
            p,
            y,
            0,
            rows);
        if (xp.data() != x.floats()) {
          FastKernels.giveBack(ctx, xp.data());
        }
      }
      return new Value[] {finish(y, shape, epilogue, rows, in)};
    }
  }

  /**
   * The output value; when the fused operands were not per-channel, the reference epilogue over all
   * of it.
   */
  static Value finish(
      float[] y, long[] shape, FusedEpilogue epilogue, RowEpilogue rows, Value[] in) {
    Value v = Value.of(DType.FLOAT32, shape, y);
    if (epilogue != null && rows == null) {
      v = epilogue.apply(v, shape.length - 1, in);
    }
    return v;
  }

  private record Depthwise(
      Kernel reference, ConvOps.Spec spec, FusedEpilogue epilogue, Microkernel mk) {
    Value[] run(Value[] in, RunContext ctx) {
      Value x = in[0];
      Value f = in[1];
      if (x.dtype() != DType.FLOAT32
          || f.dtype() != DType.FLOAT32
          || x.rank() != 4
          || f.rank() != 4
          || f.dim(2) != x.dim(3)) {
        return reference.run(in, ctx);
      }
      Grid g = Grid.of(x.shape(), spec.format(), "input");
      int[] window = ConvOps.window(f, 2);
      Axis[] axes = spec.axes(g, window);
      int multiplier = Math.toIntExact(f.dim(3));
      int cout = Math.multiplyExact(g.channels(), multiplier);
      Grid og = g.windowed(axes, cout);
      long[] shape = og.shape(spec.format());
      float[] y = FastKernels.floats(ctx, og.size());
      RowEpilogue rows = epilogue == null ? null : RowEpilogue.of(epilogue, in, shape, cout, mk);
      if (y.length > 0) {
        float[] xs =
            multiplier == 1 ? x.floats() : repeatChannels(x.floats(), g.channels(), multiplier);
        Axis ah = axes[1];
        Axis aw = axes[2];
        int outRows = og.batch() * og.height();
        long work = (long) og.width() * cout * ah.window() * aw.window();
        FastKernels.split(
            ctx,
            outRows,
            work,
            (from, to) -> depthwiseRows(mk, xs, f.floats(), y, g, ah, aw, cout, from, to, rows));
      }
      return new Value[] {finish(y, shape, epilogue, rows, in)};
    }
  }

  // With a channel multiplier, output channel c·m + j reads input channel c: repeat each input
  // channel m times.
  private static float[] repeatChannels(float[] x, int channels, int multiplier) {
    float[] out = new float[Math.multiplyExact(x.length, multiplier)];
    int o = 0;
    for (float v : x) {
      for (int j = 0; j < multiplier; j++) {
        out[o++] = v;
      }
    }
    return out;
  }

  /**
   * Output rows [from, to) (batch × height): taps outside the input are left out, as in the
   * reference. Columns whose window lies inside the input along the width share one tap list and go
   * to the micro-kernel as one run.
   */
  private static void depthwiseRows(
      Microkernel mk,
      float[] x,
      float[] f,
      float[] y,
      Grid g,
      Axis ah,
      Axis aw,
      int cout,
      int from,
      int to,
      RowEpilogue epilogue) {
    int kw = aw.window();
    int[] xTap = new int[ah.window() * kw];
    int[] fTap = new int[xTap.length];
    int ow = aw.out();
    int sw = aw.stride();
    int xStep = sw * cout;
    // Columns [lo, hi) have every width tap inside the input.
    int lo = Math.min(ow, (aw.padBefore() + sw - 1) / sw);
    int span = (kw - 1) * aw.dilation();
    int hiNum = aw.in() - 1 + aw.padBefore() - span;
    int hi = hiNum < 0 ? lo : Math.max(lo, Math.min(ow, hiNum / sw + 1));
    for (int row = from; row < to; row++) {
      int n = row / ah.out();
      int oh = row - n * ah.out();
      int yRow = row * ow * cout;
      int inRow = n * ah.in();
      // Interior columns: relative to the column's first input position, row taps inside the input
      // only.
      int taps = 0;
      for (int kh = 0; kh < ah.window(); kh++) {
        int ih = ah.input(oh, kh);
        if (ih < 0 || ih >= ah.in()) {
          continue;
        }
        for (int k = 0; k < kw; k++) {
          xTap[taps] = (ih * aw.in() + k * aw.dilation()) * cout;
          fTap[taps++] = (kh * kw + k) * cout;
        }
      }
      if (hi > lo) {
        mk.depthwise(
            x,
            (inRow * aw.in() + lo * sw - aw.padBefore()) * cout,
            xStep,
            xTap,
            fTap,
            taps,
            f,
            y,
            yRow + lo * cout,
            hi - lo,
            cout);
      }
      for (int col = 0; col < ow; col++) {
        if (col == lo && hi > lo) {
          col = hi - 1;
          continue;
        }
        int t = 0;
        for (int kh = 0; kh < ah.window(); kh++) {
          int ih = ah.input(oh, kh);
          if (ih < 0 || ih >= ah.in()) {
            continue;
          }
          for (int k = 0; k < kw; k++) {
            int iw = aw.input(col, k);
            if (iw >= 0 && iw < aw.in()) {
              xTap[t] = ((inRow + ih) * aw.in() + iw) * cout;
              fTap[t++] = (kh * kw + k) * cout;
            }
          }
        }
        mk.depthwise(x, 0, 0, xTap, fTap, t, f, y, yRow + col * cout, 1, cout);
      }
      if (epilogue != null) {
        epilogue.applyRows(y, yRow, cout, ow, 0, cout);
      }
    }
  }
}
