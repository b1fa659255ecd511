package org.tfport.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a child process (a fresh JVM: the real CLI, or {@link PeakHeapMain}) to completion and
 * reports what the benchmarks measure of it: wall time, peak RSS, the heap PeakHeapMain prints, its
 * output.
 */
final class ChildJvm {
  private ChildJvm() {}

  /**
   * What a child JVM reported; {@code metrics} holds {@code peak_rss_bytes} and PeakHeapMain's
   * keys.
   */
  record Child(int exit, long wallNanos, Map<String, Long> metrics, String stdout, String stderr) {
    long metric(String key) {
      return metrics.getOrDefault(key, -1L);
    }

    boolean ok() {
      return exit == 0;
    }
  }

  /** {@code java [AOT cache options] -jar tfport.jar ARGS}. */
  static List<String> cliCommand(String java, Path cliJar, List<String> args) {
    List<String> cmd = new ArrayList<>(List.of(java));
    // Use the AOT class cache the ./tfport launcher builds (JDK 25+), as a user running ./tfport
    // gets it.
    Path aot = cliJar.resolveSibling("tfport.aot");
    if (Runtime.version().feature() >= 25
        && Files.isRegularFile(aot)
        && !System.getProperty("tfport.bench.noAot", "false").equals("true")) {
      cmd.addAll(List.of("-XX:AOTCache=" + aot, "-Xlog:aot=off", "-Xlog:cds=off"));
    }
    cmd.addAll(List.of("-jar", cliJar.toString()));
    cmd.addAll(args);
    return cmd;
  }

  /** {@code /usr/bin/time} when executable, else null (then RSS is polled from {@code VmHWM}). */
  static Path timeBin() {
    Path t = Path.of("/usr/bin/time");
    return Files.isExecutable(t) ? t : null;
  }

  /**
   * Runs {@code command} to completion, timed from launch to exit; with {@code measureRss}, its
   * peak RSS through {@code timeBin} ({@code /usr/bin/time -f %M}) or, when null, polled {@code
   * VmHWM}. Parses a {@link PeakHeapMain} line on stdout into the metrics.
   */
  static Child launch(List<String> command, boolean measureRss, Path timeBin) {
    List<String> cmd = new ArrayList<>(command);
    try {
      Path stdout = Files.createTempFile("tfport-bench", ".out");
      Path stderr = Files.createTempFile("tfport-bench", ".err");
      Path rss = Files.createTempFile("tfport-bench", ".rss");
      boolean viaTime = measureRss && timeBin != null;
      if (viaTime) {
        cmd.addAll(0, List.of(timeBin.toString(), "-o", rss.toString(), "-f", "%M"));
      }
      try {
        ProcessBuilder pb =
            new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
        long t0 = System.nanoTime();
        Process p = pb.start();
        long hwm = -1;
        if (measureRss && !viaTime) {
          // No /usr/bin/time: poll the kernel's high-water mark while the child lives.
          Path status = Path.of("/proc", String.valueOf(p.pid()), "status");
          while (!p.waitFor(20, TimeUnit.MILLISECONDS)) {
            hwm = Math.max(hwm, statusField(status, "VmHWM"));
          }
        }
        if (!p.waitFor(30, TimeUnit.MINUTES)) {
          p.destroyForcibly();
          throw new ConvertBench.BenchException(
              "the conversion did not finish in 30 minutes: " + String.join(" ", cmd));
        }
        long wall = System.nanoTime() - t0;
        String o = Files.readString(stdout, StandardCharsets.UTF_8);
        String e = Files.readString(stderr, StandardCharsets.UTF_8);
        Map<String, Long> metrics = new HashMap<>();
        o.lines()
            .filter(l -> l.startsWith(PeakHeapMain.PREFIX))
            .findFirst()
            .ifPresent(
                l -> {
                  for (String kv : l.substring(PeakHeapMain.PREFIX.length()).trim().split("\\s+")) {
                    int eq = kv.indexOf('=');
                    metrics.put(kv.substring(0, eq), Long.parseLong(kv.substring(eq + 1)));
                  }
                });
        o =
            o.lines()
                .filter(l -> !l.startsWith(PeakHeapMain.PREFIX))
                .reduce("", (a, b) -> a + b + "\n");
        if (viaTime) {
          List<String> lines = Files.readAllLines(rss);
          try {
            // The last line: time puts "Command exited with non-zero status N" before it on
            // failure.
            metrics.put(
                "peak_rss_bytes", Long.parseLong(lines.get(lines.size() - 1).trim()) * 1024);
          } catch (RuntimeException ex) {
            // Leave it n/a.
          }
        } else if (measureRss) {
          metrics.put("peak_rss_bytes", hwm);
        }
        return new Child(p.exitValue(), wall, metrics, o, e);
      } finally {
        Files.deleteIfExists(stdout);
        Files.deleteIfExists(stderr);
        Files.deleteIfExists(rss);
      }
    } catch (IOException e) {
      throw new ConvertBench.BenchException(
          "cannot run " + String.join(" ", cmd) + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ConvertBench.BenchException("interrupted");
    }
  }

  /** A {@code kB} field of a {@code /proc/PID/status} file in bytes, or -1. */
  static long statusField(Path status, String field) {
    try {
      for (String line : Files.readAllLines(status, StandardCharsets.US_ASCII)) {
        if (line.startsWith(field + ":")) {
          String v = line.substring(field.length() + 1).trim();
          return Long.parseLong(v.substring(0, v.indexOf(' '))) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // Gone or not Linux.
    }
    return -1;
  }
}
