package org.tfport.train.grad;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Node;

/** Element-wise arithmetic, the reductions Sum and Mean, and casts. */
final class MathGrads {
  private MathGrads() {}

  static void register(Map<String, GradRule> r) {
    GradRule identity = (g, n, dy) -> List.of(dy.get(0));
    r.put("Identity", identity);
    r.put("Snapshot", identity);
    r.put("StopGradient", (g, n, dy) -> Arrays.asList((String) null));
    r.put(
        "Cast",
        (g, n, dy) ->
            Arrays.asList(
                n.typeAttr("SrcT") == DataTypes.DT_FLOAT && n.typeAttr("DstT") == DataTypes.DT_FLOAT
                    ? dy.get(0)
                    : null));
    r.put("AddN", (g, n, dy) -> java.util.Collections.nCopies(n.dataInputs().size(), dy.get(0)));
    GradRule add =
        (g, n, dy) -> {
          String a = n.dataInputs().get(0);
          String b = n.dataInputs().get(1);
          return List.of(
              g.unbroadcast(dy.get(0), n.name(), a), g.unbroadcast(dy.get(0), n.name(), b));
        };
    r.put("Add", add);
    r.put("AddV2", add);
    r.put(
        "Sub",
        (g, n, dy) -> {
          String a = n.dataInputs().get(0);
          String b = n.dataInputs().get(1);
          return List.of(
              g.unbroadcast(dy.get(0), n.name(), a),
              g.unbroadcast(g.unary("Neg", dy.get(0)), n.name(), b));
        });
    r.put(
        "Mul",
        (g, n, dy) -> {
          String a = n.dataInputs().get(0);
          String b = n.dataInputs().get(1);
          return List.of(
              g.unbroadcast(g.mul(dy.get(0), b), n.name(), a),
              g.unbroadcast(g.mul(dy.get(0), a), n.name(), b));
        });
    GradRule div =
        (g, n, dy) -> {
          String a = n.dataInputs().get(0);
          String b = n.dataInputs().get(1);
          String da = g.binary("RealDiv", dy.get(0), b);
          // d(a/b)/db = -a/b², as -(dy/b)·(a/b).
          String db = g.unary("Neg", g.mul(da, g.binary("RealDiv", a, b)));
          return List.of(g.unbroadcast(da, n.name(), a), g.unbroadcast(db, n.name(), b));
        };
    r.put("RealDiv", div);
    r.put("Div", div);
    r.put("Maximum", minMax("GreaterEqual", "Less"));
    r.put("Minimum", minMax("LessEqual", "Greater"));
    r.put(
        "SquaredDifference",
        (g, n, dy) -> {
          String a = n.dataInputs().get(0);
          String b = n.dataInputs().get(1);
          String d = g.mul(g.mul(dy.get(0), g.binary("Sub", a, b)), g.scalar(2f));
          return List.of(
              g.unbroadcast(d, n.name(), a), g.unbroadcast(g.unary("Neg", d), n.name(), b));
        });
    r.put(
        "ClipByValue",
        (g, n, dy) -> {
          // As TF.js: the gradient passes where lo <= x <= hi.
          String x = n.dataInputs().get(0);
          String keep =
              g.mul(
                  g.mask("GreaterEqual", x, n.dataInputs().get(1)),
                  g.mask("LessEqual", x, n.dataInputs().get(2)));
          return Arrays.asList(g.mul(dy.get(0), keep), null, null);
        });
    r.put("Neg", (g, n, dy) -> List.of(g.unary("Neg", dy.get(0))));
    r.put(
        "Square",
        (g, n, dy) -> List.of(g.mul(dy.get(0), g.mul(n.dataInputs().get(0), g.scalar(2f)))));
    r.put(
        "Sqrt",
        (g, n, dy) -> List.of(g.binary("RealDiv", dy.get(0), g.mul(n.name(), g.scalar(2f)))));
    r.put(
        "Rsqrt",
        (g, n, dy) -> {
          String y = n.name();
          String y3 = g.mul(g.mul(y, y), y);
          return List.of(g.mul(dy.get(0), g.mul(y3, g.scalar(-0.5f))));
        });
    r.put("Exp", (g, n, dy) -> List.of(g.mul(dy.get(0), n.name())));
    r.put("Log", (g, n, dy) -> List.of(g.binary("RealDiv", dy.get(0), n.dataInputs().get(0))));
    r.put(
        "Log1p",
        (g, n, dy) ->
            List.of(
                g.binary(
                    "RealDiv", dy.get(0), g.binary("AddV2", n.dataInputs().get(0), g.scalar(1f)))));
    r.put("Abs", (g, n, dy) -> List.of(g.mul(dy.get(0), g.unary("Sign", n.dataInputs().get(0)))));
    r.put(
        "Reciprocal",
        (g, n, dy) -> List.of(g.unary("Neg", g.mul(dy.get(0), g.mul(n.name(), n.name())))));
    r.put("Sum", (g, n, dy) -> reduction(g, n, dy.get(0), false));
    r.put("Mean", (g, n, dy) -> reduction(g, n, dy.get(0), true));
    r.put("Max", MathGrads::extremum);
    r.put("Min", MathGrads::extremum);
    r.put("Prod", MathGrads::product);
    r.put(
        "Cumsum",
        (g, n, dy) -> {
          // Each input element reached every later sum: the gradient is dy summed the other way.
          Map<String, org.tfport.core.graph.AttrValue> a = new java.util.LinkedHashMap<>();
          a.put("T", F32);
          a.put("Tidx", n.attr("Tidx") != null ? n.attr("Tidx") : I32);
          a.put("exclusive", GradContext.attr(flag(n, "exclusive")));
          a.put("reverse", GradContext.attr(!flag(n, "reverse")));
          return Arrays.asList(g.raw("Cumsum", List.of(dy.get(0), n.dataInputs().get(1)), a), null);
        });
    // Comparisons give booleans: nothing flows back through them (a Select's condition, a mask).
    GradRule none = (g, n, dy) -> Arrays.asList(null, null);
    for (String cmp :
        List.of("Greater", "GreaterEqual", "Less", "LessEqual", "Equal", "NotEqual")) {
      r.put(cmp, none);
    }
    GradRule select =
        (g, n, dy) -> {
          String c = n.dataInputs().get(0);
          String t = n.dataInputs().get(1);
          String e = n.dataInputs().get(2);
          String zeros = g.raw("ZerosLike", List.of(dy.get(0)), Map.of("T", F32));
          String dt = g.raw("SelectV2", List.of(c, dy.get(0), zeros), Map.of("T", F32));
          String de = g.raw("SelectV2", List.of(c, zeros, dy.get(0)), Map.of("T", F32));
          return Arrays.asList(
              null, g.unbroadcast(dt, n.name(), t), g.unbroadcast(de, n.name(), e));
        };
    r.put("SelectV2", select);
  }

