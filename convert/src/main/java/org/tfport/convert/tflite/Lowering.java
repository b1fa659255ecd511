package org.tfport.convert.tflite;

import org.tfport.graph.FunctionGraph;
import org.tfport.graph.optimize.BatchNormFolding;
import org.tfport.graph.optimize.GraphOptimizer;
import static org.tfport.convert.tflite.OpVersions.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.graph.optimize.ShapeInference;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.core.graph.TensorValue;
import org.tfport.formats.tflite.TfliteType;

/**
 * A frozen, optimized TensorFlow graph to one TFLite subgraph (spec 2.2–2.3): {@code Placeholder}s become subgraph
 * inputs, constants become tensors with data, and every other node becomes one builtin operator (or a short
 * sequence), with filters re-laid out (Conv2D HWIO to OHWI, depthwise HWIM to 1HW(I·M), MatMul weights to
 * [out, in]), a following {@code BiasAdd} folded into the bias input and a following Relu/Relu6/clamp folded into
 * {@code fused_activation_function}. Ops without a builtin become Flex or custom ops when allowed, else are
 * collected into {@link #unsupported} for one error.
 */
final class Lowering {
  private final Graph g;
  private final ModelBuilder.Sub sub;
  private final TfliteOptions options;
  private final ShapeInference shapes;
  private final Map<String, List<Node>> consumers;
  private final Set<String> outputNodes;
  /** TF tensor ("node:index") to TFLite tensor index. */
  private final Map<String, Integer> tensors = new HashMap<>();
  private final Set<String> absorbed = new HashSet<>();
  private final Map<String, Integer> dtypes = new HashMap<>();
  /** TFLite's IF builtin (WHILE is in {@link OpVersions}). */
  private static final int IF = 118;
  final List<String> unsupported = new ArrayList<>();
  /** The model under construction, for control flow's subgraphs; null lowers control flow as other ops. */
  ModelBuilder model;
  final Set<String> flexOps = new java.util.TreeSet<>();
  final Set<String> customOps = new java.util.TreeSet<>();

  Lowering(Graph g, ModelBuilder.Sub sub, TfliteOptions options) {
    this.g = g;
    this.sub = sub;
    this.options = options;
    this.shapes = ShapeInference.of(g);
    this.consumers = g.consumers();
    this.outputNodes = g.outputNodes();
  }

  /** Lowers every node; {@code inputs} are the placeholder nodes in subgraph-input order. */
  void run(List<String> inputs) {
    for (String in : inputs) {
      Node n = g.node(in);
      if (n == null || !isPlaceholder(n)) {
        continue;
      }
      int t = sub.add(newTensor(n.name(), ref(n.name(), 0), dtypeOf(ref(n.name(), 0))));
      tensors.put(ref(n.name(), 0), t);
      sub.inputs.add(t);
    }
    for (Node n : g.topologicalOrder()) {
      if (absorbed.contains(n.name()) || n.op().equals("Const") || n.op().equals("NoOp")
          || tensors.containsKey(ref(n.name(), 0)) && isPlaceholder(n)) {
        continue;
      }
      if (isPlaceholder(n)) {
        // A placeholder no signature feeds: still an input.
        int t = sub.add(newTensor(n.name(), ref(n.name(), 0), dtypeOf(ref(n.name(), 0))));
        tensors.put(ref(n.name(), 0), t);
        sub.inputs.add(t);
        continue;
      }
      lower(n);
    }
    for (String out : g.outputs()) {
      sub.outputs.add(tensor(out));
    }
  }

  static boolean isPlaceholder(Node n) {
    return n.op().equals("Placeholder") || n.op().equals("PlaceholderWithDefault");
  }

  // ------------------------------------------------------------------------------------------------ dispatch

  private void lower(Node n) {
    if (!options.builtins()) {
      fallback(n);
      return;
    }
    boolean done = switch (n.op()) {
      case "Identity", "Snapshot", "StopGradient", "PreventGradient", "EnsureShape", "CheckNumerics" -> alias(n);
      case "Conv2D" -> conv(n, false);
      case "DepthwiseConv2dNative" -> conv(n, true);
      case "MatMul" -> matmul(n);
      case "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3" -> batchMatmul(n);
      case "BiasAdd", "Add", "AddV2" -> binary(n, ADD, O_ADD, true);
      case "Sub" -> binary(n, SUB, O_SUB, true);
      case "Mul" -> binary(n, MUL, O_MUL, true);
      case "RealDiv", "Div" -> isFloat(n) && binary(n, DIV, O_DIV, true);
      case "Maximum" -> binary(n, MAXIMUM, 0, false);
      case "Minimum" -> binary(n, MINIMUM, 0, false);
      case "SquaredDifference" -> binary(n, SQUARED_DIFFERENCE, 0, false);
      case "Pow" -> binary(n, POW, 0, false);
      case "Relu" -> unary(n, RELU, 0);
      case "Relu6" -> unary(n, RELU6, 0);
      case "Elu" -> unary(n, ELU, 0);
      case "Tanh" -> unary(n, TANH, 0);
      case "Sigmoid" -> unary(n, LOGISTIC, 0);
      case "Exp" -> unary(n, EXP, O_EXP);
      case "Log" -> unary(n, LOG, 0);
      case "Sqrt" -> unary(n, SQRT, 0);
      case "Rsqrt" -> unary(n, RSQRT, 0);
      case "Square" -> unary(n, SQUARE, O_SQUARE);
      case "Neg" -> unary(n, NEG, O_NEG);
      case "Abs" -> unary(n, ABS, 0);
      case "Floor" -> unary(n, FLOOR, 0);
      case "Softmax" -> simple(n, SOFTMAX, O_SOFTMAX, List.of(in(n, 0))).opt("beta", 1.0f) != null;
      case "LogSoftmax" -> simple(n, LOG_SOFTMAX, O_LOG_SOFTMAX, List.of(in(n, 0))) != null;
      case "LeakyRelu" -> simple(n, LEAKY_RELU, O_LEAKY_RELU, List.of(in(n, 0)))
          .opt("alpha", floatAttr(n, "alpha", 0.2f)) != null;
      case "MaxPool", "AvgPool" -> pool(n);
      case "Reshape" -> reshape(n);
      case "Squeeze" -> squeeze(n);
      case "ExpandDims" -> withConstInts(n, EXPAND_DIMS, O_EXPAND_DIMS, 1);
      case "Transpose" -> withConstInts(n, TRANSPOSE, 0, 1);
      case "Tile" -> withConstInts(n, TILE, 0, 1);
      case "ConcatV2" -> concat(n);
      case "Pack" -> pack(n);
      case "Unpack" -> unpack(n);
      case "Split" -> split(n);
      case "Mean" -> reduce(n, MEAN);
      case "Sum" -> reduce(n, SUM);
      case "Max" -> reduce(n, REDUCE_MAX);
      case "Min" -> reduce(n, REDUCE_MIN);
      case "Prod" -> reduce(n, REDUCE_PROD);
      case "Cast" -> simple(n, CAST, 0, List.of(in(n, 0))) != null;
      case "StridedSlice" -> stridedSlice(n);
      case "Slice" -> constIntInputs(n, SLICE, 0, Set.of(1, 2));
      case "Pad" -> constIntInputs(n, PAD, O_PAD, Set.of(1));
      case "PadV2" -> constIntInputs(n, PADV2, O_PADV2, Set.of(1));
      case "GatherV2" -> gather(n);
      case "Shape" -> simple(n, SHAPE, O_SHAPE, List.of(in(n, 0)))
          .opt("out_type", dtypeOf(ref(n.name(), 0)) == DType.INT64.tfEnum() ? 4 : 2) != null;
      case "ArgMax" -> argMax(n);
      case "Fill" -> constIntInputs(n, FILL, 0, Set.of(0));
      case "SelectV2" -> simple(n, SELECT_V2, 98, List.of(in(n, 0), in(n, 1), in(n, 2))) != null;
      case "Less", "Greater", "LessEqual", "GreaterEqual", "Equal", "NotEqual", "LogicalAnd", "LogicalOr",
          "FloorDiv", "FloorMod" -> binary(n, builtin(n.op()), 0, false);
      case "OnesLike" -> onesLike(n);
      case "LogicalNot", "ZerosLike", "Sin", "Cos", "Ceil", "Round", "Sign" ->
          unary(n, builtin(n.op()), 0);
      case "Conv2DBackpropInput" -> transposeConv(n);
      case "SpaceToBatchND" -> constIntInputs(n, builtin("SpaceToBatchNd"), 0, Set.of(1, 2));
      case "BatchToSpaceND" -> constIntInputs(n, builtin("BatchToSpaceNd"), 0, Set.of(1, 2));
      case "IdentityN" -> identityN(n);
      case "TensorListReserve" -> tensorListReserve(n);
      case "TensorListFromTensor", "TensorListStack" -> alias(n);
      case "TensorListGetItem" -> simple(n, GATHER, O_GATHER, List.of(in(n, 0), in(n, 1))).opt("axis", 0)
          .opt("batch_dims", 0) != null;
      case "TensorListSetItem" -> tensorListSetItem(n);
      case "XlaDynamicUpdateSlice" -> dynamicUpdateSlice(n);
      case "BroadcastTo" -> broadcastTo(n);
      case "ReverseV2" -> reverse(n);
      case "Range" -> range(n);
      case "While", "StatelessWhile" -> controlFlow(n, true);
      case "If", "StatelessIf" -> controlFlow(n, false);
      default -> lowerMore(n);
    };
    if (!done) {
      fallback(n);
    }
  }

  /** A Flex op, a custom op, or an entry in {@link #unsupported}. */
  private void fallback(Node n) {
    if (options.selectTfOps()) {
      ModelBuilder.Op o = customOp(n, "Flex" + n.op());
      o.customOptions = CustomOptions.flex(n);
      flexOps.add(n.op());
    } else if (options.allowCustomOps()) {
      ModelBuilder.Op o = customOp(n, n.op());
      o.customOptions = CustomOptions.attrMap(n);
      customOps.add(n.op());
    } else {
      unsupported.add(n.op() + " (" + n.name() + ")");
      // Outputs without a producer, so lowering goes on and every unsupported op is listed.
      for (int k = 0; k < Math.max(1, outputCount(n)); k++) {
        output(n, k);
      }
    }
  }

