package org.tfport.train.grad;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Node;

/** Ops that move elements without computing on them: reshapes, transposes, concat, pack, pad. */
final class ArrayGrads {
  private static final AttrValue F32 = new AttrValue.Type(DataTypes.DT_FLOAT);
  private static final AttrValue I32 = new AttrValue.Type(DataTypes.fromDType(DType.INT32));

  private ArrayGrads() {}

  static void register(Map<String, GradRule> r) {
    GradRule reshapeBack =
        (g, n, dy) -> {
          String x = n.dataInputs().get(0);
          long[] sx = g.dims(x);
          int unknown = 0;
          for (long d : sx) {
            unknown += d < 0 ? 1 : 0;
          }
          String shape = unknown <= 1 ? g.ints(sx) : g.shape(x);
          List<String> out = new ArrayList<>();
          out.add(g.reshape(dy.get(0), shape));
          for (int i = 1; i < n.dataInputs().size(); i++) {
            out.add(null);
          }
          return out;
        };
    r.put("Reshape", reshapeBack);
    r.put("Squeeze", reshapeBack);
    r.put("ExpandDims", reshapeBack);
    r.put(
        "Transpose",
        (g, n, dy) -> {
          long[] perm = longs(g, n, 1);
          long[] inv = new long[perm.length];
          for (int i = 0; i < perm.length; i++) {
            inv[(int) perm[i]] = i;
          }
          return Arrays.asList(g.transpose(dy.get(0), inv), null);
        });
    r.put(
        "ReverseV2",
        (g, n, dy) ->
            Arrays.asList(
                g.raw(
                    "ReverseV2",
                    List.of(dy.get(0), n.dataInputs().get(1)),
                    Map.of("T", F32, "Tidx", n.attr("Tidx") != null ? n.attr("Tidx") : I32)),
                null));
    r.put("ConcatV2", ArrayGrads::concat);
    r.put("Tile", ArrayGrads::tile);
    r.put("StridedSlice", ArrayGrads::stridedSlice);
    r.put("GatherV2", ArrayGrads::gather);
    r.put(
        "Split",
        (g, n, dy) -> {
          // Split(axis, value): the value's gradient is the pieces' gradients concatenated.
          int num = (int) ((AttrValue.Int) n.attr("num_split")).value();
          List<String> parts = new ArrayList<>();
          for (int i = 0; i < num; i++) {
            String out = i == 0 ? n.name() : n.name() + ":" + i;
            parts.add(
                i < dy.size() && dy.get(i) != null
                    ? dy.get(i)
                    : g.raw("ZerosLike", List.of(out), Map.of("T", F32)));
          }
          List<String> ins = new ArrayList<>(parts);
          ins.add(n.dataInputs().get(0));
          String cat =
              g.raw("ConcatV2", ins, Map.of("T", F32, "N", new AttrValue.Int(num), "Tidx", I32));
          return Arrays.asList(null, cat);
        });
    r.put(
        "Pack",
        (g, n, dy) -> {
          int count = n.dataInputs().size();
          long axis = n.attr("axis") instanceof AttrValue.Int i ? i.value() : 0;
          String un =
              g.raw(
                  "Unpack",
                  List.of(dy.get(0)),
                  Map.of(
                      "T", F32, "num", new AttrValue.Int(count), "axis", new AttrValue.Int(axis)));
          List<String> out = new ArrayList<>();
          for (int i = 0; i < count; i++) {
            out.add(i == 0 ? un : un + ":" + i);
          }
          return out;
        });
    r.put(
        "Unpack",
        (g, n, dy) -> {
          long axis = n.attr("axis") instanceof AttrValue.Int i ? i.value() : 0;
          int num = (int) ((AttrValue.Int) n.attr("num")).value();
          List<String> parts = new ArrayList<>();
          for (int i = 0; i < num; i++) {
            String out = i == 0 ? n.name() : n.name() + ":" + i;
            parts.add(
                i < dy.size() && dy.get(i) != null
                    ? dy.get(i)
                    : g.raw("ZerosLike", List.of(out), Map.of("T", F32)));
          }
          return List.of(
              g.raw(
                  "Pack",
                  parts,
                  Map.of("T", F32, "N", new AttrValue.Int(num), "axis", new AttrValue.Int(axis))));
        });
    r.put(
        "Pad",
        (g, n, dy) -> {
          long[] p = longs(g, n, 1);
          long[] begin = new long[p.length / 2];
          for (int i = 0; i < begin.length; i++) {
            begin[i] = p[2 * i];
          }
          String x = n.dataInputs().get(0);
          return Arrays.asList(
              g.raw(
                  "Slice",
                  List.of(dy.get(0), g.ints(begin), g.shape(x)),
                  Map.of("T", F32, "Index", I32)),
              null);
        });
  }

