package org.tfport.formats.tfjs;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.tfport.core.TfportException.OutputException;
import org.tfport.core.TfportException.UsageException;

/**
 * The byte stream of one weight group, cut into shard files of exactly {@code shardSize} bytes as
 * it is written. Only the current shard is open and at most one staging buffer is held, so the
 * group never has to exist in memory as a whole; a weight may straddle files, even in the middle of
 * an element.
 */
final class ShardSink implements Closeable {
  /**
   * More files than this means the shard size is a mistake, not a plan; refuse before filling the
   * disk.
   */
  static final long MAX_SHARDS = 100_000;

  private final Path dir;
  private final int group;
  private final int shardCount;
  private final long shardSize;
  private final long total;
  private final List<String> names = new ArrayList<>();
  private final ByteBuffer staging = ByteBuffer.allocate(1 << 20);
  private FileChannel channel;
  private Path current;
  private long posInShard;
  private long written;

  /**
   * @param group the 1-based group number in the file names
   * @param total the exact number of bytes that will be written, known up front so names can say
   *     "of N"
   */
  ShardSink(Path dir, int group, long total, long shardSize) {
    this.dir = dir;
    this.group = group;
    this.shardSize = shardSize;
    this.total = total;
    this.shardCount = shardCount(total, shardSize);
    for (int s = 1; s <= shardCount; s++) {
      names.add(shardName(group, s, shardCount));
    }
  }

  static int shardCount(long total, long shardSize) {
    long n = total == 0 ? 0 : (total - 1) / shardSize + 1;
    if (n > MAX_SHARDS) {
      throw new UsageException(
          "a shard size of "
              + shardSize
              + " bytes would split "
              + total
              + " bytes of weights into "
              + n
              + " files; use a larger WriteOptions.shardSizeBytes (default 4194304)");
    }
    return (int) n;
  }

  static String shardName(int group, int shard, int count) {
    return "group" + group + "-shard" + shard + "of" + count + ".bin";
  }

  /** The manifest's {@code paths}: every shard name, known before anything is written. */
  List<String> names() {
    return List.copyOf(names);
  }

  List<Path> files() {
    return names.stream().map(dir::resolve).toList();
  }

  long written() {
    return written;
  }

  /** Appends all remaining bytes of {@code src}, advancing its position. */
  void write(ByteBuffer src) {
    while (src.hasRemaining()) {
      if (written >= total) {
        throw new IllegalStateException(
            "group " + group + ": more bytes than the " + total + " planned");
      }
      if (channel == null) {
        open();
      }
      int n = (int) Math.min(shardSize - posInShard, src.remaining());
      ByteBuffer part = src.slice(src.position(), n);
      src.position(src.position() + n);
      stage(part);
      posInShard += n;
      written += n;
      if (posInShard == shardSize) {
        closeCurrent();
      }
    }
  }

  /** Checks every planned byte arrived and closes the last shard. */
  void finish() {
    if (written != total) {
      throw new IllegalStateException(
          "group " + group + ": wrote " + written + " bytes, planned " + total);
    }
    if (channel != null) {
      closeCurrent();
    }
  }

  @Override
  public void close() {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // Only reached on an earlier failure, which is the error worth reporting.
      }
      channel = null;
    }
  }

  private void open() {
    // A shard is closed exactly at its boundary, so the bytes written so far say which one comes
    // next.
    current = dir.resolve(names.get((int) (written / shardSize)));
    try {
      channel =
          FileChannel.open(
              current,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new OutputException(
          "cannot create weight shard "
              + current
              + ": "
              + e.getMessage()
              + "; check the output folder is writable",
          e);
    }
    posInShard = 0;
  }

  private void stage(ByteBuffer part) {
    if (part.remaining() > staging.remaining()) {
      flush();
      if (part.remaining() >= staging.capacity()) {
        // Large runs skip the copy; small ones (scalars, biases) are batched to save system calls.
        writeFully(part);
        return;
      }
    }
    staging.put(part);
  }

  private void flush() {
    staging.flip();
    writeFully(staging);
    staging.clear();
  }

  private void writeFully(ByteBuffer b) {
    try {
      while (b.hasRemaining()) {
        channel.write(b);
      }
    } catch (IOException e) {
      throw new OutputException(
          "cannot write weight shard "
              + current
              + ": "
              + e.getMessage()
              + "; check free disk space",
          e);
    }
  }

  private void closeCurrent() {
    flush();
    try {
      channel.close();
    } catch (IOException e) {
      throw new OutputException("cannot finish weight shard " + current + ": " + e.getMessage(), e);
    } finally {
      channel = null;
    }
  }
}
