package org.tfport.graph.stablehlo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.formats.stablehlo.Attr;
import org.tfport.formats.stablehlo.Attrs;
import org.tfport.formats.stablehlo.Op;
import org.tfport.formats.stablehlo.Region;
import org.tfport.graph.stablehlo.Lowerer.Refusal;
import org.tfport.graph.stablehlo.Lowerer.V;

/** {@code gather} in the forms JAX writes for indexing, and {@code sort}. */
final class Indexing {
  private Indexing() {}

  static final Set<String> NAMES = Set.of("stablehlo.gather", "stablehlo.sort");

  static List<V> lower(Lowerer l, Op op, List<V> ins) {
    for (V v : ins) {
      if (!Lowerer.isStatic(v.shape())) {
        throw new Refusal("an operand of dynamic shape");
      }
    }
    if (op.name().equals("stablehlo.sort")) {
      return sort(l, op, ins);
    }
    return List.of(gather(l, op, ins.get(0), ins.get(1)));
  }

  /**
   * A gather whose indexed dimensions take slices of size 1: the other dimensions are sliced, the
   * indexed ones moved first, the indices clamped as StableHLO clamps them, then GatherNd and a
   * transpose that puts the offset dimensions where the result has them.
   */
  private static V gather(Lowerer l, Op op, V operand, V indices) {
    if (!(op.attr("dimension_numbers") instanceof Attr.DictAttr dn)) {
      throw new Refusal("gather without dimension_numbers");
    }
    Map<String, Attr> e = dn.entries();
    long[] obd = Attrs.longs(e.get("operand_batching_dims"));
    long[] sibd = Attrs.longs(e.get("start_indices_batching_dims"));
    if (obd.length != sibd.length) {
      throw new Refusal(
          "operand_batching_dims and start_indices_batching_dims of different lengths");
    }
    long[] offsetDims = Attrs.longs(e.get("offset_dims"));
    long[] collapsed = Attrs.longs(e.get("collapsed_slice_dims"));
    long[] startMap = Attrs.longs(e.get("start_index_map"));
    long ivd = Attrs.intValue(e.get("index_vector_dim"), indices.rank());
    long[] sizes = Attrs.longs(op.attr("slice_sizes"));
    int r = operand.rank();
    for (long d : startMap) {
      if (sizes[(int) d] != 1) {
        throw new Refusal("gather of slices larger than 1 along an indexed dimension");
      }
    }
    // Indices to [batch..., K].
    V idx = l.cast(indices, DType.INT32);
    if (ivd == indices.rank()) {
      idx = l.reshape(idx, DotConv.append(indices.shape(), 1));
    } else if (ivd != indices.rank() - 1) {
      int[] perm = new int[indices.rank()];
      for (int k = 0, m = 0; k < indices.rank(); k++) {
        if (k != ivd) {
          perm[m++] = k;
        }
      }
      perm[indices.rank() - 1] = (int) ivd;
      idx = l.transpose(idx, perm);
    }
    if (idx.dim(idx.rank() - 1) != startMap.length) {
      throw new Refusal(
          "index vectors of "
              + idx.dim(idx.rank() - 1)
              + " for "
              + startMap.length
              + " indexed dimensions");
    }
    if (obd.length > 0) {
      // A batching dimension pairs an operand dimension with one of the indices': the slice at
      // batch position b starts at operand coordinate b there. That is an indexed, collapsed
      // dimension whose index is the position, appended to every index vector.
      long[] batchShape = Arrays.copyOf(idx.shape(), idx.rank() - 1);
      List<V> cols = new ArrayList<>(List.of(idx));
      for (int i = 0; i < obd.length; i++) {
        int ax = (int) sibd[i];
        if (ax == ivd || ax < 0 || ax >= indices.rank()) {
          throw new Refusal("start_indices_batching_dims names the index vector dimension");
        }
        if (obd[i] < 0 || obd[i] >= r || sizes[(int) obd[i]] != 1) {
          throw new Refusal("a batching dimension whose slice size is not 1");
        }
        cols.add(l.constant(Scatter.coordinates(batchShape, ax > ivd ? ax - 1 : ax)));
      }
      int k = startMap.length + obd.length;
      idx = Scatter.concat(l, cols, DotConv.append(batchShape, k));
      startMap = DotConv.append(startMap, obd);
      collapsed = DotConv.append(collapsed, obd);
    }
    int kdim = startMap.length;
    long[] hi = new long[kdim];
    for (int k = 0; k < kdim; k++) {
      hi[k] = operand.dim((int) startMap[k]) - 1;
    }
    // Maximum/Minimum broadcast the bounds over the index vectors (ClipByValue does not).
    idx = l.op("Maximum", DType.INT32, idx.shape(), List.of(idx, l.i32(new long[kdim])));
    idx = l.op("Minimum", DType.INT32, idx.shape(), List.of(idx, l.i32(hi)));
    // Operand: slice the other dimensions, then indexed dimensions first.
    long[] end = operand.shape().clone();
    List<Integer> rest = new ArrayList<>();
    for (int d = 0; d < r; d++) {
      final long dd = d;
      if (Arrays.stream(startMap).noneMatch(x -> x == dd)) {
        end[d] = sizes[d];
        rest.add(d);
      }
    }
    long[] ones = new long[r];
    Arrays.fill(ones, 1);
    V x = l.stridedSlice(operand, new long[r], end, ones);
    int[] perm = new int[r];
    for (int k = 0; k < kdim; k++) {
      perm[k] = (int) startMap[k];
    }
    for (int k = 0; k < rest.size(); k++) {
      perm[kdim + k] = rest.get(k);
    }
    x = l.transpose(x, perm);
    long[] batch = Arrays.copyOf(idx.shape(), idx.rank() - 1);
    long[] gathered = new long[batch.length + rest.size()];
    System.arraycopy(batch, 0, gathered, 0, batch.length);
    for (int k = 0; k < rest.size(); k++) {
      gathered[batch.length + k] = sizes[rest.get(k)];
    }
    V gnd =
        l.op(
            "GatherNd",
            x.dtype(),
            gathered,
            List.of(x, idx),
            "Tparams",
            Lowerer.type(x.dtype()),
            "Tindices",
            Lowerer.type(DType.INT32),
            "T",
            null);
    // [batch..., every non-collapsed dimension in operand order] (indexed ones have size 1).
    List<Long> offsets = new ArrayList<>();
    for (int d = 0; d < r; d++) {
      final long dd = d;
      if (Arrays.stream(collapsed).noneMatch(c -> c == dd)) {
        offsets.add(sizes[d]);
      }
    }
    if (offsets.size() != offsetDims.length) {
      throw new Refusal("offset_dims do not match the slice sizes and collapsed dimensions");
    }
    long[] expanded = new long[batch.length + offsets.size()];
    System.arraycopy(batch, 0, expanded, 0, batch.length);
    for (int k = 0; k < offsets.size(); k++) {
      expanded[batch.length + k] = offsets.get(k);
    }
    V y = l.reshape(gnd, expanded);
    int outRank = expanded.length;
    int[] toResult = new int[outRank];
    int nextBatch = 0;
    for (int p = 0; p < outRank; p++) {
      int j = -1;
      for (int k = 0; k < offsetDims.length; k++) {
        if (offsetDims[k] == p) {
          j = k;
        }
      }
      toResult[p] = j >= 0 ? batch.length + j : nextBatch++;
    }
    V out = l.transpose(y, toResult);
    V declared = l.resultLike(op, 0);
    if (!Arrays.equals(out.shape(), declared.shape())) {
      throw new Refusal(
          "computed result shape "
              + Arrays.toString(out.shape())
              + " differs from the declared "
              + op.resultTypes().get(0));
    }
    return out == operand ? l.identity(out) : out;
  }

