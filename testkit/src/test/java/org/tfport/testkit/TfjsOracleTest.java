package org.tfport.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.testkit.TfjsOracle.Input;
import org.tfport.testkit.TfjsOracle.Job;
import org.tfport.testkit.TfjsOracle.Output;
import org.tfport.testkit.TfjsOracle.Result;
import tools.jackson.databind.JsonNode;

/** The oracle end to end, on models that need no tfport code. */
@OracleTest
class TfjsOracleTest {
  @TempDir Path tmp;

  // ------------------------------------------------------------- corpus models

  @Test
  void runsRealCorpusModelsAndIsolatesAFailingJob() {
    Path abalone = Corpus.require("tfjs/layers/tfjs-examples_abalone/model.json");
    Path dense = Corpus.require("tfjs/graph/tfjs-e2e_dense_model/model.json");
    Path lstm = Corpus.require("tfjs/graph/tfjs-benchmarks_move_lstm_model/model.json");
    Path prefetch = Corpus.require("tfjs/graph/tfjs-examples_predictive_prefetching/model.json");
    Path nsfw = Corpus.require("tfjs/layers/nsfwjs_mobilenet_v2/model.json");

    List<Result> results =
        TfjsOracle.run(
            List.of(
                Job.layers(abalone, Input.f32(null, new long[] {4, 8}, ramp(32, 0.37f))),
                Job.load("layers", tmp.resolve("no-such-model/model.json")),
                Job.graph(
                    dense,
                    List.of(Input.f32(null, new long[] {3, 1}, new float[] {-1f, 0.5f, 2f})),
                    List.of()),
                // control flow (while loop), two outputs
                Job.graph(
                    lstm,
                    List.of(Input.f32("input_2", new long[] {1, 1, 51}, ramp(51, 0.11f))),
                    List.of("Identity", "Identity_1")),
                // two named int32 inputs (int64 in TF)
                Job.graph(
                    prefetch,
                    List.of(
                        Input.i32("session_index", new long[] {3}, new int[] {0, 1, 2}),
                        Input.i32("cur_page", new long[] {3}, new int[] {4, 7, 12})),
                    List.of()),
                Job.load("layers", nsfw)));

    assertThat(results).hasSize(6);

    Output y = results.get(0).orThrow().output(0);
    assertThat(y.name()).isEqualTo("dense_Dense3");
    assertThat(y.shape()).containsExactly(4, 1);
    assertFinite(y.data());
    assertThat(results.get(0).info().path("backend").stringValue()).isEqualTo("cpu");

    Result missing = results.get(1);
    assertThat(missing.ok()).isFalse();
    assertThat(missing.error()).contains("no-such-model");
    assertThat(missing.outputs()).isEmpty();

    Output d = results.get(2).orThrow().output(0);
    assertThat(d.shape()).containsExactly(3, 1);
    assertFinite(d.data());

    Result l = results.get(3).orThrow();
    assertThat(l.outputs()).extracting(Output::name).containsExactly("Identity", "Identity_1");
    assertThat(l.output("Identity").shape()).containsExactly(1, 1, 10);
    assertThat(l.output("Identity_1").shape()).containsExactly(1, 1, 1);
    assertFinite(l.output("Identity").data());
    assertFinite(l.output("Identity_1").data());

    Output p = results.get(4).orThrow().output(0);
    assertThat(p.shape()).containsExactly(3, 101);
    assertThat(p.dtype()).isEqualTo("float32");
    assertFinite(p.data());
    // softmax rows
    for (int r = 0; r < 3; r++) {
      double sum = 0;
      for (int c = 0; c < 101; c++) {
        sum += p.data()[r * 101 + c];
      }
      assertThat(sum).isBetween(0.999, 1.001);
    }

    Result n = results.get(5).orThrow();
    assertThat(n.outputs()).isEmpty();
    JsonNode info = n.info();
    assertThat(info.path("loaded").asBoolean()).isTrue();
    assertThat(info.path("inputs").get(0).path("name").stringValue()).isEqualTo("input_1");
    assertThat(longs(info.path("inputs").get(0).path("shape"))).containsExactly(-1, 224, 224, 3);
    assertThat(longs(info.path("outputs").get(0).path("shape"))).containsExactly(-1, 5);
  }

  // ------------------------------------------------------------- hand-built models: real numbers

  private static final float[] KERNEL = {0.5f, -1.25f, 2f, 0.75f, -3f, 0.125f}; // [3, 2], row-major
  private static final float[] BIAS = {0.1f, -0.2f};

