package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.testkit.Corpus;

/**
 * Keras and TF.js layers models to TF.js graph models and .tflite from the command line, checked
 * with {@code --verify} (tfport's runtime runs the Keras input and the written output on the same
 * inputs), and {@code predict} on a Keras file.
 */
class KerasGraphCliTest {
  @TempDir Path tmp;

  private static final String MODEL = "keras_h5/dl4j/fullconfigs/cnn/cnn_batch_norm.h5";

  @Test
  void kerasToGraphModelAndTfliteVerify() throws Exception {
    Path h5 = Corpus.require(MODEL);
    Path graph = tmp.resolve("graph");
    CliRunner r =
        CliRunner.run(
            "convert",
            "--input_format=keras",
            "--output_format=tfjs_graph_model",
            "--verify",
            h5.toString(),
            graph.toString());
    assertThat(r.code()).as(r.err() + r.out()).isZero();
    assertThat(Files.readString(graph.resolve("model.json"))).contains("\"graph-model\"");
    assertThat(r.out()).contains("verify: ").contains(" ok");

    Path layers = tmp.resolve("layers");
    assertThat(CliRunner.run("convert", h5.toString(), layers.toString()).code()).isZero();
    Path fromLayers = tmp.resolve("from_layers");
    r =
        CliRunner.run(
            "convert",
            "--input_format=tfjs_layers_model",
            "--output_format=tfjs_graph_model",
            "--verify",
            layers.resolve("model.json").toString(),
            fromLayers.toString());
    assertThat(r.code()).as(r.err() + r.out()).isZero();
    assertThat(r.out()).contains(" ok");

    Path tflite = tmp.resolve("m.tflite");
    r =
        CliRunner.run(
            "convert",
            "--input_format=keras",
            "--output_format=tflite",
            "--verify",
            h5.toString(),
            tflite.toString());
    assertThat(r.code()).as(r.err() + r.out()).isZero();
    assertThat(r.out()).contains(" ok");
    assertThat(TfliteReader.read(tflite).signatureDefs()).hasSize(1);

    Path quantized = tmp.resolve("q.tflite");
    r =
        CliRunner.run(
            "tflite_convert",
            "--keras_model_file",
            h5.toString(),
            "--output_file",
            quantized.toString(),
            "--post_training_quantize",
            "--verify");
    assertThat(r.code()).as(r.err() + r.out()).isZero();
    assertThat(r.out()).contains(" ok");
  }

  @Test
  void predictRunsAKerasFile() {
    Path h5 = Corpus.require(MODEL);
    CliRunner r = CliRunner.run("predict", h5.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("float32[");
  }

  @Test
  void aLambdaIsRefusedByNameAndNothingIsWritten() {
    Path h5 = Corpus.require("keras_h5/dl4j/weights/space_to_depth_simple_tensorflow_2.h5");
    Path out = tmp.resolve("out");
    CliRunner r =
        CliRunner.run(
            "convert",
            "--input_format=keras",
            "--output_format=tfjs_graph_model",
            h5.toString(),
            out.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.errLines()).hasSize(1);
    assertThat(r.err()).contains(h5.toString()).contains("Lambda (its Python code cannot be read)");
    assertThat(out).doesNotExist();
  }
}
