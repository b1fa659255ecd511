package org.tfport.runtime.ops;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.tfport.runtime.kernel.KernelException;

/**
 * Reads serialized {@code tf.Example} protos straight from the wire format, so feature values land
 * in primitive arrays without per-element boxing. Protobuf's merge rules hold: a map key seen twice
 * keeps its last value, a repeated oneof field concatenates, a different oneof member replaces what
 * came before.
 */
final class ExampleProto {
  static final int BYTES = 1;
  static final int FLOATS = 2;
  static final int INT64S = 3;

  /** One feature's values: {@code kind} is 0 for a feature with no list set. */
  record Feature(int kind, int count, float[] floats, long[] longs, byte[][] bytes) {
    static final Feature EMPTY = new Feature(0, 0, null, null, null);
  }

  private final byte[] buf;
  private int pos;
  private int limit;

  private ExampleProto(byte[] buf) {
    this.buf = buf;
    this.limit = buf.length;
  }

  static String kindName(int kind) {
    return switch (kind) {
      case BYTES -> "string";
      case FLOATS -> "float";
      case INT64S -> "int64";
      default -> "none";
    };
  }

  /**
   * Feature name to the bounds {start, end} of its serialized Feature message in {@code example}.
   */
  static Map<String, long[]> features(byte[] example) {
    ExampleProto r = new ExampleProto(example);
    Map<String, long[]> out = new HashMap<>();
    while (r.pos < r.limit) {
      int tag = r.varint32();
      if (tag == (1 << 3 | 2)) {
        int end = r.lengthEnd();
        int saved = r.limit;
        r.limit = end;
        while (r.pos < end) {
          int ftag = r.varint32();
          if (ftag == (1 << 3 | 2)) {
            r.mapEntry(out);
          } else {
            r.skip(ftag);
          }
        }
        r.limit = saved;
      } else {
        r.skip(tag);
      }
    }
    return out;
  }

  private void mapEntry(Map<String, long[]> out) {
    int end = lengthEnd();
    int saved = limit;
    limit = end;
    String key = "";
    long[] value = {0, 0};
    while (pos < end) {
      int tag = varint32();
      if (tag == (1 << 3 | 2)) {
        int e = lengthEnd();
        key = new String(buf, pos, e - pos, StandardCharsets.UTF_8);
        pos = e;
      } else if (tag == (2 << 3 | 2)) {
        int e = lengthEnd();
        value = new long[] {pos, e};
        pos = e;
      } else {
        skip(tag);
      }
    }
    limit = saved;
    out.put(key, value);
  }

  /** Decodes the Feature message at {@code bounds} of {@code example}. */
  static Feature feature(byte[] example, long[] bounds) {
    ExampleProto r = new ExampleProto(example);
    r.pos = (int) bounds[0];
    r.limit = (int) bounds[1];
    int kind = 0;
    Accumulator acc = new Accumulator();
    while (r.pos < r.limit) {
      int tag = r.varint32();
      int field = tag >>> 3;
      if ((tag & 7) != 2 || field < 1 || field > 3) {
        r.skip(tag);
        continue;
      }
      if (field != kind) {
        kind = field;
        acc = new Accumulator();
      }
      int end = r.lengthEnd();
      int saved = r.limit;
      r.limit = end;
      r.list(kind, acc);
      r.limit = saved;
    }
    return kind == 0 ? Feature.EMPTY : acc.feature(kind);
  }

  /**
   * The values of a BytesList, FloatList or Int64List message (packed or not) up to {@link #limit}.
   */
  private void list(int kind, Accumulator acc) {
    while (pos < limit) {
      int tag = varint32();
      if (tag >>> 3 != 1) {
        skip(tag);
        continue;
      }
      int wire = tag & 7;
      switch (kind) {
        case BYTES -> {
          if (wire != 2) {
            throw corrupt();
          }
          int e = lengthEnd();
          byte[] s = new byte[e - pos];
          System.arraycopy(buf, pos, s, 0, s.length);
          acc.add(s);
          pos = e;
        }
        case FLOATS -> {
          if (wire == 5) {
            acc.add(Float.intBitsToFloat(fixed32()));
          } else if (wire == 2) {
            int e = lengthEnd();
            if ((e - pos) % 4 != 0) {
              throw corrupt();
            }
            while (pos < e) {
              acc.add(Float.intBitsToFloat(fixed32()));
            }
          } else {
            throw corrupt();
          }
        }
        default -> {
          if (wire == 0) {
            acc.add(varint64());
          } else if (wire == 2) {
            int e = lengthEnd();
            while (pos < e) {
              acc.add(varint64());
            }
            if (pos != e) {
              throw corrupt();
            }
          } else {
            throw corrupt();
          }
        }
      }
    }
  }

  private static KernelException corrupt() {
    return new KernelException(
        "Could not parse example input: the serialized tf.Example is malformed");
  }

  private int varint32() {
    return (int) varint64();
  }

  private long varint64() {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= limit) {
        throw corrupt();
      }
      byte b = buf[pos++];
      v |= (long) (b & 0x7f) << shift;
      if (b >= 0) {
        return v;
      }
    }
    throw corrupt();
  }

  private int fixed32() {
    if (pos + 4 > limit) {
      throw corrupt();
    }
    int v =
        buf[pos] & 0xff
            | (buf[pos + 1] & 0xff) << 8
            | (buf[pos + 2] & 0xff) << 16
            | (buf[pos + 3] & 0xff) << 24;
    pos += 4;
    return v;
  }

  /** Reads a length prefix and returns where the delimited bytes end. */
  private int lengthEnd() {
    long len = varint64();
    if (len < 0 || len > limit - pos) {
      throw corrupt();
    }
    return pos + (int) len;
  }

  private void skip(int tag) {
    switch (tag & 7) {
      case 0 -> varint64();
      case 1 -> advance(8);
      case 2 -> pos = lengthEnd();
      case 5 -> advance(4);
      default -> throw corrupt();
    }
  }

  private void advance(int n) {
    if (pos + n > limit) {
      throw corrupt();
    }
    pos += n;
  }

  /** Growable primitive storage for one list. */
  private static final class Accumulator {
    private float[] floats = new float[0];
    private long[] longs = new long[0];
    private byte[][] bytes = new byte[0][];
    private int count;

    void add(float v) {
      if (count == floats.length) {
        floats = java.util.Arrays.copyOf(floats, Math.max(8, count * 2));
      }
      floats[count++] = v;
    }

    void add(long v) {
      if (count == longs.length) {
        longs = java.util.Arrays.copyOf(longs, Math.max(8, count * 2));
      }
      longs[count++] = v;
    }

    void add(byte[] v) {
      if (count == bytes.length) {
        bytes = java.util.Arrays.copyOf(bytes, Math.max(8, count * 2));
      }
      bytes[count++] = v;
    }

    Feature feature(int kind) {
      return new Feature(kind, count, floats, longs, bytes);
    }
  }
}
