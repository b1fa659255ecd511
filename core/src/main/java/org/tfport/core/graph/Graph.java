package org.tfport.core.graph;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.TfportException.CorruptModelException;

/**
 * A TensorFlow graph as tfport works on it: nodes in file order, the function library, the op
 * signatures the file declared, and the graph's interface: the tensors it {@linkplain #outputs()
 * produces} and the placeholders that are its {@linkplain #inputs() inputs}. Passes ({@link
 * GraphPass}) rewrite it in place.
 *
 * <p>Not thread-safe. Node names are unique; every input must name a node of the graph (checked by
 * {@link #validate()}).
 */
public final class Graph {
  private final String source;
  private final LinkedHashMap<String, Node> nodes = new LinkedHashMap<>();
  private final LinkedHashMap<String, GraphFunction> functions = new LinkedHashMap<>();
  private final Map<String, OpSignature> ops = new HashMap<>();
  private final List<String> outputs = new ArrayList<>();
  private final List<String> inputs = new ArrayList<>();
  private int producer;
  private int minConsumer;

  /**
   * @param source the file the graph came from, for error messages
   */
  public Graph(String source) {
    this.source = source;
  }

  public String source() {
    return source;
  }

  // ------------------------------------------------------------------ nodes

  public Node node(String name) {
    return nodes.get(name);
  }

  public boolean has(String name) {
    return nodes.containsKey(name);
  }

  /** A snapshot of the nodes in order; safe to iterate while adding or removing. */
  public List<Node> nodes() {
    return new ArrayList<>(nodes.values());
  }

  public int size() {
    return nodes.size();
  }

  public Node add(Node n) {
    if (nodes.putIfAbsent(n.name(), n) != null) {
      throw new CorruptModelException(
          source
              + ": two nodes are named '"
              + n.name()
              + "'; node names must be unique, so the graph is damaged");
    }
    return n;
  }

  public Node remove(String name) {
    inputs.remove(name);
    return nodes.remove(name);
  }

  /** A name not used by any node: {@code base}, else {@code base_1}, {@code base_2}, ... */
  public String uniqueName(String base) {
    if (!nodes.containsKey(base)) {
      return base;
    }
    for (int i = 1; ; i++) {
      String n = base + "_" + i;
      if (!nodes.containsKey(n)) {
        return n;
      }
    }
  }

  /**
   * Renames a node and every reference to it (inputs, control inputs, graph inputs and outputs).
   */
  public void rename(String from, String to) {
    Node n = nodes.get(from);
    if (n == null || from.equals(to)) {
      return;
    }
    if (nodes.containsKey(to)) {
      throw new IllegalArgumentException(
          "cannot rename " + from + " to " + to + ": the name is taken");
    }
    LinkedHashMap<String, Node> copy = new LinkedHashMap<>(nodes);
    nodes.clear();
    for (Map.Entry<String, Node> e : copy.entrySet()) {
      nodes.put(e.getKey().equals(from) ? to : e.getKey(), e.getValue());
    }
    n.name(to);
    for (Node m : nodes.values()) {
      List<String> ins = m.inputs();
      for (int i = 0; i < ins.size(); i++) {
        ins.set(i, renamed(ins.get(i), from, to));
      }
    }
    outputs.replaceAll(o -> renamed(o, from, to));
    inputs.replaceAll(i -> i.equals(from) ? to : i);
  }

  private static String renamed(String input, String from, String to) {
    TensorRef r = TensorRef.parse(input);
    return r.node().equals(from) ? new TensorRef(to, r.index(), r.control()).toString() : input;
  }

  // ------------------------------------------------------------------ interface

  /**
   * The tensors the graph computes for its caller, as {@code node:idx} strings; the list is live.
   */
  public List<String> outputs() {
    return outputs;
  }

  /** Placeholder node names the caller feeds; the list is live. */
  public List<String> inputs() {
    return inputs;
  }

  /** Node names that produce a graph output. */
  public Set<String> outputNodes() {
    Set<String> s = new HashSet<>();
    outputs.forEach(o -> s.add(TensorRef.nodeOf(o)));
    return s;
  }

  // ------------------------------------------------------------------ library

  public Map<String, GraphFunction> functions() {
    return functions;
  }

  public GraphFunction function(String name) {
    return functions.get(name);
  }

  public Map<String, OpSignature> ops() {
    return ops;
  }

  public int producer() {
    return producer;
  }

  public int minConsumer() {
    return minConsumer;
  }

  public void versions(int producer, int minConsumer) {
    this.producer = producer;
    this.minConsumer = minConsumer;
  }

  // ------------------------------------------------------------------ rewiring

  /**
   * Makes every data input (and graph output) that reads {@code oldRef} read {@code newRef}
   * instead.
   *
   * @return how many references changed
   */
  public int replaceUses(String oldRef, String newRef) {
    TensorRef old = TensorRef.parse(oldRef);
    String replacement = TensorRef.parse(newRef).toString();
    int n = 0;
    for (Node m : nodes.values()) {
      List<String> ins = m.inputs();
      for (int i = 0; i < ins.size(); i++) {
        if (TensorRef.parse(ins.get(i)).equals(old)) {
          ins.set(i, replacement);
          n++;
        }
      }
    }
    for (int i = 0; i < outputs.size(); i++) {
      if (TensorRef.parse(outputs.get(i)).equals(old)) {
        outputs.set(i, replacement);
        n++;
      }
    }
    return n;
  }

