package org.tfport.formats.mlir;

import java.util.ArrayList;
import java.util.List;
import org.tfport.core.TfportException.CorruptModelException;

/**
 * The attribute and type tables: entry sizes from the offset section, payloads from the
 * attribute/type section, decoded on first use. A payload is either the entry's MLIR text (the
 * assembly-format fallback) or a dialect's own encoding: the builtin dialect's and VHLO's are
 * decoded ({@link BuiltinCodec}, {@link VhloCodec}); others are refused by name.
 */
final class AttrTypeTable {
  private record Entry(String dialect, boolean custom, ByteCursor data) {}

  private final List<Entry> attrs = new ArrayList<>();
  private final List<Entry> types = new ArrayList<>();
  private final MlirAttr[] attrCache;
  private final MlirType[] typeCache;
  private final boolean[] attrBusy;
  private final boolean[] typeBusy;
  private final List<String> strings;
  private final ResourceTable resources;

  AttrTypeTable(
      ByteCursor data,
      ByteCursor offsets,
      List<String> dialects,
      List<String> strings,
      ResourceTable resources) {
    this.strings = strings;
    this.resources = resources;
    int numAttrs = offsets.count("attribute count");
    int numTypes = offsets.count("type count");
    int[] cursor = {data.pos()};
    int end = data.pos() + data.remaining();
    fill(attrs, numAttrs, offsets, data, dialects, cursor, end);
    fill(types, numTypes, offsets, data, dialects, cursor, end);
    if (!offsets.atEnd()) {
      throw offsets.error("trailing bytes after the attribute/type offsets");
    }
    attrCache = new MlirAttr[numAttrs];
    typeCache = new MlirType[numTypes];
    attrBusy = new boolean[numAttrs];
    typeBusy = new boolean[numTypes];
  }

  private static void fill(
      List<Entry> into,
      int count,
      ByteCursor offsets,
      ByteCursor data,
      List<String> dialects,
      int[] cursor,
      int end) {
    while (into.size() < count) {
      String dialect = dialects.get(offsets.index(dialects.size(), "dialect"));
      int n = offsets.count("entry count");
      if (into.size() + n > count) {
        throw offsets.error("more attribute/type entries than the " + count + " declared");
      }
      for (int i = 0; i < n; i++) {
        long v = offsets.varInt();
        long size = v >>> 1;
        if (size > end - cursor[0]) {
          throw offsets.error("attribute/type entry of " + size + " bytes runs past the section");
        }
        ByteCursor c =
            data.at(cursor[0], cursor[0] + (int) size, dialect + " attribute/type entry");
        cursor[0] += (int) size;
        into.add(new Entry(dialect, (v & 1) != 0, c));
      }
    }
  }

  String string(ByteCursor from, long index) {
    if (index < 0 || index >= strings.size()) {
      throw from.error("string index " + index + " out of range (have " + strings.size() + ")");
    }
    return strings.get((int) index);
  }

  ResourceTable resources() {
    return resources;
  }

  MlirAttr attr(ByteCursor from, long index) {
    if (index < 0 || index >= attrs.size()) {
      throw from.error("attribute index " + index + " out of range (have " + attrs.size() + ")");
    }
    int i = (int) index;
    if (attrCache[i] == null) {
      if (attrBusy[i]) {
        throw from.error("attribute " + i + " refers to itself");
      }
      attrBusy[i] = true;
      Entry e = attrs.get(i);
      ByteCursor c = fresh(e);
      MlirAttr a;
      if (!e.custom()) {
        a = new MlirAttr.Opaque(c.nullTerminated());
      } else if (e.dialect().equals("builtin")) {
        a = BuiltinCodec.attr(c, this);
      } else if (e.dialect().equals("vhlo")) {
        a = VhloCodec.attr(c, this);
      } else if (e.dialect().equals("sdy")) {
        a = SdyCodec.attr(c, this);
      } else {
        throw c.error(
            "attribute of dialect '"
                + e.dialect()
                + "' uses its own encoding, which tfport does"
                + " not decode");
      }
      if (!c.atEnd()) {
        throw c.error("trailing bytes after an attribute");
      }
      attrCache[i] = a;
      attrBusy[i] = false;
    }
    return attrCache[i];
  }

