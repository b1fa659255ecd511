package org.tfport.formats.tflite;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;

/**
 * A bounds-checked view of a FlatBuffer. The generated accessors trust every offset they follow, so
 * a damaged or hostile file makes them throw {@link IndexOutOfBoundsException} from deep inside (or
 * read garbage); this class checks each table, vtable, vector and string against the buffer's size
 * before it is used and reports the first problem as a one-line {@link CorruptModelException}
 * naming the file, the byte offset and the place in the model ({@code where}).
 *
 * <p>Field ids follow the schema: a field with id {@code n} lives in vtable slot {@code 4 + 2n}.
 * Unsigned offsets only point forward, so no chain of tables can loop.
 */
final class FbReader {
  private final ByteBuffer bb;
  private final String file;
  private final int size;

  FbReader(ByteBuffer data, String file) {
    this.bb = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    this.bb.position(0);
    this.file = file;
    this.size = bb.limit();
  }

  int size() {
    return size;
  }

  String file() {
    return file;
  }

  ByteBuffer buffer() {
    return bb;
  }

  CorruptModelException corrupt(long pos, String where, String message) {
    return new CorruptModelException(
        file
            + " at byte 0x"
            + Long.toHexString(pos)
            + (where == null || where.isEmpty() ? "" : " (" + where + ")")
            + ": "
            + message);
  }

  UnsupportedModelException unsupported(long pos, String where, String message) {
    return new UnsupportedModelException(
        file
            + " at byte 0x"
            + Long.toHexString(pos)
            + (where == null || where.isEmpty() ? "" : " (" + where + ")")
            + ": "
            + message);
  }

  /** The root table: the uoffset in the first four bytes. */
  Table root(String where) {
    if (size < 8) {
      throw corrupt(0, where, "file is " + size + " bytes, too small for a FlatBuffer");
    }
    return table(follow(0, where, "root table offset"), where);
  }

  /** Follows the uoffset stored at {@code pos} and checks the target lies inside the buffer. */
  private int follow(int pos, String where, String what) {
    if (pos < 0 || pos + 4L > size) {
      throw corrupt(pos, where, what + " lies outside the file (" + size + " bytes)");
    }
    long u = Integer.toUnsignedLong(bb.getInt(pos));
    if (u == 0) {
      throw corrupt(pos, where, what + " is 0, pointing at itself");
    }
    long target = pos + u;
    if (target >= size) {
      throw corrupt(
          pos,
          where,
          what
              + " points to 0x"
              + Long.toHexString(target)
              + ", past the end of the file ("
              + size
              + " bytes)");
    }
    return (int) target;
  }

  Table table(int pos, String where) {
    if (pos < 0 || pos + 4L > size) {
      throw corrupt(pos, where, "table lies outside the file (" + size + " bytes)");
    }
    long vt = (long) pos - bb.getInt(pos);
    if (vt < 0 || vt + 4 > size) {
      throw corrupt(
          pos,
          where,
          "table's vtable offset points to 0x" + Long.toHexString(vt) + ", outside the file");
    }
    int vtLen = Short.toUnsignedInt(bb.getShort((int) vt));
    int objLen = Short.toUnsignedInt(bb.getShort((int) vt + 2));
    if (vtLen < 4 || (vtLen & 1) != 0 || vt + vtLen > size) {
      throw corrupt(vt, where, "vtable has a bad length " + vtLen);
    }
    if (objLen < 4 || (long) pos + objLen > size) {
      throw corrupt(
          pos,
          where,
          "table of " + objLen + " bytes runs past the end of the file (" + size + " bytes)");
    }
    return new Table(pos, (int) vt, vtLen, objLen, where);
  }

  /** A vector's first element and its element count. */
  record Vec(int pos, int length) {}

  /** A FlatBuffer table whose vtable and inline part have been checked. */
  final class Table {
    final int pos;
    private final int vt;
    private final int vtLen;
    private final int objLen;
    final String where;

    private Table(int pos, int vt, int vtLen, int objLen, String where) {
      this.pos = pos;
      this.vt = vt;
      this.vtLen = vtLen;
      this.objLen = objLen;
      this.where = where;
    }

    /** The field's offset inside the table, 0 when absent. */
    private int offset(int field) {
      int slot = 4 + 2 * field;
      if (slot + 2 > vtLen) {
        return 0;
      }
      return Short.toUnsignedInt(bb.getShort(vt + slot));
    }

    boolean has(int field) {
      return offset(field) != 0;
    }

    private int scalar(int field, int width, String name) {
      int off = offset(field);
      if (off == 0) {
        return -1;
      }
      if (off + width > objLen) {
        throw corrupt(
            pos + off,
            where,
            "field '"
                + name
                + "' ("
                + width
                + " bytes at table offset "
                + off
                + ") runs past its "
                + objLen
                + "-byte table");
      }
      return pos + off;
    }

    boolean bool(int field, boolean def, String name) {
      int p = scalar(field, 1, name);
      return p < 0 ? def : bb.get(p) != 0;
    }

    int i8(int field, int def, String name) {
      int p = scalar(field, 1, name);
      return p < 0 ? def : bb.get(p);
    }

    int u8(int field, int def, String name) {
      int p = scalar(field, 1, name);
      return p < 0 ? def : Byte.toUnsignedInt(bb.get(p));
    }

    int i32(int field, int def, String name) {
      int p = scalar(field, 4, name);
      return p < 0 ? def : bb.getInt(p);
    }