  private ModelBuilder.Op customOp(Node n, String name) {
    List<Integer> ins = new ArrayList<>();
    for (String i : n.dataInputs()) {
      ins.add(tensor(i));
    }
    int count = Math.max(1, outputCount(n));
    List<Integer> outs = new ArrayList<>();
    for (int k = 0; k < count; k++) {
      outs.add(output(n, k));
    }
    ModelBuilder.Op o = sub.op(CUSTOM, 0, ins, outs);
    o.custom = name;
    o.tfName = n.name();
    return o;
  }

  private int outputCount(Node n) {
    int max = 0;
    for (Node c : g.nodes()) {
      for (String i : c.dataInputs()) {
        TensorRef r = TensorRef.parse(i);
        if (r.node().equals(n.name())) {
          max = Math.max(max, r.index() + 1);
        }
      }
    }
    for (String o : g.outputs()) {
      TensorRef r = TensorRef.parse(o);
      if (r.node().equals(n.name())) {
        max = Math.max(max, r.index() + 1);
      }
    }
    return max;
  }

  // ------------------------------------------------------------------------------------------------- ops

  /** The builtin code of a TF op whose TFLite name is its own in upper snake case ({@code LessEqual}). */
  private static int builtin(String tfOp) {
    String name = tfOp.replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(java.util.Locale.ROOT);
    return org.tfport.formats.tflite.TfliteOps.code(name);
  }

  /**
   * Functional control flow to TFLite's WHILE (cond and body subgraphs, the loop variables in and out) or IF
   * (the predicate, then the branches' arguments). Each function becomes a subgraph, lowered like the main one
   * with the shapes the caller passes.
   */
  private boolean controlFlow(Node n, boolean loop) {
    if (model == null) {
      return false;
    }
    List<String> data = n.dataInputs();
    List<String> args = loop ? data : data.subList(1, data.size());
    List<Integer> argTypes = new ArrayList<>();
    for (String a : args) {
      // A TensorList is lowered to the dense tensor [length, element...] it holds (see tensorListReserve);
      // resources have no TFLite form.
      int dt = dtypeOf(a);
      if (DataTypes.toDType(dt) == null) {
        return false;
      }
      argTypes.add(dt);
    }
    List<org.tfport.core.graph.TensorShape> argShapes = new ArrayList<>();
    for (String a : args) {
      argShapes.add(shapeOf(TensorRef.parse(a)));
    }
    // Every argument is lowered before the call: its TFLite tensor knows the shape best (TensorLists' shapes are
    // known only here).
    for (int i = 0; i < args.size(); i++) {
      ModelBuilder.T t = sub.t(tensor(args.get(i)));
      if (t.hasRank) {
        long[] d = new long[t.shape.length];
        for (int k = 0; k < d.length; k++) {
          d[k] = t.signature != null && t.signature[k] < 0 ? -1 : t.shape[k];
        }
        argShapes.set(i, org.tfport.core.graph.TensorShape.of(d));
      }
    }
    String[] fns = loop ? new String[] {"cond", "body"} : new String[] {"then_branch", "else_branch"};
    int[] indices = new int[2];
    for (int i = 0; i < 2; i++) {
      if (!(n.attr(fns[i]) instanceof AttrValue.Func f)) {
        return false;
      }
      indices[i] = subgraph(f.value().name(), argShapes, argTypes);
    }
    List<Integer> ins = new ArrayList<>();
    for (String d : data) {
      ins.add(tensor(d));
    }
    int outs = loop ? args.size() : n.attr("Tout") instanceof AttrValue.ListAttr l ? l.type().size() : 0;
    List<Integer> outTensors = new ArrayList<>();
    for (int k = 0; k < outs; k++) {
      outTensors.add(output(n, k));
    }
    ModelBuilder.Op o = sub.op(loop ? WHILE : IF, loop ? 93 : 92, ins, outTensors);
    o.tfName = n.name();
    if (loop) {
      o.opt("cond_subgraph_index", indices[0]).opt("body_subgraph_index", indices[1]);
    } else {
      o.opt("then_subgraph_index", indices[0]).opt("else_subgraph_index", indices[1]);
    }
    return true;
  }

  /**
   * A tensor's shape for a function's argument: inferred, or for a loop's or branch's result the
   * {@code output_shapes} TensorFlow recorded on it; null when unknown.
   */
  private org.tfport.core.graph.TensorShape shapeOf(TensorRef r) {
    long[] d = shapes.dims(r.toString());
    if (d != null) {
      return org.tfport.core.graph.TensorShape.of(d);
    }
    Node p = g.node(r.node());
    if (p != null && p.attr("output_shapes") instanceof AttrValue.ListAttr l && r.index() < l.shape().size()) {
      return l.shape().get(r.index());
    }
    return null;
  }

  /** Lowers library function {@code name} as a new subgraph of the model and returns its index. */
  private int subgraph(String name, List<org.tfport.core.graph.TensorShape> argShapes, List<Integer> argTypes) {
    org.tfport.graph.FunctionGraph fg = org.tfport.graph.FunctionGraph.instantiate(g, name,
        argShapes, argTypes);
    new org.tfport.graph.optimize.GraphOptimizer().optimize(fg.graph());
    fg.keepAllInputs();
    ModelBuilder.Sub child = new ModelBuilder.Sub(name);
    model.subgraphs.add(child);
    int index = model.subgraphs.size() - 1;
    Lowering low = new Lowering(fg.graph(), child, options);
    low.model = model;
    low.run(fg.inputs());
    unsupported.addAll(low.unsupported);
    flexOps.addAll(low.flexOps);
    customOps.addAll(low.customOps);
    return index;
  }

  private boolean alias(Node n) {
    tensors.put(ref(n.name(), 0), tensor(n.input(0)));
    return true;
  }

  private ModelBuilder.Op simple(Node n, int code, int optionsType, List<Integer> ins) {
    ModelBuilder.Op o = sub.op(code, optionsType, ins, List.of(output(n, 0)));
    o.tfName = n.name();
    return o;
  }

  private boolean unary(Node n, int code, int optionsType) {
    simple(n, code, optionsType, List.of(in(n, 0)));
    return true;
  }

  private boolean binary(Node n, int code, int optionsType, boolean fusable) {
    ModelBuilder.Op o = sub.op(code, optionsType, List.of(in(n, 0), in(n, 1)), List.of());
    o.tfName = n.name();
    if (optionsType != 0) {
      o.opt("fused_activation_function", 0);
    }
    Node last = fusable && isFloat(n) ? fuseActivation(n, o) : n;
    o.outputs.add(output(last, 0));
    return true;
  }

  private boolean isFloat(Node n) {
    return dtypeOf(ref(n.name(), 0)) == DType.FLOAT32.tfEnum();
  }

  /**
   * Folds a following Relu (1), Relu6 (3) or Minimum(Maximum(x, -1), 1) (2) into {@code o} when {@code n}'s result
   * has that single reader and is not a graph output; returns the node whose result {@code o} now computes.
   */
  private Node fuseActivation(Node n, ModelBuilder.Op o) {
    Node c = soleConsumer(n);
    if (c == null) {
      return n;
    }
    int act = switch (c.op()) {
      case "Relu" -> 1;
      case "Relu6" -> 3;
      default -> 0;
    };
    if (act == 0) {
      return n;
    }
    o.opt("fused_activation_function", act);
    absorbed.add(c.name());
    return c;
  }

  /** The one node reading {@code n}'s first output, when that is its only use and not a graph output. */
  private Node soleConsumer(Node n) {
    if (outputNodes.contains(n.name())) {
      return null;
    }
    List<Node> cs = consumers.getOrDefault(n.name(), List.of());
    if (cs.size() != 1) {
      return null;
    }
    Node c = cs.get(0);
    int uses = 0;
    for (String i : c.dataInputs()) {
      if (TensorRef.nodeOf(i).equals(n.name())) {
        uses++;
        if (TensorRef.parse(i).index() != 0) {
          return null;
        }
      }
    }
    return uses == 1 ? c : null;
  }

  /** The constant bias a following BiasAdd/Add adds along the last axis, absorbing that node; else null. */
  private float[] foldBias(Node n, int channels, Node[] last) {
    Node c = soleConsumer(n);
    if (c == null || !Set.of("BiasAdd", "Add", "AddV2").contains(c.op())) {
      return null;
    }
    String other = TensorRef.nodeOf(c.input(0)).equals(n.name()) ? c.input(1) : c.input(0);
    Tensor b = constant(other);
    if (b == null || b.dtype() != DType.FLOAT32 || b.size() != channels || (b.shape().dims().length > 1
        && !c.op().equals("BiasAdd"))) {
      return null;
    }
    absorbed.add(c.name());
    last[0] = c;
    return b.toFloatArray();
  }

  private boolean conv(Node n, boolean depthwise) {
    Tensor w = constant(n.input(1));
    if (w == null || w.dtype() != DType.FLOAT32 || w.shape().dims().length != 4 || !isFloat(n)
        || n.stringAttr("data_format") != null && !n.stringAttr("data_format").equals("NHWC")) {
      return false;
    }
    long[] d = w.shape().dims();
    int kh = (int) d[0], kw = (int) d[1], ci = (int) d[2], co = (int) d[3];
    float[] src = w.toFloatArray();
    int x = in(n, 0);
    String padding = n.stringAttr("padding");
    if ("EXPLICIT".equals(padding)) {
      x = explicitPad(n, x);
      padding = "VALID";
    }
    long[] strides = ints(n, "strides", new long[] {1, 1, 1, 1});
    long[] dil = ints(n, "dilations", new long[] {1, 1, 1, 1});
    int outC = depthwise ? ci * co : co;
    float[] filter = new float[src.length];
    int[] fshape;
    if (depthwise) {
      // [H, W, I, M] read as [1, H, W, I*M]: the same bytes.
      System.arraycopy(src, 0, filter, 0, src.length);
      fshape = new int[] {1, kh, kw, outC};
    } else {
      // HWIO -> OHWI
      for (int h = 0; h < kh; h++) {
        for (int ww = 0; ww < kw; ww++) {
          for (int i = 0; i < ci; i++) {
            for (int o = 0; o < co; o++) {
              filter[((o * kh + h) * kw + ww) * ci + i] = src[((h * kw + ww) * ci + i) * co + o];
            }
          }
        }
      }
      fshape = new int[] {co, kh, kw, ci};
    }
    Node[] last = {n};
    float[] bias = foldBias(n, outC, last);
    int wt = sub.constFloats(n.name() + "/filter", fshape, filter);
    int bt = sub.constFloats(n.name() + "/bias", new int[] {outC}, bias != null ? bias : new float[outC]);
    ModelBuilder.Op o = sub.op(depthwise ? DEPTHWISE_CONV_2D : CONV_2D, depthwise ? O_DW : O_CONV,
        List.of(x, wt, bt), List.of());
    o.tfName = n.name();
    o.opt("padding", "VALID".equals(padding) ? 1 : 0).opt("stride_w", (int) strides[2])
        .opt("stride_h", (int) strides[1]);
    if (depthwise) {
      o.opt("depth_multiplier", co);
    }
    o.opt("fused_activation_function", 0).opt("dilation_w_factor", (int) dil[2])
        .opt("dilation_h_factor", (int) dil[1]);
    Node end = fuseActivation(last[0], o);
    o.outputs.add(output(end, 0));
    return true;
  }

