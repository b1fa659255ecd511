package org.tfport.graph.optimize;

import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;

/**
 * Node name to the nodes that read it (data or control edges), kept up to date by {@link
 * GraphEdits} as nodes are merged or bypassed, so a pass that rewires many nodes stays linear
 * instead of scanning the graph for every change.
 */
public final class Readers {
  private final Map<String, Set<Node>> map = new HashMap<>();

  private Readers() {}

  public static Readers of(Graph g) {
    Readers r = new Readers();
    for (Node n : g.nodes()) {
      for (String in : n.inputs()) {
        r.add(TensorRef.nodeOf(in), n);
      }
    }
    return r;
  }

  /** The nodes reading {@code node}, in the order they were found. */
  public Collection<Node> of(String node) {
    Set<Node> s = map.get(node);
    return s == null ? Set.of() : Collections.unmodifiableSet(s);
  }

  void add(String source, Node reader) {
    map.computeIfAbsent(source, k -> new LinkedHashSet<>()).add(reader);
  }

  /** Forgets a node about to leave the graph, as a reader of its inputs and as a source. */
  void drop(Node n) {
    unread(n);
    map.remove(n.name());
  }

  /** Forgets {@code n} as a reader of its current inputs, before they change. */
  void unread(Node n) {
    for (String in : n.inputs()) {
      Set<Node> s = map.get(TensorRef.nodeOf(in));
      if (s != null) {
        s.remove(n);
      }
    }
  }

  /** Records {@code n} as a reader of its current inputs, after they changed. */
  void read(Node n) {
    for (String in : n.inputs()) {
      add(TensorRef.nodeOf(in), n);
    }
  }
}
