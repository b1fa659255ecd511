package org.tfport.graph.optimize;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphPass;

/**
 * The target-independent optimizations, in the order the TF.js converter runs their Grappler and
 * Python counterparts: simplify (fold constants, arithmetic identities, merge common
 * subexpressions, prune; until nothing changes), fold batch norms, simplify again, turn bias
 * additions into {@code BiasAdd}. Targets add their own fusions after {@link #optimize}. One
 * instance counts what its passes did, for the summary.
 */
public final class GraphOptimizer {
  /** Rounds of simplification before giving up on reaching a fixed point (each round is linear). */
  public static final int MAX_ROUNDS = 10;

  private final ConstantFolding folding;
  private final ArithmeticSimplification arithmetic = new ArithmeticSimplification();
  private final CommonSubexpressionElimination cse = new CommonSubexpressionElimination();
  private final DeadNodePruning pruning = new DeadNodePruning();
  private final BatchNormFolding batchNorms = new BatchNormFolding();
  private final BiasAddNormalization biasAdds = new BiasAddNormalization();

  public GraphOptimizer() {
    this(ConstantFolding.DEFAULT_MAX_ELEMENTS);
  }

  /**
   * @param maxFoldedElements the largest tensor constant folding may create
   */
  public GraphOptimizer(long maxFoldedElements) {
    this.folding = new ConstantFolding(maxFoldedElements);
  }

  /**
   * Folding, identities, common subexpressions and pruning, repeated until none changes the graph.
   */
  public void simplify(Graph g) {
    runToFixedPoint(g, List.of(folding, arithmetic, cse, pruning));
  }

  /** Everything target-independent, in order; leaves the graph valid. */
  public void optimize(Graph g) {
    pruning.apply(g);
    simplify(g);
    if (batchNorms.apply(g)) {
      simplify(g);
    }
    biasAdds.apply(g);
    pruning.apply(g);
    g.validate();
  }

  public DeadNodePruning pruning() {
    return pruning;
  }

  /** Runs the passes in turn until a whole round changes nothing, or {@link #MAX_ROUNDS} rounds. */
  public static void runToFixedPoint(Graph g, List<? extends GraphPass> passes) {
    for (int round = 0; round < MAX_ROUNDS; round++) {
      boolean changed = false;
      for (GraphPass p : passes) {
        changed |= p.apply(g);
      }
      if (!changed) {
        return;
      }
    }
  }

  /** What the passes did so far, by kind; zero counts are left out. */
  public Map<String, Integer> counts() {
    Map<String, Integer> out = new LinkedHashMap<>();
    put(out, "folded", folding.folded());
    put(out, "simplified", arithmetic.simplified());
    put(out, "merged", cse.merged());
    put(out, "batch norms folded", batchNorms.folded());
    put(out, "bias adds", biasAdds.normalized());
    return out;
  }

  private static void put(Map<String, Integer> m, String k, int v) {
    if (v > 0) {
      m.put(k, v);
    }
  }
}
