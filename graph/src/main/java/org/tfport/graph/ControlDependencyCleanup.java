package org.tfport.graph;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphPass;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;

/**
 * Simplifies control edges left by inlining, as Grappler's dependency optimizer does: a {@code
 * NoOp} that is not an output is bypassed (its waiters wait on what it waited on), a control edge
 * that duplicates a data edge goes, and so does one from a constant, which has no effect to wait
 * for.
 */
final class ControlDependencyCleanup implements GraphPass {
  @Override
  public String name() {
    return "control-dependency-cleanup";
  }

  @Override
  public boolean apply(Graph g) {
    boolean changed = false;
    Set<String> outputs = g.outputNodes();
    for (Node n : g.nodes()) {
      if (n.op().equals("NoOp") && !outputs.contains(n.name())) {
        List<String> waitedOn = n.controlInputs().stream().map(TensorRef::nodeOf).toList();
        g.replaceControlUses(n.name(), waitedOn);
        changed = true;
      }
    }
    for (Node n : g.nodes()) {
      Set<String> dataSources = new HashSet<>();
      n.dataInputs().forEach(i -> dataSources.add(TensorRef.nodeOf(i)));
      List<String> ins = new ArrayList<>(n.inputs());
      boolean dropped =
          ins.removeIf(
              in -> {
                if (!TensorRef.isControl(in)) {
                  return false;
                }
                String src = in.substring(1);
                Node s = g.node(src);
                return dataSources.contains(src) || s != null && s.op().equals("Const");
              });
      if (dropped) {
        n.setInputs(ins);
        changed = true;
      }
    }
    return changed;
  }
}
