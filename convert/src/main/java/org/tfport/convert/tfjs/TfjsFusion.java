package org.tfport.convert.tfjs;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphPass;
import org.tfport.core.graph.Node;
import org.tfport.graph.optimize.Consts;
import org.tfport.graph.optimize.GraphEdits;
import org.tfport.graph.optimize.ShapeInference;

/**
 * The fused ops TF.js 4.22 executes, as Grappler's remapper and the TF.js converter make them:
 *
 * <ul>
 *   <li>{@code Conv2D} or {@code MatMul}, then {@code BiasAdd}, then optionally one of {@code
 *       Relu}, {@code Relu6}, {@code Elu}, {@code LeakyRelu}, {@code Sigmoid}, {@code Prelu}:
 *       {@code _FusedConv2D} / {@code _FusedMatMul} with {@code fused_ops} {@code [BiasAdd, act]}
 *       or {@code [BiasAdd]};
 *   <li>{@code DepthwiseConv2dNative} likewise, in upstream's three passes (bias and activation,
 *       bias only, activation only as {@code [NoOp, act]}): {@code FusedDepthwiseConv2dNative};
 *   <li>a {@code Prelu} after a fused op holding only its bias joins it ({@code [BiasAdd, Prelu]}).
 * </ul>
 *
 * Only combinations TF.js accepts are made: {@code num_args} is 1 with a bias, 2 with a bias and
 * PReLU weights, and the PReLU weights have a rank fused convolutions take (0, 1 or 3). A {@code
 * _FusedMatMul} always has a bias, since TF.js reads its first extra argument as one. The fused
 * node takes the name of the last node it replaces, so readers and graph outputs are unchanged;
 * nothing is fused across a node that something else reads or that is a graph output. Float32 NHWC
 * only, as Grappler's CPU remapper (float64 graphs, which TF.js runs in float32 anyway, stay
 * unfused). Upstream's {@code device: /device:CPU:0} on contractions is not set: it only steers
 * Grappler, and TF.js never reads a node's device.
 */
final class TfjsFusion implements GraphPass {
  static final Set<String> ACTIVATIONS =
      Set.of("Relu", "Relu6", "Elu", "LeakyRelu", "Sigmoid", "Prelu");
  static final Set<String> FUSED_OPS =
      Set.of("_FusedConv2D", "_FusedMatMul", "FusedDepthwiseConv2dNative");

  /**
   * The contraction's attributes the fused op declares (MatMul's {@code grad_a} and the like it
   * does not).
   */
  private static final Set<String> CONV_ATTRS =
      Set.of(
          "T",
          "strides",
          "padding",
          "explicit_paddings",
          "data_format",
          "dilations",
          "use_cudnn_on_gpu");

  private static final Set<String> MATMUL_ATTRS = Set.of("T", "transpose_a", "transpose_b");
  private static final Map<String, String> FUSED =
      Map.of(
          "Conv2D",
          "_FusedConv2D",
          "MatMul",
          "_FusedMatMul",
          "DepthwiseConv2dNative",
          "FusedDepthwiseConv2dNative");

  @Override
  public String name() {
    return "tfjs-fusion";
  }

  @Override
  public boolean apply(Graph g) {
    boolean changed = false;
    // Bias and activation first, so a bias-only fusion never takes a BiasAdd an activation could
    // join.
    changed |= fuse(g, Set.of("Conv2D", "MatMul"), true, true);
    changed |= fuse(g, Set.of("Conv2D", "MatMul"), true, false);
    changed |= fuse(g, Set.of("DepthwiseConv2dNative"), true, true);
    changed |= fuse(g, Set.of("DepthwiseConv2dNative"), true, false);
    changed |= fuse(g, Set.of("DepthwiseConv2dNative"), false, true);
    changed |= preluIntoFused(g);
    return changed;
  }

