package org.tfport.convert.tflite;

import static org.tfport.convert.tflite.NodeAttrs.*;
import static org.tfport.formats.tflite.TfliteBuiltin.*;
import static org.tfport.formats.tflite.TfliteOptionsType.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.core.graph.TensorValue;
import org.tfport.formats.tflite.TfliteBuiltin;
import org.tfport.formats.tflite.TfliteOptionsType;
import org.tfport.formats.tflite.TfliteType;
import org.tfport.graph.optimize.ShapeInference;

/**
 * A frozen, optimized TensorFlow graph to one TFLite subgraph (spec 2.2–2.3): {@code Placeholder}s
 * become subgraph inputs, constants become tensors with data, and every other node becomes one
 * builtin operator (or a short sequence), with filters re-laid out (Conv2D HWIO to OHWI, depthwise
 * HWIM to 1HW(I·M), MatMul weights to [out, in]), a following {@code BiasAdd} folded into the bias
 * input and a following Relu/Relu6/clamp folded into {@code fused_activation_function}. Ops without
 * a builtin become Flex or custom ops when allowed, else are collected into {@link #unsupported}
 * for one error.
 *
 * <p>This class holds what every lowering shares: the TF-to-TFLite tensor map, dtypes, constants,
 * the one-builtin emitters, activation and bias folding, and the fallback. Which TF op lowers how
 * is {@link LoweringDispatch}; the op families live in {@link LowerNeuralNet}, {@link
 * LowerElementwise}, {@link LowerDataMovement}, {@link LowerReductions}, {@link LowerTensorLists}
 * and {@link LowerControlFlow}.
 */
final class Lowering {
  final Graph g;
  final ModelBuilder.Sub sub;
  final TfliteOptions options;
  final ShapeInference shapes;
  private final Map<String, List<Node>> consumers;
  private final Set<String> outputNodes;

  /** TF tensor ("node:index") to TFLite tensor index. */
  final Map<String, Integer> tensors = new HashMap<>();

  private final Set<String> absorbed = new HashSet<>();

  /** TF dtypes by tensor, as {@link #dtypeOf} found them or a lowering declared them. */
  final Map<String, Integer> dtypes = new HashMap<>();

  final List<String> unsupported = new ArrayList<>();

  /**
   * The model under construction, for control flow's subgraphs; null lowers control flow as other
   * ops.
   */
  ModelBuilder model;

  final Set<String> flexOps = new java.util.TreeSet<>();
  final Set<String> customOps = new java.util.TreeSet<>();
  private final LoweringDispatch dispatch;

