package org.tfport.formats.npy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.TfportException.UsageException;

/**
 * One NumPy {@code .npy} array (format versions 1, 2 and 3): magic {@code \x93NUMPY}, major and minor version
 * bytes, a little-endian header length (2 bytes in v1, 4 in v2/v3), then a Python dict literal with
 * {@code descr}, {@code fortran_order} and {@code shape}, then the raw C-order data. Only the dtypes a
 * representative dataset needs are read ({@code <f4 <f8 <i4 <i8 |u1 |i1}); values are widened to float, which is
 * what calibration works in (int32/int64 index inputs are exact up to 2^24).
 *
 * <p>The file is untrusted: the header is parsed by a small literal parser (never evaluated), its length is
 * bounded, and the shape's byte size must equal the bytes after the header before anything is allocated; any
 * problem is a {@link UsageException} naming the file.
 *
 * @param dtype the header's descr, e.g. {@code <f4}
 */
public record Npy(Path file, String dtype, int[] shape, float[] values) {
  /** Headers are a few hundred bytes; anything longer is not a file numpy wrote. */
  static final int MAX_HEADER = 1 << 16;

  /** The element width of each readable dtype. */
  private static final Map<String, Integer> WIDTHS = Map.of("<f4", 4, "<f8", 8, "<i4", 4, "<i8", 8, "|u1", 1,
      "|i1", 1);

  public boolean isFloat() {
    return dtype.charAt(1) == 'f';
  }

