package org.tfport.graph.stablehlo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tfport.core.DType;
import org.tfport.formats.stablehlo.Attr;
import org.tfport.formats.stablehlo.Attrs;
import org.tfport.formats.stablehlo.Op;
import org.tfport.graph.stablehlo.Lowerer.Refusal;
import org.tfport.graph.stablehlo.Lowerer.V;

/**
 * {@code stablehlo.convolution}: the input goes to [batch, spatial..., feature] and the kernel to
 * [spatial..., in, out]; lhs dilation and padding become an explicit pad, rhs dilation and strides
 * the Conv's own; groups are split and concatenated; the result is transposed to its layout.
 */
final class Convolution {
  private Convolution() {}

  /** One side of the dimension numbers: the two named dimensions and the spatial ones. */
  private record Layout(int first, int second, int[] spatial) {}

  static V lower(Lowerer l, Op op, List<V> ins, V out) {
    if (!(op.attr("dimension_numbers") instanceof Attr.DialectAttr dn)) {
      throw new Refusal("convolution without dimension_numbers");
    }
    long batchGroups = Attrs.intValue(op.attr("batch_group_count"), 1);
    String[] sides = dn.body().replace(" ", "").split("x|->");
    if (sides.length != 3) {
      throw new Refusal("dimension numbers '" + dn.body() + "' not of the form [..]x[..]->[..]");
    }
    Layout lin = layout(sides[0], 'b', 'f');
    Layout ker = layout(sides[1], 'i', 'o');
    Layout res = layout(sides[2], 'b', 'f');
    int n = lin.spatial().length;
    if (n < 1 || n > 3) {
      throw new Refusal(n + " spatial dimensions (1 to 3 are lowered)");
    }
    V input = ins.get(0);
    for (int k = 0; k < input.rank(); k++) {
      if (input.dim(k) < 0 && (k != lin.first() || batchGroups != 1)) {
        // Only a ? batch (a symbolic leading dimension) passes through the Conv2D/Conv3D as is.
        throw new Refusal(
            "a dynamic "
                + (k == lin.first()
                    ? "batch with batch_group_count " + batchGroups
                    : "dimension " + k)
                + " of the input (a ? batch alone lowers)");
      }
    }
    long[] strides = orOnes(Attrs.longs(op.attr("window_strides")), n);
    long[] lhsDil = orOnes(Attrs.longs(op.attr("lhs_dilation")), n);
    long[] rhsDil = orOnes(Attrs.longs(op.attr("rhs_dilation")), n);
    long[] pad = Attrs.longs(op.attr("padding"));
    long[] reversal = Attrs.longs(op.attr("window_reversal"));
    long groups = Attrs.intValue(op.attr("feature_group_count"), 1);

    DType ct = DotConv.computeType(ins.get(0).dtype());
    V x = l.cast(ins.get(0), ct);
    V w = l.cast(ins.get(1), ct);
    x = l.transpose(x, perm(lin.first(), lin.spatial(), lin.second()));
    int[] kperm = new int[n + 2];
    for (int k = 0; k < n; k++) {
      kperm[k] = ker.spatial()[k];
    }
    kperm[n] = ker.first();
    kperm[n + 1] = ker.second();
    w = l.transpose(w, kperm);
    List<Long> reversed = new ArrayList<>();
    for (int k = 0; k < reversal.length; k++) {
      if (reversal[k] != 0) {
        reversed.add((long) k);
      }
    }
    if (!reversed.isEmpty()) {
      w =
          l.op(
              "ReverseV2",
              ct,
              w.shape(),
              List.of(w, l.i32(reversed.stream().mapToLong(Long::longValue).toArray())),
              "Tidx",
              Lowerer.type(DType.INT32));
    }
    long[] low = new long[n + 2];
    long[] high = new long[n + 2];
    long[] interior = new long[n + 2];
    boolean padded = false;
    for (int k = 0; k < n; k++) {
      low[k + 1] = pad.length > 2 * k ? pad[2 * k] : 0;
      high[k + 1] = pad.length > 2 * k + 1 ? pad[2 * k + 1] : 0;
      interior[k + 1] = lhsDil[k] - 1;
      padded |= low[k + 1] != 0 || high[k + 1] != 0 || interior[k + 1] != 0;
    }
    if (padded) {
      x = ShapeLowering.pad(l, x, l.scalar(ct, 0), low, high, interior);
    }
    long cin = x.dim(n + 1);
    long cout = w.dim(n + 1);
    if (batchGroups != 1) {
      // A weight-gradient convolution: batch group g of the input meets output feature group g of
      // the kernel, and the results stand side by side on the output features.
      if (groups != 1
          || batchGroups < 1
          || x.dim(0) % batchGroups != 0
          || cout % batchGroups != 0) {
        throw new Refusal(
            "batch_group_count "
                + batchGroups
                + " with feature_group_count "
                + groups
                + " over batch "
                + x.dim(0)
                + " and "
                + cout
                + " output features");
      }
      List<V> parts = new ArrayList<>();
      long gb = x.dim(0) / batchGroups;
      long gout = cout / batchGroups;
      for (int gi = 0; gi < batchGroups; gi++) {
        V xs = channelSlice(l, x, 0, gi * gb, gb);
        V ws = channelSlice(l, w, n + 1, gi * gout, gout);
        parts.add(conv(l, xs, ws, strides, rhsDil, n));
      }
      return finish(l, op, concatFeatures(l, parts, ct, cout, n), res, n, out);
    }
    if (cin % groups != 0 || cout % groups != 0 || w.dim(n) * groups != cin) {
      throw new Refusal(
          "feature_group_count "
              + groups
              + " does not fit "
              + cin
              + " input and "
              + cout
              + " output features");
    }
    V y;
    if (groups == 1) {
      y = conv(l, x, w, strides, rhsDil, n);
    } else {
      List<V> parts = new ArrayList<>();
      long gin = cin / groups;
      long gout = cout / groups;
      for (int gi = 0; gi < groups; gi++) {
        V xs = channelSlice(l, x, n + 1, gi * gin, gin);
        V ws = channelSlice(l, w, n + 1, gi * gout, gout);
        parts.add(conv(l, xs, ws, strides, rhsDil, n));
      }
      y = concatFeatures(l, parts, ct, cout, n);
    }
    return finish(l, op, y, res, n, out);
  }

