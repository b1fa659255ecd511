package org.tfport.formats.tflite;

import com.google.flatbuffers.FlatBufferBuilder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The layout of every member of the {@code BuiltinOptions} union, parsed from the layouts {@link
 * TfliteOptionsType} restates from the current schema.fbs, so that any options table can be read
 * into, and written back from, a name → value map without the generated classes (which trust their
 * offsets, lack the fields added after schema 0.4.4, and would need one code path per table).
 *
 * <p>Field kinds: {@code z} bool, {@code b} byte (enums), {@code i} int32, {@code u} uint32, {@code
 * l} int64, {@code f} float32, {@code I} [int32], {@code F} [float32], {@code s} string. Values in
 * the map: Boolean, Integer (z/b/i), Long (u/l), Float, List&lt;Integer&gt;, List&lt;Float&gt;,
 * String; vectors and strings are null when absent.
 */
final class OptionsSchema {
  enum Kind {
    BOOL,
    BYTE,
    INT,
    UINT,
    LONG,
    FLOAT,
    INTS,
    FLOATS,
    STRING
  }

  record Field(String name, int id, Kind kind, long def) {}

  record Desc(TfliteOptionsType type, String name, List<Field> fields) {}

  private static final java.util.EnumMap<TfliteOptionsType, Desc> DESCS =
      new java.util.EnumMap<>(TfliteOptionsType.class);

  static {
    for (TfliteOptionsType type : TfliteOptionsType.values()) {
      if (type == TfliteOptionsType.NONE) {
        continue;
      }
      String[] parts = type.layout().split(" ");
      List<Field> fields = new ArrayList<>();
      for (int id = 1; id < parts.length; id++) {
        String p = parts[id];
        if (p.equals("_")) {
          continue;
        }
        int colon = p.indexOf(':');
        int eq = p.indexOf('=');
        String name = p.substring(0, colon);
        char k = p.charAt(colon + 1);
        long def = eq < 0 ? 0 : Long.parseLong(p.substring(eq + 1));
        Kind kind =
            switch (k) {
              case 'z' -> Kind.BOOL;
              case 'b' -> Kind.BYTE;
              case 'i' -> Kind.INT;
              case 'u' -> Kind.UINT;
              case 'l' -> Kind.LONG;
              case 'f' -> Kind.FLOAT;
              case 'I' -> Kind.INTS;
              case 'F' -> Kind.FLOATS;
              case 's' -> Kind.STRING;
              default -> throw new AssertionError(p);
            };
        fields.add(new Field(name, id - 1, kind, def));
      }
      DESCS.put(type, new Desc(type, parts[0], List.copyOf(fields)));
    }
  }

  private OptionsSchema() {}

  /** The table layout of union member {@code type}; null for {@link TfliteOptionsType#NONE}. */
  static Desc desc(TfliteOptionsType type) {
    return DESCS.get(type);
  }