  private static final org.tfport.core.graph.AttrValue F32 =
      new org.tfport.core.graph.AttrValue.Type(DataTypes.DT_FLOAT);

  /**
   * Max and Min as TensorFlow's {@code _MinOrMaxGrad}: the gradient goes to the positions equal to
   * the result, split equally among ties.
   */
  private static List<String> extremum(GradContext g, Node n, List<String> dys) {
    String x = n.dataInputs().get(0);
    long[] keep = keptShape(g, n);
    String y = g.reshape(n.name(), g.ints(keep));
    String dy = g.reshape(dys.get(0), g.ints(keep));
    String hit = g.mask("Equal", x, y);
    String ties = g.sum(hit, reducedAxes(g, n), true);
    return new ArrayList<>(Arrays.asList(g.mul(g.binary("RealDiv", hit, ties), dy), null));
  }

  private static final org.tfport.core.graph.AttrValue I32 =
      new org.tfport.core.graph.AttrValue.Type(DataTypes.fromDType(org.tfport.core.DType.INT32));

  private static boolean flag(Node n, String key) {
    return n.attr(key) instanceof org.tfport.core.graph.AttrValue.Bool b && b.value();
  }

  /**
   * Prod over one axis: each element's gradient is the product of the others, taken as the
   * exclusive products from both ends (as TensorFlow's {@code _ProdGrad}) so that a zero among the
   * elements needs no division.
   */
  private static List<String> product(GradContext g, Node n, List<String> dys) {
    String x = n.dataInputs().get(0);
    long[] axes = reducedAxes(g, n);
    if (axes.length != 1) {
      throw new org.tfport.core.TfportException.UnsupportedModelException(
          n.name() + " (Prod): cannot differentiate a product over " + axes.length + " axes yet");
    }
    String dy = g.reshape(dys.get(0), g.ints(keptShape(g, n)));
    String axis =
        g.constant(org.tfport.core.Tensor.ofInts(org.tfport.core.Shape.SCALAR, (int) axes[0]));
    String[] sides = new String[2];
    for (int k = 0; k < 2; k++) {
      Map<String, org.tfport.core.graph.AttrValue> a = new java.util.LinkedHashMap<>();
      a.put("T", F32);
      a.put("Tidx", I32);
      a.put("exclusive", GradContext.attr(true));
      a.put("reverse", GradContext.attr(k == 1));
      sides[k] = g.raw("Cumprod", List.of(x, axis), a);
    }
    return new ArrayList<>(Arrays.asList(g.mul(g.mul(sides[0], sides[1]), dy), null));
  }

  /** The axes a reduction node reduces, non-negative, from its constant axes input. */
  private static long[] reducedAxes(GradContext g, Node n) {
    boolean[] reduced = reducedMask(g, n);
    List<Long> out = new ArrayList<>();
    for (int i = 0; i < reduced.length; i++) {
      if (reduced[i]) {
        out.add((long) i);
      }
    }
    return out.stream().mapToLong(Long::longValue).toArray();
  }

