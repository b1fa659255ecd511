package org.tfport.formats.savedmodel;

import java.io.ByteArrayOutputStream;

/**
 * LevelDB varints, written: 7 bits a byte, low bits first, the high bit set on all but the last.
 */
final class VarintWriter {
  private VarintWriter() {}

  static void write(ByteArrayOutputStream out, long v) {
    if (v < 0) {
      throw new IllegalArgumentException("a table varint is never negative: " + v);
    }
    while (v >= 0x80) {
      out.write((int) (v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out.write((int) v);
  }
}