  /** A constant integer input's values. */
  static long[] longs(GradContext g, Node n, int input) {
    Tensor t = g.constant(n.dataInputs().get(input));
    if (t == null) {
      throw new UnsupportedModelException(
          n.name()
              + " ("
              + n.op()
              + "): cannot differentiate with input "
              + input
              + " computed at run time");
    }
    float[] f = t.toFloatArray();
    long[] out = new long[f.length];
    for (int i = 0; i < f.length; i++) {
      out[i] = (long) f[i];
    }
    return out;
  }

  private static List<String> concat(GradContext g, Node n, List<String> dy) {
    List<String> ins = n.dataInputs();
    int count = ins.size() - 1;
    int rank = g.rank(ins.get(0));
    long axis = longs(g, n, count)[0];
    axis = axis < 0 ? axis + rank : axis;
    List<String> out = new ArrayList<>();
    long offset = 0;
    for (int i = 0; i < count; i++) {
      long d = g.dims(ins.get(i))[(int) axis];
      if (d < 0) {
        throw new UnsupportedModelException(
            n.name()
                + " (ConcatV2): cannot differentiate a concat along a dimension of unknown size");
      }
      long[] begin = new long[rank];
      long[] size = new long[rank];
      Arrays.fill(size, -1);
      begin[(int) axis] = offset;
      size[(int) axis] = d;
      out.add(
          g.raw(
              "Slice",
              List.of(dy.get(0), g.ints(begin), g.ints(size)),
              Map.of("T", F32, "Index", I32)));
      offset += d;
    }
    out.add(null);
    return out;
  }

  /**
   * An embedding lookup's table gradient: the rows of {@code dy} added into the rows they were read
   * from ({@code ScatterNd} sums repeated indices).
   */
  private static List<String> gather(GradContext g, Node n, List<String> dy) {
    String params = n.dataInputs().get(0);
    String indices = n.dataInputs().get(1);
    long axis = longs(g, n, 2)[0];
    long batchDims = n.attr("batch_dims") instanceof AttrValue.Int i ? i.value() : 0;
    long[] sp = g.dims(params);
    if (axis != 0 || batchDims != 0) {
      throw new UnsupportedModelException(
          n.name() + " (GatherV2): cannot differentiate a gather along axis " + axis + " yet");
    }
    for (long d : sp) {
      if (d < 0) {
        throw new UnsupportedModelException(
            n.name() + " (GatherV2): cannot differentiate a gather from a table of unknown shape");
      }
    }
    AttrValue ti = n.attr("Tindices");
    String idx = g.raw("Reshape", List.of(indices, g.ints(-1, 1)), Map.of("T", ti, "Tshape", I32));
    long[] rows = sp.clone();
    rows[0] = -1;
    String upd = g.reshape(dy.get(0), g.ints(rows));
    String table =
        g.raw("ScatterNd", List.of(idx, upd, g.ints(sp)), Map.of("T", F32, "Tindices", ti));
    return Arrays.asList(table, null, null);
  }

