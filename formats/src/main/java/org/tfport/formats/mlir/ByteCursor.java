package org.tfport.formats.mlir;

import java.nio.charset.StandardCharsets;
import org.tfport.core.TfportException.CorruptModelException;

/**
 * A bounded reader over one section of an MLIR bytecode buffer. Offsets are absolute (from the
 * first byte of the bytecode) so that errors point at the byte a user can find with a hex dump, and
 * so that section alignment is computed the way the writer computed it.
 */
final class ByteCursor {
  private final byte[] bytes;
  private final String file;
  private final String section;
  private final int end;
  private int pos;

  ByteCursor(byte[] bytes, int start, int end, String file, String section) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
    this.file = file;
    this.section = section;
  }

  int pos() {
    return pos;
  }

  boolean atEnd() {
    return pos >= end;
  }

  int remaining() {
    return end - pos;
  }

  String section() {
    return section;
  }

  CorruptModelException error(String what) {
    return new CorruptModelException(
        file
            + ": MLIR bytecode, "
            + section
            + " at byte offset "
            + pos
            + ": "
            + what
            + " (the file is truncated or not MLIR bytecode)");
  }

  int u8() {
    if (pos >= end) {
      throw error("expected a byte past the end of the " + section);
    }
    return bytes[pos++] & 0xFF;
  }

  /** MLIR's PrefixVarInt: the count of trailing zero bits of the first byte is the extra bytes. */
  long varInt() {
    int first = u8();
    if ((first & 1) != 0) {
      return first >>> 1;
    }
    int extra = first == 0 ? 8 : Integer.numberOfTrailingZeros(first);
    need(extra);
    long value = 0;
    for (int i = extra - 1; i >= 0; i--) {
      value = (value << 8) | (bytes[pos + i] & 0xFFL);
    }
    pos += extra;
    if (first == 0) {
      return value;
    }
    return (value << (8 - extra - 1)) | (first >>> (extra + 1));
  }

  /** Zigzag-decoded signed varint. */
  long signedVarInt() {
    long v = varInt();
    return (v >>> 1) ^ -(v & 1);
  }

  /** A varint used as a count or index, checked to be below {@code limit}. */
  int index(long limit, String what) {
    int at = pos;
    long v = varInt();
    if (v < 0 || v >= limit) {
      pos = at;
      throw error(what + " " + Long.toUnsignedString(v) + " out of range (have " + limit + ")");
    }
    return (int) v;
  }

  /** A varint used as a length of data that must follow within this section. */
  int length(String what) {
    int at = pos;
    long v = varInt();
    if (v < 0 || v > remaining()) {
      pos = at;
      throw error(
          what + " " + Long.toUnsignedString(v) + " exceeds the " + remaining() + " bytes left");
    }
    return (int) v;
  }

  /** A varint count of items each at least one byte long, so bounded by the bytes left. */
  int count(String what) {
    return length(what);
  }

  private void need(int n) {
    if (n > remaining()) {
      throw error("expected " + n + " bytes, only " + remaining() + " left");
    }
  }

  byte[] bytes(int n) {
    need(n);
    byte[] out = new byte[n];
    System.arraycopy(bytes, pos, out, 0, n);
    pos += n;
    return out;
  }

  String nullTerminated() {
    for (int i = pos; i < end; i++) {
      if (bytes[i] == 0) {
        String s = new String(bytes, pos, i - pos, StandardCharsets.UTF_8);
        pos = i + 1;
        return s;
      }
    }
    throw error("string without its terminating zero byte");
  }

  /** A cursor over the next {@code n} bytes, which this cursor skips. */
  ByteCursor sub(int n, String subSection) {
    need(n);
    ByteCursor c = new ByteCursor(bytes, pos, pos + n, file, subSection);
    pos += n;
    return c;
  }

  /** The same bytes from {@code start} (absolute) to this cursor's end, under another name. */
  ByteCursor at(int start, int stop, String subSection) {
    if (start < 0 || stop > end || start > stop) {
      throw error("entry " + start + ".." + stop + " lies outside the " + section);
    }
    return new ByteCursor(bytes, start, stop, file, subSection);
  }

  /** Skips the 0xCB padding bytes up to the next multiple of {@code alignment}. */
  void alignTo(long alignment) {
    if (alignment <= 0 || alignment > (1 << 20) || Long.bitCount(alignment) != 1) {
      throw error("alignment " + alignment + " is not a power of two");
    }
    while (pos % alignment != 0) {
      if (u8() != 0xCB) {
        pos--;
        throw error("expected alignment padding byte 0xCB");
      }
    }
  }

  /** One section header and its data: id byte (high bit: aligned), length, alignment. */
  Section section(String[] names) {
    int id = u8();
    boolean aligned = (id & 0x80) != 0;
    id &= 0x7F;
    if (id >= names.length) {
      pos--;
      throw error("unknown section id " + id);
    }
    long length = varInt();
    if (aligned) {
      alignTo(varInt());
    }
    if (length < 0 || length > remaining()) {
      throw error(
          names[id] + " section length " + length + " exceeds the " + remaining() + " bytes left");
    }
    return new Section(id, sub((int) length, names[id] + " section"));
  }

  record Section(int id, ByteCursor data) {}
}
