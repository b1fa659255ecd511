package org.tfport.formats.mlir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.List;
import org.tfport.core.TfportException.CorruptModelException;

/**
 * The values of a dense elements attribute. MLIR keeps them as one little-endian buffer, either
 * every element or a single one (a splat); booleans are one byte each, or packed one bit each, or a
 * single 0xFF/0x00 byte for a splat (VHLO's encoding).
 */
public final class DenseElements {
  /** Past this many elements the text form is the hex buffer (exact, and compact). */
  private static final int MAX_DECIMAL = 256;

  private final MlirType.Tensor type;
  private final String element;
  private final int width;
  private final long count;
  private final boolean splat;
  private final byte[] data;

  private DenseElements(
      MlirType.Tensor type, String element, int width, long count, boolean splat, byte[] data) {
    this.type = type;
    this.element = element;
    this.width = width;
    this.count = count;
    this.splat = splat;
    this.data = data;
  }

  static DenseElements of(MlirType.Tensor type, byte[] raw) {
    long n = type.elementCount();
    if (n < 0) {
      throw new CorruptModelException("dense constant of dynamic shape " + type);
    }
    String e = type.element().toString();
    int bits = bitWidth(type.element());
    if (bits == 1) {
      return bools(type, n, raw);
    }
    int w = (bits + 7) / 8;
    if (raw.length == (long) w * n) {
      return new DenseElements(type, e, w, n, n == 1, raw);
    }
    if (raw.length == w) {
      return new DenseElements(type, e, w, n, true, raw);
    }
    throw new CorruptModelException(
        "dense constant "
            + type
            + " has "
            + raw.length
            + " bytes of data, expected "
            + (long) w * n
            + " (or "
            + w
            + " for a splat)");
  }

  private static DenseElements bools(MlirType.Tensor type, long n, byte[] raw) {
    if (raw.length == n) {
      return new DenseElements(type, "i1", 1, n, n == 1, raw);
    }
    if (raw.length == 1) {
      return new DenseElements(type, "i1", 1, n, true, new byte[] {(byte) (raw[0] != 0 ? 1 : 0)});
    }
    if (raw.length == (n + 7) / 8) {
      byte[] unpacked = new byte[(int) n];
      for (int i = 0; i < n; i++) {
        unpacked[i] = (byte) ((raw[i / 8] >> (i % 8)) & 1);
      }
      return new DenseElements(type, "i1", 1, n, false, unpacked);
    }
    throw new CorruptModelException(
        "boolean dense constant " + type + " has " + raw.length + " bytes for " + n + " elements");
  }

  static int bitWidth(MlirType t) {
    if (t instanceof MlirType.Complex c) {
      return 2 * bitWidth(c.element());
    }
    String s = t.toString();
    return switch (s) {
      case "f64" -> 64;
      case "f32", "tf32" -> 32;
      case "f16", "bf16" -> 16;
      case "index" -> 64;
      default -> {
        if (s.startsWith("f8") || s.startsWith("f6") || s.startsWith("f4")) {
          yield 8;
        }
        if (s.matches("u?i[0-9]+") || s.matches("si[0-9]+")) {
          yield Integer.parseInt(s.replaceAll("[a-z]", ""));
        }
        throw new CorruptModelException("dense constant of unsupported element type " + s);
      }
    };
  }

  public MlirType.Tensor type() {
    return type;
  }

  public long count() {
    return count;
  }

  public boolean isSplat() {
    return splat;
  }

  /** The buffer as stored: every element, or one element when {@link #isSplat()}. */
  public byte[] raw() {
    return data.clone();
  }

  private ByteBuffer at(long i) {
    int off = splat ? 0 : (int) (i * width);
    return ByteBuffer.wrap(data, off, width).order(ByteOrder.LITTLE_ENDIAN);
  }

  public boolean isFloat() {
    return element.startsWith("f") || element.equals("bf16") || element.equals("tf32");
  }

  /** Element {@code i} as a double (floats of 16, 32 or 64 bits; integers converted). */
  public double getDouble(long i) {
    if (!isFloat()) {
      return element.startsWith("ui") ? unsigned(getLong(i)) : getLong(i);
    }
    ByteBuffer b = at(i);
    return switch (element) {
      case "f64" -> b.getDouble();
      case "f32" -> b.getFloat();
      case "f16" -> Float.float16ToFloat(b.getShort());
      case "bf16" -> Float.intBitsToFloat((b.getShort() & 0xFFFF) << 16);
      default -> throw new CorruptModelException("no numeric reading of " + element + " constants");
    };
  }

