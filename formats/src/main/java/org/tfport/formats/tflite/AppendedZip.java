package org.tfport.formats.tflite;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.tfport.core.Limits;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;

/**
 * The zip of associated files that model metadata appends after the FlatBuffer, so the file is both
 * a valid {@code .tflite} and a valid zip. Entries are written uncompressed (the task libraries map
 * them in place) with offsets from the start of the file, as the metadata populator does. Reading
 * goes through the central directory and, like Python's zipfile and the JDK, tolerates offsets that
 * are relative to the zip's own start.
 */
final class AppendedZip {
  private static final int LOC = 0x04034b50;
  private static final int CEN = 0x02014b50;
  private static final int END = 0x06054b50;
  private static final int LOCHDR = 30;
  private static final int CENHDR = 46;
  private static final int ENDHDR = 22;
  private static final long MAX_DEFLATE_RATIO = 1032;
  // 1980-01-01 00:00 in DOS format, so output does not depend on the clock.
  private static final int DOS_DATE = (1 << 5) | 1;

  private AppendedZip() {}

  /** The zip bytes for entries placed after {@code base} bytes of model. */
  static byte[] write(long base, Map<String, byte[]> files) {
    if (files.size() > 0xFFFF) {
      throw new IllegalArgumentException("at most 65535 associated files, got " + files.size());
    }
    ByteArrayOutputStream local = new ByteArrayOutputStream();
    ByteArrayOutputStream central = new ByteArrayOutputStream();
    for (Map.Entry<String, byte[]> e : files.entrySet()) {
      byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
      byte[] data = e.getValue();
      CRC32 crc = new CRC32();
      crc.update(data);
      long offset = base + local.size();
      if (offset + LOCHDR + name.length + data.length > 0xFFFFFFFFL) {
        throw new IllegalArgumentException(
            "associated files past 4 GiB need zip64, which is not written");
      }
      int flags = isAscii(name) ? 0 : 0x800;
      ByteBuffer h = le(LOCHDR);
      h.putInt(LOC)
          .putShort((short) 10)
          .putShort((short) flags)
          .putShort((short) 0)
          .putShort((short) 0)
          .putShort((short) DOS_DATE)
          .putInt((int) crc.getValue())
          .putInt(data.length)
          .putInt(data.length)
          .putShort((short) name.length)
          .putShort((short) 0);
      local.writeBytes(h.array());
      local.writeBytes(name);
      local.writeBytes(data);
      ByteBuffer c = le(CENHDR);
      c.putInt(CEN)
          .putShort((short) 20)
          .putShort((short) 10)
          .putShort((short) flags)
          .putShort((short) 0)
          .putShort((short) 0)
          .putShort((short) DOS_DATE)
          .putInt((int) crc.getValue())
          .putInt(data.length)
          .putInt(data.length)
          .putShort((short) name.length)
          .putShort((short) 0)
          .putShort((short) 0)
          .putShort((short) 0)
          .putShort((short) 0)
          .putInt(0)
          .putInt((int) offset);
      central.writeBytes(c.array());
      central.writeBytes(name);
    }
    ByteBuffer end = le(ENDHDR);
    end.putInt(END)
        .putShort((short) 0)
        .putShort((short) 0)
        .putShort((short) files.size())
        .putShort((short) files.size())
        .putInt(central.size())
        .putInt((int) (base + local.size()))
        .putShort((short) 0);
    ByteArrayOutputStream all = new ByteArrayOutputStream(local.size() + central.size() + ENDHDR);
    all.writeBytes(local.toByteArray());
    all.writeBytes(central.toByteArray());
    all.writeBytes(end.array());
    return all.toByteArray();
  }