  /**
   * A sort whose comparator orders by the first operand (LT ascending, GT descending): TopKV2 over
   * the whole dimension gives the permutation (stable: equal keys keep their order), which gathers
   * every operand.
   */
  private static List<V> sort(Lowerer l, Op op, List<V> ins) {
    Region cmp = op.regions().get(0);
    String a0 = cmp.args().get(0).name();
    String a1 = cmp.args().get(1).name();
    Boolean ascending = null;
    for (Op c : cmp.ops()) {
      if (c.name().equals("stablehlo.compare") && c.operands().size() == 2) {
        String dir = ((Attr.EnumAttr) c.attr("comparison_direction")).value();
        boolean straight = c.operands().get(0).equals(a0) && c.operands().get(1).equals(a1);
        boolean swapped = c.operands().get(0).equals(a1) && c.operands().get(1).equals(a0);
        Op last = cmp.ops().get(cmp.ops().size() - 1);
        if ((straight || swapped)
            && (dir.equals("LT") || dir.equals("GT"))
            && last.operands().equals(c.results())) {
          ascending = dir.equals("LT") == straight;
        }
        break;
      }
    }
    if (ascending == null) {
      throw new Refusal("a comparator other than one LT or GT of the first operand's pair");
    }
    V keys = ins.get(0);
    int r = keys.rank();
    int dim = (int) Attrs.intValue(op.attr("dimension"), r - 1);
    if (dim < 0) {
      dim += r;
    }
    int[] perm = new int[r];
    for (int k = 0, m = 0; k < r; k++) {
      if (k != dim) {
        perm[m++] = k;
      }
    }
    perm[r - 1] = dim;
    int[] back = new int[r];
    for (int k = 0; k < r; k++) {
      back[perm[k]] = k;
    }
    V kt = l.transpose(keys, perm);
    V ranked = kt;
    if (ascending) {
      if (keys.dtype() == DType.BOOL
          || keys.dtype() == DType.UINT8
          || keys.dtype() == DType.UINT16) {
        throw new Refusal("an ascending sort of " + keys.dtype().jsName());
      }
      ranked = l.op("Neg", kt.dtype(), kt.shape(), List.of(kt));
    }
    long n = kt.dim(r - 1);
    String topk =
        l.node(
            "TopKV2",
            List.of(ranked.ref(), l.i32Scalar(n).ref()),
            "T",
            Lowerer.type(kt.dtype()),
            "sorted",
            Lowerer.b(true));
    V order = new V(topk + ":1", DType.INT32, kt.shape());
    List<V> outs = new ArrayList<>();
    for (V x : ins) {
      V xt = l.transpose(x, perm);
      V g =
          l.op(
              "GatherV2",
              xt.dtype(),
              xt.shape(),
              List.of(xt, order, l.i32Scalar(r - 1)),
              "Tparams",
              Lowerer.type(xt.dtype()),
              "Tindices",
              Lowerer.type(DType.INT32),
              "Taxis",
              Lowerer.type(DType.INT32),
              "batch_dims",
              Lowerer.i(r - 1),
              "T",
              null);
      outs.add(l.transpose(g, back));
    }
    return outs;
  }
}
