package org.tfport.bench;

import static org.tfport.bench.ChildJvm.cliCommand;
import static org.tfport.bench.LayersModelCheck.verify;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;
import org.tfport.bench.ChildJvm.Child;

/**
 * The conversion benchmark. Writes a Keras 2 HDF5 model of about {@code MB} megabytes (and a 1 MB
 * one of the same shape, to measure the fixed start-up cost), then per run, page cache warm:
 *
 * <ol>
 *   <li>times {@code cp SRC DST};
 *   <li>times the real command line, {@code java -jar cli/target/tfport.jar convert
 *       --input_format=keras --output_format=tfjs_layers_model SRC OUT}, in a fresh JVM, with its
 *       peak RSS ({@code /usr/bin/time}, else {@code VmHWM} polled every 20 ms), and checks the
 *       output;
 *   <li>runs the same conversion once more through {@link PeakHeapMain} for the peak Java heap.
 * </ol>
 *
 * <p>Then it converts under {@code -Xmx} of 1.5x the model size and under {@code -Xmx64m}, and
 * prints a table against the targets: convert within 2x of cp, peak heap under 1.5x the model size.
 *
 * <pre>java -jar bench/target/tfport-bench.jar [MB] [--runs N] [--keep DIR]</pre>
 */
public final class ConvertBench {
  static final double TIME_TARGET = 2.0;
  static final double HEAP_TARGET = 1.5;
  static final String SMALL_HEAP = "64m";
  static final double FLOOR_MB = 1;

  private final long targetBytes;
  private final int runs;
  private final Path keep;
  private final Path cliJar;
  private final String classpath;
  private final String java;
  private final Path timeBin;

  private ConvertBench(
      long targetBytes, int runs, Path keep, Path cliJar, String classpath, String java) {
    this.targetBytes = targetBytes;
    this.runs = runs;
    this.keep = keep;
    this.cliJar = cliJar;
    this.classpath = classpath;
    this.java = java;
    this.timeBin = ChildJvm.timeBin();
  }

  public static void main(String... args) {
    exitWith(() -> run(args));
  }

  /**
   * Exits with the status {@code run} returns, or with 2 and the message when it throws a
   * BenchException.
   */
  static void exitWith(java.util.function.IntSupplier run) {
    try {
      System.exit(run.getAsInt());
    } catch (BenchException e) {
      System.err.println("tfport-bench: " + e.getMessage());
      System.exit(2);
    }
  }

  static final class BenchException extends RuntimeException {
    BenchException(String message) {
      super(message);
    }
  }

