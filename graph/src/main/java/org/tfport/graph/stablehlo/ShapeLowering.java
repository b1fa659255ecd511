package org.tfport.graph.stablehlo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.formats.stablehlo.Attrs;
import org.tfport.formats.stablehlo.Op;
import org.tfport.graph.stablehlo.Lowerer.Refusal;
import org.tfport.graph.stablehlo.Lowerer.V;

/** Ops that move elements: broadcasts, reshapes, slices, concatenation, padding, iota. */
final class ShapeLowering {
  private ShapeLowering() {}

  static final Set<String> NAMES =
      Set.of(
          "stablehlo.broadcast_in_dim",
          "stablehlo.broadcast",
          "stablehlo.reshape",
          "stablehlo.transpose",
          "stablehlo.reverse",
          "stablehlo.slice",
          "stablehlo.dynamic_slice",
          "stablehlo.dynamic_update_slice",
          "stablehlo.concatenate",
          "stablehlo.pad",
          "stablehlo.iota",
          "stablehlo.get_dimension_size");

  /** Ops whose TensorFlow form needs no static size of their result. */
  private static final Set<String> SHAPE_AGNOSTIC =
      Set.of(
          "stablehlo.get_dimension_size",
          "stablehlo.transpose",
          "stablehlo.reverse",
          "stablehlo.concatenate");

  /** How many dimensions are {@code ?}: one, TensorFlow's Reshape infers ({@code -1}). */
  private static int unknownCount(long[] shape) {
    int n = 0;
    for (long d : shape) {
      n += d < 0 ? 1 : 0;
    }
    return n;
  }

  static V lower(Lowerer l, Op op, List<V> ins) {
    V out = l.resultLike(op, 0);
    String name = op.name();
    if (!SHAPE_AGNOSTIC.contains(name)
        && !Lowerer.isStatic(out.shape())
        && !(name.equals("stablehlo.reshape") && unknownCount(out.shape()) == 1)) {
      throw new Refusal("a result of dynamic shape " + op.resultTypes().get(0));
    }
    V x = ins.isEmpty() ? null : ins.get(0);
    return switch (name) {
      case "stablehlo.broadcast_in_dim" ->
          broadcastInDim(l, x, Attrs.longs(op.attr("broadcast_dimensions")), out.shape());
      case "stablehlo.broadcast" -> {
        long[] sizes = Attrs.longs(op.attr("broadcast_sizes"));
        long[] dims = new long[x.rank()];
        for (int k = 0; k < dims.length; k++) {
          dims[k] = sizes.length + k;
        }
        yield broadcastInDim(l, x, dims, out.shape());
      }
      case "stablehlo.reshape" -> l.identityIfSame(l.reshape(x, out.shape()), x);
      case "stablehlo.transpose" ->
          l.identityIfSame(l.transpose(x, Lowerer.toInts(Attrs.longs(op.attr("permutation")))), x);
      case "stablehlo.reverse" -> {
        long[] dims = Attrs.longs(op.attr("dimensions"));
        yield dims.length == 0
            ? l.identity(x)
            : l.op(
                "ReverseV2",
                x.dtype(),
                x.shape(),
                List.of(x, l.i32(dims)),
                "Tidx",
                Lowerer.type(DType.INT32));
      }
      case "stablehlo.slice" ->
          l.identityIfSame(
              l.stridedSlice(
                  x,
                  Attrs.longs(op.attr("start_indices")),
                  Attrs.longs(op.attr("limit_indices")),
                  strides(op, x.rank())),
              x);
      case "stablehlo.dynamic_slice" ->
          dynamicSlice(l, x, ins.subList(1, ins.size()), Attrs.longs(op.attr("slice_sizes")));
      case "stablehlo.dynamic_update_slice" ->
          dynamicUpdateSlice(l, x, ins.get(1), ins.subList(2, ins.size()));
      case "stablehlo.concatenate" -> {
        long axis = Attrs.intValue(op.attr("dimension"), 0);
        List<V> parts = new ArrayList<>(ins);
        parts.add(l.i32Scalar(axis));
        yield l.op(
            "ConcatV2",
            out.dtype(),
            out.shape(),
            parts,
            "N",
            Lowerer.i(ins.size()),
            "Tidx",
            Lowerer.type(DType.INT32));
      }
      case "stablehlo.pad" ->
          pad(
              l,
              x,
              ins.get(1),
              Attrs.longs(op.attr("edge_padding_low")),
              Attrs.longs(op.attr("edge_padding_high")),
              Attrs.longs(op.attr("interior_padding")));
      case "stablehlo.iota" -> iota(l, out, (int) Attrs.intValue(op.attr("iota_dimension"), 0));
      case "stablehlo.get_dimension_size" ->
          dimensionSize(l, x, (int) Attrs.intValue(op.attr("dimension"), 0), out.dtype());
      default -> throw new Refusal("no lowering");
    };
  }

