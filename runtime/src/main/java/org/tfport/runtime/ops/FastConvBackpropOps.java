package org.tfport.runtime.ops;

import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.RunContext;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.ConvOps.Spec;
import org.tfport.runtime.ops.Windows.Axis;
import org.tfport.runtime.ops.Windows.Format;
import org.tfport.runtime.ops.Windows.Grid;

/**
 * Optimized float32 NHWC convolution gradients (training, and Conv2DTranspose at inference) in
 * im2col form, for any stride, dilation and padding:
 *
 * <ul>
 *   <li>Conv2DBackpropInput: on the GEMM of {@link FastConvOps}, every output position's window
 *       gradient at once, [N·Ho·Wo, Cout] × filterᵀ [Cout, kh·kw·Cin], then each window added back
 *       onto the input positions it read (col2im), image by image across threads.
 *   <li>Conv2DBackpropFilter: the windows' inputs gathered transposed (im2colᵀ [kh·kw·Cin,
 *       N·Ho·Wo]) times out_backprop [N·Ho·Wo, Cout], which is the filter gradient in the filter's
 *       own layout, row by row across threads. It sums over every output position of every image,
 *       so it accumulates in double as the reference does: a float GEMM over 15,680 positions (20
 *       images of 28x28) was 4e-4 off the exactly rounded sum, and 3e-4 with float spans of 256
 *       added in double.
 * </ul>
 *
 * Images are taken in groups so the gathered matrix stays under {@link #GATHER_LIMIT} floats.
 * Everything else (float64, NCHW, grouped filters, bad shapes, whose errors the reference words)
 * runs the reference kernels of {@link ConvBackpropOps} and {@link ConvFilterGradOps}.
 */
final class FastConvBackpropOps implements OpFamily {
  /** Floats of the gathered window matrix per group of images (16 MB). */
  static final int GATHER_LIMIT = 1 << 22;

  @Override
  public void register(KernelRegistry r) {
    r.optimized("Conv2DBackpropInput", FastConvBackpropOps::inputGrad);
    r.optimized("Conv2DBackpropFilter", FastConvBackpropOps::filterGrad);
  }

  /** The window geometry of one call, or null when the reference kernel should run. */
  private record Geometry(Grid in, Grid out, Axis h, Axis w) {
    static Geometry of(Spec spec, long[] inputShape, Value dy, int kh, int kw, int cin, int cout) {
      Format f = spec.format();
      if (inputShape.length != 4 || dy.rank() != 4) {
        return null;
      }
      for (long d : inputShape) {
        if (d < 0 || d > Integer.MAX_VALUE) {
          return null;
        }
      }
      if (inputShape[3] != cin || dy.dim(3) != cout) {
        return null;
      }
      Grid ig = Grid.of(inputShape, f, "input");
      Grid og = Grid.of(dy.shape(), f, "out_backprop");
      Axis[] axes = spec.axes(ig, new int[] {1, kh, kw});
      if (!ig.windowed(axes, cout).equals(og)) {
        return null;
      }
      return new Geometry(ig, og, axes[1], axes[2]);
    }

    int perImage() {
      return out.height() * out.width();
    }

    /** Images per group so that {@code perImage · columns} floats per image fit the limit. */
    int group(int columns) {
      long per = Math.max(1L, (long) perImage() * columns);
      return (int) Math.max(1, Math.min(in.batch(), GATHER_LIMIT / per));
    }
  }

  private static boolean fast(BindContext b, Spec spec) {
    return Reals.type(b, "T", Reals.FLOATS) == DType.FLOAT32 && spec.format().channelsLast();
  }

  private static boolean floats(Value... vs) {
    for (Value v : vs) {
      if (v.dtype() != DType.FLOAT32) {
        return false;
      }
    }
    return true;
  }

  // ------------------------------------------------------------------ input gradient