  /** The map a table with every field absent reads as. */
  static Map<String, Object> defaults(TfliteOptionsType type) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (Field f : desc(type).fields()) {
      m.put(f.name(), defaultValue(f));
    }
    return Collections.unmodifiableMap(m);
  }

  private static Object defaultValue(Field f) {
    return switch (f.kind()) {
      case BOOL -> f.def() != 0;
      case BYTE, INT -> (int) f.def();
      case UINT, LONG -> f.def();
      case FLOAT -> (float) f.def();
      case INTS, FLOATS, STRING -> null;
    };
  }

  static Map<String, Object> read(FbReader.Table t, Desc d) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (Field f : d.fields()) {
      String n = f.name();
      Object v =
          switch (f.kind()) {
            case BOOL -> t.bool(f.id(), f.def() != 0, n);
            case BYTE -> t.i8(f.id(), (int) f.def(), n);
            case INT -> t.i32(f.id(), (int) f.def(), n);
            case UINT -> t.u32(f.id(), f.def(), n);
            case LONG -> t.i64(f.id(), f.def(), n);
            case FLOAT -> t.f32(f.id(), f.def(), n);
            case INTS -> boxed(t.ints(f.id(), n));
            case FLOATS -> {
              float[] a = t.floats(f.id(), n);
              if (a == null) {
                yield null;
              }
              List<Float> l = new ArrayList<>(a.length);
              for (float x : a) {
                l.add(x);
              }
              yield List.copyOf(l);
            }
            case STRING -> t.string(f.id(), n);
          };
      m.put(n, v);
    }
    return Collections.unmodifiableMap(m);
  }

  private static List<Integer> boxed(int[] a) {
    return a == null ? null : Arrays.stream(a).boxed().toList();
  }

  /**
   * Checks that {@code values} has exactly the fields of {@code type} with values of the right Java
   * types and returns an unmodifiable copy in field order.
   */
  static Map<String, Object> normalize(TfliteOptionsType type, Map<String, Object> values) {
    Desc d = desc(type);
    if (d == null) {
      throw new IllegalArgumentException("builtin options type NONE has no table");
    }
    Map<String, Object> m = new LinkedHashMap<>();
    for (Field f : d.fields()) {
      Object v = values.containsKey(f.name()) ? values.get(f.name()) : defaultValue(f);
      boolean ok =
          switch (f.kind()) {
            case BOOL -> v instanceof Boolean;
            case BYTE -> v instanceof Integer i && i >= Byte.MIN_VALUE && i <= Byte.MAX_VALUE;
            case INT -> v instanceof Integer;
            case UINT -> v instanceof Long l && l >= 0 && l <= 0xFFFFFFFFL;
            case LONG -> v instanceof Long;
            case FLOAT -> v instanceof Float;
            case INTS ->
                v == null
                    || v instanceof List<?> l && l.stream().allMatch(Integer.class::isInstance);
            case FLOATS ->
                v == null || v instanceof List<?> l && l.stream().allMatch(Float.class::isInstance);
            case STRING -> v == null || v instanceof String;
          };
      if (!ok) {
        throw new IllegalArgumentException(
            d.name()
                + "."
                + f.name()
                + " must be a "
                + f.kind()
                + " value, got "
                + (v == null ? "null" : v.getClass().getSimpleName() + " " + v));
      }
      m.put(f.name(), v instanceof List<?> l ? List.copyOf(l) : v);
    }
    for (String k : values.keySet()) {
      if (!m.containsKey(k)) {
        throw new IllegalArgumentException(
            d.name() + " has no field '" + k + "'; fields: " + m.keySet());
      }
    }
    return Collections.unmodifiableMap(m);
  }

  /** Writes the table; {@code values} must have passed {@link #normalize}. */
  @SuppressWarnings("unchecked")
  static int write(FlatBufferBuilder b, TfliteOptionsType type, Map<String, Object> values) {
    Desc d = desc(type);
    int[] offsets = new int[d.fields().size()];
    // Offsets (vectors, strings) must be built before the table is started.
    for (int i = 0; i < offsets.length; i++) {
      Field f = d.fields().get(i);
      Object v = values.get(f.name());
      if (v == null) {
        continue;
      }
      switch (f.kind()) {
        case INTS -> {
          List<Integer> l = (List<Integer>) v;
          b.startVector(4, l.size(), 4);
          for (int j = l.size() - 1; j >= 0; j--) {
            b.addInt(l.get(j));
          }
          offsets[i] = b.endVector();
        }
        case FLOATS -> {
          List<Float> l = (List<Float>) v;
          b.startVector(4, l.size(), 4);
          for (int j = l.size() - 1; j >= 0; j--) {
            b.addFloat(l.get(j));
          }
          offsets[i] = b.endVector();
        }
        case STRING -> offsets[i] = b.createString((String) v);
        default -> {}
      }
    }
    int maxId = d.fields().isEmpty() ? -1 : d.fields().get(d.fields().size() - 1).id();
    b.startTable(maxId + 1);
    // Widest first, as flatc does, so the inline part packs without padding.
    for (int pass = 0; pass < 3; pass++) {
      for (int i = 0; i < offsets.length; i++) {
        Field f = d.fields().get(i);
        Object v = values.get(f.name());
        int width =
            switch (f.kind()) {
              case LONG -> 8;
              case BOOL, BYTE -> 1;
              default -> 4;
            };
        if ((pass == 0) != (width == 8) || (pass == 2) != (width == 1)) {
          continue;
        }
        switch (f.kind()) {
          case BOOL -> b.addBoolean(f.id(), (Boolean) v, f.def() != 0);
          case BYTE -> b.addByte(f.id(), (byte) (int) (Integer) v, (int) f.def());
          case INT -> b.addInt(f.id(), (Integer) v, (int) f.def());
          case UINT -> b.addInt(f.id(), (int) (long) (Long) v, (int) f.def());
          case LONG -> b.addLong(f.id(), (Long) v, f.def());
          case FLOAT -> b.addFloat(f.id(), (Float) v, f.def());
          case INTS, FLOATS, STRING -> {
            if (v != null) {
              b.addOffset(f.id(), offsets[i], 0);
            }
          }
        }
      }
    }
    return b.endTable();
  }
}
