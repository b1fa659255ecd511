package org.tfport.formats.savedmodel;

/**
 * A table {@code BlockHandle}: where a block starts and how long it is, not counting its 5-byte
 * trailer. Encoded as two varint64s.
 */
record BlockHandle(long offset, long size) {
  /** The most bytes an encoded handle takes: two 10-byte varints. */
  static final int MAX_ENCODED_LENGTH = 20;

  /**
   * Decodes a handle at {@code pos[0]}, advancing it; null when the bytes are not two valid
   * varints.
   */
  static BlockHandle decode(byte[] b, int[] pos, int end) {
    long offset = Varint.read64(b, pos, end);
    if (offset < 0) {
      return null;
    }
    long size = Varint.read64(b, pos, end);
    if (size < 0) {
      return null;
    }
    return new BlockHandle(offset, size);
  }
}
