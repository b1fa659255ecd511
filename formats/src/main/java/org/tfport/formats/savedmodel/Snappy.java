package org.tfport.formats.savedmodel;

/**
 * A raw Snappy decoder (the block format, no framing), for table blocks written with compression
 * type 1. TensorFlow has written checkpoint indexes uncompressed since 1.1, so this only meets old
 * or third-party files; it is small and checks every length and offset, because the input is
 * untrusted.
 */
final class Snappy {
  /**
   * A Snappy element expands at most 64 bytes out of 3 in; anything claiming more is not Snappy.
   */
  private static final int MAX_RATIO = 22;

  private Snappy() {}

  /** Thrown with a message saying what is wrong; callers add the file name. */
  static final class SnappyException extends Exception {
    private static final long serialVersionUID = 1L;

    SnappyException(String message) {
      super(message);
    }
  }

  static byte[] decompress(byte[] in, int off, int len) throws SnappyException {
    int end = off + len;
    int pos = off;
    // Preamble: the uncompressed length as a little-endian base-128 varint of at most 5 bytes.
    long outLen = 0;
    for (int shift = 0; ; shift += 7) {
      if (pos >= end) {
        throw new SnappyException("truncated length preamble");
      }
      if (shift > 28) {
        throw new SnappyException("length preamble longer than 5 bytes");
      }
      int b = in[pos++] & 0xff;
      outLen |= (long) (b & 0x7f) << shift;
      if (b < 0x80) {
        break;
      }
    }
    if (outLen > Integer.MAX_VALUE - 8 || outLen > (long) len * MAX_RATIO + 16) {
      throw new SnappyException("claims " + outLen + " bytes from " + len + " compressed bytes");
    }
    if (outLen > org.tfport.core.Limits.maxAllocationBytes()) {
      throw new SnappyException(
          "claims "
              + outLen
              + " bytes, over tfport's limit of "
              + org.tfport.core.Limits.maxAllocationBytes()
              + " (-D"
              + org.tfport.core.Limits.PROPERTY
              + ")");
    }
    byte[] out = new byte[(int) outLen];
    int op = 0;
    while (pos < end) {
      int tag = in[pos++] & 0xff;
      int kind = tag & 3;
      if (kind == 0) {
        int litLen = tag >>> 2;
        if (litLen >= 60) {
          int extra = litLen - 59;
          if (end - pos < extra) {
            throw new SnappyException("truncated literal length");
          }
          long l = 0;
          for (int i = 0; i < extra; i++) {
            l |= (long) (in[pos++] & 0xff) << (8 * i);
          }
          litLen = (int) Math.min(l, Integer.MAX_VALUE - 1);
        }
        litLen += 1;
        if (litLen > end - pos || litLen > out.length - op) {
          throw new SnappyException(
              "literal of "
                  + litLen
                  + " bytes overruns the "
                  + (litLen > end - pos ? "input" : "declared output"));
        }
        System.arraycopy(in, pos, out, op, litLen);
        pos += litLen;
        op += litLen;
        continue;
      }
      int copyLen;
      int offset;
      if (kind == 1) {
        if (pos >= end) {
          throw new SnappyException("truncated copy");
        }
        copyLen = 4 + ((tag >>> 2) & 7);
        offset = ((tag >>> 5) << 8) | (in[pos++] & 0xff);
      } else if (kind == 2) {
        if (end - pos < 2) {
          throw new SnappyException("truncated copy");
        }
        copyLen = (tag >>> 2) + 1;
        offset = (in[pos] & 0xff) | (in[pos + 1] & 0xff) << 8;
        pos += 2;
      } else {
        if (end - pos < 4) {
          throw new SnappyException("truncated copy");
        }
        copyLen = (tag >>> 2) + 1;
        long o =
            (in[pos] & 0xffL)
                | (in[pos + 1] & 0xffL) << 8
                | (in[pos + 2] & 0xffL) << 16
                | (in[pos + 3] & 0xffL) << 24;
        pos += 4;
        offset = (int) Math.min(o, Integer.MAX_VALUE);
      }
      if (offset == 0 || offset > op) {
        throw new SnappyException("copy from offset " + offset + " at output position " + op);
      }
      if (copyLen > out.length - op) {
        throw new SnappyException(
            "copy of " + copyLen + " bytes overruns the declared output of " + out.length);
      }
      // Byte by byte on purpose: a copy may overlap its own output (offset < length repeats a
      // pattern).
      for (int i = 0; i < copyLen; i++) {
        out[op] = out[op - offset];
        op++;
      }
    }
    if (op != out.length) {
      throw new SnappyException("decoded " + op + " bytes, the preamble declared " + out.length);
    }
    return out;
  }
}