  /**
   * {@code Conv2DBackpropInput(input_sizes, filter, out_backprop)}, Keras' Conv2DTranspose, as TRANSPOSE_CONV
   * {@code (output_shape, weights, input)}: the filter is the forward convolution's [H, W, C_result, C_in],
   * TFLite wants [C_result, H, W, C_in].
   */
  private boolean transposeConv(Node n) {
    Tensor w = constant(n.input(1));
    long[] dil = ints(n, "dilations", new long[] {1, 1, 1, 1});
    String padding = n.stringAttr("padding");
    if (w == null || w.dtype() != DType.FLOAT32 || w.shape().dims().length != 4 || !isFloat(n)
        || n.stringAttr("data_format") != null && !n.stringAttr("data_format").equals("NHWC")
        || dil[1] != 1 || dil[2] != 1 || !("SAME".equals(padding) || "VALID".equals(padding))) {
      return false;
    }
    Integer outShape = int32(n, n.input(0), 0);
    if (outShape == null) {
      return false;
    }
    long[] d = w.shape().dims();
    int kh = (int) d[0], kw = (int) d[1], cr = (int) d[2], ci = (int) d[3];
    float[] src = w.toFloatArray();
    float[] filter = new float[src.length];
    for (int h = 0; h < kh; h++) {
      for (int ww = 0; ww < kw; ww++) {
        for (int r = 0; r < cr; r++) {
          for (int i = 0; i < ci; i++) {
            filter[((r * kh + h) * kw + ww) * ci + i] = src[((h * kw + ww) * cr + r) * ci + i];
          }
        }
      }
    }
    int wt = sub.constFloats(n.name() + "/filter", new int[] {cr, kh, kw, ci}, filter);
    long[] strides = ints(n, "strides", new long[] {1, 1, 1, 1});
    ModelBuilder.Op o = sub.op(builtin("TransposeConv"), 49, List.of(outShape, wt, in(n, 2)),
        List.of(output(n, 0)));
    o.tfName = n.name();
    o.opt("padding", "VALID".equals(padding) ? 1 : 0).opt("stride_w", (int) strides[2])
        .opt("stride_h", (int) strides[1]);
    return true;
  }

  /**
   * A TensorList (a TF2 loop's TensorArray) is held as the dense tensor {@code [length, element...]}: reserving
   * makes zeros, reading an item gathers row {@code index}, setting one is DYNAMIC_UPDATE_SLICE at
   * {@code [index, 0, ...]}, and stacking is the tensor itself. Needs the element shape to be known.
   */
  private boolean tensorListReserve(Node n) {
    Tensor shape = constant(n.input(0));
    if (shape == null) {
      return false;
    }
    long[] elem = longs(shape);
    int[] dims = new int[elem.length + 1];
    // An unknown element dimension (a Keras loop's batch) starts as 1 and is marked -1 in the shape signature;
    // the first write broadcasts the list to the items' real shape (tensorListSetItem).
    int[] signature = null;
    for (int i = 0; i < elem.length; i++) {
      if (elem[i] < 0) {
        if (signature == null) {
          signature = new int[dims.length];
        }
        signature[i + 1] = -1;
        dims[i + 1] = 1;
      } else {
        dims[i + 1] = (int) elem[i];
      }
    }
    if (signature != null) {
      for (int i = 0; i < dims.length; i++) {
        signature[i] = signature[i] < 0 ? -1 : dims[i];
      }
    }
    int dt = dtypeOf(ref(n.name(), 0));
    DType type = DataTypes.toDType(dt);
    if (type == null || type.byteSize() <= 0) {
      return false;
    }
    Tensor count = constant(n.input(1));
    if (count != null) {
      dims[0] = (int) longs(count)[0];
      long size = (long) type.byteSize();
      for (int d : dims) {
        size *= d;
      }
      if (dims[0] < 0 || size > 64L << 20) {
        return false;
      }
      int t = sub.constant(n.name(), TfliteType.of(type), dims, new byte[(int) size]);
      sub.t(t).signature = signature;
      tensors.put(ref(n.name(), 0), t);
      return true;
    }
    // A length known only at run time: FILL([length, element...], 0), unknown element dimensions 1 as above.
    Integer len = int32(n, n.input(1), 1);
    if (len == null) {
      return false;
    }
    int lenVec = sub.add(new ModelBuilder.T(n.name() + "/length", TfliteType.INT32, new int[] {1}, null));
    sub.op(RESHAPE, 0, List.of(len, sub.constInts(n.name() + "/one", 1)), List.of(lenVec));
    int[] tail = java.util.Arrays.copyOfRange(dims, 1, dims.length);
    int fullShape = sub.add(new ModelBuilder.T(n.name() + "/shape", TfliteType.INT32, new int[] {dims.length}, null));
    sub.op(CONCATENATION, O_CONCAT, List.of(lenVec, sub.constInts(n.name() + "/element_shape", tail)),
        List.of(fullShape)).opt("axis", 0).opt("fused_activation_function", 0);
    int zero = sub.constant(n.name() + "/zero", TfliteType.of(type), new int[0], new byte[type.byteSize()]);
    ModelBuilder.Op o = simple(n, FILL, 0, List.of(fullShape, zero));
    // Shape inference knows no TensorList: declare [-1, element...], so a loop carrying the list knows its rank.
    ModelBuilder.T out = sub.t(o.outputs.get(0));
    out.shape = dims.clone();
    out.shape[0] = 1;
    out.signature = signature != null ? signature : dims.clone();
    out.signature[0] = -1;
    out.hasRank = true;
    return true;
  }

  private boolean tensorListSetItem(Node n) {
    int list = in(n, 0);
    ModelBuilder.T lt = sub.t(list);
    if (!lt.hasRank) {
      return false;
    }
    int rank = lt.shape.length;
    Integer index = int32(n, n.input(1), 1);
    if (index == null) {
      return false;
    }
    int[] itemShape = new int[rank];
    itemShape[0] = 1;
    System.arraycopy(lt.shape, 1, itemShape, 1, rank - 1);
    int[] itemSignature = lt.signature == null ? null : lt.signature.clone();
    if (itemSignature != null) {
      itemSignature[0] = 1;
    }
    int item = sub.add(new ModelBuilder.T(n.name() + "/item", lt.type, itemShape, itemSignature));
    int axis = sub.constant(n.name() + "/axis", TfliteType.INT32, new int[0], new byte[4]);
    sub.op(EXPAND_DIMS, O_EXPAND_DIMS, List.of(in(n, 2), axis), List.of(item));
    if (lt.signature != null && java.util.Arrays.stream(lt.signature).skip(1).anyMatch(d -> d < 0)) {
      // Element dimensions unknown when the list was made: grow it to [length] + the item's shape. Broadcasting
      // a list that already has that shape copies it unchanged; the first write turns the 1s into real sizes.
      int itemShape2 = sub.add(new ModelBuilder.T(n.name() + "/item_dims", TfliteType.INT32,
          new int[] {rank - 1}, null));
      sub.op(SHAPE, O_SHAPE, List.of(in(n, 2)), List.of(itemShape2)).opt("out_type", 2);
      int listDims = sub.add(new ModelBuilder.T(n.name() + "/list_dims", TfliteType.INT32, new int[] {rank}, null));
      sub.op(SHAPE, O_SHAPE, List.of(list), List.of(listDims)).opt("out_type", 2);
      int length = sub.add(new ModelBuilder.T(n.name() + "/length", TfliteType.INT32, new int[] {1}, null));
      sub.op(SLICE, 0, List.of(listDims, sub.constInts(n.name() + "/begin", 0), sub.constInts(n.name() + "/size",
          1)), List.of(length));
      int target = sub.add(new ModelBuilder.T(n.name() + "/target", TfliteType.INT32, new int[] {rank}, null));
      sub.op(CONCATENATION, O_CONCAT, List.of(length, itemShape2), List.of(target)).opt("axis", 0)
          .opt("fused_activation_function", 0);
      ModelBuilder.T grownT = new ModelBuilder.T(n.name() + "/grown", lt.type, lt.shape.clone(), lt.signature.clone());
      int grown = sub.add(grownT);
      sub.op(builtin("BroadcastTo"), 0, List.of(list, target), List.of(grown));
      list = grown;
    }
    int indexVec = sub.add(new ModelBuilder.T(n.name() + "/index", TfliteType.INT32, new int[] {1}, null));
    sub.op(RESHAPE, 0, List.of(index, sub.constInts(n.name() + "/one", 1)), List.of(indexVec));
    int start = sub.add(new ModelBuilder.T(n.name() + "/start", TfliteType.INT32, new int[] {rank}, null));
    sub.op(CONCATENATION, O_CONCAT, List.of(indexVec, sub.constInts(n.name() + "/zeros", new int[rank - 1])),
        List.of(start)).opt("axis", 0).opt("fused_activation_function", 0);
    ModelBuilder.Op o = sub.op(builtin("DynamicUpdateSlice"), 0, List.of(list, item, start), List.of());
    o.tfName = n.name();
    int out = output(n, 0);
    // The list keeps its shape: declare it, since shape inference knows nothing of TensorLists.
    sub.t(out).shape = lt.shape.clone();
    sub.t(out).signature = lt.signature == null ? null : lt.signature.clone();
    sub.t(out).hasRank = true;
    o.outputs.add(out);
    return true;
  }

