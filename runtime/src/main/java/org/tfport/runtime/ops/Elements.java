package org.tfport.runtime.ops;

import java.util.EnumSet;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.Value;

/**
 * The four arrays elementwise kernels compute in ("lanes") and the conversions between them and a
 * value's storage. Half types compute in float and round back once per op, as Eigen's half and
 * bfloat16 arithmetic does; int8, int16, uint8, uint16 and bool compute in int and are narrowed
 * modulo their width at the end, which gives TensorFlow's two's-complement wrap for every op whose
 * result is congruent modulo 2^width (+, −, ×, negation, powers, and sums or products of many
 * terms).
 */
final class Elements {
  private Elements() {}

  enum Lane {
    FLOAT,
    DOUBLE,
    INT,
    LONG
  }

  static final Set<DType> FLOATS =
      EnumSet.of(DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16);
  static final Set<DType> SIGNED = EnumSet.of(DType.INT8, DType.INT16, DType.INT32, DType.INT64);
  static final Set<DType> INTEGERS =
      EnumSet.of(DType.INT8, DType.INT16, DType.INT32, DType.INT64, DType.UINT8, DType.UINT16);
  static final Set<DType> NUMBERS = union(FLOATS, INTEGERS);

  @SafeVarargs
  static Set<DType> union(Set<DType>... sets) {
    Set<DType> out = EnumSet.noneOf(DType.class);
    for (Set<DType> s : sets) {
      out.addAll(s);
    }
    return out;
  }

  static Set<DType> with(Set<DType> base, DType... more) {
    Set<DType> out = EnumSet.copyOf(base);
    out.addAll(Set.of(more));
    return out;
  }

  @FunctionalInterface
  interface FloatUnary {
    float apply(float x);
  }

  @FunctionalInterface
  interface FloatBinary {
    float apply(float x, float y);
  }

  @FunctionalInterface
  interface FloatTest {
    boolean test(float x, float y);
  }

  @FunctionalInterface
  interface DoubleTest {
    boolean test(double x, double y);
  }

  @FunctionalInterface
  interface IntTest {
    boolean test(int x, int y);
  }

  @FunctionalInterface
  interface LongTest {
    boolean test(long x, long y);
  }

  static Lane lane(DType t) {
    return switch (t) {
      case FLOAT32, FLOAT16, BFLOAT16 -> Lane.FLOAT;
      case FLOAT64 -> Lane.DOUBLE;
      case INT8, INT16, INT32, UINT8, UINT16, BOOL -> Lane.INT;
      case INT64 -> Lane.LONG;
      case STRING, COMPLEX64 -> throw new KernelException(t.jsName() + " has no arithmetic");
    };
  }

  /**
   * The node's {@code T} (or the given attribute), checked against the types the op is registered
   * for.
   */
  static DType type(BindContext node, String attr, Set<DType> allowed) {
    DType t = node.hasAttr(attr) ? node.typeAttr(attr) : node.inputType(0);
    if (t == null && allowed.size() == 1) {
      // An op of one input type (Any, All: bool) has no type attribute to read; its input is
      // checked when it runs.
      t = allowed.iterator().next();
    }
    if (t == null) {
      throw new KernelException("attribute '" + attr + "' is missing");
    }
    if (!allowed.contains(t)) {
      throw new KernelException(node.op() + " does not support " + t.jsName());
    }
    return t;
  }

  static void check(Value v, DType t, String what) {
    if (v.dtype() != t) {
      throw new KernelException(what + " is " + v + ", expected " + t.jsName());
    }
  }

  // ------------------------------------------------------------------ storage to lanes (shared
  // when no copy is needed)

  static float[] floats(Value v) {
    return switch (v.dtype()) {
      case FLOAT32 -> v.floats();
      case FLOAT16 -> {
        short[] s = v.shorts();
        float[] out = new float[s.length];
        for (int i = 0; i < s.length; i++) {
          out[i] = Float.float16ToFloat(s[i]);
        }
        yield out;
      }
      case BFLOAT16 -> {
        short[] s = v.shorts();
        float[] out = new float[s.length];
        for (int i = 0; i < s.length; i++) {
          out[i] = Float.intBitsToFloat(s[i] << 16);
        }
        yield out;
      }
      default -> throw new IllegalArgumentException("not a float lane: " + v);
    };
  }

