package org.tfport.convert.tfjs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;

/**
 * Turns a graph read from a TF.js graph model into one TensorFlow runs: the reader has already
 * split the converter's fused ops; what is left of TF.js's own vocabulary is rewritten into
 * TensorFlow ops here, and what has no TensorFlow equivalent (a custom op registered in JavaScript)
 * is refused by name.
 */
final class TfOps {
  /** TF.js op names TensorFlow calls otherwise. */
  private static final Map<String, String> RENAMED =
      Map.of("DepthwiseConv2d", "DepthwiseConv2dNative");

  /** TF.js-only ops with no TensorFlow op or rewrite here. */
  private static final Set<String> TFJS_ONLY = Set.of("Conv1D");

  private TfOps() {}

  /**
   * Rewrites {@code g} in place; returns how many {@code Prelu} nodes were expanded.
   *
   * @throws UnsupportedModelException naming every op without a TensorFlow equivalent and a node
   *     that uses it
   */
  static int toTensorFlow(Graph g, String source) {
    Map<String, String> refused = new LinkedHashMap<>();
    for (GraphFunction f : g.functions().values()) {
      for (Node n : f.nodes()) {
        rename(n);
        if (n.op().equals("Prelu") || !known(n.op())) {
          refused.putIfAbsent(n.op(), f.name() + "/" + n.name());
        }
      }
    }
    List<Node> prelus = new ArrayList<>();
    for (Node n : g.nodes()) {
      rename(n);
      if (n.op().equals("Prelu")) {
        prelus.add(n);
      } else if (!known(n.op())) {
        refused.putIfAbsent(n.op(), n.name());
      }
    }
    if (!refused.isEmpty()) {
      List<String> parts = new ArrayList<>();
      refused.forEach((op, node) -> parts.add(op + " (node '" + node + "')"));
      throw new UnsupportedModelException(
          source
              + ": TensorFlow has no equivalent of "
              + String.join(", ", parts)
              + "; these ops exist only in TF.js (custom or TF.js-only), so the model cannot go back"
              + " to a TensorFlow format");
    }
    prelus.forEach(n -> expandPrelu(g, n));
    return prelus.size();
  }

  private static void rename(Node n) {
    String to = RENAMED.get(n.op());
    if (to != null) {
      n.op(to);
    }
  }

  private static boolean known(String op) {
    return OpCheck.supported().contains(op) && !TFJS_ONLY.contains(op);
  }

  /**
   * {@code prelu(x, alpha) = relu(x) + (-alpha) * relu(-x)}, the form TF.js's converter recognizes
   * as a PReLU; the last op keeps the node's name so every consumer stays as it is.
   */
  private static void expandPrelu(Graph g, Node n) {
    if (n.dataInputs().size() != 2) {
      throw new UnsupportedModelException(
          g.source()
              + ": Prelu node '"
              + n.name()
              + "' has "
              + n.dataInputs().size()
              + " inputs, not 2 (x, alpha); the model.json is damaged");
    }
    String x = n.dataInputs().get(0);
    String alpha = n.dataInputs().get(1);
    Map<String, AttrValue> t = new LinkedHashMap<>();
    t.put("T", n.attr("T") instanceof AttrValue.Type ty ? ty : typeOf(g, x));
    String name = n.name();
    g.remove(name);
    String relu = add(g, name + "/relu", "Relu", List.of(x), t);
    String negX = add(g, name + "/neg_x", "Neg", List.of(x), t);
    String reluNeg = add(g, name + "/relu_neg_x", "Relu", List.of(negX), t);
    String negAlpha = add(g, name + "/neg_alpha", "Neg", List.of(alpha), t);
    String mul = add(g, name + "/mul", "Mul", List.of(negAlpha, reluNeg), t);
    List<String> ins = new ArrayList<>(List.of(relu, mul));
    ins.addAll(n.controlInputs());
    g.add(new Node(name, "AddV2", ins, n.device(), new LinkedHashMap<>(t)));
  }

  private static String add(
      Graph g, String base, String op, List<String> inputs, Map<String, AttrValue> attrs) {
    String name = g.uniqueName(base);
    g.add(new Node(name, op, inputs, "", new LinkedHashMap<>(attrs)));
    return name;
  }

  /** The element type of tensor {@code ref}, from its producer's attrs; float32 when none says. */
  static AttrValue.Type typeOf(Graph g, String ref) {
    TensorRef r = TensorRef.parse(ref);
    Node p = g.has(r.node()) ? g.node(r.node()) : null;
    if (p != null) {
      for (String key : List.of("T", "dtype", "out_type", "DstT", "output_type", "Tout", "type")) {
        AttrValue v = p.attr(key);
        if (v instanceof AttrValue.Type ty && ty.value() != DataTypes.DT_INVALID) {
          return ty;
        }
        if (v instanceof AttrValue.ListAttr l && r.index() < l.type().size()) {
          return new AttrValue.Type(l.type().get(r.index()));
        }
      }
    }
    return new AttrValue.Type(DataTypes.DT_FLOAT);
  }
}
