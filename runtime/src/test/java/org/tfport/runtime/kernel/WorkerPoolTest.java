package org.tfport.runtime.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The session's helper threads: tasks reach them, run once each, and close stops them. */
class WorkerPoolTest {
  @Test
  void everyHelperRunsEachPostedTaskOnceAndCloseStopsThem() throws Exception {
    WorkerPool pool = new WorkerPool(3, "worker-pool-test");
    Thread[] seen = new Thread[3];
    try {
      for (int round = 0; round < 200; round++) {
        // Half the rounds inside a run (helpers spin longer between tasks), half outside.
        if (round == 0) {
          pool.runStarted();
        } else if (round == 100) {
          pool.runEnded();
        }
        CountDownLatch done = new CountDownLatch(3);
        AtomicInteger runs = new AtomicInteger();
        pool.post(
            () -> {
              runs.incrementAndGet();
              done.countDown();
            },
            3);
        assertThat(done.await(30, TimeUnit.SECONDS)).as("round " + round).isTrue();
        assertThat(runs.get()).isEqualTo(3);
      }
      // Posting to fewer helpers than there are reaches only those.
      CountDownLatch one = new CountDownLatch(1);
      AtomicInteger runs = new AtomicInteger();
      pool.post(
          () -> {
            seen[runs.getAndIncrement()] = Thread.currentThread();
            one.countDown();
          },
          1);
      assertThat(one.await(30, TimeUnit.SECONDS)).isTrue();
      Thread.sleep(20);
      assertThat(runs.get()).isEqualTo(1);
      assertThat(seen[0].getName()).isEqualTo("worker-pool-test-1");
      assertThat(pool.posts()).isEqualTo(601);
      assertThat(pool.wakeups()).isBetween(0L, 601L);
    } finally {
      pool.close();
    }
    seen[0].join(30_000);
    assertThat(seen[0].isAlive()).as("a closed pool's helper ends").isFalse();
  }

  @Test
  void aFailingTaskDoesNotKillItsHelper() throws Exception {
    try (WorkerPool pool = new WorkerPool(1, "worker-pool-fail")) {
      pool.post(
          () -> {
            throw new IllegalStateException("task failure");
          },
          1);
      CountDownLatch done = new CountDownLatch(1);
      // The failing task may still be running: post until one after it ran.
      while (!done.await(10, TimeUnit.MILLISECONDS)) {
        pool.post(done::countDown, 1);
      }
      assertThat(done.getCount()).isZero();
    }
  }

  @Test
  void helpersStopSpinningOnceARunMadeAsManyPostsAsTheLast() {
    try (WorkerPool pool = new WorkerPool(1, "worker-pool-spin")) {
      assertThat(pool.spinNanos()).as("outside a run").isEqualTo(WorkerPool.SPIN_NANOS);
      // The first run knows nothing: helpers spin the longest between its posts.
      pool.runStarted();
      assertThat(pool.spinNanos()).isEqualTo(WorkerPool.RUN_SPIN_NANOS);
      for (int i = 0; i < 3; i++) {
        pool.post(() -> {}, 1);
      }
      assertThat(pool.spinNanos()).as("no run before: nothing known").isPositive();
      pool.runEnded();
      assertThat(pool.spinNanos()).isEqualTo(WorkerPool.SPIN_NANOS);
      // The next run expects three posts: after the third, helpers park as soon as they are idle.
      pool.runStarted();
      long between = pool.spinNanos();
      assertThat(between).isBetween(WorkerPool.RUN_SPIN_MIN_NANOS, WorkerPool.RUN_SPIN_NANOS);
      pool.post(() -> {}, 1);
      pool.post(() -> {}, 1);
      assertThat(pool.spinNanos()).isEqualTo(between);
      pool.post(() -> {}, 1);
      assertThat(pool.spinNanos()).as("after the last expected post").isZero();
      pool.runEnded();
      // A run that posted nothing: the next one does not keep helpers spinning at all.
      pool.runStarted();
      pool.runEnded();
      pool.runStarted();
      assertThat(pool.spinNanos()).isZero();
      pool.runEnded();
    }
  }
}
