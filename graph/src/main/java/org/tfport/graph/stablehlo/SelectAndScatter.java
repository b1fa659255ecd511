package org.tfport.graph.stablehlo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.formats.stablehlo.Attr;
import org.tfport.formats.stablehlo.Attrs;
import org.tfport.formats.stablehlo.Op;
import org.tfport.formats.stablehlo.Region;
import org.tfport.graph.stablehlo.Lowerer.Refusal;
import org.tfport.graph.stablehlo.Lowerer.V;

/** {@code select_and_scatter}, the gradient of a max (or min) pool, as a {@code ScatterNd}. */
final class SelectAndScatter {
  private SelectAndScatter() {}

  /**
   * The max-pool gradient form: each window of the (padded) operand selects one element (the first
   * for GE/LE, the last for GT/LT), where that window's source value is added; elements no window
   * selects keep {@code init_value}. The window's elements are stacked on a new first axis, ArgMax
   * (ArgMin) picks one, and a table of window offsets turns it into an operand index for ScatterNd.
   */
  static V lower(Lowerer l, Op op, List<V> ins) {
    V operand = ins.get(0);
    V source = ins.get(1);
    V init = ins.get(2);
    String dir = selection(op.regions().get(0));
    if (Scatter.combine(op.regions().get(1), "a select_and_scatter") != Scatter.Combine.ADD) {
      throw new Refusal("a select_and_scatter whose scatter computation is not add");
    }
    int r = operand.rank();
    long[] win = Attrs.longs(op.attr("window_dimensions"));
    long[] strides = Attrs.longs(op.attr("window_strides"));
    if (win.length == 0) {
      win = new long[r];
      Arrays.fill(win, 1);
    }
    if (strides.length == 0) {
      strides = new long[r];
      Arrays.fill(strides, 1);
    }
    long[] pad = Attrs.longs(op.attr("padding"));
    if (pad.length == 0) {
      pad = new long[2 * r];
    }
    if (win.length != r || strides.length != r || pad.length != 2 * r) {
      throw new Refusal("window attributes that do not match the operand's rank");
    }
    long[] padded = new long[r];
    long[] outDims = new long[r];
    for (int d = 0; d < r; d++) {
      if (pad[2 * d] < 0 || pad[2 * d + 1] < 0) {
        throw new Refusal("negative padding");
      }
      padded[d] = operand.dim(d) + pad[2 * d] + pad[2 * d + 1];
      outDims[d] = padded[d] < win[d] ? 0 : (padded[d] - win[d]) / strides[d] + 1;
      if (outDims[d] != source.dim(d)) {
        throw new Refusal("a source whose shape does not match the windows");
      }
    }
    boolean max = dir.equals("GE") || dir.equals("GT");
    boolean last = dir.equals("GT") || dir.equals("LT");
    DType t = operand.dtype();
    // Padding never wins the selection.
    double fill = max ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
    if (!t.isFloating()) {
      fill = max ? minValue(t) : maxValue(t);
    }
    V p = operand;
    if (Arrays.stream(pad).anyMatch(x -> x != 0)) {
      p =
          l.op(
              "PadV2",
              t,
              padded,
              List.of(
                  operand,
                  l.constant(Lowerer.tensor(DType.INT32, new long[] {r, 2}, pad, null)),
                  l.scalar(t, fill)),
              "Tpaddings",
              Lowerer.type(DType.INT32));
    }
    int k = (int) Scatter.product(win);
    List<V> slices = new ArrayList<>();
    long[] offsets = new long[k * r];
    long[] pos = new long[r];
    for (int j = 0; j < k; j++) {
      // Window elements in row-major order; reversed for the last-wins directions.
      long[] begin = pos.clone();
      long[] end = new long[r];
      for (int d = 0; d < r; d++) {
        end[d] = begin[d] + strides[d] * (outDims[d] - 1) + 1;
      }
      slices.add(l.stridedSlice(p, begin, end, strides));
      System.arraycopy(pos, 0, offsets, j * r, r);
      for (int d = r - 1; d >= 0 && ++pos[d] == win[d]; d--) {
        pos[d] = 0;
      }
    }
    if (last) {
      java.util.Collections.reverse(slices);
      long[] rev = new long[k * r];
      for (int j = 0; j < k; j++) {
        System.arraycopy(offsets, (k - 1 - j) * r, rev, j * r, r);
      }
      offsets = rev;
    }
    long[] stackedShape = Scatter.concat(new long[] {k}, outDims, new long[0]);
    V stacked = l.op("Pack", t, stackedShape, slices, "N", Lowerer.i(k), "axis", Lowerer.i(0));
    V choice =
        l.op(
            max ? "ArgMax" : "ArgMin",
            DType.INT32,
            outDims,
            List.of(stacked, l.i32Scalar(0)),
            "Tidx",
            Lowerer.type(DType.INT32),
            "output_type",
            Lowerer.type(DType.INT32));
    V table = l.constant(Lowerer.tensor(DType.INT32, new long[] {k, r}, offsets, null));
    long[] idxShape = DotConv.append(outDims, r);
    V within =
        l.op(
            "GatherV2",
            DType.INT32,
            idxShape,
            List.of(table, choice, l.i32Scalar(0)),
            "Tparams",
            Lowerer.type(DType.INT32),
            "Tindices",
            Lowerer.type(DType.INT32),
            "Taxis",
            Lowerer.type(DType.INT32),
            "batch_dims",
            Lowerer.i(0),
            "T",
            null);
    // Window starts: i * stride on every dimension.
    int n = (int) Scatter.product(outDims);
    long[] starts = new long[n * r];
    long[] at = new long[r];
    for (int j = 0; j < n; j++) {
      for (int d = 0; d < r; d++) {
        starts[j * r + d] = at[d] * strides[d];
      }
      for (int d = r - 1; d >= 0 && ++at[d] == outDims[d]; d--) {
        at[d] = 0;
      }
    }
    V idx =
        l.op(
            "AddV2",
            DType.INT32,
            idxShape,
            List.of(within, l.constant(Lowerer.tensor(DType.INT32, idxShape, starts, null))));
    V scattered =
        l.op(
            "AddV2",
            t,
            padded,
            List.of(
                Scatter.scatterNd(
                    l,
                    l.reshape(idx, new long[] {n, r}),
                    l.reshape(source, new long[] {n}),
                    padded),
                l.reshape(init, new long[0])));
    long[] begin = new long[r];
    long[] end = new long[r];
    long[] one = new long[r];
    Arrays.fill(one, 1);
    for (int d = 0; d < r; d++) {
      begin[d] = pad[2 * d];
      end[d] = begin[d] + operand.dim(d);
    }
    return l.stridedSlice(scattered, begin, end, one);
  }

