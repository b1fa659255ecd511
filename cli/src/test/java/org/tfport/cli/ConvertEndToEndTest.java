package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.Tensor;
import org.tfport.formats.tfjs.TfjsModel;
import org.tfport.formats.tfjs.TfjsModelFiles;
import org.tfport.formats.tfjs.TfjsReader;
import org.tfport.formats.tfjs.WeightSpec;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfjsOracle.Input;
import org.tfport.testkit.TfjsOracle.Job;
import org.tfport.testkit.TfjsOracle.Result;
import tools.jackson.databind.JsonNode;

/**
 * The CLI end to end: a model the test writes, converted with each option, loaded and run by real
 * TensorFlow.js 4.22, and compared with the model's forward pass computed in Java.
 */
class ConvertEndToEndTest {
  private static final int BATCH = 7;
  @TempDir Path tmp;

  private static float[] inputs() {
    SplittableRandom r = new SplittableRandom(42);
    float[] x = new float[BATCH * DemoModel.IN];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (r.nextDouble() * 4 - 2);
    }
    return x;
  }

  private static Job predict(Path out) {
    return Job.layers(
        out.resolve("model.json"), new Input("input", new long[] {BATCH, DemoModel.IN}, inputs()));
  }

  private static float[] expected() {
    double[] e = DemoModel.predict(inputs(), BATCH);
    float[] f = new float[e.length];
    for (int i = 0; i < e.length; i++) {
      f[i] = (float) e[i];
    }
    return f;
  }

  private Path model() {
    return DemoModel.write(tmp.resolve("my model.h5"), "Dense");
  }

  @OracleTest
  @Test
  void exactIssueCommandConvertsAndTfjsComputesTheModel() {
    Path out = tmp.resolve("out dir");
    CliRunner r =
        CliRunner.run(
            "convert",
            "--input_format=keras",
            "--output_format=tfjs_layers_model",
            model().toString(),
            out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).startsWith("wrote " + out).contains("4 weights");
    Result res = TfjsOracle.run(predict(out)).orThrow();
    Comparison.of(expected(), res.outputs().get(0).data(), 1e-6, 1e-5)
        .assertOk("tfjs vs Java forward pass");
  }

  @OracleTest
  @Test
  void quantizedModelsStayWithinTheirBoundsAndStillRun() {
    Path h5 = model();
    float[] want = expected();
    Map<String, float[]> originals =
        Map.of(
            "dense/kernel", DemoModel.values("dense/kernel", DemoModel.IN * DemoModel.HIDDEN),
            "dense_1/kernel", DemoModel.values("dense_1/kernel", DemoModel.HIDDEN * DemoModel.OUT));
    List<Job> jobs = new ArrayList<>();
    for (String mode : List.of("float16", "uint8", "uint16")) {
      Path out = tmp.resolve("q_" + mode);
      CliRunner r =
          CliRunner.run(
              "tensorflowjs_converter",
              "--input_format",
              "keras",
              "--quantize_" + mode,
              h5.toString(),
              out.toString());
      assertThat(r.code()).as(r.err()).isZero();
      TfjsModelFiles files = TfjsReader.open(out.resolve("model.json"));
      TfjsModel m = files.load();
      for (var e : originals.entrySet()) {
        WeightSpec spec =
            files.specs().stream()
                .flatMap(List::stream)
                .filter(s -> s.name().equals(e.getKey()))
                .findFirst()
                .orElseThrow();
        assertThat(spec.quantization()).isNotNull();
        assertThat(spec.dtype()).isEqualTo(DType.FLOAT32);
        float[] got = m.weightsByName().get(e.getKey()).toFloatArray();
        float[] orig = e.getValue();
        for (int i = 0; i < orig.length; i++) {
          if (mode.equals("float16")) {
            // bit-exact: what IEEE round-to-nearest-even to half and back gives
            assertThat(Float.floatToRawIntBits(got[i]))
                .isEqualTo(
                    Float.floatToRawIntBits(Float.float16ToFloat(Float.floatToFloat16(orig[i]))));
          } else {
            double bound = spec.quantization().scale() / 2 + Math.ulp(orig[i]);
            assertThat((double) Math.abs(got[i] - orig[i]))
                .as(mode + " " + e.getKey() + "[" + i + "]")
                .isLessThanOrEqualTo(bound);
          }
        }
      }
      jobs.add(predict(out));
    }
    List<Result> res = TfjsOracle.run(jobs);
    // Outputs are softmax probabilities; quantization error in the weights moves them only a
    // little.
    double[] tol = {5e-4, 2e-2, 5e-5};
    for (int i = 0; i < res.size(); i++) {
      Comparison c = Comparison.of(want, res.get(i).orThrow().outputs().get(0).data(), tol[i], 0);
      System.out.println("quantized " + List.of("float16", "uint8", "uint16").get(i) + ": " + c);
      c.assertOk("quantized model " + i);
    }
  }

  @OracleTest
  @Test
  void shardingSplittingMetadataAndBooleanFalse() throws IOException {
    Path meta = Files.writeString(tmp.resolve("meta.json"), "{\"labels\": [\"a\", \"b\", \"c\"]}");
    Path out = tmp.resolve("split");
    CliRunner r =
        CliRunner.run(
            "convert",
            "--input_format=keras",
            "--weight_shard_size_bytes",
            "32",
            "--split_weights_by_layer",
            "--metadata",
            "info:" + meta,
            "--strip_debug_ops=false",
            model().toString(),
            out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode mj = Json.MAPPER.readTree(out.resolve("model.json").toFile());
    assertThat(mj.path("weightsManifest")).hasSize(2);
    // dense: 4*5+5 floats = 100 bytes -> 4 shards of 32; dense_1: 5*3+3 = 72 bytes -> 3 shards
    assertThat(mj.path("weightsManifest").get(0).path("paths")).hasSize(4);
    assertThat(mj.path("weightsManifest").get(1).path("paths").get(2).stringValue())
        .isEqualTo("group2-shard3of3.bin");
    assertThat(Files.size(out.resolve("group1-shard4of4.bin"))).isEqualTo(4);
    assertThat(mj.path("userDefinedMetadata").path("info").path("labels").get(2).stringValue())
        .isEqualTo("c");
    Comparison.of(
            expected(), TfjsOracle.run(predict(out)).orThrow().outputs().get(0).data(), 1e-6, 1e-5)
        .assertOk("split model");

    Path notSplit = tmp.resolve("notsplit");
    assertThat(
            CliRunner.run(
                    "convert",
                    "--split_weights_by_layer=false",
                    model().toString(),
                    notSplit.toString())
                .code())
        .isZero();
    assertThat(
            Json.MAPPER.readTree(notSplit.resolve("model.json").toFile()).path("weightsManifest"))
        .hasSize(1);
  }

  @Test
  void switchBeforeThePathsLeavesThePathsAlone() throws IOException {
    Path out = tmp.resolve("switch");
    CliRunner r =
        CliRunner.run(
            "tensorflowjs_converter",
            "--input_format=keras",
            "--split_weights_by_layer",
            model().toString(),
            out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(Json.MAPPER.readTree(out.resolve("model.json").toFile()).path("weightsManifest"))
        .hasSize(2);
    CliRunner f =
        CliRunner.run(
            "convert",
            "--split_weights_by_layer",
            "false",
            model().toString(),
            tmp.resolve("switch2").toString());
    assertThat(f.code()).as(f.err()).isZero();
    assertThat(
            Json.MAPPER
                .readTree(tmp.resolve("switch2/model.json").toFile())
                .path("weightsManifest"))
        .hasSize(1);
  }

  @OracleTest
  @Test
  void layersModelReshardAndRequantizeKeepsTopologyAndNumbers() throws IOException {
    Path first = tmp.resolve("first");
    assertThat(CliRunner.run("convert", model().toString(), first.toString()).code()).isZero();
    Path second = tmp.resolve("second");
    CliRunner r =
        CliRunner.run(
            "convert",
            "--input_format=tfjs_layers_model",
            "--output_format=tfjs_layers_model",
            "--weight_shard_size_bytes=64",
            "--quantize_uint16=*/kernel",
            first.resolve("model.json").toString(),
            second.toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode a = Json.MAPPER.readTree(first.resolve("model.json").toFile());
    JsonNode b = Json.MAPPER.readTree(second.resolve("model.json").toFile());
    assertThat(b.path("modelTopology")).isEqualTo(a.path("modelTopology"));
    assertThat(b.path("generatedBy")).isEqualTo(a.path("generatedBy"));
    List<String> quantized = new ArrayList<>();
    for (JsonNode w : b.path("weightsManifest").get(0).path("weights")) {
      if (w.has("quantization")) {
        quantized.add(w.path("name").stringValue());
      }
    }
    assertThat(quantized).containsExactly("dense/kernel", "dense_1/kernel");
    try (Stream<Path> s = Files.list(second)) {
      assertThat(s.filter(p -> p.toString().endsWith(".bin")).count()).isGreaterThan(1);
    }
    Comparison.of(
            expected(), TfjsOracle.run(predict(second)).orThrow().outputs().get(0).data(), 2e-4, 0)
        .assertOk("re-quantized model");
  }

  @OracleTest
  @Test
  void keras3FileIsInferredAndRunsInTfjs() {
    Path keras = Corpus.require("keras_v3/mlx_branch_model.keras");
    Path out = tmp.resolve("k3");
    CliRunner r = CliRunner.run("convert", keras.toString(), out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(keras.resolveSibling("config.json"))
        .as("nothing extracted beside the input")
        .doesNotExist();
    // batch_shape [2, 3, 2]: masking then an LSTM of one unit; strict weight loading checks every
    // shape.
    Result res =
        TfjsOracle.run(
                Job.layers(
                    out.resolve("model.json"),
                    new Input(
                        "input_layer",
                        new long[] {2, 3, 2},
                        new float[] {0, 0, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0})))
            .orThrow();
    assertThat(res.outputs().get(0).shape()).containsExactly(2, 1);
    Tensor kernel = TfjsReader.read(out.resolve("model.json")).weightsByName().get("lstm/kernel");
    assertThat(kernel.shape().dims()).containsExactly(2, 4);
  }

  @OracleTest
  @Test
  void demoCommandWorks() {
    CliRunner r = CliRunner.run("demo", tmp.resolve("demo").toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("weights identical", "tfjs_graph_model", "fused 2 _FusedMatMul");
    // The layers model and the graph model of the same network compute the same in TF.js.
    float[] x = {0.5f, -1f, 2f, 0.25f, -0.75f, 1.5f, 0f, -2f};
    Result layers =
        TfjsOracle.run(
                Job.layers(
                    tmp.resolve("demo/tfjs_model/model.json"),
                    new Input("input", new long[] {2, 4}, x)))
            .orThrow();
    Result graph =
        TfjsOracle.run(
                java.util.List.of(
                    Job.graph(
                        tmp.resolve("demo/tfjs_graph_model/model.json"),
                        java.util.List.of(Input.f32("x", new long[] {2, 4}, x)),
                        java.util.List.of("probabilities"))))
            .get(0)
            .orThrow();
    assertThat(graph.output(0).data())
        .containsExactly(layers.output(0).data(), org.assertj.core.data.Offset.offset(1e-6f));
  }

  @Test
  void helpAndVersion() {
    CliRunner help = CliRunner.run("convert", "--help");
    assertThat(help.code()).isZero();
    assertThat(help.out())
        .contains("--quantize_uint8", "--weight_shard_size_bytes", "supported conversions");
    assertThat(CliRunner.run("--version").out()).startsWith("tfport ");
    assertThat(CliRunner.run("tensorflowjs_converter", "--version").code()).isZero();
  }
}
