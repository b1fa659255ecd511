package org.tfport.runtime;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.core.graph.ArgDef;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.OpSignature;
import org.tfport.core.graph.TensorRef;

/**
 * What a plan runs and in which order: the fed inputs and asked outputs checked against the graph,
 * the nodes they need, a topological order, and what the graph says of each node's outputs before
 * running. {@link Planner} binds the nodes to kernels.
 */
final class PlanOrder {
  private PlanOrder() {}

  static Map<String, Integer> feeds(Graph graph, List<String> inputs) {
    Map<String, Integer> fed = new LinkedHashMap<>();
    for (String in : inputs) {
      TensorRef r = TensorRef.parse(in);
      if (r.control() || r.index() != 0) {
        throw new UsageException(
            graph.source()
                + ": cannot feed '"
                + in
                + "'; an input is a node's first output"
                + " ('x' or 'x:0')");
      }
      if (!graph.has(r.node())) {
        throw new UsageException(
            graph.source() + ": the input '" + in + "' names no node of the graph");
      }
      if (fed.putIfAbsent(r.node(), fed.size()) != null) {
        throw new UsageException(graph.source() + ": the input '" + in + "' is listed twice");
      }
    }
    return fed;
  }

  static List<TensorRef> outputRefs(Graph graph, List<String> outputs) {
    List<TensorRef> refs = new ArrayList<>();
    for (String o : outputs) {
      TensorRef r = TensorRef.parse(o);
      if (r.control() || !graph.has(r.node())) {
        throw new UsageException(
            graph.source() + ": the output '" + o + "' names no tensor of the graph");
      }
      refs.add(r);
    }
    return refs;
  }

  /**
   * The nodes the outputs and targets need, through data and control inputs, stopping at fed nodes.
   */
  static Set<String> needed(
      Graph graph, Map<String, Integer> fed, List<TensorRef> outputs, List<String> targets) {
    Set<String> seen = new LinkedHashSet<>();
    Deque<String> work = new ArrayDeque<>();
    for (TensorRef r : outputs) {
      if (seen.add(r.node())) {
        work.add(r.node());
      }
    }
    for (String t : targets) {
      if (!graph.has(t)) {
        throw new UsageException(
            graph.source() + ": the target '" + t + "' names no node of the graph");
      }
      if (seen.add(t)) {
        work.add(t);
      }
    }
    while (!work.isEmpty()) {
      Node n = graph.node(work.poll());
      if (fed.containsKey(n.name())) {
        continue;
      }
      for (String in : n.inputs()) {
        String src = TensorRef.nodeOf(in);
        if (!graph.has(src)) {
          throw new CorruptModelException(
              graph.source()
                  + ": node '"
                  + n.name()
                  + "' ("
                  + n.op()
                  + ") reads '"
                  + in
                  + "', but the graph has no node '"
                  + src
                  + "'; the graph is damaged or was cut incompletely");
        }
        if (seen.add(src)) {
          work.add(src);
        }
      }
    }
    return seen;
  }

  /**
   * The needed nodes ordered so each comes after what it reads, ties in file order; fed nodes are
   * not run.
   */
  static List<Node> order(Graph graph, Set<String> needed, Map<String, Integer> fed) {
    Map<String, Integer> pending = new HashMap<>();
    Map<String, List<String>> readers = new HashMap<>();
    List<Node> fileOrder = new ArrayList<>();
    for (Node n : graph.nodes()) {
      if (!needed.contains(n.name()) || fed.containsKey(n.name())) {
        continue;
      }
      fileOrder.add(n);
      Set<String> srcs = new LinkedHashSet<>();
      for (String in : n.inputs()) {
        String src = TensorRef.nodeOf(in);
        if (!fed.containsKey(src)) {
          srcs.add(src);
        }
      }
      pending.put(n.name(), srcs.size());
      srcs.forEach(s -> readers.computeIfAbsent(s, k -> new ArrayList<>()).add(n.name()));
    }
    Deque<String> ready = new ArrayDeque<>();
    fileOrder.stream().filter(n -> pending.get(n.name()) == 0).forEach(n -> ready.add(n.name()));
    List<Node> order = new ArrayList<>();
    while (!ready.isEmpty()) {
      String s = ready.poll();
      order.add(graph.node(s));
      for (String r : readers.getOrDefault(s, List.of())) {
        if (pending.merge(r, -1, Integer::sum) == 0) {
          ready.add(r);
        }
      }
    }
    if (order.size() != fileOrder.size()) {
      List<String> stuck =
          fileOrder.stream().map(Node::name).filter(k -> pending.get(k) > 0).limit(5).toList();
      throw new CorruptModelException(
          graph.source()
              + ": nodes "
              + stuck
              + " are on a cycle; tfport runs TF2"
              + " functional control flow (While/If), not TF1 loops, and other cycles mean the graph is damaged");
    }
    return order;
  }

  /**
   * What is known of a node's outputs before running: types from its op's signature, shapes from
   * _output_shapes.
   */
  static void staticOutputs(
      Graph graph, Node n, int base, int width, DType[] types, long[][] shapes) {
    if (n.attr("_output_shapes") instanceof AttrValue.ListAttr l) {
      for (int k = 0; k < Math.min(width, l.shape().size()); k++) {
        shapes[base + k] = l.shape().get(k).unknownRank() ? null : l.shape().get(k).dims();
      }
    }
    if (n.op().equals("PlaceholderWithDefault") && width > 0) {
      types[base] = DataTypes.toDType(n.typeAttr("dtype"));
      shapes[base] = FunctionBodies.declaredShape(n);
    }
    OpSignature sig = graph.ops().get(n.op());
    if (sig == null) {
      return;
    }
    int k = 0;
    for (ArgDef a : sig.outputs()) {
      if (!a.numberAttr().isEmpty() || !a.typeListAttr().isEmpty()) {
        return; // later outputs' positions depend on list sizes; not worth guessing
      }
      if (k < width) {
        int t =
            a.type() != 0
                ? a.type()
                : graph.attrOrDefault(n, a.typeAttr()) instanceof AttrValue.Type x ? x.value() : 0;
        types[base + k] = DataTypes.toDType(t);
      }
      k++;
    }
  }
}
