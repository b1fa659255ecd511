package org.tfport.runtime.kernel;

import java.util.concurrent.ForkJoinPool;
import java.util.function.Supplier;

/**
 * What a running kernel may use: the session's threads and the state the session keeps between
 * runs.
 */
public interface RunContext {
  /** The intra-op parallelism a kernel may use; 1 means run on the caller's thread only. */
  int threads();

  /** The pool to split work over when {@link #threads()} is above 1. */
  ForkJoinPool pool();

  /**
   * State kept by the session across runs under {@code key} (hash tables filled by the model
   * initializer, variables): made by {@code create} on first use.
   */
  <T> T sessionState(String key, Supplier<T> create);
}
