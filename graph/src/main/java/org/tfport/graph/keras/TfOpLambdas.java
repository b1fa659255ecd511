package org.tfport.graph.keras;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * {@code TFOpLambda} (TF 2.4–2.15 Keras: a {@code tf.*} function called on Keras tensors in a
 * functional model). Its config names the function ({@code "math.reduce_mean"}); the inbound node
 * carries the call's arguments, which Keras saved by parameter name, so {@code axis=}, {@code
 * keepdims=} and a second tensor ({@code y=}) are honoured as the function's signature defines
 * them, and any argument tfport does not build is refused by name.
 */
final class TfOpLambdas {
  private TfOpLambdas() {}

  interface Fn {
    KT build(OpParams p);
  }

  private static final Map<String, Fn> FNS = new HashMap<>();

  static {
    String[][] unary = {
      {"math.abs", "Abs"},
      {"math.negative", "Neg"},
      {"math.exp", "Exp"},
      {"math.log", "Log"},
      {"math.log1p", "Log1p"},
      {"math.sqrt", "Sqrt"},
      {"math.rsqrt", "Rsqrt"},
      {"math.square", "Square"},
      {"math.sigmoid", "Sigmoid"},
      {"math.tanh", "Tanh"},
      {"math.sin", "Sin"},
      {"math.cos", "Cos"},
      {"math.floor", "Floor"},
      {"math.ceil", "Ceil"},
      {"math.round", "Round"},
      {"math.sign", "Sign"},
      {"math.reciprocal", "Reciprocal"},
      {"math.softplus", "Softplus"},
      {"nn.softplus", "Softplus"},
      {"math.erf", "Erf"},
      {"nn.relu", "Relu"},
      {"nn.relu6", "Relu6"},
      {"nn.elu", "Elu"},
      {"nn.selu", "Selu"},
      {"nn.softsign", "Softsign"},
      {"math.softsign", "Softsign"}
    };
    for (String[] u : unary) {
      String op = u[1];
      FNS.put(u[0], p -> unary(p, op));
    }
    String[][] binary = {
      {"__operators__.add", "AddV2"},
      {"math.add", "AddV2"},
      {"math.subtract", "Sub"},
      {"math.multiply", "Mul"},
      {"math.truediv", "RealDiv"},
      {"math.divide", "RealDiv"},
      {"math.maximum", "Maximum"},
      {"math.minimum", "Minimum"},
      {"math.pow", "Pow"},
      {"math.squared_difference", "SquaredDifference"},
      {"math.floordiv", "FloorDiv"},
      {"math.floormod", "FloorMod"},
      {"math.divide_no_nan", "DivNoNan"}
    };
    for (String[] b : binary) {
      String op = b[1];
      FNS.put(b[0], p -> binary(p, op));
    }
    for (String r : new String[] {"mean", "sum", "max", "min", "prod"}) {
      String op = Character.toUpperCase(r.charAt(0)) + r.substring(1);
      FNS.put("math.reduce_" + r, p -> reduce(p, op));
      FNS.put("compat.v1.reduce_" + r, p -> reduce(p, op));
    }
    FNS.put("nn.leaky_relu", TfOpLambdas::leakyRelu);
    FNS.put("nn.silu", TfOpLambdas::silu);
    FNS.put("nn.swish", TfOpLambdas::silu);
    FNS.put("nn.gelu", TfOpLambdas::gelu);
    FNS.put("nn.softmax", p -> softmax(p, "Softmax"));
    FNS.put("math.softmax", p -> softmax(p, "Softmax"));
    FNS.put("nn.log_softmax", p -> softmax(p, "LogSoftmax"));
    FNS.put("math.log_softmax", p -> softmax(p, "LogSoftmax"));
    FNS.put("concat", TfOpLambdas::concat);
    FNS.put("stack", TfOpLambdas::stack);
    FNS.put("reshape", TfOpLambdas::reshape);
    FNS.put("transpose", TfOpLambdas::transpose);
    FNS.put("compat.v1.transpose", TfOpLambdas::transpose);
    FNS.put("expand_dims", TfOpLambdas::expandDims);
    FNS.put("compat.v1.expand_dims", TfOpLambdas::expandDims);
    FNS.put("squeeze", TfOpLambdas::squeeze);
    FNS.put("compat.v1.squeeze", TfOpLambdas::squeeze);
    FNS.put("linalg.matmul", TfOpLambdas::matmul);
    FNS.put("clip_by_value", TfOpLambdas::clip);
    FNS.put("cast", TfOpLambdas::cast);
    FNS.put("math.l2_normalize", TfOpLambdas::l2Normalize);
    FNS.put("tile", TfOpLambdas::tile);
  }

