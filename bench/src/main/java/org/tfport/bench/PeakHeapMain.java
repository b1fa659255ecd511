package org.tfport.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;
import org.tfport.cli.Main;

/**
 * Runs {@code tfport} ({@link Main#run}) in this JVM exactly as the command line would, then prints
 * one line of measurements for {@link ConvertBench}:
 *
 * <pre>
 * tfport-bench: exit=0 run_nanos=... peak_heap_bytes=... peak_heap_gc_bytes=... peak_rss_bytes=...
 * </pre>
 *
 * <ul>
 *   <li>{@code peak_heap_bytes}: the sum over heap pools of {@link MemoryPoolMXBean#getPeakUsage()}
 *       (peaks reset at start); each pool's own peak, so an upper bound on the heap in use at any
 *       one moment.
 *   <li>{@code peak_heap_gc_bytes}: the largest total heap in use just before a collection (from GC
 *       notifications) or at the end; the heap peaks there, so this is the tighter figure.
 *   <li>{@code peak_rss_bytes}: {@code VmHWM} of {@code /proc/self/status}, the kernel's high-water
 *       mark of resident memory, file-mapped pages included.
 *   <li>{@code peak_rss_anon_bytes}: {@code RssAnon} sampled every 10 ms: resident memory that is
 *       not a mapped file (heap, metaspace, code, direct buffers, ...).
 * </ul>
 */
public final class PeakHeapMain {
  static final String PREFIX = "tfport-bench:";

  private PeakHeapMain() {}

  public static void main(String... args) {
    List<MemoryPoolMXBean> heap =
        ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(p -> p.getType() == MemoryType.HEAP && p.isValid())
            .toList();
    Set<String> heapNames =
        heap.stream().map(MemoryPoolMXBean::getName).collect(Collectors.toSet());
    heap.forEach(MemoryPoolMXBean::resetPeakUsage);
    AtomicLong gcPeak = new AtomicLong();
    AtomicLong gcCount = new AtomicLong();
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (gc instanceof NotificationEmitter emitter) {
        emitter.addNotificationListener(
            (n, hb) -> {
              if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(
                  n.getType())) {
                return;
              }
              var info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
              long before = 0;
              for (Map.Entry<String, MemoryUsage> e :
                  info.getGcInfo().getMemoryUsageBeforeGc().entrySet()) {
                if (heapNames.contains(e.getKey())) {
                  before += e.getValue().getUsed();
                }
              }
              gcPeak.accumulateAndGet(before, Math::max);
              gcCount.incrementAndGet();
            },
            null,
            null);
      }
    }
    RssSampler anon = RssSampler.start();

    PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
    PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
    long t0 = System.nanoTime();
    int code = Main.run(out, err, args);
    long runNanos = System.nanoTime() - t0;

    long now = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    long poolPeaks = heap.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
    long committedPeaks = heap.stream().mapToLong(p -> p.getPeakUsage().getCommitted()).sum();
    long anonPeak = anon.stop();
    out.printf(
        "%s exit=%d run_nanos=%d peak_heap_bytes=%d peak_heap_gc_bytes=%d heap_committed_peak_bytes=%d"
            + " gc_count=%d max_heap_bytes=%d peak_rss_bytes=%d peak_rss_anon_bytes=%d%n",
        PREFIX,
        code,
        runNanos,
        poolPeaks,
        Math.max(gcPeak.get(), now),
        committedPeaks,
        gcCount.get(),
        Runtime.getRuntime().maxMemory(),
        procStatus("VmHWM"),
        anonPeak);
    out.flush();
    err.flush();
    System.exit(code);
  }

  /**
   * A {@code kB} field of {@code /proc/self/status} in bytes, or -1 where there is no such file.
   */
  static long procStatus(String field) {
    try {
      for (String line :
          Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.US_ASCII)) {
        if (line.startsWith(field + ":")) {
          String v = line.substring(field.length() + 1).trim();
          return Long.parseLong(v.substring(0, v.indexOf(' '))) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // Not Linux: report n/a.
    }
    return -1;
  }

  /** Samples {@code RssAnon} on a daemon thread; the kernel keeps no high-water mark for it. */
  private static final class RssSampler implements Runnable {
    private final AtomicLong peak = new AtomicLong(-1);
    private volatile boolean running = true;
    private Thread thread;

    static RssSampler start() {
      RssSampler s = new RssSampler();
      if (procStatus("RssAnon") >= 0) {
        s.thread = new Thread(s, "rss-sampler");
        s.thread.setDaemon(true);
        s.thread.start();
      } else {
        s.running = false;
      }
      return s;
    }

    @Override
    public void run() {
      while (running) {
        peak.accumulateAndGet(procStatus("RssAnon"), Math::max);
        try {
          Thread.sleep(10);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    long stop() {
      if (thread == null) {
        return -1;
      }
      running = false;
      peak.accumulateAndGet(procStatus("RssAnon"), Math::max);
      return peak.get();
    }
  }
}
