package org.tfport.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
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
 * java --add-modules jdk.incubator.vector -cp CP org.tfport.bench.ScalingProbe MODEL [--threads 1,2] [--runs 30] [--warmup 30] [--ops]
 * </pre>
 *
 * <p>{@code --ops} adds, per node, the calling thread's CPU time (median over the runs) at each
 * thread count and the handoffs the node made at the last one: a node with none ran on the caller
 * only, and the sum of those is the run's serial part.
 */
public final class ScalingProbe {
  private ScalingProbe() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println(
          "usage: ScalingProbe MODEL [--threads 1,2] [--runs N] [--warmup W] [--ops]");
      System.exit(2);
    }
    Path model = Path.of(args[0]);
    int[] threads = {1, 2};
    int runs = 30;
    int warmup = 30;
    boolean ops = false;
    for (int i = 1; i < args.length; i++) {
      switch (args[i]) {
        case "--threads" ->
            threads = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--ops" -> ops = true;
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
      // Per thread count (the last session of that count): per node, CPU and handoffs.
      TreeMap<Integer, NodeCosts> perNode = new TreeMap<>();
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
          if (ops) {
            perNode.put(t, NodeCosts.measure(s, sig.key(), feed, runs, mx));
          }
        }
      }
      if (ops) {
        NodeCosts.print(perNode);
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

  /** Per node of a timed run: the caller's CPU nanoseconds (median) and the handoffs it made. */
  private record NodeCosts(List<String> nodes, List<String> ops, long[] cpu, long[] handoffs) {
    static NodeCosts measure(
        Session s, String key, Map<String, Tensor> feed, int runs, ThreadMXBean mx) {
      List<String> nodes = new ArrayList<>();
      List<String> ops = new ArrayList<>();
      List<long[]> cpu = new ArrayList<>();
      long[] handoffs = new long[0];
      for (int r = 0; r < runs; r++) {
        int run = r;
        int[] step = {0};
        long[] last = {mx.getCurrentThreadCpuTime(), posts(s)};
        List<Long> made = new ArrayList<>();
        s.runTimed(
            key,
            feed,
            (node, op, nanos) -> {
              long c = mx.getCurrentThreadCpuTime();
              long p = posts(s);
              int i = step[0]++;
              if (run == 0) {
                nodes.add(node);
                ops.add(op);
                cpu.add(new long[runs]);
              }
              cpu.get(i)[run] = c - last[0];
              made.add(p - last[1]);
              last[0] = c;
              last[1] = p;
            });
        handoffs = made.stream().mapToLong(Long::longValue).toArray();
      }
      long[] median = new long[nodes.size()];
      for (int i = 0; i < median.length; i++) {
        long[] v = cpu.get(i);
        Arrays.sort(v);
        median[i] = v[runs / 2];
      }
      return new NodeCosts(nodes, ops, median, handoffs);
    }

    private static long posts(Session s) {
      long[] h = ScalingProbe.handoffs(s);
      return h == null ? 0 : h[0];
    }

    static void print(TreeMap<Integer, NodeCosts> perNode) {
      if (perNode.isEmpty()) {
        return;
      }
      Integer most = perNode.lastKey();
      NodeCosts ref = perNode.get(most);
      StringBuilder head =
          new StringBuilder(String.format(Locale.ROOT, "  %-44s %-26s", "node", "op"));
      for (int t : perNode.keySet()) {
        head.append(String.format(Locale.ROOT, " %9s", "cpu@" + t + " us"));
      }
      System.out.println(head.append(String.format(Locale.ROOT, " %8s", "handoffs")));
      Map<Integer, long[]> serial = new TreeMap<>();
      for (int i = 0; i < ref.nodes().size(); i++) {
        StringBuilder line =
            new StringBuilder(
                String.format(
                    Locale.ROOT, "  %-44.44s %-26.26s", ref.nodes().get(i), ref.ops().get(i)));
        for (Map.Entry<Integer, NodeCosts> e : perNode.entrySet()) {
          long c = e.getValue().nodes().size() == ref.nodes().size() ? e.getValue().cpu()[i] : 0;
          line.append(String.format(Locale.ROOT, " %9.1f", c / 1e3));
          long[] sums = serial.computeIfAbsent(e.getKey(), k -> new long[2]);
          sums[ref.handoffs()[i] == 0 ? 0 : 1] += c;
        }
        System.out.println(line.append(String.format(Locale.ROOT, " %8d", ref.handoffs()[i])));
      }
      serial.forEach(
          (t, sums) ->
              System.out.printf(
                  Locale.ROOT,
                  "  %d thread%s: caller CPU %.0f us in nodes without handoffs at %d threads,"
                      + " %.0f us in the others%n",
                  t,
                  t == 1 ? "" : "s",
                  sums[0] / 1e3,
                  most,
                  sums[1] / 1e3));
    }
  }
}
