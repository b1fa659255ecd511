package org.tfport.formats.savedmodel;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/** CRC-32C with LevelDB's mask, which TensorFlow uses for table blocks and bundle entries alike. */
final class Crc32c {
  private static final int MASK_DELTA = 0xa282ead8;

  private Crc32c() {}

  static int value(byte[] b, int off, int len) {
    CRC32C c = new CRC32C();
    c.update(b, off, len);
    return (int) c.getValue();
  }

  static int value(ByteBuffer b) {
    CRC32C c = new CRC32C();
    c.update(b.duplicate());
    return (int) c.getValue();
  }

  /**
   * Stored checksums are masked, so a CRC computed over data that embeds CRCs stays well
   * distributed.
   */
  static int mask(int crc) {
    return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
  }

  static int unmask(int masked) {
    int rot = masked - MASK_DELTA;
    return (rot >>> 17) | (rot << 15);
  }
}