  /**
   * {@code XlaDynamicUpdateSlice(x, update, begin)} (a TF1 TensorArray's unstack, see TensorArrays) as
   * DYNAMIC_UPDATE_SLICE; both clamp {@code begin} so the update fits. The result keeps x's shape, which shape
   * inference cannot tell when x is a TensorList's dense array.
   */
  private boolean dynamicUpdateSlice(Node n) {
    Integer begin = int32(n, n.input(2), 2);
    if (begin == null) {
      return false;
    }
    int x = in(n, 0);
    ModelBuilder.Op o = simple(n, builtin("DynamicUpdateSlice"), 0, List.of(x, in(n, 1), begin));
    keepShape(x, o.outputs.get(0));
    return true;
  }

  /** Declares tensor {@code to} with {@code from}'s shape and shape signature, when {@code from} has a rank. */
  private void keepShape(int from, int to) {
    ModelBuilder.T f = sub.t(from);
    if (f.hasRank) {
      ModelBuilder.T t = sub.t(to);
      t.shape = f.shape.clone();
      t.signature = f.signature == null ? null : f.signature.clone();
      t.hasRank = true;
    }
  }

  /**
   * {@code BroadcastTo(x, shape)} as BROADCAST_TO. With a shape computed at run time the result's dimensions are
   * x's where x has them (a dimension other than 1 cannot change) and unknown (-1) elsewhere.
   */
  private boolean broadcastTo(Node n) {
    Integer shape = int32(n, n.input(1), 1);
    if (shape == null && dtypeOf(n.input(1)) == DType.INT64.tfEnum()) {
      // TFLite's BROADCAST_TO takes an int64 shape too.
      shape = tensor(n.input(1));
    }
    if (shape == null) {
      return false;
    }
    int x = in(n, 0);
    ModelBuilder.Op o = simple(n, builtin("BroadcastTo"), 0, List.of(x, shape));
    ModelBuilder.T out = sub.t(o.outputs.get(0));
    ModelBuilder.T st = sub.t(shape);
    if (!out.hasRank && st.hasRank && st.shape.length == 1 && (st.signature == null || st.signature[0] >= 0)) {
      int rank = st.shape[0];
      ModelBuilder.T xt = sub.t(x);
      int[] dims = new int[rank];
      int[] sig = new int[rank];
      for (int i = 0; i < rank; i++) {
        int j = i - (rank - (xt.hasRank ? xt.shape.length : 0));
        boolean known = xt.hasRank && j >= 0 && (xt.signature == null || xt.signature[j] >= 0) && xt.shape[j] != 1;
        dims[i] = known ? xt.shape[j] : 1;
        sig[i] = known ? xt.shape[j] : -1;
      }
      out.shape = dims;
      out.signature = sig;
      out.hasRank = true;
    }
    return true;
  }

  /** {@code ReverseV2(x, axis)} as REVERSE_V2 along one constant axis. */
  private boolean reverse(Node n) {
    Tensor axis = constant(n.input(1));
    if (axis == null || axis.size() != 1) {
      return false;
    }
    int a = (int) longs(axis)[0];
    int rank = sub.t(in(n, 0)).hasRank ? sub.t(in(n, 0)).shape.length : shapes.rank(n.input(0));
    if (a < 0) {
      if (rank < 0) {
        return false;
      }
      a += rank;
    }
    simple(n, builtin("ReverseV2"), O_REVERSE_V2, List.of(in(n, 0), sub.constInts(n.name() + "/axis", a)));
    return true;
  }

  /** {@code Range(start, limit, delta)} as RANGE: a vector whose length is known only at run time. */
  private boolean range(Node n) {
    int dt = dtypeOf(ref(n.name(), 0));
    if (dt != DType.INT32.tfEnum() && dt != DType.FLOAT32.tfEnum() && dt != DType.INT64.tfEnum()) {
      return false;
    }
    ModelBuilder.Op o = simple(n, builtin("Range"), O_RANGE, List.of(in(n, 0), in(n, 1), in(n, 2)));
    ModelBuilder.T out = sub.t(o.outputs.get(0));
    if (!out.hasRank) {
      out.shape = new int[] {1};
      out.signature = new int[] {-1};
      out.hasRank = true;
    }
    return true;
  }

  /** TFLite has ZEROS_LIKE but no ONES_LIKE: {@code zeros_like(x) + 1}. */
  private boolean onesLike(Node n) {
    int dt = dtypeOf(ref(n.name(), 0));
    if (dt != DType.FLOAT32.tfEnum() && dt != DType.INT32.tfEnum()) {
      return false;
    }
    ModelBuilder.T xt = sub.t(in(n, 0));
    int zeros = sub.add(new ModelBuilder.T(n.name() + "/zeros", xt.type, xt.shape.clone(),
        xt.signature == null ? null : xt.signature.clone()));
    sub.t(zeros).hasRank = xt.hasRank;
    sub.op(builtin("ZerosLike"), 0, List.of(in(n, 0)), List.of(zeros));
    byte[] one = java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .putInt(dt == DType.FLOAT32.tfEnum() ? Float.floatToIntBits(1f) : 1).array();
    int c = sub.constant(n.name() + "/one", dt == DType.FLOAT32.tfEnum() ? TfliteType.FLOAT32 : TfliteType.INT32,
        new int[0], one);
    simple(n, ADD, O_ADD, List.of(zeros, c)).opt("fused_activation_function", 0);
    return true;
  }

  /** {@code IdentityN}: each output is its input. */
  private boolean identityN(Node n) {
    List<String> data = n.dataInputs();
    for (int k = 0; k < data.size(); k++) {
      tensors.put(ref(n.name(), k), tensor(data.get(k)));
    }
    return true;
  }

  private int explicitPad(Node n, int x) {
    long[] p = ints(n, "explicit_paddings", new long[8]);
    int[] pads = new int[p.length];
    for (int i = 0; i < p.length; i++) {
      pads[i] = (int) p[i];
    }
    ByteBuffer b = ByteBuffer.allocate(4 * pads.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : pads) {
      b.putInt(v);
    }
    int pt = sub.constant(n.name() + "/paddings", TfliteType.INT32, new int[] {4, 2}, b.array());
    int[] xs = sub.t(x).shape.clone();
    int[] sig = sub.t(x).signature == null ? null : sub.t(x).signature.clone();
    for (int i = 0; i < 4 && i < xs.length; i++) {
      xs[i] += pads[2 * i] + pads[2 * i + 1];
    }
    int out = sub.add(new ModelBuilder.T(n.name() + "/pad", sub.t(x).type, xs, sig));
    sub.op(PAD, O_PAD, List.of(x, pt), List.of(out)).tfName = n.name();
    return out;
  }

  private boolean matmul(Node n) {
    if (!isFloat(n)) {
      return false;
    }
    boolean ta = boolAttr(n, "transpose_a");
    boolean tb = boolAttr(n, "transpose_b");
    Tensor b = constant(n.input(1));
    int x = in(n, 0);
    if (ta) {
      x = transpose2d(n, x);
    }
    if (b == null || b.shape().dims().length != 2) {
      int y = in(n, 1);
      ModelBuilder.Op o = simple(n, BATCH_MATMUL, O_BATCH_MATMUL, List.of(x, y));
      o.opt("adj_x", false).opt("adj_y", tb);
      return true;
    }
    long[] d = b.shape().dims();
    float[] v = b.toFloatArray();
    int k = (int) (tb ? d[1] : d[0]);
    int nOut = (int) (tb ? d[0] : d[1]);
    float[] w = new float[v.length];
    if (tb) {
      System.arraycopy(v, 0, w, 0, v.length);
    } else {
      for (int i = 0; i < k; i++) {
        for (int j = 0; j < nOut; j++) {
          w[j * k + i] = v[i * nOut + j];
        }
      }
    }
    Node[] last = {n};
    float[] bias = foldBias(n, nOut, last);
    int wt = sub.constFloats(n.name() + "/weights", new int[] {nOut, k}, w);
    int bt = bias == null ? -1 : sub.constFloats(n.name() + "/bias", new int[] {nOut}, bias);
    ModelBuilder.Op o = sub.op(FULLY_CONNECTED, O_FC, List.of(x, wt, bt), List.of());
    o.tfName = n.name();
    o.opt("fused_activation_function", 0).opt("weights_format", 0).opt("keep_num_dims", false);
    Node end = fuseActivation(last[0], o);
    o.outputs.add(output(end, 0));
    return true;
  }

  private int transpose2d(Node n, int x) {
    int perm = sub.constInts(n.name() + "/perm", 1, 0);
    ModelBuilder.T t = sub.t(x);
    int[] s = t.shape.length == 2 ? new int[] {t.shape[1], t.shape[0]} : t.shape;
    int[] sig = t.signature == null || t.signature.length != 2 ? null
        : new int[] {t.signature[1], t.signature[0]};
    int out = sub.add(new ModelBuilder.T(n.name() + "/transpose_a", t.type, s, sig));
    sub.op(TRANSPOSE, 0, List.of(x, perm), List.of(out)).tfName = n.name();
    return out;
  }

  private boolean batchMatmul(Node n) {
    if (!isFloat(n)) {
      return false;
    }
    boolean ax = boolAttr(n, "adj_x");
    boolean ay = boolAttr(n, "adj_y");
    simple(n, BATCH_MATMUL, O_BATCH_MATMUL, List.of(in(n, 0), in(n, 1))).opt("adj_x", ax).opt("adj_y", ay);
    return true;
  }

  private boolean pool(Node n) {
    if (n.stringAttr("data_format") != null && !n.stringAttr("data_format").equals("NHWC")) {
      return false;
    }
    long[] k = ints(n, "ksize", null);
    long[] s = ints(n, "strides", null);
    if (k == null || s == null || k.length != 4 || k[0] != 1 || k[3] != 1) {
      return false;
    }
    ModelBuilder.Op o = sub.op(n.op().equals("MaxPool") ? MAX_POOL_2D : AVERAGE_POOL_2D, O_POOL,
        List.of(in(n, 0)), List.of());
    o.tfName = n.name();
    o.opt("padding", "VALID".equals(n.stringAttr("padding")) ? 1 : 0).opt("stride_w", (int) s[2])
        .opt("stride_h", (int) s[1]).opt("filter_width", (int) k[2]).opt("filter_height", (int) k[1])
        .opt("fused_activation_function", 0);
    Node end = fuseActivation(n, o);
    o.outputs.add(output(end, 0));
    return true;
  }

