package org.tfport.convert.tflite;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.TfliteQuantizationMode;
import org.tfport.core.TfportException;
import org.tfport.graph.GraphOptions;
import org.tfport.testkit.Corpus;

/**
 * The bytes tfport writes for the corpus SavedModels stay the same: per quantization mode, one
 * SHA-256 over every model's file digest, pinned. A change here is a change of the written files;
 * when it is meant, update the pin (the failure lists each model's digest).
 */
class TfliteBytesPinTest {
  @TempDir Path tmp;

  static final Map<TfliteQuantizationMode, String> PINNED =
      Map.of(
          TfliteQuantizationMode.NONE,
              "f413b39311a31886f278d5ac2f0e3e33879d09da395a86b77696c25a638360f3",
          TfliteQuantizationMode.FLOAT16,
              "3bf74ee2433462b35ec3628c325fcb7741da87f69df0abc6386511ca3e4fbbec",
          TfliteQuantizationMode.DYNAMIC_RANGE,
              "7a176d1a4906b40706dab6b174d9440eb5b467d4db2c23d4dd5dd564f17fb906");

  @Test
  void writtenBytesAreUnchanged() throws Exception {
    // Every mode is computed before comparing, so one failure shows every pin that moved.
    Map<TfliteQuantizationMode, String> written =
        new java.util.EnumMap<>(TfliteQuantizationMode.class);
    List<String> details = new ArrayList<>();
    for (TfliteQuantizationMode q :
        List.of(
            TfliteQuantizationMode.NONE,
            TfliteQuantizationMode.FLOAT16,
            TfliteQuantizationMode.DYNAMIC_RANGE)) {
      written.put(q, digest(q, details));
    }
    assertThat(written).as(String.join("\n", details)).isEqualTo(PINNED);
  }

  private String digest(TfliteQuantizationMode quantization, List<String> details)
      throws Exception {
    Path root = Corpus.require("savedmodel");
    List<String> models;
    try (Stream<Path> dirs = Files.list(root)) {
      models =
          dirs.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
    }
    List<String> lines = new ArrayList<>();
    for (String m : models) {
      Path out = tmp.resolve(m + "-" + quantization + ".tflite");
      try {
        TfliteConverter.convertSavedModel(
            root.resolve(m),
            out,
            new GraphOptions(null, null, true, false, false, List.of()),
            List.of(),
            false,
            TfliteOptions.defaults().withQuantization(quantization));
      } catch (TfportException e) {
        lines.add(m + " refused");
        continue;
      }
      lines.add(m + " " + sha256(Files.readAllBytes(out)));
    }
    details.add(quantization + " files:\n" + String.join("\n", lines));
    return sha256(String.join("\n", lines).getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  private static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }
}
