package org.tfport.runtime;

import org.tfport.core.TfportException.UsageException;
import org.tfport.runtime.kernel.KernelRegistry;

/**
 * How a {@link Session} runs.
 *
 * @param threads the threads a kernel may split one op over (1: the calling thread only)
 * @param kernels which kernels to bind: the exact reference kernels, or optimized ones where they
 *     exist
 */
public record SessionOptions(int threads, KernelRegistry.Mode kernels) {
  public SessionOptions {
    if (threads < 1) {
      throw new UsageException("a session needs at least 1 thread, got " + threads);
    }
    if (kernels == null) {
      kernels = KernelRegistry.Mode.OPTIMIZED;
    }
  }

  /** One thread, optimized kernels where tfport has them. */
  public static SessionOptions defaults() {
    return new SessionOptions(1, KernelRegistry.Mode.OPTIMIZED);
  }

  public SessionOptions withThreads(int n) {
    return new SessionOptions(n, kernels);
  }

  public SessionOptions withKernels(KernelRegistry.Mode mode) {
    return new SessionOptions(threads, mode);
  }
}
