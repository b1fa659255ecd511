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

/**
 * {@code scatter} (what JAX writes for {@code x.at[i].set/add/mul/min/max}) and {@code
 * select_and_scatter} (the gradient of a max pool), lowered to {@code ScatterNd} (adding) and
 * {@code TensorScatter*} ops.
 *
 * <p>Every element of the updates gets its full index into the operand, so any dimension numbers
 * lower the same way. XLA skips an update window that does not fit in the operand; here such a
 * window's elements are sent to one extra row appended to dimension 0 and cut off after.
 */
final class Scatter {
  private Scatter() {}

  static final Set<String> NAMES = Set.of("stablehlo.scatter", "stablehlo.select_and_scatter");

  static List<V> lower(Lowerer l, Op op, List<V> ins) {
    for (V v : ins) {
      if (!Lowerer.isStatic(v.shape())) {
        throw new Refusal("an operand of dynamic shape");
      }
    }
    return List.of(
        op.name().equals("stablehlo.scatter")
            ? scatter(l, op, ins)
            : SelectAndScatter.lower(l, op, ins));
  }

  /** How the update computation combines the current value and the update. */
  enum Combine {
    SET,
    ADD,
    MUL,
    MAX,
    MIN
  }

  static Combine combine(Region r, String what) {
    if (r.args().size() != 2) {
      throw new Refusal(what + " combining " + (r.args().size() / 2) + " operands at once");
    }
    String cur = r.args().get(0).name();
    String upd = r.args().get(1).name();
    List<Op> ops = r.ops();
    Op ret = ops.get(ops.size() - 1);
    if (ops.size() == 1 && ret.operands().equals(List.of(upd))) {
      return Combine.SET;
    }
    if (ops.size() == 2 && ret.operands().equals(ops.get(0).results())) {
      Op c = ops.get(0);
      boolean both =
          c.operands().size() == 2
              && (c.operands().equals(List.of(cur, upd)) || c.operands().equals(List.of(upd, cur)));
      if (both) {
        switch (c.name()) {
          case "stablehlo.add":
            return Combine.ADD;
          case "stablehlo.multiply":
            return Combine.MUL;
          case "stablehlo.maximum":
            return Combine.MAX;
          case "stablehlo.minimum":
            return Combine.MIN;
          default:
            break;
        }
      }
    }
    throw new Refusal(
        what + " whose update computation is not set, add, multiply, maximum or minimum");
  }

  // ------------------------------------------------------------------ scatter

  /** An int32 tensor of shape [batch..., 1] holding each element's coordinate on {@code axis}. */
  static org.tfport.core.Tensor coordinates(long[] batch, int axis) {
    int n = (int) product(batch);
    long inner = 1;
    for (int d = axis + 1; d < batch.length; d++) {
      inner *= batch[d];
    }
    long[] values = new long[n];
    for (int k = 0; k < n; k++) {
      values[k] = (k / inner) % batch[axis];
    }
    return Lowerer.tensor(DType.INT32, DotConv.append(batch, 1), values, null);
  }

