package org.tfport.runtime;

import org.tfport.core.TfportException.UsageException;
import org.tfport.runtime.kernel.KernelRegistry;

/**
 * How a {@link Session} runs.
 *
 * @param threads the threads a kernel may split one op over (1: the calling thread only)
 * @param kernels which kernels to bind: the exact reference kernels, or optimized ones where they
 *     exist
 * @param checkShapes whether inputs are checked against the signature's shapes before the run (the
 *     default); without, a fed tensor of another shape goes to the ops, which accept it or fail
 *     naming themselves, as TensorFlow's own session does with a fed tensor. Types are checked
 *     either way.
 */
public record SessionOptions(int threads, KernelRegistry.Mode kernels, boolean checkShapes) {
  public SessionOptions {
    if (threads < 1) {
      throw new UsageException("a session needs at least 1 thread, got " + threads);
    }
    if (kernels == null) {
      kernels = KernelRegistry.Mode.OPTIMIZED;
    }
  }

  /** Shapes checked against the signature. */
  public SessionOptions(int threads, KernelRegistry.Mode kernels) {
    this(threads, kernels, true);
  }

  /** One thread, optimized kernels where tfport has them, shapes checked. */
  public static SessionOptions defaults() {
    return new SessionOptions(1, KernelRegistry.Mode.OPTIMIZED);
  }

  public SessionOptions withThreads(int n) {
    return new SessionOptions(n, kernels, checkShapes);
  }

  public SessionOptions withKernels(KernelRegistry.Mode mode) {
    return new SessionOptions(threads, mode, checkShapes);
  }

  /**
   * With or without the shape check. Turn it off only for graphs whose ops compute their shapes at
   * run time (a graph TensorFlow traced); a graph built from the declared shapes (a Keras or TF.js
   * layers model, a TFLite file) may have them built into its constants, so another shape can
   * compute a wrong answer that no op objects to.
   */
  public SessionOptions withShapeCheck(boolean check) {
    return new SessionOptions(threads, kernels, check);
  }
}
