package org.tfport.runtime;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.OpSignature;
import org.tfport.core.graph.TensorRef;

/**
 * Fuses, in a plan's run order, a float32 contraction with the {@code BiasAdd} and the activation
 * that alone read it into the fused op TensorFlow's grappler would make ({@code _FusedConv2D},
 * {@code FusedDepthwiseConv2dNative}, {@code _FusedMatMul}), so the optimized kernels apply bias
 * and activation to each tile while it is in cache instead of in two more passes over memory, each
 * allocating its output.
 *
 * <p>An {@code AddV2}/{@code Add} of a constant vector with one value per output channel is a
 * BiasAdd. A residual {@code AddV2}/{@code Add} of a contraction fused with its bias is fused too
 * ({@code fused_ops} [BiasAdd, Add], then an activation), as in the residual blocks of ResNets and
 * BlazeFace-style networks: the addend is added to each tile in the same pass.
 *
 * <p>A zero {@code Pad} of the height and width that only a convolution reads becomes that
 * convolution's explicit padding ({@link PadFolding}).
 *
 * <p>Only exact activations are fused (Relu, Relu6, LeakyRelu, Prelu: a max, a min or one float
 * product, the same bits fused or not), so a fused plan computes what the unfused one does. The
 * fused node takes the name of the chain's last node, so whatever reads the chain reads it
 * unchanged; a chain is fused only where nothing else (another node, an output, a target, a control
 * edge) sees an intermediate value. The graph itself is not changed.
 */
final class Fusion {
  private static final Map<String, String> FUSED_OP =
      Map.of(
          "Conv2D", "_FusedConv2D",
          "DepthwiseConv2dNative", "FusedDepthwiseConv2dNative",
          "MatMul", "_FusedMatMul");
  private static final Set<String> ACTIVATIONS = Set.of("Relu", "Relu6", "LeakyRelu", "Prelu");
  private static final Set<String> ADDS = Set.of("AddV2", "Add");

  private Fusion() {}

  /**
   * The run order with fusable chains replaced by one node each at the position of the chain's last
   * node.
   *
   * @param pinned nodes whose values are seen from outside the order (outputs, targets)
   */
  static List<Node> apply(Graph graph, List<Node> order, Set<String> pinned) {
    Map<String, Integer> readers = new HashMap<>();
    Map<String, Node> byName = new HashMap<>();
    for (Node n : order) {
      byName.put(n.name(), n);
      for (String in : n.inputs()) {
        readers.merge(TensorRef.nodeOf(in), 1, Integer::sum);
      }
    }
    // Each fusion turns the reader into the fused node and drops the node it read.
    Map<String, Node> replaced = new LinkedHashMap<>();
    Set<String> dropped = new HashSet<>();
    for (Node n : order) {
      Node current = replaced.getOrDefault(n.name(), n);
      Node producer = soleProducer(n, 0, byName, replaced, readers, pinned);
      Node fused = null;
      if (producer == null) {
        // nothing to fuse through the first operand
      } else if (producer.op().equals("Pad") && PadFolding.folds(n)) {
        fused = PadFolding.withPadding(n, producer, byName);
      } else if (n.op().equals("BiasAdd") && FUSED_OP.containsKey(producer.op())) {
        fused = withBias(graph, producer, current, 1);
      } else if (ADDS.contains(n.op())
          && FUSED_OP.containsKey(producer.op())
          && isBias(n, 1, producer, byName)) {
        fused = withBias(graph, producer, current, 1);
      } else if (ACTIVATIONS.contains(n.op()) && (isBiasOnly(producer) || isBiasAdd(producer))) {
        fused = withActivation(producer, current);
      } else if (ADDS.contains(n.op()) && isBiasOnly(producer)) {
        fused = withAdd(producer, current, 1);
      }
      if (fused == null && ADDS.contains(n.op()) && n.dataInputs().size() == 2) {
        // A residual Add may read the contraction through its second operand.
        Node second = soleProducer(n, 1, byName, replaced, readers, pinned);
        if (second != null && isBiasOnly(second)) {
          producer = second;
          fused = withAdd(producer, current, 0);
        } else if (second != null
            && FUSED_OP.containsKey(second.op())
            && isBias(n, 0, second, byName)) {
          producer = second;
          fused = withBias(graph, producer, current, 0);
        }
      }
      if (fused != null) {
        replaced.put(n.name(), fused);
        dropped.add(producer.name());
      }
    }
    if (replaced.isEmpty()) {
      return order;
    }
    List<Node> out = new ArrayList<>();
    for (Node n : order) {
      if (!dropped.contains(n.name())) {
        out.add(replaced.getOrDefault(n.name(), n));
      }
    }
    return out;
  }

