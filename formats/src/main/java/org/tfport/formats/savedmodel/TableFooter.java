package org.tfport.formats.savedmodel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.tfport.core.TfportException.CorruptModelException;

/**
 * The 48 bytes that end a LevelDB-format table (TensorFlow's checkpoint {@code .index}): the
 * metaindex and index {@link BlockHandle}s as varints, zero padding to 40 bytes, then the 8-byte
 * magic number.
 */
record TableFooter(BlockHandle metaindex, BlockHandle index) {
  static final int LENGTH = 48;
  static final long MAGIC = 0xdb4775248b80fb57L;

  static TableFooter read(byte[] file, String where) {
    if (file.length < LENGTH) {
      throw new CorruptModelException(
          where
              + ": "
              + file.length
              + " bytes is too short for a checkpoint index"
              + " (a table ends with a 48-byte footer); the file is truncated or not a TensorFlow checkpoint");
    }
    int start = file.length - LENGTH;
    long magic = ByteBuffer.wrap(file, file.length - 8, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    if (magic != MAGIC) {
      throw new CorruptModelException(
          String.format(
              "%s: bad table magic 0x%016x at offset 0x%x (expected"
                  + " 0x%016x); the file is damaged, truncated or not a TensorFlow checkpoint index",
              where, magic, file.length - 8, MAGIC));
    }
    int[] pos = {start};
    BlockHandle meta = BlockHandle.decode(file, pos, file.length - 8);
    BlockHandle index = meta == null ? null : BlockHandle.decode(file, pos, file.length - 8);
    if (index == null) {
      throw new CorruptModelException(
          String.format(
              "%s: the table footer at offset 0x%x holds no valid block"
                  + " handles; the file is damaged",
              where, start));
    }
    return new TableFooter(meta, index);
  }
}
