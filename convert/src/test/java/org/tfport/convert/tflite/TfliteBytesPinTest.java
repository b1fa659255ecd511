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
              "d73bf93c74434e39086752a4dd9a5fa4fd7d2367c053d87fec20a16e7f7cf6aa",
          TfliteQuantizationMode.FLOAT16,
              "c85c25fd97b569a8eee1a3a1ba60eafd04b07f9be93b53bbbd987cc69a9a17b1",
          TfliteQuantizationMode.DYNAMIC_RANGE,
              "2ea3a9f47789c72bbf21f8d8c234085a91eb9fb5ca14f85aa61b882f572e471c");

  @Test
  void writtenBytesAreUnchanged() throws Exception {
    for (TfliteQuantizationMode q :
        List.of(
            TfliteQuantizationMode.NONE,
            TfliteQuantizationMode.FLOAT16,
            TfliteQuantizationMode.DYNAMIC_RANGE)) {
      check(q, PINNED.get(q));
    }
  }

  private void check(TfliteQuantizationMode quantization, String pinned) throws Exception {
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
    String all = sha256(String.join("\n", lines).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertThat(all).as(quantization + " files:\n" + String.join("\n", lines)).isEqualTo(pinned);
  }

  private static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }
}