  private static V scatter(Lowerer l, Op op, List<V> ins) {
    if (ins.size() != 3) {
      throw new Refusal("a scatter of " + (ins.size() - 1) / 2 + " operands at once");
    }
    V operand = ins.get(0);
    V indices = ins.get(1);
    V updates = ins.get(2);
    Combine mode = combine(op.regions().get(0), "a scatter");
    if (!(op.attr("scatter_dimension_numbers") instanceof Attr.DictAttr dn)) {
      throw new Refusal("scatter without scatter_dimension_numbers");
    }
    Map<String, Attr> e = dn.entries();
    // Batching dimensions pair an operand dimension with one of the indices': the update at batch
    // position b lands at operand coordinate b there, like an inserted dimension of size 1.
    long[] ibd = Attrs.longs(e.get("input_batching_dims"));
    long[] sibd = Attrs.longs(e.get("scatter_indices_batching_dims"));
    if (ibd.length != sibd.length) {
      throw new Refusal(
          "input_batching_dims and scatter_indices_batching_dims of different lengths");
    }
    long[] uwd = Attrs.longs(e.get("update_window_dims"));
    long[] iwd = Attrs.longs(e.get("inserted_window_dims"));
    long[] sdod = Attrs.longs(e.get("scatter_dims_to_operand_dims"));
    int ivd = (int) Attrs.intValue(e.get("index_vector_dim"), 0);
    int r = operand.rank();
    if (r == 0) {
      throw new Refusal("a scatter into a scalar");
    }
    if (mode == Combine.MUL && !unique(op)) {
      if (!operand.dtype().isFloating()) {
        throw new Refusal(
            "a multiplying scatter of integers whose indices are not declared unique");
      }
    }
    // Index vectors to [B..., K].
    V idx = l.cast(indices, DType.INT32);
    if (ivd == indices.rank()) {
      idx = l.reshape(idx, DotConv.append(indices.shape(), 1));
    } else {
      int[] perm = new int[indices.rank()];
      for (int k = 0, m = 0; k < indices.rank(); k++) {
        if (k != ivd) {
          perm[m++] = k;
        }
      }
      perm[indices.rank() - 1] = ivd;
      idx = l.transpose(idx, perm);
    }
    int kdim = sdod.length;
    if (idx.dim(idx.rank() - 1) != kdim) {
      throw new Refusal(
          "index vectors of " + idx.dim(idx.rank() - 1) + " for " + kdim + " scattered dimensions");
    }
    long[] batch = Arrays.copyOf(idx.shape(), idx.rank() - 1);
    // Updates to [B..., W...].
    List<Integer> scatterDims = new ArrayList<>();
    for (int d = 0; d < updates.rank(); d++) {
      if (!contains(uwd, d)) {
        scatterDims.add(d);
      }
    }
    if (scatterDims.size() != batch.length) {
      throw new Refusal("updates whose scatter dimensions do not match the indices");
    }
    int[] uperm = new int[updates.rank()];
    for (int k = 0; k < scatterDims.size(); k++) {
      uperm[k] = scatterDims.get(k);
      if (updates.dim(scatterDims.get(k)) != batch[k]) {
        throw new Refusal("updates whose scatter dimensions do not match the indices");
      }
    }
    for (int k = 0; k < uwd.length; k++) {
      uperm[batch.length + k] = (int) uwd[k];
    }
    // Operand dimensions the window covers, and the window's extent on each operand dimension.
    List<Integer> windowDims = new ArrayList<>();
    for (int d = 0; d < r; d++) {
      if (!contains(iwd, d) && !contains(ibd, d)) {
        windowDims.add(d);
      }
    }
    if (windowDims.size() != uwd.length) {
      throw new Refusal("update_window_dims do not match the operand's non-inserted dimensions");
    }
    long[] extent = new long[r];
    Arrays.fill(extent, 1);
    long[] window = new long[uwd.length];
    for (int k = 0; k < uwd.length; k++) {
      window[k] = updates.dim((int) uwd[k]);
      extent[windowDims.get(k)] = window[k];
      if (window[k] > operand.dim(windowDims.get(k))) {
        throw new Refusal("an update window larger than the operand");
      }
    }
    V upd = l.transpose(updates, uperm);
    // The start of each window in operand coordinates, [B..., r].
    long[] col = DotConv.append(batch, 1);
    List<V> cols = new ArrayList<>();
    for (int d = 0; d < r; d++) {
      int k = indexOf(sdod, d);
      int bi = indexOf(ibd, d);
      if (bi >= 0) {
        if (k >= 0) {
          throw new Refusal("operand dimension " + d + " both batching and scattered into");
        }
        int ax = (int) sibd[bi];
        if (ax == ivd || ax < 0 || ax >= indices.rank()) {
          throw new Refusal("scatter_indices_batching_dims names the index vector dimension");
        }
        cols.add(l.constant(coordinates(batch, ivd < indices.rank() && ax > ivd ? ax - 1 : ax)));
      } else if (k < 0) {
        cols.add(l.constant(Lowerer.tensor(DType.INT32, col, new long[] {0}, null)));
      } else {
        long[] begin = new long[idx.rank()];
        long[] end = idx.shape().clone();
        long[] strides = new long[idx.rank()];
        Arrays.fill(strides, 1);
        begin[idx.rank() - 1] = k;
        end[idx.rank() - 1] = k + 1;
        cols.add(l.stridedSlice(idx, begin, end, strides));
      }
    }
    V start = concat(l, cols, DotConv.append(batch, r));
    // Whether each window fits: start within [0, dim - extent] on every dimension.
    long[] hi = new long[r];
    for (int d = 0; d < r; d++) {
      hi[d] = operand.dim(d) - extent[d];
    }
    V clamped = l.op("Maximum", DType.INT32, start.shape(), List.of(start, l.i32(new long[r])));
    clamped = l.op("Minimum", DType.INT32, start.shape(), List.of(clamped, l.i32(hi)));
    V off = l.op("Sub", DType.INT32, start.shape(), List.of(start, clamped));
    off = l.op("Abs", DType.INT32, start.shape(), List.of(off));
    V bad =
        l.op(
            "Sum",
            DType.INT32,
            col,
            List.of(off, l.i32Scalar(batch.length)),
            "keep_dims",
            Lowerer.b(true),
            "Tidx",
            Lowerer.type(DType.INT32));
    V fits =
        l.cast(
            l.op(
                "Equal",
                DType.BOOL,
                col,
                List.of(bad, l.i32Scalar(0)),
                "T",
                Lowerer.type(DType.INT32)),
            DType.INT32);
    // Full index of every update element: start + the element's offset in its window.
    long[] ones = new long[window.length];
    Arrays.fill(ones, 1);
    long[] startShape = concat(batch, ones, new long[] {r});
    long[] fullShape = concat(batch, window, new long[] {r});
    int w = (int) product(window);
    long[] offsets = new long[w * r];
    long[] pos = new long[window.length];
    for (int k = 0; k < w; k++) {
      for (int j = 0; j < window.length; j++) {
        offsets[k * r + windowDims.get(j)] = pos[j];
      }
      for (int j = window.length - 1; j >= 0 && ++pos[j] == window[j]; j--) {
        pos[j] = 0;
      }
    }
    V windowOffsets =
        l.constant(Lowerer.tensor(DType.INT32, DotConv.append(window, r), offsets, null));
    V full =
        l.op("AddV2", DType.INT32, fullShape, List.of(l.reshape(start, startShape), windowOffsets));
    // Elements of windows that do not fit go to row dim0 of the padded operand: (full - spare) *
    // fits + spare.
    long[] spare = new long[r];
    spare[0] = operand.dim(0);
    V spareRow = l.i32(spare);
    V fitsFull = l.reshape(fits, concat(batch, ones, new long[] {1}));
    V shifted = l.op("Sub", DType.INT32, fullShape, List.of(full, spareRow));
    shifted = l.op("Mul", DType.INT32, fullShape, List.of(shifted, fitsFull));
    full = l.op("AddV2", DType.INT32, fullShape, List.of(shifted, spareRow));
    long n = product(batch) * w;
    V flatIdx = l.reshape(full, new long[] {n, r});
    V flatUpd = l.reshape(upd, new long[] {n});
    long[] paddings = new long[2 * r];
    paddings[1] = 1;
    long[] paddedShape = operand.shape().clone();
    paddedShape[0]++;
    V padded =
        l.op(
            "Pad",
            operand.dtype(),
            paddedShape,
            List.of(
                operand,
                l.constant(Lowerer.tensor(DType.INT32, new long[] {r, 2}, paddings, null))),
            "Tpaddings",
            Lowerer.type(DType.INT32));
    V result =
        switch (mode) {
          case SET ->
              unique(op)
                  ? l.op(
                      "SelectV2",
                      padded.dtype(),
                      paddedShape,
                      List.of(
                          touched(l, flatIdx, paddedShape),
                          scatterNd(l, flatIdx, flatUpd, paddedShape),
                          padded),
                      "T",
                      Lowerer.type(padded.dtype()))
                  : tensorScatter(l, "TensorScatterUpdate", padded, flatIdx, flatUpd);
          case ADD -> scatterAdd(l, padded, flatIdx, flatUpd);
          case MAX ->
              unique(op)
                  ? extreme(l, "Maximum", padded, flatIdx, flatUpd)
                  : tensorScatter(l, "TensorScatterMax", padded, flatIdx, flatUpd);
          case MIN ->
              unique(op)
                  ? extreme(l, "Minimum", padded, flatIdx, flatUpd)
                  : tensorScatter(l, "TensorScatterMin", padded, flatIdx, flatUpd);
          case MUL -> multiply(l, op, padded, flatIdx, flatUpd);
        };
    long[] begin = new long[r];
    long[] strides = new long[r];
    Arrays.fill(strides, 1);
    V out = l.stridedSlice(result, begin, operand.shape(), strides);
    V declared = l.resultLike(op, 0);
    if (!Arrays.equals(out.shape(), declared.shape())) {
      throw new Refusal(
          "computed result shape differs from the declared " + op.resultTypes().get(0));
    }
    return out;
  }

