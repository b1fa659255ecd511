package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.testkit.Corpus;

/** {@code convert --output_format=tflite} and {@code tflite_convert}: success, and refusals as one stderr line. */
class TfliteCliTest {
  @TempDir Path tmp;

  static CliRunner run(String... args) {
    return CliRunner.run(args);
  }

  @Test
  void convertsSavedModelAndFrozenGraph() throws Exception {
    Path sm = Corpus.require("savedmodel/tfjava_saved_model");
    Path out = tmp.resolve("a.tflite");
    CliRunner r = run("convert", "--input_format=tf_saved_model", "--output_format=tflite", sm.toString(),
        out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(TfliteReader.read(out).signatureDefs()).hasSize(1);
    Path pb = Corpus.require("frozen_pb/tf2onnx/fc-layers.pb");
    Path out2 = tmp.resolve("b.tflite");
    r = run("tflite_convert", "--graph_def_file", pb.toString(), "--output_arrays", "output", "--output_file",
        out2.toString(), "--post_training_quantize");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(Files.size(out2)).isLessThan(400_000);
  }

  @Test
  void metadataIsAttachedAndReadBack() throws Exception {
    Path sm = Corpus.require("savedmodel/tfjava_saved_model");
    Path labels = tmp.resolve("labels.txt");
    Files.writeString(labels, "cat\ndog\n");
    Path out = tmp.resolve("md.tflite");
    CliRunner r = run("tflite_convert", "--saved_model_dir", sm.toString(), "--output_file", out.toString(),
        "--metadata_name", "demo", "--metadata_author", "me", "--input_norm_mean", "127.5", "--input_norm_std",
        "127.5", "--labels_file", labels.toString());
    assertThat(r.code()).as(r.err()).isZero();
    byte[] bytes = Files.readAllBytes(out);
    var md = org.tfport.formats.tflite.TfliteMetadata.read(TfliteReader.read(bytes, "md")).orElseThrow();
    assertThat(md.name()).isEqualTo("demo");
    assertThat(md.author()).isEqualTo("me");
    assertThat(md.subgraphs().get(0).inputs().get(0).mean()).containsExactly(127.5f);
    assertThat(new String(org.tfport.formats.tflite.TfliteMetadata.associatedFiles(bytes, "md").get("labels.txt")))
        .isEqualTo("cat\ndog\n");
  }

  @Test
  void unsupportedOpsAreListedAndNothingIsWritten() {
    Path pb = Corpus.require("frozen_pb/tf2onnx/lstm.pb");
    Path out = tmp.resolve("lstm.tflite");
    CliRunner r = run("tflite_convert", "--graph_def_file", pb.toString(), "--output_arrays", "output", "--output_file",
        out.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().strip()).doesNotContain("\n").contains("RandomUniform (model/dropout/random_uniform");
    assertThat(out).doesNotExist();
    r = run("tflite_convert", "--graph_def_file", pb.toString(), "--output_arrays", "output", "--output_file",
        out.toString(), "--enable_select_tf_ops");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(TfliteReader.read(out).operatorCodes().stream().anyMatch(c -> "FlexRandomUniform".equals(
        c.customCode()))).isTrue();
  }

  @Test
  void badInputsFailWithOneLine() throws Exception {
    Path sm = Corpus.require("savedmodel/tfjava_saved_model");
    Path out = tmp.resolve("x.tflite");
    CliRunner r = run("tflite_convert", "--saved_model_dir", sm.toString(), "--signature_def_keys", "nope",
        "--output_file", out.toString());
    assertThat(r.code()).isIn(1, 2);
    assertThat(r.err().strip()).doesNotContain("\n").contains("nope");
    assertThat(out).doesNotExist();

    Path junk = tmp.resolve("junk.pb");
    Files.writeString(junk, "this is not a GraphDef");
    r = run("tflite_convert", "--graph_def_file", junk.toString(), "--output_arrays", "y", "--output_file",
        out.toString());
    assertThat(r.code()).isIn(1, 2);
    assertThat(r.err().strip()).doesNotContain("\n");
    assertThat(out).doesNotExist();

    r = run("convert", "--output_format=tflite", sm.toString(), tmp.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).doesNotContain("\n").contains("folder");
  }
}
