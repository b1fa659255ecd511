package org.tfport.formats.savedmodel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.tfport.core.DType;
import org.tfport.core.Limits;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.DataTypes;

/**
 * A tensor's bytes in a checkpoint data shard ({@code PREFIX.data-NNNNN-of-NNNNN}): read or, when
 * large, memory-mapped, checked against the entry's masked CRC-32C; string tensors decoded from
 * their varint lengths.
 */
final class BundleShard {
  /** Tensors at least this large are memory-mapped rather than read. */
  static final long MAP_AT_LEAST = 1 << 20;

  private BundleShard() {}

  /**
   * The bytes of entry {@code e} in {@code shard} as a tensor of {@code shape}, checked against
   * their CRC-32C; {@code index} names the checkpoint in messages.
   */
  static Tensor read(Path index, Path shard, BundleEntry e, String key, Shape shape) {
    DType dt = DataTypes.toDType(e.dtype());
    if (dt == null) {
      throw new UnsupportedModelException(
          index
              + ": '"
              + key
              + "' has type "
              + DataTypes.name(e.dtype())
              + ", which tfport cannot read into a tensor");
    }
    if (e.size() > Integer.MAX_VALUE - 8) {
      throw new UnsupportedModelException(
          shard
              + ": '"
              + key
              + "' is "
              + e.size()
              + " bytes; TF.js holds one"
              + " weight in at most 2 GiB");
    }
    ByteBuffer buf;
    try (FileChannel ch = FileChannel.open(shard, StandardOpenOption.READ)) {
      // Checked before mapping: touching a mapping past the end of the file kills the process
      // (SIGBUS).
      if (e.offset() + e.size() > ch.size()) {
        throw new CorruptModelException(
            shard
                + ": ends before the bytes of '"
                + key
                + "' (needs "
                + (e.offset() + e.size())
                + " bytes, has "
                + ch.size()
                + "); the checkpoint is truncated");
      }
      if (e.size() >= MAP_AT_LEAST && dt != DType.STRING) {
        // Large weights are mapped, not copied onto the heap: the converter streams them to its
        // output, so
        // a 200 MB model costs page cache, not 200 MB of heap plus a copy.
        buf = ch.map(FileChannel.MapMode.READ_ONLY, e.offset(), e.size());
      } else {
        buf = ByteBuffer.allocate(Limits.allocation(e.size(), 1, shard + ": '" + key + "'"));
        long pos = e.offset();
        while (buf.hasRemaining()) {
          int n = ch.read(buf, pos);
          if (n < 0) {
            throw new CorruptModelException(
                shard
                    + ": ends before the bytes of '"
                    + key
                    + "'; the checkpoint is"
                    + " truncated");
          }
          pos += n;
        }
        buf.flip();
      }
    } catch (IOException ex) {
      throw new CorruptModelException(shard + ": cannot read '" + key + "' (" + ex + ")", ex);
    }
    if (dt == DType.STRING) {
      return strings(buf, e, shard);
    }
    int crc = Crc32c.mask(Crc32c.value(buf));
    if (crc != e.crc32c()) {
      throw new CorruptModelException(
          String.format(
              "%s: CRC mismatch for '%s' at offset 0x%x (stored 0x%08x,"
                  + " computed 0x%08x); the checkpoint is damaged",
              shard, key, e.offset(), e.crc32c(), crc));
    }
    buf.order(ByteOrder.LITTLE_ENDIAN);
    long want = shape.size() * dt.byteSize();
    if (want != e.size()) {
      throw new CorruptModelException(
          shard
              + ": '"
              + key
              + "' is "
              + dt.jsName()
              + shape
              + " ("
              + want
              + " bytes) but its entry holds "
              + e.size()
              + " bytes; the checkpoint is damaged");
    }
    return new Tensor(dt, shape, buf);
  }

  /**
   * String tensors are stored as every element's length as a varint64, a masked CRC-32C of the
   * lengths, then the bytes; tfport holds them as uint32 length + bytes. TensorFlow's checksums
   * here cover each length as a little-endian uint32 (not the varints), then the stored length
   * checksum, then the bytes.
   */
  private static Tensor strings(ByteBuffer buf, BundleEntry e, Path shard) {
    byte[] b = new byte[buf.remaining()];
    buf.get(b);
    long n = e.shape().size();
    int[] pos = {0};
    long[] lens = new long[Math.toIntExact(Math.min(n, b.length))];
    if (n > b.length) {
      throw new CorruptModelException(
          shard
              + ": '"
              + e.key()
              + "' claims "
              + n
              + " strings in "
              + b.length
              + " bytes; the checkpoint is damaged");
    }
    long total = 0;
    for (int i = 0; i < n; i++) {
      lens[i] = Varint.read64(b, pos, b.length);
      if (lens[i] < 0) {
        throw new CorruptModelException(
            shard + ": bad string length in '" + e.key() + "'; the checkpoint is" + " damaged");
      }
      total += lens[i];
    }
    int dataStart = pos[0] + (n > 0 ? 4 : 0);
    if (total != b.length - dataStart) {
      throw new CorruptModelException(
          shard
              + ": the string lengths of '"
              + e.key()
              + "' add up to "
              + total
              + " bytes, but "
              + (b.length - dataStart)
              + " follow them; the checkpoint is damaged");
    }
    ByteBuffer out =
        ByteBuffer.allocate(Limits.allocation(total + 4 * n, 1, shard + ": '" + e.key() + "'"))
            .order(ByteOrder.LITTLE_ENDIAN);
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      len.clear();
      if (lens[i] <= 0xffffffffL) {
        len.putInt((int) lens[i]);
      } else {
        len.putLong(lens[i]);
      }
      crc.update(len.array(), 0, len.position());
    }
    if (n > 0) {
      int storedLengthsCrc = ByteBuffer.wrap(b, pos[0], 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
      if (storedLengthsCrc != Crc32c.mask((int) crc.getValue())) {
        throw new CorruptModelException(
            shard
                + ": CRC mismatch in the string lengths of '"
                + e.key()
                + "'; the checkpoint is damaged");
      }
      crc.update(b, pos[0], 4);
    }
    int at = dataStart;
    for (int i = 0; i < n; i++) {
      out.putInt((int) lens[i]).put(b, at, (int) lens[i]);
      at += (int) lens[i];
    }
    crc.update(b, dataStart, b.length - dataStart);
    int actual = Crc32c.mask((int) crc.getValue());
    if (actual != e.crc32c()) {
      throw new CorruptModelException(
          String.format(
              "%s: CRC mismatch for '%s' at offset 0x%x (stored 0x%08x,"
                  + " computed 0x%08x); the checkpoint is damaged",
              shard, e.key(), e.offset(), e.crc32c(), actual));
    }
    return new Tensor(DType.STRING, e.shape(), out.flip());
  }
}