    long u32(int field, long def, String name) {
      int p = scalar(field, 4, name);
      return p < 0 ? def : Integer.toUnsignedLong(bb.getInt(p));
    }

    long i64(int field, long def, String name) {
      int p = scalar(field, 8, name);
      return p < 0 ? def : bb.getLong(p);
    }

    float f32(int field, float def, String name) {
      int p = scalar(field, 4, name);
      return p < 0 ? def : bb.getFloat(p);
    }

    /** The position of the offset field itself, after checking it fits; -1 when absent. */
    private int offsetField(int field, String name) {
      return scalar(field, 4, name);
    }

    /** The sub-table, or null when the field is absent. */
    Table table(int field, String name, String subWhere) {
      int p = offsetField(field, name);
      if (p < 0) {
        return null;
      }
      return FbReader.this.table(follow(p, where, "offset of '" + name + "'"), subWhere);
    }

    /** The vector, or null when absent; its elements are known to lie inside the file. */
    Vec vector(int field, int elemSize, String name) {
      int p = offsetField(field, name);
      if (p < 0) {
        return null;
      }
      int v = follow(p, where, "offset of vector '" + name + "'");
      if (v + 4L > size) {
        throw corrupt(v, where, "length of vector '" + name + "' lies past the end of the file");
      }
      long len = Integer.toUnsignedLong(bb.getInt(v));
      if (len * elemSize > size - (v + 4L)) {
        throw corrupt(
            v,
            where,
            "vector '"
                + name
                + "' of "
                + len
                + " elements ("
                + len * elemSize
                + " bytes) runs past the end of the file ("
                + size
                + " bytes)");
      }
      return new Vec(v + 4, (int) len);
    }

    String string(int field, String name) {
      Vec v = vector(field, 1, name);
      if (v == null) {
        return null;
      }
      if (v.pos() + (long) v.length() >= size || bb.get(v.pos() + v.length()) != 0) {
        throw corrupt(v.pos() - 4, where, "string '" + name + "' is not NUL-terminated");
      }
      byte[] b = new byte[v.length()];
      bb.get(v.pos(), b);
      return new String(b, StandardCharsets.UTF_8);
    }

    int[] ints(int field, String name) {
      Vec v = vector(field, 4, name);
      if (v == null) {
        return null;
      }
      int[] out = new int[v.length()];
      for (int i = 0; i < out.length; i++) {
        out[i] = bb.getInt(v.pos() + 4 * i);
      }
      return out;
    }

    float[] floats(int field, String name) {
      Vec v = vector(field, 4, name);
      if (v == null) {
        return null;
      }
      float[] out = new float[v.length()];
      for (int i = 0; i < out.length; i++) {
        out[i] = bb.getFloat(v.pos() + 4 * i);
      }
      return out;
    }

    long[] longs(int field, String name) {
      Vec v = vector(field, 8, name);
      if (v == null) {
        return null;
      }
      long[] out = new long[v.length()];
      for (int i = 0; i < out.length; i++) {
        out[i] = bb.getLong(v.pos() + 8 * i);
      }
      return out;
    }

    /** A read-only little-endian slice of a byte vector (no copy), or null when absent. */
    ByteBuffer bytes(int field, String name) {
      Vec v = vector(field, 1, name);
      if (v == null) {
        return null;
      }
      return slice(v.pos(), v.length());
    }

    /** Unsigned 16-bit elements, widened. */
    int[] ushorts(int field, String name) {
      Vec v = vector(field, 2, name);
      if (v == null) {
        return null;
      }
      int[] out = new int[v.length()];
      for (int i = 0; i < out.length; i++) {
        out[i] = Short.toUnsignedInt(bb.getShort(v.pos() + 2 * i));
      }
      return out;
    }

    int[] ubytes(int field, String name) {
      Vec v = vector(field, 1, name);
      if (v == null) {
        return null;
      }
      int[] out = new int[v.length()];
      for (int i = 0; i < out.length; i++) {
        out[i] = Byte.toUnsignedInt(bb.get(v.pos() + i));
      }
      return out;
    }

    /** Number of elements of a vector of tables (0 when absent). */
    Vec tables(int field, String name) {
      return vector(field, 4, name);
    }

    /** Element {@code i} of a vector of tables. */
    Table tableAt(Vec v, int i, String name, String subWhere) {
      return FbReader.this.table(
          follow(v.pos() + 4 * i, where, "offset of " + name + "[" + i + "]"), subWhere);
    }

    /** Element {@code i} of a vector of strings. */
    String stringAt(Vec v, int i, String name) {
      int s = follow(v.pos() + 4 * i, where, "offset of " + name + "[" + i + "]");
      if (s + 4L > size) {
        throw corrupt(
            s, where, "length of string " + name + "[" + i + "] lies past the end of the file");
      }
      long len = Integer.toUnsignedLong(bb.getInt(s));
      if (s + 4L + len >= size || bb.get((int) (s + 4 + len)) != 0) {
        throw corrupt(
            s,
            where,
            "string "
                + name
                + "["
                + i
                + "] of "
                + len
                + " bytes runs past the end of the file"
                + " or is not NUL-terminated");
      }
      byte[] b = new byte[(int) len];
      bb.get(s + 4, b);
      return new String(b, StandardCharsets.UTF_8);
    }

    /** The union member's table at {@code field}, or null. */
    Table union(int field, String name, String subWhere) {
      return table(field, name, subWhere);
    }
  }

  /** A read-only little-endian slice of the buffer; the caller has checked the range. */
  ByteBuffer slice(int pos, int length) {
    return bb.slice(pos, length).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }
}