  /**
   * The (possibly already fused) node whose output 0 is {@code n}'s data input {@code input} and
   * which nothing else sees, or null.
   */
  private static Node soleProducer(
      Node n,
      int input,
      Map<String, Node> byName,
      Map<String, Node> replaced,
      Map<String, Integer> readers,
      Set<String> pinned) {
    if (n.dataInputs().size() <= input) {
      return null;
    }
    TensorRef r = TensorRef.parse(n.dataInputs().get(input));
    Node p = byName.get(r.node());
    if (p == null
        || r.index() != 0
        || pinned.contains(p.name())
        || readers.getOrDefault(p.name(), 0) != 1
        || readsTwice(n, p.name())) {
      return null;
    }
    return replaced.getOrDefault(p.name(), p);
  }

  private static boolean readsTwice(Node n, String producer) {
    return n.dataInputs().stream().filter(i -> TensorRef.nodeOf(i).equals(producer)).count() > 1;
  }

  static boolean isFloat(Node n) {
    return n.attr("T") instanceof AttrValue.Type t && t.value() == DataTypes.DT_FLOAT;
  }

  static boolean channelsLast(Node n) {
    AttrValue f = n.attr("data_format");
    return f == null || (f instanceof AttrValue.Str s && s.string().equals("NHWC"));
  }

  /**
   * Whether {@code add}'s data input {@code input} is a float constant with one value per output
   * channel of {@code contraction} (whose filter or matrix is a constant), its other dimensions 1
   * and no more of them than the output has: then the Add is a BiasAdd, the same float additions
   * (graphs with batch norm folded into the weights spell the offset this way).
   */
  private static boolean isBias(Node add, int input, Node contraction, Map<String, Node> byName) {
    long[] bias = constantShape(add.dataInputs().get(input), byName);
    long[] filter = constantShape(contraction.dataInputs().get(1), byName);
    int outRank = contraction.op().equals("MatMul") ? 2 : 4;
    if (bias == null || filter == null || bias.length == 0 || bias.length > outRank) {
      return false;
    }
    for (int d = 0; d < bias.length - 1; d++) {
      if (bias[d] != 1) {
        return false;
      }
    }
    long channels =
        switch (contraction.op()) {
          case "Conv2D" -> filter.length == 4 ? filter[3] : -1;
          case "DepthwiseConv2dNative" -> filter.length == 4 ? filter[2] * filter[3] : -1;
          case "MatMul" ->
              filter.length != 2
                  ? -1
                  : contraction.attr("transpose_b") instanceof AttrValue.Bool b && b.value()
                      ? filter[0]
                      : filter[1];
          default -> -1;
        };
    return channels > 0 && bias[bias.length - 1] == channels;
  }

  /** The shape of a float32 constant's output 0, or null. */
  private static long[] constantShape(String input, Map<String, Node> byName) {
    TensorRef r = TensorRef.parse(input);
    Node c = byName.get(r.node());
    if (r.index() != 0
        || c == null
        || !c.op().equals("Const")
        || !(c.attr("value") instanceof AttrValue.TensorAttr t)
        || t.value().dtype() != DataTypes.DT_FLOAT
        || t.value().shape().unknownRank()) {
      return null;
    }
    return t.value().shape().dims();
  }

