package org.tfport.runtime.kernel;

/** Makes the {@link Kernel} for one node; registered by op name in a {@link KernelRegistry}. */
@FunctionalInterface
public interface KernelFactory {
  /**
   * Binds {@code node}: reads and checks its attributes, packs constant inputs if useful.
   *
   * @throws KernelException when this node's attributes or types are outside what the kernel
   *     computes; the message says what (the planner adds the node name)
   */
  Kernel bind(BindContext node);
}
