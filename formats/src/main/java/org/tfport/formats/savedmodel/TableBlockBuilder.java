package org.tfport.formats.savedmodel;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Builds one {@link TableBlock}: keys added in ascending byte order, each sharing its prefix with
 * the one before except at restart points, then the restart offsets and their count as fixed32s.
 */
final class TableBlockBuilder {
  /** As LevelDB and TensorFlow's table writer: a full key every 16 entries bounds a seek's scan. */
  static final int RESTART_INTERVAL = 16;

  private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
  private final List<Integer> restarts = new ArrayList<>(List.of(0));
  private byte[] last = new byte[0];
  private int sinceRestart;
  private int count;

  void add(byte[] key, byte[] value) {
    int shared = 0;
    if (sinceRestart < RESTART_INTERVAL) {
      int max = Math.min(last.length, key.length);
      while (shared < max && last[shared] == key[shared]) {
        shared++;
      }
    } else {
      restarts.add(buf.size());
      sinceRestart = 0;
    }
    VarintWriter.write(buf, shared);
    VarintWriter.write(buf, key.length - shared);
    VarintWriter.write(buf, value.length);
    buf.write(key, shared, key.length - shared);
    buf.write(value, 0, value.length);
    last = Arrays.copyOf(key, key.length);
    sinceRestart++;
    count++;
  }

  boolean isEmpty() {
    return count == 0;
  }

  /** The size the block will have when finished, without its trailer. */
  int estimatedSize() {
    return buf.size() + 4 * restarts.size() + 4;
  }

  /** The block's contents; the builder is spent afterwards. */
  byte[] finish() {
    ByteBuffer tail = ByteBuffer.allocate(4 * restarts.size() + 4).order(ByteOrder.LITTLE_ENDIAN);
    restarts.forEach(tail::putInt);
    tail.putInt(restarts.size());
    buf.write(tail.array(), 0, tail.capacity());
    return buf.toByteArray();
  }
}
