package org.tfport.train.grad;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.core.graph.TensorValue;
import org.tfport.graph.optimize.ShapeInference;

/**
 * Emits backward ops into the graph under {@code gradients/}, and knows the forward tensors' static
 * shapes (-1 for the batch), from which broadcasting reductions and reduction axes are worked out.
 * Shapes that vary with the batch are read at run time ({@code Shape}), so one backward graph
 * serves every batch size.
 */
public final class GradContext {
  private static final AttrValue F32 = new AttrValue.Type(DataTypes.DT_FLOAT);
  private static final AttrValue I32 = new AttrValue.Type(DataTypes.fromDType(DType.INT32));

  private final Graph g;
  private final ShapeInference shapes;
  private String scope = "gradients";

  GradContext(Graph g, ShapeInference shapes) {
    this.g = g;
    this.shapes = shapes;
  }

  /** An emitter into {@code g} under {@code scope}, for ops that are not gradients. */
  public static GradContext emitter(Graph g, String scope) {
    GradContext c = new GradContext(g, null);
    c.scope = scope;
    return c;
  }

  void scope(String forwardNode) {
    this.scope = "gradients/" + forwardNode;
  }

  /** The forward tensor's static dimensions; refuses, naming the node, when its rank is unknown. */
  public long[] dims(String ref) {
    long[] d = shapes == null ? null : shapes.dims(ref);
    if (d == null) {
      throw new UnsupportedModelException(
          g.source()
              + ": cannot differentiate through '"
              + ref
              + "': its rank is not known from the graph");
    }
    return d;
  }

  public int rank(String ref) {
    return dims(ref).length;
  }

  /** A constant input's value (reduction axes, permutations), or null when not a constant. */
  public Tensor constant(String ref) {
    Node n = g.node(org.tfport.core.graph.TensorRef.nodeOf(ref));
    if (n == null || !n.op().equals("Const")) {
      return null;
    }
    TensorValue v = n.tensorAttr("value");
    return v == null ? null : v.value();
  }

  // ---------------------------------------------------------------- emitting

  /** A float32 op with attributes given as key, value pairs. */
  public String op(String op, List<String> inputs, Object... attrs) {
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("T", F32);
    for (int i = 0; i < attrs.length; i += 2) {
      a.put((String) attrs[i], attr(attrs[i + 1]));
    }
    return raw(op, inputs, a);
  }

  public String raw(String op, List<String> inputs, Map<String, AttrValue> attrs) {
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
      case Boolean b -> new AttrValue.Bool(b);
      case long[] ls -> AttrValue.ListAttr.ofInts(Arrays.stream(ls).boxed().toList());
      default -> throw new IllegalArgumentException("no attribute form for " + v);
    };
  }

  public String constant(Tensor t) {
    Map<String, AttrValue> a = new LinkedHashMap<>();
    int dt = DataTypes.fromDType(t.dtype());
    a.put("dtype", new AttrValue.Type(dt));
    a.put("value", new AttrValue.TensorAttr(new TensorValue(dt, TensorShape.of(t.shape()), t)));
    String n = g.uniqueName(scope + "/Const");
    g.add(new Node(n, "Const", List.of(), "", a));
    return n;
  }

  public String scalar(float v) {
    return constant(Tensor.ofFloats(Shape.SCALAR, v));
  }

  public String ints(long... values) {
    int[] v = new int[values.length];
    for (int i = 0; i < v.length; i++) {
      v[i] = Math.toIntExact(values[i]);
    }
    return constant(Tensor.ofInts(Shape.of(values.length), v));
  }

  public String binary(String op, String a, String b) {
    return op(op, List.of(a, b));
  }

  public String unary(String op, String a) {
    return op(op, List.of(a));
  }

  public String mul(String a, String b) {
    return binary("Mul", a, b);
  }

  public String shape(String x) {
    return raw("Shape", List.of(x), Map.of("T", F32, "out_type", I32));
  }

  public String reshape(String x, String shape) {
    return raw("Reshape", List.of(x, shape), Map.of("T", F32, "Tshape", I32));
  }

  public String sum(String x, long[] axes, boolean keepDims) {
    return raw(
        "Sum", List.of(x, ints(axes)), Map.of("T", F32, "Tidx", I32, "keep_dims", attr(keepDims)));
  }

  public String transpose(String x, long... perm) {
    return raw("Transpose", List.of(x, ints(perm)), Map.of("T", F32, "Tperm", I32));
  }

  /** 1.0 where {@code cmp(a, b)} holds, else 0.0. */
  public String mask(String cmp, String a, String b) {
    String bool = op(cmp, List.of(a, b));
    return raw(
        "Cast",
        List.of(bool),
        Map.of(
            "SrcT",
            new AttrValue.Type(DataTypes.fromDType(DType.BOOL)),
            "DstT",
            F32,
            "Truncate",
            attr(false)));
  }

  /**
   * The gradient {@code dy} of a broadcasting op's output {@code out} summed back to the shape of
   * its input {@code x}: over the leading axes {@code x} lacks and the axes where {@code x} has 1.
   */
  public String unbroadcast(String dy, String out, String x) {
    long[] so = dims(out);
    long[] sx = dims(x);
    int lead = so.length - sx.length;
    List<Long> axes = new ArrayList<>();
    for (int i = 0; i < so.length; i++) {
      if (i < lead || (sx[i - lead] == 1 && so[i] != 1)) {
        axes.add((long) i);
      }
    }
    if (axes.isEmpty() && lead == 0) {
      return dy;
    }
    String s = sum(dy, axes.stream().mapToLong(Long::longValue).toArray(), false);
    return reshape(s, ShapeInference.known(sx) ? ints(sx) : shape(x));
  }

  /** The number of elements of {@code x} at run time, as a float32 scalar. */
  public String castSize(String x) {
    String size = raw("Size", List.of(x), Map.of("T", F32, "out_type", I32));
    return raw("Cast", List.of(size), Map.of("SrcT", I32, "DstT", F32, "Truncate", attr(false)));
  }
}