  private static V concatFeatures(Lowerer l, List<V> parts, DType ct, long cout, int n) {
    long[] shape = parts.get(0).shape().clone();
    shape[n + 1] = cout;
    List<V> concatIns = new ArrayList<>(parts);
    concatIns.add(l.i32Scalar(n + 1));
    return l.op(
        "ConcatV2",
        ct,
        shape,
        concatIns,
        "N",
        Lowerer.i(parts.size()),
        "Tidx",
        Lowerer.type(DType.INT32));
  }

  private static V finish(Lowerer l, Op op, V y, Layout res, int n, V out) {
    // y is [b, spatial..., f]; put each axis where the result's layout wants it.
    int[] toResult = new int[n + 2];
    toResult[res.first()] = 0;
    toResult[res.second()] = n + 1;
    for (int k = 0; k < n; k++) {
      toResult[res.spatial()[k]] = k + 1;
    }
    V r = l.transpose(y, toResult);
    if (!Arrays.equals(r.shape(), out.shape())) {
      throw new Refusal(
          "computed result shape "
              + Arrays.toString(r.shape())
              + " differs from the declared "
              + op.resultTypes().get(0));
    }
    return l.cast(r, out.dtype());
  }

  private static V channelSlice(Lowerer l, V x, int axis, long start, long size) {
    long[] begin = new long[x.rank()];
    long[] end = x.shape().clone();
    long[] ones = new long[x.rank()];
    Arrays.fill(ones, 1);
    begin[axis] = start;
    end[axis] = start + size;
    return l.stridedSlice(x, begin, end, ones);
  }

  /** A VALID convolution of [b, spatial..., c] by [spatial..., c, o]. */
  private static V conv(Lowerer l, V x, V w, long[] strides, long[] dil, int n) {
    if (n == 1) {
      V x2 = l.reshape(x, new long[] {x.dim(0), 1, x.dim(1), x.dim(2)});
      V w2 = l.reshape(w, new long[] {1, w.dim(0), w.dim(1), w.dim(2)});
      V y = conv(l, x2, w2, new long[] {1, strides[0]}, new long[] {1, dil[0]}, 2);
      return l.reshape(y, new long[] {y.dim(0), y.dim(2), y.dim(3)});
    }
    long[] shape = new long[n + 2];
    shape[0] = x.dim(0);
    shape[n + 1] = w.dim(n + 1);
    long[] s = new long[n + 2];
    long[] d = new long[n + 2];
    s[0] = s[n + 1] = d[0] = d[n + 1] = 1;
    for (int k = 0; k < n; k++) {
      long eff = (w.dim(k) - 1) * dil[k] + 1;
      long o = (x.dim(k + 1) - eff) / strides[k] + 1;
      if (x.dim(k + 1) < eff) {
        o = 0;
      }
      shape[k + 1] = o;
      s[k + 1] = strides[k];
      d[k + 1] = dil[k];
    }
    return l.op(
        n == 2 ? "Conv2D" : "Conv3D",
        x.dtype(),
        shape,
        List.of(x, w),
        "strides",
        Lowerer.ints(s),
        "dilations",
        Lowerer.ints(d),
        "padding",
        Lowerer.s("VALID"),
        "data_format",
        Lowerer.s(n == 2 ? "NHWC" : "NDHWC"),
        "use_cudnn_on_gpu",
        n == 2 ? Lowerer.b(true) : null);
  }

  private static long[] orOnes(long[] v, int n) {
    if (v.length == n) {
      return v;
    }
    long[] ones = new long[n];
    Arrays.fill(ones, 1);
    return ones;
  }

  private static int[] perm(int first, int[] spatial, int last) {
    int[] p = new int[spatial.length + 2];
    p[0] = first;
    System.arraycopy(spatial, 0, p, 1, spatial.length);
    p[p.length - 1] = last;
    return p;
  }

  /** {@code [b, 0, 1, f]}: where the two named dimensions and spatial dimension k sit. */
  private static Layout layout(String side, char a, char b) {
    String[] names = side.replace("[", "").replace("]", "").split(",");
    int first = -1;
    int second = -1;
    int[] spatial = new int[names.length - 2];
    if (names.length < 3) {
      throw new Refusal("dimension numbers side '" + side + "' has under 3 dimensions");
    }
    for (int pos = 0; pos < names.length; pos++) {
      String nm = names[pos];
      if (nm.equals(String.valueOf(a))) {
        first = pos;
      } else if (nm.equals(String.valueOf(b))) {
        second = pos;
      } else {
        try {
          spatial[Integer.parseInt(nm)] = pos;
        } catch (RuntimeException e) {
          throw new Refusal("dimension numbers side '" + side + "' names '" + nm + "'");
        }
      }
    }
    if (first < 0 || second < 0) {
      throw new Refusal("dimension numbers side '" + side + "' lacks " + a + " or " + b);
    }
    return new Layout(first, second, spatial);
  }
}
