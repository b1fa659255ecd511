package org.tfport.formats.savedmodel;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * Writes a LevelDB-format table as TensorFlow writes checkpoint {@code .index} files: uncompressed
 * data blocks of about {@link #BLOCK_SIZE} bytes, an empty metaindex block, an index block mapping
 * each data block's last key to its {@link BlockHandle}, and the {@link TableFooter}. Every block
 * is followed by its type byte and the masked CRC-32C of both.
 */
final class SsTableWriter {
  /** TensorFlow's {@code table::Options::block_size}. */
  static final int BLOCK_SIZE = 262_144;

  private SsTableWriter() {}

  /**
   * The table holding {@code entries}, which must be in ascending unsigned byte order of their keys
   * without repeats.
   */
  static byte[] write(List<TableBlock.Entry> entries) {
    ByteArrayOutputStream file = new ByteArrayOutputStream();
    TableBlockBuilder index = new TableBlockBuilder();
    TableBlockBuilder data = new TableBlockBuilder();
    byte[] prev = null;
    for (TableBlock.Entry e : entries) {
      if (prev != null && Arrays.compareUnsigned(prev, e.key()) >= 0) {
        throw new IllegalArgumentException("table keys out of order at entry " + e);
      }
      data.add(e.key(), e.value());
      prev = e.key();
      if (data.estimatedSize() >= BLOCK_SIZE) {
        index.add(prev, handle(writeBlock(file, data.finish())));
        data = new TableBlockBuilder();
      }
    }
    if (!data.isEmpty() || entries.isEmpty()) {
      BlockHandle h = writeBlock(file, data.finish());
      index.add(prev == null ? new byte[0] : prev, handle(h));
    }
    BlockHandle meta = writeBlock(file, new TableBlockBuilder().finish());
    BlockHandle idx = writeBlock(file, index.finish());
    file.writeBytes(footer(meta, idx));
    return file.toByteArray();
  }

  private static BlockHandle writeBlock(ByteArrayOutputStream file, byte[] contents) {
    BlockHandle h = new BlockHandle(file.size(), contents.length);
    file.writeBytes(contents);
    byte[] withType = Arrays.copyOf(contents, contents.length + 1);
    withType[contents.length] = TableBlock.NO_COMPRESSION;
    int crc = Crc32c.mask(Crc32c.value(withType, 0, withType.length));
    ByteBuffer trailer = ByteBuffer.allocate(TableBlock.TRAILER).order(ByteOrder.LITTLE_ENDIAN);
    trailer.put((byte) TableBlock.NO_COMPRESSION).putInt(crc);
    file.writeBytes(trailer.array());
    return h;
  }

  static byte[] handle(BlockHandle h) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    VarintWriter.write(b, h.offset());
    VarintWriter.write(b, h.size());
    return b.toByteArray();
  }

  /** Both handles, zero padding to 40 bytes, the magic number little-endian. */
  static byte[] footer(BlockHandle meta, BlockHandle index) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(handle(meta));
    b.writeBytes(handle(index));
    ByteBuffer f = ByteBuffer.allocate(TableFooter.LENGTH).order(ByteOrder.LITTLE_ENDIAN);
    f.put(b.toByteArray());
    f.putLong(TableFooter.LENGTH - 8, TableFooter.MAGIC);
    return f.array();
  }
}