  /** One pass over the graph for the chain contraction [-> BiasAdd] [-> activation]. */
  private static boolean fuse(
      Graph g, Set<String> contractions, boolean withBias, boolean withActivation) {
    boolean changed = false;
    // Fusing only ever replaces a chain's own nodes, so readers counted once stay right for other
    // chains.
    Map<String, List<Node>> consumers = g.consumers();
    Shapes shapes = new Shapes(g);
    for (Node tail : g.nodes()) {
      if (g.node(tail.name()) != tail) {
        continue;
      }
      Node act = null;
      Node bias = null;
      Node c;
      Node cur = tail;
      if (withActivation) {
        if (!ACTIVATIONS.contains(cur.op())
            || cur.dataInputs().size() != (cur.op().equals("Prelu") ? 2 : 1)) {
          continue;
        }
        act = cur;
        cur = GraphEdits.producer(g, act.input(0));
        if (cur == null || !GraphEdits.soleReader(g, consumers, cur, act)) {
          continue;
        }
      }
      if (withBias) {
        if (!cur.op().equals("BiasAdd") || cur.dataInputs().size() != 2 || !nhwc(cur)) {
          continue;
        }
        bias = cur;
        cur = GraphEdits.producer(g, bias.input(0));
        if (cur == null || !GraphEdits.soleReader(g, consumers, cur, bias)) {
          continue;
        }
      }
      c = cur;
      if (!contractions.contains(c.op()) || c.dataInputs().size() != 2 || !float32(c) || !nhwc(c)) {
        continue;
      }
      if (act != null && act.op().equals("Prelu") && !preluFits(g, shapes, c, act.input(1))) {
        continue;
      }
      List<String> args = new ArrayList<>();
      List<String> fusedOps = new ArrayList<>();
      fusedOps.add(bias != null ? "BiasAdd" : "NoOp");
      if (bias != null) {
        args.add(bias.input(1));
      }
      if (act != null) {
        fusedOps.add(act.op());
        if (act.op().equals("Prelu")) {
          args.add(act.input(1));
        }
      }
      replace(
          g,
          tail,
          c,
          FUSED.get(c.op()),
          fusedOps,
          args,
          act,
          java.util.Arrays.asList(c, bias, act));
      changed = true;
    }
    return changed;
  }

  /**
   * Turns {@code tail} into the fused op: the contraction's inputs and attributes, then {@code
   * args}; the other replaced nodes go, their control inputs joining the fused node's.
   */
  private static void replace(
      Graph g,
      Node tail,
      Node c,
      String op,
      List<String> fusedOps,
      List<String> args,
      Node act,
      List<Node> replaced) {
    Set<String> control = new LinkedHashSet<>();
    for (Node r : replaced) {
      if (r != null) {
        control.addAll(r.controlInputs());
      }
    }
    List<String> ins = new ArrayList<>(List.of(c.input(0), c.input(1)));
    ins.addAll(args);
    ins.addAll(control);
    AttrValue alpha = act != null && act.op().equals("LeakyRelu") ? act.attr("alpha") : null;
    Map<String, AttrValue> attrs = new java.util.TreeMap<>();
    Set<String> keep = op.equals("_FusedMatMul") ? MATMUL_ATTRS : CONV_ATTRS;
    c.attrs()
        .forEach(
            (k, v) -> {
              if (keep.contains(k)) {
                attrs.put(k, v);
              }
            });
    tail.attrs().clear();
    tail.attrs().putAll(attrs);
    tail.attr("fused_ops", AttrValue.ListAttr.ofStrings(fusedOps));
    tail.attr("num_args", new AttrValue.Int(args.size()));
    tail.attr("TArgs", targs(c, args.size()));
    tail.attr("epsilon", new AttrValue.Float(0f));
    tail.attr(
        "leakyrelu_alpha", alpha instanceof AttrValue.Float ? alpha : new AttrValue.Float(0.2f));
    tail.op(op);
    tail.setInputs(ins);
    for (Node r : replaced) {
      if (r != null && r != tail) {
        g.remove(r.name());
      }
    }
  }

