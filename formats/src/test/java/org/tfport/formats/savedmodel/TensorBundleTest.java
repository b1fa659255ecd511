package org.tfport.formats.savedmodel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.CorruptModelException;

/** The checkpoint reader on hand-made and damaged files: every error is one line naming the file. */
class TensorBundleTest {
  @TempDir Path tmp;

  @Test
  void readsFloatAndStringTensors() throws Exception {
    for (boolean snappy : new boolean[] {false, true}) {
      Path dir = Files.createDirectories(tmp.resolve("s" + snappy));
      TensorBundle b = TensorBundle.open(TableFiles.checkpoint(dir, snappy));
      assertThat(b.keys()).containsExactly("w", "words");
      Tensor w = b.read("w");
      assertThat(w.dtype()).isEqualTo(DType.FLOAT32);
      assertThat(w.toFloatArray()).containsExactly(1f, 2f, 3f);
      List<byte[]> words = b.read("words").toByteStrings();
      assertThat(words).extracting(x -> new String(x, StandardCharsets.UTF_8)).containsExactly("hi", "you");
    }
  }

  private static void assertOneLine(Throwable e, String file, String what) {
    assertThat(e).isInstanceOf(CorruptModelException.class);
    assertThat(e.getMessage()).doesNotContain("\n").contains(file).contains(what);
  }

  @Test
  void badMagic() throws Exception {
    Path prefix = TableFiles.checkpoint(tmp, false);
    Path index = TensorBundle.indexFile(prefix);
    byte[] b = Files.readAllBytes(index);
    b[b.length - 1] ^= 0x55;
    Files.write(index, b);
    assertThatThrownBy(() -> TensorBundle.open(prefix)).satisfies(e -> assertOneLine(e, index.toString(), "magic"));
  }

  @Test
  void badBlockCrc() throws Exception {
    Path prefix = TableFiles.checkpoint(tmp, false);
    Path index = TensorBundle.indexFile(prefix);
    byte[] b = Files.readAllBytes(index);
    b[3] ^= 0x01;
    Files.write(index, b);
    assertThatThrownBy(() -> TensorBundle.open(prefix)).satisfies(e -> assertOneLine(e, index.toString(),
        "CRC mismatch"));
  }

  @Test
  void truncatedIndex() throws Exception {
    Path prefix = TableFiles.checkpoint(tmp, false);
    Path index = TensorBundle.indexFile(prefix);
    Files.write(index, new byte[] {1, 2, 3});
    assertThatThrownBy(() -> TensorBundle.open(prefix)).satisfies(e -> assertOneLine(e, index.toString(),
        "too short"));
  }

  @Test
  void missingDataShard() throws Exception {
    Path prefix = TableFiles.checkpoint(tmp, false);
    Path shard = TensorBundle.shardFile(prefix, 0, 1);
    Files.delete(shard);
    assertThatThrownBy(() -> TensorBundle.open(prefix)).satisfies(e -> assertOneLine(e, shard.toString(),
        "missing"));
  }

  @Test
  void entryPastTheEndOfItsShard() throws Exception {
    Path prefix = TableFiles.checkpoint(tmp, false);
    Path shard = TensorBundle.shardFile(prefix, 0, 1);
    Files.write(shard, new byte[8]);
    assertThatThrownBy(() -> TensorBundle.open(prefix)).satisfies(e -> assertOneLine(e, shard.toString(),
        "truncated"));
  }

  @Test
  void damagedTensorBytes() throws Exception {
    Path prefix = TableFiles.checkpoint(tmp, false);
    Path shard = TensorBundle.shardFile(prefix, 0, 1);
    byte[] b = Files.readAllBytes(shard);
    b[0] ^= 0x01;
    Files.write(shard, b);
    TensorBundle bundle = TensorBundle.open(prefix);
    assertThatThrownBy(() -> bundle.read("w")).satisfies(e -> assertOneLine(e, shard.toString(), "CRC mismatch"));
  }

  @Test
  void maskMatchesTheKnownValue() {
    byte[] hello = "hello".getBytes(StandardCharsets.US_ASCII);
    assertThat(Crc32c.value(hello, 0, 5)).isEqualTo(0x9a71bb4c);
    assertThat(Crc32c.mask(0x9a71bb4c)).isEqualTo(0x191c1fbb);
    assertThat(Crc32c.unmask(0x191c1fbb)).isEqualTo(0x9a71bb4c);
  }

  /** Every checkpoint in the corpus opens, and every tensor reads with a matching CRC. */
  @Test
  void corpusCheckpoints() throws Exception {
    String prop = System.getProperty("tfport.corpus");
    Path root = prop == null ? null : Path.of(prop, "savedmodel");
    Assumptions.assumeTrue(root != null && Files.isDirectory(root), "corpus absent (set -Dtfport.corpus)");
    int tensors = 0;
    try (Stream<Path> s = Files.walk(root)) {
      for (Path index : s.filter(p -> p.toString().endsWith(".index")).toList()) {
        String name = index.getFileName().toString();
        TensorBundle b = TensorBundle.open(index.resolveSibling(name.substring(0, name.length() - 6)));
        for (String k : b.keys()) {
          if (org.tfport.core.graph.DataTypes.toDType(b.entry(k).dtype()) != null) {
            b.read(k);
            tensors++;
          }
        }
      }
    }
    assertThat(tensors).isGreaterThan(20);
  }
}
