package org.tfport.runtime.kernel;

/**
 * One file's worth of kernels (an op family: elementwise math, convolution, shapes, ...) adding
 * itself to a registry. Families are listed in {@code org.tfport.runtime.ops.StandardKernels}.
 */
public interface OpFamily {
  void register(KernelRegistry registry);
}