  /**
   * A max- or min-combining scatter with unique indices: each element meets at most one update, so
   * the update spread by ScatterNd and combined where it lands is exact, in ops TF.js and TFLite
   * builtins run.
   */
  private static V extreme(Lowerer l, String tfOp, V padded, V idx, V upd) {
    long[] shape = padded.shape();
    V spread = scatterNd(l, idx, upd, shape);
    V combined = l.op(tfOp, padded.dtype(), shape, List.of(padded, spread));
    return l.op(
        "SelectV2",
        padded.dtype(),
        shape,
        List.of(touched(l, idx, shape), combined, padded),
        "T",
        Lowerer.type(padded.dtype()));
  }

  private static boolean unique(Op op) {
    return op.attr("unique_indices") instanceof Attr.BoolAttr b && b.value();
  }

  /**
   * A multiplying scatter: with unique indices, the operand times the updates where they land;
   * otherwise (floating types) the product of each element's updates as sign and exp of the sum of
   * logarithms, zeros counted apart, multiplying the operand (untouched elements by exactly 1).
   */
  private static V multiply(Lowerer l, Op op, V padded, V idx, V upd) {
    DType t = padded.dtype();
    if (unique(op)) {
      V factor =
          l.op(
              "SelectV2",
              t,
              padded.shape(),
              List.of(
                  touched(l, idx, padded.shape()),
                  scatterNd(l, idx, upd, padded.shape()),
                  l.scalar(t, 1)),
              "T",
              Lowerer.type(t));
      return l.op("Mul", t, padded.shape(), List.of(padded, factor));
    }
    V zero = l.scalar(t, 0);
    V one = l.scalar(t, 1);
    V isZero = l.op("Equal", DType.BOOL, upd.shape(), List.of(upd, zero));
    V isNeg = l.op("Less", DType.BOOL, upd.shape(), List.of(upd, zero));
    V abs = l.op("Abs", t, upd.shape(), List.of(upd));
    V safe =
        l.op(
            "SelectV2",
            t,
            upd.shape(),
            List.of(isZero, l.broadcastTo(one, upd.shape()), abs),
            "T",
            Lowerer.type(t));
    V logs = l.op("Log", t, upd.shape(), List.of(safe));
    V logSum = scatterNd(l, idx, logs, padded.shape());
    V negs = scatterNd(l, idx, l.cast(isNeg, t), padded.shape());
    V zs = scatterNd(l, idx, l.cast(isZero, t), padded.shape());
    // sign = 1 - 2 * (negs mod 2); nonzero = (zs == 0)
    V two = l.scalar(t, 2);
    V parity = l.op("FloorMod", t, padded.shape(), List.of(negs, two));
    V sign =
        l.op(
            "Sub",
            t,
            padded.shape(),
            List.of(one, l.op("Mul", t, padded.shape(), List.of(parity, two))));
    V nonzero = l.cast(l.op("Equal", DType.BOOL, padded.shape(), List.of(zs, zero)), t);
    V factor = l.op("Exp", t, padded.shape(), List.of(logSum));
    factor = l.op("Mul", t, padded.shape(), List.of(factor, sign));
    factor = l.op("Mul", t, padded.shape(), List.of(factor, nonzero));
    return l.op("Mul", t, padded.shape(), List.of(padded, factor));
  }

