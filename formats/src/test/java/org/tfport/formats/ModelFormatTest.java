package org.tfport.formats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.TfportException.UsageException;

class ModelFormatTest {
  @TempDir Path tmp;

  @Test
  void namesOfSavedModelAndHubFilesAndFrozenGraphs() throws IOException {
    Path hubDir = Files.createDirectories(tmp.resolve("hub"));
    Files.write(hubDir.resolve("saved_model.pb"), new byte[] {8, 1});
    Files.write(hubDir.resolve("tfhub_module.pb"), new byte[] {8, 3});
    Path smDir = Files.createDirectories(tmp.resolve("sm"));
    Files.write(smDir.resolve("saved_model.pb"), new byte[] {8, 1});

    assertThat(ModelFormat.detect(hubDir)).isEqualTo(ModelFormat.TF_HUB);
    assertThat(ModelFormat.detect(hubDir.resolve("tfhub_module.pb"))).isEqualTo(ModelFormat.TF_HUB);
    assertThat(ModelFormat.detect(smDir)).isEqualTo(ModelFormat.TF_SAVED_MODEL);
    assertThat(ModelFormat.detect(smDir.resolve("saved_model.pb")))
        .isEqualTo(ModelFormat.TF_SAVED_MODEL);
    assertThat(ModelFormat.detect(Files.write(tmp.resolve("g.pb"), new byte[] {10, 0})))
        .isEqualTo(ModelFormat.TF_FROZEN_MODEL);
    assertThat(ModelFormat.detect(Files.write(tmp.resolve("g.graphdef"), new byte[] {10, 0})))
        .isEqualTo(ModelFormat.TF_FROZEN_MODEL);
  }

  @Test
  void contentsBeforeNames() throws IOException {
    // The TFLite identifier at bytes 4..8 wins over a misleading name.
    Path tflite =
        Files.write(tmp.resolve("model.bin"), new byte[] {1, 2, 3, 4, 'T', 'F', 'L', '3'});
    assertThat(ModelFormat.detect(tflite)).isEqualTo(ModelFormat.TFLITE);
    Path graphJson = Files.writeString(tmp.resolve("model.json"), "{\"format\": \"graph-model\"}");
    assertThat(ModelFormat.detect(graphJson)).isEqualTo(ModelFormat.TFJS_GRAPH_MODEL);
    assertThat(ModelFormat.detect(tmp)).isEqualTo(ModelFormat.TFJS_GRAPH_MODEL);
  }

  @Test
  void recognizeIsEmptyWhereDetectRefuses() throws IOException {
    Path notes = Files.writeString(tmp.resolve("notes.txt"), "hello");
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    assertThat(ModelFormat.recognize(notes)).isEmpty();
    assertThat(ModelFormat.recognize(empty)).isEmpty();
    assertThatThrownBy(() -> ModelFormat.detect(notes))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("notes.txt")
        .hasMessageContaining("cannot tell the model format");
    assertThatThrownBy(() -> ModelFormat.detect(empty))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("saved_model.pb");
    // A path that does not exist is an error for both.
    assertThatThrownBy(() -> ModelFormat.recognize(tmp.resolve("missing")))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("no such file or folder");
  }
}
