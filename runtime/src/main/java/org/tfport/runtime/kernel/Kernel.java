package org.tfport.runtime.kernel;

/**
 * One node's computation, bound once at plan time (attributes parsed, constant weights packed) and
 * run many times, possibly from several threads at once: a kernel keeps no state between calls
 * except through {@link RunContext}.
 */
@FunctionalInterface
public interface Kernel {
  /**
   * Computes the node's outputs from its data inputs, in the node's output order.
   *
   * @throws KernelException for values the op rejects (an index out of range, shapes that do not
   *     broadcast)
   */
  Value[] run(Value[] inputs, RunContext context);
}
