package org.tfport.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.tfport.core.Json;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.runtime.LoadOptions;
import org.tfport.runtime.Model;
import org.tfport.runtime.RandomInputs;
import org.tfport.runtime.Session;
import org.tfport.runtime.SessionOptions;
import org.tfport.runtime.Signature;
import org.tfport.runtime.kernel.KernelException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code tfport benchmark MODEL}: times a model in tfport's runtime the way TFLite's {@code
 * benchmark_model} does (same flag names): load, one first run, warm-up runs discarded, then timed
 * runs summarized as min / median / p90 / mean, with the peak heap and peak RSS of the process.
 */
@Command(
    name = "benchmark",
    sortOptions = false,
    usageHelpWidth = 110,
    description =
        "Time a model (SavedModel, frozen .pb, TF.js graph model.json, .tflite) in tfport's runtime:"
            + " load, first run, then --num_runs runs after --warmup_runs discarded ones.")
final class BenchmarkCommand {
  static final int DEFAULT_RUNS = 50;
  static final int DEFAULT_WARMUP = 5;
  static final double DEFAULT_WARMUP_SECS = 0.5;
  static final double DEFAULT_WARMUP_MAX_SECS = 10;

  @Parameters(paramLabel = "MODEL", arity = "0..1", description = "the model file or folder")
  String model;

  @Option(
      names = "--num_threads",
      paramLabel = "N",
      description = "threads one op may use (default: the available processors)")
  Integer numThreads;

  @Option(
      names = "--num_runs",
      paramLabel = "R",
      description = "timed runs (default " + DEFAULT_RUNS + ")")
  int numRuns = DEFAULT_RUNS;

  @Option(
      names = "--warmup_runs",
      paramLabel = "W",
      description =
          "runs after the first one whose times are discarded, at least (default "
              + DEFAULT_WARMUP
              + ")")
  int warmupRuns = DEFAULT_WARMUP;

  // As in TFLite's benchmark_model: a model of many small ops (an LSTM loop) is still being
  // compiled by the JIT after a handful of runs, and would be timed in the interpreter.
  @Option(
      names = "--warmup_min_secs",
      paramLabel = "S",
      description =
          "keep warming up until this many seconds have passed (default "
              + DEFAULT_WARMUP_SECS
              + ", as benchmark_model; then --warmup_max_secs applies)")
  double warmupMinSecs = DEFAULT_WARMUP_SECS;

  // The two minimums above are often too short for the JIT: the Vector API kernels of a
  // MobileNet reach C2 after about 2 s, and run boxed (4x slower) until then.
  @Option(
      names = "--warmup_max_secs",
      paramLabel = "S",
      description =
          "past the minimums, keep warming up until the JIT has settled (compiler idle, run"
              + " times no longer falling), for at most this many seconds (default "
              + DEFAULT_WARMUP_MAX_SECS
              + "; 0: stop at the minimums)")
  double warmupMaxSecs = DEFAULT_WARMUP_MAX_SECS;

  @Option(
      names = "--signature_name",
      paramLabel = "KEY",
      description = "the SavedModel signature to run (default: serving_default, or the only one)")
  String signatureName;

  @Option(
      names = {"--saved_model_tags", "--tags"},
      paramLabel = "TAGS",
      description = "the SavedModel MetaGraph's tags, comma-separated (default: serve)")
  String tags;

  @Option(
      names = "--output_node_names",
      paramLabel = "A,B",
      description = "the tensors to compute (frozen GraphDefs, TF.js graph models), as in predict")
  String outputNodeNames;

  @Option(
      names = "--input",
      paramLabel = "[NAME=]FILE.npy",
      arity = "1..*",
      description =
          "an input's values, as"
              + " in predict. Without --input, seeded random inputs: floats in [-1, 1), integers in [0, 10), unknown"
              + " dimensions 1")
  List<String> inputs = new ArrayList<>();

  @Option(
      names = "--seed",
      paramLabel = "N",
      description = "the seed of the random inputs (default 0)")
  long seed;

  @Option(names = "--json", description = "print the result as one JSON object")
  boolean json;

  /** Switches that may stand alone before the model ({@link BooleanFlags}). */
  static final Set<String> SWITCHES = Set.of("--enable_op_profiling");

  @Option(
      names = "--enable_op_profiling",
      arity = "0..1",
      fallbackValue = "true",
      paramLabel = "BOOL",
      description =
          "time each op over the timed runs and print a summary by op type and the slowest nodes"
              + " (JSON: op_profile)")
  String enableOpProfiling;

  @Option(
      description = "show this help and exit",
      names = {"--help", "-h"},
      usageHelp = true)
  boolean help;