  @Test
  void handBuiltDenseComputesTheRightNumbersOnCpuAndWasm() throws IOException {
    Path model = writeDenseModel(tmp.resolve("dense"));
    float[] x = {1f, 2f, 3f, -0.5f, 0.25f, 4f};
    float[] expected = new float[4];
    for (int b = 0; b < 2; b++) {
      for (int j = 0; j < 2; j++) {
        double acc = BIAS[j];
        for (int i = 0; i < 3; i++) {
          acc += (double) x[b * 3 + i] * KERNEL[i * 2 + j];
        }
        expected[b * 2 + j] = (float) acc;
      }
    }
    // 1*0.5+2*2+3*-3+0.1 = -4.4 ; 1*-1.25+2*0.75+3*0.125-0.2 = 0.425
    assertThat((double) expected[0]).isCloseTo(-4.4, org.assertj.core.data.Offset.offset(1e-6));

    Input in = Input.f32("input_1", new long[] {2, 3}, x);
    List<Result> results =
        TfjsOracle.run(
            List.of(
                Job.layers(model, in),
                Job.layers(model, in).withBackend("wasm"),
                Job.load("layers", model)));

    for (Result r : results.subList(0, 2)) {
      Output y = r.orThrow().output("dense");
      assertThat(y.shape()).containsExactly(2, 2);
      TfjsOracle.compare(expected, y.data(), 1e-6, 1e-6)
          .assertOk("dense on " + r.info().path("backend").stringValue());
    }
    assertThat(results.get(1).info().path("backend").stringValue()).isEqualTo("wasm");

    JsonNode info = results.get(2).orThrow().info();
    assertThat(info.path("inputs").get(0).path("name").stringValue()).isEqualTo("input_1");
    assertThat(longs(info.path("inputs").get(0).path("shape"))).containsExactly(-1, 3);
    assertThat(info.path("outputs").get(0).path("name").stringValue()).isEqualTo("dense");
    assertThat(longs(info.path("outputs").get(0).path("shape"))).containsExactly(-1, 2);
  }

  @Test
  void handBuiltFunctionalModelWithTwoNamedInputsAndTwoOutputs() throws IOException {
    Path model = writeTwoInTwoOutModel(tmp.resolve("functional"));
    float[] a = {1f, -2f, 0.5f, 3f};
    float[] b = {10f, 20f, -1f, -2f};
    // inputs given in the opposite order: the oracle must order them by name
    Result r =
        TfjsOracle.run(
                Job.layers(
                    model,
                    Input.f32("in_b", new long[] {2, 2}, b),
                    Input.f32("in_a", new long[] {2, 2}, a)))
            .orThrow();

    assertThat(r.outputs()).extracting(Output::name).containsExactly("sum", "scale");
    // sum = a0 + a1 + b0 + b1 + 0.5
    TfjsOracle.compare(new float[] {29.5f, 1f}, r.output("sum").data(), 1e-6, 1e-6).assertOk("sum");
    // scale = relu([2*a0, -3*a1 + 1])
    TfjsOracle.compare(new float[] {2f, 7f, 1f, 0f}, r.output("scale").data(), 1e-6, 1e-6)
        .assertOk("scale");
    assertThat(r.output("scale").shape()).containsExactly(2, 2);
  }

  @Test
  void truncatedWeightsAndWrongInputsFailPerJob() throws IOException {
    Path good = writeDenseModel(tmp.resolve("good"));
    Path bad = writeDenseModel(tmp.resolve("bad"));
    Files.write(bad.resolveSibling("group1-shard1of1.bin"), new byte[12]);
    Input in = Input.f32(null, new long[] {1, 3}, new float[] {1, 1, 1});
    List<Result> results =
        TfjsOracle.run(
            List.of(
                Job.layers(bad, in),
                Job.layers(good, Input.f32(null, new long[] {1, 4}, new float[4])),
                Job.graph(good, List.of(in), List.of()),
                Job.layers(good, in)));
    assertThat(results.get(0).ok()).isFalse();
    assertThat(results.get(1).ok()).isFalse();
    assertThat(results.get(2).ok()).as("a layers model loaded as a graph model").isFalse();
    assertThat(results.get(0).error()).contains("should have 6 values but has 3");
    assertThat(results.get(1).error()).contains("expected input_1 to have shape [null,3]");
    float[] y = results.get(3).orThrow().output(0).data();
    assertThat(y[0]).isCloseTo(0.5f + 2f - 3f + 0.1f, org.assertj.core.data.Offset.offset(1e-6f));
  }

