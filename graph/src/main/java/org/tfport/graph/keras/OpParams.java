package org.tfport.graph.keras;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import tools.jackson.databind.JsonNode;

/**
 * One {@code tf.*} call of a {@code TFOpLambda}, read parameter by parameter as the op's Python
 * signature names them. Every keyword the call passes must be read, so that an argument tfport does
 * not honour is refused instead of silently dropped.
 */
final class OpParams {
  final Call c;
  final String fn;
  private final OpArgs args;
  private final Set<String> read = new HashSet<>();

  OpParams(Call c, String fn, OpArgs args) {
    this.c = c;
    this.fn = fn;
    this.args = args;
  }

  /** The first argument, one tensor or constant (a constant made a node of {@code dtype}). */
  KT first(int dtypeForConstant) {
    if (args.firstIsList() || args.first().size() != 1) {
      throw c.unsupported(
          "calls tf."
              + fn
              + " on a list of "
              + args.first().size()
              + " values; it takes one tensor");
    }
    return operand(args.first().get(0), dtypeForConstant);
  }

  /** The first argument when it is (or may be) a constant: its JSON, else null. */
  boolean firstIsConstant() {
    return args.first().size() == 1 && OpArgs.isConstant(args.first().get(0));
  }

  /** The first argument as a list of tensors ({@code tf.concat}, {@code tf.stack}). */
  List<KT> firstList(int dtypeForConstant) {
    List<KT> out = new ArrayList<>();
    for (Object o : args.first()) {
      out.add(operand(o, dtypeForConstant));
    }
    return out;
  }

  boolean has(String name) {
    Object v = args.kwargs().get(name);
    return v != null && !(v instanceof JsonNode j && j.isNull());
  }

  /** A parameter that is a tensor or a constant of {@code dtype}, or null when not passed. */
  KT operand(String name, int dtypeForConstant) {
    read.add(name);
    return has(name) ? operand(args.kwargs().get(name), dtypeForConstant) : null;
  }

  /** A parameter that must be a constant (an axis, a shape): its JSON, or null when not passed. */
  JsonNode constant(String name) {
    read.add(name);
    if (!has(name)) {
      return null;
    }
    Object v = args.kwargs().get(name);
    if (v instanceof KT) {
      throw c.unsupported(
          "passes tf." + fn + " its " + name + " as a tensor; tfport builds it from a constant");
    }
    return (JsonNode) v;
  }

  /** The first of {@code names} passed (a parameter and its deprecated alias), or null. */
  JsonNode constant(String... names) {
    JsonNode found = null;
    for (String n : names) {
      JsonNode v = constant(n);
      found = found == null ? v : found;
    }
    return found;
  }

  /** An int or list of ints, or null when not passed. */
  long[] ints(String... names) {
    JsonNode v = constant(names);
    if (v == null) {
      return null;
    }
    List<Long> out = new ArrayList<>();
    flatten(v, out);
    return out.stream().mapToLong(Long::longValue).toArray();
  }

  boolean bool(String name, boolean dflt) {
    JsonNode v = constant(name);
    return v == null ? dflt : v.asBoolean();
  }

  double number(String name, double dflt) {
    JsonNode v = constant(name);
    return v == null ? dflt : v.asDouble();
  }

  /** A parameter tfport builds only at its default; refused when set otherwise. */
  void only(String name, Object dflt) {
    JsonNode v = constant(name);
    if (v == null) {
      return;
    }
    boolean same =
        switch (dflt) {
          case Boolean b -> v.isBoolean() && v.asBoolean() == b;
          case Number n -> v.isNumber() && v.asDouble() == n.doubleValue();
          default -> false;
        };
    if (!same) {
      throw c.unsupported(
          "calls tf." + fn + " with " + name + "=" + v + ", which tfport does not build");
    }
  }

  /** Refuses keywords no builder read ({@code name} names the op only). */
  void finish() {
    for (String k : args.kwargs().keySet()) {
      if (!k.equals("name") && !read.contains(k)) {
        throw c.unsupported(
            "passes tf." + fn + " the argument '" + k + "', which tfport does not read for it");
      }
    }
  }

  private KT operand(Object o, int dtype) {
    if (o instanceof KT k) {
      return k;
    }
    JsonNode v = (JsonNode) o;
    long[] dims = dimsOf(v);
    List<Double> values = new ArrayList<>();
    collect(v, values);
    Tensor t;
    if (dtype == KT.FLOAT) {
      float[] f = new float[values.size()];
      for (int i = 0; i < f.length; i++) {
        f[i] = values.get(i).floatValue();
      }
      t = Tensor.ofFloats(Shape.of(dims), f);
    } else if (dtype == KT.INT32) {
      int[] iv = new int[values.size()];
      for (int i = 0; i < iv.length; i++) {
        iv[i] = (int) Math.round(values.get(i));
      }
      t = Tensor.ofInts(Shape.of(dims), iv);
    } else {
      throw c.unsupported(
          "calls tf."
              + fn
              + " with a constant of type "
              + DataTypes.name(dtype)
              + "; tfport makes float32 and int32 constants");
    }
    if (Shape.of(dims).size() != values.size()) {
      throw c.corrupt("passes tf." + fn + " a ragged constant " + v);
    }
    return new KT(c.e.constant("Const", t), dims, dtype);
  }

  static long[] dimsOf(JsonNode k) {
    List<Long> d = new ArrayList<>();
    JsonNode v = k;
    while (v.isArray()) {
      d.add((long) v.size());
      if (v.isEmpty()) {
        break;
      }
      v = v.get(0);
    }
    return d.stream().mapToLong(Long::longValue).toArray();
  }

  private static void collect(JsonNode k, List<Double> out) {
    if (k.isArray()) {
      k.forEach(v -> collect(v, out));
    } else {
      out.add(k.asDouble());
    }
  }

  private static void flatten(JsonNode k, List<Long> out) {
    if (k.isArray()) {
      k.forEach(v -> flatten(v, out));
    } else {
      out.add(k.isNull() ? -1L : k.asLong());
    }
  }

  /** A Python dtype name ({@code "float32"}, {@code "int32"}...) as a TensorFlow type number. */
  int dtype(String name) {
    JsonNode v = constant(name);
    String s = v == null ? "" : v.asString("");
    DType t = DType.fromJsName(s);
    if (t == null) {
      throw c.unsupported("calls tf." + fn + " with dtype '" + s + "', which tfport does not know");
    }
    return DataTypes.fromDType(t);
  }

  /** Attributes {@code T} (and any pairs given) for a node on {@code dtype}. */
  static Map<String, AttrValue> typed(int dtype, Object... pairs) {
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("T", new AttrValue.Type(dtype));
    for (int i = 0; i < pairs.length; i += 2) {
      a.put((String) pairs[i], Emit.attr(pairs[i + 1]));
    }
    return a;
  }
}
