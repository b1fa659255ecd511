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
import org.tfport.runtime.ops.Windows.PositionKernel;

/**
 * Forward convolutions: Conv2D (grouped when the filter has fewer input channels than the input),
 * Conv3D, DepthwiseConv2dNative, and their fused forms _FusedConv2D (grappler, TF.js) and
 * FusedDepthwiseConv2dNative (TF.js). Each output element is one float (or double) accumulator over
 * the taps in (depth, height, width) order, then the input channels.
 */
final class ConvOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("Conv2D", b -> bind(b, 2, false, false));
    r.reference("Conv3D", b -> bind(b, 3, false, false));
    r.reference("DepthwiseConv2dNative", b -> bind(b, 2, true, false));
    r.reference("_FusedConv2D", b -> bind(b, 2, false, true));
    r.reference("FusedDepthwiseConv2dNative", b -> bind(b, 2, true, true));
  }

  /** The window attributes of a convolution node. */
  record Spec(Format format, int[] strides, int[] dilations, Padding padding, int[][] pads) {
    static Spec of(BindContext b, int spatialRank, boolean explicitAllowed) {
      Format f = Format.of(b, spatialRank);
      long[] strides = b.intsAttr("strides", null);
      if (strides == null) {
        throw new KernelException("attribute 'strides' is missing");
      }
      long[] ones = new long[f.rank()];
      Arrays.fill(ones, 1);
      Padding p = Padding.of(b, explicitAllowed);
      int[][] pads =
          p == Padding.EXPLICIT
              ? f.explicitPads(b.intsAttr("explicit_paddings", new long[0]))
              : null;
      return new Spec(
          f,
          f.spatial("strides", strides),
          f.spatial("dilations", b.intsAttr("dilations", ones)),
          p,
          pads);
    }

    Axis[] axes(Grid in, int[] window) {
      return Windows.axes(in, window, strides, dilations, padding, pads);
    }
  }

  /**
   * The spatial window sizes of a filter whose spatial dims lead, padded to three with leading 1s.
   */
  static int[] window(Value filter, int spatialRank) {
    if (filter.rank() != spatialRank + 2) {
      throw new KernelException("filter " + filter + " is not of rank " + (spatialRank + 2));
    }
    int[] w = {1, 1, 1};
    for (int i = 0; i < spatialRank; i++) {
      w[3 - spatialRank + i] = Math.toIntExact(filter.dim(i));
    }
    return w;
  }

  static Kernel bind(BindContext b, int spatialRank, boolean depthwise, boolean fused) {
    DType t = Reals.type(b, "T", Reals.FLOATS);
    Spec spec = Spec.of(b, spatialRank, spatialRank == 2);
    FusedEpilogue epilogue = fused ? FusedEpilogue.of(b, 2, t) : null;
    if (!fused && b.inputCount() != 2) {
      throw new KernelException(b.op() + " takes 2 inputs, not " + b.inputCount());
    }
    Format f = spec.format();
    return (in, ctx) -> {
      Value x = in[0];
      Value filter = in[1];
      checkType(x, t, "input");
      checkType(filter, t, "filter");
      Grid g = Grid.of(x.shape(), f, "input");
      int[] window = window(filter, spatialRank);
      int fin = Math.toIntExact(filter.dim(spatialRank));
      int fout = Math.toIntExact(filter.dim(spatialRank + 1));
      int outChannels;
      int groupOut;
      if (depthwise) {
        if (fin != g.channels()) {
          throw new KernelException(
              "filter "
                  + filter
                  + " has "
                  + fin
                  + " input channels, the input "
                  + x
                  + " "
                  + g.channels());
        }
        outChannels = fin * fout;
        groupOut = fout;
      } else {
        int groups = fin == 0 ? 1 : g.channels() / fin;
        if (fin * groups != g.channels() || fout % groups != 0) {
          throw new KernelException(
              "input depth "
                  + g.channels()
                  + " (input "
                  + x
                  + ") is not a multiple of the filter "
                  + filter
                  + "'s "
                  + fin
                  + " input channels with "
                  + fout
                  + " output channels in as many groups");
        }
        outChannels = fout;
        groupOut = fout / groups;
      }
      Axis[] axes = spec.axes(g, window);
      Grid og = g.windowed(axes, outChannels);
      Object out = t == DType.FLOAT32 ? new float[og.size()] : new double[og.size()];
      PositionKernel k =
          depthwise
              ? (t == DType.FLOAT32
                  ? depthwiseFloat(x.floats(), filter.floats(), (float[]) out, g, og, fout)
                  : depthwiseDouble(x.doubles(), filter.doubles(), (double[]) out, g, og, fout))
              : (t == DType.FLOAT32
                  ? convFloat(x.floats(), filter.floats(), (float[]) out, g, og, fin, groupOut)
                  : convDouble(
                      x.doubles(), filter.doubles(), (double[]) out, g, og, fin, groupOut));
      Windows.forEachOutput(g, og, axes, k);
      long[] shape = og.shape(f);
      Value y = Value.of(t, shape, out);
      if (epilogue != null) {
        y = epilogue.apply(y, f.channelAxis(), in);
      }
      return new Value[] {y};
    };
  }

  static void checkType(Value v, DType t, String what) {
    if (v.dtype() != t) {
      throw new KernelException(what + " is " + v.dtype().jsName() + ", not " + t.jsName());
    }
  }

  // Filter [taps..., fin, fout]; output channel oc reads the input channels of its group.
  private static PositionKernel convFloat(
      float[] x, float[] f, float[] y, Grid in, Grid out, int fin, int groupOut) {
    int ics = in.channelStride();
    int ocs = out.channelStride();
    int fout = out.channels();
    return (tapIn, tapFilter, taps, outBase) -> {
      for (int oc = 0; oc < fout; oc++) {
        int groupBase = oc / groupOut * fin * ics;
        float acc = 0;
        for (int t = 0; t < taps; t++) {
          int xi = tapIn[t] + groupBase;
          int fi = tapFilter[t] * fin * fout + oc;
          for (int ic = 0; ic < fin; ic++) {
            acc += x[xi + ic * ics] * f[fi + ic * fout];
          }
        }
        y[outBase + oc * ocs] = acc;
      }
    };
  }

  private static PositionKernel convDouble(
      double[] x, double[] f, double[] y, Grid in, Grid out, int fin, int groupOut) {
    int ics = in.channelStride();
    int ocs = out.channelStride();
    int fout = out.channels();
    return (tapIn, tapFilter, taps, outBase) -> {
      for (int oc = 0; oc < fout; oc++) {
        int groupBase = oc / groupOut * fin * ics;
        double acc = 0;
        for (int t = 0; t < taps; t++) {
          int xi = tapIn[t] + groupBase;
          int fi = tapFilter[t] * fin * fout + oc;
          for (int ic = 0; ic < fin; ic++) {
            acc += x[xi + ic * ics] * f[fi + ic * fout];
          }
        }
        y[outBase + oc * ocs] = acc;
      }
    };
  }

  // Filter [kh, kw, channels, multiplier]; output channel c * multiplier + m.
  private static PositionKernel depthwiseFloat(
      float[] x, float[] f, float[] y, Grid in, Grid out, int multiplier) {
    int ics = in.channelStride();
    int ocs = out.channelStride();
    int channels = in.channels();
    return (tapIn, tapFilter, taps, outBase) -> {
      for (int c = 0; c < channels; c++) {
        for (int m = 0; m < multiplier; m++) {
          float acc = 0;
          for (int t = 0; t < taps; t++) {
            acc += x[tapIn[t] + c * ics] * f[(tapFilter[t] * channels + c) * multiplier + m];
          }
          y[outBase + (c * multiplier + m) * ocs] = acc;
        }
      }
    };
  }

  private static PositionKernel depthwiseDouble(
      double[] x, double[] f, double[] y, Grid in, Grid out, int multiplier) {
    int ics = in.channelStride();
    int ocs = out.channelStride();
    int channels = in.channels();
    return (tapIn, tapFilter, taps, outBase) -> {
      for (int c = 0; c < channels; c++) {
        for (int m = 0; m < multiplier; m++) {
          double acc = 0;
          for (int t = 0; t < taps; t++) {
            acc += x[tapIn[t] + c * ics] * f[(tapFilter[t] * channels + c) * multiplier + m];
          }
          y[outBase + (c * multiplier + m) * ocs] = acc;
        }
      }
    };
  }
}
