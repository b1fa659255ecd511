package org.tfport.formats.savedmodel;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.tensorflow.proto.BundleEntryProto;
import org.tensorflow.proto.BundleHeaderProto;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Writes small checkpoints the way TensorFlow lays them out, for tests: one data block (optionally
 * Snappy compressed, with literals only), the index block, an empty metaindex block and the footer.
 */
final class TableFiles {
  private TableFiles() {}

  static byte[] table(Map<String, byte[]> entries, boolean snappy) throws IOException {
    ByteArrayOutputStream file = new ByteArrayOutputStream();
    byte[] data = block(new TreeMap<>(entries));
    long dataOffset = file.size();
    writeBlock(file, snappy ? snappyLiteral(data) : data, snappy ? 1 : 0);
    long dataSize = (snappy ? snappyLiteral(data) : data).length;
    ByteArrayOutputStream handle = new ByteArrayOutputStream();
    varint(handle, dataOffset);
    varint(handle, dataSize);
    byte[] index = block(new TreeMap<>(Map.of("\uffff", handle.toByteArray())));
    long metaOffset = file.size();
    byte[] meta = block(new TreeMap<>());
    writeBlock(file, meta, 0);
    long indexOffset = file.size();
    writeBlock(file, index, 0);
    ByteArrayOutputStream footer = new ByteArrayOutputStream();
    varint(footer, metaOffset);
    varint(footer, meta.length);
    varint(footer, indexOffset);
    varint(footer, index.length);
    while (footer.size() < 40) {
      footer.write(0);
    }
    ByteBuffer magic =
        ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(TableFooter.MAGIC);
    footer.write(magic.array());
    file.write(footer.toByteArray());
    return file.toByteArray();
  }

  /** Entries without prefix sharing and a single restart point: valid, if not compact. */
  static byte[] block(TreeMap<String, byte[]> entries) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (Map.Entry<String, byte[]> e : entries.entrySet()) {
      byte[] key = e.getKey().getBytes(StandardCharsets.UTF_8);
      varint(b, 0);
      varint(b, key.length);
      varint(b, e.getValue().length);
      b.write(key);
      b.write(e.getValue());
    }
    b.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(0).putInt(1).array());
    return b.toByteArray();
  }

  static void writeBlock(ByteArrayOutputStream file, byte[] contents, int type) throws IOException {
    file.write(contents);
    file.write(type);
    byte[] withType = new byte[contents.length + 1];
    System.arraycopy(contents, 0, withType, 0, contents.length);
    withType[contents.length] = (byte) type;
    int crc = Crc32c.mask(Crc32c.value(withType, 0, withType.length));
    file.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(crc).array());
  }

  static byte[] snappyLiteral(byte[] data) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    varint(b, data.length);
    int pos = 0;
    while (pos < data.length) {
      int n = Math.min(60, data.length - pos);
      b.write((n - 1) << 2);
      b.write(data, pos, n);
      pos += n;
    }
    return b.toByteArray();
  }

  static void varint(ByteArrayOutputStream out, long v) {
    while (v >= 0x80) {
      out.write((int) (v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out.write((int) v);
  }

  /**
   * A one-shard checkpoint at {@code dir/variables} holding float32 {@code w} = [1, 2, 3] and a
   * string.
   */
  static Path checkpoint(Path dir, boolean snappy) throws IOException {
    Path prefix = dir.resolve("variables");
    ByteBuffer w =
        ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putFloat(1).putFloat(2).putFloat(3);
    // As TensorFlow writes strings: varint lengths, the masked CRC of the lengths as uint32s, the
    // bytes; the
    // entry's CRC covers the uint32 lengths, that checksum and the bytes.
    ByteArrayOutputStream s = new ByteArrayOutputStream();
    byte[] lens = {2, 3};
    s.write(lens);
    byte[] lens32 =
        ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(2).putInt(3).array();
    byte[] lensCrc =
        ByteBuffer.allocate(4)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putInt(Crc32c.mask(Crc32c.value(lens32, 0, 8)))
            .array();
    s.write(lensCrc);
    s.write("hiyou".getBytes(StandardCharsets.UTF_8));
    ByteArrayOutputStream covered = new ByteArrayOutputStream();
    covered.write(lens32);
    covered.write(lensCrc);
    covered.write("hiyou".getBytes(StandardCharsets.UTF_8));
    byte[] cov = covered.toByteArray();
    byte[] data = new byte[12 + s.size()];
    System.arraycopy(w.array(), 0, data, 0, 12);
    System.arraycopy(s.toByteArray(), 0, data, 12, s.size());
    Files.write(TensorBundle.shardFile(prefix, 0, 1), data);
    Map<String, byte[]> entries = new TreeMap<>();
    entries.put("", BundleHeaderProto.newBuilder().setNumShards(1).build().toByteArray());
    entries.put(
        "w",
        BundleEntryProto.newBuilder()
            .setDtype(DataType.DT_FLOAT)
            .setShape(
                TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(3)))
            .setOffset(0)
            .setSize(12)
            .setCrc32C(Crc32c.mask(Crc32c.value(w.array(), 0, 12)))
            .build()
            .toByteArray());
    byte[] strBytes = s.toByteArray();
    entries.put(
        "words",
        BundleEntryProto.newBuilder()
            .setDtype(DataType.DT_STRING)
            .setShape(
                TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(2)))
            .setOffset(12)
            .setSize(strBytes.length)
            .setCrc32C(Crc32c.mask(Crc32c.value(cov, 0, cov.length)))
            .build()
            .toByteArray());
    Files.write(TensorBundle.indexFile(prefix), table(entries, snappy));
    return prefix;
  }
}
