package org.tfport.graph.optimize;

import java.util.LinkedHashSet;
import java.util.Set;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphPass;
import org.tfport.core.graph.Node;

/**
 * Removes nodes no graph output needs, through data or control edges. Unlike {@link Graph#prune()}
 * it keeps the graph's inputs even when folding has left them unread: the placeholders are the
 * model's interface, and a caller still feeds them.
 */
public final class DeadNodePruning implements GraphPass {
  private int removed;

  @Override
  public String name() {
    return "prune";
  }

  public int removed() {
    return removed;
  }

  @Override
  public boolean apply(Graph g) {
    Set<String> roots = new LinkedHashSet<>(g.outputNodes());
    roots.addAll(g.inputs());
    Set<String> keep = g.reachable(roots);
    int before = g.size();
    for (Node n : g.nodes()) {
      if (!keep.contains(n.name())) {
        g.remove(n.name());
      }
    }
    removed += before - g.size();
    return g.size() != before;
  }
}
