package org.tfport.runtime.kernel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A session's helper threads, kept hot between the parallel ops of one run: after a task a helper
 * spins for the next one (between two ops of a run, up to what the previous run's longest gap
 * between posts suggests, see {@link #spinNanos}; {@link #SPIN_NANOS} outside a run) before it
 * parks, so the parallel ops of a run reach running helpers (a volatile write each) instead of
 * waking parked ones (a futex call and a scheduler round trip each, which at two threads cost more
 * than a small op saves). Once a run has posted as many tasks as the previous run did, no more are
 * expected: the helpers park as soon as they are idle, so they do not take a core from the caller,
 * the JIT or the GC while the run's small ops finish. A helper takes only the latest task posted to
 * it: a task must be such that running it late, or not at all, is harmless (the poster does any
 * work no helper took, as {@code FastKernels.split} does).
 *
 * <p>One thread posts at a time (a session is used by one thread); {@link #close} stops the
 * helpers.
 */
public final class WorkerPool implements AutoCloseable {
  /**
   * How long an idle helper spins before parking outside a run: long enough for back-to-back runs
   * (the next run's first parallel op reaches a running helper), far shorter than a pause between
   * requests.
   */
  static final long SPIN_NANOS = 200_000;

  /** The most an idle helper spins between two posts of a run. */
  static final long RUN_SPIN_NANOS = 5_000_000;

  /**
   * The least an idle helper spins between two posts of a run once the previous run's gaps are
   * known: a gap a little longer than last time (a busy machine, a GC) still finds it hot.
   */
  static final long RUN_SPIN_MIN_NANOS = 100_000;

  private volatile boolean running;

  /** How long idle helpers spin now; 0 once the run has posted all it is expected to. */
  private volatile long spin = SPIN_NANOS;

  // The poster's bookkeeping (one posting thread): this run's posts and longest gap between two,
  // and the previous run's.
  private int runPosts;
  private int expectedPosts = -1;
  private long lastPost;
  private long longestGap;
  private long runSpin = RUN_SPIN_NANOS;

  private final Helper[] helpers;
  private final AtomicLong posts = new AtomicLong();
  private final AtomicLong wakeups = new AtomicLong();

  /** Starts {@code helpers} daemon threads named {@code name-1}, {@code name-2}, .... */
  public WorkerPool(int helpers, String name) {
    this.helpers = new Helper[helpers];
    for (int i = 0; i < helpers; i++) {
      Helper h = new Helper(this);
      Thread t = new Thread(h::loop, name + "-" + (i + 1));
      t.setDaemon(true);
      h.thread = t;
      this.helpers[i] = h;
      t.start();
    }
  }

  /** How many helper threads there are. */
  public int helpers() {
    return helpers.length;
  }

  /**
   * A run begins: parked helpers are woken now, so they are spinning by the first parallel op, and
   * spin between posts until {@link #runEnded} or the run's last expected post.
   */
  public void runStarted() {
    runPosts = 0;
    longestGap = 0;
    spin = expectedPosts == 0 ? 0 : runSpin;
    running = true;
    if (expectedPosts == 0) {
      return; // the last run posted nothing: waking the helpers would only cost their spin
    }
    for (Helper h : helpers) {
      if (h.parked) {
        LockSupport.unpark(h.thread);
      }
    }
  }

  /**
   * The run is over: idle helpers park after {@link #SPIN_NANOS}. The next run expects as many
   * posts as this one made, and its helpers spin between posts about twice this run's longest gap
   * (at least {@link #RUN_SPIN_MIN_NANOS}, at most {@link #RUN_SPIN_NANOS}).
   */
  public void runEnded() {
    running = false;
    expectedPosts = runPosts;
    runSpin = Math.clamp(2 * longestGap, RUN_SPIN_MIN_NANOS, RUN_SPIN_NANOS);
    spin = SPIN_NANOS;
  }

  /**
   * How long an idle helper spins now before it parks (tests): 0 once a run made as many posts as
   * the previous one.
   */
  long spinNanos() {
    return running ? spin : SPIN_NANOS;
  }

  /** Posts {@code task} to the first {@code count} helpers (at most {@link #helpers()}). */
  public void post(Runnable task, int count) {
    if (running) {
      long now = System.nanoTime();
      if (runPosts > 0) {
        longestGap = Math.max(longestGap, now - lastPost);
      }
      lastPost = now;
      runPosts++;
      if (runPosts == expectedPosts) {
        // Read by the helpers once they finish this task: they park instead of spinning.
        spin = 0;
      }
    }
    int n = Math.min(count, helpers.length);
    for (int i = 0; i < n; i++) {
      Helper h = helpers[i];
      h.task = task;
      // Dekker with the helper's parked/task pair (both volatile): either it sees the task before
      // parking, or we see it parked and wake it.
      if (h.parked) {
        wakeups.incrementAndGet();
        LockSupport.unpark(h.thread);
      }
    }
    posts.addAndGet(n);
  }

  /** Tasks handed to helpers so far (one per helper per post). */
  public long posts() {
    return posts.get();
  }

  /** Of those, how many found their helper parked and had to wake it. */
  public long wakeups() {
    return wakeups.get();
  }

  @Override
  public void close() {
    for (Helper h : helpers) {
      h.closed = true;
      LockSupport.unpark(h.thread);
    }
  }

  /** One helper's mailbox, padded so that two helpers' fields never share a cache line. */
  @SuppressWarnings("unused")
  private static final class Helper {
    long p0, p1, p2, p3, p4, p5, p6, p7;
    volatile Runnable task;
    volatile boolean parked;
    volatile boolean closed;
    Thread thread;
    private final WorkerPool pool;

    Helper(WorkerPool pool) {
      this.pool = pool;
    }

    private static final VarHandle TASK;

    static {
      try {
        TASK = MethodHandles.lookup().findVarHandle(Helper.class, "task", Runnable.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    long q0, q1, q2, q3, q4, q5, q6, q7;

    void loop() {
      long idleSince = System.nanoTime();
      int spins = 0;
      while (!closed) {
        Runnable r = task;
        if (r != null) {
          // A task posted since the read stays for the next turn.
          if (!TASK.compareAndSet(this, r, null)) {
            continue;
          }
          try {
            r.run();
          } catch (RuntimeException | Error e) {
            // The task records its own failures for its poster; nothing may kill the helper.
          }
          idleSince = System.nanoTime();
        } else if (System.nanoTime() - idleSince < (pool.running ? pool.spin : SPIN_NANOS)) {
          Thread.onSpinWait();
          // Now and then the core is offered to whatever else waits for it (the caller's thread,
          // the JIT, another process): free on an idle machine, and on a busy one the spin then
          // burns a fraction of the CPU it would (measured: pure onSpinWait doubled the CPU per
          // run of MobileNetV2 at two threads under load 12).
          if ((++spins & 0xfff) == 0) {
            Thread.yield();
          }
        } else {
          parked = true;
          if (task == null && !closed) {
            LockSupport.park(this);
          }
          parked = false;
          idleSince = System.nanoTime();
        }
      }
    }
  }
}