  private static Kernel inputGrad(BindContext b) {
    Kernel reference = ConvBackpropOps.bind(b, 2);
    Spec spec = Spec.of(b, 2, true);
    if (!fast(b, spec)) {
      return reference;
    }
    Microkernel mk = FastKernels.microkernel();
    return (in, ctx) -> {
      Value filter = in[1];
      Value dy = in[2];
      if (!floats(filter, dy) || filter.rank() != 4 || in[0].rank() != 1 || in[0].size() != 4) {
        return reference.run(in, ctx);
      }
      int kh = Math.toIntExact(filter.dim(0));
      int kw = Math.toIntExact(filter.dim(1));
      int cin = Math.toIntExact(filter.dim(2));
      int cout = Math.toIntExact(filter.dim(3));
      Geometry geo = Geometry.of(spec, in[0].toLongArray(), dy, kh, kw, cin, cout);
      if (geo == null) {
        return reference.run(in, ctx);
      }
      float[] dx = new float[geo.in().size()];
      int k = kh * kw * cin;
      if (dx.length > 0 && dy.size() > 0 && k > 0) {
        inputGrad(ctx, mk, geo, dy.floats(), filter.floats(), k, cout, dx);
      }
      return new Value[] {Value.of(DType.FLOAT32, geo.in().shape(spec.format()), dx)};
    };
  }

  private static void inputGrad(
      RunContext ctx,
      Microkernel mk,
      Geometry geo,
      float[] dy,
      float[] filter,
      int k,
      int cout,
      float[] dx) {
    // filterᵀ: B[oc, j] = filter[j·Cout + oc], j over (kh, kw, cin).
    Gemm.Packed ft = Gemm.pack(filter, 0, cout, k, true, mk.nr());
    int per = geo.perImage();
    int group = geo.group(k);
    float[] cols = new float[Math.multiplyExact(group * per, k)];
    int[] oneTap = {0};
    for (int n0 = 0; n0 < geo.in().batch(); n0 += group) {
      int images = Math.min(group, geo.in().batch() - n0);
      int first = n0;
      Gemm.run(
          ctx,
          mk,
          dy,
          Gemm.rows(n0 * per * cout, cout),
          images * per,
          oneTap,
          1,
          cout,
          ft,
          cols,
          0,
          null);
      FastKernels.split(
          ctx,
          images,
          (long) per * k,
          (from, to) -> {
            for (int i = from; i < to; i++) {
              col2im(geo, cols, i * per * k, dx, first + i);
            }
          });
    }
  }

  /** Adds image {@code n}'s window gradients {@code cols[at ...]} onto the inputs they read. */
  private static void col2im(Geometry geo, float[] cols, int at, float[] dx, int n) {
    Axis ah = geo.h();
    Axis aw = geo.w();
    int cin = geo.in().channels();
    int kh = ah.window();
    int kw = aw.window();
    int width = aw.in();
    int image = n * ah.in();
    int src = at;
    for (int oh = 0; oh < ah.out(); oh++) {
      for (int ow = 0; ow < aw.out(); ow++) {
        for (int r = 0; r < kh; r++) {
          int ih = ah.input(oh, r);
          if (ih < 0 || ih >= ah.in()) {
            src += kw * cin;
            continue;
          }
          for (int c = 0; c < kw; c++, src += cin) {
            int iw = aw.input(ow, c);
            if (iw < 0 || iw >= width) {
              continue;
            }
            int dst = ((image + ih) * width + iw) * cin;
            for (int ch = 0; ch < cin; ch++) {
              dx[dst + ch] += cols[src + ch];
            }
          }
        }
      }
    }
  }

  // ------------------------------------------------------------------ filter gradient

