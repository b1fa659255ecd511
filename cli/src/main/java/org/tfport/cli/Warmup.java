package org.tfport.cli;

import com.sun.management.OperatingSystemMXBean;
import com.sun.management.ThreadMXBean;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;

/**
 * The warm-up of {@code tfport benchmark}: at least {@code minRuns} runs and {@code minSecs}
 * seconds, as TFLite's {@code benchmark_model} does, then on until the JIT has settled, for at most
 * {@code maxSecs} seconds in all. A model's kernels run in the interpreter, then in C1 code, and
 * reach their C2 code only after several seconds (the Vector API ones run boxed until then, 4x
 * slower): timed earlier, the median measures the JIT's progress, not the model.
 *
 * <p>Runs are judged in blocks of at least {@link #BLOCK_RUNS} runs and {@link #BLOCK_NANOS}, and
 * at least 1/{@link #BLOCK_SHARE} of the warm-up so far (a JIT that was still busy after 5 s is
 * given longer to prove it is done than one quiet after 1 s): the JIT has settled when two blocks
 * in a row were quiet and the later block's median is not more than {@link #FALLING} below the
 * earlier one's (times have stopped falling). A block is quiet when the compilations that finished
 * in it took at most {@link #COMPILING} of its wall time (on a loaded 2-core machine the JIT still
 * finishes small methods, accessors and hash maps, 10 s into a MobileNet's runs, 2-10% of the time,
 * the JVM's figure being the compilations' wall time; they do not change its speed) and the JVM's
 * own threads (the compilers; the collector's pauses are left out) used at most {@link #BUSY} of
 * its wall time: a long C2 compilation finishes only at its end, and on a loaded machine the
 * compiler thread may take seconds of wall time for it, but it uses CPU all along.
 *
 * @param minRuns the warm-up runs asked for ({@code --warmup_runs})
 * @param minSecs the warm-up time asked for ({@code --warmup_min_secs})
 * @param maxSecs the longest warm-up waiting for the JIT to settle ({@code --warmup_max_secs}); the
 *     minimums win over it, and 0 turns the wait off
 */
record Warmup(int minRuns, double minSecs, double maxSecs) {
  static final int BLOCK_RUNS = 5;
  static final long BLOCK_NANOS = 200_000_000L;
  static final int BLOCK_SHARE = 8;

  /** How much faster a block may be than the one before and still count as steady. */
  static final double FALLING = 0.03;

  /** The share of a block's wall time the compilations finished in a quiet block may take. */
  static final double COMPILING = 0.10;

  /** The share of a block's wall time the JVM's own threads may use in a quiet block. */
  static final double BUSY = 0.05;

  /**
   * What a warm-up did.
   *
   * @param runs the runs done
   * @param ms their wall time
   * @param stop why it stopped
   */
  record Outcome(int runs, double ms, Stop stop) {
    boolean steady() {
      return stop == Stop.SETTLED;
    }
  }

  enum Stop {
    /** The JIT had settled. */
    SETTLED,
    /** Still unsettled at {@code maxSecs}. */
    AT_MAXIMUM,
    /** At the minimums, {@code maxSecs} being 0 (or below them): the JIT was not watched. */
    AT_MINIMUMS
  }

  /**
   * The process's sources of time; {@link #system()} in the command, fakes in tests.
   *
   * @param nanoTime the wall clock
   * @param compileMillis the JIT's total compilation time
   * @param jvmCpuNanos the CPU time of the threads the JVM runs for itself, but for the collector
   *     (the compilers, mostly): the process's minus that of the threads Java sees and the
   *     collections' time on every core (a parallel collector's pause keeps them all busy). A small
   *     model allocating in a tight loop keeps the collector busy for good; that is no sign of a
   *     JIT at work.
   */
  record Clocks(LongSupplier nanoTime, LongSupplier compileMillis, LongSupplier jvmCpuNanos) {
    /**
     * The running JVM's clocks; a figure the JVM does not measure stays constant (and then only the
     * others are judged).
     */
    static Clocks system() {
      var jit = ManagementFactory.getCompilationMXBean();
      LongSupplier compile =
          jit != null && jit.isCompilationTimeMonitoringSupported()
              ? jit::getTotalCompilationTime
              : () -> 0;
      LongSupplier jvmCpu = () -> 0;
      if (ManagementFactory.getOperatingSystemMXBean() instanceof OperatingSystemMXBean os
          && ManagementFactory.getThreadMXBean() instanceof ThreadMXBean threads
          && threads.isThreadCpuTimeSupported()
          && threads.isThreadCpuTimeEnabled()
          && os.getProcessCpuTime() >= 0) {
        int cores = Runtime.getRuntime().availableProcessors();
        jvmCpu =
            () -> {
              long process = os.getProcessCpuTime();
              long java = 0;
              for (long t : threads.getThreadCpuTime(threads.getAllThreadIds())) {
                java += Math.max(0, t); // -1: the thread has ended
              }
              long gc = 0;
              for (var c : ManagementFactory.getGarbageCollectorMXBeans()) {
                gc += Math.max(0, c.getCollectionTime());
              }
              return process - java - gc * 1_000_000 * cores;
            };
      }
      return new Clocks(System::nanoTime, compile, jvmCpu);
    }
  }

  /** Warms up with {@code run}, which does one run and returns its time in milliseconds. */
  Outcome run(Clocks clocks, DoubleSupplier run) {
    long start = clocks.nanoTime().getAsLong();
    long minNanos = (long) (minSecs * 1e9);
    long maxNanos = (long) (maxSecs * 1e9);
    double[] block = new double[16];
    int inBlock = 0;
    long blockStart = start;
    long blockCompile = clocks.compileMillis().getAsLong();
    long blockJvmCpu = clocks.jvmCpuNanos().getAsLong();
    double previousMedian = Double.NaN; // of the last block without compilation, else NaN
    int runs = 0;
    while (true) {
      long now = clocks.nanoTime().getAsLong();
      long elapsed = now - start;
      boolean minimumsMet = runs >= minRuns && elapsed >= minNanos;
      if (minimumsMet && elapsed >= maxNanos) {
        Stop stop = maxNanos > 0 && elapsed > minNanos ? Stop.AT_MAXIMUM : Stop.AT_MINIMUMS;
        return new Outcome(runs, elapsed / 1e6, stop);
      }
      if (inBlock >= BLOCK_RUNS
          && now - blockStart >= Math.max(BLOCK_NANOS, (blockStart - start) / BLOCK_SHARE)) {
        long compile = clocks.compileMillis().getAsLong();
        long jvmCpu = clocks.jvmCpuNanos().getAsLong();
        double median = median(block, inBlock);
        long blockNanos = now - blockStart;
        boolean quiet =
            (compile - blockCompile) * 1e6 <= COMPILING * blockNanos
                && jvmCpu - blockJvmCpu <= BUSY * blockNanos;
        boolean steady = quiet && median >= previousMedian * (1 - FALLING);
        previousMedian = quiet ? median : Double.NaN;
        inBlock = 0;
        blockStart = now;
        blockCompile = compile;
        blockJvmCpu = jvmCpu;
        if (steady && minimumsMet) {
          return new Outcome(runs, elapsed / 1e6, Stop.SETTLED);
        }
      }
      if (inBlock == block.length) {
        block = Arrays.copyOf(block, 2 * block.length);
      }
      block[inBlock++] = run.getAsDouble();
      runs++;
    }
  }

  private static double median(double[] times, int n) {
    double[] s = Arrays.copyOf(times, n);
    Arrays.sort(s);
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
}
