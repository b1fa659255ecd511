package org.tfport.train.grad;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.graph.optimize.ShapeInference;

/**
 * Reverse-mode differentiation of the core graph IR: walks the nodes between the inputs asked for
 * and a scalar in reverse topological order, has each op's {@link GradRule} emit the gradients of
 * its inputs as ordinary graph ops, and sums the gradients of a tensor read several times.
 */
public final class Gradients {
  private static final Map<String, GradRule> RULES = registry();
  private static final Set<String> SHAPE_OPS =
      Set.of("Shape", "ShapeN", "Size", "Rank", "ZerosLike", "OnesLike");

  private Gradients() {}

  private static Map<String, GradRule> registry() {
    Map<String, GradRule> r = new HashMap<>();
    MathGrads.register(r);
    ActivationGrads.register(r);
    NnGrads.register(r);
    ArrayGrads.register(r);
    ConvGrads.register(r);
    ImageGrads.register(r);
    return Map.copyOf(r);
  }

  /** Whether op {@code op} has a gradient rule. */
  public static boolean differentiable(String op) {
    return RULES.containsKey(op);
  }

  /**
   * Adds to {@code g} the gradient of scalar tensor {@code y} with respect to each of {@code xs}.
   *
   * @return per entry of {@code xs}, the tensor holding its gradient, or null when {@code y} does
   *     not depend on it
   * @throws UnsupportedModelException naming the nodes whose op has no gradient rule
   */
  public static List<String> of(Graph g, String y, List<String> xs) {
    ShapeInference shapes = ShapeInference.of(g);
    GradContext ctx = new GradContext(g, shapes);
    List<Node> order = g.topologicalOrder();
    Set<String> targets = new HashSet<>();
    for (String x : xs) {
      targets.add(TensorRef.nodeOf(x));
    }
    Set<String> onPath = onPath(order, targets, y);
    List<String> missing = new ArrayList<>();
    for (Node n : undifferentiable(order, targets, onPath)) {
      missing.add(n.name() + " (" + n.op() + ")");
    }
    if (!missing.isEmpty()) {
      throw new UnsupportedModelException(
          g.source()
              + ": cannot train through node"
              + (missing.size() > 1 ? "s " : " ")
              + String.join(", ", missing)
              + ": no gradient for "
              + (missing.size() > 1 ? "these ops" : "this op")
              + "; freeze the layers before them or replace them");
    }
    Map<String, List<String>> pending = new LinkedHashMap<>();
    pending.computeIfAbsent(key(y), k -> new ArrayList<>()).add(ctx.scalar(1f));
    for (int i = order.size() - 1; i >= 0; i--) {
      Node n = order.get(i);
      if (!onPath.contains(n.name()) || targets.contains(n.name())) {
        continue;
      }
      List<String> dy = new ArrayList<>();
      boolean any = false;
      int outputs = outputCount(n, pending);
      for (int k = 0; k < outputs; k++) {
        String s = total(ctx, pending.remove(n.name() + ":" + k));
        dy.add(s);
        any |= s != null;
      }
      if (!any) {
        continue;
      }
      ctx.scope(n.name());
      List<String> dx = RULES.get(n.op()).apply(ctx, n, dy);
      List<String> ins = n.dataInputs();
      for (int k = 0; k < ins.size() && k < dx.size(); k++) {
        if (dx.get(k) != null && onPath.contains(TensorRef.nodeOf(ins.get(k)))) {
          pending.computeIfAbsent(key(ins.get(k)), q -> new ArrayList<>()).add(dx.get(k));
        }
      }
    }
    List<String> out = new ArrayList<>();
    for (String x : xs) {
      ctx.scope(TensorRef.nodeOf(x));
      out.add(total(ctx, pending.get(key(x))));
    }
    return out;
  }

  /**
   * The nodes between {@code xs} and {@code y} whose op has no gradient rule: what {@link #of}
   * refuses to train through.
   */
  public static List<Node> undifferentiable(Graph g, String y, List<String> xs) {
    List<Node> order = g.topologicalOrder();
    Set<String> targets = new HashSet<>();
    for (String x : xs) {
      targets.add(TensorRef.nodeOf(x));
    }
    return undifferentiable(order, targets, onPath(order, targets, y));
  }

  private static List<Node> undifferentiable(
      List<Node> order, Set<String> targets, Set<String> onPath) {
    List<Node> missing = new ArrayList<>();
    for (Node n : order) {
      if (onPath.contains(n.name()) && !targets.contains(n.name()) && !RULES.containsKey(n.op())) {
        missing.add(n);
      }
    }
    return missing;
  }

  /** The nodes that depend on a target and that {@code y} depends on. */
  private static Set<String> onPath(List<Node> order, Set<String> targets, String y) {
    // Nodes that depend on an x ... (a shape, a size, zeros or ones like x depend on x's
    // dimensions, not its values: the batch size a Conv2DTranspose packs into its output shape,
    // the zero state of a GRU, carry no gradient)
    Set<String> fromX = new HashSet<>(targets);
    for (Node n : order) {
      if (SHAPE_OPS.contains(n.op())) {
        continue;
      }
      for (String in : n.dataInputs()) {
        if (fromX.contains(TensorRef.nodeOf(in))) {
          fromX.add(n.name());
          break;
        }
      }
    }
    // ... and that y depends on.
    Set<String> onPath = new HashSet<>();
    onPath.add(TensorRef.nodeOf(y));
    for (int i = order.size() - 1; i >= 0; i--) {
      Node n = order.get(i);
      if (!onPath.contains(n.name()) || !fromX.contains(n.name())) {
        continue;
      }
      for (String in : n.dataInputs()) {
        onPath.add(TensorRef.nodeOf(in));
      }
    }
    onPath.retainAll(fromX);
    return onPath;
  }

  private static int outputCount(Node n, Map<String, List<String>> pending) {
    int max = 0;
    String prefix = n.name() + ":";
    for (String k : pending.keySet()) {
      if (k.startsWith(prefix)) {
        max = Math.max(max, Integer.parseInt(k.substring(prefix.length())) + 1);
      }
    }
    return max;
  }

  private static String key(String ref) {
    TensorRef r = TensorRef.parse(ref);
    return r.node() + ":" + r.index();
  }

  private static String total(GradContext ctx, List<String> parts) {
    if (parts == null || parts.isEmpty()) {
      return null;
    }
    if (parts.size() == 1) {
      return parts.get(0);
    }
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("T", new AttrValue.Type(DataTypes.DT_FLOAT));
    a.put("N", new AttrValue.Int(parts.size()));
    return ctx.raw("AddN", parts, a);
  }
}