  static void register(Map<String, LayerBuilder> r) {
    r.put(
        "TFOpLambda",
        new LayerBuilder() {
          @Override
          public List<KT> call(Call c, List<KT> in) {
            String fn = c.cfg.path("function").asString("");
            OpArgs args = c.opArgs != null ? c.opArgs : OpArgs.of(in);
            OpParams p = new OpParams(c, fn, args);
            KT out = FNS.get(fn).build(p);
            p.finish();
            return List.of(out);
          }

          @Override
          public String problem(JsonNode cfg) {
            String fn = cfg.path("function").asString("");
            return FNS.containsKey(fn) ? null : "function tf." + (fn.isEmpty() ? "(none)" : fn);
          }
        });
  }

  // ------------------------------------------------------------------ elementwise

  private static KT unary(OpParams p, String op) {
    KT x = p.first(KT.FLOAT);
    return x.with(p.c.e.raw(op, List.of(x.ref()), OpParams.typed(x.dtype())), x.shape());
  }

  /** Both operands; a constant one takes the other's type, as TensorFlow converts it. */
  private static KT[] operands(OpParams p, String second) {
    if (p.firstIsConstant()) {
      KT y = p.operand(second, KT.FLOAT);
      if (y == null) {
        throw p.c.unsupported("calls tf." + p.fn + " on constants only");
      }
      return new KT[] {p.first(y.dtype()), y};
    }
    KT x = p.first(KT.FLOAT);
    KT y = p.operand(second, x.dtype());
    if (y == null) {
      throw p.c.corrupt("calls tf." + p.fn + " without its second operand '" + second + "'");
    }
    return new KT[] {x, y};
  }

  private static KT binary(OpParams p, String op) {
    KT[] xy = operands(p, "y");
    return new KT(
        p.c.e.raw(op, List.of(xy[0].ref(), xy[1].ref()), OpParams.typed(xy[0].dtype())),
        TfOpLayers.broadcast(xy[0].shape(), xy[1].shape()),
        xy[0].dtype());
  }

  private static KT leakyRelu(OpParams p) {
    KT x = p.first(KT.FLOAT);
    float alpha = (float) p.number("alpha", 0.2);
    return x.with(
        p.c.e.raw("LeakyRelu", List.of(x.ref()), OpParams.typed(x.dtype(), "alpha", alpha)),
        x.shape());
  }

  /** {@code x·sigmoid(beta·x)}. */
  private static KT silu(OpParams p) {
    KT x = p.first(KT.FLOAT);
    double beta = p.number("beta", 1.0);
    Emit e = p.c.e;
    String in = beta == 1.0 ? x.ref() : e.binary("Mul", x.ref(), e.scalar((float) beta));
    return x.with(e.binary("Mul", x.ref(), e.unary("Sigmoid", in)), x.shape());
  }

  /** Exact {@code 0.5·x·(1 + erf(x/√2))}, or the tanh form with {@code approximate=True}. */
  private static KT gelu(OpParams p) {
    KT x = p.first(KT.FLOAT);
    boolean approximate = p.bool("approximate", false);
    Emit e = p.c.e;
    String inner;
    if (approximate) {
      String cube = e.binary("Mul", e.unary("Square", x.ref()), x.ref());
      String sum = e.binary("AddV2", x.ref(), e.binary("Mul", cube, e.scalar(0.044715f)));
      inner = e.unary("Tanh", e.binary("Mul", sum, e.scalar((float) Math.sqrt(2 / Math.PI))));
    } else {
      inner = e.unary("Erf", e.binary("Mul", x.ref(), e.scalar((float) (1 / Math.sqrt(2)))));
    }
    String half = e.binary("Mul", x.ref(), e.scalar(0.5f));
    return x.with(e.binary("Mul", half, e.binary("AddV2", inner, e.scalar(1f))), x.shape());
  }

