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

/**
 * {@code reduce} and {@code reduce_window} whose body is one of add, multiply, maximum, minimum,
 * and, or; and the (value, iota index) pair reduce JAX writes for argmax/argmin.
 */
final class Reductions {
  private Reductions() {}

  static final Set<String> NAMES = Set.of("stablehlo.reduce", "stablehlo.reduce_window");

  /** The reducer a body computes. */
  enum Kind {
    ADD("Sum", "AddV2"),
    MUL("Prod", "Mul"),
    MAX("Max", "Maximum"),
    MIN("Min", "Minimum"),
    AND("All", "LogicalAnd"),
    OR("Any", "LogicalOr");

    final String reduceOp;
    final String binaryOp;

    Kind(String reduceOp, String binaryOp) {
      this.reduceOp = reduceOp;
      this.binaryOp = binaryOp;
    }
  }

  static List<V> lower(Lowerer l, Op op, List<V> ins) {
    int n = ins.size() / 2;
    Region body = op.regions().get(0);
    if (op.name().equals("stablehlo.reduce")) {
      long[] dims = Attrs.longs(op.attr("dimensions"));
      if (n == 1) {
        Kind k = kind(body);
        org.tfport.formats.stablehlo.Float8 f8 = Lowerer.float8(op.resultTypes().get(0));
        if (Float8Reductions.roundsPerStep(k, f8) && dims.length > 0) {
          V out = l.resultLike(op, 0);
          if (!Lowerer.isStatic(ins.get(0).shape()) || !Lowerer.isStatic(out.shape())) {
            throw new Refusal("an operand of dynamic shape");
          }
          return List.of(
              Float8Reductions.reduce(l, k, ins.get(0), ins.get(1), dims, out.shape(), f8));
        }
        return List.of(reduce(l, k, ins.get(0), ins.get(1), dims, l.resultLike(op, 0)));
      }
      if (n == 2) {
        return argReduce(l, op, ins, dims, body);
      }
      throw new Refusal("a reduce of " + n + " operands (one, or a value/index pair, lower)");
    }
    if (n != 1) {
      throw new Refusal("a reduce_window of " + n + " operands (one lowers)");
    }
    return List.of(reduceWindow(l, op, kind(body), ins.get(0), ins.get(1)));
  }

  /** The reducer of a body {@code return op(arg0, arg1)}. */
  static Kind kind(Region body) {
    if (body.ops().size() == 2 && body.args().size() == 2) {
      Op f = body.ops().get(0);
      Op ret = body.ops().get(1);
      Set<String> args = Set.of(body.args().get(0).name(), body.args().get(1).name());
      if (f.operands().size() == 2
          && Set.copyOf(f.operands()).equals(args)
          && ret.operands().equals(f.results())) {
        Kind k =
            switch (f.name()) {
              case "stablehlo.add" -> Kind.ADD;
              case "stablehlo.multiply" -> Kind.MUL;
              case "stablehlo.maximum" -> Kind.MAX;
              case "stablehlo.minimum" -> Kind.MIN;
              case "stablehlo.and" -> Kind.AND;
              case "stablehlo.or" -> Kind.OR;
              default -> null;
            };
        if (k != null) {
          return k;
        }
      }
    }
    throw new Refusal(
        "its body is not a single add, multiply, maximum, minimum, and, or (of its two arguments)");
  }

  private static V reduce(Lowerer l, Kind k, V x, V init, long[] dims, V out) {
    // Sum/Max/... take their axes as a tensor and the init as a broadcast scalar: a dynamic
    // operand shape needs nothing static here.
    if ((k == Kind.AND || k == Kind.OR) && x.dtype() != DType.BOOL) {
      throw new Refusal("a bitwise and/or reduce of integers");
    }
    V r = x;
    if (dims.length > 0) {
      r =
          l.op(
              k.reduceOp,
              x.dtype(),
              out.shape(),
              List.of(x, l.i32(dims)),
              "Tidx",
              Lowerer.type(DType.INT32),
              "keep_dims",
              Lowerer.b(false),
              "T",
              k == Kind.AND || k == Kind.OR ? null : Lowerer.type(x.dtype()));
    }
    return l.op(
        k.binaryOp,
        x.dtype(),
        out.shape(),
        List.of(r, init),
        "T",
        k == Kind.AND || k == Kind.OR ? null : Lowerer.type(x.dtype()));
  }

