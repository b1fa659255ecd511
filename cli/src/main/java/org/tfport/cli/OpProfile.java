package org.tfport.cli;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.tfport.core.Json;
import org.tfport.runtime.StepTimer;
import tools.jackson.databind.node.ArrayNode;

/**
 * Per-node times summed over the timed runs of {@code benchmark --enable_op_profiling}, summarized
 * as TFLite's {@code benchmark_model} does: by op type, then the slowest nodes.
 */
final class OpProfile implements StepTimer {
  /** Nodes in the order they first ran. */
  private final Map<String, Node> nodes = new LinkedHashMap<>();

  private int runs;

  private static final class Node {
    final String name;
    final String op;
    long nanos;

    Node(String name, String op) {
      this.name = name;
      this.op = op;
    }
  }

  /** One op type's share; {@code avgMs} is per run, over all its nodes. */
  record OpType(String op, int count, double avgMs, double percent) {}

  /** One node's share; {@code avgMs} is per run. */
  record NodeTime(String node, String op, double avgMs, double percent) {}

  @Override
  public void ran(String node, String op, long nanos) {
    nodes.computeIfAbsent(node, n -> new Node(n, op)).nanos += nanos;
  }

  /** Counts one timed run; the averages divide by this count. */
  void runEnded() {
    runs++;
  }

  private double totalNanos() {
    return nodes.values().stream().mapToLong(n -> n.nanos).sum();
  }

  private double percent(long nanos) {
    double total = totalNanos();
    return total == 0 ? 0 : 100.0 * nanos / total;
  }

  private double avgMs(long nanos) {
    return runs == 0 ? 0 : nanos / 1e6 / runs;
  }

  /** Op types, the most time first (ties by name, so the order is stable). */
  List<OpType> byOpType() {
    Map<String, long[]> byOp = new LinkedHashMap<>(); // op -> {nodes, nanos}
    for (Node n : nodes.values()) {
      long[] acc = byOp.computeIfAbsent(n.op, k -> new long[2]);
      acc[0]++;
      acc[1] += n.nanos;
    }
    List<OpType> out = new ArrayList<>();
    byOp.forEach(
        (op, acc) -> out.add(new OpType(op, (int) acc[0], avgMs(acc[1]), percent(acc[1]))));
    out.sort(Comparator.comparingDouble(OpType::avgMs).reversed().thenComparing(OpType::op));
    return out;
  }

  /** The {@code limit} slowest nodes, the slowest first. */
  List<NodeTime> slowestNodes(int limit) {
    return nodes.values().stream()
        .map(n -> new NodeTime(n.name, n.op, avgMs(n.nanos), percent(n.nanos)))
        .sorted(Comparator.comparingDouble(NodeTime::avgMs).reversed())
        .limit(limit)
        .toList();
  }

  ArrayNode json() {
    ArrayNode a = Json.MAPPER.createArrayNode();
    for (OpType t : byOpType()) {
      a.addObject()
          .put("op", t.op())
          .put("count", t.count())
          .put("avg_ms", Math.round(t.avgMs() * 1000) / 1000.0)
          .put("percent", Math.round(t.percent() * 100) / 100.0);
    }
    return a;
  }

  String text() {
    StringBuilder s = new StringBuilder();
    s.append(
        String.format(
            Locale.ROOT,
            "Summary by op type (%d run%s, %.3f ms per run over %d nodes):%n",
            runs,
            runs == 1 ? "" : "s",
            avgMs((long) totalNanos()),
            nodes.size()));
    List<OpType> types = byOpType();
    int w = Math.max(7, types.stream().mapToInt(t -> t.op().length()).max().orElse(0));
    s.append(
        String.format(
            Locale.ROOT,
            "  %-" + w + "s %6s %10s %8s %8s%n",
            "op type",
            "count",
            "avg ms",
            "%",
            "cdf %"));
    double cumulative = 0;
    for (OpType t : types) {
      cumulative += t.percent();
      s.append(
          String.format(
              Locale.ROOT,
              "  %-" + w + "s %6d %10.3f %7.2f%% %7.2f%%%n",
              t.op(),
              t.count(),
              t.avgMs(),
              t.percent(),
              cumulative));
    }
    List<NodeTime> top = slowestNodes(10);
    s.append(String.format(Locale.ROOT, "Top %d nodes by time:%n", top.size()));
    int nw = Math.max(4, top.stream().mapToInt(n -> n.node().length()).max().orElse(0));
    int ow = Math.max(2, top.stream().mapToInt(n -> n.op().length()).max().orElse(0));
    s.append(
        String.format(
            Locale.ROOT, "  %-" + nw + "s %-" + ow + "s %10s %8s%n", "node", "op", "avg ms", "%"));
    for (NodeTime n : top) {
      s.append(
          String.format(
              Locale.ROOT,
              "  %-" + nw + "s %-" + ow + "s %10.3f %7.2f%%%n",
              n.node(),
              n.op(),
              n.avgMs(),
              n.percent()));
    }
    return s.toString().stripTrailing();
  }
}
