package org.tfport.runtime;

import java.util.List;
import org.tfport.core.DType;
import org.tfport.core.TfportException;
import org.tfport.core.graph.Graph;
import org.tfport.runtime.kernel.Memory;

/** The plan-time half of the heap check; {@link Memory} checks single tensors at run time. */
final class StaticMemory {
  private StaticMemory() {}

  /**
   * Refuses a plan whose values of statically known shape alone, live at once, need more than the
   * heap's maximum: the run could only fail, after minutes perhaps, so it is refused at load with
   * how much it needs. Values of unknown shape count as nothing, so this is a lower bound.
   */
  static void check(
      Graph graph,
      String where,
      int fedSlots,
      List<Plan.Step> steps,
      DType[] types,
      long[][] shapes) {
    long[] held = new long[types.length];
    long live = 0;
    for (int s = 0; s < fedSlots; s++) {
      held[s] = knownBytes(types[s], shapes[s]);
      live = saturatedAdd(live, held[s]);
    }
    long peak = live;
    String at = "its inputs";
    for (Plan.Step step : steps) {
      for (int s = step.outputBase(); s < step.outputBase() + step.outputCount(); s++) {
        held[s] = knownBytes(types[s], shapes[s]);
        live = saturatedAdd(live, held[s]);
      }
      if (live > peak) {
        peak = live;
        at = "the tensors live after node '" + step.node() + "'";
      }
      for (int d : step.dying()) {
        live -= live == Long.MAX_VALUE ? 0 : held[d];
        held[d] = 0;
      }
    }
    if (peak > Memory.heapLimit()) {
      throw new TfportException(
          graph.source()
              + ": "
              + where
              + "running the model needs at least "
              + Memory.human(peak)
              + " for "
              + at
              + " (from their static shapes), and the JVM's heap is at most "
              + Memory.human(Memory.heapLimit())
              + "; "
              + Memory.REMEDY);
    }
  }

  /** A value's bytes; of unknown type, one per element, the least any type takes. */
  private static long knownBytes(DType t, long[] shape) {
    return shape == null ? 0 : Math.max(0, Memory.bytes(t == null ? DType.INT8 : t, shape));
  }

  private static long saturatedAdd(long a, long b) {
    return a + b < 0 ? Long.MAX_VALUE : a + b;
  }
}
