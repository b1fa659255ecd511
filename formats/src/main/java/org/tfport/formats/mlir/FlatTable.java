package org.tfport.formats.mlir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.tfport.core.TfportException.CorruptModelException;

/**
 * One FlatBuffers table, read with every offset checked against the buffer (flatbuffers.dev
 * "Internals": a table starts with a signed offset back to its vtable; the vtable holds its own
 * size, the table size, then one 16-bit offset per field, 0 for an absent field; offsets to
 * strings, vectors and sub-tables are unsigned and relative to where they are stored).
 */
final class FlatTable {
  private final ByteBuffer buf;
  private final String where;
  private final int table;
  private final int vtable;
  private final int vtableSize;

  private FlatTable(ByteBuffer buf, String where, int table) {
    this.buf = buf;
    this.where = where;
    this.table = table;
    check(table, 4, "table");
    long vt = (long) table - buf.getInt(table);
    if (vt < 0 || vt > buf.limit() - 4) {
      throw error("vtable of the table at " + table + " lies outside the file");
    }
    this.vtable = (int) vt;
    this.vtableSize = Short.toUnsignedInt(buf.getShort(vtable));
    if (vtableSize < 4 || vtableSize % 2 != 0) {
      throw error("vtable at " + vtable + " has size " + vtableSize);
    }
    check(vtable, vtableSize, "vtable");
  }

  /** The root table: the buffer starts with its offset. */
  static FlatTable root(byte[] bytes, String where) {
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.length < 8) {
      throw new CorruptModelException(
          where + ": " + bytes.length + " bytes is too short for a " + "FlatBuffer");
    }
    return new FlatTable(b, where, b.getInt(0));
  }

  CorruptModelException error(String what) {
    return new CorruptModelException(
        where + ": " + what + " (the file is truncated or not a " + "jax.export serialization)");
  }

  private void check(long at, long size, String what) {
    if (at < 0 || size < 0 || at + size > buf.limit()) {
      throw error(
          what
              + " at offset "
              + at
              + " ("
              + size
              + " bytes) lies outside the "
              + buf.limit()
              + "-byte file");
    }
  }

  /** The absolute position of field {@code id}, or -1 when absent. */
  private int field(int id) {
    int slot = 4 + 2 * id;
    if (slot + 2 > vtableSize) {
      return -1;
    }
    int off = Short.toUnsignedInt(buf.getShort(vtable + slot));
    return off == 0 ? -1 : table + off;
  }

  private int indirect(int at) {
    check(at, 4, "offset");
    long target = Integer.toUnsignedLong(buf.getInt(at)) + at;
    check(target, 4, "referenced object");
    return (int) target;
  }

  long uint(int id, int bytes, long dflt) {
    int at = field(id);
    if (at < 0) {
      return dflt;
    }
    check(at, bytes, "field " + id);
    return switch (bytes) {
      case 1 -> Byte.toUnsignedLong(buf.get(at));
      case 2 -> Short.toUnsignedLong(buf.getShort(at));
      case 4 -> Integer.toUnsignedLong(buf.getInt(at));
      default -> buf.getLong(at);
    };
  }

  long sint(int id, int bytes, long dflt) {
    int at = field(id);
    if (at < 0) {
      return dflt;
    }
    check(at, bytes, "field " + id);
    return switch (bytes) {
      case 1 -> buf.get(at);
      case 2 -> buf.getShort(at);
      case 4 -> buf.getInt(at);
      default -> buf.getLong(at);
    };
  }

  String string(int id) {
    int at = field(id);
    return at < 0 ? null : stringAt(indirect(at));
  }

  private String stringAt(int s) {
    int n = buf.getInt(s);
    check(s + 4L, Integer.toUnsignedLong(n), "string");
    byte[] out = new byte[n];
    buf.get(s + 4, out);
    return new String(out, StandardCharsets.UTF_8);
  }

  /** A vector's element count and first element position, or null when absent. */
  private int[] vector(int id, int elementSize) {
    int at = field(id);
    if (at < 0) {
      return null;
    }
    int v = indirect(at);
    long n = Integer.toUnsignedLong(buf.getInt(v));
    check(v + 4L, n * elementSize, "vector");
    return new int[] {(int) n, v + 4};
  }

  byte[] bytes(int id) {
    int[] v = vector(id, 1);
    if (v == null) {
      return null;
    }
    byte[] out = new byte[v[0]];
    buf.get(v[1], out);
    return out;
  }

  List<Long> uints(int id, int size) {
    int[] v = vector(id, size);
    List<Long> out = new ArrayList<>();
    if (v != null) {
      for (int i = 0; i < v[0]; i++) {
        int at = v[1] + i * size;
        out.add(
            size == 2
                ? Short.toUnsignedLong(buf.getShort(at))
                : Integer.toUnsignedLong(buf.getInt(at)));
      }
    }
    return out;
  }

  List<String> strings(int id) {
    int[] v = vector(id, 4);
    List<String> out = new ArrayList<>();
    if (v != null) {
      for (int i = 0; i < v[0]; i++) {
        out.add(stringAt(indirect(v[1] + 4 * i)));
      }
    }
    return out;
  }

  FlatTable table(int id) {
    int at = field(id);
    return at < 0 ? null : new FlatTable(buf, where, indirect(at));
  }

  List<FlatTable> tables(int id) {
    int[] v = vector(id, 4);
    List<FlatTable> out = new ArrayList<>();
    if (v != null) {
      for (int i = 0; i < v[0]; i++) {
        out.add(new FlatTable(buf, where, indirect(v[1] + 4 * i)));
      }
    }
    return out;
  }
}
