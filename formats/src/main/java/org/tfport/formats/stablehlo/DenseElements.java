package org.tfport.formats.stablehlo;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The value of a {@code dense<...>} attribute. Either {@code literals} (the flattened literal
 * texts, one for a splat) or {@code hex} (the bytes of a {@code "0x..."} string: the whole tensor
 * in little-endian order, or one element for a splat) is set.
 */
public record DenseElements(MlirType type, List<String> literals, byte[] hex) {

  /** Bytes per element of the hex form, 0 for i1 (one byte each) and types not supported. */
  static int elementBytes(String element) {
    return switch (element) {
      case "f64", "i64", "ui64" -> 8;
      case "f32", "i32", "ui32" -> 4;
      case "f16", "bf16", "i16", "ui16" -> 2;
      case "i8", "ui8", "i1" -> 1;
      default -> Float8.of(element) != null ? 1 : 0;
    };
  }

  /** How many elements the value spells out: 1 for a splat. */
  public long storedCount() {
    if (hex == null) {
      return literals.size();
    }
    int size = elementBytes(type.element());
    return size == 0 ? 0 : hex.length / size;
  }

  public boolean isSplat() {
    return storedCount() == 1;
  }

  /** The elements as doubles (integers converted), a splat expanded to the whole tensor. */
  public double[] toDoubles() {
    int n = count();
    double[] out = new double[n];
    long stored = storedCount();
    for (int i = 0; i < n; i++) {
      out[i] = doubleAt(stored == 1 ? 0 : i);
    }
    return out;
  }

  /** The elements as longs (booleans 1/0), a splat expanded to the whole tensor. */
  public long[] toLongs() {
    int n = count();
    long[] out = new long[n];
    long stored = storedCount();
    for (int i = 0; i < n; i++) {
      out[i] = longAt(stored == 1 ? 0 : i);
    }
    return out;
  }

  private int count() {
    long n = type.elementCount();
    long stored = storedCount();
    if (stored != 1 && stored != n) {
      throw new IllegalArgumentException(
          "dense value of " + type + " holds " + stored + " elements, not " + n);
    }
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("dense value of " + type + " is too large");
    }
    return (int) n;
  }

  private double doubleAt(int i) {
    String e = type.element();
    if (hex != null) {
      ByteBuffer b = ByteBuffer.wrap(hex).order(ByteOrder.LITTLE_ENDIAN);
      return switch (e) {
        case "f64" -> b.getDouble(i * 8);
        case "f32" -> b.getFloat(i * 4);
        case "f16" -> Float.float16ToFloat(b.getShort(i * 2));
        case "bf16" -> Float.intBitsToFloat((b.getShort(i * 2) & 0xffff) << 16);
        default -> Float8.of(e) != null ? Float8.of(e).decode(b.get(i)) : longAt(i);
      };
    }
    String lit = literals.get(i);
    if (isFloat(e)) {
      if (lit.startsWith("0x") || lit.startsWith("0X")) {
        long bits = Long.parseUnsignedLong(lit.substring(2), 16);
        return switch (e) {
          case "f64" -> Double.longBitsToDouble(bits);
          case "f32" -> Float.intBitsToFloat((int) bits);
          case "f16" -> Float.float16ToFloat((short) bits);
          case "bf16" -> Float.intBitsToFloat((int) bits << 16);
          default -> {
            if (Float8.of(e) == null) {
              throw new IllegalArgumentException("hex literal of " + e);
            }
            yield Float8.of(e).decode((int) bits);
          }
        };
      }
      double v = parseFloat(lit);
      // A decimal literal of an 8-bit float type names the nearest value the type holds.
      return Float8.of(e) == null ? v : Float8.of(e).round(v);
    }
    return longAt(i);
  }

  private long longAt(int i) {
    String e = type.element();
    if (hex != null) {
      ByteBuffer b = ByteBuffer.wrap(hex).order(ByteOrder.LITTLE_ENDIAN);
      return switch (e) {
        case "i64", "ui64" -> b.getLong(i * 8);
        case "i32" -> b.getInt(i * 4);
        case "ui32" -> b.getInt(i * 4) & 0xffffffffL;
        case "i16" -> b.getShort(i * 2);
        case "ui16" -> b.getShort(i * 2) & 0xffff;
        case "i8" -> b.get(i);
        case "ui8", "i1" -> b.get(i) & 0xff;
        default -> (long) doubleAt(i);
      };
    }
    String lit = literals.get(i);
    if (isFloat(e)) {
      return (long) doubleAt(i);
    }
    return switch (lit) {
      case "true" -> 1;
      case "false" -> 0;
      default ->
          lit.startsWith("0x") || lit.startsWith("0X")
              ? Long.parseUnsignedLong(lit.substring(2), 16)
              : Long.parseLong(lit);
    };
  }

  static boolean isFloat(String element) {
    return element.startsWith("f") || element.equals("bf16");
  }

  private static double parseFloat(String lit) {
    return switch (lit) {
      case "inf", "+inf" -> Double.POSITIVE_INFINITY;
      case "-inf" -> Double.NEGATIVE_INFINITY;
      case "nan", "-nan" -> Double.NaN;
      default -> Double.parseDouble(lit);
    };
  }
}