  /**
   * Applies several {@link #replaceUses(String, String)} at once, so a replacement that names a
   * tensor being replaced is not replaced again (an inlined body may reuse the call node's name).
   */
  public void replaceAllUses(Map<String, String> oldToNew) {
    Map<TensorRef, String> m = new HashMap<>();
    oldToNew.forEach((k, v) -> m.put(TensorRef.parse(k), TensorRef.parse(v).toString()));
    for (Node n : nodes.values()) {
      List<String> ins = n.inputs();
      for (int i = 0; i < ins.size(); i++) {
        String r = m.get(TensorRef.parse(ins.get(i)));
        if (r != null) {
          ins.set(i, r);
        }
      }
    }
    outputs.replaceAll(o -> m.getOrDefault(TensorRef.parse(o), o));
  }

  /**
   * Replaces every control dependency on {@code oldNode} with control dependencies on {@code
   * newNodes} (which may be empty: the dependency is dropped).
   */
  public void replaceControlUses(String oldNode, Collection<String> newNodes) {
    String old = "^" + oldNode;
    for (Node m : nodes.values()) {
      if (!m.inputs().contains(old)) {
        continue;
      }
      List<String> ins = new ArrayList<>(m.inputs());
      ins.remove(old);
      for (String nn : newNodes) {
        if (!nn.equals(m.name())) {
          ins.add("^" + nn);
        }
      }
      m.setInputs(ins);
    }
  }