  MlirType type(ByteCursor from, long index) {
    if (index < 0 || index >= types.size()) {
      throw from.error("type index " + index + " out of range (have " + types.size() + ")");
    }
    int i = (int) index;
    if (typeCache[i] == null) {
      if (typeBusy[i]) {
        throw from.error("type " + i + " refers to itself");
      }
      typeBusy[i] = true;
      Entry e = types.get(i);
      ByteCursor c = fresh(e);
      MlirType t;
      if (!e.custom()) {
        t = new MlirType.Opaque(c.nullTerminated());
      } else if (e.dialect().equals("builtin")) {
        t = BuiltinCodec.type(c, this);
      } else if (e.dialect().equals("vhlo")) {
        t = VhloCodec.type(c, this);
      } else {
        throw c.error(
            "type of dialect '"
                + e.dialect()
                + "' uses its own encoding, which tfport does not"
                + " decode");
      }
      if (!c.atEnd()) {
        throw c.error("trailing bytes after a type");
      }
      typeCache[i] = t;
      typeBusy[i] = false;
    }
    return typeCache[i];
  }

  private static ByteCursor fresh(Entry e) {
    ByteCursor d = e.data();
    return d.at(d.pos(), d.pos() + d.remaining(), d.section());
  }

  // Helpers shared by the dialect codecs.

  List<MlirAttr> attrList(ByteCursor c) {
    int n = c.count("attribute list length");
    List<MlirAttr> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(attr(c, c.varInt()));
    }
    return out;
  }

  List<MlirType> typeList(ByteCursor c) {
    int n = c.count("type list length");
    List<MlirType> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(type(c, c.varInt()));
    }
    return out;
  }

  static List<Long> signedList(ByteCursor c) {
    int n = c.count("integer list length");
    List<Long> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(c.signedVarInt());
    }
    return out;
  }

  /** A dense constant, its data checked against its type here, where the offset is known. */
  static MlirAttr.Dense dense(ByteCursor c, MlirType type, byte[] raw) {
    if (!(type instanceof MlirType.Tensor tensor)) {
      throw c.error("dense constant of non-tensor type " + type);
    }
    try {
      DenseElements.of(tensor, raw);
    } catch (CorruptModelException | ArithmeticException e) {
      throw c.error(e.getMessage());
    }
    return new MlirAttr.Dense(tensor, raw);
  }

  /** A ranked tensor type, its dimensions checked: sizes, or the dynamic marker. */
  static MlirType.Tensor tensor(ByteCursor c, List<Long> shape, MlirType element, MlirAttr enc) {
    for (long d : shape) {
      if (d < 0 && d != MlirType.DYNAMIC) {
        throw c.error("tensor dimension " + d);
      }
    }
    return new MlirType.Tensor(shape, element, enc);
  }

  static byte[] blob(ByteCursor c) {
    return c.bytes(c.length("blob size"));
  }

  /** MLIR's APInt encoding at a known width: one byte up to 8 bits, else a signed varint. */
  static long apInt(ByteCursor c, int bits) {
    long v;
    if (bits <= 8) {
      v = c.u8();
    } else if (bits <= 64) {
      v = c.signedVarInt();
    } else {
      throw c.error(bits + "-bit integer constants are not supported");
    }
    if (bits < 64) {
      long mask = (1L << bits) - 1;
      v &= mask;
    }
    return v;
  }

  /** A float attribute's value from its bit pattern at the type's width. */
  static double apFloat(ByteCursor c, MlirType type) {
    String t = type.toString();
    int bits = DenseElements.bitWidth(type);
    long raw = apInt(c, bits);
    return switch (t) {
      case "f64" -> Double.longBitsToDouble(raw);
      case "f32" -> Float.intBitsToFloat((int) raw);
      case "f16" -> Float.float16ToFloat((short) raw);
      case "bf16" -> Float.intBitsToFloat((int) (raw << 16));
      default -> throw c.error("float constant of type " + t + " is not supported");
    };
  }

  /** Sign-extends an integer of the given type read by {@link #apInt}. */
  static long extend(long v, MlirType type) {
    String t = type.toString();
    if (t.startsWith("ui") || t.equals("i1")) {
      return v;
    }
    int bits = t.equals("index") ? 64 : DenseElements.bitWidth(type);
    if (bits >= 64) {
      return v;
    }
    long sign = 1L << (bits - 1);
    return (v ^ sign) - sign;
  }
}
