package org.tfport.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import org.tfport.core.Tensor;
import org.tfport.runtime.Model;
import org.tfport.runtime.RandomInputs;
import org.tfport.runtime.Session;
import org.tfport.runtime.SessionOptions;
import org.tfport.runtime.Signature;

/**
 * What thread scaling costs, in figures a loaded machine does not distort much: per run, the CPU
 * time of the calling thread and of the session's helper threads (ThreadMXBean), at 1 thread and at
 * N, and the handoffs to helpers with how many had to wake a parked one. Wall-clock medians are
 * printed too, but only an idle machine makes them meaningful. Uses only the runtime's public API
 * (the handoff counts by reflection, when the runtime has them), so the same class times an older
 * build: put that build's jar on the class path instead of the worktree's classes.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp CP org.tfport.bench.ScalingProbe MODEL [--threads 1,2] [--runs 30] [--warmup 30]
 * </pre>
 */
public final class ScalingProbe {
  private ScalingProbe() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: ScalingProbe MODEL [--threads 1,2] [--runs N] [--warmup W]");
      System.exit(2);
    }
    Path model = Path.of(args[0]);
    int[] threads = {1, 2};
    int runs = 30;
    int warmup = 30;
    for (int i = 1; i < args.length; i++) {
      switch (args[i]) {
        case "--threads" ->
            threads = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        default -> {
          System.err.println("unknown argument " + args[i]);
          System.exit(2);
        }
      }
    }
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    System.out.printf(Locale.ROOT, "%s, load average %s%n", model, Measure.loadAverage());
    try (Model m = Model.load(model)) {
      Signature sig = m.defaultSignature();
      Map<String, Tensor> feed = RandomInputs.of(sig, 0);
      for (int t : threads) {
        try (Session s = m.newSession(SessionOptions.defaults().withThreads(t))) {
          for (int i = 0; i < warmup; i++) {
            s.run(sig.key(), feed);
          }
          long[] handoffs0 = handoffs(s);
          long cpu0 = sessionCpu(mx);
          double[] wall = new double[runs];
          for (int i = 0; i < runs; i++) {
            long w = System.nanoTime();
            s.run(sig.key(), feed);
            wall[i] = (System.nanoTime() - w) / 1e6;
          }
          long cpu = sessionCpu(mx) - cpu0;
          long[] handoffs1 = handoffs(s);
          Arrays.sort(wall);
          System.out.printf(
              Locale.ROOT,
              "  %d thread%s: CPU %.2f ms/run (caller + helpers), wall median %.2f ms, min %.2f ms,"
                  + " handoffs %s/run, wakeups %s/run%n",
              t,
              t == 1 ? " " : "s",
              cpu / 1e6 / runs,
              wall[runs / 2],
              wall[0],
              handoffs0 == null ? "?" : fmt((handoffs1[0] - handoffs0[0]) / (double) runs),
              handoffs0 == null ? "?" : fmt((handoffs1[1] - handoffs0[1]) / (double) runs));
        }
      }
    }
    System.out.printf(Locale.ROOT, "load average after %s%n", Measure.loadAverage());
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  /**
   * CPU nanoseconds of this thread plus every pool helper (the session's "tfport-session-N", or an
   * older build's ForkJoinPool workers).
   */
  private static long sessionCpu(ThreadMXBean mx) {
    long sum = mx.getCurrentThreadCpuTime();
    for (ThreadInfo info : mx.getThreadInfo(mx.getAllThreadIds())) {
      if (info != null
          && (info.getThreadName().startsWith("tfport-session")
              || info.getThreadName().startsWith("ForkJoinPool-"))) {
        long c = mx.getThreadCpuTime(info.getThreadId());
        sum += Math.max(0, c);
      }
    }
    return sum;
  }

  /** {posts, wakeups} from {@code Session.handoffs()}, or null in a build without it. */
  private static long[] handoffs(Session s) {
    try {
      Method m = Session.class.getMethod("handoffs");
      Object h = m.invoke(s);
      long posts = (long) h.getClass().getMethod("posts").invoke(h);
      long wakeups = (long) h.getClass().getMethod("wakeups").invoke(h);
      return new long[] {posts, wakeups};
    } catch (ReflectiveOperationException e) {
      return null;
    }
  }
}
