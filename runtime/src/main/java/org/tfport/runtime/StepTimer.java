package org.tfport.runtime;

/**
 * Sees how long each node of a run took, for op profiling ({@code benchmark_model
 * --enable_op_profiling}). Unlike a {@link RunObserver}, it times the plan unobserved runs execute
 * (fused ops, buffers reused), so the times add up to what a plain run costs. Pass one to {@link
 * Session#runTimed}.
 *
 * <p>Called on the running thread after each node of the signature's graph ran. A node that runs a
 * function (a loop, a branch, a call) is timed as a whole, its body's nodes are not reported.
 */
@FunctionalInterface
public interface StepTimer {
  /**
   * @param node the node's name; after fusion, the name of the node whose result the fused op
   *     computes
   * @param op the op the runtime ran (a fused op's own name, such as {@code _FusedConv2D})
   * @param nanos wall time from the end of the previous node (or the run's start) to the end of
   *     this one: the kernel plus the run's bookkeeping for the node
   */
  void ran(String node, String op, long nanos);
}