  private static Node withBias(Graph graph, Node contraction, Node biasAdd, int biasInput) {
    if (!isFloat(contraction)
        || !isFloat(biasAdd)
        || !channelsLast(contraction)
        || !channelsLast(biasAdd)
        || contraction.dataInputs().size() != 2
        || biasAdd.dataInputs().size() != 2) {
      return null;
    }
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    // Attributes left at their defaults are spelled out: the fused op's defaults may differ.
    OpSignature sig = graph.ops().get(contraction.op());
    if (sig != null) {
      attrs.putAll(sig.defaults());
    }
    attrs.putAll(contraction.attrs());
    attrs.remove("_output_shapes");
    attrs.put("fused_ops", AttrValue.ListAttr.ofStrings(List.of("BiasAdd")));
    attrs.put("num_args", new AttrValue.Int(1));
    if (biasAdd.attr("_output_shapes") != null) {
      attrs.put("_output_shapes", biasAdd.attr("_output_shapes"));
    }
    List<String> inputs = new ArrayList<>(contraction.dataInputs());
    inputs.add(biasAdd.dataInputs().get(biasInput));
    inputs.addAll(contraction.controlInputs());
    inputs.addAll(biasAdd.controlInputs());
    return new Node(
        biasAdd.name(), FUSED_OP.get(contraction.op()), inputs, contraction.device(), attrs);
  }

  private static boolean isBiasOnly(Node n) {
    return hasFusedOps(n, List.of("BiasAdd")) && n.dataInputs().size() == 3;
  }

  /** A contraction already fused with its bias and a residual Add. */
  private static boolean isBiasAdd(Node n) {
    return hasFusedOps(n, List.of("BiasAdd", "Add")) && n.dataInputs().size() == 4;
  }

  private static boolean hasFusedOps(Node n, List<String> ops) {
    if (!FUSED_OP.containsValue(n.op())
        || !isFloat(n)
        || !(n.attr("fused_ops") instanceof AttrValue.ListAttr l)
        || l.s().size() != ops.size()) {
      return false;
    }
    for (int i = 0; i < ops.size(); i++) {
      if (!AttrValue.Str.of(ops.get(i)).equals(new AttrValue.Str(l.s().get(i)))) {
        return false;
      }
    }
    return true;
  }

  /**
   * The contraction with a residual added after its bias: {@code add}'s data input {@code other} is
   * the addend. Float addition is commutative, so which side the contraction was on does not
   * matter. The addend may broadcast the output larger; the kernels then fall back to the reference
   * epilogue, which broadcasts as Add does.
   */
  private static Node withAdd(Node fused, Node add, int other) {
    if (!isFloat(add)) {
      return null;
    }
    Map<String, AttrValue> attrs = new LinkedHashMap<>(fused.attrs());
    attrs.put("fused_ops", AttrValue.ListAttr.ofStrings(List.of("BiasAdd", "Add")));
    attrs.put("num_args", new AttrValue.Int(2));
    attrs.remove("_output_shapes");
    if (add.attr("_output_shapes") != null) {
      attrs.put("_output_shapes", add.attr("_output_shapes"));
    }
    List<String> inputs = new ArrayList<>(fused.dataInputs());
    inputs.add(add.dataInputs().get(other));
    inputs.addAll(fused.controlInputs());
    inputs.addAll(add.controlInputs());
    return new Node(add.name(), fused.op(), inputs, fused.device(), attrs);
  }

  private static Node withActivation(Node fused, Node activation) {
    boolean prelu = activation.op().equals("Prelu");
    if (!isFloat(activation) || activation.dataInputs().size() != (prelu ? 2 : 1)) {
      return null;
    }
    boolean added = isBiasAdd(fused);
    Map<String, AttrValue> attrs = new LinkedHashMap<>(fused.attrs());
    List<String> ops =
        added ? List.of("BiasAdd", "Add", activation.op()) : List.of("BiasAdd", activation.op());
    attrs.put("fused_ops", AttrValue.ListAttr.ofStrings(ops));
    attrs.put("num_args", new AttrValue.Int((added ? 2 : 1) + (prelu ? 1 : 0)));
    if (activation.op().equals("LeakyRelu")) {
      // LeakyRelu's default alpha (0.2) is also the fused op's default.
      if (activation.attr("alpha") instanceof AttrValue.Float a) {
        attrs.put("leakyrelu_alpha", a);
      } else {
        attrs.remove("leakyrelu_alpha");
      }
    }
    attrs.remove("_output_shapes");
    if (activation.attr("_output_shapes") != null) {
      attrs.put("_output_shapes", activation.attr("_output_shapes"));
    }
    List<String> inputs = new ArrayList<>(fused.dataInputs());
    if (prelu) {
      inputs.add(activation.dataInputs().get(1));
    }
    inputs.addAll(fused.controlInputs());
    inputs.addAll(activation.controlInputs());
    return new Node(activation.name(), fused.op(), inputs, fused.device(), attrs);
  }
}
