package org.tfport.runtime.ops;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.Value;

/**
 * A hash table of scalars kept in a session: an initializable {@code HashTable} (filled once, then
 * read) or a {@code MutableHashTable}. Entries are boxed (a string key is a {@link ByteBuffer} over
 * its bytes, an integer key a {@link Long}) because lookups go through a general hash map anyway; a
 * run touches the table once per key. Synchronized, since a session's state outlives its runs.
 */
final class LookupTable {
  private final DType keyType;
  private final DType valueType;
  private final boolean mutable;
  private final Map<Object, Object> entries = new HashMap<>();
  private boolean initialized;

  LookupTable(DType keyType, DType valueType, boolean mutable) {
    this.keyType = keyType;
    this.valueType = valueType;
    this.mutable = mutable;
  }

  DType keyType() {
    return keyType;
  }

  DType valueType() {
    return valueType;
  }

  boolean mutable() {
    return mutable;
  }

  synchronized long size() {
    return entries.size();
  }

  private static Object key(Value keys, int i) {
    return keys.dtype() == DType.STRING
        ? ByteBuffer.wrap(keys.strings()[i])
        : (Object) keys.longAt(i);
  }

  private static Object element(Value v, int i) {
    return switch (v.dtype()) {
      case FLOAT32 -> v.floats()[i];
      case FLOAT64 -> v.doubles()[i];
      case INT32 -> v.ints()[i];
      case INT64 -> v.longs()[i];
      case BOOL -> v.bytes()[i];
      case STRING -> ByteBuffer.wrap(v.strings()[i]);
      default -> throw new KernelException("tables hold no " + v.dtype().jsName() + " values");
    };
  }

  private void checkKeys(Value keys) {
    if (keys.isHandle() || keys.dtype() != keyType) {
      throw new KernelException("the table's keys are " + keyType.jsName() + ", got " + keys);
    }
  }

  private void checkPairs(Value keys, Value values) {
    checkKeys(keys);
    if (values.isHandle() || values.dtype() != valueType) {
      throw new KernelException("the table's values are " + valueType.jsName() + ", got " + values);
    }
    if (keys.size() != values.size()) {
      throw new KernelException(
          "there are " + keys.size() + " keys but " + values.size() + " values");
    }
  }

  /**
   * The pairs as a map, refusing a key given two different values (as TensorFlow's initializers
   * do).
   */
  private Map<Object, Object> pairs(Value keys, Value values) {
    checkPairs(keys, values);
    Map<Object, Object> m = new HashMap<>();
    for (int i = 0; i < keys.size(); i++) {
      Object k = key(keys, i);
      Object v = element(values, i);
      Object old = m.putIfAbsent(k, v);
      if (old != null && !old.equals(v)) {
        throw new KernelException(
            "key " + text(k) + " is given two values, " + text(old) + " and " + text(v));
      }
    }
    return m;
  }

  /** Fills an initializable table; a second initialization must bring the same entries. */
  synchronized void initialize(Value keys, Value values) {
    Map<Object, Object> m = pairs(keys, values);
    if (initialized && !mutable) {
      if (!m.equals(entries)) {
        throw new KernelException("the table was already initialized with different data");
      }
      return;
    }
    entries.clear();
    entries.putAll(m);
    initialized = true;
  }

  /** Replaces the entries of a mutable table; fills an initializable one. */
  synchronized void importValues(Value keys, Value values) {
    if (!mutable) {
      initialize(keys, values);
      return;
    }
    Map<Object, Object> m = pairs(keys, values);
    entries.clear();
    entries.putAll(m);
  }

  synchronized void insert(Value keys, Value values) {
    if (!mutable) {
      throw new KernelException(
          "cannot insert into an initializable table; it is filled once by its initializer");
    }
    checkPairs(keys, values);
    for (int i = 0; i < keys.size(); i++) {
      entries.put(key(keys, i), element(values, i));
    }
  }

  /** The value of each key (shaped as the keys), or the default: a scalar, or one per key. */
  synchronized Value find(Value keys, Value defaults) {
    checkKeys(keys);
    if (!mutable && !initialized) {
      throw new KernelException("the table is not initialized");
    }
    if (defaults.isHandle() || defaults.dtype() != valueType) {
      throw new KernelException(
          "the default value must be " + valueType.jsName() + ", got " + defaults);
    }
    int n = keys.size();
    boolean perKey = defaults.size() != 1;
    if (perKey && defaults.size() != n) {
      throw new KernelException(
          "the default value must be a scalar or have one element per key ("
              + n
              + "), got "
              + defaults);
    }
    Value out = Value.zeros(valueType, keys.shape());
    switch (valueType) {
      case FLOAT32 -> {
        float[] o = out.floats();
        for (int i = 0; i < n; i++) {
          Object v = entries.get(key(keys, i));
          o[i] = v != null ? (Float) v : defaults.floats()[perKey ? i : 0];
        }
      }
      case FLOAT64 -> {
        double[] o = out.doubles();
        for (int i = 0; i < n; i++) {
          Object v = entries.get(key(keys, i));
          o[i] = v != null ? (Double) v : defaults.doubles()[perKey ? i : 0];
        }
      }
      case INT32 -> {
        int[] o = out.ints();
        for (int i = 0; i < n; i++) {
          Object v = entries.get(key(keys, i));
          o[i] = v != null ? (Integer) v : defaults.ints()[perKey ? i : 0];
        }
      }
      case INT64 -> {
        long[] o = out.longs();
        for (int i = 0; i < n; i++) {
          Object v = entries.get(key(keys, i));
          o[i] = v != null ? (Long) v : defaults.longs()[perKey ? i : 0];
        }
      }
      case BOOL -> {
        byte[] o = out.bytes();
        for (int i = 0; i < n; i++) {
          Object v = entries.get(key(keys, i));
          o[i] = v != null ? (Byte) v : defaults.bytes()[perKey ? i : 0];
        }
      }
      case STRING -> {
        byte[][] o = out.strings();
        for (int i = 0; i < n; i++) {
          Object v = entries.get(key(keys, i));
          o[i] = v != null ? bytes((ByteBuffer) v) : defaults.strings()[perKey ? i : 0];
        }
      }
      default -> throw new KernelException("tables hold no " + valueType.jsName() + " values");
    }
    return out;
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }

  private static String text(Object o) {
    return o instanceof ByteBuffer b
        ? "'" + new String(bytes(b), java.nio.charset.StandardCharsets.UTF_8) + "'"
        : Objects.toString(o);
  }

  @Override
  public String toString() {
    return (mutable ? "MutableHashTable<" : "HashTable<")
        + keyType.jsName()
        + ", "
        + valueType.jsName()
        + ">";
  }
}
