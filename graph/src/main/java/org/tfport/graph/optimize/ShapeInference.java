package org.tfport.graph.optimize;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.StridedSliceSpec;
import org.tfport.core.graph.TensorRef;
import org.tfport.core.graph.TensorShape;

/**
 * Static shapes of a graph's tensors, as far as the ops tfport knows let them be worked out: from
 * placeholder and constant shapes forward, with -1 for a dimension that depends on what is fed. Ops
 * it does not know fall back on the {@code _output_shapes} TensorFlow recorded, else are unknown. A
 * snapshot: passes that change the graph make a new one.
 */
public final class ShapeInference {
  private static final Set<String> SAME_SHAPE =
      Set.of(
          "Identity",
          "Snapshot",
          "StopGradient",
          "PreventGradient",
          "CheckNumerics",
          "CheckNumericsV2",
          "EnsureShape",
          "Relu",
          "Relu6",
          "Elu",
          "Selu",
          "LeakyRelu",
          "Sigmoid",
          "Tanh",
          "Softplus",
          "Softsign",
          "Neg",
          "Abs",
          "Sqrt",
          "Rsqrt",
          "Exp",
          "Expm1",
          "Log",
          "Log1p",
          "Square",
          "Floor",
          "Ceil",
          "Round",
          "Rint",
          "Sign",
          "Reciprocal",
          "Inv",
          "Sin",
          "Cos",
          "Tan",
          "Asin",
          "Acos",
          "Atan",
          "Sinh",
          "Cosh",
          "Asinh",
          "Acosh",
          "Atanh",
          "Erf",
          "Cast",
          "IsNan",
          "IsInf",
          "IsFinite",
          "LogicalNot",
          "ZerosLike",
          "OnesLike",
          "Softmax",
          "LogSoftmax",
          "BiasAdd",
          "ClipByValue",
          "LRN",
          "Cumsum",
          "Cumprod",
          "ReverseV2",
          "FakeQuantWithMinMaxVars");
  private static final Set<String> BROADCAST =
      Set.of(
          "Add",
          "AddV2",
          "Sub",
          "Mul",
          "RealDiv",
          "Div",
          "DivNoNan",
          "TruncateDiv",
          "FloorDiv",
          "FloorMod",
          "Mod",
          "Maximum",
          "Minimum",
          "Pow",
          "SquaredDifference",
          "Atan2",
          "Equal",
          "NotEqual",
          "Less",
          "LessEqual",
          "Greater",
          "GreaterEqual",
          "LogicalAnd",
          "LogicalOr",
          "Prelu");
  private static final Set<String> REDUCTIONS =
      Set.of("Sum", "Mean", "Max", "Min", "Prod", "All", "Any", "EuclideanNorm");

  /** Shapes are worked out from constant inputs only when evaluating them is cheap. */
  private static final long CHEAP = 4096;

  private final Graph g;
  private final ConstantEvaluator evaluator;
  private final Map<String, List<long[]>> shapes = new HashMap<>();

  private ShapeInference(Graph g, ConstantEvaluator evaluator) {
    this.g = g;
    this.evaluator = evaluator;
  }

  /**
   * The shapes of {@code g}, small constant subgraphs evaluated by the installed {@link
   * ConstantEvaluator}.
   */
  public static ShapeInference of(Graph g) {
    return of(g, ConstantEvaluator.installed());
  }

  public static ShapeInference of(Graph g, ConstantEvaluator evaluator) {
    ShapeInference s = new ShapeInference(g, evaluator);
    for (Node n : g.topologicalOrder()) {
      List<long[]> out;
      try {
        out = s.infer(n);
      } catch (RuntimeException e) {
        out = List.of();
      }
      s.shapes.put(n.name(), out);
    }
    return s;
  }

  /** The tensor's dimensions (-1 where unknown), or null when even its rank is unknown. */
  public long[] dims(String ref) {
    TensorRef r = TensorRef.parse(ref);
    List<long[]> out = shapes.get(r.node());
    if (out == null || r.index() < 0 || r.index() >= out.size() || out.get(r.index()) == null) {
      return null;
    }
    return out.get(r.index()).clone();
  }

