package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Messages that lead somewhere: an empty input says it is empty, a model.json of neither TF.js kind
 * says so, and a .tflite given to convert is refused with the pairs that exist.
 */
class InputMessagesTest {
  @TempDir Path tmp;

  @Test
  void anEmptyFileSaysItIsEmpty() throws Exception {
    for (String name : new String[] {"model.h5", "graph.pb", "model.keras", "model.tflite"}) {
      Path f = Files.createFile(tmp.resolve(name));
      CliRunner r = CliRunner.run("convert", f.toString(), tmp.resolve("out").toString());
      assertThat(r.code()).as(name + ": " + r.err()).isEqualTo(1);
      assertThat(r.err()).as(name).contains(name + ": the file is empty (0 bytes)");
      assertThat(r.err()).doesNotContain("Exception");
    }
    Path dir = Files.createDirectories(tmp.resolve("js"));
    Files.createFile(dir.resolve("model.json"));
    CliRunner r = CliRunner.run("convert", dir.toString(), tmp.resolve("out").toString());
    assertThat(r.err()).contains("model.json: the file is empty (0 bytes)");
    assertThat(tmp.resolve("out")).doesNotExist();
  }

  @Test
  void aModelJsonOfNeitherKindSaysSo() throws Exception {
    Path a = Files.createDirectories(tmp.resolve("a")).resolve("model.json");
    Files.writeString(a, "{\"format\":\"weird\",\"modelTopology\":{}}");
    CliRunner r = CliRunner.run("convert", a.toString(), tmp.resolve("out").toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err())
        .contains("format 'weird'")
        .contains("neither a TF.js layers model ('layers-model') nor a graph model");

    Path b = Files.createDirectories(tmp.resolve("b")).resolve("model.json");
    Files.writeString(b, "{\"weightsManifest\":[]}");
    r = CliRunner.run("convert", b.toString(), tmp.resolve("out").toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("neither a TF.js layers model").contains("nor a graph model");
  }

  @Test
  void aTfliteModelGivenToConvertNamesThePairsThatExist() throws Exception {
    // The TFLite identifier at bytes 4..7 is what tells a .tflite file.
    Path f = tmp.resolve("m.tflite");
    Files.write(f, new byte[] {0x1c, 0, 0, 0, 'T', 'F', 'L', '3', 0, 0, 0, 0});
    CliRunner r =
        CliRunner.run(
            "convert",
            "--output_format=tfjs_layers_model",
            f.toString(),
            tmp.resolve("out").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err())
        .contains("m.tflite: a TFLite model converts to tfjs_graph_model")
        .contains("not to tfjs_layers_model")
        .contains("tflite -> tf_saved_model")
        .contains("tf_saved_model -> tflite")
        .contains("keras -> tfjs_layers_model");
  }
}