  @Test
  void inputsAreValidated() {
    assertThatThrownBy(() -> Input.f32("x", new long[] {2, 2}, new float[3]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("holds 4");
    assertThatThrownBy(() -> new Job("saved_model", Path.of("m"), List.of(), List.of()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(TfjsOracle.run(List.of())).isEmpty();
  }

  // ------------------------------------------------------------- helpers

  private static Path writeDenseModel(Path dir) throws IOException {
    Files.createDirectories(dir);
    String json =
        """
        {"format": "layers-model", "generatedBy": "keras v2.15.0", "convertedBy": "tfport testkit (hand-written)",
         "modelTopology": {"keras_version": "2.15.0", "backend": "tensorflow",
          "model_config": {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
            {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 3], "dtype": "float32",
              "sparse": false, "ragged": false, "name": "input_1"}},
            {"class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32",
              "units": 2, "activation": "linear", "use_bias": true,
              "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
              "bias_initializer": {"class_name": "Zeros", "config": {}},
              "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null,
              "kernel_constraint": null, "bias_constraint": null}}]}}},
         "weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": [
           {"name": "dense/kernel", "shape": [3, 2], "dtype": "float32"},
           {"name": "dense/bias", "shape": [2], "dtype": "float32"}]}]}
        """;
    Files.writeString(dir.resolve("model.json"), json);
    Files.write(dir.resolve("group1-shard1of1.bin"), le(KERNEL, BIAS));
    return dir.resolve("model.json");
  }

  private static Path writeTwoInTwoOutModel(Path dir) throws IOException {
    Files.createDirectories(dir);
    String json =
        """
        {"format": "layers-model", "generatedBy": "keras v2.15.0", "convertedBy": null,
         "modelTopology": {"keras_version": "2.15.0", "backend": "tensorflow",
          "model_config": {"class_name": "Functional", "config": {"name": "model",
           "layers": [
            {"class_name": "InputLayer", "name": "in_a", "inbound_nodes": [],
             "config": {"batch_input_shape": [null, 2], "dtype": "float32", "sparse": false, "ragged": false, "name": "in_a"}},
            {"class_name": "InputLayer", "name": "in_b", "inbound_nodes": [],
             "config": {"batch_input_shape": [null, 2], "dtype": "float32", "sparse": false, "ragged": false, "name": "in_b"}},
            {"class_name": "Concatenate", "name": "concat", "inbound_nodes": [[["in_a", 0, 0, {}], ["in_b", 0, 0, {}]]],
             "config": {"name": "concat", "trainable": true, "dtype": "float32", "axis": -1}},
            {"class_name": "Dense", "name": "sum", "inbound_nodes": [[["concat", 0, 0, {}]]],
             "config": {"name": "sum", "trainable": true, "dtype": "float32", "units": 1, "activation": "linear", "use_bias": true}},
            {"class_name": "Dense", "name": "scale", "inbound_nodes": [[["in_a", 0, 0, {}]]],
             "config": {"name": "scale", "trainable": true, "dtype": "float32", "units": 2, "activation": "relu", "use_bias": true}}],
           "input_layers": [["in_a", 0, 0], ["in_b", 0, 0]],
           "output_layers": [["sum", 0, 0], ["scale", 0, 0]]}}},
         "weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": [
           {"name": "sum/kernel", "shape": [4, 1], "dtype": "float32"},
           {"name": "sum/bias", "shape": [1], "dtype": "float32"},
           {"name": "scale/kernel", "shape": [2, 2], "dtype": "float32"},
           {"name": "scale/bias", "shape": [2], "dtype": "float32"}]}]}
        """;
    Files.writeString(dir.resolve("model.json"), json);
    Files.write(
        dir.resolve("group1-shard1of1.bin"),
        le(
            new float[] {1, 1, 1, 1},
            new float[] {0.5f},
            new float[] {2, 0, 0, -3},
            new float[] {0, 1}));
    return dir.resolve("model.json");
  }

  private static byte[] le(float[]... parts) {
    int n = 0;
    for (float[] p : parts) {
      n += p.length;
    }
    ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (float[] p : parts) {
      for (float v : p) {
        b.putFloat(v);
      }
    }
    return b.array();
  }

  private static float[] ramp(int n, float step) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) Math.sin(i * step);
    }
    return v;
  }

  private static void assertFinite(float[] v) {
    assertThat(v).isNotEmpty();
    for (int i = 0; i < v.length; i++) {
      assertThat(Float.isFinite(v[i])).as("element %d = %s is finite", i, v[i]).isTrue();
    }
  }

  private static long[] longs(JsonNode arr) {
    long[] s = new long[arr.size()];
    for (int i = 0; i < s.length; i++) {
      s[i] = arr.get(i).asLong();
    }
    return s;
  }
}
