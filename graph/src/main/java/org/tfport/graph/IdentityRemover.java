package org.tfport.graph;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphPass;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;

/**
 * Removes {@code Identity}, {@code StopGradient}, {@code Snapshot} and {@code PreventGradient}
 * nodes that are not graph outputs: readers read the identity's input instead. Identities that
 * something waits on through a control edge stay, as do those behind a {@code Switch}: in TF1
 * control flow they carry the branch's frame, as Grappler's dependency optimizer also knows.
 */
final class IdentityRemover implements GraphPass {
  static final Set<String> OPS = Set.of("Identity", "StopGradient", "Snapshot", "PreventGradient");
  private static final Set<String> FRAME_OPS =
      Set.of(
          "Switch",
          "RefSwitch",
          "Enter",
          "RefEnter",
          "Merge",
          "RefMerge",
          "NextIteration",
          "Exit",
          "LoopCond");

  @Override
  public String name() {
    return "remove-identities";
  }

  @Override
  public boolean apply(Graph g) {
    Set<String> outputs = g.outputNodes();
    Map<String, List<Node>> readers = g.consumers();
    boolean changed = false;
    for (Node n : g.nodes()) {
      if (!OPS.contains(n.op()) || outputs.contains(n.name()) || n.dataInputs().size() != 1) {
        continue;
      }
      String src = n.input(0);
      Node srcNode = g.node(TensorRef.nodeOf(src));
      if (srcNode == null || FRAME_OPS.contains(srcNode.op())) {
        continue;
      }
      boolean controlled = false;
      for (Node r : readers.getOrDefault(n.name(), List.of())) {
        if (r.inputs().contains("^" + n.name())) {
          controlled = true;
          break;
        }
      }
      if (controlled) {
        continue;
      }
      List<String> extra = n.controlInputs();
      for (Node r : readers.getOrDefault(n.name(), List.of())) {
        // The identity's own control inputs still hold for its readers.
        if (!extra.isEmpty()) {
          List<String> ins = new java.util.ArrayList<>(r.inputs());
          ins.addAll(extra);
          r.setInputs(ins);
        }
      }
      g.replaceUses(n.name() + ":0", src);
      g.remove(n.name());
      changed = true;
    }
    return changed;
  }
}
