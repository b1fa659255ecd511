package org.tfport.formats.tfjs;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.tfport.core.TfportException.CorruptModelException;

/**
 * The shard files of one weight group read as the single byte stream they are: a read at any offset
 * may span files. Channels open on first use and stay open until {@link #close()}.
 */
final class GroupSource implements Closeable {
  private final List<Path> files;
  private final long[] starts;
  private final long total;
  private final FileChannel[] channels;
  // A small window keeps walking string length prefixes from costing one system call per element.
  private final ByteBuffer window = ByteBuffer.allocate(64 * 1024).order(ByteOrder.LITTLE_ENDIAN);
  private long windowStart = -1;

  GroupSource(List<Path> files, long[] sizes) {
    this.files = files;
    this.starts = new long[sizes.length + 1];
    for (int i = 0; i < sizes.length; i++) {
      starts[i + 1] = starts[i] + sizes[i];
    }
    this.total = starts[sizes.length];
    this.channels = new FileChannel[sizes.length];
  }

  long total() {
    return total;
  }

  /**
   * "shard group1-shard2of3.bin byte 1234" for a group offset, so errors point into the right file.
   */
  String locate(long offset) {
    int f = fileAt(offset);
    if (f < 0) {
      return "byte " + offset + " of the group (past the last shard)";
    }
    return "byte " + (offset - starts[f]) + " of " + files.get(f).getFileName();
  }

  /**
   * Reads {@code length} bytes at group offset {@code offset} into a new little-endian heap buffer.
   */
  ByteBuffer read(long offset, int length) {
    if (offset < 0 || length < 0 || offset + length > total) {
      throw new IllegalArgumentException(
          "read of " + length + " bytes at " + offset + " outside " + total);
    }
    ByteBuffer dst = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    readInto(offset, dst);
    return dst.flip();
  }

  /** The uint32 little-endian at {@code offset}; the caller has checked 4 bytes are there. */
  long readUint32(long offset) {
    if (windowStart < 0 || offset < windowStart || offset + 4 > windowStart + window.limit()) {
      window.clear();
      window.limit((int) Math.min(window.capacity(), total - offset));
      readInto(offset, window);
      window.flip();
      windowStart = offset;
    }
    return window.getInt((int) (offset - windowStart)) & 0xffffffffL;
  }

  private void readInto(long offset, ByteBuffer dst) {
    long pos = offset;
    while (dst.hasRemaining()) {
      int f = fileAt(pos);
      FileChannel ch = channel(f);
      long inFile = pos - starts[f];
      int want = (int) Math.min(dst.remaining(), starts[f + 1] - pos);
      ByteBuffer part = dst.slice(dst.position(), want);
      try {
        while (part.hasRemaining()) {
          if (ch.read(part, inFile + part.position()) < 0) {
            throw new CorruptModelException(
                "weight shard "
                    + files.get(f)
                    + " became shorter while it was read ("
                    + (inFile + part.position())
                    + " bytes); another program is changing it, so retry when it is done");
          }
        }
      } catch (IOException e) {
        throw new CorruptModelException(
            "cannot read weight shard "
                + files.get(f)
                + " at byte "
                + inFile
                + ": "
                + e.getMessage(),
            e);
      }
      dst.position(dst.position() + want);
      pos += want;
    }
  }

  private int fileAt(long offset) {
    for (int f = 0; f < channels.length; f++) {
      if (offset < starts[f + 1]) {
        return f;
      }
    }
    return -1;
  }

  private FileChannel channel(int f) {
    if (channels[f] == null) {
      try {
        channels[f] = FileChannel.open(files.get(f), StandardOpenOption.READ);
      } catch (IOException e) {
        throw new CorruptModelException(
            "cannot open weight shard "
                + files.get(f)
                + ": "
                + e.getMessage()
                + "; check the file exists and is readable",
            e);
      }
    }
    return channels[f];
  }

  @Override
  public void close() {
    for (int f = 0; f < channels.length; f++) {
      if (channels[f] != null) {
        try {
          channels[f].close();
        } catch (IOException ignored) {
          // Read-only channels lose nothing on a failed close.
        }
        channels[f] = null;
      }
    }
  }
}
