package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Json;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.formats.npy.Npy;
import org.tfport.testkit.Corpus;
import tools.jackson.databind.JsonNode;

/**
 * {@code tfport benchmark}: the JSON fields and their consistency, both flag syntaxes, {@code
 * --input} files, the formats (SavedModel built with TF Java, a corpus {@code .tflite}), the
 * statistics on hand-computed run times, and exit 2 for bad flags.
 */
class BenchmarkCommandTest {
  static final List<String> FIELDS =
      List.of(
          "model",
          "load_ms",
          "first_run_ms",
          "min_ms",
          "median_ms",
          "p90_ms",
          "mean_ms",
          "num_runs",
          "warmup_runs",
          "warmup_ms",
          "warmup_steady",
          "median_cpu_ms",
          "jit_ms_during_runs",
          "num_threads",
          "peak_heap_bytes",
          "peak_rss_bytes");

  @TempDir static Path tmp;
  static Path savedModel;

  @BeforeAll
  static void model() throws Exception {
    savedModel = PredictCommandTest.savedModel(tmp.resolve("sm"));
  }

  static JsonNode json(CliRunner r) {
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out().strip().lines()).as("one JSON object on one line").hasSize(1);
    return Json.MAPPER.readTree(r.out());
  }

  /** Fields present and agreeing with each other and with the flags. */
  static void consistent(JsonNode o, String model, int runs, int warmup, int threads) {
    for (String f : FIELDS) {
      assertThat(o.has(f)).as("field " + f + " in " + o).isTrue();
    }
    assertThat(o.get("model").stringValue()).isEqualTo(model);
    assertThat(o.get("num_runs").asInt()).isEqualTo(runs);
    assertThat(o.get("warmup_runs").asInt()).isEqualTo(warmup);
    assertThat(o.get("num_threads").asInt()).isEqualTo(threads);
    double min = o.get("min_ms").asDouble();
    double median = o.get("median_ms").asDouble();
    double p90 = o.get("p90_ms").asDouble();
    double mean = o.get("mean_ms").asDouble();
    assertThat(min).isPositive().isLessThanOrEqualTo(median);
    assertThat(median).isLessThanOrEqualTo(p90);
    assertThat(mean).isBetween(min, o.get("p90_ms").asDouble() * runs);
    assertThat(o.get("load_ms").asDouble()).isPositive();
    assertThat(o.get("first_run_ms").asDouble()).isPositive();
    assertThat(o.get("warmup_ms").asDouble()).isNotNegative();
    // CPU time is measured on Linux; a run's CPU time is at most its wall time (to the clocks'
    // granularity) at one thread.
    assertThat(o.get("median_cpu_ms").asDouble()).isPositive();
    if (threads == 1) {
      assertThat(o.get("median_cpu_ms").asDouble()).isLessThanOrEqualTo(median + 0.05);
    }
    assertThat(o.get("jit_ms_during_runs").asLong()).isNotNegative();
    assertThat(o.get("peak_heap_bytes").asLong()).isPositive();
    // Linux (these machines and CI): VmHWM is there and at least the heap in use.
    assertThat(o.get("peak_rss_bytes").asLong()).isGreaterThan(10L << 20);
  }

  @Test
  void equalsSyntaxGivesConsistentJson() {
    String m = savedModel.toString();
    JsonNode o =
        json(
            CliRunner.run(
                "benchmark",
                m,
                "--num_threads=2",
                "--num_runs=7",
                "--warmup_runs=3",
                "--warmup_min_secs=0",
                "--warmup_max_secs=0",
                "--json"));
    consistent(o, m, 7, 3, 2);
  }

  @Test
  void spaceSyntaxAndTextOutput() {
    String m = savedModel.toString();
    JsonNode o =
        json(
            CliRunner.run(
                "benchmark",
                "--num_threads",
                "1",
                "--num_runs",
                "4",
                "--warmup_runs",
                "0",
                "--warmup_min_secs",
                "0",
                "--warmup_max_secs",
                "0",
                "--json",
                m));
    consistent(o, m, 4, 0, 1);

    CliRunner r =
        CliRunner.run(
            "benchmark",
            m,
            "--num_runs",
            "3",
            "--warmup_runs",
            "1",
            "--warmup_min_secs=0",
            "--warmup_max_secs=0",
            "--num_threads",
            "1");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).isEmpty();
    assertThat(r.out())
        .contains(m + ": 1 thread, 1 warm-up + 3 timed runs")
        .contains("load ")
        .contains("first run ")
        .contains("(JIT not watched)")
        .contains("median CPU ")
        .contains("median ")
        .contains("p90 ")
        .contains("peak heap ")
        .contains("peak RSS ");
    assertThat(r.out().strip().lines()).hasSize(4);
  }

  @Test
  void defaultsAreAllProcessorsAndFiftyRuns() {
    String m = savedModel.toString();
    JsonNode o = json(CliRunner.run("benchmark", m, "--json"));
    // Warm-up goes on for --warmup_min_secs (0.5 s), past the 5 runs this small model takes,
    // then until the JIT settles, for at most --warmup_max_secs (10 s).
    int warmedUp = o.get("warmup_runs").asInt();
    assertThat(warmedUp).isGreaterThan(BenchmarkCommand.DEFAULT_WARMUP);
    double warmupMs = o.get("warmup_ms").asDouble();
    assertThat(warmupMs).isGreaterThanOrEqualTo(500);
    if (!o.get("warmup_steady").asBoolean()) {
      assertThat(warmupMs).isGreaterThanOrEqualTo(BenchmarkCommand.DEFAULT_WARMUP_MAX_SECS * 1000);
    }
    consistent(
        o, m, BenchmarkCommand.DEFAULT_RUNS, warmedUp, Runtime.getRuntime().availableProcessors());
  }

  @Test
  void warmupLastsAtLeastWarmupMinSecs() {
    String m = savedModel.toString();
    long t0 = System.nanoTime();
    JsonNode o =
        json(
            CliRunner.run(
                "benchmark",
                m,
                "--num_runs=1",
                "--warmup_runs=1",
                "--warmup_min_secs=0.3",
                "--warmup_max_secs=0",
                "--num_threads=1",
                "--json"));
    assertThat((System.nanoTime() - t0) / 1e9).isGreaterThanOrEqualTo(0.3);
    assertThat(o.get("warmup_runs").asInt()).isGreaterThan(1);
  }

  @Test
  void inputFilesAsInPredict() throws Exception {
    Path x = tmp.resolve("x.npy");
    Path ids = tmp.resolve("ids.npy");
    Random rnd = new Random(5);
    Npy.write(x, PredictCommandTest.floats(new long[] {16, 4}, rnd));
    Npy.write(ids, PredictCommandTest.longs(4, 5, 6));
    String m = savedModel.toString();
    JsonNode o =
        json(
            CliRunner.run(
                "benchmark",
                m,
                "--input",
                "ids=" + ids,
                x.toString(),
                "--num_runs=2",
                "--warmup_runs=0",
                "--warmup_min_secs=0",
                "--warmup_max_secs=0",
                "--num_threads=1",
                "--json"));
    consistent(o, m, 2, 0, 1);

    // A file that does not fit its input: one line, exit 1, nothing timed.
    Path wrong = tmp.resolve("wrong.npy");
    Npy.write(wrong, Tensor.ofFloats(Shape.of(2, 5), new float[10]));
    CliRunner r =
        CliRunner.run("benchmark", m, "--input", "x=" + wrong, "--input", "ids=" + ids, "--json");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.errLines()).hasSize(1);
    assertThat(r.err()).contains("input 'x' wants").contains("float32[2, 5]");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void tfliteFromTheCorpus() {
    Path tflite = Corpus.require("tflite/serving/half_plus_two.tflite");
    JsonNode o =
        json(
            CliRunner.run(
                "benchmark",
                tflite.toString(),
                "--num_runs=5",
                "--warmup_runs=2",
                "--warmup_min_secs=0",
                "--warmup_max_secs=0",
                "--num_threads=2",
                "--json"));
    consistent(o, tflite.toString(), 5, 2, 2);
  }

  @Test
  void opProfilingListsTheModelsOpsInBothSyntaxes() {
    Path tflite = Corpus.require("tflite/tflite-support/mobilenet_v1_0.25_224_1_default_1.tflite");
    String m = tflite.toString();
    // Bare before the model (it must stay the model, not the flag's value), and with '='.
    JsonNode bare =
        json(
            CliRunner.run(
                "benchmark",
                "--enable_op_profiling",
                m,
                "--num_runs=3",
                "--warmup_runs=0",
                "--warmup_min_secs=0",
                "--warmup_max_secs=0",
                "--num_threads=1",
                "--json"));
    JsonNode equals =
        json(
            CliRunner.run(
                "benchmark",
                m,
                "--enable_op_profiling=true",
                "--num_runs=3",
                "--warmup_runs=0",
                "--warmup_min_secs=0",
                "--warmup_max_secs=0",
                "--num_threads=1",
                "--json"));
    for (JsonNode o : List.of(bare, equals)) {
      consistent(o, m, 3, 0, 1);
      JsonNode ops = o.get("op_profile");
      assertThat(ops.isArray()).as(o.toString()).isTrue();
      java.util.Map<String, Integer> counts = new java.util.TreeMap<>();
      double percent = 0;
      double ms = 0;
      double previous = Double.MAX_VALUE;
      for (JsonNode t : ops) {
        counts.put(t.get("op").stringValue(), t.get("count").asInt());
        percent += t.get("percent").asDouble();
        double avg = t.get("avg_ms").asDouble();
        assertThat(avg).as("sorted, the most time first").isLessThanOrEqualTo(previous);
        previous = avg;
        ms += avg;
      }
      // MobileNet V1: 15 convolutions (the first, 13 pointwise and the 1×1 classifier, bias and
      // ReLU6 fused), 13 depthwise ones, the average pool, the classifier's squeeze and softmax.
      assertThat(counts)
          .isEqualTo(
              java.util.Map.of(
                  "_FusedConv2D", 15,
                  "FusedDepthwiseConv2dNative", 13,
                  "AvgPool", 1,
                  "Squeeze", 1,
                  "Softmax", 1));
      assertThat(percent).isCloseTo(100, org.assertj.core.data.Offset.offset(0.1));
      // The nodes' times are the runs' times but for the session's work around the plan.
      assertThat(ms).isPositive().isLessThanOrEqualTo(o.get("mean_ms").asDouble() * 1.01);
    }
    CliRunner off =
        CliRunner.run("benchmark", m, "--enable_op_profiling", "false", "--num_runs=1", "--json");
    assertThat(json(off).has("op_profile")).isFalse();

    // Text: the usual lines, then the summary and the ten slowest nodes.
    CliRunner r =
        CliRunner.run(
            "benchmark",
            m,
            "--enable_op_profiling",
            "--num_runs=2",
            "--warmup_runs=0",
            "--warmup_min_secs=0",
            "--warmup_max_secs=0",
            "--num_threads=1");
    assertThat(r.code()).as(r.err()).isZero();
    List<String> lines = r.out().strip().lines().toList();
    assertThat(lines.get(4)).startsWith("Summary by op type (2 runs, ");
    assertThat(lines.get(5)).contains("op type").contains("count").contains("cdf %");
    assertThat(lines).anyMatch(l -> l.strip().startsWith("_FusedConv2D "));
    assertThat(lines).anyMatch(l -> l.startsWith("Top 10 nodes by time:"));
    int top = lines.indexOf("Top 10 nodes by time:");
    assertThat(lines).hasSize(top + 12);
    // The last type's cumulative share is the whole.
    assertThat(lines.get(top - 1)).endsWith("100.00%");

    CliRunner bad = CliRunner.run("benchmark", m, "--enable_op_profiling=maybe");
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.errLines()).hasSize(1);
    assertThat(bad.err()).contains("--enable_op_profiling");
  }

  @Test
  void aFileUrlLoadsAsInPredict() {
    String url = savedModel.toUri().toString();
    assertThat(url).startsWith("file:");
    JsonNode o =
        json(
            CliRunner.run(
                "benchmark",
                url,
                "--num_runs=3",
                "--warmup_runs=1",
                "--warmup_min_secs=0",
                "--warmup_max_secs=0",
                "--json"));
    consistent(o, url, 3, 1, Runtime.getRuntime().availableProcessors());
  }

  @Test
  void badFlagsExitTwo() {
    String m = savedModel.toString();
    for (List<String> args :
        List.of(
            List.of("--num_runs=0"),
            List.of("--num_runs", "many"),
            List.of("--warmup_runs=-1"),
            List.of("--warmup_min_secs=-1"),
            List.of("--warmup_max_secs=-1"),
            List.of("--warmup_max_secs=NaN"),
            List.of("--num_threads=0"),
            List.of("--num_threads"),
            List.of("--frobnicate"),
            List.of("--num_runs=2", "--num_runs=3"))) {
      String[] full = new String[args.size() + 2];
      full[0] = "benchmark";
      full[1] = m;
      for (int i = 0; i < args.size(); i++) {
        full[i + 2] = args.get(i);
      }
      CliRunner r = CliRunner.run(full);
      assertThat(r.code()).as(args + ": " + r.err()).isEqualTo(2);
      assertThat(r.errLines()).as(args.toString()).hasSize(1);
      assertThat(r.err()).as(args.toString()).startsWith("tfport: benchmark: ");
      assertThat(r.out()).as(args.toString()).isEmpty();
    }
    CliRunner r = CliRunner.run("benchmark");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("give the model");
    r = CliRunner.run("benchmark", tmp.resolve("missing").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.errLines()).hasSize(1);
  }

  @Test
  void statisticsOfHandPickedRunTimes() {
    // Times 1..10 ms shuffled: median (5 + 6) / 2, nearest-rank p90 the 9th smallest, mean 5.5.
    var r =
        new BenchmarkCommand.Result(
            "m",
            1,
            1,
            1,
            new Warmup.Outcome(0, 0, Warmup.Stop.AT_MINIMUMS),
            new double[] {7, 3, 10, 1, 9, 2, 8, 5, 6, 4},
            new double[] {3, 2, 1},
            0,
            1,
            1,
            false,
            null);
    assertThat(r.min()).isEqualTo(1);
    assertThat(r.median()).isEqualTo(5.5);
    assertThat(r.p90()).isEqualTo(9);
    assertThat(r.mean()).isEqualTo(5.5);
    // An odd count: the middle one; p90 of 3 runs is the largest (ceil(2.7) = 3rd).
    var odd =
        new BenchmarkCommand.Result(
            "m",
            1,
            1,
            1,
            new Warmup.Outcome(0, 0, Warmup.Stop.AT_MINIMUMS),
            new double[] {2, 30, 4},
            new double[0],
            0,
            1,
            1,
            false,
            null);
    assertThat(odd.median()).isEqualTo(4);
    assertThat(odd.p90()).isEqualTo(30);
    JsonNode o = BenchmarkCommand.json(r);
    assertThat(o.get("median_ms").asDouble()).isEqualTo(5.5);
    assertThat(o.get("p90_ms").asDouble()).isEqualTo(9);
    assertThat(o.get("num_runs").asInt()).isEqualTo(10);
    assertThat(o.get("median_cpu_ms").asDouble()).isEqualTo(2);
    assertThat(BenchmarkCommand.json(odd).get("median_cpu_ms").asDouble()).isEqualTo(-1);
    assertThat(Files.exists(Path.of("/proc/self/status")) ? BenchmarkCommand.peakRss() : 1)
        .isPositive();
  }
}
