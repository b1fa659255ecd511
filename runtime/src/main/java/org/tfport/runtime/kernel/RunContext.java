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
   * A float buffer of exactly {@code n} elements whose contents are unspecified (the kernel writes
   * every element), for an op's output or its scratch. A session lends it from its arena and takes
   * it back once the value is dead; by default a new array.
   */
  default float[] floats(int n) {
    return new float[n];
  }

  /** Returns scratch from {@link #floats} that nothing refers to any more (never an output). */
  default void giveBack(float[] scratch) {}

  /** A byte buffer (8-bit codes) of exactly {@code n} elements, lent as {@link #floats} is. */
  default byte[] bytes(int n) {
    return new byte[n];
  }

  /** Returns scratch from {@link #bytes} that nothing refers to any more (never an output). */
  default void giveBack(byte[] scratch) {}

  /**
   * Hands {@code task} to {@code helpers} threads besides the caller's. A task must tolerate
   * running late or not at all (the caller does whatever part no helper took): a session's {@link
   * WorkerPool} keeps only the latest task per helper. By default each goes to {@link #pool()}.
   */
  default void fork(Runnable task, int helpers) {
    for (int i = 0; i < helpers; i++) {
      pool().execute(task);
    }
  }

  /**
   * State kept by the session across runs under {@code key} (hash tables filled by the model
   * initializer, variables): made by {@code create} on first use.
   */
  <T> T sessionState(String key, Supplier<T> create);
}
