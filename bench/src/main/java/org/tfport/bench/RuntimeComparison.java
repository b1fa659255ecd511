package org.tfport.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.tfport.cli.Main;
import org.tfport.core.Json;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.Repo;
import org.tfport.testkit.TfjsOracle;
import tools.jackson.databind.JsonNode;

/**
 * The same models timed in tfport ({@code tfport benchmark}), the real TFLite 2.18 interpreter with
 * its XNNPACK delegate ({@link TfliteTimer}; {@code --tflite_kernels builtin} for its builtin
 * kernels instead) and TensorFlow.js 4.22 on its WASM backend in Node ({@code
 * bench/node/tfjs_bench.js}), in one run, at 1 thread and at all cores. Every measurement is its
 * own process (the runtime alone in it, as a user would run it); the sides alternate within a round
 * and the order flips each round, and each side keeps the best of its medians over the rounds,
 * because other work on the machine only ever makes a run slower. Prints a table of medians and
 * ratios with the load average before and after. See bench/README.md.
 */
public final class RuntimeComparison {
  enum Side {
    TFPORT("tfport"),
    TFLITE("TFLite"),
    TFJS("TF.js");

    final String label;

    Side(String label) {
      this.label = label;
    }
  }

  /**
   * One row: a network in one format, timed in tfport and in the runtime that reads that format.
   *
   * @param file the model both sides load (a {@code .tflite} for TFLite, a {@code model.json} for
   *     TF.js)
   * @param other {@link Side#TFLITE} or {@link Side#TFJS}
   */
  record Row(String network, String format, Path file, Side other) {}

  /**
   * One side's best measurement over the rounds, or why there is none.
   *
   * @param xnnpack for TFLite with XNNPACK, the nodes the delegate replaced out of all ("30/31"),
   *     "none" when it took no node, "failed" when applying it failed; otherwise null
   */
  record Timing(
      double medianMs,
      double loadMs,
      double firstMs,
      long peakRssBytes,
      String note,
      String xnnpack) {
    static Timing failed(String why) {
      return new Timing(Double.NaN, Double.NaN, Double.NaN, -1, why, null);
    }

    boolean ok() {
      return !Double.isNaN(medianMs);
    }
  }

  private final int runs;
  private final int warmup;
  private final int rounds;
  private final String tfliteKernels;
  private final String classPath = System.getProperty("java.class.path");
  private final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
  private TfjsOracle.Installation node;

  RuntimeComparison(int runs, int warmup, int rounds, String tfliteKernels) {
    this.runs = runs;
    this.warmup = warmup;
    this.rounds = rounds;
    this.tfliteKernels = tfliteKernels;
  }

