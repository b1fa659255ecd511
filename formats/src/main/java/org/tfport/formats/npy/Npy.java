package org.tfport.formats.npy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UsageException;

/**
 * One NumPy {@code .npy} array (format versions 1, 2 and 3): magic {@code \x93NUMPY}, major and
 * minor version bytes, a little-endian header length (2 bytes in v1, 4 in v2/v3), then a Python
 * dict literal with {@code descr}, {@code fortran_order} and {@code shape}, then the raw C-order
 * data.
 *
 * <p>Readable and writable dtypes, each the tensor type it holds: {@code <f4} float32, {@code <f8}
 * float64, {@code <f2} float16, {@code <i4} int32, {@code <i8} int64, {@code <i2} int16, {@code
 * <u2} uint16, {@code |u1} uint8, {@code |i1} int8, {@code |b1} bool, and fixed-width strings
 * {@code |Sn} (bytes, trailing NULs dropped as numpy does) and {@code <Un} (UTF-32, read as UTF-8).
 * {@link #read} widens the numeric ones to float, which is what calibration works in (int32/int64
 * index inputs are exact up to 2^24); {@link #readTensor} keeps the exact values.
 *
 * <p>The file is untrusted: the header is parsed by a small literal parser (never evaluated), its
 * length is bounded, and the shape's byte size must equal the bytes after the header before
 * anything is allocated; any problem is a {@link UsageException} naming the file.
 *
 * @param dtype the header's descr, e.g. {@code <f4}
 */
public record Npy(Path file, String dtype, int[] shape, float[] values) {
  /** Headers are a few hundred bytes; anything longer is not a file numpy wrote. */
  static final int MAX_HEADER = 1 << 16;

  /**
   * numpy's fixed-width strings are sized by their longest element; beyond this a file is not an
   * input.
   */
  static final int MAX_STRING_WIDTH = 1 << 20;

  /** The numeric dtypes, each with the tensor type it holds. */
  private static final Map<String, DType> NUMERIC =
      Map.ofEntries(
          Map.entry("<f4", DType.FLOAT32),
          Map.entry("<f8", DType.FLOAT64),
          Map.entry("<f2", DType.FLOAT16),
          Map.entry("<i4", DType.INT32),
          Map.entry("<i8", DType.INT64),
          Map.entry("<i2", DType.INT16),
          Map.entry("<u2", DType.UINT16),
          Map.entry("|u1", DType.UINT8),
          Map.entry("|i1", DType.INT8),
          Map.entry("|b1", DType.BOOL));

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

  /** The array with its values widened to float; string arrays are refused. */
  public static Npy read(Path file) {
    Parsed p = parse(file);
    if (!NUMERIC.containsKey(p.descr)) {
      throw bad(file, "dtype '" + p.descr + "' holds strings; a numeric array is needed here");
    }
    float[] v = tensor(p).toFloatArray();
    return new Npy(file, p.descr, p.shape, v);
  }

  /**
   * The array as a tensor with the exact values of its dtype (see the class comment for the
   * dtypes).
   */
  public static Tensor readTensor(Path file) {
    return tensor(parse(file));
  }

  /** The tensor type a dtype holds ({@code <f4} is float32), or null when tfport cannot read it. */
  public static DType typeOf(String descr) {
    String d = normalize(descr);
    if (NUMERIC.containsKey(d)) {
      return NUMERIC.get(d);
    }
    return d.matches("(\\|S|<U)\\d+") ? DType.STRING : null;
  }

  /** Everything the header says, and the data bytes. */
  private record Parsed(
      Path file, String descr, int[] shape, long count, int width, ByteBuffer body) {}

