package org.tfport.runtime.ops;

import java.util.Arrays;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.Windows.Axis;
import org.tfport.runtime.ops.Windows.Format;
import org.tfport.runtime.ops.Windows.Grid;
import org.tfport.runtime.ops.Windows.Padding;

/**
 * Pooling gradients: MaxPoolGrad and MaxPoolGradV2 (the gradient goes to the first maximum of the
 * original input in window order, as TensorFlow's CPU kernel picks it) and AvgPoolGrad (each
 * window's gradient shared equally by its input elements, padding excluded). Accumulated in double,
 * rounded once.
 */
final class PoolGradOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("MaxPoolGrad", b -> bind(b, true, false));
    r.reference("MaxPoolGradV2", b -> bind(b, true, true));
    r.reference("AvgPoolGrad", b -> bind(b, false, false));
  }

  private static Kernel bind(BindContext b, boolean max, boolean windowInputs) {
    DType t = Reals.type(b, "T", Reals.FLOATS);
    Format f = Format.of(b, 2);
    Padding padding = Padding.of(b, b.op().equals("MaxPoolGrad"));
    int[][] pads =
        padding == Padding.EXPLICIT
            ? f.explicitPads(b.intsAttr("explicit_paddings", new long[0]))
            : null;
    int[] fixedWindow = windowInputs ? null : f.spatial("ksize", required(b, "ksize"));
    int[] fixedStrides = windowInputs ? null : f.spatial("strides", required(b, "strides"));
    int gradInput = max ? 2 : 1;
    return (in, ctx) -> {
      int[] window =
          windowInputs ? f.spatial("ksize", Reals.vector(in[3], "ksize", f.rank())) : fixedWindow;
      int[] strides =
          windowInputs
              ? f.spatial("strides", Reals.vector(in[4], "strides", f.rank()))
              : fixedStrides;
      long[] inputShape;
      double[] x = null;
      if (max) {
        ConvOps.checkType(in[0], t, "orig_input");
        inputShape = in[0].shape();
        x = Reals.read(in[0]);
      } else {
        inputShape = Reals.vector(in[0], "orig_input_shape", f.rank());
        for (long d : inputShape) {
          if (d < 0) {
            throw new KernelException(
                "orig_input_shape " + Arrays.toString(inputShape) + " has a negative size");
          }
        }
      }
      Value dy = in[gradInput];
      ConvOps.checkType(dy, t, "grad");
      Grid g = Grid.of(inputShape, f, "orig_input");
      Axis[] axes = Windows.axes(g, window, strides, new int[] {1, 1, 1}, padding, pads);
      Grid og = g.windowed(axes, g.channels());
      if (!Grid.of(dy.shape(), f, "grad").equals(og)) {
        throw new KernelException(
            "grad " + dy + " is not the pooled shape " + Arrays.toString(og.shape(f)));
      }
      double[] dx = new double[g.size()];
      backprop(x, Reals.read(dy), g, og, axes, dx);
      return new Value[] {Reals.write(t, g.shape(f), dx)};
    };
  }

  private static long[] required(BindContext b, String attr) {
    long[] v = b.intsAttr(attr, null);
    if (v == null) {
      throw new KernelException("attribute '" + attr + "' is missing");
    }
    return v;
  }

  /** With {@code x} the max-pool gradient (to each window's first maximum), else the average's. */
  private static void backprop(
      double[] x, double[] dy, Grid in, Grid out, Axis[] axes, double[] dx) {
    int ics = in.channelStride();
    int ocs = out.channelStride();
    Windows.forEachOutput(
        in,
        out,
        axes,
        (tapIn, tapFilter, taps, outBase) -> {
          for (int c = 0; c < out.channels(); c++) {
            double g = dy[outBase + c * ocs];
            if (x == null) {
              for (int k = 0; k < taps; k++) {
                dx[tapIn[k] + c * ics] += g / taps;
              }
              continue;
            }
            int best = -1;
            for (int k = 0; k < taps; k++) {
              int at = tapIn[k] + c * ics;
              if (best < 0 || x[at] > x[best]) {
                best = at;
              }
            }
            if (best >= 0) {
              dx[best] += g;
            }
          }
        });
  }
}
