package org.tfport.runtime;

import java.util.List;
import org.tfport.runtime.kernel.Value;

/**
 * Sees every value a run computes, for tools that need intermediate tensors and not only the
 * signature's outputs (the converter records each tensor's range over calibration samples with it).
 * Pass one to {@link Session#run(String, java.util.Map, RunObserver)}; a run without one pays
 * nothing for the hook.
 *
 * <p>It is called on the running thread after each node ran, once per output the kernel returned,
 * and for each input a graph or function receives (as output 0 of its placeholder). Inside a
 * library function (a loop's condition or body, a branch, a called function) the call path names
 * the functions entered, outermost first; a body run once per iteration is seen once per iteration.
 * Constants are not reported: they are not computed.
 */
@FunctionalInterface
public interface RunObserver {
  /**
   * @param callPath the library functions the node runs in, outermost first; empty for the
   *     signature's graph
   * @param node the node's name in that graph or function body
   * @param output the output index
   * @param value the value, to read during the call only (buffers may be reused after it)
   */
  void computed(List<String> callPath, String node, int output, Value value);
}