  private boolean reshape(Node n) {
    Tensor s = constant(n.input(1));
    int shape;
    if (s != null) {
      long[] v = longs(s);
      int[] iv = new int[v.length];
      for (int i = 0; i < v.length; i++) {
        iv[i] = (int) v[i];
      }
      shape = sub.constInts(n.name() + "/shape", iv);
    } else if (dtypeOf(n.input(1)) == DType.INT32.tfEnum()) {
      shape = tensor(n.input(1));
    } else {
      return false;
    }
    simple(n, RESHAPE, 0, List.of(in(n, 0), shape));
    return true;
  }

  private boolean squeeze(Node n) {
    long[] dims = ints(n, "squeeze_dims", null);
    if (dims == null) {
      dims = ints(n, "axis", new long[0]);
    }
    List<Integer> l = new ArrayList<>();
    for (long d : dims) {
      l.add((int) d);
    }
    simple(n, SQUEEZE, O_SQUEEZE, List.of(in(n, 0))).opt("squeeze_dims", l);
    return true;
  }

  /** An op whose input {@code k} must be a constant list of ints, passed as an int32 tensor. */
  private boolean withConstInts(Node n, int code, int optionsType, int k) {
    return constIntInputs(n, code, optionsType, Set.of(k));
  }

  private boolean constIntInputs(Node n, int code, int optionsType, Set<Integer> intInputs) {
    List<Integer> ins = new ArrayList<>();
    List<String> data = n.dataInputs();
    for (int i = 0; i < data.size(); i++) {
      if (intInputs.contains(i)) {
        Integer t = int32(n, data.get(i), i);
        if (t == null) {
          return false;
        }
        ins.add(t);
      } else {
        ins.add(tensor(data.get(i)));
      }
    }
    simple(n, code, optionsType, ins);
    return true;
  }

  /** An int tensor as int32: a constant re-emitted as int32, or an int32 tensor as is; null otherwise. */
  private Integer int32(Node n, String ref, int i) {
    Tensor c = constant(ref);
    if (c != null) {
      long[] v = longs(c);
      int[] iv = new int[v.length];
      for (int j = 0; j < v.length; j++) {
        iv[j] = (int) v[j];
      }
      int[] shape = new int[c.shape().dims().length];
      for (int j = 0; j < shape.length; j++) {
        shape[j] = (int) c.shape().dims()[j];
      }
      ByteBuffer b = ByteBuffer.allocate(4 * iv.length).order(ByteOrder.LITTLE_ENDIAN);
      for (int x : iv) {
        b.putInt(x);
      }
      return sub.constant(n.name() + "/in" + i, TfliteType.INT32, shape, b.array());
    }
    return dtypeOf(ref) == DType.INT32.tfEnum() ? tensor(ref) : null;
  }

  private boolean concat(Node n) {
    List<String> data = n.dataInputs();
    Tensor axis = constant(data.get(data.size() - 1));
    if (axis == null) {
      return false;
    }
    int a = (int) longs(axis)[0];
    int rank = shapes.rank(ref(n.name(), 0));
    if (a < 0 && rank > 0) {
      a += rank;
    }
    List<Integer> ins = new ArrayList<>();
    for (int i = 0; i < data.size() - 1; i++) {
      ins.add(tensor(data.get(i)));
    }
    ModelBuilder.Op o = sub.op(CONCATENATION, O_CONCAT, ins, List.of());
    o.tfName = n.name();
    o.opt("axis", a).opt("fused_activation_function", 0);
    Node end = isFloat(n) ? fuseActivation(n, o) : n;
    o.outputs.add(output(end, 0));
    return true;
  }

  private boolean pack(Node n) {
    List<Integer> ins = new ArrayList<>();
    for (String i : n.dataInputs()) {
      ins.add(tensor(i));
    }
    long axis = n.attr("axis") instanceof AttrValue.Int i ? i.value() : 0;
    int rank = shapes.rank(ref(n.name(), 0));
    if (axis < 0 && rank > 0) {
      axis += rank;
    }
    simple(n, PACK, O_PACK, ins).opt("values_count", ins.size()).opt("axis", (int) axis);
    return true;
  }

  private boolean unpack(Node n) {
    int num = (int) intAttr(n, "num");
    long axis = intAttr(n, "axis");
    List<Integer> outs = new ArrayList<>();
    for (int k = 0; k < num; k++) {
      outs.add(output(n, k));
    }
    ModelBuilder.Op o = sub.op(UNPACK, O_UNPACK, List.of(in(n, 0)), outs);
    o.tfName = n.name();
    o.opt("num", num).opt("axis", (int) axis);
    return true;
  }

  private boolean split(Node n) {
    Integer axis = int32(n, n.input(0), 0);
    int num = (int) intAttr(n, "num_split");
    if (axis == null) {
      return false;
    }
    List<Integer> outs = new ArrayList<>();
    for (int k = 0; k < num; k++) {
      outs.add(output(n, k));
    }
    ModelBuilder.Op o = sub.op(SPLIT, O_SPLIT, List.of(axis, in(n, 1)), outs);
    o.tfName = n.name();
    o.opt("num_splits", num);
    return true;
  }

  private boolean reduce(Node n, int code) {
    Integer axes = int32(n, n.input(1), 1);
    if (axes == null) {
      return false;
    }
    simple(n, code, O_REDUCER, List.of(in(n, 0), axes)).opt("keep_dims", boolAttr(n, "keep_dims"));
    return true;
  }

  private boolean stridedSlice(Node n) {
    List<Integer> ins = new ArrayList<>();
    ins.add(in(n, 0));
    for (int i = 1; i <= 3; i++) {
      Integer t = int32(n, n.input(i), i);
      if (t == null) {
        return false;
      }
      ins.add(t);
    }
    simple(n, STRIDED_SLICE, O_STRIDED_SLICE, ins).opt("begin_mask", (int) intAttr(n, "begin_mask"))
        .opt("end_mask", (int) intAttr(n, "end_mask")).opt("ellipsis_mask", (int) intAttr(n, "ellipsis_mask"))
        .opt("new_axis_mask", (int) intAttr(n, "new_axis_mask"))
        .opt("shrink_axis_mask", (int) intAttr(n, "shrink_axis_mask"));
    return true;
  }

  private boolean gather(Node n) {
    Tensor axis = constant(n.input(2));
    if (axis == null) {
      return false;
    }
    int a = (int) longs(axis)[0];
    simple(n, GATHER, O_GATHER, List.of(in(n, 0), in(n, 1))).opt("axis", a)
        .opt("batch_dims", (int) intAttr(n, "batch_dims"));
    return true;
  }

  private boolean argMax(Node n) {
    Integer axis = int32(n, n.input(1), 1);
    if (axis == null) {
      return false;
    }
    simple(n, ARG_MAX, O_ARG_MAX, List.of(in(n, 0), axis))
        .opt("output_type", dtypeOf(ref(n.name(), 0)) == DType.INT64.tfEnum() ? 4 : 2);
    return true;
  }

  // ----------------------------------------------------------------------------------------------- tensors

  private int in(Node n, int i) {
    return tensor(n.dataInputs().get(i));
  }

  /** The TFLite tensor holding TF tensor {@code ref}; constants are created on first use. */
  int tensor(String ref) {
    TensorRef r = TensorRef.parse(ref);
    String key = ref(r.node(), r.index());
    Integer t = tensors.get(key);
    if (t != null) {
      return t;
    }
    Node n = g.node(r.node());
    if (n != null && n.op().equals("Const")) {
      TensorValue tv = n.tensorAttr("value");
      Tensor v = tv == null ? null : tv.value();
      if (v == null || v.dtype() == DType.STRING) {
        throw new org.tfport.core.TfportException.UnsupportedModelException("constant '" + n.name()
            + "' has a type tfport cannot store in a .tflite file");
      }
      long[] d = v.shape().dims();
      int[] shape = new int[d.length];
      for (int i = 0; i < d.length; i++) {
        shape[i] = (int) d[i];
      }
      byte[] bytes = new byte[v.byteLength()];
      v.bytes().get(bytes);
      int c = sub.constant(n.name(), TfliteType.of(v.dtype()), shape, bytes);
      tensors.put(key, c);
      return c;
    }
    throw new IllegalStateException("tensor " + ref + " read before it was computed");
  }

  /** A new output tensor for output {@code k} of {@code n}. */
  private int output(Node n, int k) {
    String key = ref(n.name(), k);
    int t = sub.add(newTensor(k == 0 ? n.name() : n.name() + ":" + k, key, dtypeOf(key)));
    tensors.put(key, t);
    return t;
  }

  private ModelBuilder.T newTensor(String name, String key, int dtype) {
    long[] d = shapes.dims(key);
    Node n = g.node(TensorRef.nodeOf(key));
    if (n != null && isPlaceholder(n) && n.attr("shape") instanceof AttrValue.Shape s
        && !s.value().unknownRank()) {
      d = s.value().dims();
    }
    DType dt = DataTypes.toDType(DataTypes.base(dtype));
    TfliteType type = dt == null ? TfliteType.FLOAT32 : TfliteType.of(dt);
    if (d == null) {
      ModelBuilder.T t = new ModelBuilder.T(name, type, new int[0], null);
      t.hasRank = false;
      return t;
    }
    int[] shape = new int[d.length];
    int[] sig = new int[d.length];
    boolean dynamic = false;
    for (int i = 0; i < d.length; i++) {
      shape[i] = d[i] < 0 ? 1 : (int) d[i];
      sig[i] = d[i] < 0 ? -1 : (int) d[i];
      dynamic |= d[i] < 0;
    }
    return new ModelBuilder.T(name, type, shape, dynamic ? sig : null);
  }

  private Tensor constant(String ref) {
    Node n = g.node(TensorRef.nodeOf(ref));
    if (n == null || !n.op().equals("Const")) {
      return null;
    }
    TensorValue tv = n.tensorAttr("value");
    return tv == null ? null : tv.value();
  }

