package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfjsOracle.Input;
import org.tfport.testkit.TfjsOracle.Job;
import org.tfport.testkit.TfjsOracle.Result;

/**
 * The reverse pairs from the command line: a TF.js layers model back to Keras (.h5, the default for
 * a layers model.json as upstream, and .keras), each verified in tfport's runtime and then
 * converted forward again and run by TensorFlow.js 4.22 against the model's forward pass computed
 * in Java; and a .tflite to the three TensorFlow graph formats.
 */
class ReverseConversionCliTest {
  private static final int BATCH = 5;
  @TempDir Path tmp;

  private static float[] inputs() {
    SplittableRandom r = new SplittableRandom(7);
    float[] x = new float[BATCH * DemoModel.IN];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (r.nextDouble() * 4 - 2);
    }
    return x;
  }

  private static float[] expected() {
    double[] e = DemoModel.predict(inputs(), BATCH);
    float[] f = new float[e.length];
    for (int i = 0; i < e.length; i++) {
      f[i] = (float) e[i];
    }
    return f;
  }

  private Path layersModel(String... quantize) {
    Path h5 = DemoModel.write(tmp.resolve("demo.h5"), "Dense");
    Path out = tmp.resolve("layers");
    String[] args =
        java.util.stream.Stream.concat(
                java.util.stream.Stream.of("convert", "--output_format=tfjs_layers_model"),
                java.util.stream.Stream.concat(
                    java.util.Arrays.stream(quantize),
                    java.util.stream.Stream.of(h5.toString(), out.toString())))
            .toArray(String[]::new);
    CliRunner r = CliRunner.run(args);
    assertThat(r.code()).as(r.err()).isZero();
    return out.resolve("model.json");
  }

  @OracleTest
  @Test
  void layersModelBackToKerasRunsTheSameInRuntimeAndTfjs() {
    Path json = layersModel();
    Path h5 = tmp.resolve("back.h5");
    Path keras = tmp.resolve("back.keras");
    // No --output_format: a layers model.json goes to Keras HDF5, as upstream's default.
    CliRunner toH5 =
        CliRunner.run(
            "convert",
            "--input_format=tfjs_layers_model",
            "--verify",
            json.toString(),
            h5.toString());
    assertThat(toH5.code()).as(toH5.err()).isZero();
    assertThat(toH5.out()).startsWith("wrote " + h5).contains("4 weights").contains("verify:");
    assertThat(toH5.out()).doesNotContain("beyond");
    CliRunner toKeras =
        CliRunner.run(
            "convert",
            "--input_format=tfjs_layers_model",
            "--output_format=keras_keras",
            "--verify",
            json.toString(),
            keras.toString());
    assertThat(toKeras.code()).as(toKeras.err()).isZero();
    assertThat(toKeras.out()).contains("verify:").doesNotContain("beyond");

    List<Job> jobs = new java.util.ArrayList<>();
    for (Path k : List.of(h5, keras)) {
      Path again = tmp.resolve("again-" + k.getFileName());
      CliRunner fwd = CliRunner.run("convert", k.toString(), again.toString());
      assertThat(fwd.code()).as(fwd.err()).isZero();
      jobs.add(
          Job.layers(
              again.resolve("model.json"),
              new Input("input", new long[] {BATCH, DemoModel.IN}, inputs())));
    }
    List<Result> results = TfjsOracle.run(jobs);
    for (int i = 0; i < results.size(); i++) {
      Comparison c =
          Comparison.of(expected(), results.get(i).orThrow().outputs().get(0).data(), 1e-6, 1e-5);
      System.out.println("tfjs on the model back from " + List.of("h5", "keras").get(i) + ": " + c);
      c.assertOk("tfjs vs Java forward pass");
    }
  }

  @OracleTest
  @Test
  void layersModelToKerasSavedModelServesInTensorFlow() throws Exception {
    Path json = layersModel();
    Path sm = tmp.resolve("keras_sm");
    CliRunner r =
        CliRunner.run(
            "convert",
            "--input_format=tfjs_layers_model",
            "--output_format=keras_saved_model",
            "--verify",
            json.toString(),
            sm.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).startsWith("wrote " + sm).contains("verify:").doesNotContain("beyond");
    assertThat(sm.resolve("keras_metadata.pb")).isRegularFile();
    var sig =
        org.tfport.formats.savedmodel.SavedModelReader.signatures(sm, java.util.Set.of("serve"))
            .get("serving_default");
    String key = sig.inputs().keySet().iterator().next();
    var feed =
        new org.tfport.testkit.TensorFlowOracle.Feed(
            new Input(key, new long[] {BATCH, DemoModel.IN}, inputs()), 1);
    var out =
        org.tfport.testkit.TensorFlowOracle.runSavedModelAsIs(
            sm, "serve", "serving_default", java.util.Map.of(key, feed));
    assertThat(out).hasSize(1);
    Comparison c = Comparison.of(expected(), out.values().iterator().next(), 1e-6, 1e-5);
    System.out.println("TensorFlow serving_default of the Keras SavedModel: " + c);
    c.assertOk("TF 2.18 vs Java forward pass");
    // Back to TF.js from the SavedModel, through tfport's Keras SavedModel reader.
    CliRunner fwd = CliRunner.run("convert", sm.toString(), tmp.resolve("again").toString());
    assertThat(fwd.code()).as(fwd.err()).isZero();
    assertThat(fwd.out()).contains("4 weights");
  }

  @Test
  void quantizedLayersModelIsDequantizedWithANote() {
    Path json = layersModel("--quantize_uint8");
    Path h5 = tmp.resolve("q.h5");
    CliRunner r =
        CliRunner.run(
            "convert",
            "--input_format=tfjs_layers_model",
            "--output_format=keras",
            "--verify",
            json.toString(),
            h5.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("tfport: note:").contains("4 quantized weights were dequantized");
    assertThat(r.out()).contains("verify:").contains(" ok").doesNotContain("beyond");
  }

  @Test
  void kerasOutputRefusesTfjsOnlyFlagsAndGraphModels() {
    Path json = layersModel();
    CliRunner r =
        CliRunner.run(
            "convert",
            "--input_format=tfjs_layers_model",
            "--output_format=keras",
            "--quantize_float16",
            json.toString(),
            tmp.resolve("x.h5").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("keeps the weights as they are");
    assertThat(tmp.resolve("x.h5")).doesNotExist();
  }

  @Test
  void tfliteConvertsToEachGraphFormat() {
    Path tflite = Corpus.require("tflite/tflite-micro/hello_world_float.tflite");
    for (String[] fmt :
        new String[][] {
          {"tfjs_graph_model", "graph"}, {"tf_saved_model", "saved"}, {"tf_frozen_model", "f.pb"}
        }) {
      Path out = tmp.resolve(fmt[1]);
      CliRunner r =
          CliRunner.run(
              "convert",
              "--input_format=tflite",
              "--output_format=" + fmt[0],
              tflite.toString(),
              out.toString());
      assertThat(r.code()).as(fmt[0] + ": " + r.err()).isZero();
      assertThat(r.out()).as(fmt[0]).startsWith("wrote " + out);
      Path main =
          switch (fmt[0]) {
            case "tfjs_graph_model" -> out.resolve("model.json");
            case "tf_saved_model" -> out.resolve("saved_model.pb");
            default -> out;
          };
      assertThat(main).as(fmt[0]).isRegularFile();
    }
    // The graph model and the SavedModel compute what the .tflite computes, in tfport's runtime.
    for (String name : List.of("graph", "saved")) {
      CliRunner v =
          CliRunner.run(
              "convert",
              "--input_format=tflite",
              "--output_format=" + (name.equals("graph") ? "tfjs_graph_model" : "tf_saved_model"),
              "--verify",
              tflite.toString(),
              tmp.resolve(name + "2").toString());
      assertThat(v.code()).as(name + ": " + v.out() + v.err()).isZero();
      assertThat(v.out()).as(name).contains("verify:").contains(" ok");
    }
    assertThat(Files.exists(tmp.resolve("saved").resolve("variables"))).isTrue();
  }

  @Test
  void keepQuantizationKeepsTheIntegersOfADynamicRangeFile() throws Exception {
    Path pb = Corpus.require("frozen_pb/tf2onnx/fc-layers.pb");
    Path q = tmp.resolve("dr.tflite");
    CliRunner t =
        CliRunner.run(
            "tflite_convert",
            "--graph_def_file",
            pb.toString(),
            "--output_arrays",
            "output",
            "--output_file",
            q.toString(),
            "--post_training_quantize");
    assertThat(t.code()).as(t.err()).isZero();
    long[] sizes = new long[2];
    for (int k = 0; k < 2; k++) {
      Path out = tmp.resolve("dr_sm" + k);
      CliRunner r =
          k == 0
              ? CliRunner.run(
                  "convert",
                  "--input_format=tflite",
                  "--output_format=tf_saved_model",
                  "--keep_quantization",
                  "--verify",
                  q.toString(),
                  out.toString())
              : CliRunner.run(
                  "convert",
                  "--input_format=tflite",
                  "--output_format=tf_saved_model",
                  "--verify",
                  q.toString(),
                  out.toString());
      assertThat(r.code()).as(r.err()).isZero();
      assertThat(r.out()).contains("verify:").contains(" ok");
      assertThat(r.err())
          .contains(k == 0 ? "3 quantized weights kept as stored" : "dequantized to float32");
      sizes[k] = Files.size(out.resolve("variables/variables.data-00000-of-00001"));
    }
    // int8 weights take a quarter of the float32 bytes.
    assertThat(sizes[0]).isLessThan(sizes[1] / 3);
    Path js = tmp.resolve("dr_js");
    CliRunner r =
        CliRunner.run(
            "convert",
            "--input_format=tflite",
            "--output_format=tfjs_graph_model",
            "--keep_quantization",
            "--verify",
            q.toString(),
            js.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains(" ok");
    assertThat(r.err()).contains("3 quantized weights kept as stored (uint8");
    assertThat(Files.readString(js.resolve("model.json"))).contains("\"quantization\"");
  }

  @Test
  void keepQuantizationKeepsTheFloat16WeightsOfACorpusFile() throws Exception {
    // face_landmark rather than cartoongan_fp16 (TfliteKeepFloat16Test has both): --verify runs
    // it in well under a second, where cartoongan's 20 s would be most of the unit tests' minute.
    Path f = Corpus.require("tflite/mediapipe-github/face_landmark.tflite");
    long[] sizes = new long[2];
    for (int k = 0; k < 2; k++) {
      Path out = tmp.resolve("f16_sm" + k);
      List<String> args =
          new java.util.ArrayList<>(
              List.of(
                  "convert",
                  "--input_format=tflite",
                  "--output_format=tf_saved_model",
                  "--verify",
                  f.toString(),
                  out.toString()));
      if (k == 0) {
        args.add(3, "--keep_quantization");
      }
      CliRunner r = CliRunner.run(args.toArray(String[]::new));
      assertThat(r.code()).as(r.err()).isZero();
      assertThat(r.out()).contains("verify:").contains(" ok");
      assertThat(r.err())
          .contains(
              k == 0
                  ? "113 quantized weights kept as stored (float16 with Cast, exact)"
                  : "113 quantized weights were dequantized to float32");
      sizes[k] = Files.size(out.resolve("variables/variables.data-00000-of-00001"));
    }
    // float16 weights take half the float32 bytes.
    assertThat(sizes[0]).isLessThan(sizes[1] * 6 / 10);
    Path js = tmp.resolve("f16_js");
    CliRunner r =
        CliRunner.run(
            "convert",
            "--input_format=tflite",
            "--output_format=tfjs_graph_model",
            "--keep_quantization",
            "--verify",
            f.toString(),
            js.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains(" ok");
    assertThat(r.err()).contains("float16 weights kept as stored (the manifest's float16");
    assertThat(Files.readString(js.resolve("model.json"))).contains("\"float16\"");
  }

  @Test
  void verifyPairsAFrozenGraphsOutputsByTheirShapes() {
    // The frozen GraphDef lists face_landmark's two outputs in another order than the .tflite,
    // under
    // other names; pairing by position compared a [1,1,1,1] output with a [1,1,1,1404] one.
    Path f = Corpus.require("tflite/mediapipe-github/face_landmark.tflite");
    Path out = tmp.resolve("face.pb");
    CliRunner r =
        CliRunner.run(
            "convert",
            "--input_format=tflite",
            "--output_format=tf_frozen_model",
            "--verify",
            f.toString(),
            out.toString());
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    assertThat(r.out()).doesNotContain("BEYOND");
    assertThat(r.out().lines().filter(l -> l.startsWith("verify:") && l.endsWith(" ok")))
        .hasSize(2);
  }

  @Test
  void keepQuantizationRefusesIntegerActivationsAndOtherInputs() {
    Path full = Corpus.require("tflite/tflite-support/mobilenet_v1_0.25_224_quant.tflite");
    Path out = tmp.resolve("mn");
    CliRunner r =
        CliRunner.run(
            "convert",
            "--input_format=tflite",
            "--output_format=tf_saved_model",
            "--keep_quantization",
            full.toString(),
            out.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().strip()).doesNotContain("\n").contains(full.toString());
    assertThat(r.err()).contains("--keep_quantization keeps the integer weights");
    assertThat(out).doesNotExist();
    Path h5 = Corpus.require("keras_h5/dl4j/fullconfigs/cnn/cnn_batch_norm.h5");
    CliRunner u =
        CliRunner.run(
            "convert",
            "--input_format=keras",
            "--output_format=tfjs_layers_model",
            "--keep_quantization",
            h5.toString(),
            tmp.resolve("k").toString());
    assertThat(u.code()).isEqualTo(2);
    assertThat(u.err()).contains("--keep_quantization is for tflite input");
  }
}