  /**
   * What one benchmark measured; times in milliseconds.
   *
   * @param loadMs reading, rewriting and compiling the model, and making the session
   * @param firstRunMs the first run (first-touch allocation, JIT of the kernels)
   * @param warmup what the warm-up did
   * @param runsCpuMs the CPU time of the calling thread in each timed run (the whole run at one
   *     thread), empty where the JVM does not measure it: unlike the wall time it does not grow
   *     when other processes take the cores
   * @param runsJitMs the JIT's compilation time that finished during the timed runs (summed over
   *     its threads): more than 0 says some runs were timed before their code was final
   * @param peakHeapBytes the sum over the heap pools of their peak usage since the command started
   * @param peakRssBytes the process's peak resident set ({@code VmHWM}), -1 where /proc is not
   *     there
   */
  record Result(
      String model,
      int numThreads,
      double loadMs,
      double firstRunMs,
      Warmup.Outcome warmup,
      double[] runsMs,
      double[] runsCpuMs,
      long runsJitMs,
      long peakHeapBytes,
      long peakRssBytes,
      boolean vectorApi,
      OpProfile opProfile) {
    double min() {
      return sorted()[0];
    }

    double median() {
      return median(runsMs);
    }

    /** The median CPU time of the calling thread, -1 where it was not measured. */
    double medianCpu() {
      return runsCpuMs.length == 0 ? -1 : median(runsCpuMs);
    }

    private static double median(double[] times) {
      double[] s = times.clone();
      Arrays.sort(s);
      int n = s.length;
      return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /**
     * The nearest-rank 90th percentile: the smallest time at least 90% of the runs do not exceed.
     */
    double p90() {
      double[] s = sorted();
      return s[(int) Math.ceil(0.9 * s.length) - 1];
    }

    double mean() {
      return Arrays.stream(runsMs).average().orElseThrow();
    }

    private double[] sorted() {
      double[] s = runsMs.clone();
      Arrays.sort(s);
      return s;
    }
  }

  static int run(PrintWriter out, PrintWriter err, String... args) {
    BenchmarkCommand c = new BenchmarkCommand();
    CommandLine cl = CommandArgs.parse(c, "benchmark", BooleanFlags.normalize(args, SWITCHES));
    if (c.help) {
      cl.usage(out);
      return 0;
    }
    Result r = c.execute();
    out.println(c.json ? Json.MAPPER.writeValueAsString(json(r)) : text(r));
    out.flush();
    return 0;
  }

  Result execute() {
    if (model == null) {
      throw new UsageException("benchmark: give the model to time (tfport benchmark --help)");
    }
    int threads = numThreads == null ? Runtime.getRuntime().availableProcessors() : numThreads;
    if (threads < 1) {
      throw new UsageException("benchmark: --num_threads must be at least 1, got " + threads);
    }
    if (numRuns < 1) {
      throw new UsageException("benchmark: --num_runs must be at least 1, got " + numRuns);
    }
    if (warmupRuns < 0) {
      throw new UsageException("benchmark: --warmup_runs must be 0 or more, got " + warmupRuns);
    }
    OpProfile profile =
        enableOpProfiling != null && ResultReport.bool("--enable_op_profiling", enableOpProfiling)
            ? new OpProfile()
            : null;
    if (!(warmupMinSecs >= 0 && warmupMinSecs <= 3600)) {
      throw new UsageException(
          "benchmark: --warmup_min_secs must be between 0 and 3600, got " + warmupMinSecs);
    }
    if (!(warmupMaxSecs >= 0 && warmupMaxSecs <= 3600)) {
      throw new UsageException(
          "benchmark: --warmup_max_secs must be between 0 and 3600, got " + warmupMaxSecs);
    }
    List<MemoryPoolMXBean> heap =
        ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(p -> p.getType() == MemoryType.HEAP && p.isValid())
            .toList();
    heap.forEach(MemoryPoolMXBean::resetPeakUsage);
    LoadOptions lo = ModelArgument.options(signatureName, tags, outputNodeNames);

    long t0 = System.nanoTime();
    try (Model m = ModelArgument.load(model, lo);
        Session session = m.newSession(SessionOptions.defaults().withThreads(threads))) {
      Signature sig = signatureName != null ? m.signature(signatureName) : m.defaultSignature();
      double loadMs = millisSince(t0);
      Map<String, Tensor> feed =
          inputs.isEmpty()
              ? RandomInputs.of(sig, seed)
              : InputFiles.read("benchmark", model, sig, inputs, new LinkedHashMap<>());
      double first = timed(session, sig, feed);
      Warmup.Clocks clocks = Warmup.Clocks.system();
      Warmup.Outcome warm =
          new Warmup(warmupRuns, warmupMinSecs, warmupMaxSecs)
              .run(clocks, () -> timed(session, sig, feed));
      ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
      boolean cpuTimed = cpu.isCurrentThreadCpuTimeSupported() && cpu.isThreadCpuTimeEnabled();
      double[] runs = new double[numRuns];
      double[] cpuMs = new double[cpuTimed ? numRuns : 0];
      long jit0 = clocks.compileMillis().getAsLong();
      for (int i = 0; i < numRuns; i++) {
        long c = cpuTimed ? cpu.getCurrentThreadCpuTime() : 0;
        runs[i] =
            profile == null ? timed(session, sig, feed) : profiled(session, sig, feed, profile);
        if (cpuTimed) {
          cpuMs[i] = (cpu.getCurrentThreadCpuTime() - c) / 1e6;
        }
      }
      long jitMs = clocks.compileMillis().getAsLong() - jit0;
      long peakHeap = heap.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
      boolean vector = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
      return new Result(
          model, threads, loadMs, first, warm, runs, cpuMs, jitMs, peakHeap, peakRss(), vector,
          profile);
    }
  }

  private double timed(Session session, Signature sig, Map<String, Tensor> feed) {
    long t = System.nanoTime();
    try {
      session.run(sig.key(), feed);
    } catch (KernelException e) {
      throw new TfportException(model + ": " + e.getMessage());
    }
    return millisSince(t);
  }

  private double profiled(
      Session session, Signature sig, Map<String, Tensor> feed, OpProfile profile) {
    long t = System.nanoTime();
    try {
      session.runTimed(sig.key(), feed, profile);
    } catch (KernelException e) {
      throw new TfportException(model + ": " + e.getMessage());
    }
    double ms = millisSince(t);
    profile.runEnded();
    return ms;
  }

  private static double millisSince(long t0) {
    return (System.nanoTime() - t0) / 1e6;
  }

  /** {@code VmHWM} of /proc/self/status in bytes, or -1 where there is no such file (not Linux). */
  static long peakRss() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          String[] f = line.substring(6).trim().split("\\s+");
          return Long.parseLong(f[0]) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // No /proc: the figure is reported as unknown.
    }
    return -1;
  }

  static ObjectNode json(Result r) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("model", r.model());
    o.put("load_ms", round(r.loadMs()));
    o.put("first_run_ms", round(r.firstRunMs()));
    o.put("min_ms", round(r.min()));
    o.put("median_ms", round(r.median()));
    o.put("p90_ms", round(r.p90()));
    o.put("mean_ms", round(r.mean()));
    o.put("num_runs", r.runsMs().length);
    o.put("warmup_runs", r.warmup().runs());
    o.put("warmup_ms", round(r.warmup().ms()));
    o.put("warmup_steady", r.warmup().steady());
    o.put("median_cpu_ms", round(r.medianCpu()));
    o.put("jit_ms_during_runs", r.runsJitMs());
    o.put("num_threads", r.numThreads());
    o.put("peak_heap_bytes", r.peakHeapBytes());
    o.put("peak_rss_bytes", r.peakRssBytes());
    o.put("vector_api", r.vectorApi());
    if (r.opProfile() != null) {
      o.set("op_profile", r.opProfile().json());
    }
    return o;
  }

  /** Milliseconds to the microsecond: finer digits are noise. */
  private static double round(double ms) {
    return Math.round(ms * 1000) / 1000.0;
  }

  static String text(Result r) {
    String summary = summary(r);
    return r.opProfile() == null ? summary : summary + "\n" + r.opProfile().text();
  }

  private static String summary(Result r) {
    return String.format(
        Locale.ROOT,
        """
        %s: %d thread%s, %d warm-up + %d timed runs (Vector API %s)
          load %.1f ms, first run %.2f ms, warm-up %.0f ms (%s)
          min %.3f ms, median %.3f ms, p90 %.3f ms, mean %.3f ms%s
          peak heap %.1f MiB, peak RSS %s""",
        r.model(),
        r.numThreads(),
        r.numThreads() == 1 ? "" : "s",
        r.warmup().runs(),
        r.runsMs().length,
        r.vectorApi() ? "on" : "off (scalar kernels)",
        r.loadMs(),
        r.firstRunMs(),
        r.warmup().ms(),
        switch (r.warmup().stop()) {
          case SETTLED -> "JIT settled";
          case AT_MAXIMUM -> "JIT not settled at the maximum";
          case AT_MINIMUMS -> "JIT not watched";
        },
        r.min(),
        r.median(),
        r.p90(),
        r.mean(),
        r.medianCpu() < 0 ? "" : String.format(Locale.ROOT, ", median CPU %.3f ms", r.medianCpu()),
        r.peakHeapBytes() / 1048576.0,
        r.peakRssBytes() < 0
            ? "unknown"
            : String.format(Locale.ROOT, "%.1f MiB", r.peakRssBytes() / 1048576.0));
  }
}
