package org.tfport.formats.mlir;

import java.util.List;
import java.util.stream.Collectors;

/**
 * An attribute decoded from MLIR bytecode, in builtin/StableHLO terms (VHLO's versioned attributes
 * are mapped to what they stand for). {@link #toString()} is the MLIR text form.
 */
public sealed interface MlirAttr {
  record Str(String value) implements MlirAttr {
    @Override
    public String toString() {
      return quote(value);
    }
  }

  /** An integer (or, with type i1, a boolean) of the given type. */
  record Int(long value, MlirType type) implements MlirAttr {
    public boolean isBool() {
      return type instanceof MlirType.Scalar s && s.name().equals("i1");
    }

    @Override
    public String toString() {
      if (isBool()) {
        return value != 0 ? "true" : "false";
      }
      String t = type.toString();
      String v = t.startsWith("ui") ? Long.toUnsignedString(value) : Long.toString(value);
      return v + " : " + t;
    }
  }

  record Float(double value, MlirType type) implements MlirAttr {
    @Override
    public String toString() {
      return DenseElements.formatFloat(value, type.toString()) + " : " + type;
    }
  }

  record Array(List<MlirAttr> elements) implements MlirAttr {
    @Override
    public String toString() {
      return elements.stream().map(String::valueOf).collect(Collectors.joining(", ", "[", "]"));
    }
  }

  record Dict(List<Named> entries) implements MlirAttr {
    public MlirAttr get(String name) {
      for (Named n : entries) {
        if (n.name().equals(name)) {
          return n.value();
        }
      }
      return null;
    }

    @Override
    public String toString() {
      return entries.stream().map(String::valueOf).collect(Collectors.joining(", ", "{", "}"));
    }
  }

  record TypeAttr(MlirType type) implements MlirAttr {
    @Override
    public String toString() {
      return type.toString();
    }
  }

  record Unit() implements MlirAttr {
    @Override
    public String toString() {
      return "unit";
    }
  }

  record SymbolRef(String root, List<String> nested) implements MlirAttr {
    @Override
    public String toString() {
      StringBuilder b = new StringBuilder("@").append(symbol(root));
      for (String n : nested) {
        b.append("::@").append(symbol(n));
      }
      return b.toString();
    }
  }

  /** Dense elements: the raw little-endian buffer MLIR stores, possibly a single splat value. */
  record Dense(MlirType.Tensor type, byte[] raw) implements MlirAttr {
    public DenseElements elements() {
      return DenseElements.of(type, raw);
    }

    @Override
    public String toString() {
      return elements().toText() + " : " + type;
    }
  }

  /** {@code array<i64: 1, 2>}: a builtin dense array. */
  record DenseArray(MlirType element, long size, byte[] raw) implements MlirAttr {
    @Override
    public String toString() {
      return DenseElements.arrayText(element, size, raw);
    }
  }

  /** An attribute printed verbatim: enums such as {@code #stablehlo<comparison_direction GE>}. */
  record Opaque(String text) implements MlirAttr {
    @Override
    public String toString() {
      return text;
    }
  }

  /** A location; printed only when asked (the text forms the parsers read do not need them). */
  record Loc(String text) implements MlirAttr {
    @Override
    public String toString() {
      return text;
    }
  }

  record Named(String name, MlirAttr value) {
    @Override
    public String toString() {
      String key = symbol(name);
      return value instanceof Unit ? key : key + " = " + value;
    }
  }

  /** A string literal with MLIR's escapes (quote, backslash, and non-printables as \hex). */
  static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (byte raw : s.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
      int c = raw & 0xFF;
      if (c == '"' || c == '\\') {
        b.append('\\').append((char) c);
      } else if (c >= 0x20 && c < 0x7F) {
        b.append((char) c);
      } else if (c == '\n') {
        b.append("\\n");
      } else if (c == '\t') {
        b.append("\\t");
      } else {
        b.append('\\')
            .append(Character.forDigit(c >> 4, 16))
            .append(Character.forDigit(c & 15, 16));
      }
    }
    return b.append('"').toString();
  }

  /** A bare identifier when MLIR allows one, else a quoted string. */
  static String symbol(String s) {
    return s.matches("[A-Za-z_][A-Za-z0-9_$.]*") ? s : quote(s);
  }
}
