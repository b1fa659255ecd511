package org.tfport.server;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters for {@code GET /metrics}, written in Prometheus's text exposition format (version
 * 0.0.4): predict calls by model and status, a latency histogram per model, the sizes of the
 * batches the runtime ran, the models loaded and the JVM's memory.
 */
final class Metrics {
  private static final double[] LATENCY_BOUNDS = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
  };
  private static final double[] BATCH_BOUNDS = {1, 2, 4, 8, 16, 32, 64, 128, 256};

  /** A cumulative histogram with fixed bounds. */
  private static final class Histogram {
    final double[] bounds;
    final AtomicLongArray counts;
    final LongAdder count = new LongAdder();
    final AtomicLong sumBits = new AtomicLong(Double.doubleToLongBits(0));

    Histogram(double[] bounds) {
      this.bounds = bounds;
      this.counts = new AtomicLongArray(bounds.length);
    }

    void observe(double v) {
      for (int i = 0; i < bounds.length; i++) {
        if (v <= bounds[i]) {
          counts.incrementAndGet(i);
          break;
        }
      }
      count.increment();
      sumBits.getAndUpdate(b -> Double.doubleToLongBits(Double.longBitsToDouble(b) + v));
    }

    void write(StringBuilder sb, String name, String labels) {
      long cumulative = 0;
      String sep = labels.isEmpty() ? "" : labels + ",";
      for (int i = 0; i < bounds.length; i++) {
        cumulative += counts.get(i);
        sb.append(name)
            .append("_bucket{")
            .append(sep)
            .append("le=\"")
            .append(number(bounds[i]))
            .append("\"} ")
            .append(cumulative)
            .append('\n');
      }
      sb.append(name)
          .append("_bucket{")
          .append(sep)
          .append("le=\"+Inf\"} ")
          .append(count.sum())
          .append('\n');
      String l = labels.isEmpty() ? "" : "{" + labels + "}";
      sb.append(name)
          .append("_sum")
          .append(l)
          .append(' ')
          .append(number(Double.longBitsToDouble(sumBits.get())))
          .append('\n');
      sb.append(name).append("_count").append(l).append(' ').append(count.sum()).append('\n');
    }
  }

  private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
  private final Map<String, Histogram> latency = new ConcurrentHashMap<>();
  private final Histogram batches = new Histogram(BATCH_BOUNDS);
  private final LongAdder rejected = new LongAdder();

  /** One answered predict call; {@code model} is a checked model name or "" when there was none. */
  void request(String model, int status, long nanos) {
    requests
        .computeIfAbsent(label("model", model) + "," + label("code", status), k -> new LongAdder())
        .increment();
    latency
        .computeIfAbsent(label("model", model), k -> new Histogram(LATENCY_BOUNDS))
        .observe(nanos / 1e9);
  }

  void batch(int rows) {
    batches.observe(rows);
  }

  void overloaded() {
    rejected.increment();
  }

  String render(Servables servables) {
    StringBuilder sb = new StringBuilder(4096);
    sb.append(
        "# HELP tfport_predict_requests_total Predict calls answered, by model and HTTP status.\n");
    sb.append("# TYPE tfport_predict_requests_total counter\n");
    for (var e : new TreeMap<>(requests).entrySet()) {
      sb.append("tfport_predict_requests_total{")
          .append(e.getKey())
          .append("} ")
          .append(e.getValue().sum())
          .append('\n');
    }
    sb.append("# HELP tfport_predict_latency_seconds Time from request to answer, by model.\n");
    sb.append("# TYPE tfport_predict_latency_seconds histogram\n");
    for (var e : new TreeMap<>(latency).entrySet()) {
      e.getValue().write(sb, "tfport_predict_latency_seconds", e.getKey());
    }
    sb.append("# HELP tfport_batch_size Rows per model run (a batch merges concurrent calls).\n");
    sb.append("# TYPE tfport_batch_size histogram\n");
    batches.write(sb, "tfport_batch_size", "");
    sb.append(
        "# HELP tfport_predict_rejected_total Calls refused with 503 as the queue was full.\n");
    sb.append("# TYPE tfport_predict_rejected_total counter\n");
    sb.append("tfport_predict_rejected_total ").append(rejected.sum()).append('\n');
    sb.append("# HELP tfport_loaded_models Model versions loaded in the runtime.\n");
    sb.append("# TYPE tfport_loaded_models gauge\n");
    sb.append("tfport_loaded_models ").append(servables.loadedCount()).append('\n');
    sb.append("# HELP tfport_loaded_model_bytes Stored bytes of the loaded model versions.\n");
    sb.append("# TYPE tfport_loaded_model_bytes gauge\n");
    sb.append("tfport_loaded_model_bytes ").append(servables.loadedBytes()).append('\n');
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    MemoryUsage nonHeap = ManagementFactory.getMemoryMXBean().getNonHeapMemoryUsage();
    sb.append("# HELP tfport_jvm_memory_used_bytes JVM memory in use.\n");
    sb.append("# TYPE tfport_jvm_memory_used_bytes gauge\n");
    sb.append("tfport_jvm_memory_used_bytes{area=\"heap\"} ").append(heap.getUsed()).append('\n');
    sb.append("tfport_jvm_memory_used_bytes{area=\"nonheap\"} ")
        .append(nonHeap.getUsed())
        .append('\n');
    sb.append("# HELP tfport_jvm_memory_max_bytes The most heap the JVM may use.\n");
    sb.append("# TYPE tfport_jvm_memory_max_bytes gauge\n");
    sb.append("tfport_jvm_memory_max_bytes{area=\"heap\"} ")
        .append(Runtime.getRuntime().maxMemory())
        .append('\n');
    return sb.toString();
  }

  private static String label(String name, Object value) {
    String v = value.toString().replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    return name + "=\"" + v + "\"";
  }

  private static String number(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
  }
}
