package org.tfport.runtime.ops;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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
   * a few chunks per thread (none under {@link #CHUNK_MIN_WORK}), and each taking thread owns a
   * contiguous run of them (see {@link Chunks}); with one thread, less than {@link
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
    int takers = Math.min(threads, chunks);
    Chunks work = new Chunks(count, chunks, takers, body);
    ctx.fork(work, takers - 1);
    work.work(0);
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

  /**
   * The least a caller whose chunks are all taken spins for the helpers before it parks; it spins
   * longer, up to {@link #SPIN_MAX_NANOS}, when its own chunks took longer (see {@link
   * Chunks#await}).
   */
  private static final long SPIN_NANOS = 50_000;

  /** The most a caller spins for a helper's chunk before it parks. */
  private static final long SPIN_MAX_NANOS = 1_000_000;

  /**
   * The chunks of one split. Taker {@code p} of {@code n} (the caller is 0, helpers number
   * themselves 1, 2, ... as they arrive) owns chunks [p·chunks/n, (p+1)·chunks/n) and takes them
   * from the front; once its own are gone it takes the others' from the back. So when every taker
   * keeps up, the caller computes the first part of every op's range and each helper the same later
   * part: an op whose rows are cut as the previous op's were (the layers of a convolution network
   * split by output rows) finds most of its input in the cache of the core that wrote it, where
   * chunks taken in turn from one counter would hand each core rows the other core wrote. A slow or
   * absent taker loses its chunks to the others from the back of its run, one at a time.
   */
  static final class Chunks implements Runnable {
    private final int count;
    private final int chunks;
    private final Range body;

    /** Per taker, the chunks it has left: the next one in the high half, the end in the low. */
    private final AtomicLong[] left;

    private final AtomicInteger arrivals = new AtomicInteger();
    private final CountDownLatch done;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    /** The longest chunk the caller computed, in nanoseconds (caller's thread only). */
    private long longestChunk;

    Chunks(int count, int chunks, int takers, Range body) {
      this.count = count;
      this.chunks = chunks;
      this.body = body;
      this.left = new AtomicLong[takers];
      for (int p = 0; p < takers; p++) {
        left[p] = new AtomicLong(pack(chunks * p / takers, chunks * (p + 1) / takers));
      }
      this.done = new CountDownLatch(chunks);
    }

    private static long pack(int next, int end) {
      return (long) next << 32 | (end & 0xffffffffL);
    }

    /** A helper's turn: it takes the next taker number (a late or extra helper only steals). */
    @Override
    public void run() {
      work(arrivals.incrementAndGet());
    }

    /** Computes taker {@code self}'s own chunks from the front, then the others' from the back. */
    void work(int self) {
      int takers = left.length;
      if (self < takers) {
        for (int c = take(left[self], true); c >= 0; c = take(left[self], true)) {
          compute(c, self == 0);
        }
      }
      for (int i = 1; i <= takers; i++) {
        AtomicLong other = left[(self + i) % takers];
        for (int c = take(other, false); c >= 0; c = take(other, false)) {
          compute(c, self == 0);
        }
      }
    }

    /** Takes the first ({@code front}) or the last chunk left in {@code run}; -1 when none is. */
    private static int take(AtomicLong run, boolean front) {
      while (true) {
        long s = run.get();
        int next = (int) (s >>> 32);
        int end = (int) s;
        if (next >= end) {
          return -1;
        }
        if (run.compareAndSet(s, front ? pack(next + 1, end) : pack(next, end - 1))) {
          return front ? next : end - 1;
        }
      }
    }

    private void compute(int c, boolean caller) {
      long start = caller ? System.nanoTime() : 0;
      try {
        body.run((int) ((long) count * c / chunks), (int) ((long) count * (c + 1) / chunks));
      } catch (RuntimeException | Error e) {
        failure.compareAndSet(null, e);
      } finally {
        done.countDown();
      }
      if (caller) {
        longestChunk = Math.max(longestChunk, System.nanoTime() - start);
      }
    }

    void await() {
      // What is left is at most one chunk per helper, each about as long as the caller's own (all
      // chunks are alike): spin for about two of those before parking, since a parked caller is
      // woken only after a scheduler round trip, once per op, on the path every op waits on. A
      // helper that takes much longer has lost its core; then the caller's spin would only keep
      // the core from it.
      long spinEnd = System.nanoTime() + Math.clamp(2 * longestChunk, SPIN_NANOS, SPIN_MAX_NANOS);
      int spins = 0;
      while (done.getCount() > 0 && System.nanoTime() - spinEnd < 0) {
        Thread.onSpinWait();
        if ((++spins & 0xfff) == 0) {
          Thread.yield();
        }
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
