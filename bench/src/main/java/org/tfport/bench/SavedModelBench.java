package org.tfport.bench;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.random.RandomUniform;
import org.tensorflow.types.TFloat32;
import org.tfport.bench.ChildJvm.Child;
import org.tfport.bench.ConvertBench.BenchException;
import org.tfport.core.Json;
import tools.jackson.databind.JsonNode;

/**
 * The SavedModel conversion benchmark. Builds a TF1-style graph with TF Java (a placeholder {@code
 * x [-1, W]} and {@code L} dense layers, MatMul + BiasAdd + Relu, {@code VariableV2} weights of
 * about {@code MB} megabytes in all, initialised by random ops so the graph itself stays small),
 * exports it as a SavedModel (not timed), then per run, page cache warm:
 *
 * <ol>
 *   <li>times {@code cp -r SAVEDMODEL COPY};
 *   <li>times the real command line, {@code java -jar cli/target/tfport.jar convert
 *       --input_format=tf_saved_model --output_format=tfjs_graph_model SAVEDMODEL OUT}, in a fresh
 *       JVM, with its peak RSS, and checks the output (model.json; shard bytes = variable bytes);
 *   <li>runs the same conversion through {@link PeakHeapMain} for the peak Java heap.
 * </ol>
 *
 * <p>Needs TF Java on the class path (it is not in the shaded jar); see README.md.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp tfport-bench.jar:TFJAVA org.tfport.bench.SavedModelBench [MB] [--runs N]
 * </pre>
 */
public final class SavedModelBench {
  static final int LAYERS = 4;

  private final long targetBytes;
  private final int runs;
  private final Path cliJar;
  private final String classpath;
  private final String java;
  private final Path timeBin = ChildJvm.timeBin();

  private SavedModelBench(long targetBytes, int runs, Path cliJar, String classpath, String java) {
    this.targetBytes = targetBytes;
    this.runs = runs;
    this.cliJar = cliJar;
    this.classpath = classpath;
    this.java = java;
  }

  public static void main(String... args) {
    ConvertBench.exitWith(() -> run(args));
  }

  static int run(String... args) {
    double mb = 220;
    int runs = 3;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      try {
        if (a.equals("--runs") && i + 1 < args.length) {
          runs = Integer.parseInt(args[++i]);
        } else if (a.startsWith("--runs=")) {
          runs = Integer.parseInt(a.substring(7));
        } else if (a.equals("--help") || a.equals("-h")) {
          System.out.println("usage: SavedModelBench [MB] [--runs N]   (default 220 MB, 3 runs)");
          return 0;
        } else if (!a.startsWith("-")) {
          mb = Double.parseDouble(a);
        } else {
          throw new BenchException(
              "unknown argument '" + a + "'; usage: SavedModelBench [MB] [--runs N]");
        }
      } catch (NumberFormatException e) {
        throw new BenchException("not a number: '" + a + "'");
      }
    }
    if (runs < 1 || !(mb > 0)) {
      throw new BenchException("need MB > 0 and --runs >= 1");
    }
    try {
      Class.forName("org.tensorflow.Graph", false, SavedModelBench.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new BenchException(
          "TF Java is not on the class path; run with the Maven class path (bench/README.md)");
    }
    Path self = ConvertBench.selfLocation();
    Path root = ConvertBench.repoRoot(self);
    Path cliJar = ConvertBench.cliJar(root);
    String cp = cliJar + File.pathSeparator + self;
    String java = ConvertBench.javaCommand();
    return new SavedModelBench((long) (mb * 1024 * 1024), runs, cliJar, cp, java).bench();
  }

  /** The layer width: {@code LAYERS * (W*W + W) * 4 >= target}. */
  static int width(long targetBytes) {
    int w = (int) Math.ceil(Math.sqrt(targetBytes / 4.0 / LAYERS));
    while ((long) LAYERS * ((long) w * w + w) * 4 < targetBytes) {
      w++;
    }
    return Math.max(w, 2);
  }

  static long variableBytes(int w) {
    return (long) LAYERS * ((long) w * w + w) * 4;
  }

