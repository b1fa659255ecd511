package org.tfport.convert.tfjs;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tfport.core.graph.Graph;
import org.tfport.graph.optimize.GraphOptimizer;
import org.tfport.graph.optimize.PreluFusion;

/**
 * The TF.js converter's {@code optimize_graph} without Grappler: the target-independent passes,
 * then the PReLU pattern and the fusions into ops TF.js runs, then a last simplification. The op
 * checks before and after are the caller's.
 */
final class TfjsOptimizer {
  private TfjsOptimizer() {}

  /** What optimizing did, for the summary. */
  record Report(
      int nodesBefore, int nodesAfter, Map<String, Integer> fused, Map<String, Integer> counts) {
    /** {@code 12 after optimizing (fused 2 _FusedConv2D, 1 _FusedMatMul; folded 3, merged 1)}. */
    String describe() {
      List<String> parts = new ArrayList<>();
      if (!fused.isEmpty()) {
        parts.add("fused " + list(fused));
      }
      if (!counts.isEmpty()) {
        parts.add(list(counts));
      }
      return nodesAfter
          + " after optimizing"
          + (parts.isEmpty() ? "" : " (" + String.join("; ", parts) + ")");
    }

    private static String list(Map<String, Integer> m) {
      List<String> out = new ArrayList<>();
      m.forEach(
          (k, v) ->
              out.add(
                  k.startsWith("_") || Character.isUpperCase(k.charAt(0))
                      ? v + " " + k
                      : k + " " + v));
      return String.join(", ", out);
    }
  }

  static Report run(Graph g) {
    int before = g.size();
    GraphOptimizer opt = new GraphOptimizer();
    opt.optimize(g);
    if (new PreluFusion().apply(g)) {
      // The pattern's Relu and Neg must go before fusing: until then they still read the PReLU's
      // input.
      opt.pruning().apply(g);
    }
    new TfjsFusion().apply(g);
    opt.simplify(g);
    g.validate();
    return new Report(before, g.size(), TfjsFusion.count(g), opt.counts());
  }
}