  static int run(String... args) {
    double mb = 220;
    int runs = 3;
    Path keep = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--runs") && i + 1 < args.length) {
        runs = parseInt(args[++i], "--runs");
      } else if (a.startsWith("--runs=")) {
        runs = parseInt(a.substring(7), "--runs");
      } else if (a.equals("--keep") && i + 1 < args.length) {
        keep = Path.of(args[++i]);
      } else if (a.startsWith("--keep=")) {
        keep = Path.of(a.substring(7));
      } else if (a.equals("--help") || a.equals("-h")) {
        System.out.println(
            "usage: ConvertBench [MB] [--runs N] [--keep DIR]   (default 220 MB, 3 runs;"
                + " --keep leaves the model and the last output in DIR)");
        return 0;
      } else if (!a.startsWith("-")) {
        try {
          mb = Double.parseDouble(a);
        } catch (NumberFormatException e) {
          throw new BenchException("MB must be a number, got '" + a + "'");
        }
      } else {
        throw new BenchException(
            "unknown argument '" + a + "'; usage: ConvertBench [MB] [--runs N] [--keep DIR]");
      }
    }
    if (runs < 1 || !(mb > 0)) {
      throw new BenchException("need MB > 0 and --runs >= 1");
    }
    Path self = selfLocation();
    Path root = repoRoot(self);
    Path cliJar = cliJar(root);
    // The real CLI jar first, so every tfport class comes from it; this jar adds only PeakHeapMain.
    String cp = cliJar + File.pathSeparator + self;
    String java = javaCommand();
    return new ConvertBench((long) (mb * 1024 * 1024), runs, keep, cliJar, cp, java).bench();
  }

  private static int parseInt(String s, String flag) {
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      throw new BenchException(flag + " takes a number, got '" + s + "'");
    }
  }

  /** The CLI jar under the repository root, which must have been built. */
  static Path cliJar(Path root) {
    Path cliJar = root.resolve("cli/target/tfport.jar");
    if (!Files.isRegularFile(cliJar)) {
      throw new BenchException(
          cliJar
              + " is missing; build it first: cd "
              + root
              + " && ./mvnw -B -q -DskipTests install");
    }
    return cliJar;
  }

  /** The java launcher running this JVM, for the child JVMs. */
  static String javaCommand() {
    return ProcessHandle.current()
        .info()
        .command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
  }

  /** This class's jar (or classes folder). */
  static Path selfLocation() {
    try {
      return Path.of(
          ConvertBench.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException | RuntimeException e) {
      throw new BenchException("cannot tell where the benchmark jar is (" + e + ")");
    }
  }

  /**
   * {@code -Dtfport.root}, else the folder holding bench/target/, else the nearest one up from
   * here.
   */
  static Path repoRoot(Path self) {
    String prop = System.getProperty("tfport.root");
    if (prop != null) {
      return Path.of(prop).toAbsolutePath();
    }
    List<Path> starts = new ArrayList<>();
    starts.add(self.toAbsolutePath());
    starts.add(Path.of("").toAbsolutePath());
    for (Path start : starts) {
      for (Path p = start; p != null; p = p.getParent()) {
        if (Files.isRegularFile(p.resolve("cli/pom.xml"))
            && Files.isDirectory(p.resolve("bench"))) {
          return p;
        }
      }
    }
    throw new BenchException(
        "cannot find the tfport checkout (no cli/pom.xml above "
            + self
            + " or the current folder); run from the checkout or pass -Dtfport.root=DIR");
  }

  /** One timed run: cp, the real CLI, the heap-instrumented conversion, the start-up floor. */
  record Run(long cpNanos, Child cli, Child heap, Child floor) {}

  int bench() {
    boolean temp = keep == null;
    Path work;
    try {
      work = temp ? Files.createTempDirectory("tfport-bench") : Files.createDirectories(keep);
    } catch (IOException e) {
      throw new BenchException("cannot create a working folder: " + e.getMessage());
    }
    try {
      return benchIn(work);
    } finally {
      if (temp) {
        Measure.deleteTree(work);
      }
    }
  }

  private List<String> convertArgs(Path in, Path out) {
    return List.of(
        "convert",
        "--input_format=keras",
        "--output_format=tfjs_layers_model",
        in.toString(),
        out.toString());
  }

  private int benchIn(Path work) {
    SyntheticModel model = SyntheticModel.ofWeightBytes(targetBytes);
    SyntheticModel small = SyntheticModel.ofWeightBytes((long) (FLOOR_MB * 1024 * 1024));
    Path h5 = work.resolve("model.h5");
    Path smallH5 = work.resolve("model-1mb.h5");
    Path copy = work.resolve("model-copy.h5");
    Path out = work.resolve("tfjs_model");
    Path scratch = work.resolve("tfjs_scratch");
    for (Path p : List.of(h5, smallH5, copy, out, scratch)) {
      Measure.deleteTree(p);
    }
    String fs;
    try {
      fs = Files.getFileStore(work).type();
    } catch (IOException e) {
      fs = "?";
    }
    String loadBefore = Measure.loadAverage();
    System.out.println("tfport conversion benchmark");
    System.out.printf(
        "  java      %s (%s), %d CPUs, load average %s%n",
        java,
        System.getProperty("java.runtime.version"),
        Runtime.getRuntime().availableProcessors(),
        loadBefore);
    System.out.printf("  cli       %s%n", cliJar);
    System.out.printf("  folder    %s (%s)%n", work, fs);
    System.out.printf("  model     %s%n", model.describe());

    long t0 = System.nanoTime();
    try {
      model.writeH5(h5);
      small.writeH5(smallH5);
    } catch (OutOfMemoryError e) {
      throw new BenchException(
          "out of memory writing the model (jhdf holds it all until close); give the"
              + " benchmark JVM more heap, e.g. java -Xmx"
              + (3 * targetBytes / (1L << 30) + 2)
              + "g -jar ...");
    }
    long writeNanos = System.nanoTime() - t0;
    System.gc();
    long modelBytes = Measure.size(h5);
    long weightBytes = model.weightBytes();
    System.out.printf(
        "  wrote     %s: %s bytes (%s; weights %s bytes) in %s s%n",
        h5,
        Fmt.bytes(modelBytes),
        Fmt.mib(modelBytes),
        Fmt.bytes(weightBytes),
        Fmt.secs(writeNanos));
    System.out.printf(
        "  floor     %s: %s bytes, same layers at width %d (start-up cost, not data)%n",
        smallH5, Fmt.bytes(Measure.size(smallH5)), small.hidden);
    Measure.printSteps(
        "cp " + h5 + " " + copy, timeBin, java, cliJar, convertArgs(h5, out), smallH5);

    // One untimed round first: the first copy after writing the model is often slow on a VM disk.
    Measure.warm(h5);
    Measure.sync();
    Measure.timeCp(h5, copy);
    Measure.deleteTree(copy);
    Measure.sync();
    cli(convertArgs(h5, scratch));
    Measure.deleteTree(scratch);
    Measure.sync();

    System.out.printf(
        "%-4s %8s %8s %7s %8s %8s | %8s %8s %8s %8s %8s | %s%n",
        "run",
        "cp s",
        "conv s",
        "ratio",
        "RSS MiB",
        "floor s",
        "in-JVM s",
        "heap MiB",
        "heapGC",
        "anon MiB",
        "heap/mdl",
        "output");
    List<Run> results = new ArrayList<>();
    boolean allVerified = true;
    for (int r = 1; r <= runs; r++) {
      Measure.warm(h5);
      Measure.sync();
      long cpNanos = Measure.timeCp(h5, copy);
      Measure.deleteTree(copy);
      Measure.sync();

      Child c = cli(convertArgs(h5, out));
      String verdict = c.ok() ? verify(out, model, r == 1) : Measure.failure(c);
      if (r == 1 && c.ok()) {
        System.out.println("     tfport: " + c.stdout().strip());
      }
      if (keep == null || r < runs) {
        Measure.deleteTree(out);
      }
      Measure.sync();

      Measure.warm(h5);
      Child heap = heapRun(List.of(), convertArgs(h5, scratch));
      String heapVerdict = heap.ok() ? verify(scratch, model, false) : Measure.failure(heap);
      Measure.deleteTree(scratch);
      Measure.sync();

      Child floor = cli(convertArgs(smallH5, scratch));
      String floorVerdict = floor.ok() ? verify(scratch, small, false) : Measure.failure(floor);
      Measure.deleteTree(scratch);
      Measure.sync();

      allVerified &=
          verdict.startsWith("ok") && heapVerdict.startsWith("ok") && floorVerdict.startsWith("ok");
      verdict = Measure.withSideVerdicts(verdict, heapVerdict, floorVerdict);
      results.add(new Run(cpNanos, c, heap, floor));
      System.out.printf(
          "%-4d %8s %8s %7s %8s %8s | %8s %8s %8s %8s %8s | %s%n",
          r,
          Fmt.secs(cpNanos),
          Fmt.secs(c.wallNanos()),
          Fmt.ratio((double) c.wallNanos() / cpNanos),
          Fmt.mibBare(c.metric("peak_rss_bytes")),
          Fmt.secs(floor.wallNanos()),
          Fmt.secs(heap.metric("run_nanos")),
          Fmt.mibBare(heap.metric("peak_heap_bytes")),
          Fmt.mibBare(heap.metric("peak_heap_gc_bytes")),
          Fmt.mibBare(heap.metric("peak_rss_anon_bytes")),
          Fmt.ratio((double) heap.metric("peak_heap_bytes") / modelBytes),
          verdict);
    }

    // Heap-limited runs: the 1.5x target as a hard limit, and a small fixed heap to show streaming.
    long limit = (long) (HEAP_TARGET * modelBytes);
    Map<String, String> limited = new LinkedHashMap<>();
    for (String xmx : List.of((limit >> 20) + "m", SMALL_HEAP)) {
      Measure.warm(h5);
      Measure.sync();
      Child c = heapRun(List.of("-Xmx" + xmx), convertArgs(h5, scratch));
      String verdict = c.ok() ? verify(scratch, model, false) : Measure.failure(c);
      boolean done = c.ok() && verdict.startsWith("ok");
      allVerified &= done;
      limited.put(
          xmx,
          (done ? "completed" : "did NOT complete")
              + " in "
              + Fmt.secs(c.wallNanos())
              + " s, peak heap "
              + Fmt.mib(c.metric("peak_heap_bytes"))
              + " (GC view "
              + Fmt.mib(c.metric("peak_heap_gc_bytes"))
              + "), "
              + verdict);
      Measure.deleteTree(scratch);
      Measure.sync();
    }

    List<Long> cp = sorted(results, Run::cpNanos);
    List<Long> wall = sorted(results, r -> r.cli().wallNanos());
    List<Long> inJvm = sorted(results, r -> r.heap().metric("run_nanos"));
    List<Long> floor = sorted(results, r -> r.floor().wallNanos());
    long cpMedian = Measure.median(cp);
    long wallMedian = Measure.median(wall);
    long floorMedian = Measure.median(floor);
    double timeRatio = (double) wallMedian / cpMedian;
    long peakRss = max(results, r -> r.cli().metric("peak_rss_bytes"));
    long peakAnon = max(results, r -> r.heap().metric("peak_rss_anon_bytes"));
    long peakHeap = max(results, r -> r.heap().metric("peak_heap_bytes"));
    long peakHeapGc = max(results, r -> r.heap().metric("peak_heap_gc_bytes"));
    long maxHeap = results.get(0).heap().metric("max_heap_bytes");
    double heapRatio = (double) peakHeap / modelBytes;

    System.out.println();
    System.out.println(
        "summary ("
            + runs
            + " run"
            + (runs == 1 ? "" : "s")
            + "; load average before "
            + loadBefore
            + ", after "
            + Measure.loadAverage()
            + ")");
    Measure.row(
        "model bytes",
        Fmt.bytes(modelBytes)
            + " ("
            + Fmt.mib(modelBytes)
            + "), weights "
            + Fmt.bytes(weightBytes));
    Measure.timingRows("cp", modelBytes, cp, wall, floorMedian);
    Measure.row(
        "  in Main.run (heap runs)",
        Fmt.secs(Measure.median(inJvm))
            + " s median; the rest of the wall time is JVM"
            + " start-up and exit");
    Measure.row(
        "convert / cp (medians)",
        Fmt.ratio(timeRatio)
            + " (min/min "
            + Fmt.ratio((double) wall.get(0) / cp.get(0))
            + ")   target <= "
            + Fmt.ratio(TIME_TARGET)
            + ": "
            + (timeRatio <= TIME_TARGET ? "MET" : "NOT MET"));
    Measure.row(
        "peak RSS (max of runs)",
        Fmt.mib(peakRss)
            + " ("
            + (timeBin != null ? "/usr/bin/time" : "VmHWM polled")
            + "; pages of the memory-mapped model count); anonymous "
            + Fmt.mib(peakAnon));
    Measure.row(
        "peak heap (max of runs)",
        Fmt.mib(peakHeap)
            + " (sum of heap pool peaks; "
            + Fmt.mib(peakHeapGc)
            + " at the fullest GC), default max heap "
            + Fmt.mib(maxHeap));
    Measure.row(
        "peak heap / model",
        Fmt.ratio(heapRatio)
            + "   target < "
            + Fmt.ratio(HEAP_TARGET)
            + ": "
            + (heapRatio < HEAP_TARGET ? "MET" : "NOT MET"));
    for (Map.Entry<String, String> e : limited.entrySet()) {
      Measure.row(
          "-Xmx" + e.getKey() + (e.getKey().equals(SMALL_HEAP) ? "" : " (1.5x model)"),
          e.getValue());
    }
    Measure.row(
        "output",
        allVerified
            ? "verified every run (model.json manifest, shard bytes = weight bytes; run 1"
                + " byte for byte)"
            : "FAILED, see above");
    if (keep != null) {
      Measure.row("kept", work.toString());
    }
    return allVerified ? 0 : 1;
  }

  private static List<Long> sorted(List<Run> runs, ToLongFunction<Run> f) {
    return runs.stream().map(r -> f.applyAsLong(r)).sorted().toList();
  }

  private static long max(List<Run> runs, ToLongFunction<Run> f) {
    return runs.stream().mapToLong(f).max().orElse(-1);
  }

  /** The real command line, {@code java -jar tfport.jar ARGS}, timed, with its peak RSS. */
  Child cli(List<String> args) {
    return launch(cliCommand(java, cliJar, args), true);
  }

  /** {@code PeakHeapMain ARGS}, which reports the heap, in a fresh JVM. */
  Child heapRun(List<String> jvmFlags, List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.addAll(jvmFlags);
    cmd.add("-cp");
    cmd.add(classpath);
    cmd.add(PeakHeapMain.class.getName());
    cmd.addAll(args);
    return launch(cmd, false);
  }

  private Child launch(List<String> command, boolean measureRss) {
    return ChildJvm.launch(command, measureRss, timeBin);
  }
}
