package org.tfport.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.ToLongFunction;
import java.util.stream.Stream;
import org.tfport.bench.ChildJvm.Child;
import org.tfport.bench.ConvertBench.BenchException;

/**
 * What the conversion benchmarks share: medians and throughputs, the report's rows, the machine's
 * load, the page cache warmed or flushed before a timed step, copy timings as a floor, and files.
 */
final class Measure {
  private Measure() {}

  static String failure(Child c) {
    return "FAILED exit "
        + c.exit()
        + (c.stderr().contains("out of memory") ? " (out of memory)" : "")
        + ": "
        + c.stderr().strip();
  }

  static void row(String k, String v) {
    System.out.printf("  %-30s %s%n", k, v);
  }

  static String mbps(long bytes, long nanos) {
    return String.format(Locale.ROOT, "%.0f MiB/s", bytes / 1048576.0 / (nanos / 1e9));
  }

  static long median(List<Long> sorted) {
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "n/a";
    }
  }

  /** Reads the file once so both cp and the converter start from the page cache. */
  static void warm(Path file) {
    try (FileChannel ch = FileChannel.open(file)) {
      ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
      while (ch.read(b) >= 0) {
        b.clear();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Flushes dirty pages left by the previous step, so it does not slow the next; not timed. */
  static void sync() {
    try {
      new ProcessBuilder("sync").inheritIO().start().waitFor();
    } catch (IOException e) {
      // No sync command: fine, only noisier.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Prints the commands each run times: the copy, the conversion, the in-JVM heap run and the
   * floor.
   */
  static void printSteps(
      String cp, Path timeBin, String java, Path cliJar, List<String> convertArgs, Path small) {
    System.out.println();
    System.out.println("per run, page cache warm, dirty pages synced before each step:");
    System.out.printf("  cp       %s%n", cp);
    System.out.printf(
        "  convert  %s%s -jar %s %s%n",
        timeBin == null ? "" : timeBin + " -f %M ", java, cliJar, String.join(" ", convertArgs));
    System.out.printf(
        "  heap     %s -cp tfport.jar:tfport-bench.jar %s convert ... (same conversion)%n",
        java, PeakHeapMain.class.getName());
    System.out.printf("  floor    the convert command on %s%n", small.getFileName());
    System.out.println();
  }

  /** A run's verdict with those of its heap and floor runs appended where they are not ok. */
  static String withSideVerdicts(String verdict, String heapVerdict, String floorVerdict) {
    return verdict
        + (heapVerdict.startsWith("ok") ? "" : "; heap run: " + heapVerdict)
        + (floorVerdict.startsWith("ok") ? "" : "; floor run: " + floorVerdict);
  }

  static long timeCp(Path src, Path dst) {
    return timeCopy(src, dst, Measure::size);
  }

  /**
   * Times {@code cp [FLAGS] SRC DST} and checks the copy holds as many bytes as the source,
   * measured with {@code sizeOf}.
   */
  static long timeCopy(Path src, Path dst, ToLongFunction<Path> sizeOf, String... flags) {
    List<String> cmd = new ArrayList<>(List.of("cp"));
    cmd.addAll(List.of(flags));
    String what = String.join(" ", cmd);
    cmd.add(src.toString());
    cmd.add(dst.toString());
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
      long t0 = System.nanoTime();
      Process p = pb.start();
      int code = p.waitFor();
      long nanos = System.nanoTime() - t0;
      if (code != 0) {
        throw new BenchException(what + " failed with exit code " + code);
      }
      if (sizeOf.applyAsLong(dst) != sizeOf.applyAsLong(src)) {
        throw new BenchException(
            what + " wrote " + sizeOf.applyAsLong(dst) + " bytes of " + sizeOf.applyAsLong(src));
      }
      return nanos;
    } catch (IOException e) {
      throw new BenchException("cannot run cp: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted");
    }
  }

  static long size(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void deleteTree(Path p) {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(q);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The rows both conversion benchmarks print about time: the copy floor, the conversion's wall
   * time and its start-up floor, each as median and minimum over sorted runs.
   */
  static void timingRows(
      String cpLabel, long bytes, List<Long> cps, List<Long> walls, long floorMedian) {
    long cpMedian = median(cps);
    long wallMedian = median(walls);
    row(
        cpLabel + ", median / min",
        Fmt.secs(cpMedian)
            + " s / "
            + Fmt.secs(cps.get(0))
            + " s  ("
            + mbps(bytes, cpMedian)
            + ")");
    row(
        "convert wall, median / min",
        Fmt.secs(wallMedian)
            + " s / "
            + Fmt.secs(walls.get(0))
            + " s  ("
            + mbps(bytes, wallMedian)
            + "; java -jar tfport.jar, JVM start-up included)");
    row(
        "  start-up floor (1 MB model)",
        Fmt.secs(floorMedian)
            + " s median; the data itself costs "
            + String.format(Locale.ROOT, "%.3f", (wallMedian - floorMedian) / 1e9)
            + " s ("
            + Fmt.ratio((double) (wallMedian - floorMedian) / cpMedian)
            + " of cp)");
  }
}