  private static boolean[] reducedMask(GradContext g, Node n) {
    long[] sx = g.dims(n.dataInputs().get(0));
    org.tfport.core.Tensor axesT = g.constant(n.dataInputs().get(1));
    if (axesT == null) {
      throw new org.tfport.core.TfportException.UnsupportedModelException(
          n.name() + ": cannot differentiate a " + n.op() + " over axes computed at run time");
    }
    boolean[] reduced = new boolean[sx.length];
    for (float a : axesT.toFloatArray()) {
      int ax = (int) a;
      reduced[ax < 0 ? ax + sx.length : ax] = true;
    }
    return reduced;
  }

  /**
   * The reduction's result shape with the reduced axes kept as 1 (-1 for the one unknown kept
   * dimension), for reshaping its output or gradient to broadcast against the input.
   */
  private static long[] keptShape(GradContext g, Node n) {
    long[] sx = g.dims(n.dataInputs().get(0));
    boolean[] reduced = reducedMask(g, n);
    long[] s = new long[sx.length];
    int unknownKept = 0;
    for (int i = 0; i < sx.length; i++) {
      s[i] = reduced[i] ? 1 : sx[i] < 0 ? -1 : sx[i];
      unknownKept += s[i] < 0 ? 1 : 0;
    }
    if (unknownKept > 1) {
      throw new org.tfport.core.TfportException.UnsupportedModelException(
          n.name() + ": cannot differentiate a " + n.op() + " keeping several unknown dimensions");
    }
    return s;
  }

  /**
   * Maximum/Minimum: {@code a} gets the gradient where {@code aWins(a, b)}, {@code b} elsewhere.
   */
  private static GradRule minMax(String aWins, String bWins) {
    return (g, n, dy) -> {
      String a = n.dataInputs().get(0);
      String b = n.dataInputs().get(1);
      return List.of(
          g.unbroadcast(g.mul(dy.get(0), g.mask(aWins, a, b)), n.name(), a),
          g.unbroadcast(g.mul(dy.get(0), g.mask(bWins, a, b)), n.name(), b));
    };
  }

  /** Sum and Mean: the gradient spread back over the reduced axes (and divided by their count). */
  private static List<String> reduction(GradContext g, Node n, String dy, boolean mean) {
    String x = n.dataInputs().get(0);
    long[] sx = g.dims(x);
    org.tfport.core.Tensor axesT = g.constant(n.dataInputs().get(1));
    if (axesT == null) {
      throw new org.tfport.core.TfportException.UnsupportedModelException(
          n.name() + ": cannot differentiate a " + n.op() + " over axes computed at run time");
    }
    float[] av = axesT.toFloatArray();
    boolean[] reduced = new boolean[sx.length];
    for (float a : av) {
      int ax = (int) a;
      reduced[ax < 0 ? ax + sx.length : ax] = true;
    }
    long[] keepShape = new long[sx.length];
    long count = 1;
    boolean dynamic = false;
    for (int i = 0; i < sx.length; i++) {
      keepShape[i] = reduced[i] ? 1 : sx[i];
      if (reduced[i]) {
        dynamic |= sx[i] < 0;
        count *= Math.max(sx[i], 1);
      }
    }
    int unknownKept = 0;
    for (int i = 0; i < sx.length; i++) {
      unknownKept += !reduced[i] && sx[i] < 0 ? 1 : 0;
    }
    String kept;
    if (unknownKept <= 1) {
      long[] s = keepShape.clone();
      for (int i = 0; i < s.length; i++) {
        s[i] = s[i] < 0 ? -1 : s[i];
      }
      kept = g.reshape(dy, g.ints(s));
    } else {
      throw new org.tfport.core.TfportException.UnsupportedModelException(
          n.name() + ": cannot differentiate a " + n.op() + " keeping several unknown dimensions");
    }
    String spread =
        g.raw(
            "BroadcastTo",
            List.of(kept, g.shape(x)),
            Map.of(
                "T",
                GradContext.attr(new org.tfport.core.graph.AttrValue.Type(DataTypes.DT_FLOAT)),
                "Tidx",
                new org.tfport.core.graph.AttrValue.Type(
                    DataTypes.fromDType(org.tfport.core.DType.INT32))));
    if (!mean) {
      return new ArrayList<>(Arrays.asList(spread, null));
    }
    String divisor;
    if (!dynamic) {
      divisor = g.scalar((float) count);
    } else {
      // The batch is among the reduced axes: count = size(x) / size(y) at run time.
      divisor = g.binary("RealDiv", g.castSize(x), g.castSize(n.name()));
    }
    return new ArrayList<>(Arrays.asList(g.binary("RealDiv", spread, divisor), null));
  }
}