  private static double unsigned(long v) {
    return v >= 0 ? v : (double) (v >>> 1) * 2 + (v & 1);
  }

  /** Element {@code i} as an integer, sign-extended for signless/signed types. */
  public long getLong(long i) {
    if (isFloat() || element.startsWith("complex")) {
      throw new CorruptModelException("constant of " + element + " read as integer");
    }
    ByteBuffer b = at(i);
    boolean unsigned = element.startsWith("ui") || element.equals("i1");
    long v =
        switch (width) {
          case 1 -> unsigned ? b.get() & 0xFFL : b.get();
          case 2 -> unsigned ? b.getShort() & 0xFFFFL : b.getShort();
          case 4 -> unsigned ? b.getInt() & 0xFFFFFFFFL : b.getInt();
          case 8 -> b.getLong();
          default -> throw new CorruptModelException("integer width " + width);
        };
    int bits = bitWidth(type.element());
    if (bits < width * 8 && bits < 64) {
      long mask = (1L << bits) - 1;
      v &= mask;
      if (!unsigned && (v >> (bits - 1)) != 0) {
        v |= ~mask;
      }
    }
    return v;
  }

  /** {@code dense<...>}: decimal values nested by shape, or the hex buffer when that is exact. */
  public String toText() {
    if (count == 0) {
      return "dense<>";
    }
    boolean decimal =
        count <= MAX_DECIMAL
            && (element.matches("u?i[0-9]+|si[0-9]+|index")
                || element.equals("f32")
                || element.equals("f64"));
    if (decimal && isFloat()) {
      for (long i = 0; i < (splat ? 1 : count); i++) {
        if (!Double.isFinite(getDouble(i))) {
          decimal = false;
        }
      }
    }
    if (!decimal) {
      return "dense<\"0x" + HexFormat.of().withUpperCase().formatHex(data) + "\">";
    }
    if (splat) {
      return "dense<" + value(0) + ">";
    }
    StringBuilder b = new StringBuilder("dense<");
    nest(b, type.shape(), 0, new long[] {0});
    return b.append('>').toString();
  }

  private void nest(StringBuilder b, List<Long> shape, int dim, long[] next) {
    if (dim == shape.size()) {
      b.append(value(next[0]++));
      return;
    }
    b.append('[');
    for (long k = 0; k < shape.get(dim); k++) {
      if (k > 0) {
        b.append(", ");
      }
      nest(b, shape, dim + 1, next);
    }
    b.append(']');
  }

  private String value(long i) {
    if (element.equals("i1")) {
      return getLong(i) != 0 ? "true" : "false";
    }
    if (isFloat()) {
      return formatFloat(getDouble(i), element);
    }
    long v = getLong(i);
    return element.startsWith("ui") ? Long.toUnsignedString(v) : Long.toString(v);
  }

  /** The shortest decimal that reads back to the same value at the type's precision. */
  static String formatFloat(double v, String type) {
    if (Double.isNaN(v)) {
      return type.equals("f64") ? "0x7FF8000000000000" : "0x7FC00000";
    }
    if (Double.isInfinite(v)) {
      if (type.equals("f64")) {
        return v > 0 ? "0x7FF0000000000000" : "0xFFF0000000000000";
      }
      return v > 0 ? "0x7F800000" : "0xFF800000";
    }
    String s = type.equals("f64") ? Double.toString(v) : java.lang.Float.toString((float) v);
    return s.replace("E", "e");
  }

  static String arrayText(MlirType element, long size, byte[] raw) {
    String e = element.toString();
    int bits = bitWidth(element);
    int w = Math.max(1, (bits + 7) / 8);
    if (size < 0 || raw.length != size * w) {
      throw new CorruptModelException(
          "dense array of " + size + " " + e + " has " + raw.length + " bytes");
    }
    StringBuilder b = new StringBuilder("array<").append(e);
    if (size > 0) {
      b.append(": ");
    }
    MlirType.Tensor t = new MlirType.Tensor(List.of(size), element, null);
    DenseElements d = new DenseElements(t, e, w, size, false, raw);
    for (long i = 0; i < size; i++) {
      if (i > 0) {
        b.append(", ");
      }
      b.append(d.value(i));
    }
    return b.append('>').toString();
  }
}