  private static long[] strides(Op op, int rank) {
    long[] s = Attrs.longs(op.attr("strides"));
    if (s.length == 0) {
      s = new long[rank];
      Arrays.fill(s, 1);
    }
    return s;
  }

  static V broadcastInDim(Lowerer l, V x, long[] dims, long[] outShape) {
    // Order the operand's axes as they appear in the result, then insert the new axes as 1s.
    Integer[] order = new Integer[dims.length];
    for (int k = 0; k < order.length; k++) {
      order[k] = k;
    }
    Arrays.sort(order, (p, q) -> Long.compare(dims[p], dims[q]));
    int[] perm = new int[order.length];
    for (int k = 0; k < perm.length; k++) {
      perm[k] = order[k];
    }
    V t = l.transpose(x, perm);
    long[] shape = new long[outShape.length];
    Arrays.fill(shape, 1);
    for (int k = 0; k < perm.length; k++) {
      shape[(int) dims[perm[k]]] = x.dim(perm[k]);
    }
    V r = l.reshape(t, shape);
    V out = l.broadcastTo(r, outShape);
    return out == x ? l.identity(x) : out;
  }

  private static V dynamicSlice(Lowerer l, V x, List<V> starts, long[] sizes) {
    V begin = clampedStarts(l, x, starts, sizes);
    return l.op(
        "Slice",
        x.dtype(),
        sizes,
        List.of(x, begin, l.i32(sizes)),
        "Index",
        Lowerer.type(DType.INT32));
  }

  /**
   * The start indices as one int32 vector, each clamped into {@code [0, dim - size]} as StableHLO
   * does.
   */
  static V clampedStarts(Lowerer l, V x, List<V> starts, long[] sizes) {
    List<V> scalars = new ArrayList<>();
    for (V s : starts) {
      scalars.add(l.cast(s, DType.INT32));
    }
    V packed =
        l.op(
            "Pack",
            DType.INT32,
            new long[] {starts.size()},
            scalars,
            "N",
            Lowerer.i(starts.size()),
            "axis",
            Lowerer.i(0));
    long[] hi = new long[sizes.length];
    for (int k = 0; k < hi.length; k++) {
      hi[k] = x.dim(k) - sizes[k];
    }
    return l.op(
        "ClipByValue",
        DType.INT32,
        packed.shape(),
        List.of(packed, l.i32(new long[sizes.length]), l.i32(hi)));
  }

  /**
   * Writes {@code update} into {@code x} at clamped starts: the update and a mask of ones are
   * padded to {@code x}'s shape around the start, and a select keeps the update where the mask is.
   */
  private static V dynamicUpdateSlice(Lowerer l, V x, V update, List<V> starts) {
    long[] sizes = update.shape();
    V begin = clampedStarts(l, x, starts, sizes);
    long[] rest = new long[sizes.length];
    for (int k = 0; k < rest.length; k++) {
      rest[k] = x.dim(k) - sizes[k];
    }
    V after = l.op("Sub", DType.INT32, begin.shape(), List.of(l.i32(rest), begin));
    V paddings =
        l.op(
            "Pack",
            DType.INT32,
            new long[] {sizes.length, 2},
            List.of(begin, after),
            "N",
            Lowerer.i(2),
            "axis",
            Lowerer.i(1));
    DType maskType = DType.INT32;
    V ones = l.constant(Lowerer.tensor(maskType, sizes, new long[] {1}, null));
    V maskPadded =
        l.op(
            "Pad",
            maskType,
            x.shape(),
            List.of(ones, paddings),
            "Tpaddings",
            Lowerer.type(DType.INT32));
    V mask = l.binary("NotEqual", maskPadded, l.scalar(maskType, 0), DType.BOOL);
    V updPadded =
        l.op(
            "Pad",
            x.dtype(),
            x.shape(),
            List.of(update, paddings),
            "Tpaddings",
            Lowerer.type(DType.INT32));
    return l.op(
        "SelectV2",
        x.dtype(),
        x.shape(),
        List.of(mask, updPadded, x),
        "T",
        Lowerer.type(x.dtype()));
  }

