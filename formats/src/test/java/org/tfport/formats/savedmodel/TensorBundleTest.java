package org.tfport.formats.savedmodel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;

/**
 * The checkpoint reader on hand-made and damaged files: every error is one line naming the file.
 */
@OracleTest
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
      assertThat(words)
          .extracting(x -> new String(x, StandardCharsets.UTF_8))
          .containsExactly("hi", "you");
    }
  }

  private static void assertOneLine(Throwable e, String file, String what) {
    assertThat(e).isInstanceOf(CorruptModelException.class);
    assertThat(e.getMessage()).doesNotContain("\n").contains(file).contains(what);
  }

  /**
   * A partitioned {@code p} [4] stored as slices [0, 2) and [2, 4) of one shard; {@code keepSlices}
   * says which slice entries the index keeps, {@code second} the second slice's extent as the full
   * entry lists it.
   */
  private Path slicedCheckpoint(boolean[] keepSlices, long secondStart, long secondLength)
      throws Exception {
    Path prefix = tmp.resolve("sliced");
    java.nio.ByteBuffer d =
        java.nio.ByteBuffer.allocate(16)
            .order(java.nio.ByteOrder.LITTLE_ENDIAN)
            .putFloat(1)
            .putFloat(2)
            .putFloat(3)
            .putFloat(4);
    Files.write(TensorBundle.shardFile(prefix, 0, 1), d.array());
    var entries = new java.util.TreeMap<String, byte[]>();
    entries.put(
        "",
        org.tensorflow.proto.BundleHeaderProto.newBuilder().setNumShards(1).build().toByteArray());
    var shape4 =
        org.tensorflow.proto.TensorShapeProto.newBuilder()
            .addDim(org.tensorflow.proto.TensorShapeProto.Dim.newBuilder().setSize(4));
    entries.put(
        "p",
        org.tensorflow.proto.BundleEntryProto.newBuilder()
            .setDtype(org.tensorflow.proto.DataType.DT_FLOAT)
            .setShape(shape4)
            .addSlices(slice(0, 2))
            .addSlices(slice(secondStart, secondLength))
            .build()
            .toByteArray());
    var shape2 =
        org.tensorflow.proto.TensorShapeProto.newBuilder()
            .addDim(org.tensorflow.proto.TensorShapeProto.Dim.newBuilder().setSize(2));
    for (int k = 0; k < 2; k++) {
      if (!keepSlices[k]) {
        continue;
      }
      // The reader matches the prefix (0 as one 0 byte, the name, 0x00 0x01) and pairs keys with
      // slices by order,
      // so the bytes after it only need to sort as the slices do (a real checkpoint:
      // PartitionedVariableTest).
      String key = "\u0000p\u0000\u0001\u0001\u0001" + (k == 0 ? "\u0080\u0082" : "\u0082\u0082");
      entries.put(
          key,
          org.tensorflow.proto.BundleEntryProto.newBuilder()
              .setDtype(org.tensorflow.proto.DataType.DT_FLOAT)
              .setShape(shape2)
              .setOffset(8L * k)
              .setSize(8)
              .setCrc32C(Crc32c.mask(Crc32c.value(d.array(), 8 * k, 8)))
              .build()
              .toByteArray());
    }
    Files.write(TensorBundle.indexFile(prefix), TableFiles.table(entries, false));
    return prefix;
  }

  private static org.tensorflow.proto.TensorSliceProto slice(long start, long length) {
    return org.tensorflow.proto.TensorSliceProto.newBuilder()
        .addExtent(
            org.tensorflow.proto.TensorSliceProto.Extent.newBuilder()
                .setStart(start)
                .setLength(length))
        .build();
  }

  @Test
  void partitionedTensorAssembledFromItsSlices() throws Exception {
    TensorBundle b = TensorBundle.open(slicedCheckpoint(new boolean[] {true, true}, 2, 2));
    assertThat(b.read("p").toFloatArray()).containsExactly(1, 2, 3, 4);
    assertThat(b.read("p", "4 1,2").toFloatArray()).containsExactly(2, 3);
  }

  @Test
  void partitionedTensorMissingASlice() throws Exception {
    Path prefix = slicedCheckpoint(new boolean[] {true, false}, 2, 2);
    TensorBundle b = TensorBundle.open(prefix);
    assertThatThrownBy(() -> b.read("p"))
        .satisfies(
            e -> assertOneLine(e, TensorBundle.indexFile(prefix).toString(), "lists 2 slices"));
  }

  @Test
  void sliceOutsideItsTensor() throws Exception {
    Path prefix = slicedCheckpoint(new boolean[] {true, true}, 3, 2);
    assertThatThrownBy(() -> TensorBundle.open(prefix))
        .satisfies(
            e -> assertOneLine(e, TensorBundle.indexFile(prefix).toString(), "outside its shape"));
  }

  @Test
  void restoreSpecThatDoesNotFit() throws Exception {
    Path prefix = slicedCheckpoint(new boolean[] {true, true}, 2, 2);
    TensorBundle b = TensorBundle.open(prefix);
    assertThatThrownBy(() -> b.read("p", "5 0,2"))
        .satisfies(
            e -> assertOneLine(e, TensorBundle.indexFile(prefix).toString(), "does not fit"));
  }

  @Test
  void badMagic() throws Exception {
    Path prefix = TableFiles.checkpoint(tmp, false);
    Path index = TensorBundle.indexFile(prefix);
    byte[] b = Files.readAllBytes(index);
    b[b.length - 1] ^= 0x55;
    Files.write(index, b);
    assertThatThrownBy(() -> TensorBundle.open(prefix))
        .satisfies(e -> assertOneLine(e, index.toString(), "magic"));
  }

  @Test
  void badBlockCrc() throws Exception {
    Path prefix = TableFiles.checkpoint(tmp, false);
    Path index = TensorBundle.indexFile(prefix);
    byte[] b = Files.readAllBytes(index);
    b[3] ^= 0x01;
    Files.write(index, b);
    assertThatThrownBy(() -> TensorBundle.open(prefix))
        .satisfies(e -> assertOneLine(e, index.toString(), "CRC mismatch"));
  }

  @Test
  void truncatedIndex() throws Exception {
    Path prefix = TableFiles.checkpoint(tmp, false);
    Path index = TensorBundle.indexFile(prefix);
    Files.write(index, new byte[] {1, 2, 3});
    assertThatThrownBy(() -> TensorBundle.open(prefix))
        .satisfies(e -> assertOneLine(e, index.toString(), "too short"));
  }

  @Test
  void missingDataShard() throws Exception {
    Path prefix = TableFiles.checkpoint(tmp, false);
    Path shard = TensorBundle.shardFile(prefix, 0, 1);
    Files.delete(shard);
    assertThatThrownBy(() -> TensorBundle.open(prefix))
        .satisfies(e -> assertOneLine(e, shard.toString(), "missing"));
  }

  @Test
  void entryPastTheEndOfItsShard() throws Exception {
    Path prefix = TableFiles.checkpoint(tmp, false);
    Path shard = TensorBundle.shardFile(prefix, 0, 1);
    Files.write(shard, new byte[8]);
    assertThatThrownBy(() -> TensorBundle.open(prefix))
        .satisfies(e -> assertOneLine(e, shard.toString(), "truncated"));
  }

  @Test
  void damagedTensorBytes() throws Exception {
    Path prefix = TableFiles.checkpoint(tmp, false);
    Path shard = TensorBundle.shardFile(prefix, 0, 1);
    byte[] b = Files.readAllBytes(shard);
    b[0] ^= 0x01;
    Files.write(shard, b);
    TensorBundle bundle = TensorBundle.open(prefix);
    assertThatThrownBy(() -> bundle.read("w"))
        .satisfies(e -> assertOneLine(e, shard.toString(), "CRC mismatch"));
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
    Path root = Corpus.require("savedmodel");
    int tensors = 0;
    try (Stream<Path> s = Files.walk(root)) {
      for (Path index : s.filter(p -> p.toString().endsWith(".index")).toList()) {
        String name = index.getFileName().toString();
        TensorBundle b =
            TensorBundle.open(index.resolveSibling(name.substring(0, name.length() - 6)));
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