  /**
   * Tile as TensorFlow's {@code _TileGrad}: dy seen as [m0, d0, m1, d1, ...] (multiple, input
   * dimension per axis) summed over the multiples.
   */
  private static List<String> tile(GradContext g, Node n, List<String> dy) {
    String x = n.dataInputs().get(0);
    long[] sx = g.dims(x);
    long[] m = longs(g, n, 1);
    long[] split = new long[2 * sx.length];
    long[] axes = new long[sx.length];
    int unknown = 0;
    for (int i = 0; i < sx.length; i++) {
      if (sx[i] < 0 && m[i] != 1) {
        throw new UnsupportedModelException(
            n.name() + " (Tile): cannot differentiate a tile of an axis of unknown size");
      }
      unknown += sx[i] < 0 ? 1 : 0;
      split[2 * i] = m[i];
      split[2 * i + 1] = sx[i] < 0 ? -1 : sx[i];
      axes[i] = 2L * i;
    }
    if (unknown > 1) {
      throw new UnsupportedModelException(
          n.name() + " (Tile): cannot differentiate a tile with several unknown dimensions");
    }
    return Arrays.asList(g.sum(g.reshape(dy.get(0), g.ints(split)), axes, false), null);
  }

  /**
   * A StridedSlice with unit strides (Cropping, a shape's element) is a crop: its gradient is dy,
   * its shrunk axes restored, padded back with zeros to the input's extent. Other strides and
   * ellipsis or new axes are refused by name.
   */
  private static List<String> stridedSlice(GradContext g, Node n, List<String> dy) {
    String x = n.dataInputs().get(0);
    long[] sx = g.dims(x);
    long[] begin = longs(g, n, 1);
    long[] end = longs(g, n, 2);
    long[] strides = longs(g, n, 3);
    long beginMask = mask(n, "begin_mask");
    long endMask = mask(n, "end_mask");
    long shrink = mask(n, "shrink_axis_mask");
    if (mask(n, "ellipsis_mask") != 0 || mask(n, "new_axis_mask") != 0) {
      throw new UnsupportedModelException(
          n.name() + " (StridedSlice): cannot differentiate a slice with ellipsis or new axes yet");
    }
    long[] pads = new long[2 * sx.length];
    long[] kept = new long[sx.length];
    int unknown = 0;
    for (int i = 0; i < sx.length; i++) {
      boolean given = i < begin.length;
      if (given && strides[i] != 1) {
        throw new UnsupportedModelException(
            n.name() + " (StridedSlice): cannot differentiate a slice with stride " + strides[i]);
      }
      long b = !given || (beginMask >> i & 1) != 0 ? 0 : begin[i];
      boolean toEnd = !given || ((endMask >> i & 1) != 0 && (shrink >> i & 1) == 0);
      long e = toEnd ? Long.MAX_VALUE : (shrink >> i & 1) != 0 ? b + 1 : end[i];
      if (sx[i] < 0) {
        if (b != 0 || !toEnd) {
          throw new UnsupportedModelException(
              n.name()
                  + " (StridedSlice): cannot differentiate a slice of an axis of unknown size");
        }
        kept[i] = -1;
        unknown++;
        continue;
      }
      b = b < 0 ? b + sx[i] : b;
      e = e == Long.MAX_VALUE ? sx[i] : e < 0 ? e + sx[i] : e;
      b = Math.clamp(b, 0, sx[i]);
      e = Math.clamp(e, b, sx[i]);
      pads[2 * i] = b;
      pads[2 * i + 1] = sx[i] - e;
      kept[i] = e - b;
    }
    if (unknown > 1) {
      throw new UnsupportedModelException(
          n.name()
              + " (StridedSlice): cannot differentiate a slice with several unknown dimensions");
    }
    String d = shrink != 0 ? g.reshape(dy.get(0), g.ints(kept)) : dy.get(0);
    int[] p = new int[pads.length];
    for (int i = 0; i < p.length; i++) {
      p[i] = Math.toIntExact(pads[i]);
    }
    String paddings = g.constant(Tensor.ofInts(org.tfport.core.Shape.of(sx.length, 2), p));
    return Arrays.asList(
        g.raw("Pad", List.of(d, paddings), Map.of("T", F32, "Tpaddings", I32)), null, null, null);
  }

  private static long mask(Node n, String key) {
    return n.attr(key) instanceof AttrValue.Int i ? i.value() : 0;
  }
}
