package org.tfport.formats.savedmodel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;

/**
 * One table block: entries with prefix-compressed keys ({@code shared, non_shared, value_length}
 * varints, the key's new suffix, the value), then the restart offsets and their count as fixed32s.
 * On disk a block is followed by a 5-byte trailer: the compression type and a masked CRC-32C of the
 * block and that type byte.
 */
final class TableBlock {
  static final int TRAILER = 5;
  static final int NO_COMPRESSION = 0;
  static final int SNAPPY = 1;

  record Entry(byte[] key, byte[] value) {}

  private TableBlock() {}

  /** Reads, checks and decompresses the block at {@code h}, returning its contents. */
  static byte[] contents(byte[] file, BlockHandle h, String where, String what) {
    if (h.offset() < 0
        || h.size() < 0
        || h.offset() > file.length
        || h.size() > file.length - h.offset() - TRAILER) {
      throw new CorruptModelException(
          String.format(
              "%s: the %s block handle (offset 0x%x, %d bytes) reaches"
                  + " past the end of the %d-byte file; the file is truncated or damaged",
              where, what, h.offset(), h.size(), file.length));
    }
    int off = (int) h.offset();
    int size = (int) h.size();
    int type = file[off + size] & 0xff;
    int stored = ByteBuffer.wrap(file, off + size + 1, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    int actual = Crc32c.mask(Crc32c.value(file, off, size + 1));
    if (stored != actual) {
      throw new CorruptModelException(
          String.format(
              "%s: CRC mismatch in the %s block at offset 0x%x (stored"
                  + " 0x%08x, computed 0x%08x); the file is damaged",
              where, what, off, stored, actual));
    }
    return switch (type) {
      case NO_COMPRESSION -> Arrays.copyOfRange(file, off, off + size);
      case SNAPPY -> {
        try {
          yield Snappy.decompress(file, off, size);
        } catch (Snappy.SnappyException e) {
          throw new CorruptModelException(
              String.format(
                  "%s: the Snappy-compressed %s block at offset 0x%x does"
                      + " not decode (%s); the file is damaged",
                  where, what, off, e.getMessage()));
        }
      }
      default ->
          throw new UnsupportedModelException(
              String.format(
                  "%s: the %s block at offset 0x%x uses"
                      + " compression type %d; only none (0) and Snappy (1) exist in TensorFlow checkpoints",
                  where, what, off, type));
    };
  }

  /** Every entry of a block's contents, in order, with full keys. */
  static List<Entry> entries(byte[] block, String where, String what) {
    if (block.length < 4) {
      throw new CorruptModelException(
          where
              + ": the "
              + what
              + " block is "
              + block.length
              + " bytes, too short to hold its restart count; the file is damaged");
    }
    int numRestarts =
        ByteBuffer.wrap(block, block.length - 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    if (numRestarts < 0 || numRestarts > (block.length - 4) / 4) {
      throw new CorruptModelException(
          where
              + ": the "
              + what
              + " block claims "
              + Integer.toUnsignedString(numRestarts)
              + " restart points but has room for "
              + (block.length - 4) / 4
              + "; the file is damaged");
    }
    int limit = block.length - 4 - 4 * numRestarts;
    List<Entry> out = new ArrayList<>();
    byte[] last = new byte[0];
    int[] pos = {0};
    while (pos[0] < limit) {
      int at = pos[0];
      int shared = Varint.read32(block, pos, limit);
      int nonShared = shared < 0 ? -1 : Varint.read32(block, pos, limit);
      int valueLen = nonShared < 0 ? -1 : Varint.read32(block, pos, limit);
      if (valueLen < 0 || shared > last.length || (long) nonShared + valueLen > limit - pos[0]) {
        throw new CorruptModelException(
            String.format(
                "%s: bad entry at offset 0x%x of the %s block (shared %d,"
                    + " new %d, value %d bytes, %d left); the file is damaged",
                where, at, what, shared, nonShared, valueLen, limit - pos[0]));
      }
      byte[] key = Arrays.copyOf(last, shared + nonShared);
      System.arraycopy(block, pos[0], key, shared, nonShared);
      pos[0] += nonShared;
      byte[] value = Arrays.copyOfRange(block, pos[0], pos[0] + valueLen);
      pos[0] += valueLen;
      out.add(new Entry(key, value));
      last = key;
    }
    return out;
  }
}