  /** The select region's comparison of its first argument with its second: GE, GT, LE or LT. */
  private static String selection(Region r) {
    List<Op> ops = r.ops();
    if (r.args().size() == 2 && ops.size() == 2 && ops.get(0).name().equals("stablehlo.compare")) {
      Op c = ops.get(0);
      String dir = ((Attr.EnumAttr) c.attr("comparison_direction")).value();
      String a = r.args().get(0).name();
      String b = r.args().get(1).name();
      if (ops.get(1).operands().equals(c.results())
          && c.operands().equals(List.of(a, b))
          && Set.of("GE", "GT", "LE", "LT").contains(dir)) {
        return dir;
      }
    }
    throw new Refusal("a select_and_scatter whose select is not one GE, GT, LE or LT comparison");
  }

  private static double minValue(DType t) {
    return switch (t) {
      case INT8 -> Byte.MIN_VALUE;
      case INT16 -> Short.MIN_VALUE;
      case INT32 -> Integer.MIN_VALUE;
      case INT64 -> Long.MIN_VALUE;
      default -> 0;
    };
  }

  private static double maxValue(DType t) {
    return switch (t) {
      case INT8 -> Byte.MAX_VALUE;
      case INT16 -> Short.MAX_VALUE;
      case INT32 -> Integer.MAX_VALUE;
      case INT64 -> Long.MAX_VALUE;
      case UINT8 -> 255;
      case UINT16 -> 65535;
      default -> 1;
    };
  }
}