  /**
   * StableHLO pad: interior padding first (each axis: add a size-1 axis, pad it by the interior
   * count, merge, drop the trailing pad), then edge padding, negative edges slicing instead.
   */
  static V pad(Lowerer l, V x, V value, long[] low, long[] high, long[] interior) {
    V cur = x;
    for (int k = 0; k < x.rank(); k++) {
      long in = interior.length > k ? interior[k] : 0;
      if (in == 0 || cur.dim(k) == 0) {
        continue;
      }
      long n = cur.dim(k);
      long[] expanded = new long[cur.rank() + 1];
      for (int j = 0, m = 0; j < cur.rank(); j++) {
        expanded[m++] = cur.dim(j);
        if (j == k) {
          expanded[m++] = 1;
        }
      }
      V e = l.reshape(cur, expanded);
      long[][] pads = new long[expanded.length][2];
      pads[k + 1][1] = in;
      long[] padded = expanded.clone();
      padded[k + 1] = 1 + in;
      V p = padV2(l, e, value, pads, padded);
      long[] merged = cur.shape().clone();
      merged[k] = n * (1 + in);
      V m = l.reshape(p, merged);
      long[] end = merged.clone();
      end[k] = n + (n - 1) * in;
      long[] ones = new long[merged.length];
      Arrays.fill(ones, 1);
      cur = l.stridedSlice(m, new long[merged.length], end, ones);
    }
    long[][] pads = new long[x.rank()][2];
    long[] padded = cur.shape().clone();
    boolean anyPad = false;
    for (int k = 0; k < x.rank(); k++) {
      pads[k][0] = Math.max(0, low[k]);
      pads[k][1] = Math.max(0, high[k]);
      padded[k] += pads[k][0] + pads[k][1];
      anyPad |= pads[k][0] != 0 || pads[k][1] != 0;
    }
    if (anyPad) {
      cur = padV2(l, cur, value, pads, padded);
    }
    long[] begin = new long[x.rank()];
    long[] end = cur.shape().clone();
    long[] ones = new long[x.rank()];
    Arrays.fill(ones, 1);
    for (int k = 0; k < x.rank(); k++) {
      begin[k] = Math.max(0, -low[k]);
      end[k] = cur.dim(k) - Math.max(0, -high[k]);
    }
    V out = l.stridedSlice(cur, begin, end, ones);
    return out == x ? l.identity(x) : out;
  }

  static V padV2(Lowerer l, V x, V value, long[][] pads, long[] outShape) {
    long[] flat = new long[pads.length * 2];
    for (int k = 0; k < pads.length; k++) {
      flat[2 * k] = pads[k][0];
      flat[2 * k + 1] = pads[k][1];
    }
    V p = l.constant(Lowerer.tensor(DType.INT32, new long[] {pads.length, 2}, flat, null));
    V scalarValue = value.rank() == 0 ? value : l.reshape(value, new long[0]);
    return l.op(
        "PadV2",
        x.dtype(),
        outShape,
        List.of(x, p, scalarValue),
        "Tpaddings",
        Lowerer.type(DType.INT32));
  }

  /** A constant: the shape is static, so the values are known now. */
  private static V iota(Lowerer l, V out, int dim) {
    long[] shape = out.shape();
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    if (n > 1 << 24) {
      throw new Refusal("an iota of " + n + " elements");
    }
    long inner = 1;
    for (int k = dim + 1; k < shape.length; k++) {
      inner *= shape[k];
    }
    long[] values = new long[(int) n];
    for (int k = 0; k < n; k++) {
      values[k] = (k / inner) % shape[dim];
    }
    return l.constant(Lowerer.tensor(out.dtype(), shape, values, null));
  }

  private static V dimensionSize(Lowerer l, V x, int dim, DType t) {
    if (x.dim(dim) >= 0) {
      return l.constant(Lowerer.tensor(t, new long[0], new long[] {x.dim(dim)}, null));
    }
    V shape =
        l.op(
            "Shape",
            DType.INT32,
            new long[] {x.rank()},
            List.of(x),
            "out_type",
            Lowerer.type(DType.INT32));
    V d = l.shapeElement(shape, dim);
    return l.cast(d, t);
  }
}
