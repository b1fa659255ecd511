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
import org.tfport.runtime.ops.Windows.PositionKernel;

/**
 * Convolution gradients with respect to the input, which models also use as transposed convolutions
 * (Keras Conv2DTranspose, Conv3DTranspose): Conv2DBackpropInput and Conv3DBackpropInputV2, computed
 * in gather form: each input element sums, over the output positions and taps whose forward window
 * covered it, out_backprop × filter, in tap order then output channel order; and the depthwise
 * convolution's (DepthwiseConv2dNativeBackpropInput), accumulated in double over the forward
 * windows.
 */
final class ConvBackpropOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("Conv2DBackpropInput", b -> bind(b, 2));
    r.reference("Conv3DBackpropInputV2", b -> bind(b, 3));
    r.reference("DepthwiseConv2dNativeBackpropInput", ConvBackpropOps::depthwiseInputGrad);
  }

  static Kernel bind(BindContext b, int spatialRank) {
    DType t = Reals.type(b, "T", Reals.FLOATS);
    Spec spec = Spec.of(b, spatialRank, spatialRank == 2);
    if (b.inputCount() != 3) {
      throw new KernelException(b.op() + " takes 3 inputs, not " + b.inputCount());
    }
    Format f = spec.format();
    return (in, ctx) -> {
      Value filter = in[1];
      Value dy = in[2];
      ConvOps.checkType(filter, t, "filter");
      ConvOps.checkType(dy, t, "out_backprop");
      int[] window = ConvOps.window(filter, spatialRank);
      int channels = Math.toIntExact(filter.dim(spatialRank));
      int fout = Math.toIntExact(filter.dim(spatialRank + 1));
      Grid og = Grid.of(dy.shape(), f, "out_backprop");
      Grid ig = Grid.of(inputShape(in[0], f, og.batch(), channels), f, "input_sizes");
      if (ig.channels() != channels || og.channels() != fout) {
        throw new KernelException(
            "filter "
                + filter
                + " does not map input_sizes "
                + Arrays.toString(ig.shape(f))
                + " to out_backprop "
                + dy);
      }
      Axis[] axes = spec.axes(ig, window);
      Windows.checkForwardOutput(ig, axes, og, dy, f);
      Object dx = t == DType.FLOAT32 ? new float[ig.size()] : new double[ig.size()];
      PositionKernel k =
          t == DType.FLOAT32
              ? gatherFloat(dy.floats(), filter.floats(), (float[]) dx, ig, og)
              : gatherDouble(dy.doubles(), filter.doubles(), (double[]) dx, ig, og);
      Windows.forEachInput(ig, og, axes, k);
      return new Value[] {Value.of(t, ig.shape(f), dx)};
    };
  }

  /**
   * {@code input_sizes}: the full input shape, or only its spatial sizes (batch and depth then
   * follow).
   */
  private static long[] inputShape(Value sizes, Format f, int batch, int channels) {
    long[] s = sizes.toLongArray();
    if (sizes.rank() == 1 && s.length == f.rank()) {
      return s;
    }
    if (sizes.rank() == 1 && s.length == f.spatialRank()) {
      long[] full = new long[f.rank()];
      full[0] = batch;
      full[f.channelAxis()] = channels;
      for (int i = 0; i < s.length; i++) {
        full[f.spatialAxis(i)] = s[i];
      }
      return full;
    }
    throw new KernelException(
        "input_sizes "
            + Arrays.toString(s)
            + " is not a vector of "
            + f.rank()
            + " or "
            + f.spatialRank()
            + " sizes");
  }

  // Filter [taps..., channels, fout]: dx[c] = Σ_taps Σ_oc dy[oc] · filter[tap, c, oc].
  private static PositionKernel gatherFloat(float[] dy, float[] f, float[] dx, Grid in, Grid out) {
    int ics = in.channelStride();
    int ocs = out.channelStride();
    int channels = in.channels();
    int fout = out.channels();
    return (tapOut, tapFilter, taps, inBase) -> {
      for (int c = 0; c < channels; c++) {
        float acc = 0;
        for (int t = 0; t < taps; t++) {
          int fi = (tapFilter[t] * channels + c) * fout;
          for (int oc = 0; oc < fout; oc++) {
            acc += dy[tapOut[t] + oc * ocs] * f[fi + oc];
          }
        }
        dx[inBase + c * ics] = acc;
      }
    };
  }

  private static PositionKernel gatherDouble(
      double[] dy, double[] f, double[] dx, Grid in, Grid out) {
    int ics = in.channelStride();
    int ocs = out.channelStride();
    int channels = in.channels();
    int fout = out.channels();
    return (tapOut, tapFilter, taps, inBase) -> {
      for (int c = 0; c < channels; c++) {
        double acc = 0;
        for (int t = 0; t < taps; t++) {
          int fi = (tapFilter[t] * channels + c) * fout;
          for (int oc = 0; oc < fout; oc++) {
            acc += dy[tapOut[t] + oc * ocs] * f[fi + oc];
          }
        }
        dx[inBase + c * ics] = acc;
      }
    };
  }

  /** (input_sizes, filter, out_backprop) → the gradient of the depthwise convolution's input. */
  private static Kernel depthwiseInputGrad(BindContext b) {
    DType t = Reals.type(b, "T", Reals.FLOATS);
    Spec spec = Spec.of(b, 2, true);
    Format f = spec.format();
    return (in, ctx) -> {
      Value filter = in[1];
      Value dy = in[2];
      ConvOps.checkType(filter, t, "filter");
      ConvOps.checkType(dy, t, "out_backprop");
      long[] is = Reals.vector(in[0], "input_sizes", 4);
      int[] window = ConvOps.window(filter, 2);
      int channels = Math.toIntExact(filter.dim(2));
      int multiplier = Math.toIntExact(filter.dim(3));
      Grid ig = Grid.of(is, f, "input_sizes");
      Grid og = Grid.of(dy.shape(), f, "out_backprop");
      if (ig.channels() != channels || og.channels() != channels * multiplier) {
        throw new KernelException(
            "filter "
                + filter
                + " does not map input_sizes "
                + Arrays.toString(is)
                + " to out_backprop "
                + dy);
      }
      Axis[] axes = spec.axes(ig, window);
      Windows.checkForwardOutput(ig, axes, og, dy, f);
      double[] w = Reals.read(filter);
      double[] g = Reals.read(dy);
      double[] dx = new double[ig.size()];
      int ics = ig.channelStride();
      int ocs = og.channelStride();
      Windows.forEachOutput(
          ig,
          og,
          axes,
          (tapIn, tapFilter, taps, outBase) -> {
            for (int k = 0; k < taps; k++) {
              int fb = tapFilter[k] * channels * multiplier;
              for (int c = 0; c < channels; c++) {
                double acc = 0;
                for (int m = 0; m < multiplier; m++) {
                  acc += w[fb + c * multiplier + m] * g[outBase + (c * multiplier + m) * ocs];
                }
                dx[tapIn[k] + c * ics] += acc;
              }
            }
          });
      return new Value[] {Reals.write(t, ig.shape(f), dx)};
    };
  }
}
