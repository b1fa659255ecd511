package org.tfport.runtime.ops;

import java.util.Arrays;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.ConvOps.PositionKernel;
import org.tfport.runtime.ops.ConvOps.Spec;
import org.tfport.runtime.ops.Windows.Axis;
import org.tfport.runtime.ops.Windows.Format;
import org.tfport.runtime.ops.Windows.Grid;

/**
 * Convolution gradients with respect to the input, which models use as transposed convolutions
 * (Keras Conv2DTranspose, Conv3DTranspose): Conv2DBackpropInput and Conv3DBackpropInputV2. Computed
 * in gather form: each input element sums, over the output positions and taps whose forward window
 * covered it, out_backprop × filter, in tap order then output channel order.
 */
final class ConvBackpropOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("Conv2DBackpropInput", b -> bind(b, 2));
    r.reference("Conv3DBackpropInputV2", b -> bind(b, 3));
  }

  private static Kernel bind(BindContext b, int spatialRank) {
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
      Grid expected = ig.windowed(axes, fout);
      if (!expected.equals(og)) {
        throw new KernelException(
            "out_backprop "
                + dy
                + " is not the forward output shape "
                + Arrays.toString(expected.shape(f)));
      }
      Object dx = t == DType.FLOAT32 ? new float[ig.size()] : new double[ig.size()];
      PositionKernel k =
          t == DType.FLOAT32
              ? gatherFloat(dy.floats(), filter.floats(), (float[]) dx, ig, og)
              : gatherDouble(dy.doubles(), filter.doubles(), (double[]) dx, ig, og);
      forEachInput(ig, og, axes, k);
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

  /**
   * Visits every input position with the output positions (and filter taps) whose window covered
   * it.
   */
  private static void forEachInput(Grid in, Grid out, Axis[] axes, PositionKernel k) {
    Axis ad = axes[0];
    Axis ah = axes[1];
    Axis aw = axes[2];
    int[] tapOut = new int[ad.window() * ah.window() * aw.window()];
    int[] tapFilter = new int[tapOut.length];
    for (int n = 0; n < in.batch(); n++) {
      for (int id = 0; id < in.depth(); id++) {
        for (int ih = 0; ih < in.height(); ih++) {
          for (int iw = 0; iw < in.width(); iw++) {
            int taps = 0;
            for (int kd = 0; kd < ad.window(); kd++) {
              int od = output(ad, id, kd);
              if (od < 0) {
                continue;
              }
              for (int kh = 0; kh < ah.window(); kh++) {
                int oh = output(ah, ih, kh);
                if (oh < 0) {
                  continue;
                }
                for (int kw = 0; kw < aw.window(); kw++) {
                  int ow = output(aw, iw, kw);
                  if (ow < 0) {
                    continue;
                  }
                  tapOut[taps] = out.offset(n, od, oh, ow);
                  tapFilter[taps++] = (kd * ah.window() + kh) * aw.window() + kw;
                }
              }
            }
            k.run(tapOut, tapFilter, taps, in.offset(n, id, ih, iw));
          }
        }
      }
    }
  }

  /** The output position whose tap {@code k} reads input {@code i}, or -1 when none does. */
  private static int output(Axis a, int i, int k) {
    int scaled = i + a.padBefore() - k * a.dilation();
    if (scaled < 0 || scaled % a.stride() != 0) {
      return -1;
    }
    int o = scaled / a.stride();
    return o < a.out() ? o : -1;
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
}