  public static void main(String[] args) throws Exception {
    int runs = 10;
    int warmup = 5;
    int rounds = 2;
    int cores = Runtime.getRuntime().availableProcessors();
    List<Integer> threads = cores > 1 ? List.of(1, cores) : List.of(1);
    String only = null;
    String kernels = "xnnpack";
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--threads" ->
            threads = Arrays.stream(args[++i].split(",")).map(Integer::parseInt).toList();
        case "--only" -> only = args[++i];
        case "--tflite_kernels" -> kernels = args[++i];
        default -> usage();
      }
    }
    if (!kernels.equals("xnnpack") && !kernels.equals("builtin")) {
      usage();
    }
    Path work = Files.createTempDirectory("tfport-runtime-comparison");
    try {
      new RuntimeComparison(runs, warmup, rounds, kernels).run(work, threads, only);
    } finally {
      deleteTree(work);
    }
  }

  private static void usage() {
    System.err.println(
        "usage: RuntimeComparison [--runs N] [--warmup W] [--rounds K] [--threads 1,2]"
            + " [--only TEXT] [--tflite_kernels builtin|xnnpack]");
    System.exit(2);
  }

  void run(Path work, List<Integer> threads, String only) throws Exception {
    String loadBefore = Measure.loadAverage();
    System.out.printf(
        Locale.ROOT,
        "runtime comparison: %d warm-up + %d timed runs per measurement, %d rounds,"
            + " threads %s, %d cores, TFLite kernels %s; load average %s%n",
        warmup,
        runs,
        rounds,
        threads,
        Runtime.getRuntime().availableProcessors(),
        tfliteKernels,
        loadBefore);
    List<Row> rows = rows(work, only);
    // results.get(row index + "/" + threads) -> side -> timing
    Map<String, Map<Side, Timing>> results = new LinkedHashMap<>();
    for (int t : threads) {
      for (int i = 0; i < rows.size(); i++) {
        Row row = rows.get(i);
        Map<Side, Timing> best = new LinkedHashMap<>();
        for (int round = 0; round < rounds; round++) {
          List<Side> order =
              round % 2 == 0
                  ? List.of(Side.TFPORT, row.other())
                  : List.of(row.other(), Side.TFPORT);
          for (Side side : order) {
            Timing m = measure(side, row.file(), t);
            best.merge(side, m, RuntimeComparison::better);
          }
        }
        results.put(i + "/" + t, best);
        System.out.printf(
            Locale.ROOT,
            "  measured %s %s at %d thread%s: tfport %s, %s %s%n",
            row.network(),
            row.format(),
            t,
            t == 1 ? "" : "s",
            ms(best.get(Side.TFPORT)),
            row.other().label,
            ms(best.get(row.other())));
      }
    }
    print(rows, threads, results, loadBefore);
  }

  /**
   * The corpus models, and the pairs made by converting a TF.js graph model to {@code .tflite} with
   * tfport.
   */
  private List<Row> rows(Path work, String only) {
    List<Row> rows = new ArrayList<>();
    Path corpus = Corpus.root();
    Path v1 = corpus.resolve("tflite/tflite-support/mobilenet_v1_0.25_224_1_default_1.tflite");
    Path v2 = corpus.resolve("tflite/tflite-support/mobilenet_v2_1.0_224_quant.tflite");
    Path face = corpus.resolve("tfjs/graph/tfjs_facemesh_prelu/model.json");
    Path lstm = corpus.resolve("tfjs/graph/tfjs-benchmarks_move_lstm_model/model.json");
    addIfThere(rows, new Row("MobileNet V1 0.25 224 float", ".tflite", v1, Side.TFLITE));
    addIfThere(rows, new Row("MobileNet V2 1.0 224 uint8", ".tflite", v2, Side.TFLITE));
    // The quantized twin of the float V1 row: the same network as TOCO's uint8 model.
    Path v1q = corpus.resolve("tflite/tflite-support/mobilenet_v1_0.25_224_quant.tflite");
    addIfThere(rows, new Row("MobileNet V1 0.25 224 uint8", ".tflite", v1q, Side.TFLITE));
    addIfThere(rows, new Row("FaceMesh (PReLU)", "model.json", face, Side.TFJS));
    addIfThere(rows, new Row("move LSTM", "model.json", lstm, Side.TFJS));
    // A MobileNetV2 224 the corpus has only as a TF.js layers model: tfport converts it to a graph
    // model (and, below, to .tflite), so that issue 11's MobileNetV2 224 float runs in all three.
    Path v2Layers = corpus.resolve("tfjs/layers/nsfwjs_mobilenet_v2/model.json");
    String v2Net = "MobileNetV2 224 float (nsfwjs)";
    if (Files.exists(v2Layers) && selected(v2Net, only)) {
      Path graphDir = work.resolve("nsfwjs_mobilenet_v2_graph");
      String why =
          run(
              "convert",
              "--input_format=tfjs_layers_model",
              "--output_format=tfjs_graph_model",
              v2Layers.toString(),
              graphDir.toString());
      if (why == null && Files.isRegularFile(graphDir.resolve("model.json"))) {
        rows.add(
            new Row(v2Net, "model.json (tfport graph)", graphDir.resolve("model.json"), Side.TFJS));
      } else {
        System.out.println("  " + v2Net + ": tfport convert to a graph model failed: " + why);
      }
    }
    // Issue 11's models built by TF Java and saved as SavedModels: tfport converts each to a graph
    // model and to .tflite, so the same network runs in all three runtimes.
    addBuilt(rows, work, only, "ResNet-18 224 float (TF Java)", "resnet18", BuiltModels::resNet18);
    addBuilt(
        rows,
        work,
        only,
        "MobileNetV2 224 float (TF Java)",
        "mobilenet_v2",
        BuiltModels::mobileNetV2);
    for (Row r : List.copyOf(rows)) {
      if (r.network().endsWith("(TF Java)")) {
        continue;
      }
      // Converting takes a while: only for pairs --only keeps.
      if (r.other() == Side.TFJS && selected(r.network() + " .tflite (tfport-converted)", only)) {
        Path out = work.resolve(r.file().getParent().getFileName() + ".tflite");
        String why = convert(r.file(), out);
        if (why == null) {
          rows.add(new Row(r.network(), ".tflite (tfport-converted)", out, Side.TFLITE));
        } else {
          System.out.println(
              "  " + r.network() + ": no .tflite pair, tfport convert failed: " + why);
        }
      }
    }
    return rows.stream().filter(r -> selected(r.network() + " " + r.format(), only)).toList();
  }

  private static final String GRAPH_FORMAT = "model.json (tfport graph)";
  private static final String TFLITE_FORMAT = ".tflite (tfport-converted)";

  /**
   * Exports a TF Java-built SavedModel and adds its rows: tfport's conversion to a graph model
   * (against TF.js) and to {@code .tflite} (against TFLite).
   */
  private static void addBuilt(
      List<Row> rows,
      Path work,
      String only,
      String network,
      String name,
      java.util.function.Function<Path, Path> build) {
    boolean graph = selected(network + " " + GRAPH_FORMAT, only);
    boolean tflite = selected(network + " " + TFLITE_FORMAT, only);
    if (!graph && !tflite) {
      return;
    }
    Path saved;
    try {
      saved = build.apply(work.resolve(name + "_saved_model"));
    } catch (RuntimeException | LinkageError e) {
      System.out.println("  " + network + ": TF Java could not build it: " + e);
      return;
    }
    if (graph) {
      Path graphDir = work.resolve(name + "_graph");
      String why =
          run(
              "convert",
              "--input_format=tf_saved_model",
              "--output_format=tfjs_graph_model",
              saved.toString(),
              graphDir.toString());
      if (why == null && Files.isRegularFile(graphDir.resolve("model.json"))) {
        rows.add(new Row(network, GRAPH_FORMAT, graphDir.resolve("model.json"), Side.TFJS));
      } else {
        System.out.println("  " + network + ": tfport convert to a graph model failed: " + why);
      }
    }
    if (tflite) {
      Path out = work.resolve(name + ".tflite");
      String why =
          run(
              "convert",
              "--input_format=tf_saved_model",
              "--output_format=tflite",
              saved.toString(),
              out.toString());
      if (why == null && Files.isRegularFile(out)) {
        rows.add(new Row(network, TFLITE_FORMAT, out, Side.TFLITE));
      } else {
        System.out.println("  " + network + ": tfport convert to .tflite failed: " + why);
      }
    }
  }

  private static boolean selected(String label, String only) {
    return only == null || label.toLowerCase(Locale.ROOT).contains(only.toLowerCase(Locale.ROOT));
  }

  private static void addIfThere(List<Row> rows, Row r) {
    if (Files.exists(r.file())) {
      rows.add(r);
    } else {
      System.out.println(
          "  skipped " + r.network() + ": " + r.file() + " is not there (-Dtfport.corpus=DIR)");
    }
  }

  /** Converts with the real CLI in-process; null when done, else its error line. */
  private static String convert(Path modelJson, Path tflite) {
    String why = run("convert", modelJson.toString(), tflite.toString());
    return why != null || Files.isRegularFile(tflite) ? why : "no file written";
  }

  /** Runs the real CLI in-process; null when it exits 0, else its error output. */
  private static String run(String... args) {
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(new StringWriter()), new PrintWriter(err), args);
    return code == 0 ? null : err.toString().strip();
  }

  Timing measure(Side side, Path file, int threads) throws IOException, InterruptedException {
    List<String> cmd =
        switch (side) {
          case TFPORT ->
              List.of(
                  java,
                  "--add-modules",
                  "jdk.incubator.vector",
                  // The JVM options the ./tfport launcher gives benchmark (see there why).
                  "-XX:+UseSerialGC",
                  "-Xms16m",
                  "-Xmn8m",
                  "-XX:MinHeapFreeRatio=10",
                  "-XX:MaxHeapFreeRatio=20",
                  "-XX:-ShrinkHeapInSteps",
                  "-XX:TrimNativeHeapInterval=1000",
                  "-Djdk.nio.maxCachedBufferSize=1048576",
                  "-XX:Tier3DelayOn=100000",
                  "-cp",
                  classPath,
                  Main.class.getName(),
                  "benchmark",
                  file.toString(),
                  "--num_threads=" + threads,
                  "--num_runs=" + runs,
                  "--warmup_runs=" + warmup,
                  "--json");
          case TFLITE ->
              List.of(
                  java,
                  "--enable-native-access=ALL-UNNAMED",
                  "-cp",
                  classPath,
                  TfliteTimer.class.getName(),
                  file.toString(),
                  Integer.toString(threads),
                  Integer.toString(runs),
                  Integer.toString(warmup),
                  tfliteKernels);
          case TFJS ->
              List.of(
                  node().node().toString(),
                  Repo.root().resolve("bench/node/tfjs_bench.js").toString(),
                  file.toString(),
                  Integer.toString(runs),
                  Integer.toString(warmup));
        };
    ProcessBuilder pb = new ProcessBuilder(cmd);
    if (side == Side.TFJS) {
      pb.environment().put("NODE_PATH", node().dir().resolve("node_modules").toString());
    }
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "0");
    Path stdout = Files.createTempFile("rc-out", ".txt");
    Path stderr = Files.createTempFile("rc-err", ".txt");
    try {
      Process p = pb.redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
      if (!p.waitFor(10, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        return Timing.failed("timed out");
      }
      String out = Files.readString(stdout, StandardCharsets.UTF_8).strip();
      String err = Files.readString(stderr, StandardCharsets.UTF_8);
      if (p.exitValue() != 0 || out.isEmpty()) {
        String last = err.strip().lines().reduce((a, b) -> b).orElse("exit " + p.exitValue());
        return Timing.failed(last);
      }
      JsonNode o = Json.MAPPER.readTree(out.lines().reduce((a, b) -> b).orElseThrow());
      return new Timing(
          o.get("median_ms").asDouble(),
          o.get("load_ms").asDouble(),
          o.get("first_run_ms").asDouble(),
          o.path("peak_rss_bytes").asLong(-1),
          null,
          side == Side.TFLITE ? xnnpack(o, err) : null);
    } finally {
      Files.deleteIfExists(stdout);
      Files.deleteIfExists(stderr);
    }
  }

  private static final Pattern REPLACED =
      Pattern.compile(
          "Replacing (\\d+) out of (\\d+) node\\(s\\) with delegate \\(TfLiteXNNPackDelegate\\)");

  /**
   * What the XNNPACK delegate took, from TfliteTimer's JSON and TFLite's log line (which TFLite
   * writes only when the delegate replaced some nodes).
   */
  static String xnnpack(JsonNode timer, String log) {
    if (!timer.has("xnnpack_applied")) {
      return null;
    }
    if (!timer.get("xnnpack_applied").asBoolean()) {
      return "failed";
    }
    Matcher m = REPLACED.matcher(log);
    return m.find() ? m.group(1) + "/" + m.group(2) : "none";
  }

  private TfjsOracle.Installation node() {
    if (node == null) {
      node = TfjsOracle.ensureInstalled();
    }
    return node;
  }

  private static Timing better(Timing a, Timing b) {
    if (!a.ok()) {
      return b;
    }
    return b.ok() && b.medianMs() < a.medianMs() ? b : a;
  }

  private void print(
      List<Row> rows,
      List<Integer> threads,
      Map<String, Map<Side, Timing>> results,
      String loadBefore) {
    System.out.println();
    System.out.printf(
        Locale.ROOT,
        "%-28s %-27s %3s %11s %11s %11s %8s %8s %9s %9s %8s%n",
        "model",
        "format",
        "thr",
        "tfport ms",
        "TFLite ms",
        "TF.js ms",
        "/TFLite",
        "/TF.js",
        "tfport MiB",
        "other MiB",
        "XNNPACK");
    for (int t : threads) {
      for (int i = 0; i < rows.size(); i++) {
        Row row = rows.get(i);
        Map<Side, Timing> m = results.get(i + "/" + t);
        Timing mine = m.get(Side.TFPORT);
        Timing other = m.get(row.other());
        String tflite = row.other() == Side.TFLITE ? ms(other) : "";
        String tfjs = row.other() == Side.TFJS ? ms(other) + (t > 1 ? "*" : "") : "";
        String ratio =
            Fmt.ratio(mine.ok() && other.ok() ? mine.medianMs() / other.medianMs() : Double.NaN);
        System.out.printf(
            Locale.ROOT,
            "%-28s %-27s %3d %11s %11s %11s %8s %8s %9s %9s %8s%n",
            row.network(),
            row.format(),
            t,
            ms(mine),
            tflite,
            tfjs,
            row.other() == Side.TFLITE ? ratio : "",
            row.other() == Side.TFJS ? ratio : "",
            Fmt.mibBare(mine.peakRssBytes()),
            Fmt.mibBare(other.peakRssBytes()),
            other.xnnpack() == null ? "" : other.xnnpack());
      }
    }
    if (threads.size() > 1) {
      int all = threads.get(threads.size() - 1);
      System.out.println();
      System.out.println("tfport scaling, median at 1 thread / median at " + all + ":");
      for (int i = 0; i < rows.size(); i++) {
        Timing one = results.get(i + "/" + threads.get(0)).get(Side.TFPORT);
        Timing many = results.get(i + "/" + all).get(Side.TFPORT);
        System.out.printf(
            Locale.ROOT,
            "  %-28s %-27s %s%n",
            rows.get(i).network(),
            rows.get(i).format(),
            Fmt.ratio(one.ok() && many.ok() ? one.medianMs() / many.medianMs() : Double.NaN));
      }
    }
    System.out.println();
    System.out.println(
        "ratios: tfport median / the other runtime's (below 1: tfport faster); best median of "
            + rounds
            + " rounds per side; MiB: peak RSS of the measuring process.");
    System.out.println(
        "* TF.js 4.22's WASM backend runs single-threaded in Node (no WASM threads there).");
    System.out.println(
        tfliteKernels.equals("xnnpack")
            ? "TFLite: XNNPACK delegate (its own pool of the row's thread count) applied before the"
                + " first allocation; XNNPACK column: nodes it replaced / all nodes (none: it took"
                + " none, those rows time the builtin kernels)."
            : "TFLite: builtin kernels only (--tflite_kernels builtin).");
    failures(rows, threads, results);
    System.out.println("load average: before " + loadBefore + ", after " + Measure.loadAverage());
  }

  private static void failures(
      List<Row> rows, List<Integer> threads, Map<String, Map<Side, Timing>> results) {
    for (int t : threads) {
      for (int i = 0; i < rows.size(); i++) {
        for (Map.Entry<Side, Timing> e : results.get(i + "/" + t).entrySet()) {
          if (!e.getValue().ok()) {
            System.out.printf(
                Locale.ROOT,
                "failed: %s %s, %s at %d threads: %s%n",
                rows.get(i).network(),
                rows.get(i).format(),
                e.getKey().label,
                t,
                e.getValue().note());
          }
        }
      }
    }
  }

  private static String ms(Timing t) {
    return t == null ? "" : t.ok() ? String.format(Locale.ROOT, "%.2f", t.medianMs()) : "failed";
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