  /**
   * {@code Prelu(F(...), alpha)} with F fused with its bias only: F takes alpha as a second
   * argument.
   */
  private static boolean preluIntoFused(Graph g) {
    boolean changed = false;
    Map<String, List<Node>> consumers = g.consumers();
    Shapes shapes = new Shapes(g);
    for (Node p : g.nodes()) {
      if (g.node(p.name()) != p || !p.op().equals("Prelu") || p.dataInputs().size() != 2) {
        continue;
      }
      Node f = GraphEdits.producer(g, p.input(0));
      if (f == null
          || !FUSED_OPS.contains(f.op())
          || !GraphEdits.soleReader(g, consumers, f, p)
          || !(f.attr("fused_ops") instanceof AttrValue.ListAttr ops)
          || ops.s().size() != 1
          || !new String(ops.s().get(0), java.nio.charset.StandardCharsets.UTF_8).equals("BiasAdd")
          || !(f.attr("num_args") instanceof AttrValue.Int na)
          || na.value() != 1
          || !f.op().equals("_FusedMatMul") && !preluFitsChannels(g, shapes, f, p.input(1))) {
        continue;
      }
      List<String> ins = new ArrayList<>(f.dataInputs());
      ins.add(p.input(1));
      ins.addAll(f.controlInputs());
      ins.addAll(p.controlInputs());
      p.attrs().clear();
      p.attrs().putAll(f.attrs());
      p.attr("fused_ops", AttrValue.ListAttr.ofStrings(List.of("BiasAdd", "Prelu")));
      p.attr("num_args", new AttrValue.Int(2));
      p.attr("TArgs", targs(f, 2));
      p.op(f.op());
      p.setInputs(ins);
      g.remove(f.name());
      changed = true;
    }
    return changed;
  }

  /** The types of the extra arguments, which TensorFlow's fused kernels declare ({@code TArgs}). */
  private static AttrValue targs(Node c, int n) {
    int t = c.typeAttr("T") == -1 ? DType.FLOAT32.tfEnum() : c.typeAttr("T");
    return AttrValue.ListAttr.ofTypes(java.util.Collections.nCopies(n, t));
  }

  private static boolean nhwc(Node n) {
    String f = n.stringAttr("data_format");
    return f == null || f.equals("NHWC");
  }

  private static boolean float32(Node n) {
    int t = n.typeAttr("T");
    return t == -1 || t == DType.FLOAT32.tfEnum();
  }

  /**
   * TF.js's fused convolutions take PReLU weights of rank 0, 1 (one or all channels) or 3; matmul
   * any.
   */
  private static boolean preluFits(Graph g, Shapes shapes, Node c, String alpha) {
    return c.op().equals("MatMul") || preluFitsChannels(g, shapes, c, alpha);
  }

  private static boolean preluFitsChannels(Graph g, Shapes shapes, Node c, String alpha) {
    Tensor a = Consts.value(g, alpha);
    long[] d = a != null ? a.shape().dims() : shapes.get().dims(alpha);
    if (d == null) {
      return false;
    }
    if (d.length == 0 || d.length == 3) {
      return true;
    }
    if (d.length != 1) {
      return false;
    }
    long[] out = shapes.get().dims(c.name());
    return d[0] == 1 || out != null && out.length == 4 && d[0] == out[3];
  }

  /** Shapes worked out on first use: most graphs have no PReLU to check. */
  private static final class Shapes {
    private final Graph g;
    private ShapeInference shapes;

    Shapes(Graph g) {
      this.g = g;
    }

    ShapeInference get() {
      if (shapes == null) {
        shapes = ShapeInference.of(g);
      }
      return shapes;
    }
  }

  /** How many nodes of each fused op a graph has, for the summary. */
  static Map<String, Integer> count(Graph g) {
    Map<String, Integer> out = new java.util.TreeMap<>();
    for (Node n : g.nodes()) {
      if (FUSED_OPS.contains(n.op()) || n.op().equals("Prelu")) {
        out.merge(n.op(), 1, Integer::sum);
      }
    }
    return out;
  }
}
