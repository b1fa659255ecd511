package org.tfport.formats.savedmodel;

/** LevelDB varints. Each reader returns -1 for a truncated or overlong encoding. */
final class Varint {
  private Varint() {}

  static long read64(byte[] b, int[] pos, int end) {
    long v = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
      if (pos[0] >= end) {
        return -1;
      }
      int x = b[pos[0]++] & 0xff;
      v |= (long) (x & 0x7f) << shift;
      if (x < 0x80) {
        return v < 0 ? -1 : v;
      }
    }
    return -1;
  }

  static int read32(byte[] b, int[] pos, int end) {
    long v = read64(b, pos, end);
    return v < 0 || v > Integer.MAX_VALUE ? -1 : (int) v;
  }
}
