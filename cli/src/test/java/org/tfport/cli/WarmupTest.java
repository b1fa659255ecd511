package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The warm-up's stopping rule on a fake clock and a fake JIT: each run advances the clock by the
 * time the scenario gives it, and the JIT's compilation total is a function of the clock.
 */
class WarmupTest {
  private static final long MS = 1_000_000L;

  /**
   * A model whose run at clock {@code t} (ns) takes {@code runNanos(t)}; the JIT's compilation
   * total and its threads' CPU time are functions of the clock.
   */
  private static final class Fake {
    long now = 42 * MS; // not 0: the rule must work from any origin
    final long origin = now;
    final LongUnaryOperator runNanos;
    final LongUnaryOperator compileMillis;
    final LongUnaryOperator jvmCpuNanos;

    Fake(LongUnaryOperator runNanos, LongUnaryOperator compileMillis) {
      this(runNanos, compileMillis, t -> 5);
    }

    Fake(
        LongUnaryOperator runNanos,
        LongUnaryOperator compileMillis,
        LongUnaryOperator jvmCpuNanos) {
      this.runNanos = runNanos;
      this.compileMillis = compileMillis;
      this.jvmCpuNanos = jvmCpuNanos;
    }

    Warmup.Outcome warm(int minRuns, double minSecs, double maxSecs) {
      return new Warmup(minRuns, minSecs, maxSecs)
          .run(
              new Warmup.Clocks(
                  () -> now,
                  () -> compileMillis.applyAsLong(now - origin),
                  () -> jvmCpuNanos.applyAsLong(now - origin)),
              () -> {
                long d = runNanos.applyAsLong(now - origin);
                now += d;
                return d / 1e6;
              });
    }
  }

  @Test
  void steadyFromTheStartStopsAtTheFirstBlockPastTheMinimums() {
    Fake f = new Fake(t -> 10 * MS, t -> 7);
    Warmup.Outcome o = f.warm(5, 0.5, 10);
    // Blocks of 20 runs (200 ms): the second is steady at 400 ms, before the 0.5 s minimum; the
    // third, at 600 ms, ends the warm-up.
    assertThat(o).isEqualTo(new Warmup.Outcome(60, 600, Warmup.Stop.SETTLED));
  }

  @Test
  void waitsForTheLastCompilationThenTwoQuietBlocks() {
    // Boxed Vector API code at 5 ms a run until C2's code arrives at 3 s, 1.2 ms after; the JIT
    // finishes a compilation of 10 ms every 50 ms (20% of the time) until then.
    Fake f =
        new Fake(
            t -> t < 3000 * MS ? 5 * MS : 1_200_000, t -> Math.min(t, 3000 * MS) / 50 / MS * 10);
    Warmup.Outcome o = f.warm(5, 0.5, 10);
    assertThat(o.stop()).isEqualTo(Warmup.Stop.SETTLED);
    // Blocks last an eighth of the warm-up so far past 1.6 s. Up to 2.89 s each saw 20% of its
    // time compiling; the one from 2.89 s to 3.255 s saw 30 ms (the last compilations, 8%),
    // quiet, and its median is the fast runs'; the next one, quiet and not faster, ends it near
    // 3.66 s.
    assertThat(o.ms()).isBetween(3650.0, 3670.0);
    assertThat(o.runs()).isEqualTo(600 + (int) Math.round((o.ms() - 3000) / 1.2));
  }

  @Test
  void aCompilationUnderWayIsNotQuiet() {
    // One long C2 compilation from 0.5 s to 4 s (on a loaded machine): the total moves only at
    // its end, but the compiler thread uses 20% of a core all along; with no compilation
    // finishing before, the times alone would end the warm-up at 0.6 s.
    Fake f =
        new Fake(
            t -> t < 4000 * MS ? 5 * MS : 2 * MS,
            t -> t < 4000 * MS ? 10 : 700,
            t -> Math.min(Math.max(0, t - 500 * MS), 3500 * MS) / 5);
    Warmup.Outcome o = f.warm(5, 0.5, 10);
    assertThat(o.stop()).isEqualTo(Warmup.Stop.SETTLED);
    // The block holding 4 s (from 3.665 s) was busy; two quiet ones of 516 and 580 ms follow.
    assertThat(o.ms()).isBetween(5200.0, 5250.0);
    // 4% of a core is housekeeping, not compiling.
    Fake g = new Fake(t -> 10 * MS, t -> 7, t -> t / 25);
    assertThat(g.warm(5, 0.5, 10)).isEqualTo(new Warmup.Outcome(60, 600, Warmup.Stop.SETTLED));
  }

  @Test
  void runsStillGettingFasterAreNotSteady() {
    // Where the JVM does not measure compilation time (the total stays put), the times decide:
    // runs 10% faster every 100 ms until 2 s, then constant.
    Fake f =
        new Fake(
            t -> (long) (10 * MS * Math.pow(0.9, Math.min(t, 2000 * MS) / (100.0 * MS))), t -> 3);
    Warmup.Outcome o = f.warm(1, 0, 10);
    assertThat(o.stop()).isEqualTo(Warmup.Stop.SETTLED);
    assertThat(o.ms()).isGreaterThan(2000.0).isLessThan(2700.0);
  }

  @Test
  void aJitThatNeverSettlesStopsAtTheMaximum() {
    // 30 ms of compilation every 150 ms: 20% of the time, a JIT at work.
    Fake f = new Fake(t -> 10 * MS, t -> t / (150 * MS) * 30);
    Warmup.Outcome o = f.warm(5, 0.5, 2);
    assertThat(o).isEqualTo(new Warmup.Outcome(200, 2000, Warmup.Stop.AT_MAXIMUM));
    // 10 ms every 150 ms (6.7%): stragglers, no longer the kernels; settled as soon as allowed.
    Fake g = new Fake(t -> 10 * MS, t -> t / (150 * MS) * 10);
    assertThat(g.warm(5, 0.5, 2)).isEqualTo(new Warmup.Outcome(60, 600, Warmup.Stop.SETTLED));
  }

  @Test
  void maximumZeroIsExactlyTheMinimums() {
    Fake f = new Fake(t -> 10 * MS, t -> t / MS);
    assertThat(f.warm(7, 0, 0)).isEqualTo(new Warmup.Outcome(7, 70, Warmup.Stop.AT_MINIMUMS));
    Fake g = new Fake(t -> 10 * MS, t -> t / MS);
    assertThat(g.warm(3, 0.25, 0)).isEqualTo(new Warmup.Outcome(25, 250, Warmup.Stop.AT_MINIMUMS));
    Fake none = new Fake(t -> 10 * MS, t -> 0);
    assertThat(none.warm(0, 0, 0)).isEqualTo(new Warmup.Outcome(0, 0, Warmup.Stop.AT_MINIMUMS));
  }

  @Test
  void theMinimumsWinOverTheMaximum() {
    // 1000 runs asked for, 10 s of them, while the JIT never settles and the maximum is 1 s.
    Fake f = new Fake(t -> 10 * MS, t -> t / (100 * MS) * 30);
    Warmup.Outcome o = f.warm(1000, 0, 1);
    assertThat(o.runs()).isEqualTo(1000);
    assertThat(o.ms()).isEqualTo(10_000);
    // Steady from the start but 3 s asked for: not a run less.
    Fake g = new Fake(t -> 10 * MS, t -> 0);
    assertThat(g.warm(0, 3, 1).runs()).isEqualTo(300);
  }
}