  /** Writes the SavedModel into {@code dir}: placeholder x [-1, W], LAYERS x relu(x W + b). */
  static void export(Path dir, int w) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Ops init = tf.withInitScope();
      Placeholder<TFloat32> x =
          tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, w)));
      Operand<TFloat32> h = x;
      float scale = (float) (1 / Math.sqrt(w));
      for (int l = 0; l < LAYERS; l++) {
        Ops layer = tf.withSubScope("dense_" + l);
        Operand<TFloat32> kernel =
            layer.withName("kernel").variable(uniform(init, l * 2 + 1, scale, w, w));
        Operand<TFloat32> bias = layer.withName("bias").variable(uniform(init, l * 2 + 2, 0.1f, w));
        h = layer.nn.relu(layer.nn.biasAdd(layer.linalg.matMul(h, kernel), bias));
      }
      Signature sig =
          Signature.builder()
              .key(Signature.DEFAULT_KEY)
              .methodName("tensorflow/serving/predict")
              .input("x", x)
              .output("y", h)
              .build();
      try (Session s = new Session(g)) {
        s.initialize();
        SessionFunction fn = SessionFunction.create(sig, s);
        SavedModelBundle.exporter(dir.toString()).withSession(s).withFunction(fn).export();
      }
    } catch (IOException e) {
      throw new BenchException("cannot export the SavedModel to " + dir + ": " + e.getMessage());
    }
  }

  /**
   * Uniform in [-scale, scale), by random ops in the init scope, so the graph holds no big
   * constants.
   */
  private static Operand<TFloat32> uniform(Ops init, long seed, float scale, long... shape) {
    Operand<TFloat32> u =
        init.random.randomUniform(
            init.constant(shape),
            TFloat32.class,
            RandomUniform.seed(42L),
            RandomUniform.seed2(seed));
    return init.math.mul(init.math.sub(u, init.constant(0.5f)), init.constant(2 * scale));
  }

  private List<String> convertArgs(Path in, Path out) {
    return List.of(
        "convert",
        "--input_format=tf_saved_model",
        "--output_format=tfjs_graph_model",
        in.toString(),
        out.toString());
  }

  private Child cli(List<String> args) {
    return ChildJvm.launch(ChildJvm.cliCommand(java, cliJar, args), true, timeBin);
  }

  private Child heapRun(List<String> args) {
    List<String> cmd =
        new ArrayList<>(List.of(java, "-cp", classpath, PeakHeapMain.class.getName()));
    cmd.addAll(args);
    return ChildJvm.launch(cmd, false, timeBin);
  }

  private static long timeCpR(Path src, Path dst) {
    return Measure.timeCopy(src, dst, SavedModelBench::treeSize, "-r");
  }

  static long treeSize(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).mapToLong(Measure::size).sum();
    } catch (IOException e) {
      throw new BenchException("cannot list " + dir + ": " + e.getMessage());
    }
  }

  private static void warmTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.filter(Files::isRegularFile).forEach(Measure::warm);
    } catch (IOException e) {
      throw new BenchException("cannot list " + dir + ": " + e.getMessage());
    }
  }

  /**
   * model.json exists and names a graph; the shards listed in it hold exactly the variable bytes.
   */
  static String verify(Path dir, long variableBytes) {
    Path json = dir.resolve("model.json");
    if (!Files.isRegularFile(json)) {
      return "BAD: no model.json";
    }
    try {
      JsonNode root = Json.MAPPER.readTree(Files.readString(json));
      if (root.path("modelTopology").path("node").isEmpty()) {
        return "BAD: model.json has no modelTopology.node";
      }
      long shardBytes = 0;
      int shards = 0;
      int weights = 0;
      for (JsonNode group : root.path("weightsManifest")) {
        for (JsonNode p : group.path("paths")) {
          shardBytes += Measure.size(dir.resolve(p.asString()));
          shards++;
        }
        weights += group.path("weights").size();
      }
      if (shardBytes != variableBytes) {
        return "BAD: shards hold "
            + Fmt.bytes(shardBytes)
            + " bytes, the variables "
            + Fmt.bytes(variableBytes);
      }
      return "ok (" + weights + " weights, " + shards + " shards, " + Fmt.bytes(shardBytes) + " B)";
    } catch (IOException | RuntimeException e) {
      return "BAD: " + e;
    }
  }

  int bench() {
    Path work;
    try {
      work = Files.createTempDirectory("tfport-savedmodel-bench");
    } catch (IOException e) {
      throw new BenchException("cannot create a working folder: " + e.getMessage());
    }
    try {
      return benchIn(work);
    } finally {
      Measure.deleteTree(work);
    }
  }

  private int benchIn(Path work) {
    int w = width(targetBytes);
    long varBytes = variableBytes(w);
    Path saved = work.resolve("saved_model");
    Path copy = work.resolve("saved_model_copy");
    Path out = work.resolve("tfjs_graph");
    Path scratch = work.resolve("tfjs_scratch");
    Path small = work.resolve("saved_model_1mb");
    int smallW = width((long) (ConvertBench.FLOOR_MB * 1024 * 1024));
    long smallVarBytes = variableBytes(smallW);
    String fs;
    try {
      fs = Files.getFileStore(work).type();
    } catch (IOException e) {
      fs = "?";
    }
    String loadBefore = Measure.loadAverage();
    System.out.println("tfport SavedModel conversion benchmark");
    System.out.printf(
        "  java      %s (%s), %d CPUs, load average %s%n",
        java,
        System.getProperty("java.runtime.version"),
        Runtime.getRuntime().availableProcessors(),
        loadBefore);
    System.out.printf("  cli       %s%n", cliJar);
    System.out.printf("  folder    %s (%s)%n", work, fs);
    System.out.printf(
        "  model     x [-1, %d], %d x dense %dx%d (MatMul + BiasAdd + Relu), VariableV2 float32:"
            + " %s bytes (%s)%n",
        w, LAYERS, w, w, Fmt.bytes(varBytes), Fmt.mib(varBytes));
    long t0 = System.nanoTime();
    export(saved, w);
    long exportNanos = System.nanoTime() - t0;
    export(small, smallW);
    long savedBytes = treeSize(saved);
    System.out.printf(
        "  exported  %s: %s bytes (%s) in %s s (TF Java, not timed)%n",
        saved, Fmt.bytes(savedBytes), Fmt.mib(savedBytes), Fmt.secs(exportNanos));
    System.out.printf(
        "  floor     %s: %s bytes, same layers at width %d (start-up cost, not data)%n",
        small, Fmt.bytes(treeSize(small)), smallW);
    Measure.printSteps(
        "cp -r " + saved + " " + copy, timeBin, java, cliJar, convertArgs(saved, out), small);

    // Untimed warm-up round.
    warmTree(saved);
    Measure.sync();
    timeCpR(saved, copy);
    Measure.deleteTree(copy);
    Measure.sync();
    cli(convertArgs(saved, scratch));
    Measure.deleteTree(scratch);
    Measure.sync();

    System.out.printf(
        "%-4s %8s %8s %7s %8s %8s | %8s %8s %8s %8s | %s%n",
        "run",
        "cp s",
        "conv s",
        "ratio",
        "RSS MiB",
        "floor s",
        "in-JVM s",
        "heap MiB",
        "heapGC",
        "heap/mdl",
        "output");
    List<Long> cps = new ArrayList<>();
    List<Long> walls = new ArrayList<>();
    List<Long> inJvm = new ArrayList<>();
    List<Long> floors = new ArrayList<>();
    long peakRss = -1;
    long peakHeap = -1;
    long peakHeapGc = -1;
    long peakAnon = -1;
    boolean allVerified = true;
    for (int r = 1; r <= runs; r++) {
      warmTree(saved);
      Measure.sync();
      long cpNanos = timeCpR(saved, copy);
      Measure.deleteTree(copy);
      Measure.sync();

      Child c = cli(convertArgs(saved, out));
      String verdict = c.ok() ? verify(out, varBytes) : Measure.failure(c);
      if (r == 1 && c.ok()) {
        System.out.println("     tfport: " + c.stdout().strip().replace("\n", "\n             "));
      }
      Measure.deleteTree(out);
      Measure.sync();

      warmTree(saved);
      Child heap = heapRun(convertArgs(saved, scratch));
      String heapVerdict = heap.ok() ? verify(scratch, varBytes) : Measure.failure(heap);
      Measure.deleteTree(scratch);
      Measure.sync();
      Child floor = cli(convertArgs(small, scratch));
      String floorVerdict = floor.ok() ? verify(scratch, smallVarBytes) : Measure.failure(floor);
      Measure.deleteTree(scratch);
      Measure.sync();
      allVerified &=
          verdict.startsWith("ok") && heapVerdict.startsWith("ok") && floorVerdict.startsWith("ok");
      verdict = Measure.withSideVerdicts(verdict, heapVerdict, floorVerdict);
      floors.add(floor.wallNanos());
      cps.add(cpNanos);
      walls.add(c.wallNanos());
      inJvm.add(heap.metric("run_nanos"));
      peakRss = Math.max(peakRss, c.metric("peak_rss_bytes"));
      peakHeap = Math.max(peakHeap, heap.metric("peak_heap_bytes"));
      peakHeapGc = Math.max(peakHeapGc, heap.metric("peak_heap_gc_bytes"));
      peakAnon = Math.max(peakAnon, heap.metric("peak_rss_anon_bytes"));
      System.out.printf(
          "%-4d %8s %8s %7s %8s %8s | %8s %8s %8s %8s | %s%n",
          r,
          Fmt.secs(cpNanos),
          Fmt.secs(c.wallNanos()),
          Fmt.ratio((double) c.wallNanos() / cpNanos),
          Fmt.mibBare(c.metric("peak_rss_bytes")),
          Fmt.secs(floor.wallNanos()),
          Fmt.secs(heap.metric("run_nanos")),
          Fmt.mibBare(heap.metric("peak_heap_bytes")),
          Fmt.mibBare(heap.metric("peak_heap_gc_bytes")),
          Fmt.ratio((double) heap.metric("peak_heap_bytes") / savedBytes),
          verdict);
    }
    cps.sort(null);
    walls.sort(null);
    inJvm.sort(null);
    floors.sort(null);
    long floorMedian = Measure.median(floors);
    long cpMedian = Measure.median(cps);
    long wallMedian = Measure.median(walls);
    double timeRatio = (double) wallMedian / cpMedian;
    double heapRatio = (double) peakHeap / savedBytes;

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
        "SavedModel bytes",
        Fmt.bytes(savedBytes) + " (" + Fmt.mib(savedBytes) + "), variables " + Fmt.bytes(varBytes));
    Measure.timingRows("cp -r", savedBytes, cps, walls, floorMedian);
    Measure.row("  in Main.run (heap runs)", Fmt.secs(Measure.median(inJvm)) + " s median");
    Measure.row(
        "convert / cp (medians)",
        Fmt.ratio(timeRatio)
            + " (min/min "
            + Fmt.ratio((double) walls.get(0) / cps.get(0))
            + ")   target <= "
            + Fmt.ratio(ConvertBench.TIME_TARGET)
            + ": "
            + (timeRatio <= ConvertBench.TIME_TARGET ? "MET" : "NOT MET"));
    Measure.row(
        "peak RSS (max of runs)",
        Fmt.mib(peakRss)
            + " ("
            + (timeBin != null ? "/usr/bin/time" : "VmHWM polled")
            + "); anonymous (heap runs) "
            + Fmt.mib(peakAnon));
    Measure.row(
        "peak heap (max of runs)",
        Fmt.mib(peakHeap)
            + " (sum of heap pool peaks; "
            + Fmt.mib(peakHeapGc)
            + " at the fullest GC)");
    Measure.row(
        "peak heap / model",
        String.format(Locale.ROOT, "%s (of the SavedModel bytes)", Fmt.ratio(heapRatio)));
    Measure.row(
        "output",
        allVerified
            ? "verified every run (model.json, shard bytes = variable bytes)"
            : "FAILED, see above");
    return allVerified ? 0 : 1;
  }
}
