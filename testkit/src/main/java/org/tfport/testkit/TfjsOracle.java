package org.tfport.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.tfport.core.Json;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The real TensorFlow.js 4.22 (npm {@code @tensorflow/tfjs}, cpu or wasm backend) run in Node as a
 * test oracle: it loads {@code model.json} files and predicts ({@link TfjsFit} trains them).
 *
 * <p>Needs {@code node} (18 or later) and {@code npm} on the PATH (or system properties {@code
 * tfport.node} / {@code tfport.npm} naming the executables). On first use it runs {@code npm ci} in
 * {@code <repo>/testkit/node}, from the committed package-lock.json, under a file lock so that
 * parallel test JVMs install once. When something is missing it throws {@link
 * IllegalStateException}; it never skips silently.
 *
 * <p>All jobs given to one {@link #run(List)} call run in one Node process, one after the other. A
 * job that fails (a file missing, a model tfjs rejects) yields a {@link Result} with {@code
 * ok=false} and does not stop the others.
 */
public final class TfjsOracle {
  /** The pinned tfjs version (testkit/node/package.json). */
  public static final String TFJS_VERSION = "4.22.0";

  private TfjsOracle() {}

  // ---------------------------------------------------------------- API types

  /**
   * One model input: float32 ({@code data}) or int32 ({@code ints}), exactly one of them non-null,
   * with as many values as {@code shape} holds. {@code name} may be null: graph models then take
   * the model's inputs in order, layers models take the inputs positionally. For layers models a
   * name is the input layer's name.
   */
  public record Input(String name, long[] shape, float[] data, int[] ints) {
    public Input {
      Objects.requireNonNull(shape, "shape");
      if ((data == null) == (ints == null)) {
        throw new IllegalArgumentException("give exactly one of float data and int data");
      }
      long n = elements(shape);
      int len = data != null ? data.length : ints.length;
      if (n != len) {
        throw new IllegalArgumentException(
            "shape " + Arrays.toString(shape) + " holds " + n + " values, got " + len);
      }
      shape = shape.clone();
    }

    /** A float32 input. */
    public Input(String name, long[] shape, float[] data) {
      this(name, shape, Objects.requireNonNull(data, "data"), null);
    }

    public static Input f32(String name, long[] shape, float[] data) {
      return new Input(name, shape, data);
    }

    public static Input i32(String name, long[] shape, int[] data) {
      return new Input(name, shape, null, Objects.requireNonNull(data, "data"));
    }

    public String dtype() {
      return data != null ? "float32" : "int32";
    }

    @Override
    public long[] shape() {
      return shape.clone();
    }

    @Override
    public String toString() {
      return "Input[" + name + " " + dtype() + Arrays.toString(shape) + "]";
    }
  }

  /**
   * One model to load and (when {@code inputs} is not empty) run.
   *
   * @param kind {@code "layers"} ({@code tf.loadLayersModel} + {@code predict}) or {@code "graph"}
   *     ({@code tf.loadGraphModel} + {@code executeAsync})
   * @param modelJson the model.json; weight shards are read relative to it
   * @param inputs empty: only load the model and report its inputs and outputs in {@link
   *     Result#info()}
   * @param outputNames graph models: the nodes to fetch (default: the model's outputs); layers
   *     models: a subset of output layer names to return (default: all)
   * @param backend {@code "cpu"} (the default when null) or {@code "wasm"}
   */
  public record Job(
      String kind, Path modelJson, List<Input> inputs, List<String> outputNames, String backend) {
    public Job {
      if (!"layers".equals(kind) && !"graph".equals(kind)) {
        throw new IllegalArgumentException("kind must be \"layers\" or \"graph\", got " + kind);
      }
      Objects.requireNonNull(modelJson, "modelJson");
      inputs = inputs == null ? List.of() : List.copyOf(inputs);
      outputNames = outputNames == null ? List.of() : List.copyOf(outputNames);
      if (backend != null && !backend.equals("cpu") && !backend.equals("wasm")) {
        throw new IllegalArgumentException("backend must be cpu or wasm, got " + backend);
      }
    }

    public Job(String kind, Path modelJson, List<Input> inputs, List<String> outputNames) {
      this(kind, modelJson, inputs, outputNames, null);
    }

    /** Predict with a layers model. */
    public static Job layers(Path modelJson, Input... inputs) {
      return new Job("layers", modelJson, List.of(inputs), List.of());
    }

    /** Execute a graph model, fetching {@code outputNames} (empty: the model's outputs). */
    public static Job graph(Path modelJson, List<Input> inputs, List<String> outputNames) {
      return new Job("graph", modelJson, inputs, outputNames);
    }

    /** Only load the model; {@link Result#info()} then describes its inputs and outputs. */
    public static Job load(String kind, Path modelJson) {
      return new Job(kind, modelJson, List.of(), List.of());
    }

    public Job withBackend(String name) {
      return new Job(kind, modelJson, inputs, outputNames, name);
    }
  }

  /**
   * One output tensor. {@code data} always holds the values as floats; {@code ints} holds them
   * exactly when {@code dtype} is {@code int32} or {@code bool} (else null).
   */
  public record Output(String name, long[] shape, String dtype, float[] data, int[] ints) {
    @Override
    public long[] shape() {
      return shape.clone();
    }

    @Override
    public String toString() {
      return "Output[" + name + " " + dtype + Arrays.toString(shape) + "]";
    }
  }

  /**
   * The outcome of one job.
   *
   * @param ok false when tfjs (or reading the files) failed for this job
   * @param error the error message when not ok
   * @param outputs the outputs in model order (or in {@link Job#outputNames()} order); empty for
   *     load-only jobs and failures
   * @param info the oracle's raw JSON for the job: {@code backend}; for load-only jobs {@code
   *     loaded}, {@code inputs} and {@code outputs} as {@code [{name, shape, dtype}]} (shape with
   *     -1 for unknown dimensions); after a prediction the same under {@code model}; {@code stack}
   *     after an error
   */
  public record Result(boolean ok, String error, List<Output> outputs, JsonNode info) {
    /** The output called {@code name}. */
    public Output output(String name) {
      for (Output o : outputs) {
        if (o.name().equals(name)) {
          return o;
        }
      }
      throw new IllegalArgumentException("no output " + name + " among " + outputs);
    }

    /** The {@code i}-th output. */
    public Output output(int i) {
      return outputs.get(i);
    }

    /** This result, or an {@link AssertionError} with the tfjs error when the job failed. */
    public Result orThrow() {
      if (!ok) {
        throw new AssertionError("tfjs failed: " + error);
      }
      return this;
    }
  }

  // ---------------------------------------------------------------- running

  /** Runs one job; see {@link #run(List)}. */
  public static Result run(Job job) {
    return run(List.of(job)).get(0);
  }

  /**
   * Runs all jobs in one Node process and returns one result per job, in order.
   *
   * @throws IllegalStateException when node/npm are missing, the install fails, or the Node process
   *     itself fails or times out (the message carries its stderr)
   */
  public static List<Result> run(List<Job> jobs) {
    if (jobs.isEmpty()) {
      return List.of();
    }
    Installation inst = ensureInstalled();
    Path tmp;
    try {
      tmp = Files.createTempDirectory("tfjs-oracle");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      return runIn(inst, jobs, tmp);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      if (!Boolean.getBoolean("tfport.tfjs.keepTemp")) {
        deleteTree(tmp);
      }
    }
  }

  private static List<Result> runIn(Installation inst, List<Job> jobs, Path tmp)
      throws IOException {
    ArrayNode list = Json.MAPPER.createArrayNode();
    for (int j = 0; j < jobs.size(); j++) {
      Job job = jobs.get(j);
      ObjectNode o = list.addObject();
      o.put("kind", job.kind());
      o.put("modelJson", job.modelJson().toAbsolutePath().toString());
      if (job.backend() != null) {
        o.put("backend", job.backend());
      }
      if (!job.outputNames().isEmpty()) {
        ArrayNode outs = o.putArray("outputs");
        job.outputNames().forEach(outs::add);
      }
      ArrayNode ins = o.putArray("inputs");
      for (int k = 0; k < job.inputs().size(); k++) {
        Input in = job.inputs().get(k);
        Path bin = tmp.resolve("job" + j + "_in" + k + ".bin");
        Files.write(bin, in.data() != null ? toBytes(in.data()) : toBytes(in.ints()));
        ObjectNode i = ins.addObject();
        if (in.name() != null) {
          i.put("name", in.name());
        }
        ArrayNode shape = i.putArray("shape");
        for (long d : in.shape) {
          shape.add(d);
        }
        i.put("dtype", in.dtype());
        i.put("data", bin.toString());
      }
    }
    JsonNode results = runNode(inst, list, tmp);
    List<Result> out = new ArrayList<>(jobs.size());
    for (JsonNode r : results) {
      out.add(parseResult(r));
    }
    return out;
  }

  /** Runs the jobs of {@code list} in one Node process; their results, one per job. */
  static JsonNode runNode(Installation inst, ArrayNode list, Path tmp) throws IOException {
    int jobCount = list.size();
    Path jobsFile = tmp.resolve("jobs.json");
    Path resultsFile = tmp.resolve("results.json");
    Files.writeString(
        jobsFile, Json.MAPPER.writeValueAsString(Json.MAPPER.createObjectNode().set("jobs", list)));

    Path stdout = tmp.resolve("node.stdout");
    Path stderr = tmp.resolve("node.stderr");
    ProcessBuilder pb =
        new ProcessBuilder(
                inst.node().toString(),
                inst.dir().resolve("tfjs_oracle.js").toString(),
                jobsFile.toString(),
                resultsFile.toString())
            .directory(inst.dir().toFile())
            .redirectOutput(stdout.toFile())
            .redirectError(stderr.toFile());
    Duration timeout = timeout(jobCount);
    long t0 = System.nanoTime();
    Process p = pb.start();
    boolean done;
    try {
      done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the tfjs oracle", e);
    }
    if (!done) {
      p.destroyForcibly();
      throw new IllegalStateException(
          "tfjs oracle timed out after "
              + timeout.toSeconds()
              + " s on "
              + jobCount
              + " jobs (raise -Dtfport.tfjs.timeoutSeconds)"
              + diagnostics(stdout, stderr));
    }
    int exit = p.exitValue();
    if (exit != 0 || !Files.isRegularFile(resultsFile)) {
      throw new IllegalStateException(
          "tfjs oracle (node "
              + inst.dir().resolve("tfjs_oracle.js")
              + ") exited with "
              + exit
              + " after "
              + (System.nanoTime() - t0) / 1_000_000
              + " ms"
              + diagnostics(stdout, stderr));
    }
    JsonNode results = Json.MAPPER.readTree(Files.readString(resultsFile)).path("results");
    if (!results.isArray() || results.size() != jobCount) {
      throw new IllegalStateException(
          "tfjs oracle returned "
              + results.size()
              + " results for "
              + jobCount
              + " jobs"
              + diagnostics(stdout, stderr));
    }
    return results;
  }

  static ObjectNode inputJson(Input in, Path bin) throws IOException {
    Files.write(bin, in.data() != null ? toBytes(in.data()) : toBytes(in.ints()));
    ObjectNode i = Json.MAPPER.createObjectNode();
    if (in.name() != null) {
      i.put("name", in.name());
    }
    ArrayNode shape = i.putArray("shape");
    for (long d : in.shape) {
      shape.add(d);
    }
    i.put("dtype", in.dtype());
    i.put("data", bin.toString());
    return i;
  }

  static Result parseResult(JsonNode r) throws IOException {
    if (!r.path("ok").asBoolean(false)) {
      JsonNode err = r.path("error");
      return new Result(false, err.isString() ? err.stringValue() : "unknown error", List.of(), r);
    }
    List<Output> outputs = new ArrayList<>();
    if (!r.path("loaded").asBoolean(false)) {
      for (JsonNode o : r.path("outputs")) {
        long[] shape = shape(o.path("shape"));
        String dtype = o.path("dtype").stringValue();
        ByteBuffer bytes =
            ByteBuffer.wrap(Files.readAllBytes(Path.of(o.path("data").stringValue())))
                .order(ByteOrder.LITTLE_ENDIAN);
        int n = bytes.remaining() / 4;
        if (n != elements(shape)) {
          throw new IllegalStateException(
              "tfjs oracle wrote " + n + " values for output shape " + Arrays.toString(shape));
        }
        float[] data = new float[n];
        int[] ints = null;
        if ("float32".equals(dtype)) {
          bytes.asFloatBuffer().get(data);
        } else {
          ints = new int[n];
          bytes.asIntBuffer().get(ints);
          for (int i = 0; i < n; i++) {
            data[i] = ints[i];
          }
        }
        JsonNode name = o.path("name");
        outputs.add(
            new Output(name.isString() ? name.stringValue() : null, shape, dtype, data, ints));
      }
    }
    return new Result(true, null, List.copyOf(outputs), r);
  }

  private static long[] shape(JsonNode node) {
    long[] s = new long[node.size()];
    for (int i = 0; i < s.length; i++) {
      JsonNode d = node.get(i);
      s[i] = d == null || d.isNull() ? -1 : d.asLong();
    }
    return s;
  }

  private static Duration timeout(int jobs) {
    String prop = System.getProperty("tfport.tfjs.timeoutSeconds");
    if (prop != null && !prop.isBlank()) {
      return Duration.ofSeconds(Long.parseLong(prop.trim()));
    }
    // Generous: a big CNN on the cpu backend takes seconds; allow a minute per job on top of a
    // base.
    return Duration.ofMinutes(10).plusSeconds(60L * jobs);
  }

  private static String diagnostics(Path stdout, Path stderr) {
    String out = tail(stdout, 2000);
    String lastJob = "none";
    for (String line : out.split("\n")) {
      if (line.startsWith("job ")) {
        lastJob = line;
      }
    }
    return "\nlast finished job: " + lastJob + "\nnode stderr:\n" + tail(stderr, 20_000);
  }

  static String tail(Path file, int max) {
    try {
      if (!Files.exists(file)) {
        return "";
      }
      String s = Files.readString(file, StandardCharsets.UTF_8);
      return s.length() <= max ? s : "..." + s.substring(s.length() - max);
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  // ---------------------------------------------------------------- numbers

  /**
   * numpy's {@code isclose}: {@code |actual - expected| <= atol + rtol * |expected|}. Two NaNs are
   * close; infinities are close only to the same infinity.
   */
  public static boolean close(float actual, float expected, double atol, double rtol) {
    if (Float.isNaN(actual) || Float.isNaN(expected)) {
      return Float.isNaN(actual) && Float.isNaN(expected);
    }
    if (Float.isInfinite(actual) || Float.isInfinite(expected)) {
      return actual == expected;
    }
    return Math.abs((double) actual - (double) expected)
        <= atol + rtol * Math.abs((double) expected);
  }

  /** Shorthand for {@link Comparison#of(float[], float[], double, double)}. */
  public static Comparison compare(float[] expected, float[] actual, double atol, double rtol) {
    return Comparison.of(expected, actual, atol, rtol);
  }

  private static long elements(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException(
            "shape must be fully known, got " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  private static byte[] toBytes(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    return b.array();
  }

  private static byte[] toBytes(int[] v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    b.asIntBuffer().put(v);
    return b.array();
  }

  // ---------------------------------------------------------------- installation

  /** Where the oracle runs from: the node executable and {@code <repo>/testkit/node}. */
  public record Installation(Path node, Path dir) {}

  /**
   * Makes sure {@code testkit/node/node_modules} holds the packages of package-lock.json, running
   * {@code npm ci --no-audit --no-fund} if not (under a file lock shared with other JVMs).
   *
   * @throws IllegalStateException when node or npm is missing or the install fails
   */
  public static Installation ensureInstalled() {
    return NodeInstall.ensure();
  }

  static void deleteTree(Path root) {
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException ignored) {
                  // best effort: a temp dir
                }
              });
    } catch (IOException ignored) {
      // best effort
    }
  }
}