  private static Parsed parse(Path file) {
    try (SeekableByteChannel ch = Files.newByteChannel(file)) {
      long size = ch.size();
      ByteBuffer head = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
      head.limit((int) Math.min(12, size));
      readFully(ch, head, file);
      head.flip();
      byte[] magic = new byte[6];
      head.get(magic, 0, Math.min(6, head.remaining()));
      if (magic[0] != (byte) 0x93
          || !new String(magic, 1, 5, StandardCharsets.ISO_8859_1).equals("NUMPY")) {
        throw bad(file, "not a .npy file (no \\x93NUMPY magic)");
      }
      if (size < 10) {
        throw bad(file, "the file ends early; not a complete .npy file");
      }
      int major = head.get() & 0xff;
      head.get();
      long headerLen;
      int offset;
      if (major == 1) {
        headerLen = head.getShort() & 0xffff;
        offset = 10;
      } else if ((major == 2 || major == 3) && head.remaining() >= 4) {
        headerLen = head.getInt() & 0xffffffffL;
        offset = 12;
      } else if (major == 2 || major == 3) {
        throw bad(file, "the file ends early; not a complete .npy file");
      } else {
        throw bad(file, ".npy format version " + major + " is not supported (1, 2 or 3)");
      }
      if (headerLen > MAX_HEADER || offset + headerLen > size) {
        throw bad(file, "the header length " + headerLen + " is larger than the file allows");
      }
      ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
      ch.position(offset);
      readFully(ch, hb, file);
      String header =
          new String(hb.array(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
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
        throw bad(
            file,
            "Fortran-order arrays are not supported; save with np.save(f, np.ascontiguousarray(a))");
      }
      String d = normalize(descr);
      int width = width(d);
      if (width < 0) {
        throw bad(
            file,
            "dtype '"
                + descr
                + "' is not supported; use float32 (<f4), float64, float16, int32, int64,"
                + " int16, uint16, uint8, int8, bool or fixed-width strings, little-endian");
      }
      long count = 1;
      int[] shape = new int[dims.length];
      for (int i = 0; i < dims.length; i++) {
        if (dims[i] < 0 || dims[i] > Integer.MAX_VALUE) {
          throw bad(
              file, "the header's shape " + Arrays.toString(dims) + " has an invalid dimension");
        }
        shape[i] = (int) dims[i];
        count =
            count == 0 || dims[i] == 0
                ? 0
                : Math.multiplyHigh(count, dims[i]) != 0 ? -1 : count * dims[i];
        if (count < 0 || count > Integer.MAX_VALUE - 16) {
          throw bad(file, "the header's shape " + Arrays.toString(dims) + " is too large");
        }
      }
      long data = size - offset - headerLen;
      if (Math.multiplyHigh(count, width) != 0 || count * width != data) {
        throw bad(
            file,
            "the header's shape "
                + Arrays.toString(dims)
                + " of "
                + descr
                + " needs "
                + count * width
                + " data bytes, the file has "
                + data);
      }
      if (data > Integer.MAX_VALUE - 16) {
        throw bad(file, "the array holds " + data + " bytes, more than one Java array can");
      }
      ByteBuffer body = ByteBuffer.allocate((int) data).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, body, file);
      body.flip();
      return new Parsed(file, d, shape, count, width, body);
    } catch (IOException e) {
      throw new UsageException(file + ": cannot read (" + e.getMessage() + ")");
    }
  }

  /**
   * numpy writes {@code =} for native order and {@code <} or {@code |} interchangeably for one-byte
   * types.
   */
  private static String normalize(String descr) {
    String d = descr.startsWith("=") ? "<" + descr.substring(1) : descr;
    if (d.equals("<u1") || d.equals("<i1") || d.equals("<b1")) {
      d = "|" + d.substring(1);
    }
    if (d.startsWith("<S") || d.startsWith("=S")) {
      d = "|" + d.substring(1);
    }
    return d;
  }

  /** Bytes per element, or -1 for a dtype tfport cannot read. */
  private static int width(String d) {
    DType t = NUMERIC.get(d);
    if (t != null) {
      return t.byteSize();
    }
    if (d.matches("(\\|S|<U)\\d{1,9}")) {
      long n = Long.parseLong(d.substring(2));
      if (n < 1 || n > MAX_STRING_WIDTH) {
        return -1;
      }
      return (int) (d.charAt(1) == 'U' ? 4 * n : n);
    }
    return -1;
  }

