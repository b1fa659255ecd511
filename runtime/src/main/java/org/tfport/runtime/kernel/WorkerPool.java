package org.tfport.runtime.kernel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A session's helper threads, kept hot between the ops of one run: after a task a helper spins for
 * the next one (up to {@link #RUN_SPIN_NANOS} while a run is in progress, {@link #SPIN_NANOS}
 * otherwise) before it parks, so the parallel ops of a run reach running helpers (a volatile write
 * each) instead of waking parked ones (a futex call and a scheduler round trip each, which at two
 * threads cost more than a small op saves). A helper takes only the latest task posted to it: a
 * task must be such that running it late, or not at all, is harmless (the poster does any work no
 * helper took, as {@code FastKernels.split} does).
 *
 * <p>One thread posts at a time (a session is used by one thread); {@link #close} stops the
 * helpers.
 */
public final class WorkerPool implements AutoCloseable {
  /**
   * How long an idle helper spins before parking: longer than the gap between two parallel ops of a
   * run (small ops run on the caller in between), far shorter than the gap between runs.
   */
  static final long SPIN_NANOS = 200_000;

  /**
   * How long an idle helper spins while a run is in progress ({@link #runStarted}): the gaps
   * between parallel ops, stretched by a busy machine's scheduling, stay well under it. The spin
   * yields now and then, so on a busy machine other work gets the core.
   */
  static final long RUN_SPIN_NANOS = 5_000_000;

  private volatile boolean running;

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
   * spin for up to {@link #RUN_SPIN_NANOS} between ops until {@link #runEnded}.
   */
  public void runStarted() {
    running = true;
    for (Helper h : helpers) {
      if (h.parked) {
        LockSupport.unpark(h.thread);
      }
    }
  }

  /** The run is over: idle helpers park after {@link #SPIN_NANOS}. */
  public void runEnded() {
    running = false;
  }

  /** Posts {@code task} to the first {@code count} helpers (at most {@link #helpers()}). */
  public void post(Runnable task, int count) {
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
        } else if (System.nanoTime() - idleSince < (pool.running ? RUN_SPIN_NANOS : SPIN_NANOS)) {
          Thread.onSpinWait();
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