  private static KT clip(OpParams p) {
    KT x = p.first(KT.FLOAT);
    KT lo = p.operand("clip_value_min", x.dtype());
    KT hi = p.operand("clip_value_max", x.dtype());
    if (lo == null || hi == null) {
      throw p.c.corrupt("calls tf.clip_by_value without clip_value_min and clip_value_max");
    }
    String m = p.c.e.raw("Maximum", List.of(x.ref(), lo.ref()), OpParams.typed(x.dtype()));
    return x.with(p.c.e.raw("Minimum", List.of(m, hi.ref()), OpParams.typed(x.dtype())), x.shape());
  }

  private static KT cast(OpParams p) {
    KT x = p.first(KT.FLOAT);
    int to = p.dtype("dtype");
    return new KT(p.c.e.cast(x.ref(), x.dtype(), to), x.shape(), to);
  }

  // ------------------------------------------------------------------ axes

  private static int axis(OpParams p, long axis, int rank) {
    long a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) {
      throw p.c.corrupt(
          "calls tf." + p.fn + " with axis " + axis + " on a rank-" + rank + " tensor");
    }
    return (int) a;
  }

  private static KT softmax(OpParams p, String op) {
    KT x = p.first(KT.FLOAT);
    long[] a = p.ints("axis", "dim");
    int axis = axis(p, a == null ? -1 : a[0], x.rank());
    Emit e = p.c.e;
    if (axis == x.rank() - 1) {
      return x.with(e.unary(op, x.ref()), x.shape());
    }
    // Softmax runs over the last axis only: swap the axis there and back, as TensorFlow does.
    long[] perm = new long[x.rank()];
    for (int i = 0; i < perm.length; i++) {
      perm[i] = i;
    }
    perm[axis] = x.rank() - 1;
    perm[x.rank() - 1] = axis;
    String t = e.transpose(e.unary(op, e.transpose(x.ref(), perm)), perm);
    return x.with(t, x.shape());
  }

  private static KT reduce(OpParams p, String op) {
    KT x = p.first(KT.FLOAT);
    long[] axes = p.ints("axis", "reduction_indices");
    boolean keep = p.bool("keepdims", false) || p.bool("keep_dims", false);
    Set<Integer> reduced = new HashSet<>();
    if (axes == null) {
      for (int i = 0; i < x.rank(); i++) {
        reduced.add(i);
      }
    } else {
      for (long a : axes) {
        reduced.add(axis(p, a, x.rank()));
      }
    }
    long[] list = reduced.stream().sorted().mapToLong(Integer::longValue).toArray();
    List<Long> out = new ArrayList<>();
    for (int i = 0; i < x.rank(); i++) {
      if (!reduced.contains(i)) {
        out.add(x.dim(i));
      } else if (keep) {
        out.add(1L);
      }
    }
    String ref =
        p.c.e.raw(
            op,
            List.of(x.ref(), p.c.e.ints("reduction_indices", list)),
            OpParams.typed(x.dtype(), "Tidx", Emit.I32, "keep_dims", keep));
    return x.with(ref, out.stream().mapToLong(Long::longValue).toArray());
  }

  private static KT concat(OpParams p) {
    List<KT> xs = p.firstList(KT.FLOAT);
    long[] a = p.ints("axis");
    if (a == null || xs.isEmpty()) {
      throw p.c.corrupt("calls tf.concat without values and an axis");
    }
    KT x = xs.get(0);
    int axis = axis(p, a[0], x.rank());
    long[] shape = x.shape();
    for (int i = 1; i < xs.size(); i++) {
      long d = xs.get(i).dim(axis);
      shape[axis] = d < 0 || shape[axis] < 0 ? -1 : shape[axis] + d;
    }
    if (xs.size() == 1) {
      return x;
    }
    List<String> refs = new ArrayList<>(xs.stream().map(KT::ref).toList());
    refs.add(p.c.e.intScalar(axis));
    return x.with(
        p.c.e.raw("ConcatV2", refs, OpParams.typed(x.dtype(), "N", xs.size(), "Tidx", Emit.I32)),
        shape);
  }

  private static KT stack(OpParams p) {
    List<KT> xs = p.firstList(KT.FLOAT);
    long[] a = p.ints("axis");
    KT x = xs.get(0);
    int axis = axis(p, a == null ? 0 : a[0], x.rank() + 1);
    long[] shape = new long[x.rank() + 1];
    for (int i = 0, j = 0; i < shape.length; i++) {
      shape[i] = i == axis ? xs.size() : x.dim(j++);
    }
    return x.with(
        p.c.e.raw(
            "Pack",
            xs.stream().map(KT::ref).toList(),
            OpParams.typed(x.dtype(), "N", xs.size(), "axis", axis)),
        shape);
  }

  private static KT reshape(OpParams p) {
    KT x = p.first(KT.FLOAT);
    long[] target = p.ints("shape");
    if (target == null) {
      throw p.c.corrupt("calls tf.reshape without a shape");
    }
    long total = 1;
    for (long d : x.shape()) {
      total = d < 0 || total < 0 ? -1 : total * d;
    }
    long known = 1;
    int free = -1;
    for (int i = 0; i < target.length; i++) {
      if (target[i] < 0) {
        if (free >= 0) {
          throw p.c.corrupt("calls tf.reshape with two unknown dimensions in " + text(target));
        }
        free = i;
        target[i] = -1;
      } else {
        known *= target[i];
      }
    }
    long[] shape = target.clone();
    if (free >= 0) {
      shape[free] = total < 0 || known == 0 ? -1 : total / known;
    }
    String ref =
        p.c.e.raw(
            "Reshape",
            List.of(x.ref(), p.c.e.ints("shape", target)),
            OpParams.typed(x.dtype(), "Tshape", Emit.I32));
    return x.with(ref, shape);
  }

  private static KT transpose(OpParams p) {
    KT x = p.first(KT.FLOAT);
    long[] perm = p.ints("perm");
    p.only("conjugate", false);
    if (perm == null) {
      perm = new long[x.rank()];
      for (int i = 0; i < perm.length; i++) {
        perm[i] = x.rank() - 1 - i;
      }
    }
    if (perm.length != x.rank()) {
      throw p.c.corrupt("calls tf.transpose with perm " + text(perm) + " on a rank-" + x.rank());
    }
    long[] shape = new long[perm.length];
    for (int i = 0; i < perm.length; i++) {
      perm[i] = axis(p, perm[i], x.rank());
      shape[i] = x.dim((int) perm[i]);
    }
    String ref =
        p.c.e.raw(
            "Transpose",
            List.of(x.ref(), p.c.e.ints("perm", perm)),
            OpParams.typed(x.dtype(), "Tperm", Emit.I32));
    return x.with(ref, shape);
  }

  private static KT expandDims(OpParams p) {
    KT x = p.first(KT.FLOAT);
    long[] a = p.ints("axis", "dim");
    if (a == null) {
      throw p.c.corrupt("calls tf.expand_dims without an axis");
    }
    int axis = axis(p, a[0], x.rank() + 1);
    long[] shape = new long[x.rank() + 1];
    for (int i = 0, j = 0; i < shape.length; i++) {
      shape[i] = i == axis ? 1 : x.dim(j++);
    }
    String ref =
        p.c.e.raw(
            "ExpandDims",
            List.of(x.ref(), p.c.e.intScalar(axis)),
            OpParams.typed(x.dtype(), "Tdim", Emit.I32));
    return x.with(ref, shape);
  }

  private static KT squeeze(OpParams p) {
    KT x = p.first(KT.FLOAT);
    long[] a = p.ints("axis", "squeeze_dims");
    Set<Integer> dims = new HashSet<>();
    if (a == null) {
      for (int i = 0; i < x.rank(); i++) {
        if (x.dim(i) < 0) {
          // Which axes go would depend on the data; TensorFlow's own shape is unknown here too.
          throw p.c.unsupported(
              "calls tf.squeeze without an axis on a tensor of unknown dimensions; give axis=");
        }
        if (x.dim(i) == 1) {
          dims.add(i);
        }
      }
    } else {
      for (long d : a) {
        int i = axis(p, d, x.rank());
        if (x.dim(i) > 1) {
          throw p.c.corrupt("calls tf.squeeze on axis " + d + " of size " + x.dim(i));
        }
        dims.add(i);
      }
    }
    List<Long> shape = new ArrayList<>();
    for (int i = 0; i < x.rank(); i++) {
      if (!dims.contains(i)) {
        shape.add(x.dim(i));
      }
    }
    long[] sorted = dims.stream().sorted().mapToLong(Integer::longValue).toArray();
    String ref =
        p.c.e.raw("Squeeze", List.of(x.ref()), OpParams.typed(x.dtype(), "squeeze_dims", sorted));
    return x.with(ref, shape.stream().mapToLong(Long::longValue).toArray());
  }

  private static KT tile(OpParams p) {
    KT x = p.first(KT.FLOAT);
    long[] m = p.ints("multiples");
    if (m == null || m.length != x.rank()) {
      throw p.c.corrupt("calls tf.tile without one multiple per axis of its rank-" + x.rank());
    }
    long[] shape = x.shape();
    for (int i = 0; i < shape.length; i++) {
      shape[i] = shape[i] < 0 ? -1 : shape[i] * m[i];
    }
    String ref =
        p.c.e.raw(
            "Tile",
            List.of(x.ref(), p.c.e.ints("multiples", m)),
            OpParams.typed(x.dtype(), "Tmultiples", Emit.I32));
    return x.with(ref, shape);
  }

  /** {@code x / sqrt(max(sum(x², axis), epsilon))}. */
  private static KT l2Normalize(OpParams p) {
    KT x = p.first(KT.FLOAT);
    long[] a = p.ints("axis", "dim");
    float eps = (float) p.number("epsilon", 1e-12);
    long[] axes;
    if (a == null) {
      axes = new long[x.rank()];
      for (int i = 0; i < axes.length; i++) {
        axes[i] = i;
      }
    } else {
      axes = new long[a.length];
      for (int i = 0; i < a.length; i++) {
        axes[i] = axis(p, a[i], x.rank());
      }
    }
    Emit e = p.c.e;
    String sum = e.reduce("Sum", e.unary("Square", x.ref()), axes, true);
    String inv = e.unary("Rsqrt", e.binary("Maximum", sum, e.scalar(eps)));
    return x.with(e.binary("Mul", x.ref(), inv), x.shape());
  }

  private static KT matmul(OpParams p) {
    KT a;
    KT b;
    if (p.firstIsConstant()) {
      b = p.operand("b", KT.FLOAT);
      a = p.first(b == null ? KT.FLOAT : b.dtype());
    } else {
      a = p.first(KT.FLOAT);
      b = p.operand("b", a.dtype());
    }
    if (b == null) {
      throw p.c.corrupt("calls tf.linalg.matmul without its second matrix 'b'");
    }
    boolean ta = p.bool("transpose_a", false) || p.bool("adjoint_a", false);
    boolean tb = p.bool("transpose_b", false) || p.bool("adjoint_b", false);
    p.only("a_is_sparse", false);
    p.only("b_is_sparse", false);
    if (p.has("output_type")) {
      p.constant("output_type");
      throw p.c.unsupported("calls tf.linalg.matmul with output_type, which tfport does not build");
    }
    if (a.rank() < 2 || b.rank() < 2) {
      throw p.c.corrupt("calls tf.linalg.matmul on a tensor of rank below 2");
    }
    long[] sa = a.shape();
    long[] sb = b.shape();
    long[] batchA = java.util.Arrays.copyOf(sa, sa.length - 2);
    long[] batchB = java.util.Arrays.copyOf(sb, sb.length - 2);
    long[] batch = TfOpLayers.broadcast(batchA, batchB);
    long[] out = java.util.Arrays.copyOf(batch, batch.length + 2);
    out[batch.length] = ta ? sa[sa.length - 1] : sa[sa.length - 2];
    out[batch.length + 1] = tb ? sb[sb.length - 2] : sb[sb.length - 1];
    String ref =
        p.c.e.raw(
            "BatchMatMulV2",
            List.of(a.ref(), b.ref()),
            OpParams.typed(a.dtype(), "adj_x", ta, "adj_y", tb));
    return a.with(ref, out);
  }

  private static String text(long[] v) {
    return java.util.Arrays.toString(v);
  }
}
