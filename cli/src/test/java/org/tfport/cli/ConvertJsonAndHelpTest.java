package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Json;
import org.tfport.testkit.Corpus;
import tools.jackson.databind.JsonNode;

/**
 * {@code convert --help} names the TFLite flags {@code convert} accepts and every supported pair;
 * {@code --json} prints exactly one object whose file sizes are those on disk.
 */
class ConvertJsonAndHelpTest {
  @TempDir Path tmp;

  @Test
  void helpListsTfliteFlagsAndEveryPair() {
    CliRunner r = CliRunner.run("convert", "--help");
    assertThat(r.code()).isZero();
    assertThat(r.out())
        .contains("--representative_data")
        .contains("--post_training_quantize")
        .contains("--cast_float64_to_float32")
        .contains("--inference_input_type");
    for (String pair : ConvertFormats.SUPPORTED_PAIRS) {
      String[] io = pair.split(" -> ");
      assertThat(r.out()).containsPattern("\\n  " + io[0] + " +-> " + io[1] + "\\n");
    }
  }

  @Test
  void jsonOnConvertIsOneObjectMatchingTheFilesWritten() throws Exception {
    Path h5 = DemoModel.write(tmp.resolve("m.h5"), "Dense");
    Path out = tmp.resolve("out");
    CliRunner r =
        CliRunner.run(
            "convert",
            "--json",
            "--input_format=keras",
            "--output_format=tfjs_layers_model",
            h5.toString(),
            out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = Json.MAPPER.readTree(r.out());
    assertThat(r.out().strip()).doesNotContain("\n");
    long sum = 0;
    for (JsonNode f : j.get("files")) {
      Path p = Path.of(f.get("path").asText());
      assertThat(f.get("bytes").asLong()).isEqualTo(Files.size(p));
      sum += Files.size(p);
    }
    assertThat(j.get("files")).hasSize(2);
    assertThat(j.get("bytes").asLong()).isEqualTo(sum);
    assertThat(j.get("weights").asInt()).isEqualTo(4);
    assertThat(j.get("nodes").isNull()).isTrue();
    assertThat(j.get("notes").isArray()).isTrue();
  }

  @Test
  void jsonOnTfliteConvertCarriesNodeCountsAndVerifyGoesToStderr() throws Exception {
    Path pb = Corpus.require("frozen_pb/tf2onnx/fc-layers.pb");
    Path out = tmp.resolve("fc.tflite");
    CliRunner r =
        CliRunner.run(
            "tflite_convert",
            "--json",
            "--verify",
            "--graph_def_file=" + pb,
            "--output_arrays=output",
            "--output_file=" + out);
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = Json.MAPPER.readTree(r.out());
    assertThat(j.get("files")).hasSize(1);
    assertThat(j.get("files").get(0).get("bytes").asLong()).isEqualTo(Files.size(out));
    assertThat(j.get("bytes").asLong()).isEqualTo(Files.size(out));
    assertThat(j.get("nodes").get("loaded").asInt()).isPositive();
    assertThat(j.get("nodes").get("written").asInt()).isPositive();
    assertThat(r.err()).contains("verify:");
  }
}
