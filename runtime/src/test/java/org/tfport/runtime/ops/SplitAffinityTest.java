package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.tfport.runtime.kernel.RunContext;
import org.tfport.runtime.kernel.WorkerPool;

/**
 * Which thread computes which chunk of a split: each taker owns a contiguous run (the caller the
 * first), takes it from the front, then takes what others left from the back. Orders are checked
 * with helpers run inline, so they are exact; real helper threads are checked for every item
 * computed exactly once.
 */
class SplitAffinityTest {
  /** Large enough that a split of n items makes min(n, 4·threads) chunks. */
  private static final long HEAVY = FastKernels.PARALLEL_MIN_WORK;

  /** The chunks' first items in the order they were computed. */
  private static List<Integer> order(RunContext ctx, int count) {
    List<Integer> order = new ArrayList<>();
    int[] covered = new int[count];
    FastKernels.split(
        ctx,
        count,
        HEAVY,
        (from, to) -> {
          order.add(from);
          for (int i = from; i < to; i++) {
            covered[i]++;
          }
        });
    assertThat(covered).as("every item once").containsOnly(1);
    return order;
  }

  @Test
  void aHelperThatStartsFirstTakesTheSecondHalfThenTheCallersFromTheBack() {
    // 8 chunks at 2 threads: the helper owns 4..7, the caller 0..3.
    assertThat(order(new HandoffContext(2, true), 8)).containsExactly(4, 5, 6, 7, 3, 2, 1, 0);
  }

  @Test
  void aCallerWhoseHelperNeverStartsDoesItsOwnRunThenTheHelpersFromTheBack() {
    assertThat(order(new HandoffContext(2, false), 8)).containsExactly(0, 1, 2, 3, 7, 6, 5, 4);
  }

  @Test
  void unevenRunsAndMoreThreads() {
    // 7 chunks at 2 threads: runs 0..2 and 3..6.
    assertThat(order(new HandoffContext(2, true), 7)).containsExactly(3, 4, 5, 6, 2, 1, 0);
    // 12 chunks at 3 threads: runs 0..3, 4..7, 8..11; helper 1 then steals 11..8 and 3..0, and
    // helper 2, arriving second, finds nothing.
    assertThat(order(new HandoffContext(3, true), 12))
        .containsExactly(4, 5, 6, 7, 11, 10, 9, 8, 3, 2, 1, 0);
  }

  @Test
  void aChunkSplitsItsItemsEvenly() {
    // 100 items in 8 chunks at 2 threads: the caller's run holds the first 50.
    List<Integer> firsts = order(new HandoffContext(2, false), 100);
    assertThat(firsts).containsExactly(0, 12, 25, 37, 87, 75, 62, 50);
  }

  @Test
  void realHelpersComputeEveryItemExactlyOnce() {
    Random rnd = new Random(5);
    for (int helpers : new int[] {1, 3}) {
      try (WorkerPool pool = new WorkerPool(helpers, "split-affinity-test")) {
        RunContext ctx = new PoolContext(helpers + 1, pool);
        pool.runStarted();
        for (int round = 0; round < 2000; round++) {
          int count = 1 + rnd.nextInt(300);
          AtomicIntegerArray covered = new AtomicIntegerArray(count);
          FastKernels.split(
              ctx,
              count,
              HEAVY,
              (from, to) -> {
                for (int i = from; i < to; i++) {
                  covered.incrementAndGet(i);
                }
              });
          for (int i = 0; i < count; i++) {
            assertThat(covered.get(i)).as("round %d item %d of %d", round, i, count).isEqualTo(1);
          }
        }
        pool.runEnded();
      }
    }
  }

  @Test
  void aFailingChunkFailsTheSplitOnTheCaller() {
    try (WorkerPool pool = new WorkerPool(1, "split-affinity-fail")) {
      RunContext ctx = new PoolContext(2, pool);
      assertThatThrownBy(
              () ->
                  FastKernels.split(
                      ctx,
                      8,
                      HEAVY,
                      (from, to) -> {
                        if (from == 5) {
                          throw new IllegalStateException("chunk 5");
                        }
                      }))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("chunk 5");
    }
  }

  private record PoolContext(int threads, WorkerPool workers) implements RunContext {
    @Override
    public ForkJoinPool pool() {
      return ForkJoinPool.commonPool();
    }

    @Override
    public void fork(Runnable task, int helpers) {
      workers.post(task, helpers);
    }

    @Override
    public <T> T sessionState(String key, Supplier<T> create) {
      return create.get();
    }
  }
}
