package org.tfport.graph;

import java.util.List;
import java.util.Set;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphPass;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;

/**
 * Grappler's {@code debug_stripper}: {@code Assert} and {@code PrintV2} go (nothing reads their
 * value, only their control edge), {@code CheckNumerics} and {@code Print} pass their first input
 * through.
 */
public final class DebugOpStripper implements GraphPass {
  static final Set<String> DROPPED = Set.of("Assert", "PrintV2");
  static final Set<String> PASS_THROUGH = Set.of("CheckNumerics", "CheckNumericsV2", "Print");

  @Override
  public String name() {
    return "strip-debug-ops";
  }

  @Override
  public boolean apply(Graph g) {
    boolean changed = false;
    for (Node n : g.nodes()) {
      if (DROPPED.contains(n.op())) {
        g.replaceControlUses(n.name(), List.of());
        g.remove(n.name());
        changed = true;
      } else if (PASS_THROUGH.contains(n.op()) && !n.dataInputs().isEmpty()) {
        String src = n.input(0);
        g.replaceUses(n.name() + ":0", src);
        g.replaceControlUses(n.name(), List.of(TensorRef.nodeOf(src)));
        g.remove(n.name());
        changed = true;
      }
    }
    return changed;
  }
}