  public TensorShape shape(String ref) {
    long[] d = dims(ref);
    return d == null ? TensorShape.UNKNOWN : TensorShape.of(d);
  }

  public int rank(String ref) {
    long[] d = dims(ref);
    return d == null ? -1 : d.length;
  }

  /** Whether every dimension is known. */
  public static boolean known(long[] d) {
    if (d == null) {
      return false;
    }
    for (long x : d) {
      if (x < 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * numpy broadcasting where dimensions may be unknown (-1); null when the ranks are unknown or
   * clash.
   */
  public static long[] broadcast(long[] a, long[] b) {
    if (a == null || b == null) {
      return null;
    }
    int r = Math.max(a.length, b.length);
    long[] out = new long[r];
    for (int i = 0; i < r; i++) {
      long x = i < r - a.length ? 1 : a[i - (r - a.length)];
      long y = i < r - b.length ? 1 : b[i - (r - b.length)];
      if (x == 1) {
        out[i] = y;
      } else if (y == 1) {
        out[i] = x;
      } else if (x == y) {
        out[i] = x;
      } else if (x >= 0 && y >= 0) {
        return null;
      } else {
        out[i] = x >= 0 ? x : y >= 0 ? y : -1;
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ rules

  private long[] in(Node n, int i) {
    List<String> ins = n.dataInputs();
    return i < ins.size() ? dims(ins.get(i)) : null;
  }

  private long[] constInts(Node n, int i) {
    List<String> ins = n.dataInputs();
    Tensor t = i < ins.size() ? Consts.value(g, ins.get(i)) : null;
    if (t == null || t.size() > CHEAP) {
      return null;
    }
    try {
      return Tensors.ints(t);
    } catch (RuntimeException e) {
      return null;
    }
  }

  /**
   * A constant size vector, or one packed from scalars (Keras' Conv2DTranspose packs the batch size
   * read at run time with constant sizes): -1 where an element is not constant.
   */
  private long[] packedInts(Node n, int i) {
    long[] c = constInts(n, i);
    Node p = i < n.dataInputs().size() ? g.node(TensorRef.nodeOf(n.dataInputs().get(i))) : null;
    if (c != null || p == null || !p.op().equals("Pack")) {
      return c;
    }
    long[] out = new long[p.dataInputs().size()];
    for (int k = 0; k < out.length; k++) {
      long[] v = constInts(p, k);
      out[k] = v != null && v.length == 1 ? v[0] : -1;
    }
    return out;
  }

  private static List<long[]> one(long[] d) {
    List<long[]> out = new ArrayList<>();
    out.add(d);
    return out;
  }

  private List<long[]> infer(Node n) {
    String op = n.op();
    List<String> ins = n.dataInputs();
    if (op.equals("Const")) {
      Tensor t = Consts.value(n);
      return t != null
          ? one(t.shape().dims())
          : n.tensorAttr("value") != null ? one(n.tensorAttr("value").shape().dims()) : List.of();
    }
    if (op.equals("Placeholder") || op.equals("PlaceholderWithDefault")) {
      if (n.attr("shape") instanceof AttrValue.Shape s && !s.value().unknownRank()) {
        return one(s.value().dims());
      }
      return op.equals("Placeholder") ? recorded(n) : one(in(n, 0));
    }
    long[] cheap = fromConstants(n);
    if (cheap != null) {
      return one(cheap);
    }
    if (SAME_SHAPE.contains(op) || GradientShapes.SAME_AS_FIRST.contains(op)) {
      return one(in(n, 0));
    }
    if (BROADCAST.contains(op)) {
      return one(broadcast(in(n, 0), in(n, 1)));
    }
    return switch (op) {
      case "SelectV2" -> one(broadcast(broadcast(in(n, 0), in(n, 1)), in(n, 2)));
      case "AddN" -> {
        long[] acc = in(n, 0);
        for (int i = 1; i < ins.size(); i++) {
          acc = broadcast(acc, in(n, i));
        }
        yield one(acc);
      }
      case "IdentityN" -> {
        List<long[]> out = new ArrayList<>();
        for (int i = 0; i < ins.size(); i++) {
          out.add(in(n, i));
        }
        yield out;
      }
      case "FusedBatchNorm",
          "FusedBatchNormV2",
          "FusedBatchNormV3",
          "BatchNormWithGlobalNormalization" ->
          one(in(n, 0));
      case "MatMul", "_FusedMatMul" ->
          one(
              ShapeArithmetic.matMul(
                  in(n, 0), in(n, 1), bool(n, "transpose_a"), bool(n, "transpose_b")));
      case "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3" ->
          one(ShapeArithmetic.batchMatMul(in(n, 0), in(n, 1), bool(n, "adj_x"), bool(n, "adj_y")));
      case "Conv2D",
          "_FusedConv2D",
          "DepthwiseConv2dNative",
          "FusedDepthwiseConv2dNative",
          "Conv3D" ->
          one(conv(n));
      case "MaxPool", "AvgPool", "MaxPool3D", "AvgPool3D" -> one(pool(n));
      case "BiasAddGrad" -> one(GradientShapes.biasAddGrad(in(n, 0), n.stringAttr("data_format")));
      case "SoftmaxCrossEntropyWithLogits", "SparseSoftmaxCrossEntropyWithLogits" ->
          GradientShapes.crossEntropy(in(n, 0));
      case "Conv2DBackpropFilter",
          "Conv3DBackpropFilterV2",
          "DepthwiseConv2dNativeBackpropFilter" ->
          one(GradientShapes.fromSizes(constInts(n, 1), in(n, 1)));
      case "DepthwiseConv2dNativeBackpropInput", "AvgPoolGrad" ->
          one(GradientShapes.fromSizes(constInts(n, 0), in(n, 0)));
      case "Conv2DBackpropInput", "Conv3DBackpropInputV2" ->
          one(GradientShapes.fromSizes(packedInts(n, 0), in(n, 0)));
      case "FusedBatchNormGrad", "FusedBatchNormGradV2", "FusedBatchNormGradV3" ->
          GradientShapes.batchNormGrad(in(n, 1), n.stringAttr("data_format"));
      case "BroadcastGradientArgs" -> {
        List<long[]> out = new ArrayList<>();
        out.add(new long[] {-1});
        out.add(new long[] {-1});
        yield out;
      }
      case "UnsortedSegmentSum" ->
          one(GradientShapes.segmentSum(in(n, 0), in(n, 1), constInts(n, 2)));
      case "Reshape" -> one(ShapeArithmetic.reshape(in(n, 0), constInts(n, 1), in(n, 1)));
      case "Transpose" -> one(ShapeArithmetic.transpose(in(n, 0), constInts(n, 1)));
      case "ExpandDims" -> one(ShapeArithmetic.expandDims(in(n, 0), constInts(n, 1)));
      case "Squeeze" -> one(squeeze(n, in(n, 0)));
      case "ConcatV2" -> one(concat(n, 0, ins.size() - 1, constInts(n, ins.size() - 1)));
      case "Concat" -> one(concat(n, 1, ins.size(), constInts(n, 0)));
      case "Pack" -> one(pack(n));
      case "Unpack" -> unpack(n);
      case "Split" -> split(n);
      case "Shape" -> {
        long[] x = in(n, 0);
        yield one(new long[] {x == null ? -1 : x.length});
      }
      case "ShapeN" -> {
        List<long[]> out = new ArrayList<>();
        for (int i = 0; i < ins.size(); i++) {
          long[] x = in(n, i);
          out.add(new long[] {x == null ? -1 : x.length});
        }
        yield out;
      }
      case "Rank", "Size" -> one(new long[0]);
      case "Fill" -> one(ShapeArithmetic.fill(constInts(n, 0), in(n, 0)));
      case "StridedSlice" -> one(stridedSlice(n));
      case "Slice" -> one(ShapeArithmetic.slice(in(n, 0), constInts(n, 1), constInts(n, 2)));
      case "GatherV2" -> one(ShapeArithmetic.gather(in(n, 0), in(n, 1), constInts(n, 2)));
      case "Tile" -> one(ShapeArithmetic.tile(in(n, 0), constInts(n, 1)));
      case "ResizeBilinear", "ResizeNearestNeighbor", "ResizeBicubic", "ResizeArea" ->
          one(ShapeArithmetic.resize(in(n, 0), constInts(n, 1)));
      case "ResizeNearestNeighborGrad" -> one(ShapeArithmetic.resize(in(n, 0), constInts(n, 1)));
      case "ResizeBilinearGrad" -> one(in(n, 1));
      case "Pad", "PadV2", "MirrorPad" -> one(ShapeArithmetic.pad(in(n, 0), constInts(n, 1)));
      case "ArgMax", "ArgMin" -> one(ShapeArithmetic.reduce(in(n, 0), constInts(n, 1), false));
      default ->
          REDUCTIONS.contains(op)
              ? one(ShapeArithmetic.reduce(in(n, 0), constInts(n, 1), bool(n, "keep_dims")))
              : recorded(n);
    };
  }

  /** What TensorFlow recorded when it built the graph, for ops without a rule here. */
  private static List<long[]> recorded(Node n) {
    if (n.attr("_output_shapes") instanceof AttrValue.ListAttr l) {
      List<long[]> out = new ArrayList<>();
      for (TensorShape s : l.shape()) {
        out.add(s.unknownRank() ? null : s.dims());
      }
      return out;
    }
    return List.of();
  }

  /** The shape of a cheap op on constants, by evaluating it. */
  private long[] fromConstants(Node n) {
    if (!evaluator.ops().contains(n.op()) || n.dataInputs().isEmpty()) {
      return null;
    }
    List<Tensor> values = new ArrayList<>();
    for (String in : n.dataInputs()) {
      Tensor t = Consts.value(g, in);
      if (t == null || t.size() > CHEAP) {
        return null;
      }
      values.add(t);
    }
    Tensor out = evaluator.evaluate(n, values);
    return out == null ? null : out.shape().dims();
  }

  private static boolean bool(Node n, String key) {
    return n.attr(key) instanceof AttrValue.Bool b && b.value();
  }

  private static long[] ints(Node n, String key) {
    if (n.attr(key) instanceof AttrValue.ListAttr l) {
      return l.i().stream().mapToLong(Long::longValue).toArray();
    }
    return null;
  }

  /** 2-D (NHWC) and 3-D (NDHWC) convolutions. */
  private long[] conv(Node n) {
    long[] x = in(n, 0);
    long[] f = in(n, 1);
    String format = n.stringAttr("data_format");
    int r = x == null ? 0 : x.length;
    if (x == null
        || (r != 4 && r != 5)
        || f == null
        || f.length != r
        || format != null && !format.equals(r == 4 ? "NHWC" : "NDHWC")) {
      return x != null && (r == 4 || r == 5) ? ShapeArithmetic.unknown(r) : null;
    }
    long[] strides = ints(n, "strides");
    long[] dil = ints(n, "dilations");
    String padding = n.stringAttr("padding");
    if (strides == null || strides.length != r || padding == null) {
      long[] out = ShapeArithmetic.unknown(r);
      out[0] = x[0];
      return out;
    }
    boolean depthwise = n.op().contains("Depthwise");
    long[] out = new long[r];
    out[0] = x[0];
    for (int i = 1; i < r - 1; i++) {
      long d = dil != null && dil.length == r ? dil[i] : 1;
      out[i] = ShapeArithmetic.windowed(x[i], f[i - 1], strides[i], d, padding);
    }
    out[r - 1] = depthwise ? (f[2] < 0 || f[3] < 0 ? -1 : f[2] * f[3]) : f[r - 1];
    return out;
  }

  /** 2-D (NHWC) and 3-D (NDHWC) pooling. */
  private long[] pool(Node n) {
    long[] x = in(n, 0);
    long[] k = ints(n, "ksize");
    long[] s = ints(n, "strides");
    String format = n.stringAttr("data_format");
    String padding = n.stringAttr("padding");
    int r = x == null ? 0 : x.length;
    if (x == null
        || (r != 4 && r != 5)
        || k == null
        || k.length != r
        || s == null
        || s.length != r
        || padding == null
        || format != null && !format.equals(r == 4 ? "NHWC" : "NDHWC")) {
      return x != null && (r == 4 || r == 5) ? ShapeArithmetic.unknown(r) : null;
    }
    long[] out = x.clone();
    for (int i = 1; i < r - 1; i++) {
      out[i] = ShapeArithmetic.windowed(x[i], k[i], s[i], 1, padding);
    }
    return out;
  }

  private static long[] squeeze(Node n, long[] x) {
    long[] axes = ints(n, "squeeze_dims");
    if (axes == null || axes.length == 0) {
      // TF.js's spelling of the same attribute.
      axes = ints(n, "axis");
    }
    return ShapeArithmetic.squeeze(x, axes);
  }

  private long[] concat(Node n, int from, int to, long[] axis) {
    if (axis == null || axis.length != 1 || to <= from) {
      return null;
    }
    long[] first = in(n, from);
    if (first == null) {
      return null;
    }
    int r = first.length;
    long a = axis[0] < 0 ? axis[0] + r : axis[0];
    if (a < 0 || a >= r) {
      return null;
    }
    long[] out = first.clone();
    for (int i = from + 1; i < to; i++) {
      long[] d = in(n, i);
      if (d == null || d.length != r) {
        return null;
      }
      for (int k = 0; k < r; k++) {
        if (k == a) {
          out[k] = out[k] < 0 || d[k] < 0 ? -1 : out[k] + d[k];
        } else if (out[k] < 0) {
          out[k] = d[k];
        }
      }
    }
    return out;
  }

  /** {@code num} outputs, each the input without the unpacked axis. */
  private List<long[]> unpack(Node n) {
    long[] x = in(n, 0);
    long num = n.attr("num") instanceof AttrValue.Int i ? i.value() : -1;
    long a = n.attr("axis") instanceof AttrValue.Int i ? i.value() : 0;
    List<long[]> out = new ArrayList<>();
    if (x == null || num < 0) {
      return out;
    }
    a = a < 0 ? a + x.length : a;
    if (a < 0 || a >= x.length) {
      return out;
    }
    long[] piece = new long[x.length - 1];
    for (int i = 0, j = 0; i < x.length; i++) {
      if (i != a) {
        piece[j++] = x[i];
      }
    }
    for (int k = 0; k < num; k++) {
      out.add(piece.clone());
    }
    return out;
  }

  /** {@code Split(axis, value)}: {@code num_split} equal pieces along the axis. */
  private List<long[]> split(Node n) {
    long[] axis = constInts(n, 0);
    long[] x = in(n, 1);
    long num = n.attr("num_split") instanceof AttrValue.Int i ? i.value() : -1;
    List<long[]> out = new ArrayList<>();
    if (x == null || axis == null || axis.length != 1 || num <= 0) {
      return out;
    }
    int a = (int) (axis[0] < 0 ? axis[0] + x.length : axis[0]);
    if (a < 0 || a >= x.length) {
      return out;
    }
    long[] piece = x.clone();
    piece[a] = x[a] < 0 ? -1 : x[a] / num;
    for (int k = 0; k < num; k++) {
      out.add(piece.clone());
    }
    return out;
  }

  private long[] pack(Node n) {
    long[] first = in(n, 0);
    if (first == null) {
      return null;
    }
    long a = n.attr("axis") instanceof AttrValue.Int i ? i.value() : 0;
    a = a < 0 ? a + first.length + 1 : a;
    if (a < 0 || a > first.length) {
      return null;
    }
    long[] out = new long[first.length + 1];
    for (int i = 0, j = 0; i < out.length; i++) {
      out[i] = i == a ? n.dataInputs().size() : first[j++];
    }
    return out;
  }

  private long[] stridedSlice(Node n) {
    long[] x = in(n, 0);
    long[] b = constInts(n, 1);
    long[] e = constInts(n, 2);
    long[] s = constInts(n, 3);
    if (x == null || b == null || e == null || s == null) {
      return null;
    }
    StridedSliceSpec spec = StridedSliceSpec.of(n, x, b, e, s);
    return spec == null ? null : spec.finalShape();
  }
}
