package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Json;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import tools.jackson.databind.JsonNode;

/**
 * {@code tfport analyze} and {@code convert --input_format=tfjs_graph_model
 * --output_format=tflite}.
 */
@OracleTest
class AnalyzeAndTfjsGraphCliTest {
  @TempDir Path tmp;

  static CliRunner run(String... args) {
    return CliRunner.run(args);
  }

  @Test
  void tfjsGraphModelConvertsToTflite() {
    Path mj = Corpus.require("tfjs/graph/tfjs-examples_predictive_prefetching/model.json");
    Path out = tmp.resolve("pp.tflite");
    CliRunner r =
        run(
            "convert",
            "--input_format=tfjs_graph_model",
            "--output_format=tflite",
            mj.toString(),
            out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(TfliteReader.read(out).signatureDefs().get(0).inputs()).hasSize(2);

    // Keras LSTMs: StatelessWhile loops over TensorLists, WHILE subgraphs in TFLite.
    Path lstm = Corpus.require("tfjs/graph/tfjs-benchmarks_move_lstm_model/model.json");
    r =
        run(
            "convert",
            "--input_format=tfjs_graph_model",
            "--output_format=tflite",
            lstm.toString(),
            tmp.resolve("l.tflite").toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(TfliteReader.read(tmp.resolve("l.tflite")).operatorCodes())
        .anyMatch(c -> c.name().equals("WHILE"));
  }

  /** An op TFLite has no builtin for is named with its node, and nothing is written. */
  @Test
  void opWithoutABuiltinIsRefused() throws Exception {
    Path pb = tmp.resolve("digamma.pb");
    java.nio.file.Files.write(
        pb,
        org.tensorflow.proto.GraphDef.newBuilder()
            .addNode(GraphInputTest.placeholder("x"))
            .addNode(GraphInputTest.node("psi", "Digamma", "x"))
            .build()
            .toByteArray());
    Path out = tmp.resolve("d.tflite");
    CliRunner r =
        run(
            "convert",
            "--input_format=tf_frozen_model",
            "--output_format=tflite",
            "--output_node_names=psi",
            pb.toString(),
            out.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("Digamma (psi)").contains("--enable_select_tf_ops");
    assertThat(out).doesNotExist();
  }

  @Test
  void analyzePrintsTextAndJson() {
    Path mj = Corpus.require("tfjs/graph/tfjs-benchmarks_move_lstm_model/model.json");
    CliRunner r = run("analyze", mj.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("StatelessWhile")
        .contains("TFLite builtins: supported")
        .contains("Parameters: 157,862");
    r = run("analyze", mj.toString(), "--json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = Json.MAPPER.readTree(r.out());
    assertThat(j.path("parameters").asLong()).isEqualTo(157_862);
    assertThat(j.path("targets").get(1).path("unsupported").isEmpty()).isTrue();
    assertThat(j.path("quantization").size()).isEqualTo(8);

    r = run("analyze", tmp.resolve("missing.pb").toString());
    assertThat(r.code()).isEqualTo(2);
    r = run("analyze");
    assertThat(r.code()).isEqualTo(2);
  }
}