  /** The TF dtype of a tensor, from the producing node's attributes. */
  int dtypeOf(String ref) {
    TensorRef r = TensorRef.parse(ref);
    String key = ref(r.node(), r.index());
    Integer cached = dtypes.get(key);
    if (cached != null) {
      return cached;
    }
    Node n = g.node(r.node());
    int dt = DType.FLOAT32.tfEnum();
    if (n != null) {
      dt = switch (n.op()) {
        case "Const", "Placeholder" -> typeAttr(n, "dtype", DType.FLOAT32.tfEnum());
        case "Cast" -> typeAttr(n, "DstT", DType.FLOAT32.tfEnum());
        case "TensorListReserve", "TensorListFromTensor", "TensorListGetItem", "TensorListSetItem",
            "TensorListStack", "EmptyTensorList" -> typeAttr(n, "element_dtype", DType.FLOAT32.tfEnum());
        case "While", "StatelessWhile" -> n.attr("T") instanceof AttrValue.ListAttr l && r.index() < l.type().size()
            && DataTypes.base(l.type().get(r.index())) != DataTypes.DT_VARIANT ? l.type().get(r.index())
            : r.index() < n.dataInputs().size() ? dtypeOf(n.dataInputs().get(r.index())) : DType.FLOAT32.tfEnum();
        case "Shape", "Size", "Rank" -> typeAttr(n, "out_type", DType.INT32.tfEnum());
        case "ArgMax", "ArgMin" -> typeAttr(n, "output_type", DType.INT64.tfEnum());
        case "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd", "LogicalOr",
            "LogicalNot", "IsNan", "IsInf", "IsFinite" -> DType.BOOL.tfEnum();
        default -> n.attr("T") instanceof AttrValue.Type t ? t.value()
            : n.attr("dtype") instanceof AttrValue.Type t2 ? t2.value()
            : n.attr("out_type") instanceof AttrValue.Type t3 ? t3.value()
            : n.attr("Tout") instanceof AttrValue.ListAttr l && r.index() < l.type().size() ? l.type().get(r.index())

            : n.attr("Tout") instanceof AttrValue.Type t4 ? t4.value()
            : !n.dataInputs().isEmpty() ? dtypeOf(n.dataInputs().get(0)) : DType.FLOAT32.tfEnum();
      };
    }
    dt = DataTypes.base(dt);
    dtypes.put(key, dt);
    return dt;
  }

  private static int typeAttr(Node n, String k, int dflt) {
    return n.attr(k) instanceof AttrValue.Type t ? t.value() : dflt;
  }

  static String ref(String node, int index) {
    return node + ":" + index;
  }

  private static long[] ints(Node n, String key, long[] dflt) {
    if (n.attr(key) instanceof AttrValue.ListAttr l && !l.i().isEmpty()) {
      return l.i().stream().mapToLong(Long::longValue).toArray();
    }
    return dflt;
  }

  private static boolean boolAttr(Node n, String key) {
    return n.attr(key) instanceof AttrValue.Bool b && b.value();
  }

  private static long intAttr(Node n, String key) {
    return n.attr(key) instanceof AttrValue.Int i ? i.value() : 0;
  }

  private static float floatAttr(Node n, String key, float dflt) {
    return n.attr(key) instanceof AttrValue.Float f ? f.value() : dflt;
  }