  /**
   * {@code tensor} plus the updates summed at their indices: ScatterNd (which TF.js and TFLite run)
   * rather than TensorScatterAdd (which neither does).
   */
  private static V scatterAdd(Lowerer l, V tensor, V idx, V upd) {
    return l.op(
        "AddV2",
        tensor.dtype(),
        tensor.shape(),
        List.of(tensor, scatterNd(l, idx, upd, tensor.shape())));
  }

  /**
   * Where some update lands (indices declared unique, so each is written once): a ScatterNd of
   * ones: TF.js and TFLite builtins run ScatterNd, and TFLite has no TensorScatterUpdate.
   */
  private static V touched(Lowerer l, V idx, long[] shape) {
    V ones =
        l.constant(Lowerer.tensor(DType.FLOAT32, new long[] {idx.dim(0)}, new long[] {1}, null));
    V count = scatterNd(l, idx, ones, shape);
    return l.op("Greater", DType.BOOL, shape, List.of(count, l.scalar(DType.FLOAT32, 0)));
  }

  static V scatterNd(Lowerer l, V idx, V upd, long[] shape) {
    return l.op(
        "ScatterNd",
        upd.dtype(),
        shape,
        List.of(idx, upd, l.i32(shape)),
        "T",
        Lowerer.type(upd.dtype()),
        "Tindices",
        Lowerer.type(DType.INT32));
  }

