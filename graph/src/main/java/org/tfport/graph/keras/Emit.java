package org.tfport.graph.keras;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.core.graph.TensorValue;

/**
 * Adds TensorFlow nodes for one layer call, named {@code scope/Op} as TensorFlow's own tracing of a
 * Keras layer names them.
 */
final class Emit {
  static final AttrValue F32 = new AttrValue.Type(DataTypes.DT_FLOAT);
  static final AttrValue I32 = new AttrValue.Type(KT.INT32);

  final Graph g;
  private final String scope;

  Emit(Graph g, String scope) {
    this.g = g;
    this.scope = scope;
  }

  Emit scoped(String sub) {
    return new Emit(g, scope + "/" + sub);
  }

  String scope() {
    return scope;
  }

  /** A node of type-parameterized op {@code op} with {@code T = float32}. */
  String op(String op, List<String> inputs, Object... attrs) {
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("T", F32);
    for (int i = 0; i < attrs.length; i += 2) {
      a.put((String) attrs[i], attr(attrs[i + 1]));
    }
    return raw(op, inputs, a);
  }

  /** A node with exactly the attributes given. */
  String raw(String op, List<String> inputs, Map<String, AttrValue> attrs) {
    String name = g.uniqueName(scope + "/" + op);
    g.add(new Node(name, op, inputs, "", attrs));
    return name;
  }

  static AttrValue attr(Object v) {
    return switch (v) {
      case AttrValue a -> a;
      case String s -> AttrValue.Str.of(s);
      case Integer i -> new AttrValue.Int(i);
      case Long l -> new AttrValue.Int(l);
      case Float f -> new AttrValue.Float(f);
      case Double d -> new AttrValue.Float(d.floatValue());
      case Boolean b -> new AttrValue.Bool(b);
      case long[] ls -> AttrValue.ListAttr.ofInts(Arrays.stream(ls).boxed().toList());
      case int[] is -> AttrValue.ListAttr.ofInts(Arrays.stream(is).asLongStream().boxed().toList());
      default -> throw new IllegalArgumentException("no attribute form for " + v);
    };
  }

  static AttrValue type(int dtype) {
    return new AttrValue.Type(dtype);
  }

  String constant(String name, Tensor t) {
    Map<String, AttrValue> a = new LinkedHashMap<>();
    int dt = DataTypes.fromDType(t.dtype());
    a.put("dtype", new AttrValue.Type(dt));
    a.put("value", new AttrValue.TensorAttr(new TensorValue(dt, TensorShape.of(t.shape()), t)));
    String n = g.uniqueName(scope + "/" + name);
    g.add(new Node(n, "Const", List.of(), "", a));
    return n;
  }

  String floats(String name, long[] shape, float... values) {
    return constant(name, Tensor.ofFloats(Shape.of(shape), values));
  }

  String scalar(float v) {
    return floats("Const", new long[0], v);
  }

  String ints(String name, long... values) {
    int[] v = new int[values.length];
    for (int i = 0; i < v.length; i++) {
      v[i] = Math.toIntExact(values[i]);
    }
    return constant(name, Tensor.ofInts(Shape.of(values.length), v));
  }

  String intScalar(long v) {
    return constant("Const", Tensor.ofInts(Shape.SCALAR, Math.toIntExact(v)));
  }

  // ------------------------------------------------------------------ common ops

  String binary(String op, String a, String b) {
    return op(op, List.of(a, b));
  }

  String unary(String op, String a) {
    return op(op, List.of(a));
  }

  String reshape(String x, long... dims) {
    return raw("Reshape", List.of(x, ints("shape", dims)), Map.of("T", F32, "Tshape", I32));
  }

  /**
   * {@code value} reshaped to {@code dims}, where -1 entries are {@code dimsFrom}'s dimensions at
   * the same position (the batch): static when at most one is unknown, else read from the tensor at
   * run time.
   */
  String reshapeKeeping(String value, String dimsFrom, long[] dims) {
    int unknown = 0;
    for (long d : dims) {
      unknown += d < 0 ? 1 : 0;
    }
    if (unknown <= 1) {
      return reshape(value, dims);
    }
    String shape = raw("Shape", List.of(dimsFrom), Map.of("T", F32, "out_type", I32));
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < dims.length; i++) {
      if (dims[i] < 0) {
        parts.add(
            raw(
                "StridedSlice",
                List.of(shape, ints("begin", i), ints("end", i + 1), ints("strides", 1)),
                stridedAttrs(I32, 0, 0, 1)));
      } else {
        parts.add(intScalar(dims[i]));
      }
    }
    String packed = raw("Pack", parts, Map.of("T", I32, "N", attr(parts.size()), "axis", attr(0)));
    return raw("Reshape", List.of(value, packed), Map.of("T", F32, "Tshape", I32));
  }

  static Map<String, AttrValue> stridedAttrs(
      AttrValue t, long beginMask, long endMask, long shrinkMask) {
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("T", t);
    a.put("Index", I32);
    a.put("begin_mask", attr(beginMask));
    a.put("end_mask", attr(endMask));
    a.put("ellipsis_mask", attr(0));
    a.put("new_axis_mask", attr(0));
    a.put("shrink_axis_mask", attr(shrinkMask));
    return a;
  }

  /** The first dimension of {@code x} at run time, as a scalar int32. */
  String batchSize(String x) {
    String shape = raw("Shape", List.of(x), Map.of("T", F32, "out_type", I32));
    return raw(
        "StridedSlice",
        List.of(shape, ints("begin", 0), ints("end", 1), ints("strides", 1)),
        stridedAttrs(I32, 0, 0, 1));
  }

  String transpose(String x, long... perm) {
    return raw("Transpose", List.of(x, ints("perm", perm)), Map.of("T", F32, "Tperm", I32));
  }

  String expandDims(String x, int axis) {
    return raw("ExpandDims", List.of(x, intScalar(axis)), Map.of("T", F32, "Tdim", I32));
  }

  String squeeze(String x, int axis) {
    return op("Squeeze", List.of(x), "squeeze_dims", new long[] {axis});
  }

  String reduce(String op, String x, long[] axes, boolean keepDims) {
    return raw(
        op,
        List.of(x, ints("reduction_indices", axes)),
        Map.of("T", F32, "Tidx", I32, "keep_dims", attr(keepDims)));
  }

  String concat(List<String> xs, int axis) {
    List<String> ins = new ArrayList<>(xs);
    ins.add(intScalar(axis));
    return raw("ConcatV2", ins, Map.of("T", F32, "N", attr(xs.size()), "Tidx", I32));
  }

  String pad(String x, long[][] paddings) {
    long[] flat = new long[paddings.length * 2];
    for (int i = 0; i < paddings.length; i++) {
      flat[2 * i] = paddings[i][0];
      flat[2 * i + 1] = paddings[i][1];
    }
    int[] v = new int[flat.length];
    for (int i = 0; i < v.length; i++) {
      v[i] = Math.toIntExact(flat[i]);
    }
    String p = constant("paddings", Tensor.ofInts(Shape.of(paddings.length, 2), v));
    return raw("Pad", List.of(x, p), Map.of("T", F32, "Tpaddings", I32));
  }

  String tile(String x, long... multiples) {
    return raw(
        "Tile", List.of(x, ints("multiples", multiples)), Map.of("T", F32, "Tmultiples", I32));
  }

  String cast(String x, int from, int to) {
    return raw(
        "Cast", List.of(x), Map.of("SrcT", type(from), "DstT", type(to), "Truncate", attr(false)));
  }
}
