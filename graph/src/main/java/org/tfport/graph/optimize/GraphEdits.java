package org.tfport.graph.optimize;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;

/** Rewiring steps the passes share. */
public final class GraphEdits {
  /**
   * Ops whose result is not a function of their inputs (random, reading or changing state, control
   * flow frames, feeds): never folded, merged or removed as redundant.
   */
  private static final Set<String> IMPURE =
      Set.of(
          "Placeholder",
          "PlaceholderWithDefault",
          "NoOp",
          "Switch",
          "RefSwitch",
          "Merge",
          "RefMerge",
          "Enter",
          "RefEnter",
          "Exit",
          "RefExit",
          "NextIteration",
          "RefNextIteration",
          "LoopCond",
          "ControlTrigger",
          "If",
          "StatelessIf",
          "While",
          "StatelessWhile",
          "PartitionedCall",
          "StatefulPartitionedCall",
          "Assert",
          "Print",
          "PrintV2",
          "CheckNumerics",
          "CheckNumericsV2",
          "Multinomial",
          "TruncatedNormal",
          "ParameterizedTruncatedNormal",
          "Unique",
          "UniqueV2",
          "SimpleMLCreateModelResource",
          "SimpleMLLoadModelFromPathWithHandle",
          "SimpleMLInferenceOpWithHandle",
          "FakeParam",
          "Const",
          "HostConst");

  private static final List<String> IMPURE_PARTS =
      List.of(
          "Random",
          "Variable",
          "Assign",
          "TensorArray",
          "TensorList",
          "Table",
          "Queue",
          "Stack",
          "Reader",
          "Iterator",
          "Dataset",
          "Summary",
          "Save",
          "Restore",
          "Stateful",
          "Resource",
          "Barrier",
          "Accumulator",
          "Mutex",
          "Seed");

  private GraphEdits() {}

  /**
   * Whether {@code n} computes a value from its inputs alone, so that two such nodes with equal
   * inputs and attributes are interchangeable. Constants are pure too but handled by their callers.
   */
  public static boolean isPure(Graph g, Node n) {
    if (IMPURE.contains(n.op()) || g.function(n.op()) != null) {
      return false;
    }
    for (String part : IMPURE_PARTS) {
      if (n.op().contains(part)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether a graph output or a graph input names the node: its name is part of the model's
   * interface.
   */
  public static boolean isInterface(Graph g, String node) {
    return g.outputNodes().contains(node) || g.inputs().contains(node);
  }

  /**
   * Whether {@code reader} is the only node that reads {@code producer}, reading its output 0
   * exactly once as data, and the producer is not part of the graph's interface: then the two may
   * be merged.
   */
  public static boolean soleReader(
      Graph g, Map<String, List<Node>> consumers, Node producer, Node reader) {
    return soleReader(g, consumers.getOrDefault(producer.name(), List.of()), producer, reader);
  }

  public static boolean soleReader(Graph g, Readers readers, Node producer, Node reader) {
    return soleReader(g, readers.of(producer.name()), producer, reader);
  }

  private static boolean soleReader(
      Graph g, java.util.Collection<Node> rs, Node producer, Node reader) {
    if (rs.size() != 1 || rs.iterator().next() != reader || isInterface(g, producer.name())) {
      return false;
    }
    int reads = 0;
    for (String in : reader.inputs()) {
      TensorRef r = TensorRef.parse(in);
      if (r.node().equals(producer.name())) {
        if (r.control() || r.index() != 0) {
          return false;
        }
        reads++;
      }
    }
    return reads == 1;
  }

  /**
   * Removes {@code n}, a single-output node, sending its readers to {@code replacement}. Readers
   * that waited on {@code n} wait on the replacement's node instead, and the control inputs {@code
   * n} had carry over to every reader. The caller makes sure {@code n} is not a graph output.
   */
  public static void forward(Graph g, Node n, String replacement) {
    forward(g, n, replacement, null);
  }

  /** As {@link #forward(Graph, Node, String)}, keeping {@code readers} (if not null) up to date. */
  public static void forward(Graph g, Node n, String replacement, Readers readers) {
    String name = n.name();
    String target = TensorRef.nodeOf(replacement);
    List<String> carried = n.controlInputs();
    for (Node r : readers == null ? g.nodes() : new ArrayList<>(readers.of(name))) {
      if (r == n) {
        continue;
      }
      boolean reads = false;
      List<String> ins = new ArrayList<>();
      for (String in : r.inputs()) {
        TensorRef ref = TensorRef.parse(in);
        if (!ref.node().equals(name)) {
          ins.add(in);
          continue;
        }
        reads = true;
        ins.add(ref.control() ? "^" + target : replacement);
      }
      if (reads) {
        for (String c : carried) {
          if (!TensorRef.nodeOf(c).equals(r.name())) {
            ins.add(c);
          }
        }
        r.setInputs(dropSelf(ins, r.name()));
        if (readers != null) {
          readers.add(target, r);
          carried.forEach(c -> readers.add(TensorRef.nodeOf(c), r));
        }
      }
    }
    g.outputs().replaceAll(o -> TensorRef.nodeOf(o).equals(name) ? replacement : o);
    if (readers != null) {
      readers.drop(n);
    }
    g.remove(name);
  }

  /**
   * Makes everything that reads {@code from} (any output, or a control edge) read the same output
   * of {@code to}, then removes {@code from}: the two nodes compute the same values.
   */
  public static void merge(Graph g, String from, String to) {
    merge(g, from, to, null);
  }

  /** As {@link #merge(Graph, String, String)}, keeping {@code readers} (if not null) up to date. */
  public static void merge(Graph g, String from, String to, Readers readers) {
    for (Node r : readers == null ? g.nodes() : new ArrayList<>(readers.of(from))) {
      boolean reads = false;
      List<String> ins = new ArrayList<>();
      for (String in : r.inputs()) {
        TensorRef ref = TensorRef.parse(in);
        if (ref.node().equals(from)) {
          reads = true;
          ins.add(new TensorRef(to, ref.index(), ref.control()).toString());
        } else {
          ins.add(in);
        }
      }
      if (reads) {
        r.setInputs(dropSelf(ins, r.name()));
        if (readers != null) {
          readers.add(to, r);
        }
      }
    }
    g.outputs()
        .replaceAll(
            o -> {
              TensorRef ref = TensorRef.parse(o);
              return ref.node().equals(from) ? TensorRef.of(to, ref.index()).toString() : o;
            });
    if (readers != null) {
      readers.drop(g.node(from));
    }
    g.remove(from);
  }

  private static List<String> dropSelf(List<String> ins, String self) {
    ins.removeIf(i -> TensorRef.isControl(i) && TensorRef.nodeOf(i).equals(self));
    return ins;
  }

  /** The node producing a tensor reference, or null. */
  public static Node producer(Graph g, String ref) {
    return g.node(TensorRef.nodeOf(ref));
  }

  /** Whether the node has exactly {@code n} data inputs. */
  public static boolean arity(Node node, int n) {
    return node.dataInputs().size() == n;
  }
}
