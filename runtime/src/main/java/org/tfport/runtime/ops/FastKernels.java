package org.tfport.runtime.ops;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.tfport.runtime.kernel.RunContext;

/**
 * What the optimized kernels share: the micro-kernels chosen at start-up (the Vector API ones when
 * the JVM was started with {@code --add-modules jdk.incubator.vector}, else plain loops with the
 * same blocking and packing) and the split of one op's work over the session's threads.
 */
final class FastKernels {
  /**
   * Whether the incubating Vector API module is in the boot layer; its classes are loaded only
   * then.
   */
  static final boolean VECTOR_MODULE =
      ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

  /**
   * Below this many multiply-adds (about 10 µs at one thread) an op runs on the caller's thread
   * only. A handoff to a hot helper costs about a microsecond, but the caller then waits for the
   * helper's last chunk: on two cores that also run the JIT, the GC or other processes, the helper
   * is sometimes descheduled while it holds one, and only an op well above the handoff's cost wins
   * back what such a stall loses.
   */
  static final long PARALLEL_MIN_WORK = 1 << 17;

  /**
   * No op is cut into chunks of fewer multiply-adds than this (about 2.5 µs): a smaller chunk costs
   * its taker more in the counter, the latch and cache misses on the neighbouring rows than it
   * computes.
   */
  static final long CHUNK_MIN_WORK = 1 << 15;

  /**
   * Tests force the scalar micro-kernels through this switch; kernels read it when they are bound.
   */
  private static volatile boolean forceScalar;

  private FastKernels() {}

  static void forceScalar(boolean scalar) {
    forceScalar = scalar;
  }

  /** The micro-kernels a kernel bound now uses. */
  static Microkernel microkernel() {
    return VECTOR_MODULE && !forceScalar ? VectorHolder.INSTANCE : ScalarMicrokernel.INSTANCE;
  }

  // A holder so that VectorMicrokernel (and jdk.incubator.vector) is loaded only when the module is
  // present.
  private static final class VectorHolder {
    static final Microkernel INSTANCE = new VectorMicrokernel();
  }

  /**
   * A buffer of {@code n} floats with unspecified contents from the session's arena ({@code ctx}
   * may be null): the caller writes every element.
   */
  static float[] floats(RunContext ctx, int n) {
    return ctx == null ? new float[n] : ctx.floats(n);
  }

  /** Returns scratch taken by {@link #floats} (never a buffer an output holds). */
  static void giveBack(RunContext ctx, float[] scratch) {
    if (ctx != null) {
      ctx.giveBack(scratch);
    }
  }

  /** Work over an index range [from, to). */
  @FunctionalInterface
  interface Range {
    void run(int from, int to);
  }

  /**
   * Runs {@code body} over [0, count) on up to {@code ctx.threads()} threads: the range is cut into
   * a few chunks per thread (none under {@link #CHUNK_MIN_WORK}), which the calling thread and the
   * pool's helpers take in turn until none is left; with one thread, less than {@link
   * #PARALLEL_MIN_WORK} in all, or too little for two chunks, in one call on the caller's thread
   * and no handoff. Only as many helpers as there are chunks beyond the caller's first are asked.
   * The caller never waits for a helper that has not started (on a busy machine it may take the
   * chunks itself), only for chunks being computed. Chunks decide which thread computes an element,
   * never how, so results do not depend on the split.
   */
  static void split(RunContext ctx, int count, long workPerItem, Range body) {
    int threads = ctx == null ? 1 : ctx.threads();
    int chunks = chunks(threads, count, workPerItem);
    if (chunks <= 1) {
      if (count > 0) {
        body.run(0, count);
      }
      return;
    }
    Chunks work = new Chunks(count, chunks, body);
    ctx.fork(work, Math.min(threads, chunks) - 1);
    work.work();
    work.await();
  }

  /**
   * How many chunks {@link #split} cuts [0, count) into at {@code threads} threads when each item
   * costs {@code workPerItem} multiply-adds: 1 means the caller runs it all.
   */
  static int chunks(int threads, int count, long workPerItem) {
    if (threads <= 1 || count <= 1) {
      return 1;
    }
    long total =
        workPerItem <= 0
            ? 0
            : workPerItem > Long.MAX_VALUE / count ? Long.MAX_VALUE : count * workPerItem;
    if (total < PARALLEL_MIN_WORK) {
      return 1;
    }
    long bySize = total / CHUNK_MIN_WORK;
    return (int) Math.min(Math.min(count, (long) threads * CHUNKS_PER_THREAD), bySize);
  }

  private static final int CHUNKS_PER_THREAD = 4;

  /** How long a caller whose chunks are all taken spins for the helpers before it parks. */
  private static final long SPIN_NANOS = 50_000;

  /** The chunks of one split: a counter to take them by, and a latch counting those finished. */
  private static final class Chunks implements Runnable {
    private final int count;
    private final int chunks;
    private final Range body;
    private final AtomicInteger next = new AtomicInteger();
    private final CountDownLatch done;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    Chunks(int count, int chunks, Range body) {
      this.count = count;
      this.chunks = chunks;
      this.body = body;
      this.done = new CountDownLatch(chunks);
    }

    @Override
    public void run() {
      work();
    }

    void work() {
      for (int c = next.getAndIncrement(); c < chunks; c = next.getAndIncrement()) {
        try {
          body.run((int) ((long) count * c / chunks), (int) ((long) count * (c + 1) / chunks));
        } catch (RuntimeException | Error e) {
          failure.compareAndSet(null, e);
        } finally {
          done.countDown();
        }
      }
    }

    void await() {
      // The chunks still running are at most one per helper, each a fraction of the op: spin
      // briefly before parking, since a parked caller is woken only after a scheduler round trip,
      // once per op, on the path every op waits on.
      long spinEnd = System.nanoTime() + SPIN_NANOS;
      while (done.getCount() > 0 && System.nanoTime() - spinEnd < 0) {
        Thread.onSpinWait();
      }
      boolean interrupted = false;
      while (true) {
        try {
          done.await();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      switch (failure.get()) {
        case null -> {}
        case RuntimeException e -> throw e;
        case Error e -> throw e;
        default -> throw new IllegalStateException(failure.get());
      }
    }
  }
}
