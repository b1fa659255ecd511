package org.tfport.runtime.ops;

import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.Windows.Axis;
import org.tfport.runtime.ops.Windows.Format;
import org.tfport.runtime.ops.Windows.Grid;
import org.tfport.runtime.ops.Windows.Padding;

/**
 * Optimized float32 NHWC MaxPool and AvgPool with SAME or VALID padding: per output pixel, the
 * window's taps inside the input are visited in the reference's order with the channels innermost
 * (a loop the JIT vectorizes) instead of a window walk per channel over a double copy of the input.
 * The arithmetic is the reference's ({@link PoolOps}): the first tap, then any greater one, for the
 * maximum; the average a double sum in tap order divided by the taps inside the input and rounded
 * once; so results are bit for bit the same. Output rows are split over the session's threads, and
 * rows into blocks of channels when there are few rows. Anything else runs the reference kernel,
 * bound alongside.
 */
final class FastPoolOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.optimized("MaxPool", b -> bind(b, true));
    r.optimized("AvgPool", b -> bind(b, false));
  }

  /**
   * What one window tap of a pool costs in the GEMM multiply-adds {@link FastKernels#split}'s
   * floors count: a tap is a load and a max or add with no reuse, measured (FaceMesh, 1 thread) at
   * about an eighth of the GEMM's rate. Counting it as 4 hands the 30 µs max-pools of FaceMesh to
   * the helpers (they ran on the caller only) and keeps the ones of a few µs on the caller.
   */
  static final long POOL_TAP_WORK = 4;

  /** Channels per block when a pool's rows are cut into blocks of channels. */
  private static final int CHANNEL_BLOCK = 64;

  private static Kernel bind(BindContext b, boolean max) {
    Kernel reference = PoolOps.bind(b, 2, max, false);
    Format f = Format.of(b, 2);
    Padding padding = Padding.of(b, b.op().equals("MaxPool"));
    long[] ksize = b.intsAttr("ksize", null);
    long[] strides = b.intsAttr("strides", null);
    if (!f.channelsLast()
        || padding == Padding.EXPLICIT
        || ksize == null
        || strides == null
        || ksize.length != 4
        || strides.length != 4) {
      return reference;
    }
    int[] window = f.spatial("ksize", ksize);
    int[] stride = f.spatial("strides", strides);
    Microkernel mk = FastKernels.microkernel();
    return (in, ctx) -> {
      Value x = in[0];
      if (x.dtype() != DType.FLOAT32 || x.rank() != 4) {
        return reference.run(in, ctx);
      }
      Grid g = Grid.of(x.shape(), f, "input");
      Axis[] axes = Windows.axes(g, window, stride, new int[] {1, 1, 1}, padding, null);
      Grid og = g.windowed(axes, g.channels());
      float[] y = new float[og.size()];
      float[] xs = x.floats();
      int rows = og.batch() * og.height();
      // Too few rows for a few chunks per thread (a global pool has one): each row is cut into
      // blocks of channels too, which are computed alike.
      int threads = ctx == null ? 1 : ctx.threads();
      int blocks =
          threads == 1 || rows >= 4 * threads
              ? 1
              : (og.channels() + CHANNEL_BLOCK - 1) / CHANNEL_BLOCK;
      int width = (og.channels() + blocks - 1) / blocks;
      long work = POOL_TAP_WORK * og.width() * width * window[1] * window[2];
      FastKernels.split(
          ctx,
          rows * blocks,
          work,
          (from, to) -> {
            for (int i = from; i < to; i++) {
              int c0 = i % blocks * width;
              int c1 = Math.min(og.channels(), c0 + width);
              row(mk, xs, g, axes[1], axes[2], max, y, i / blocks, c0, c1);
            }
          });
      return new Value[] {Value.of(DType.FLOAT32, og.shape(f), y)};
    };
  }

  /** Output row {@code row} (batch × height), channels [c0, c1). */
  private static void row(
      Microkernel mk,
      float[] x,
      Grid g,
      Axis ah,
      Axis aw,
      boolean max,
      float[] y,
      int row,
      int c0,
      int c1) {
    int c = g.channels();
    int cn = c1 - c0;
    double[] sum = max ? null : new double[cn];
    int n = row / ah.out();
    int oh = row - n * ah.out();
    for (int ow = 0; ow < aw.out(); ow++) {
      int o = (row * aw.out() + ow) * c + c0;
      int count = 0;
      for (int kh = 0; kh < ah.window(); kh++) {
        int ih = ah.input(oh, kh);
        if (ih < 0 || ih >= ah.in()) {
          continue;
        }
        for (int kw = 0; kw < aw.window(); kw++) {
          int iw = aw.input(ow, kw);
          if (iw < 0 || iw >= aw.in()) {
            continue;
          }
          int at = ((n * ah.in() + ih) * aw.in() + iw) * c + c0;
          if (max) {
            if (count == 0) {
              System.arraycopy(x, at, y, o, cn);
            } else {
              mk.maxInto(x, at, y, o, cn);
            }
          } else if (count == 0) {
            for (int k = 0; k < cn; k++) {
              sum[k] = x[at + k];
            }
          } else {
            for (int k = 0; k < cn; k++) {
              sum[k] += x[at + k];
            }
          }
          count++;
        }
      }
      if (!max) {
        for (int k = 0; k < cn; k++) {
          y[o + k] = (float) (sum[k] / count);
        }
      }
    }
  }
}