  private static V tensorScatter(Lowerer l, String tfOp, V tensor, V idx, V upd) {
    return l.op(
        tfOp,
        tensor.dtype(),
        tensor.shape(),
        List.of(tensor, idx, upd),
        "T",
        Lowerer.type(tensor.dtype()),
        "Tindices",
        Lowerer.type(DType.INT32));
  }

  // ------------------------------------------------------------------ helpers

  static V concat(Lowerer l, List<V> parts, long[] shape) {
    if (parts.size() == 1) {
      return parts.get(0);
    }
    List<V> ins = new ArrayList<>(parts);
    ins.add(l.i32Scalar(shape.length - 1));
    return l.op(
        "ConcatV2",
        parts.get(0).dtype(),
        shape,
        ins,
        "N",
        Lowerer.i(parts.size()),
        "Tidx",
        Lowerer.type(DType.INT32));
  }

  private static boolean contains(long[] a, long v) {
    return indexOf(a, v) >= 0;
  }

  private static int indexOf(long[] a, long v) {
    for (int k = 0; k < a.length; k++) {
      if (a[k] == v) {
        return k;
      }
    }
    return -1;
  }

  static long product(long[] a) {
    long p = 1;
    for (long x : a) {
      p *= x;
    }
    return p;
  }

  static long[] concat(long[] a, long[] b, long[] c) {
    long[] out = new long[a.length + b.length + c.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    System.arraycopy(c, 0, out, a.length + b.length, c.length);
    return out;
  }
}