  private static Tensor tensor(Parsed p) {
    long[] dims = Arrays.stream(p.shape).asLongStream().toArray();
    DType t = NUMERIC.get(p.descr);
    if (t != null) {
      if (t == DType.BOOL) {
        // numpy's bools are one byte, 0 or 1; any other byte is read as true, as numpy does.
        ByteBuffer b = p.body.duplicate();
        for (int i = 0; i < b.limit(); i++) {
          b.put(i, (byte) (b.get(i) != 0 ? 1 : 0));
        }
      }
      return new Tensor(t, Shape.of(dims), p.body);
    }
    boolean utf32 = p.descr.charAt(1) == 'U';
    List<byte[]> raw = new ArrayList<>();
    byte[] cell = new byte[p.width];
    for (long i = 0; i < p.count; i++) {
      p.body.get(cell);
      int end = cell.length;
      if (utf32) {
        IntBuffer cps = ByteBuffer.wrap(cell).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
        int n = cps.limit();
        while (n > 0 && cps.get(n - 1) == 0) {
          n--;
        }
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < n; k++) {
          int cp = cps.get(k);
          if (!Character.isValidCodePoint(cp)) {
            throw bad(
                p.file, "element " + i + " holds " + cp + ", which is not a Unicode code point");
          }
          sb.appendCodePoint(cp);
        }
        raw.add(sb.toString().getBytes(StandardCharsets.UTF_8));
      } else {
        while (end > 0 && cell[end - 1] == 0) {
          end--;
        }
        raw.add(Arrays.copyOf(cell, end));
      }
    }
    int total = 0;
    for (byte[] r : raw) {
      total += 4 + r.length;
    }
    ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
    for (byte[] r : raw) {
      b.putInt(r.length).put(r);
    }
    return new Tensor(DType.STRING, Shape.of(dims), b.flip());
  }

  private static void readFully(SeekableByteChannel ch, ByteBuffer b, Path file)
      throws IOException {
    while (b.hasRemaining()) {
      if (ch.read(b) < 0) {
        throw bad(file, "the file ends early; not a complete .npy file");
      }
    }
  }

  private static UsageException bad(Path file, String why) {
    return new UsageException(file + ": " + why);
  }

  /**
   * Writes a little-endian float32 C-order .npy (version 1); tests and tools use it to make
   * samples.
   */
  public static void writeFloat32(Path file, int[] shape, float[] values) throws IOException {
    Files.write(
        file,
        bytes(Tensor.ofFloats(Shape.of(Arrays.stream(shape).asLongStream().toArray()), values)));
  }

  /**
   * Writes {@code t} as numpy's {@code np.save} would (version 1, C order, little-endian); string
   * tensors as {@code |Sn} bytes, n the longest element (at least 1).
   *
   * @throws UsageException for a type numpy has no dtype for (bfloat16, complex64)
   */
  public static void write(Path file, Tensor t) throws IOException {
    Files.write(file, bytes(t));
  }

  /** The bytes of {@link #write}'s file. */
  public static byte[] bytes(Tensor t) {
    String descr;
    byte[] data;
    if (t.dtype() == DType.STRING) {
      List<byte[]> elems = t.toByteStrings();
      int width = 1;
      for (byte[] e : elems) {
        width = Math.max(width, e.length);
      }
      descr = "|S" + width;
      data = new byte[Math.multiplyExact(width, elems.size())];
      for (int i = 0; i < elems.size(); i++) {
        System.arraycopy(elems.get(i), 0, data, i * width, elems.get(i).length);
      }
    } else {
      descr = null;
      for (Map.Entry<String, DType> e : NUMERIC.entrySet()) {
        if (e.getValue() == t.dtype()) {
          descr = e.getKey();
        }
      }
      if (descr == null) {
        throw new UsageException("a " + t.dtype().jsName() + " tensor has no .npy dtype");
      }
      data = new byte[t.byteLength()];
      t.bytes().get(data);
    }
    StringBuilder s =
        new StringBuilder("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (");
    long[] shape = t.shape().dims();
    for (long d : shape) {
      s.append(d).append(", ");
    }
    // numpy's tuple repr: "(3,)" for one dimension, "(3, 4)" for more.
    s.setLength(s.length() - (shape.length > 1 ? 2 : shape.length == 1 ? 1 : 0));
    s.append("), }");
    // numpy pads the header with spaces so the data starts on a 64-byte boundary, ending with a
    // newline.
    int total = 10 + s.length() + 1;
    int pad = (64 - total % 64) % 64;
    s.append(" ".repeat(pad)).append('\n');
    byte[] h = s.toString().getBytes(StandardCharsets.ISO_8859_1);
    ByteBuffer b = ByteBuffer.allocate(10 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 0x93)
        .put("NUMPY".getBytes(StandardCharsets.ISO_8859_1))
        .put((byte) 1)
        .put((byte) 0)
        .putShort((short) h.length)
        .put(h)
        .put(data);
    return b.array();
  }

  /**
   * The subset of Python literal syntax numpy writes: {@code {'key': value, ...}} with string,
   * True/False and tuple-of-int values; a trailing comma allowed.
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
      throw bad(
          file,
          "cannot parse the header at '" + s.substring(i, Math.min(s.length(), i + 20)) + "'");
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