  Lowering(Graph g, ModelBuilder.Sub sub, TfliteOptions options) {
    this.g = g;
    this.sub = sub;
    this.options = options;
    this.shapes = ShapeInference.of(g);
    this.consumers = g.consumers();
    this.outputNodes = g.outputNodes();
    this.dispatch = new LoweringDispatch(this);
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
      if (absorbed.contains(n.name())
          || n.op().equals("Const")
          || n.op().equals("NoOp")
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

  /** Lowers {@code n} as {@link LoweringDispatch} says, else through {@link #fallback}. */
  private void lower(Node n) {
    if (!options.builtins()) {
      fallback(n);
      return;
    }
    if (!dispatch.lower(n)) {
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
    ModelBuilder.Op o = sub.op(CUSTOM, NONE, ins, outs);
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

  // -----------------------------------------------------------------------------------------
  // emitting ops

  boolean alias(Node n) {
    tensors.put(ref(n.name(), 0), tensor(n.input(0)));
    return true;
  }

  ModelBuilder.Op simple(
      Node n, TfliteBuiltin op, TfliteOptionsType optionsType, List<Integer> ins) {
    ModelBuilder.Op o = sub.op(op, optionsType, ins, List.of(output(n, 0)));
    o.tfName = n.name();
    return o;
  }

  boolean unary(Node n, TfliteBuiltin op, TfliteOptionsType optionsType) {
    simple(n, op, optionsType, List.of(in(n, 0)));
    return true;
  }

  boolean binary(Node n, TfliteBuiltin op, TfliteOptionsType optionsType, boolean fusable) {
    ModelBuilder.Op o = sub.op(op, optionsType, List.of(in(n, 0), in(n, 1)), List.of());
    o.tfName = n.name();
    if (optionsType != NONE) {
      o.opt("fused_activation_function", 0);
    }
    Node last = fusable && isFloat(n) ? fuseActivation(n, o) : n;
    o.outputs.add(output(last, 0));
    return true;
  }

  boolean isFloat(Node n) {
    return dtypeOf(ref(n.name(), 0)) == DType.FLOAT32.tfEnum();
  }

  /**
   * Folds a following Relu (1), Relu6 (3) or Minimum(Maximum(x, -1), 1) (2) into {@code o} when
   * {@code n}'s result has that single reader and is not a graph output; returns the node whose
   * result {@code o} now computes.
   */
  Node fuseActivation(Node n, ModelBuilder.Op o) {
    Node c = soleConsumer(n);
    if (c == null) {
      return n;
    }
    int act =
        switch (c.op()) {
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

  /**
   * The one node reading {@code n}'s first output, when that is its only use and not a graph
   * output.
   */
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

  /**
   * The constant bias a following BiasAdd/Add adds along the last axis, absorbing that node; else
   * null. An Add's constant may carry leading ones up to the output's rank {@code outRank} (a
   * folded batch norm's offset is [1, 1, 1, C]): it adds the same per-channel values without
   * changing the output's shape.
   */
  float[] foldBias(Node n, int channels, Node[] last, int outRank) {
    Node c = soleConsumer(n);
    if (c == null || !Set.of("BiasAdd", "Add", "AddV2").contains(c.op())) {
      return null;
    }
    String other = TensorRef.nodeOf(c.input(0)).equals(n.name()) ? c.input(1) : c.input(0);
    Tensor b = constant(other);
    if (b == null
        || b.dtype() != DType.FLOAT32
        || b.size() != channels
        || (b.shape().dims().length > 1 && !c.op().equals("BiasAdd") && !leadingOnes(b, outRank))) {
      return null;
    }
    absorbed.add(c.name());
    last[0] = c;
    return b.toFloatArray();
  }

  private static boolean leadingOnes(Tensor b, int outRank) {
    long[] d = b.shape().dims();
    if (d.length > outRank) {
      return false;
    }
    for (int i = 0; i < d.length - 1; i++) {
      if (d[i] != 1) {
        return false;
      }
    }
    return true;
  }

  /** An op whose input {@code k} must be a constant list of ints, passed as an int32 tensor. */
  boolean withConstInts(Node n, TfliteBuiltin op, TfliteOptionsType optionsType, int k) {
    return constIntInputs(n, op, optionsType, Set.of(k));
  }

  boolean constIntInputs(
      Node n, TfliteBuiltin op, TfliteOptionsType optionsType, Set<Integer> intInputs) {
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
    simple(n, op, optionsType, ins);
    return true;
  }

  /**
   * An int tensor as int32: a constant re-emitted as int32, or an int32 tensor as is; null
   * otherwise.
   */
  Integer int32(Node n, String ref, int i) {
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

  // -----------------------------------------------------------------------------------------------
  // tensors

  int in(Node n, int i) {
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
        throw new org.tfport.core.TfportException.UnsupportedModelException(
            "constant '" + n.name() + "' has a type tfport cannot store in a .tflite file");
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
  int output(Node n, int k) {
    String key = ref(n.name(), k);
    int t = sub.add(newTensor(k == 0 ? n.name() : n.name() + ":" + k, key, dtypeOf(key)));
    tensors.put(key, t);
    return t;
  }

  private ModelBuilder.T newTensor(String name, String key, int dtype) {
    long[] d = shapes.dims(key);
    Node n = g.node(TensorRef.nodeOf(key));
    if (n != null
        && isPlaceholder(n)
        && n.attr("shape") instanceof AttrValue.Shape s
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

  Tensor constant(String ref) {
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
      dt =
          switch (n.op()) {
            case "Const", "Placeholder" -> typeAttr(n, "dtype", DType.FLOAT32.tfEnum());
            case "Cast" -> typeAttr(n, "DstT", DType.FLOAT32.tfEnum());
            case "TensorListReserve",
                "TensorListFromTensor",
                "TensorListGetItem",
                "TensorListSetItem",
                "TensorListStack",
                "EmptyTensorList" ->
                typeAttr(n, "element_dtype", DType.FLOAT32.tfEnum());
            case "While", "StatelessWhile" ->
                n.attr("T") instanceof AttrValue.ListAttr l
                        && r.index() < l.type().size()
                        && DataTypes.base(l.type().get(r.index())) != DataTypes.DT_VARIANT
                    ? l.type().get(r.index())
                    : r.index() < n.dataInputs().size()
                        ? dtypeOf(n.dataInputs().get(r.index()))
                        : DType.FLOAT32.tfEnum();
            case "Shape", "Size", "Rank" -> typeAttr(n, "out_type", DType.INT32.tfEnum());
            case "ArgMax", "ArgMin" -> typeAttr(n, "output_type", DType.INT64.tfEnum());
            case "Equal",
                "NotEqual",
                "Less",
                "LessEqual",
                "Greater",
                "GreaterEqual",
                "LogicalAnd",
                "LogicalOr",
                "LogicalNot",
                "IsNan",
                "IsInf",
                "IsFinite" ->
                DType.BOOL.tfEnum();
            default ->
                n.attr("T") instanceof AttrValue.Type t
                    ? t.value()
                    : n.attr("dtype") instanceof AttrValue.Type t2
                        ? t2.value()
                        : n.attr("out_type") instanceof AttrValue.Type t3
                            ? t3.value()
                            : n.attr("Tout") instanceof AttrValue.ListAttr l
                                    && r.index() < l.type().size()
                                ? l.type().get(r.index())
                                : n.attr("Tout") instanceof AttrValue.Type t4
                                    ? t4.value()
                                    : !n.dataInputs().isEmpty()
                                        ? dtypeOf(n.dataInputs().get(0))
                                        : DType.FLOAT32.tfEnum();
          };
    }
    dt = DataTypes.base(dt);
    dtypes.put(key, dt);
    return dt;
  }

  static String ref(String node, int index) {
    return node + ":" + index;
  }

  Map<String, Integer> tensorMap() {
    return new LinkedHashMap<>(tensors);
  }

  /** TF types TFLite's data-movement kernels (depth/space, gather_nd, one_hot...) take. */
  static final Set<Integer> MOVABLE =
      Set.of(
          DType.FLOAT32.tfEnum(),
          DType.INT32.tfEnum(),
          DType.INT64.tfEnum(),
          DType.INT8.tfEnum(),
          DType.UINT8.tfEnum(),
          DType.INT16.tfEnum());

  /** The rank of a tensor: inferred, else its TFLite tensor's; -1 when unknown. */
  int rankOf(String ref) {
    int r = shapes.rank(ref);
    if (r >= 0) {
      return r;
    }
    ModelBuilder.T t = sub.t(tensor(ref));
    return t.hasRank ? t.shape.length : -1;
  }

  /** A new intermediate tensor with {@code src}'s shape, of {@code type} (null: src's type). */
  int like(Node n, String suffix, int src, TfliteType type) {
    ModelBuilder.T s = sub.t(src);
    ModelBuilder.T t =
        new ModelBuilder.T(
            n.name() + suffix,
            type == null ? s.type : type,
            s.shape.clone(),
            s.signature == null ? null : s.signature.clone());
    t.hasRank = s.hasRank;
    return sub.add(t);
  }

  /** A float32 scalar constant. */
  int scalar(Node n, String suffix, float v) {
    return sub.constFloats(n.name() + suffix, new int[0], new float[] {v});
  }

  /**
   * One step of a decomposition: an op on {@code ins} whose result, a new tensor, is shaped like
   * {@code ins[0]}.
   */
  int intermediate(
      Node n, String suffix, TfliteBuiltin op, TfliteOptionsType optionsType, int... ins) {
    int out = like(n, suffix, ins[0], null);
    List<Integer> l = new ArrayList<>();
    for (int i : ins) {
      l.add(i);
    }
    ModelBuilder.Op o = sub.op(op, optionsType, l, List.of(out));
    o.tfName = n.name();
    arithmetic(o);
    return out;
  }

  /** ADD/SUB/MUL/DIV carry an explicit NONE activation, as the other lowerings write it. */
  static void arithmetic(ModelBuilder.Op o) {
    if (o.optionsType == ADD_OPTIONS
        || o.optionsType == SUB_OPTIONS
        || o.optionsType == MUL_OPTIONS
        || o.optionsType == DIV_OPTIONS) {
      o.opt("fused_activation_function", 0);
    }
  }
}
