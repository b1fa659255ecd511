package org.tfport.formats.keras;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Limits;
import org.tfport.core.TfportException.UnsupportedModelException;

/** A {@code .keras} whose weights inflate past the unpack ceiling is refused while unpacking. */
class KerasV3UnpackLimitTest {
  private static final String CONFIG =
      """
      {"module": "keras", "class_name": "Sequential", "registered_name": null,
       "config": {"name": "s", "trainable": true, "layers": [
         {"module": "keras.layers", "class_name": "InputLayer", "registered_name": null,
          "config": {"batch_shape": [null, 3], "dtype": "float32", "name": "x"}}]}}
      """;

  @TempDir Path dir;

  @Test
  void weightsInflatingPastTheCeilingAreRefusedBeforeTheDiskFills() throws IOException {
    Path keras = dir.resolve("bomb.keras");
    // 8 MiB of zeros deflate to a few kilobytes: the shape of a zip bomb, small enough to test.
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(keras))) {
      zip.putNextEntry(new ZipEntry("config.json"));
      zip.write(CONFIG.getBytes(StandardCharsets.UTF_8));
      zip.putNextEntry(new ZipEntry("model.weights.h5"));
      byte[] zeros = new byte[1 << 20];
      for (int i = 0; i < 8; i++) {
        zip.write(zeros);
      }
      zip.closeEntry();
    }
    assertThat(Files.size(keras)).isLessThan(64 << 10);
    List<Path> before = tempFiles();
    String old = System.setProperty(Limits.EXTRACT_PROPERTY, "1m");
    try {
      assertThatThrownBy(() -> KerasModel.open(keras).close())
          .isInstanceOf(UnsupportedModelException.class)
          .hasMessageStartingWith(keras + ": model.weights.h5 unpacks to more than 1,048,576 bytes")
          .hasMessageContaining("-Dtfport.maxExtractBytes=");
    } finally {
      if (old == null) {
        System.clearProperty(Limits.EXTRACT_PROPERTY);
      } else {
        System.setProperty(Limits.EXTRACT_PROPERTY, old);
      }
    }
    // The partly written copy is gone with the refusal.
    assertThat(tempFiles()).isSubsetOf(before);
  }

  private static List<Path> tempFiles() throws IOException {
    try (var s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return s.filter(p -> p.getFileName().toString().startsWith("tfport-keras-")).toList();
    }
  }
}
