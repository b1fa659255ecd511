package org.tfport.runtime.ops;

import java.util.concurrent.ForkJoinTask;
import org.tfport.runtime.kernel.RunContext;

/**
 * What the optimized kernels share: the micro-kernels chosen at start-up (the Vector API ones when the JVM was
 * started with {@code --add-modules jdk.incubator.vector}, else plain loops with the same blocking and packing) and
 * the split of one op's work over the session's threads.
 */
final class FastKernels {
  /** Whether the incubating Vector API module is in the boot layer; its classes are loaded only then. */
  static final boolean VECTOR_MODULE = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

  /** Below this many multiply-adds an op runs on the caller's thread only: forking would cost more than it saves. */
  static final long PARALLEL_MIN_WORK = 1 << 17;

  /** Tests force the scalar micro-kernels through this switch; kernels read it when they are bound. */
  private static volatile boolean forceScalar;

  private FastKernels() {}

  static void forceScalar(boolean scalar) {
    forceScalar = scalar;
  }

  /** The micro-kernels a kernel bound now uses. */
  static Microkernel microkernel() {
    return VECTOR_MODULE && !forceScalar ? VectorHolder.INSTANCE : ScalarMicrokernel.INSTANCE;
  }

  // A holder so that VectorMicrokernel (and jdk.incubator.vector) is loaded only when the module is present.
  private static final class VectorHolder {
    static final Microkernel INSTANCE = new VectorMicrokernel();
  }

  /** Work over an index range [from, to). */
  @FunctionalInterface
  interface Range {
    void run(int from, int to);
  }

  /**
   * Runs {@code body} over [0, count) in at most {@code ctx.threads()} contiguous chunks, one task each, the first
   * on the calling thread; with one thread, or less than {@link #PARALLEL_MIN_WORK} in all, in one call. Chunk
   * boundaries only decide which thread computes an element, never how, so results do not depend on the split.
   */
  static void split(RunContext ctx, int count, long workPerItem, Range body) {
    int tasks = ctx == null ? 1 : Math.min(ctx.threads(), count);
    if (tasks <= 1 || count * workPerItem < PARALLEL_MIN_WORK) {
      if (count > 0) {
        body.run(0, count);
      }
      return;
    }
    ForkJoinTask<?>[] forked = new ForkJoinTask<?>[tasks - 1];
    for (int t = 1; t < tasks; t++) {
      int from = (int) ((long) count * t / tasks);
      int to = (int) ((long) count * (t + 1) / tasks);
      forked[t - 1] = ctx.pool().submit(() -> body.run(from, to));
    }
    RuntimeException failure = null;
    try {
      body.run(0, (int) ((long) count / tasks));
    } catch (RuntimeException e) {
      failure = e;
    }
    for (ForkJoinTask<?> f : forked) {
      try {
        f.join();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
