package org.tfport.graph.keras;

import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.TensorShape;
import tools.jackson.databind.JsonNode;

/**
 * {@code TensorFlowOpLayer} (TF 2.0–2.3 Keras, a raw TensorFlow op in a functional model): the node
 * def it carries becomes a node of the graph; its inputs are the layer's inputs in order, except
 * those its {@code constants} map gives by position. The output's static shape is worked out for
 * the ops below; any other op is refused by name.
 */
final class TfOpLayers {
  private TfOpLayers() {}

  private static final Set<String> UNARY =
      Set.of(
          "Identity",
          "Relu",
          "Relu6",
          "Elu",
          "Selu",
          "Tanh",
          "Sigmoid",
          "Exp",
          "Log",
          "Sqrt",
          "Rsqrt",
          "Square",
          "Abs",
          "Neg",
          "Softplus",
          "Softsign",
          "Erf",
          "Floor",
          "Ceil",
          "Round",
          "Sin",
          "Cos",
          "Reciprocal",
          "Sign",
          "LeakyRelu",
          "Softmax",
          "LogSoftmax",
          "Cast");
  private static final Set<String> BINARY =
      Set.of(
          "Add",
          "AddV2",
          "Sub",
          "Mul",
          "RealDiv",
          "Div",
          "DivNoNan",
          "Maximum",
          "Minimum",
          "Pow",
          "SquaredDifference",
          "FloorDiv",
          "FloorMod",
          "BiasAdd");
  private static final Set<String> REDUCTIONS = Set.of("Mean", "Sum", "Max", "Min", "Prod");
  private static final Set<String> OTHER =
      Set.of(
          "Transpose", "Reshape", "ExpandDims", "Squeeze", "ConcatV2", "MatMul", "BatchMatMulV2");

  /** Which input of an op is an int32 index, by the attribute that types it. */
  private static final Map<String, String> INDEX_TYPE_ATTR =
      Map.of(
          "Transpose", "Tperm",
          "Reshape", "Tshape",
          "ExpandDims", "Tdim",
          "ConcatV2", "Tidx",
          "Mean", "Tidx",
          "Sum", "Tidx",
          "Max", "Tidx",
          "Min", "Tidx",
          "Prod", "Tidx");

  static void register(Map<String, LayerBuilder> r) {
    r.put(
        "TensorFlowOpLayer",
        new LayerBuilder() {
          @Override
          public List<KT> call(Call c, List<KT> in) {
            return List.of(op(c, in));
          }

          @Override
          public String problem(JsonNode cfg) {
            String op = cfg.path("node_def").path("op").asString("");
            return supported(op) ? null : "op " + (op.isEmpty() ? "(none)" : op);
          }
        });
  }

  static boolean supported(String op) {
    return UNARY.contains(op)
        || BINARY.contains(op)
        || REDUCTIONS.contains(op)
        || OTHER.contains(op);
  }