  static long[] longs(Tensor t) {
    int n = (int) t.size();
    long[] out = new long[n];
    ByteBuffer b = t.bytes().order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      out[i] = switch (t.dtype()) {
        case INT64 -> b.getLong(8 * i);
        case INT32 -> b.getInt(4 * i);
        case INT16 -> b.getShort(2 * i);
        case INT8, UINT8 -> b.get(i);
        case FLOAT32 -> (long) b.getFloat(4 * i);
        default -> throw new IllegalArgumentException("not an integer tensor: " + t.dtype());
      };
    }
    return out;
  }

  Map<String, Integer> tensorMap() {
    return new LinkedHashMap<>(tensors);
  }

  // -------------------------------------------------------------------------------------------- more ops

  /**
   * Ops added for models the project has not seen before; each returns false, leaving the op unsupported, before
   * it emits anything when an attribute or type has no exact TFLite equivalent.
   */
  private boolean lowerMore(Node n) {
    return switch (n.op()) {
      case "ResizeBilinear" -> resizeOp(n, true);
      case "ResizeNearestNeighbor" -> resizeOp(n, false);
      case "AddN" -> addNOp(n);
      case "SplitV" -> splitVOp(n);
      case "Select" -> selectV1Op(n);
      case "GatherNd" -> gatherNdOp(n);
      case "MirrorPad" -> mirrorPadOp(n);
      case "DepthToSpace", "SpaceToDepth" -> depthSpaceOp(n);
      case "OneHot" -> oneHotOp(n);
      case "TopKV2" -> topKOp(n);
      case "Cumsum" -> cumsumOp(n);
      case "LRN" -> lrnOp(n);
      case "Conv3D" -> conv3dOp(n);
      case "ClipByValue" -> clipOp(n);
      case "Reciprocal", "Inv" -> isFloat(n) && reciprocalOp(n);
      case "Softplus" -> isFloat(n) && softplusOp(n);
      case "Selu" -> isFloat(n) && seluOp(n);
      case "Softsign" -> isFloat(n) && softsignOp(n);
      case "Log1p" -> isFloat(n) && log1pOp(n);
      case "Expm1" -> isFloat(n) && expm1Op(n);
      case "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3" -> batchNormOp(n);
      case "Where" -> whereOp(n);
      case "ArgMin" -> argMinOp(n);
      case "Rank" -> simple(n, MoreOps.RANK, 0, List.of(in(n, 0))) != null;
      case "Size" -> sizeOp(n);
      default -> false;
    };
  }

  /** Builtin codes (by schema name) and options-table ids of the ops {@link #lowerMore} emits. */
  private static final class MoreOps {
    static final int ADD_N = code("ADD_N"), GATHER_ND = code("GATHER_ND"), WHERE = code("WHERE"),
        RANK = code("RANK"), SELECT = code("SELECT"), SELECT_V2 = code("SELECT_V2"), MIRROR_PAD = code("MIRROR_PAD"),
        DEPTH_TO_SPACE = code("DEPTH_TO_SPACE"), SPACE_TO_DEPTH = code("SPACE_TO_DEPTH"), ONE_HOT = code("ONE_HOT"),
        TOPK_V2 = code("TOPK_V2"), CUMSUM = code("CUMSUM"), LRN = code("LOCAL_RESPONSE_NORMALIZATION"),
        CONV_3D = code("CONV_3D"), ARG_MIN = code("ARG_MIN"),
        LESS = code("LESS");
    static final int O_RESIZE_BILINEAR = 15, O_RESIZE_NEAREST = 74, O_SELECT = 47, O_SELECT_V2 = 98,
        O_MIRROR_PAD = 77, O_DEPTH_TO_SPACE = 94, O_SPACE_TO_DEPTH = 19, O_ONE_HOT = 61, O_TOPK_V2 = 34,
        O_CUMSUM = 102, O_LRN = 13, O_CONV_3D = 106, O_ARG_MIN = 57;

    private static int code(String name) {
      int c = org.tfport.formats.tflite.TfliteOps.code(name);
      if (c < 0) {
        throw new IllegalStateException("no TFLite builtin named " + name);
      }
      return c;
    }

    private MoreOps() {}
  }

  /** TF types TFLite's data-movement kernels (depth/space, gather_nd, one_hot...) take. */
  private static final Set<Integer> MOVABLE = Set.of(DType.FLOAT32.tfEnum(), DType.INT32.tfEnum(), DType.INT64.tfEnum(),
      DType.INT8.tfEnum(), DType.UINT8.tfEnum(), DType.INT16.tfEnum());

  /**
   * {@code ResizeBilinear}/{@code ResizeNearestNeighbor} [images, size]: TFLite computes the same sampling
   * positions for each align_corners/half_pixel_centers combination. TF's bilinear output is float whatever the
   * input, TFLite's has the input's type, so only float images are lowered; both flags together is an error in TF.
   */
  private boolean resizeOp(Node n, boolean bilinear) {
    boolean align = boolAttr(n, "align_corners");
    boolean half = boolAttr(n, "half_pixel_centers");
    int dt = dtypeOf(n.input(0));
    if (align && half || (bilinear ? dt != DType.FLOAT32.tfEnum() : dt == DType.INT32.tfEnum() || dt == DType.INT64.tfEnum()
        || !MOVABLE.contains(dt))) {
      return false;
    }
    Integer size = int32(n, n.input(1), 1);
    if (size == null) {
      return false;
    }
    simple(n, bilinear ? RESIZE_BILINEAR : RESIZE_NEAREST_NEIGHBOR,
        bilinear ? MoreOps.O_RESIZE_BILINEAR : MoreOps.O_RESIZE_NEAREST, List.of(in(n, 0), size))
        .opt("align_corners", align).opt("half_pixel_centers", half);
    return true;
  }

  /** {@code AddN}: ADD_N (float32 and int32 kernels only); one input is the input itself. */
  private boolean addNOp(Node n) {
    List<String> data = n.dataInputs();
    int dt = dtypeOf(ref(n.name(), 0));
    if (data.isEmpty() || dt != DType.FLOAT32.tfEnum() && dt != DType.INT32.tfEnum()) {
      return false;
    }
    if (data.size() == 1) {
      return alias(n);
    }
    List<Integer> ins = new ArrayList<>();
    for (String d : data) {
      ins.add(tensor(d));
    }
    simple(n, MoreOps.ADD_N, 0, ins);
    return true;
  }

  /** {@code SplitV(value, size_splits, axis)} to SPLIT_V with the same inputs (sizes and axis as int32). */
  private boolean splitVOp(Node n) {
    int num = (int) intAttr(n, "num_split");
    Integer sizes = int32(n, n.input(1), 1);
    Integer axis = int32(n, n.input(2), 2);
    if (num < 1 || sizes == null || axis == null) {
      return false;
    }
    List<Integer> outs = new ArrayList<>();
    for (int k = 0; k < num; k++) {
      outs.add(output(n, k));
    }
    ModelBuilder.Op o = sub.op(SPLIT_V, O_SPLIT_V, List.of(in(n, 0), sizes, axis), outs);
    o.tfName = n.name();
    o.opt("num_splits", num);
    return true;
  }

  /**
   * TF1 {@code Select(condition, t, e)}: a condition of t's shape is SELECT; a scalar one broadcasts (SELECT_V2);
   * a vector one picks whole rows of higher-rank t/e, which is SELECT_V2 after reshaping it to [n, 1, ..., 1].
   */
  private boolean selectV1Op(Node n) {
    int cr = rankOf(n.input(0));
    int tr = rankOf(n.input(1));
    if (cr < 0 || tr < 0) {
      return false;
    }
    int cond = in(n, 0);
    if (cr == tr) {
      simple(n, MoreOps.SELECT, MoreOps.O_SELECT, List.of(cond, in(n, 1), in(n, 2)));
      return true;
    }
    if (cr == 1) {
      ModelBuilder.T c = sub.t(cond);
      int[] target = new int[tr];
      java.util.Arrays.fill(target, 1);
      target[0] = -1;
      int[] shape = target.clone();
      shape[0] = c.hasRank && c.shape.length == 1 ? c.shape[0] : 1;
      int[] sig = c.signature == null && c.hasRank ? null : target.clone();
      int rows = sub.add(new ModelBuilder.T(n.name() + "/condition", TfliteType.BOOL, shape, sig));
      sub.op(RESHAPE, 0, List.of(cond, sub.constInts(n.name() + "/condition_shape", target)), List.of(rows))
          .tfName = n.name();
      cond = rows;
    } else if (cr != 0) {
      return false;
    }
    simple(n, MoreOps.SELECT_V2, MoreOps.O_SELECT_V2, List.of(cond, in(n, 1), in(n, 2)));
    return true;
  }

  /**
   * {@code GatherNd} to GATHER_ND. Out-of-range indices are an error in both unless TF is told to ignore them
   * ({@code bad_indices_policy} IGNORE, which writes zeros): not lowered.
   */
  private boolean gatherNdOp(Node n) {
    String policy = n.stringAttr("bad_indices_policy");
    int it = dtypeOf(n.input(1));
    if (policy != null && !policy.isEmpty() && !policy.equals("DEFAULT") && !policy.equals("ERROR")
        || it != DType.INT32.tfEnum() && it != DType.INT64.tfEnum() || !MOVABLE.contains(dtypeOf(n.input(0)))) {
      return false;
    }
    simple(n, MoreOps.GATHER_ND, 0, List.of(in(n, 0), in(n, 1)));
    return true;
  }

  /** {@code MirrorPad} to MIRROR_PAD, mode REFLECT (0) or SYMMETRIC (1). */
  private boolean mirrorPadOp(Node n) {
    String mode = n.stringAttr("mode");
    int m = "REFLECT".equals(mode) ? 0 : "SYMMETRIC".equals(mode) ? 1 : -1;
    Integer pads = int32(n, n.input(1), 1);
    if (m < 0 || pads == null || !MOVABLE.contains(dtypeOf(n.input(0)))) {
      return false;
    }
    simple(n, MoreOps.MIRROR_PAD, MoreOps.O_MIRROR_PAD, List.of(in(n, 0), pads)).opt("mode", m);
    return true;
  }

  /** {@code DepthToSpace}/{@code SpaceToDepth}: TFLite's kernels use TF's NHWC element order. */
  private boolean depthSpaceOp(Node n) {
    String df = n.stringAttr("data_format");
    int block = (int) intAttr(n, "block_size");
    if (df != null && !df.equals("NHWC") || block < 2 || !MOVABLE.contains(dtypeOf(n.input(0)))
        || dtypeOf(n.input(0)) == DType.INT16.tfEnum()) {
      return false;
    }
    boolean toSpace = n.op().equals("DepthToSpace");
    simple(n, toSpace ? MoreOps.DEPTH_TO_SPACE : MoreOps.SPACE_TO_DEPTH,
        toSpace ? MoreOps.O_DEPTH_TO_SPACE : MoreOps.O_SPACE_TO_DEPTH, List.of(in(n, 0))).opt("block_size", block);
    return true;
  }

  /**
   * {@code OneHot(indices, depth, on, off)} to ONE_HOT with the same inputs; both write off_value for indices
   * outside [0, depth). {@code axis} defaults to -1 (TF's default).
   */
  private boolean oneHotOp(Node n) {
    int it = dtypeOf(n.input(0));
    int vt = dtypeOf(ref(n.name(), 0));
    Integer depth = int32(n, n.input(1), 1);
    if (it != DType.INT32.tfEnum() && it != DType.INT64.tfEnum() || depth == null
        || !MOVABLE.contains(vt) && vt != DType.BOOL.tfEnum()) {
      return false;
    }
    int axis = n.attr("axis") instanceof AttrValue.Int a ? (int) a.value() : -1;
    simple(n, MoreOps.ONE_HOT, MoreOps.O_ONE_HOT, List.of(in(n, 0), depth, in(n, 2), in(n, 3))).opt("axis", axis);
    return true;
  }

  /**
   * {@code TopKV2} to TOPK_V2 (values, int32 indices; ties to the lower index in both). TFLite always sorts, so
   * {@code sorted=false}, whose order TF leaves to its kernel, is not lowered.
   */
  private boolean topKOp(Node n) {
    if (n.attr("sorted") instanceof AttrValue.Bool b && !b.value()
        || n.attr("index_type") instanceof AttrValue.Type t && t.value() != DType.INT32.tfEnum()
        || !MOVABLE.contains(dtypeOf(n.input(0))) || dtypeOf(n.input(0)) == DType.INT16.tfEnum()) {
      return false;
    }
    Integer k = int32(n, n.input(1), 1);
    if (k == null) {
      return false;
    }
    // dtypeOf reads T for every output; the indices are int32.
    dtypes.put(ref(n.name(), 1), DType.INT32.tfEnum());
    ModelBuilder.Op o = sub.op(MoreOps.TOPK_V2, MoreOps.O_TOPK_V2, List.of(in(n, 0), k),
        List.of(output(n, 0), output(n, 1)));
    o.tfName = n.name();
    return true;
  }

  /** {@code Cumsum(x, axis)} to CUMSUM {exclusive, reverse} (float32, int32 and int64 kernels). */
  private boolean cumsumOp(Node n) {
    int dt = dtypeOf(ref(n.name(), 0));
    Integer axis = int32(n, n.input(1), 1);
    if (axis == null || dt != DType.FLOAT32.tfEnum() && dt != DType.INT32.tfEnum() && dt != DType.INT64.tfEnum()) {
      return false;
    }
    simple(n, MoreOps.CUMSUM, MoreOps.O_CUMSUM, List.of(in(n, 0), axis)).opt("exclusive", boolAttr(n, "exclusive"))
        .opt("reverse", boolAttr(n, "reverse"));
    return true;
  }

  /**
   * {@code LRN} to LOCAL_RESPONSE_NORMALIZATION: both compute x / (bias + alpha * sum of squares over
   * depth_radius channels each side)^beta, alpha not divided by the window size.
   */
  private boolean lrnOp(Node n) {
    if (!isFloat(n)) {
      return false;
    }
    int radius = n.attr("depth_radius") instanceof AttrValue.Int r ? (int) r.value() : 5;
    simple(n, MoreOps.LRN, MoreOps.O_LRN, List.of(in(n, 0))).opt("radius", radius)
        .opt("bias", floatAttr(n, "bias", 1f)).opt("alpha", floatAttr(n, "alpha", 1f))
        .opt("beta", floatAttr(n, "beta", 0.5f));
    return true;
  }

  /**
   * {@code Conv3D} (NDHWC) to CONV_3D: TFLite keeps TF's DHWIO filter layout, so the constant filter is used as
   * is; a following constant BiasAdd becomes the bias and a Relu/Relu6 the fused activation, as for Conv2D.
   * TFLite has no grouped 3-D convolution.
   */
  private boolean conv3dOp(Node n) {
    Tensor w = constant(n.input(1));
    String df = n.stringAttr("data_format");
    String padding = n.stringAttr("padding");
    long[] strides = ints(n, "strides", new long[] {1, 1, 1, 1, 1});
    long[] dil = ints(n, "dilations", new long[] {1, 1, 1, 1, 1});
    if (w == null || w.dtype() != DType.FLOAT32 || w.shape().dims().length != 5 || !isFloat(n)
        || df != null && !df.equals("NDHWC") || !("SAME".equals(padding) || "VALID".equals(padding))
        || strides.length != 5 || strides[0] != 1 || strides[4] != 1 || dil.length != 5 || dil[0] != 1
        || dil[4] != 1) {
      return false;
    }
    long[] d = w.shape().dims();
    int x = in(n, 0);
    ModelBuilder.T xt = sub.t(x);
    if (xt.hasRank && (xt.shape.length != 5 || (xt.signature == null || xt.signature[4] >= 0)
        && xt.shape[4] != d[3])) {
      return false;
    }
    int co = (int) d[4];
    Node[] last = {n};
    float[] bias = foldBias(n, co, last);
    int bt = sub.constFloats(n.name() + "/bias", new int[] {co}, bias != null ? bias : new float[co]);
    ModelBuilder.Op o = sub.op(MoreOps.CONV_3D, MoreOps.O_CONV_3D, List.of(x, tensor(n.input(1)), bt), List.of());
    o.tfName = n.name();
    o.opt("padding", "VALID".equals(padding) ? 1 : 0).opt("stride_d", (int) strides[1])
        .opt("stride_w", (int) strides[3]).opt("stride_h", (int) strides[2]).opt("fused_activation_function", 0)
        .opt("dilation_d_factor", (int) dil[1]).opt("dilation_w_factor", (int) dil[3])
        .opt("dilation_h_factor", (int) dil[2]);
    Node end = fuseActivation(last[0], o);
    o.outputs.add(output(end, 0));
    return true;
  }

  /**
   * {@code ClipByValue(t, lo, hi)}: RELU6 or RELU_N1_TO_1 for constant float bounds [0, 6] / [-1, 1], else
   * MINIMUM(t, hi) then MAXIMUM(·, lo), TF's order (so lo > hi gives lo, as in TF).
   */
  private boolean clipOp(Node n) {
    int dt = dtypeOf(ref(n.name(), 0));
    if (!MOVABLE.contains(dt)) {
      return false;
    }
    Tensor lo = constant(n.input(1));
    Tensor hi = constant(n.input(2));
    if (dt == DType.FLOAT32.tfEnum() && lo != null && hi != null && lo.size() == 1 && hi.size() == 1
        && lo.dtype() == DType.FLOAT32 && hi.dtype() == DType.FLOAT32) {
      float l = lo.toFloatArray()[0];
      float h = hi.toFloatArray()[0];
      if (l == 0f && h == 6f) {
        return unary(n, RELU6, 0);
      }
      if (l == -1f && h == 1f) {
        return unary(n, RELU_N1_TO_1, 0);
      }
    }
    int x = in(n, 0);
    int low = tensor(n.input(1));
    int high = tensor(n.input(2));
    int clipped = like(n, "/clip_max", x, null);
    sub.op(MINIMUM, 0, List.of(x, high), List.of(clipped)).tfName = n.name();
    simple(n, MAXIMUM, 0, List.of(clipped, low));
    return true;
  }

  /** {@code Reciprocal}/{@code Inv}: DIV(1, x), the division TF's kernel does. */
  private boolean reciprocalOp(Node n) {
    arithmetic(simple(n, DIV, O_DIV, List.of(scalar(n, "/one", 1f), in(n, 0))));
    return true;
  }

  /**
   * {@code Softplus}: TF returns x above 13.94, exp(x) below -13.94 and log1p(exp(x)) between; TFLite has no
   * builtin, and relu(x) + log(1 + exp(-|x|)) equals all three within float rounding (about 6e-8 absolute) with
   * no overflow for large |x|.
   */
  private boolean softplusOp(Node n) {
    int x = in(n, 0);
    int abs = elementwise(n, "/abs", ABS, 0, x);
    int neg = elementwise(n, "/neg_abs", NEG, O_NEG, abs);
    int exp = elementwise(n, "/exp", EXP, O_EXP, neg);
    int one = elementwise(n, "/one_plus", ADD, O_ADD, exp, scalar(n, "/one", 1f));
    int log = elementwise(n, "/log", LOG, 0, one);
    int relu = elementwise(n, "/relu", RELU, 0, x);
    arithmetic(simple(n, ADD, O_ADD, List.of(relu, log)));
    return true;
  }

  /**
   * {@code Selu}: TF selects scale·alpha·(exp(x) − 1) where x < 0, else scale·x; the same select over ELU
   * (expm1 for x < 0) times TF's constants.
   */
  private boolean seluOp(Node n) {
    int x = in(n, 0);
    int negative = like(n, "/negative", x, TfliteType.BOOL);
    sub.op(MoreOps.LESS, 0, List.of(x, scalar(n, "/zero", 0f)), List.of(negative)).tfName = n.name();
    int elu = elementwise(n, "/elu", ELU, 0, x);
    int low = elementwise(n, "/scaled_elu", MUL, O_MUL, elu, scalar(n, "/scale_alpha",
        1.7580993408473768599402175208123f));
    int high = elementwise(n, "/scaled", MUL, O_MUL, x, scalar(n, "/scale", 1.0507009873554804934193349852946f));
    simple(n, MoreOps.SELECT_V2, MoreOps.O_SELECT_V2, List.of(negative, low, high));
    return true;
  }

  /** {@code Softsign}: x / (|x| + 1), TF's expression. */
  private boolean softsignOp(Node n) {
    int x = in(n, 0);
    int abs = elementwise(n, "/abs", ABS, 0, x);
    int den = elementwise(n, "/abs_plus_one", ADD, O_ADD, abs, scalar(n, "/one", 1f));
    arithmetic(simple(n, DIV, O_DIV, List.of(x, den)));
    return true;
  }

  /** {@code Log1p}: log(1 + x); rounding 1 + x costs at most about 6e-8 absolute. */
  private boolean log1pOp(Node n) {
    int plus = elementwise(n, "/one_plus", ADD, O_ADD, in(n, 0), scalar(n, "/one", 1f));
    simple(n, LOG, 0, List.of(plus));
    return true;
  }

  /** {@code Expm1}: exp(x) − 1; off by about 1e-7 · max(1, exp(x)). */
  private boolean expm1Op(Node n) {
    int exp = elementwise(n, "/exp", EXP, O_EXP, in(n, 0));
    arithmetic(simple(n, SUB, O_SUB, List.of(exp, scalar(n, "/one", 1f))));
    return true;
  }

  /**
   * Inference-mode {@code FusedBatchNorm*} with constant parameters that no convolution absorbed: y = x·m + b per
   * channel (last axis), m = scale / sqrt(variance + epsilon) and b = offset − mean·m, as MUL then ADD (a following
   * Relu/Relu6 fused into the ADD). Training mode, channels-first layouts and reads of the batch statistics are
   * left unsupported.
   */
  private boolean batchNormOp(Node n) {
    String df = n.stringAttr("data_format");
    if (n.dataInputs().size() != 5 || !(n.attr("is_training") instanceof AttrValue.Bool b && !b.value())
        || df != null && !df.equals("NHWC") && !df.equals("NDHWC") || !isFloat(n)
        || org.tfport.graph.optimize.BatchNormFolding.readsBeyondOutputZero(g, n)) {
      return false;
    }
    float[][] p = new float[4][];
    for (int i = 0; i < 4; i++) {
      Tensor t = constant(n.input(i + 1));
      if (t == null || t.dtype() != DType.FLOAT32 || t.shape().dims().length != 1) {
        return false;
      }
      p[i] = t.toFloatArray();
      if (p[i].length != p[0].length) {
        return false;
      }
    }
    int c = p[0].length;
    int x = in(n, 0);
    ModelBuilder.T xt = sub.t(x);
    if (xt.hasRank && (xt.shape.length == 0 || (xt.signature == null || xt.signature[xt.shape.length - 1] >= 0)
        && xt.shape[xt.shape.length - 1] != c)) {
      return false;
    }
    float eps = floatAttr(n, "epsilon", 1e-4f);
    float[] m = new float[c];
    float[] bias = new float[c];
    for (int k = 0; k < c; k++) {
      // TF: rsqrt(variance + epsilon) * scale in float.
      m[k] = (float) (1.0 / Math.sqrt(p[3][k] + eps)) * p[0][k];
      bias[k] = p[1][k] - p[2][k] * m[k];
    }
    int scaled = elementwise(n, "/scaled", MUL, O_MUL, x, sub.constFloats(n.name() + "/multiplier",
        new int[] {c}, m));
    ModelBuilder.Op add = sub.op(ADD, O_ADD, List.of(scaled, sub.constFloats(n.name() + "/offset", new int[] {c},
        bias)), List.of());
    add.tfName = n.name();
    add.opt("fused_activation_function", 0);
    Node end = fuseActivation(n, add);
    add.outputs.add(output(end, 0));
    return true;
  }

  /** One-input {@code Where}: WHERE, the int64 coordinates of the non-zero (true) elements in row-major order. */
  private boolean whereOp(Node n) {
    int dt = dtypeOf(n.input(0));
    if (n.dataInputs().size() != 1 || dt != DType.BOOL.tfEnum() && (!MOVABLE.contains(dt) || dt == DType.INT16.tfEnum())) {
      return false;
    }
    dtypes.put(ref(n.name(), 0), DType.INT64.tfEnum());
    simple(n, MoreOps.WHERE, 0, List.of(in(n, 0)));
    return true;
  }

  /** {@code ArgMin} to ARG_MIN {output_type}; both return the first of equal minima. */
  private boolean argMinOp(Node n) {
    Integer axis = int32(n, n.input(1), 1);
    int out = dtypeOf(ref(n.name(), 0));
    if (axis == null || out != DType.INT32.tfEnum() && out != DType.INT64.tfEnum()) {
      return false;
    }
    simple(n, MoreOps.ARG_MIN, MoreOps.O_ARG_MIN, List.of(in(n, 0), axis))
        .opt("output_type", out == DType.INT64.tfEnum() ? 4 : 2);
    return true;
  }

  /** {@code Size} of a tensor whose dimensions are known only at run time: REDUCE_PROD of its SHAPE. */
  private boolean sizeOp(Node n) {
    int out = dtypeOf(ref(n.name(), 0));
    if (out != DType.INT32.tfEnum() && out != DType.INT64.tfEnum()) {
      return false;
    }
    int x = in(n, 0);
    ModelBuilder.T xt = sub.t(x);
    TfliteType type = out == DType.INT64.tfEnum() ? TfliteType.INT64 : TfliteType.INT32;
    int dims = sub.add(new ModelBuilder.T(n.name() + "/shape", type, new int[] {xt.hasRank ? xt.shape.length : 1},
        xt.hasRank ? null : new int[] {-1}));
    sub.op(SHAPE, O_SHAPE, List.of(x), List.of(dims)).opt("out_type", out == DType.INT64.tfEnum() ? 4 : 2)
        .tfName = n.name();
    simple(n, REDUCE_PROD, O_REDUCER, List.of(dims, sub.constInts(n.name() + "/axis", 0))).opt("keep_dims", false);
    return true;
  }

  /** The rank of a tensor: inferred, else its TFLite tensor's; -1 when unknown. */
  private int rankOf(String ref) {
    int r = shapes.rank(ref);
    if (r >= 0) {
      return r;
    }
    ModelBuilder.T t = sub.t(tensor(ref));
    return t.hasRank ? t.shape.length : -1;
  }

  /** A new intermediate tensor with {@code src}'s shape, of {@code type} (null: src's type). */
  private int like(Node n, String suffix, int src, TfliteType type) {
    ModelBuilder.T s = sub.t(src);
    ModelBuilder.T t = new ModelBuilder.T(n.name() + suffix, type == null ? s.type : type, s.shape.clone(),
        s.signature == null ? null : s.signature.clone());
    t.hasRank = s.hasRank;
    return sub.add(t);
  }

  /** A float32 scalar constant. */
  private int scalar(Node n, String suffix, float v) {
    return sub.constFloats(n.name() + suffix, new int[0], new float[] {v});
  }

  /** One step of a decomposition: an op on {@code ins} whose result is shaped like {@code ins[0]}. */
  private int elementwise(Node n, String suffix, int code, int optionsType, int... ins) {
    int out = like(n, suffix, ins[0], null);
    List<Integer> l = new ArrayList<>();
    for (int i : ins) {
      l.add(i);
    }
    ModelBuilder.Op o = sub.op(code, optionsType, l, List.of(out));
    o.tfName = n.name();
    arithmetic(o);
    return out;
  }

  /** ADD/SUB/MUL/DIV carry an explicit NONE activation, as the other lowerings write it. */
  private static void arithmetic(ModelBuilder.Op o) {
    if (o.optionsType == O_ADD || o.optionsType == O_SUB || o.optionsType == O_MUL || o.optionsType == O_DIV) {
      o.opt("fused_activation_function", 0);
    }
  }
}