  public long elements() {
    long n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  public static Npy read(Path file) {
    try (SeekableByteChannel ch = Files.newByteChannel(file)) {
      long size = ch.size();
      ByteBuffer head = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, head, file);
      head.flip();
      byte[] magic = new byte[6];
      head.get(magic);
      if (magic[0] != (byte) 0x93 || !new String(magic, 1, 5, StandardCharsets.ISO_8859_1).equals("NUMPY")) {
        throw bad(file, "not a .npy file (no \\x93NUMPY magic)");
      }
      int major = head.get() & 0xff;
      head.get();
      long headerLen;
      int offset;
      if (major == 1) {
        headerLen = head.getShort() & 0xffff;
        offset = 10;
      } else if (major == 2 || major == 3) {
        headerLen = head.getInt() & 0xffffffffL;
        offset = 12;
      } else {
        throw bad(file, ".npy format version " + major + " is not supported (1, 2 or 3)");
      }
      if (headerLen > MAX_HEADER || offset + headerLen > size) {
        throw bad(file, "the header length " + headerLen + " is larger than the file allows");
      }
      ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
      ch.position(offset);
      readFully(ch, hb, file);
      String header = new String(hb.array(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
      Map<String, Object> dict = new HeaderParser(header, file).dict();
      if (!(dict.get("descr") instanceof String descr)) {
        throw bad(file, "the header has no 'descr' string");
      }
      if (!(dict.get("fortran_order") instanceof Boolean fortran)) {
        throw bad(file, "the header has no 'fortran_order' True/False");
      }
      if (!(dict.get("shape") instanceof long[] dims)) {
        throw bad(file, "the header has no 'shape' tuple");
      }
      if (fortran) {
        throw bad(file, "Fortran-order arrays are not supported; save with np.save(f, np.ascontiguousarray(a))");
      }
      String d = descr.startsWith("=") ? "<" + descr.substring(1) : descr;
      if (d.equals("<u1") || d.equals("<i1")) {
        d = "|" + d.substring(1);
      }
      Integer width = WIDTHS.get(d);
      if (width == null) {
        throw bad(file, "dtype '" + descr + "' is not supported; use float32 (<f4), float64, int32, int64, uint8"
            + " or int8, little-endian");
      }
      long count = 1;
      int[] shape = new int[dims.length];
      for (int i = 0; i < dims.length; i++) {
        if (dims[i] < 0 || dims[i] > Integer.MAX_VALUE) {
          throw bad(file, "the header's shape " + Arrays.toString(dims) + " has an invalid dimension");
        }
        shape[i] = (int) dims[i];
        count = count == 0 || dims[i] == 0 ? 0 : Math.multiplyHigh(count, dims[i]) != 0 ? -1 : count * dims[i];
        if (count < 0 || count > Integer.MAX_VALUE - 16) {
          throw bad(file, "the header's shape " + Arrays.toString(dims) + " is too large");
        }
      }
      long data = size - offset - headerLen;
      if (count * width != data) {
        throw bad(file, "the header's shape " + Arrays.toString(dims) + " of " + descr + " needs " + count * width
            + " data bytes, the file has " + data);
      }
      ByteBuffer body = ByteBuffer.allocate((int) data).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, body, file);
      body.flip();
      float[] v = new float[(int) count];
      for (int i = 0; i < v.length; i++) {
        v[i] = switch (d) {
          case "<f4" -> body.getFloat();
          case "<f8" -> (float) body.getDouble();
          case "<i4" -> body.getInt();
          case "<i8" -> body.getLong();
          case "|u1" -> body.get() & 0xff;
          default -> body.get();
        };
      }
      return new Npy(file, d, shape, v);
    } catch (IOException e) {
      throw new UsageException(file + ": cannot read (" + e.getMessage() + ")");
    }
  }

  private static void readFully(SeekableByteChannel ch, ByteBuffer b, Path file) throws IOException {
    while (b.hasRemaining()) {
      if (ch.read(b) < 0) {
        throw bad(file, "the file ends early; not a complete .npy file");
      }
    }
  }

  private static UsageException bad(Path file, String why) {
    return new UsageException(file + ": " + why);
  }

  /** Writes a little-endian float32 C-order .npy (version 1); tests and tools use it to make samples. */
  public static void writeFloat32(Path file, int[] shape, float[] values) throws IOException {
    StringBuilder s = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int d : shape) {
      s.append(d).append(", ");
    }
    // numpy's tuple repr: "(3,)" for one dimension, "(3, 4)" for more.
    s.setLength(s.length() - (shape.length > 1 ? 2 : shape.length == 1 ? 1 : 0));
    s.append("), }");
    // numpy pads the header with spaces so the data starts on a 64-byte boundary, ending with a newline.
    int total = 10 + s.length() + 1;
    int pad = (64 - total % 64) % 64;
    s.append(" ".repeat(pad)).append('\n');
    byte[] h = s.toString().getBytes(StandardCharsets.ISO_8859_1);
    ByteBuffer b = ByteBuffer.allocate(10 + h.length + 4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.ISO_8859_1)).put((byte) 1).put((byte) 0)
        .putShort((short) h.length).put(h);
    for (float f : values) {
      b.putFloat(f);
    }
    Files.write(file, b.array());
  }

  /**
   * The subset of Python literal syntax numpy writes: {@code {'key': value, ...}} with string, True/False and
   * tuple-of-int values; a trailing comma allowed.
   */
  private static final class HeaderParser {
    private final String s;
    private final Path file;
    private int i;

    HeaderParser(String s, Path file) {
      this.s = s;
      this.file = file;
    }

    Map<String, Object> dict() {
      Map<String, Object> m = new HashMap<>();
      expect('{');
      while (true) {
        skip();
        if (peek() == '}') {
          i++;
          break;
        }
        String k = string();
        expect(':');
        skip();
        m.put(k, value());
        skip();
        if (peek() == ',') {
          i++;
        } else {
          expect('}');
          break;
        }
      }
      skip();
      if (i != s.length()) {
        throw bad(file, "unexpected text after the header dict");
      }
      return m;
    }

    private Object value() {
      char c = peek();
      if (c == '\'' || c == '"') {
        return string();
      }
      if (s.startsWith("True", i)) {
        i += 4;
        return Boolean.TRUE;
      }
      if (s.startsWith("False", i)) {
        i += 5;
        return Boolean.FALSE;
      }
      if (c == '(') {
        i++;
        List<Long> dims = new ArrayList<>();
        while (true) {
          skip();
          if (peek() == ')') {
            i++;
            break;
          }
          int start = i;
          while (i < s.length() && Character.isDigit(s.charAt(i))) {
            i++;
          }
          if (start == i || i - start > 12) {
            throw bad(file, "the header's shape is not a tuple of integers");
          }
          dims.add(Long.parseLong(s.substring(start, i)));
          skip();
          if (peek() == ',') {
            i++;
          } else if (peek() != ')') {
            throw bad(file, "the header's shape is not a tuple of integers");
          }
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
      }
      throw bad(file, "cannot parse the header at '" + s.substring(i, Math.min(s.length(), i + 20)) + "'");
    }

    private String string() {
      skip();
      char q = peek();
      if (q != '\'' && q != '"') {
        throw bad(file, "the header is not a dict of quoted keys");
      }
      int end = s.indexOf(q, i + 1);
      if (end < 0) {
        throw bad(file, "unterminated string in the header");
      }
      String r = s.substring(i + 1, end);
      i = end + 1;
      return r;
    }

    private void expect(char c) {
      skip();
      if (peek() != c) {
        throw bad(file, "malformed header: expected '" + c + "'");
      }
      i++;
    }

    private char peek() {
      if (i >= s.length()) {
        throw bad(file, "the header ends early");
      }
      return s.charAt(i);
    }

    private void skip() {
      while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
        i++;
      }
    }
  }
}