  private static KT op(Call c, List<KT> layerInputs) {
    JsonNode def = c.cfg.path("node_def");
    String op = def.path("op").asString("");
    if (!supported(op)) {
      throw c.unsupported("runs TensorFlow op " + op + ", which tfport cannot build");
    }
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> a : def.path("attr").properties()) {
      attrs.put(a.getKey(), attr(c, a.getKey(), a.getValue()));
    }
    JsonNode constants = c.cfg.path("constants");
    int count = def.path("input").size();
    List<String> inputs = new ArrayList<>();
    List<KT> known = new ArrayList<>();
    List<long[]> values = new ArrayList<>();
    int next = 0;
    for (int i = 0; i < count; i++) {
      JsonNode k = constants.get(Integer.toString(i));
      if (k != null && !k.isNull()) {
        boolean index =
            INDEX_TYPE_ATTR.containsKey(op) && (op.equals("ConcatV2") ? i == count - 1 : i == 1);
        String ref = index ? intConstant(c, k) : floatConstant(c, k);
        inputs.add(ref);
        known.add(null);
        values.add(index ? longs(k) : null);
      } else {
        if (next >= layerInputs.size()) {
          throw c.corrupt(
              "runs "
                  + op
                  + " on "
                  + count
                  + " inputs but is called on "
                  + layerInputs.size()
                  + " tensors and has "
                  + constants.size()
                  + " constants");
        }
        KT x = layerInputs.get(next++);
        inputs.add(x.ref());
        known.add(x);
        values.add(null);
      }
    }
    String ref = c.e.raw(op, inputs, attrs);
    KT first = known.stream().filter(java.util.Objects::nonNull).findFirst().orElse(null);
    if (first == null) {
      throw c.unsupported("runs " + op + " on constants only; nothing of the model flows into it");
    }
    int dtype = attrs.get("DstT") instanceof AttrValue.Type t ? t.value() : first.dtype();
    return new KT(ref, shape(c, op, attrs, known, values), dtype);
  }

  private static long[] shape(
      Call c, String op, Map<String, AttrValue> attrs, List<KT> in, List<long[]> values) {
    if (UNARY.contains(op)) {
      return in.get(0).shape();
    }
    if (BINARY.contains(op)) {
      long[] a = in.get(0) == null ? new long[0] : in.get(0).shape();
      long[] b = in.get(1) == null ? new long[0] : in.get(1).shape();
      return broadcast(a, b);
    }
    KT x = in.get(0);
    long[] s = x.shape();
    switch (op) {
      case "Transpose" -> {
        long[] perm = need(c, values.get(1), "perm");
        long[] out = new long[perm.length];
        for (int i = 0; i < perm.length; i++) {
          out[i] = s[(int) perm[i]];
        }
        return out;
      }
      case "Reshape" -> {
        long[] target = need(c, values.get(1), "shape").clone();
        long total = 1;
        for (long d : s) {
          total = d < 0 || total < 0 ? -1 : total * d;
        }
        long known = 1;
        int free = -1;
        for (int i = 0; i < target.length; i++) {
          if (target[i] < 0) {
            free = i;
          } else {
            known *= target[i];
          }
        }
        if (free >= 0) {
          target[free] = total < 0 || known == 0 ? -1 : total / known;
        }
        return target;
      }
      case "ExpandDims" -> {
        int axis = (int) need(c, values.get(1), "axis")[0];
        axis = axis < 0 ? axis + s.length + 1 : axis;
        long[] out = new long[s.length + 1];
        for (int i = 0, j = 0; i < out.length; i++) {
          out[i] = i == axis ? 1 : s[j++];
        }
        return out;
      }
      case "Squeeze" -> {
        List<Long> dims = new ArrayList<>();
        if (attrs.get("squeeze_dims") instanceof AttrValue.ListAttr l) {
          for (long d : l.i()) {
            dims.add(d < 0 ? d + s.length : d);
          }
        }
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < s.length; i++) {
          if (!(dims.isEmpty() ? s[i] == 1 : dims.contains((long) i))) {
            out.add(s[i]);
          }
        }
        return out.stream().mapToLong(Long::longValue).toArray();
      }
      case "ConcatV2" -> {
        int axis = (int) need(c, values.get(values.size() - 1), "axis")[0];
        axis = axis < 0 ? axis + s.length : axis;
        long[] out = s.clone();
        out[axis] = 0;
        for (int i = 0; i < in.size() - 1; i++) {
          long d = in.get(i) == null ? -1 : in.get(i).dim(axis);
          out[axis] = d < 0 || out[axis] < 0 ? -1 : out[axis] + d;
        }
        return out;
      }
      case "MatMul", "BatchMatMulV2" -> {
        boolean ta = flag(attrs, op.equals("MatMul") ? "transpose_a" : "adj_x");
        boolean tb = flag(attrs, op.equals("MatMul") ? "transpose_b" : "adj_y");
        long[] b = in.get(1) == null ? null : in.get(1).shape();
        if (b == null) {
          throw c.unsupported("multiplies by a constant matrix, which tfport does not build");
        }
        long[] out = s.length >= b.length ? s.clone() : b.clone();
        out[out.length - 2] = ta ? s[s.length - 1] : s[s.length - 2];
        out[out.length - 1] = tb ? b[b.length - 2] : b[b.length - 1];
        return out;
      }
      default -> {
        // reductions
        long[] axes = need(c, values.get(1), "reduction_indices");
        boolean keep = flag(attrs, "keep_dims");
        java.util.Set<Integer> reduced = new java.util.HashSet<>();
        for (long a : axes) {
          reduced.add((int) (a < 0 ? a + s.length : a));
        }
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < s.length; i++) {
          if (!reduced.contains(i)) {
            out.add(s[i]);
          } else if (keep) {
            out.add(1L);
          }
        }
        return out.stream().mapToLong(Long::longValue).toArray();
      }
    }
  }

  private static boolean flag(Map<String, AttrValue> attrs, String key) {
    return attrs.get(key) instanceof AttrValue.Bool b && b.value();
  }

  private static long[] need(Call c, long[] v, String what) {
    if (v == null) {
      throw c.unsupported(
          "takes its " + what + " from a tensor; tfport builds this op with a constant " + what);
    }
    return v;
  }

  static long[] broadcast(long[] a, long[] b) {
    int n = Math.max(a.length, b.length);
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      long x = i < n - a.length ? 1 : a[i - (n - a.length)];
      long y = i < n - b.length ? 1 : b[i - (n - b.length)];
      out[i] = x == 1 ? y : y == 1 ? x : x < 0 ? y : x;
    }
    return out;
  }

  private static long[] longs(JsonNode k) {
    List<Long> out = new ArrayList<>();
    flatten(k, out);
    return out.stream().mapToLong(Long::longValue).toArray();
  }

  private static void flatten(JsonNode k, List<Long> out) {
    if (k.isArray()) {
      k.forEach(v -> flatten(v, out));
    } else {
      out.add(k.asLong());
    }
  }

  private static long[] dimsOf(JsonNode k) {
    List<Long> d = new ArrayList<>();
    JsonNode v = k;
    while (v.isArray()) {
      d.add((long) v.size());
      v = v.isEmpty() ? v.path(0) : v.get(0);
    }
    return d.stream().mapToLong(Long::longValue).toArray();
  }

  private static String intConstant(Call c, JsonNode k) {
    long[] v = longs(k);
    int[] iv = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      iv[i] = Math.toIntExact(v[i]);
    }
    return c.e.constant("Const", Tensor.ofInts(Shape.of(dimsOf(k)), iv));
  }

  private static String floatConstant(Call c, JsonNode k) {
    List<Double> v = new ArrayList<>();
    collect(k, v);
    float[] f = new float[v.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = v.get(i).floatValue();
    }
    return c.e.constant("Const", Tensor.ofFloats(Shape.of(dimsOf(k)), f));
  }

  private static void collect(JsonNode k, List<Double> out) {
    if (k.isArray()) {
      k.forEach(v -> collect(v, out));
    } else {
      out.add(k.asDouble());
    }
  }

  /** An attribute in protobuf's JSON form ({@code {"type": "DT_FLOAT"}}, {@code {"i": "3"}}...). */
  private static AttrValue attr(Call c, String key, JsonNode v) {
    if (v.has("type")) {
      return new AttrValue.Type(DataTypes.code(v.get("type").asString()));
    }
    if (v.has("i")) {
      return new AttrValue.Int(v.get("i").asLong());
    }
    if (v.has("f")) {
      return new AttrValue.Float((float) v.get("f").asDouble());
    }
    if (v.has("b")) {
      return new AttrValue.Bool(v.get("b").asBoolean());
    }
    if (v.has("s")) {
      return new AttrValue.Str(Base64.getDecoder().decode(v.get("s").asString()));
    }
    if (v.has("shape")) {
      JsonNode s = v.get("shape");
      if (s.path("unknownRank").asBoolean(false)) {
        return new AttrValue.Shape(TensorShape.UNKNOWN);
      }
      List<Long> d = new ArrayList<>();
      s.path("dim").forEach(x -> d.add(x.path("size").asLong(-1)));
      return new AttrValue.Shape(TensorShape.of(d.stream().mapToLong(Long::longValue).toArray()));
    }
    if (v.has("list")) {
      JsonNode l = v.get("list");
      if (l.has("i")) {
        List<Long> ints = new ArrayList<>();
        l.get("i").forEach(x -> ints.add(x.asLong()));
        return AttrValue.ListAttr.ofInts(ints);
      }
      if (l.has("type")) {
        List<Integer> types = new ArrayList<>();
        l.get("type").forEach(x -> types.add(DataTypes.code(x.asString())));
        return AttrValue.ListAttr.ofTypes(types);
      }
      return AttrValue.ListAttr.ofInts(List.of());
    }
    throw c.unsupported("has attribute '" + key + "' of a form tfport does not read: " + v);
  }
}