  /** Node name to the nodes that read it (data or control), in graph order. */
  public Map<String, List<Node>> consumers() {
    Map<String, List<Node>> out = new HashMap<>();
    for (Node m : nodes.values()) {
      Set<String> seen = new HashSet<>();
      for (String in : m.inputs()) {
        String src = TensorRef.nodeOf(in);
        if (seen.add(src)) {
          out.computeIfAbsent(src, k -> new ArrayList<>()).add(m);
        }
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ checks

  /**
   * Checks every input and output names an existing node and the graph has no cycle (other than the
   * back edges of TF1 while loops, {@code NextIteration} into {@code Merge}).
   *
   * @throws CorruptModelException naming the node and the missing input, or a node on the cycle
   */
  public void validate() {
    for (Node n : nodes.values()) {
      for (String in : n.inputs()) {
        String src = TensorRef.nodeOf(in);
        if (!nodes.containsKey(src)) {
          throw new CorruptModelException(
              source
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
      }
    }
    for (String o : outputs) {
      if (!nodes.containsKey(TensorRef.nodeOf(o))) {
        throw new CorruptModelException(
            source
                + ": the output '"
                + o
                + "' names no node of the graph;"
                + " check the output node names");
      }
    }
    topologicalOrder();
  }

  /**
   * The nodes ordered so each comes after everything it reads, ties kept in file order.
   *
   * @throws CorruptModelException when the graph has a cycle, naming a node on it and the cycle's
   *     path
   */
  public List<Node> topologicalOrder() {
    Map<String, Integer> pending = new HashMap<>();
    Map<String, List<String>> readers = new HashMap<>();
    for (Node n : nodes.values()) {
      Set<String> srcs = new LinkedHashSet<>();
      for (String in : n.inputs()) {
        String src = TensorRef.nodeOf(in);
        if (nodes.containsKey(src) && !isBackEdge(n, src)) {
          srcs.add(src);
        }
      }
      pending.put(n.name(), srcs.size());
      for (String s : srcs) {
        readers.computeIfAbsent(s, k -> new ArrayList<>()).add(n.name());
      }
    }
    Deque<String> ready = new ArrayDeque<>();
    for (Node n : nodes.values()) {
      if (pending.get(n.name()) == 0) {
        ready.add(n.name());
      }
    }
    List<Node> order = new ArrayList<>(nodes.size());
    while (!ready.isEmpty()) {
      String s = ready.poll();
      order.add(nodes.get(s));
      for (String r : readers.getOrDefault(s, List.of())) {
        if (pending.merge(r, -1, Integer::sum) == 0) {
          ready.add(r);
        }
      }
    }
    if (order.size() != nodes.size()) {
      List<String> cycle = findCycle(pending);
      throw new CorruptModelException(
          source
              + ": node '"
              + cycle.get(0)
              + "' is on a cycle ("
              + String.join(" -> ", cycle)
              + "); only TF1 while loops (NextIteration -> Merge) may loop, so the"
              + " graph is damaged");
    }
    return order;
  }

  private boolean isBackEdge(Node reader, String src) {
    Node s = nodes.get(src);
    return (reader.op().equals("Merge") || reader.op().equals("RefMerge"))
        && s != null
        && (s.op().equals("NextIteration") || s.op().equals("RefNextIteration"));
  }

  /** A path around one cycle among the nodes left unsorted. */
  private List<String> findCycle(Map<String, Integer> pending) {
    Set<String> stuck = new HashSet<>();
    pending.forEach(
        (k, v) -> {
          if (v > 0) {
            stuck.add(k);
          }
        });
    // Walk inputs from any stuck node; every stuck node has a stuck input, so the walk must revisit
    // a node.
    String start = nodes.keySet().stream().filter(stuck::contains).findFirst().orElseThrow();
    List<String> path = new ArrayList<>();
    Map<String, Integer> at = new HashMap<>();
    String cur = start;
    while (!at.containsKey(cur)) {
      at.put(cur, path.size());
      path.add(cur);
      Node n = nodes.get(cur);
      String next = null;
      for (String in : n.inputs()) {
        String src = TensorRef.nodeOf(in);
        if (stuck.contains(src) && !isBackEdge(n, src)) {
          next = src;
          break;
        }
      }
      if (next == null) {
        break;
      }
      cur = next;
    }
    List<String> cycle = new ArrayList<>(path.subList(at.getOrDefault(cur, 0), path.size()));
    java.util.Collections.reverse(cycle);
    cycle.add(cycle.get(0));
    return cycle;
  }

  // ------------------------------------------------------------------ outputs of ops

  /**
   * The flat output index of {@code node}'s output argument {@code arg}, element {@code idx}: what
   * a function body's {@code node:arg:idx} means in graph form. Ops the file declares no signature
   * for are taken to have one output argument.
   */
  public int outputIndex(Node node, String arg, int idx) {
    List<ArgDef> outs = outputArgs(node);
    if (outs == null) {
      // An op the file did not declare: assume the common case, one output argument.
      return idx;
    }
    int flat = 0;
    for (ArgDef a : outs) {
      if (a.name().equals(arg)) {
        return flat + idx;
      }
      flat += argSize(node, a);
    }
    throw new CorruptModelException(
        source
            + ": node '"
            + node.name()
            + "' ("
            + node.op()
            + ") has no output '"
            + arg
            + "'; its outputs are "
            + outs.stream().map(ArgDef::name).toList());
  }

  /**
   * The output arguments of the op a node runs (a library function's, for a function call), or
   * null.
   */
  public List<ArgDef> outputArgs(Node node) {
    GraphFunction f = functions.get(node.op());
    if (f != null) {
      return f.outputArgs();
    }
    OpSignature sig = ops.get(node.op());
    return sig == null ? null : sig.outputs();
  }

  /**
   * How many tensors an argument stands for on this node: 1, N ({@code numberAttr}) or a type
   * list's length.
   */
  public int argSize(Node node, ArgDef a) {
    if (!a.numberAttr().isEmpty()) {
      AttrValue v = attrOrDefault(node, a.numberAttr());
      if (v instanceof AttrValue.Int i) {
        return Math.toIntExact(i.value());
      }
      throw new CorruptModelException(
          source
              + ": node '"
              + node.name()
              + "' ("
              + node.op()
              + ") lacks the"
              + " attribute '"
              + a.numberAttr()
              + "' that sizes its argument '"
              + a.name()
              + "'");
    }
    if (!a.typeListAttr().isEmpty()) {
      AttrValue v = attrOrDefault(node, a.typeListAttr());
      if (v instanceof AttrValue.ListAttr l) {
        return l.type().size();
      }
      if (v == null || v instanceof AttrValue.None) {
        return 0;
      }
      throw new CorruptModelException(
          source
              + ": node '"
              + node.name()
              + "' ("
              + node.op()
              + ") lacks the"
              + " type list '"
              + a.typeListAttr()
              + "' of its argument '"
              + a.name()
              + "'");
    }
    return 1;
  }

  /** An attribute of the node, else the op's declared default, else null. */
  public AttrValue attrOrDefault(Node node, String key) {
    AttrValue v = node.attr(key);
    if (v != null) {
      return v;
    }
    OpSignature sig = ops.get(node.op());
    return sig == null ? null : sig.defaults().get(key);
  }

  // ------------------------------------------------------------------ pruning

  /**
   * Removes every node the outputs do not need, following data and control inputs (a node a needed
   * node waits for stays, even if its value is unused).
   *
   * @return how many nodes were removed
   */
  public int prune() {
    Set<String> keep = reachable(outputNodes());
    int before = nodes.size();
    nodes.keySet().retainAll(keep);
    inputs.retainAll(keep);
    return before - nodes.size();
  }

  /** The named nodes and everything they read, transitively. */
  public Set<String> reachable(Collection<String> from) {
    Set<String> seen = new HashSet<>();
    Deque<String> work = new ArrayDeque<>();
    for (String f : from) {
      if (nodes.containsKey(f) && seen.add(f)) {
        work.add(f);
      }
    }
    while (!work.isEmpty()) {
      Node n = nodes.get(work.poll());
      for (String in : n.inputs()) {
        String src = TensorRef.nodeOf(in);
        if (nodes.containsKey(src) && seen.add(src)) {
          work.add(src);
        }
      }
    }
    return seen;
  }
}