  private static Kernel filterGrad(BindContext b) {
    Kernel reference = ConvFilterGradOps.filterGrad(b, 2, false);
    Spec spec = Spec.of(b, 2, true);
    if (!fast(b, spec)) {
      return reference;
    }
    Microkernel mk = FastKernels.microkernel();
    return (in, ctx) -> {
      Value x = in[0];
      Value dy = in[2];
      if (!floats(x, dy) || in[1].rank() != 1 || in[1].size() != 4 || x.rank() != 4) {
        return reference.run(in, ctx);
      }
      long[] fs = in[1].toLongArray();
      for (long d : fs) {
        if (d < 0 || d > Integer.MAX_VALUE) {
          return reference.run(in, ctx);
        }
      }
      int kh = (int) fs[0];
      int kw = (int) fs[1];
      int cin = (int) fs[2];
      int cout = (int) fs[3];
      Geometry geo = Geometry.of(spec, x.shape(), dy, kh, kw, cin, cout);
      if (geo == null) {
        return reference.run(in, ctx);
      }
      int k = kh * kw * cin;
      float[] df = new float[Math.multiplyExact(k, cout)];
      if (df.length > 0 && dy.size() > 0) {
        filterGrad(ctx, mk, geo, x.floats(), dy.floats(), k, cout, df);
      }
      return new Value[] {Value.of(DType.FLOAT32, fs, df)};
    };
  }

  private static void filterGrad(
      RunContext ctx,
      Microkernel mk,
      Geometry geo,
      float[] x,
      float[] dy,
      int k,
      int cout,
      float[] df) {
    int per = geo.perImage();
    int group = geo.group(k);
    int batch = geo.in().batch();
    float[] gathered = new float[Math.multiplyExact(group * per, k)];
    double[] sum = new double[df.length];
    for (int n0 = 0; n0 < batch; n0 += group) {
      int images = Math.min(group, batch - n0);
      int m = images * per;
      int first = n0;
      int dyOff = n0 * per * cout;
      // Row j = (r, c, ch) of im2colᵀ: the input each output position's tap j reads (0 in the
      // padding), positions of the group's images in order; then row j's products with dy.
      FastKernels.split(
          ctx,
          k,
          (long) m * (cout + 1),
          (from, to) -> {
            gatherRows(geo, x, first, images, from, to, gathered);
            for (int j = from; j < to; j++) {
              accumulate(gathered, j * m, m, dy, dyOff, cout, sum, j * cout);
            }
          });
    }
    for (int i = 0; i < df.length; i++) {
      df[i] = (float) sum[i];
    }
  }

  /** {@code sum[s + oc] += Σ_p a[at + p]·dy[dyOff + p·cout + oc]} over {@code m} positions. */
  private static void accumulate(
      float[] a, int at, int m, float[] dy, int dyOff, int cout, double[] sum, int s) {
    for (int p = 0; p < m; p++) {
      double v = a[at + p];
      if (v == 0) {
        continue; // padding taps
      }
      int d = dyOff + p * cout;
      for (int oc = 0; oc < cout; oc++) {
        sum[s + oc] += v * dy[d + oc];
      }
    }
  }

  private static void gatherRows(
      Geometry geo, float[] x, int n0, int images, int from, int to, float[] out) {
    Axis ah = geo.h();
    Axis aw = geo.w();
    int cin = geo.in().channels();
    int kw = aw.window();
    int m = images * geo.perImage();
    for (int j = from; j < to; j++) {
      int ch = j % cin;
      int c = (j / cin) % kw;
      int r = j / (cin * kw);
      int o = j * m;
      for (int n = n0; n < n0 + images; n++) {
        for (int oh = 0; oh < ah.out(); oh++) {
          int ih = ah.input(oh, r);
          boolean rowIn = ih >= 0 && ih < ah.in();
          int rowBase = ((n * ah.in() + ih) * aw.in()) * cin + ch;
          for (int ow = 0; ow < aw.out(); ow++, o++) {
            int iw = aw.input(ow, c);
            out[o] = rowIn && iw >= 0 && iw < aw.in() ? x[rowBase + iw * cin] : 0f;
          }
        }
      }
    }
  }
}
