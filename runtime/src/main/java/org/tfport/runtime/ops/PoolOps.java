package org.tfport.runtime.ops;

import java.util.Arrays;
import java.util.Set;
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
 * Pooling: MaxPool, MaxPoolV2 (ksize and strides as inputs), AvgPool, MaxPool3D, AvgPool3D and
 * MaxPoolWithArgmax. Padding never takes part: a max ignores it and an average divides by the
 * number of input elements in the window. Computed in double, rounded once to the input type.
 */
final class PoolOps implements OpFamily {
  private static final Set<DType> MAX_TYPES =
      Set.of(
          DType.FLOAT32,
          DType.FLOAT64,
          DType.INT32,
          DType.INT8,
          DType.UINT8,
          DType.INT16,
          DType.UINT16);

  @Override
  public void register(KernelRegistry r) {
    r.reference("MaxPool", b -> bind(b, 2, true, false));
    r.reference("MaxPoolV2", b -> bind(b, 2, true, true));
    r.reference("AvgPool", b -> bind(b, 2, false, false));
    r.reference("MaxPool3D", b -> bind(b, 3, true, false));
    r.reference("AvgPool3D", b -> bind(b, 3, false, false));
    r.reference("MaxPoolWithArgmax", PoolOps::bindArgmax);
  }

  static Kernel bind(BindContext b, int spatialRank, boolean max, boolean windowInputs) {
    DType t =
        Reals.type(
            b, "T", spatialRank == 3 ? Set.of(DType.FLOAT32) : max ? MAX_TYPES : Reals.FLOATS);
    Format f = Format.of(b, spatialRank);
    Padding padding = Padding.of(b, b.op().equals("MaxPool"));
    int[][] pads =
        padding == Padding.EXPLICIT
            ? f.explicitPads(b.intsAttr("explicit_paddings", new long[0]))
            : null;
    int[] fixedWindow = windowInputs ? null : f.spatial("ksize", required(b, "ksize"));
    int[] fixedStrides = windowInputs ? null : f.spatial("strides", required(b, "strides"));
    int[] ones = {1, 1, 1};
    return (in, ctx) -> {
      Value x = in[0];
      ConvOps.checkType(x, t, "input");
      int[] window =
          windowInputs ? f.spatial("ksize", Reals.vector(in[1], "ksize", f.rank())) : fixedWindow;
      int[] strides =
          windowInputs
              ? f.spatial("strides", Reals.vector(in[2], "strides", f.rank()))
              : fixedStrides;
      if (pads != null) {
        for (int a = 0; a < 3; a++) {
          for (int p : pads[a]) {
            if (p >= window[a]) {
              throw new KernelException(
                  "explicit padding " + p + " is not smaller than the window size " + window[a]);
            }
          }
        }
      }
      Grid g = Grid.of(x.shape(), f, "input");
      Axis[] axes = Windows.axes(g, window, strides, ones, padding, pads);
      Grid og = g.windowed(axes, g.channels());
      double[] y = new double[og.size()];
      pool(Reals.read(x), g, og, axes, max, y, null, false);
      return new Value[] {Reals.write(t, og.shape(f), y)};
    };
  }

  private static long[] required(BindContext b, String attr) {
    long[] v = b.intsAttr(attr, null);
    if (v == null) {
      throw new KernelException("attribute '" + attr + "' is missing");
    }
    return v;
  }

  private static Kernel bindArgmax(BindContext b) {
    DType t = Reals.type(b, "T", MAX_TYPES);
    DType indexType = b.typeAttr("Targmax", DType.INT64);
    if (indexType != DType.INT64 && indexType != DType.INT32) {
      throw new KernelException("Targmax " + indexType.jsName() + " is not int32 or int64");
    }
    Format f = new Format("NHWC", true, 2);
    Padding padding = Padding.of(b, false);
    int[] window = f.spatial("ksize", required(b, "ksize"));
    int[] strides = f.spatial("strides", required(b, "strides"));
    boolean includeBatch = b.boolAttr("include_batch_in_index", false);
    return (in, ctx) -> {
      Value x = in[0];
      ConvOps.checkType(x, t, "input");
      Grid g = Grid.of(x.shape(), f, "input");
      Axis[] axes = Windows.axes(g, window, strides, new int[] {1, 1, 1}, padding, null);
      Grid og = g.windowed(axes, g.channels());
      double[] y = new double[og.size()];
      long[] argmax = new long[og.size()];
      pool(Reals.read(x), g, og, axes, true, y, argmax, includeBatch);
      long[] shape = og.shape(f);
      Value indices =
          indexType == DType.INT64
              ? Value.of(DType.INT64, shape, argmax)
              : Value.of(
                  DType.INT32, shape, Arrays.stream(argmax).mapToInt(Math::toIntExact).toArray());
      return new Value[] {Reals.write(t, shape, y), indices};
    };
  }

  /**
   * Pools {@code x} into {@code y}; with {@code argmax}, also records where each maximum came from,
   * as the flat index into the NHWC input (without the batch unless {@code includeBatch}); the
   * first maximum in window order wins.
   */
  private static void pool(
      double[] x,
      Grid in,
      Grid out,
      Axis[] axes,
      boolean max,
      double[] y,
      long[] argmax,
      boolean includeBatch) {
    int ics = in.channelStride();
    int ocs = out.channelStride();
    Windows.forEachOutput(
        in,
        out,
        axes,
        (tapIn, tapFilter, taps, outBase) -> {
          int n = out.batchStride() == 0 ? 0 : outBase / out.batchStride();
          for (int c = 0; c < out.channels(); c++) {
            double best = Double.NEGATIVE_INFINITY;
            int bestAt = -1;
            double sum = 0;
            for (int k = 0; k < taps; k++) {
              int at = tapIn[k] + c * ics;
              double v = x[at];
              if (v > best || bestAt < 0) {
                best = v;
                bestAt = at;
              }
              sum += v;
            }
            int o = outBase + c * ocs;
            y[o] = max ? best : sum / taps;
            if (argmax != null) {
              argmax[o] = includeBatch ? bestAt : bestAt - (long) n * in.batchStride();
            }
          }
        });
  }
}