  /**
   * The entries of the zip at the end of {@code file}, in central-directory order; empty when the
   * file has no end-of-central-directory record (a model without associated files).
   */
  static Map<String, byte[]> read(ByteBuffer file, String where) {
    ByteBuffer b = file.slice().order(ByteOrder.LITTLE_ENDIAN);
    int size = b.limit();
    int endPos = -1;
    for (int p = size - ENDHDR; p >= Math.max(0, size - ENDHDR - 0xFFFF); p--) {
      if (b.getInt(p) == END && p + ENDHDR + Short.toUnsignedInt(b.getShort(p + 20)) == size) {
        endPos = p;
        break;
      }
    }
    Map<String, byte[]> out = new LinkedHashMap<>();
    if (endPos < 0) {
      return out;
    }
    int entries = Short.toUnsignedInt(b.getShort(endPos + 10));
    long cenSize = Integer.toUnsignedLong(b.getInt(endPos + 12));
    long cenOffset = Integer.toUnsignedLong(b.getInt(endPos + 16));
    if (cenSize > endPos || cenOffset > endPos - cenSize) {
      throw corrupt(
          where,
          endPos,
          "invalid zip end header (central directory of "
              + cenSize
              + " bytes at 0x"
              + Long.toHexString(cenOffset)
              + " does not fit before it)");
    }
    // Offsets may be absolute (populator) or relative to the zip's start (a zip made separately and
    // appended).
    long shift = endPos - cenSize - cenOffset;
    long p = endPos - cenSize;
    long total = 0;
    for (int i = 0; i < entries; i++) {
      if (p + CENHDR > endPos || b.getInt((int) p) != CEN) {
        throw corrupt(where, p, "invalid zip central directory entry " + i);
      }
      int cp = (int) p;
      int flags = Short.toUnsignedInt(b.getShort(cp + 8));
      int method = Short.toUnsignedInt(b.getShort(cp + 10));
      long crc = Integer.toUnsignedLong(b.getInt(cp + 16));
      long csize = Integer.toUnsignedLong(b.getInt(cp + 20));
      long usize = Integer.toUnsignedLong(b.getInt(cp + 24));
      int nlen = Short.toUnsignedInt(b.getShort(cp + 28));
      int xlen = Short.toUnsignedInt(b.getShort(cp + 30));
      int clen = Short.toUnsignedInt(b.getShort(cp + 32));
      long loc = Integer.toUnsignedLong(b.getInt(cp + 42)) + shift;
      if (p + CENHDR + nlen + xlen + clen > endPos) {
        throw corrupt(where, p, "zip central directory entry " + i + " runs past the directory");
      }
      byte[] nb = new byte[nlen];
      b.get(cp + CENHDR, nb);
      String name =
          new String(
              nb, (flags & 0x800) != 0 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
      if (loc < 0 || loc + LOCHDR > size || b.getInt((int) loc) != LOC) {
        throw corrupt(where, loc, "zip entry '" + name + "' has no local header there");
      }
      long data =
          loc
              + LOCHDR
              + Short.toUnsignedInt(b.getShort((int) loc + 26))
              + Short.toUnsignedInt(b.getShort((int) loc + 28));
      if (data + csize > size || usize > Integer.MAX_VALUE - 8) {
        throw corrupt(
            where,
            loc,
            "zip entry '" + name + "' (" + csize + " bytes) runs past the end of the file");
      }
      // Deflate expands at most 1032:1, so a larger claimed size is a lie told before allocating.
      if (method == 8 && usize > csize * MAX_DEFLATE_RATIO + 64) {
        throw corrupt(
            where,
            loc,
            "zip entry '"
                + name
                + "' claims "
                + usize
                + " bytes from "
                + csize
                + " compressed; deflate cannot expand that far");
      }
      total += method == 8 ? usize : csize;
      Limits.allocation(total, 1, where + ": the associated files (zip entry '" + name + "')");
      byte[] raw = new byte[(int) csize];
      b.get((int) data, raw);
      byte[] content =
          switch (method) {
            case 0 -> raw;
            case 8 -> inflate(raw, (int) usize, where, loc, name);
            default ->
                throw new UnsupportedModelException(
                    where
                        + " at byte 0x"
                        + Long.toHexString(loc)
                        + ": zip entry '"
                        + name
                        + "' uses compression method "
                        + method
                        + "; only stored and deflated entries are read");
          };
      CRC32 c = new CRC32();
      c.update(content);
      if (content.length != usize || c.getValue() != crc) {
        throw corrupt(where, loc, "zip entry '" + name + "' fails its size or CRC check");
      }
      out.put(name, content);
      p += CENHDR + nlen + xlen + clen;
    }
    return out;
  }

  private static byte[] inflate(byte[] raw, int size, String where, long pos, String name) {
    Inflater inf = new Inflater(true);
    try {
      inf.setInput(raw);
      byte[] out = new byte[size];
      int n = 0;
      while (n < size && !inf.finished()) {
        int k = inf.inflate(out, n, size - n);
        if (k == 0 && (inf.needsInput() || inf.needsDictionary())) {
          break;
        }
        n += k;
      }
      if (n != size) {
        throw corrupt(
            where, pos, "zip entry '" + name + "' inflates to " + n + " bytes, expected " + size);
      }
      return out;
    } catch (DataFormatException e) {
      throw corrupt(
          where, pos, "zip entry '" + name + "' is not valid deflate data: " + e.getMessage());
    } finally {
      inf.end();
    }
  }

  private static CorruptModelException corrupt(String where, long pos, String msg) {
    return new CorruptModelException(where + " at byte 0x" + Long.toHexString(pos) + ": " + msg);
  }

  private static boolean isAscii(byte[] b) {
    for (byte x : b) {
      if (x < 0) {
        return false;
      }
    }
    return true;
  }

  private static ByteBuffer le(int n) {
    return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
  }
}