  static int[] ints(Value v) {
    int n = v.size();
    return switch (v.dtype()) {
      case INT32 -> v.ints();
      case INT8 -> {
        byte[] b = v.bytes();
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
          out[i] = b[i];
        }
        yield out;
      }
      case UINT8, BOOL -> {
        byte[] b = v.bytes();
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
          out[i] = b[i] & 0xff;
        }
        yield out;
      }
      case INT16 -> {
        short[] s = v.shorts();
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
          out[i] = s[i];
        }
        yield out;
      }
      case UINT16 -> {
        short[] s = v.shorts();
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
          out[i] = s[i] & 0xffff;
        }
        yield out;
      }
      default -> throw new IllegalArgumentException("not an int lane: " + v);
    };
  }

  /**
   * The value's elements in its lane's array type ({@code float[]}, {@code double[]}, {@code
   * int[]}, {@code long[]}).
   */
  static Object lanes(Value v) {
    return switch (lane(v.dtype())) {
      case FLOAT -> floats(v);
      case DOUBLE -> v.doubles();
      case INT -> ints(v);
      case LONG -> v.longs();
    };
  }

  // ------------------------------------------------------------------ lanes to storage (rounding
  // or narrowing)

  static Value ofFloats(DType t, long[] shape, float[] v) {
    return switch (t) {
      case FLOAT32 -> Value.of(t, shape, v);
      case FLOAT16 -> {
        short[] s = new short[v.length];
        for (int i = 0; i < v.length; i++) {
          s[i] = Float.floatToFloat16(v[i]);
        }
        yield Value.of(t, shape, s);
      }
      case BFLOAT16 -> {
        short[] s = new short[v.length];
        for (int i = 0; i < v.length; i++) {
          s[i] = toBfloat16(v[i]);
        }
        yield Value.of(t, shape, s);
      }
      default -> throw new IllegalArgumentException("not a float lane: " + t);
    };
  }

  static Value ofInts(DType t, long[] shape, int[] v) {
    int n = v.length;
    return switch (t) {
      case INT32 -> Value.of(t, shape, v);
      case INT8, UINT8 -> {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
          b[i] = (byte) v[i];
        }
        yield Value.of(t, shape, b);
      }
      case BOOL -> {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
          b[i] = (byte) (v[i] != 0 ? 1 : 0);
        }
        yield Value.of(t, shape, b);
      }
      case INT16, UINT16 -> {
        short[] s = new short[n];
        for (int i = 0; i < n; i++) {
          s[i] = (short) v[i];
        }
        yield Value.of(t, shape, s);
      }
      default -> throw new IllegalArgumentException("not an int lane: " + t);
    };
  }

  /** Wraps a lane array (as {@link #lanes} gives) back into a value of {@code t}. */
  static Value ofLanes(DType t, long[] shape, Object v) {
    return switch (lane(t)) {
      case FLOAT -> ofFloats(t, shape, (float[]) v);
      case DOUBLE, LONG -> Value.of(t, shape, v);
      case INT -> ofInts(t, shape, (int[]) v);
    };
  }

  static Value bools(long[] shape, boolean[] v) {
    byte[] b = new byte[v.length];
    for (int i = 0; i < v.length; i++) {
      b[i] = (byte) (v[i] ? 1 : 0);
    }
    return Value.of(DType.BOOL, shape, b);
  }

  /**
   * Rounds to the nearest bfloat16, ties to even, NaN kept quiet with its sign (Eigen's
   * conversion).
   */
  static short toBfloat16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if (Float.isNaN(f)) {
      return (short) ((bits >>> 16) | 0x0040);
    }
    return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
  }

  /**
   * The rounding a float-lane result of type {@code t} goes through, for ops that round each step
   * (scans).
   */
  static FloatUnary rounding(DType t) {
    return switch (t) {
      case FLOAT16 -> x -> Float.float16ToFloat(Float.floatToFloat16(x));
      case BFLOAT16 -> x -> Float.intBitsToFloat(toBfloat16(x) << 16);
      default -> x -> x;
    };
  }

  /** An int-lane value brought to the range of {@code t} as C++ narrowing does (modulo 2^width). */
  static int narrow(DType t, int x) {
    return switch (t) {
      case INT8 -> (byte) x;
      case UINT8 -> x & 0xff;
      case INT16 -> (short) x;
      case UINT16 -> x & 0xffff;
      default -> x;
    };
  }

  /** The smallest value of an int-lane type. */
  static int intMin(DType t) {
    return switch (t) {
      case INT8 -> Byte.MIN_VALUE;
      case INT16 -> Short.MIN_VALUE;
      case INT32 -> Integer.MIN_VALUE;
      default -> 0;
    };
  }

  /** The largest value of an int-lane type. */
  static int intMax(DType t) {
    return switch (t) {
      case INT8 -> Byte.MAX_VALUE;
      case INT16 -> Short.MAX_VALUE;
      case INT32 -> Integer.MAX_VALUE;
      case UINT8 -> 0xff;
      case UINT16 -> 0xffff;
      default -> 1;
    };
  }

  static int bits(DType t) {
    return t == DType.BOOL ? 1 : t.byteSize() * 8;
  }
}