  /**
   * JAX's argmax/argmin: a reduce of (values, iota along the reduced axis) whose body compares the
   * values GT (or LT) and keeps the lower index on ties, as ArgMax/ArgMin do.
   */
  private static List<V> argReduce(Lowerer l, Op op, List<V> ins, long[] dims, Region body) {
    if (dims.length != 1) {
      throw new Refusal("a two-operand reduce over " + dims.length + " dimensions");
    }
    Op iota = l.producer(op.operands().get(1));
    if (iota == null
        || !iota.name().equals("stablehlo.iota")
        || Attrs.intValue(iota.attr("iota_dimension"), -1) != dims[0]) {
      throw new Refusal(
          "a two-operand reduce whose second operand is not an iota along the reduced dimension");
    }
    String lhs = body.args().get(0).name();
    String rhs = body.args().get(2).name();
    Boolean isMax = null;
    for (Op b : body.ops()) {
      if (b.name().equals("stablehlo.compare") && b.operands().size() == 2) {
        String dir = ((Attr.EnumAttr) b.attr("comparison_direction")).value();
        boolean straight = b.operands().get(0).equals(lhs) && b.operands().get(1).equals(rhs);
        boolean swapped = b.operands().get(0).equals(rhs) && b.operands().get(1).equals(lhs);
        if ((straight || swapped) && !dir.equals("EQ") && !dir.equals("NE")) {
          boolean greater = dir.startsWith("G");
          isMax = straight == greater;
          break;
        }
      }
    }
    if (isMax == null) {
      throw new Refusal("a two-operand reduce whose body is not an argmax or argmin comparison");
    }
    V x = ins.get(0);
    V valOut = l.resultLike(op, 0);
    V idxOut = l.resultLike(op, 1);
    V values = reduce(l, isMax ? Kind.MAX : Kind.MIN, x, ins.get(2), dims, valOut);
    V axis = l.i32Scalar(dims[0]);
    V idx =
        l.op(
            isMax ? "ArgMax" : "ArgMin",
            DType.INT64,
            idxOut.shape(),
            List.of(x, axis),
            "Tidx",
            Lowerer.type(DType.INT32),
            "output_type",
            Lowerer.type(DType.INT64));
    return List.of(values, l.cast(idx, idxOut.dtype()));
  }

  /**
   * Pads (base dilation as interior padding, then edges) with the init value, then combines one
   * strided slice per window position.
   */
  private static V reduceWindow(Lowerer l, Op op, Kind k, V x, V init) {
    if (!Lowerer.isStatic(x.shape())) {
      throw new Refusal("an operand of dynamic shape");
    }
    int r = x.rank();
    long[] window = Attrs.longs(op.attr("window_dimensions"));
    long[] strides = ones(Attrs.longs(op.attr("window_strides")), r);
    long[] baseDil = ones(Attrs.longs(op.attr("base_dilations")), r);
    long[] winDil = ones(Attrs.longs(op.attr("window_dilations")), r);
    long[] pad = Attrs.longs(op.attr("padding"));
    long[] low = new long[r];
    long[] high = new long[r];
    long[] interior = new long[r];
    for (int d = 0; d < r; d++) {
      low[d] = pad.length > 2 * d ? pad[2 * d] : 0;
      high[d] = pad.length > 2 * d + 1 ? pad[2 * d + 1] : 0;
      interior[d] = baseDil[d] - 1;
    }
    V p = ShapeLowering.pad(l, x, init, low, high, interior);
    long count = 1;
    long[] outShape = new long[r];
    for (int d = 0; d < r; d++) {
      count *= window[d];
      long eff = (window[d] - 1) * winDil[d] + 1;
      outShape[d] = p.dim(d) < eff ? 0 : (p.dim(d) - eff) / strides[d] + 1;
    }
    V declared = l.resultLike(op, 0);
    if (!Arrays.equals(outShape, declared.shape())) {
      throw new Refusal(
          "computed result shape "
              + Arrays.toString(outShape)
              + " differs from the declared "
              + op.resultTypes().get(0));
    }
    if (count > 1024) {
      throw new Refusal("a window of " + count + " elements (up to 1024 lower)");
    }
    List<V> parts = new ArrayList<>();
    long[] pos = new long[r];
    for (long c = 0; c < count; c++) {
      long rest = c;
      for (int d = r - 1; d >= 0; d--) {
        pos[d] = rest % window[d];
        rest /= window[d];
      }
      long[] begin = new long[r];
      long[] end = new long[r];
      for (int d = 0; d < r; d++) {
        begin[d] = pos[d] * winDil[d];
        end[d] = begin[d] + (outShape[d] - 1) * strides[d] + 1;
      }
      parts.add(outShape[0] == 0 ? p : l.stridedSlice(p, begin, end, strides));
    }
    Object[] typeAttr = k == Kind.AND || k == Kind.OR ? new Object[] {"T", null} : new Object[0];
    V acc = parts.get(0);
    for (int c = 1; c < parts.size(); c++) {
      acc = l.op(k.binaryOp, x.dtype(), outShape, List.of(acc, parts.get(c)), typeAttr);
    }
    return l.op(k.binaryOp, x.dtype(), outShape, List.of(acc, init), typeAttr);
  }

  private static long[] ones(long[] v, int r) {
    if (v.length == r) {
      return v;
    }
    long[] o = new long[r];
    Arrays.fill(o, 1);
    return o;
  }
}
