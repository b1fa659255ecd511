package org.tfport.formats.mlir;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.tfport.core.TfportException.CorruptModelException;

/**
 * The builtin dialect's bytecode encodings (MLIR's BuiltinDialectBytecode.td): a leading varint
 * code, then the fields in their declared order.
 */
final class BuiltinCodec {
  private BuiltinCodec() {}

  static MlirAttr attr(ByteCursor c, AttrTypeTable t) {
    int at = c.pos();
    long code = c.varInt();
    return switch ((int) code) {
      case 0 -> new MlirAttr.Array(t.attrList(c));
      case 1 -> {
        int n = c.count("dictionary size");
        List<MlirAttr.Named> entries = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          String name = stringAttr(c, t);
          entries.add(new MlirAttr.Named(name, t.attr(c, c.varInt())));
        }
        yield new MlirAttr.Dict(entries);
      }
      case 2 -> new MlirAttr.Str(t.string(c, c.varInt()));
      case 3 -> {
        String s = t.string(c, c.varInt());
        t.type(c, c.varInt());
        yield new MlirAttr.Str(s);
      }
      case 4 -> new MlirAttr.SymbolRef(stringAttr(c, t), List.of());
      case 5 -> {
        String root = stringAttr(c, t);
        List<String> nested = new ArrayList<>();
        for (MlirAttr a : t.attrList(c)) {
          if (!(a instanceof MlirAttr.SymbolRef r)) {
            throw c.error("nested symbol reference is " + a);
          }
          nested.add(r.root());
        }
        yield new MlirAttr.SymbolRef(root, nested);
      }
      case 6 -> new MlirAttr.TypeAttr(t.type(c, c.varInt()));
      case 7 -> new MlirAttr.Unit();
      case 8 -> {
        MlirType type = t.type(c, c.varInt());
        int bits = type.toString().equals("index") ? 64 : DenseElements.bitWidth(type);
        yield new MlirAttr.Int(AttrTypeTable.extend(AttrTypeTable.apInt(c, bits), type), type);
      }
      case 9 -> {
        MlirType type = t.type(c, c.varInt());
        yield new MlirAttr.Float(AttrTypeTable.apFloat(c, type), type);
      }
      case 10 -> {
        MlirAttr callee = t.attr(c, c.varInt());
        MlirAttr caller = t.attr(c, c.varInt());
        yield new MlirAttr.Loc("callsite(" + bare(callee) + " at " + bare(caller) + ")");
      }
      case 11 -> {
        String f = stringAttr(c, t);
        long line = c.varInt();
        long col = c.varInt();
        yield new MlirAttr.Loc("loc(" + MlirAttr.quote(f) + ":" + line + ":" + col + ")");
      }
      case 12, 13 -> {
        List<MlirAttr> locs = t.attrList(c);
        String meta = code == 13 ? "<" + t.attr(c, c.varInt()) + ">" : "";
        yield new MlirAttr.Loc(
            "loc(fused"
                + meta
                + "["
                + locs.stream().map(BuiltinCodec::bare).collect(Collectors.joining(", "))
                + "])");
      }
      case 14 -> {
        String name = stringAttr(c, t);
        MlirAttr child = t.attr(c, c.varInt());
        String inner = bare(child);
        yield new MlirAttr.Loc(
            "loc("
                + MlirAttr.quote(name)
                + (inner.equals("unknown") ? "" : "(" + inner + ")")
                + ")");
      }
      case 15 -> new MlirAttr.Loc("loc(unknown)");
      case 16 -> {
        MlirType type = t.type(c, c.varInt());
        long handle = c.varInt();
        yield AttrTypeTable.dense(c, type, t.resources().blob(c, handle));
      }
      case 17 -> {
        MlirType elem = t.type(c, c.varInt());
        long size = c.varInt();
        MlirAttr.DenseArray a = new MlirAttr.DenseArray(elem, size, AttrTypeTable.blob(c));
        try {
          a.toString();
        } catch (CorruptModelException e) {
          throw c.error(e.getMessage());
        }
        yield a;
      }
      case 18 -> {
        MlirType type = t.type(c, c.varInt());
        yield AttrTypeTable.dense(c, type, AttrTypeTable.blob(c));
      }
      case 19 -> {
        MlirType type = t.type(c, c.varInt());
        boolean splat = c.varInt() != 0;
        if (!(type instanceof MlirType.Tensor tensor)) {
          throw c.error("string constant of type " + type);
        }
        long n = splat ? 1 : tensor.elementCount();
        if (n < 0 || n > c.remaining()) {
          throw c.error("string constant with " + n + " elements");
        }
        List<String> values = new ArrayList<>();
        for (long i = 0; i < n; i++) {
          values.add(MlirAttr.quote(t.string(c, c.varInt())));
        }
        String body = splat ? values.get(0) : "[" + String.join(", ", values) + "]";
        yield new MlirAttr.Opaque("dense<" + body + "> : " + type);
      }
      case 21 -> t.attr(c, c.varInt());
      case 22 -> {
        String f = stringAttr(c, t);
        List<Long> parts = new ArrayList<>();
        int n = c.count("location range length");
        for (int i = 0; i < n; i++) {
          parts.add(c.varInt());
        }
        String pos = parts.stream().map(String::valueOf).collect(Collectors.joining(":"));
        yield new MlirAttr.Loc("loc(" + MlirAttr.quote(f) + (pos.isEmpty() ? "" : ":" + pos) + ")");
      }
      default ->
          throw c.error("builtin attribute code " + code + " (at " + at + ") is not supported");
    };
  }

  private static String stringAttr(ByteCursor c, AttrTypeTable t) {
    MlirAttr a = t.attr(c, c.varInt());
    if (!(a instanceof MlirAttr.Str s)) {
      throw c.error("expected a string attribute, found " + a);
    }
    return s.value();
  }

  /** A location's text without its {@code loc(...)} wrapper, for nesting. */
  private static String bare(MlirAttr loc) {
    String s = loc.toString();
    return s.startsWith("loc(") && s.endsWith(")") ? s.substring(4, s.length() - 1) : s;
  }

  static MlirType type(ByteCursor c, AttrTypeTable t) {
    long code = c.varInt();
    return switch ((int) code) {
      case 0 -> {
        long v = c.varInt();
        long width = v >>> 2;
        String prefix =
            switch ((int) (v & 3)) {
              case 1 -> "si";
              case 2 -> "ui";
              default -> "i";
            };
        yield new MlirType.Scalar(prefix + width);
      }
      case 1 -> new MlirType.Scalar("index");
      case 2 -> new MlirType.Function(t.typeList(c), t.typeList(c));
      case 3 -> new MlirType.Scalar("bf16");
      case 4 -> new MlirType.Scalar("f16");
      case 5 -> new MlirType.Scalar("f32");
      case 6 -> new MlirType.Scalar("f64");
      case 7 -> new MlirType.Scalar("f80");
      case 8 -> new MlirType.Scalar("f128");
      case 9 -> new MlirType.Complex(t.type(c, c.varInt()));
      case 12 -> new MlirType.Scalar("none");
      case 13 -> {
        List<Long> shape = AttrTypeTable.signedList(c);
        yield AttrTypeTable.tensor(c, shape, t.type(c, c.varInt()), null);
      }
      case 14 -> {
        MlirAttr enc = t.attr(c, c.varInt());
        List<Long> shape = AttrTypeTable.signedList(c);
        yield AttrTypeTable.tensor(c, shape, t.type(c, c.varInt()), enc);
      }
      case 15 -> new MlirType.Tuple(t.typeList(c));
      case 18 -> new MlirType.Unranked(t.type(c, c.varInt()));
      default -> throw c.error("builtin type code " + code + " is not supported");
    };
  }
}
