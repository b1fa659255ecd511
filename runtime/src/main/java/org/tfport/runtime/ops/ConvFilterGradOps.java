package org.tfport.runtime.ops;

import java.util.Arrays;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.ConvOps.Spec;
import org.tfport.runtime.ops.Windows.Axis;
import org.tfport.runtime.ops.Windows.Format;
import org.tfport.runtime.ops.Windows.Grid;

/**
 * Convolution gradients with respect to the filter, for training (Conv2DBackpropFilter,
 * Conv3DBackpropFilterV2, DepthwiseConv2dNativeBackpropFilter; the input gradients are {@link
 * ConvBackpropOps}). Each visits the forward windows and accumulates products in double, rounding
 * once, so a float32 result is the float nearest the exact sum.
 */
final class ConvFilterGradOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("Conv2DBackpropFilter", b -> filterGrad(b, 2, false));
    r.reference("Conv3DBackpropFilterV2", b -> filterGrad(b, 3, false));
    r.reference("DepthwiseConv2dNativeBackpropFilter", b -> filterGrad(b, 2, true));
  }

  /** (input, filter_sizes, out_backprop) → the gradient of the filter of filter_sizes. */
  static Kernel filterGrad(BindContext b, int spatialRank, boolean depthwise) {
    DType t = Reals.type(b, "T", Reals.FLOATS);
    Spec spec = Spec.of(b, spatialRank, spatialRank == 2);
    if (b.inputCount() != 3) {
      throw new KernelException(b.op() + " takes 3 inputs, not " + b.inputCount());
    }
    Format f = spec.format();
    return (in, ctx) -> {
      Value x = in[0];
      Value dy = in[2];
      ConvOps.checkType(x, t, "input");
      ConvOps.checkType(dy, t, "out_backprop");
      long[] fs = Reals.vector(in[1], "filter_sizes", spatialRank + 2);
      for (long d : fs) {
        if (d < 0) {
          throw new KernelException("filter_sizes " + Arrays.toString(fs) + " has a negative size");
        }
      }
      int[] window = new int[3];
      Arrays.fill(window, 1);
      for (int i = 0; i < spatialRank; i++) {
        window[3 - spatialRank + i] = Math.toIntExact(fs[i]);
      }
      int fin = Math.toIntExact(fs[spatialRank]);
      int fout = Math.toIntExact(fs[spatialRank + 1]);
      Grid ig = Grid.of(x.shape(), f, "input");
      Grid og = Grid.of(dy.shape(), f, "out_backprop");
      int outChannels = depthwise ? fin * fout : fout;
      int groups = depthwise || fin == 0 ? 1 : ig.channels() / fin;
      if ((depthwise ? fin != ig.channels() : fin * groups != ig.channels() || fout % groups != 0)
          || og.channels() != outChannels) {
        throw new KernelException(
            "filter_sizes "
                + Arrays.toString(fs)
                + " does not map input "
                + x
                + " to out_backprop "
                + dy);
      }
      Axis[] axes = spec.axes(ig, window);
      Windows.checkForwardOutput(ig, axes, og, dy, f);
      double[] xs = Reals.read(x);
      double[] g = Reals.read(dy);
      double[] dw = new double[Math.toIntExact(Value.elementCount(fs))];
      int ics = ig.channelStride();
      int ocs = og.channelStride();
      int groupOut = depthwise ? fout : fout / Math.max(groups, 1);
      Windows.forEachOutput(
          ig,
          og,
          axes,
          (tapIn, tapFilter, taps, outBase) -> {
            for (int k = 0; k < taps; k++) {
              int fb = tapFilter[k] * fin * fout;
              if (depthwise) {
                // Filter [taps, channels, multiplier]; output channel c * multiplier + m.
                for (int c = 0; c < fin; c++) {
                  double xv = xs[tapIn[k] + c * ics];
                  for (int m = 0; m < fout; m++) {
                    dw[fb + c * fout + m] += xv * g[outBase + (c * fout + m) * ocs];
                  }
                }
              } else {
                for (int oc = 0; oc < fout; oc++) {
                  double gv = g[outBase + oc * ocs];
                  int xb = tapIn[k] + oc / groupOut * fin * ics;
                  for (int ic = 0; ic < fin; ic++) {
                    dw[fb + ic * fout + oc] += xs[xb + ic * ics] * gv;
                  }
                }
              }
            }
          });
      return new Value[] {Reals.write(t, fs, dw)};
    };
  }
}
