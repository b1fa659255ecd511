package org.tfport.runtime.ops;

import static org.tfport.runtime.ops.Elements.FLOATS;
import static org.tfport.runtime.ops.Elements.INTEGERS;
import static org.tfport.runtime.ops.Elements.NUMBERS;
import static org.tfport.runtime.ops.Elements.SIGNED;

import java.util.Set;
import java.util.function.DoubleBinaryOperator;
import java.util.function.Function;
import java.util.function.IntBinaryOperator;
import java.util.function.LongBinaryOperator;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelFactory;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.Elements.DoubleTest;
import org.tfport.runtime.ops.Elements.FloatBinary;
import org.tfport.runtime.ops.Elements.FloatTest;
import org.tfport.runtime.ops.Elements.FloatUnary;
import org.tfport.runtime.ops.Elements.IntTest;
import org.tfport.runtime.ops.Elements.LongTest;

/**
 * Two-input elementwise arithmetic, comparisons and bit operations with NumPy broadcasting and
 * TensorFlow's CPU kernel registrations, plus AddN and TF.js's Prelu. float32 arithmetic is done in
 * float, never widened, so +, −, ×, ÷, max, min and squared difference equal TensorFlow bit for
 * bit; integers wrap in two's complement and an integer division by zero is an error, as in
 * TensorFlow.
 */
final class BinaryOps implements OpFamily {
  /**
   * An op's element function per lane; null where TensorFlow registers no kernel for that lane's
   * types.
   */
  record Fn(FloatBinary f, DoubleBinaryOperator d, IntBinaryOperator i, LongBinaryOperator l) {}

  record Cmp(FloatTest f, DoubleTest d, IntTest i, LongTest l) {}

  private static final Set<DType> SIGNED_REALS = Elements.union(FLOATS, SIGNED);
  private static final Set<DType> MOD_TYPES =
      Set.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64);

  @Override
  public void register(KernelRegistry r) {
    Fn add = new Fn((x, y) -> x + y, (x, y) -> x + y, (x, y) -> x + y, (x, y) -> x + y);
    // TensorFlow registers Add for uint8 but not uint16; AddV2 for both.
    op(
        r,
        "Add",
        Elements.with(FLOATS, DType.INT8, DType.INT16, DType.INT32, DType.INT64, DType.UINT8),
        add);
    op(r, "AddV2", NUMBERS, add);
    op(
        r,
        "Sub",
        NUMBERS,
        new Fn((x, y) -> x - y, (x, y) -> x - y, (x, y) -> x - y, (x, y) -> x - y));
    op(
        r,
        "Mul",
        NUMBERS,
        new Fn((x, y) -> x * y, (x, y) -> x * y, (x, y) -> x * y, (x, y) -> x * y));
    op(r, "RealDiv", FLOATS, new Fn((x, y) -> x / y, (x, y) -> x / y, null, null));
    Fn truncDiv =
        new Fn(
            (x, y) -> x / y, (x, y) -> x / y, (x, y) -> x / nonZero(y), (x, y) -> x / nonZero(y));
    op(r, "Div", NUMBERS, truncDiv);
    op(
        r,
        "TruncateDiv",
        NUMBERS,
        t -> {
          FloatUnary round = Elements.rounding(t);
          return new Fn(
              (x, y) -> truncate(round.apply(x / y)),
              (x, y) -> truncate(x / y),
              truncDiv.i(),
              truncDiv.l());
        });
    op(
        r,
        "FloorDiv",
        NUMBERS,
        t -> {
          // The quotient rounds to the element type before the floor, as Eigen's half arithmetic
          // does.
          FloatUnary round = Elements.rounding(t);
          return new Fn(
              (x, y) -> (float) Math.floor(round.apply(x / y)),
              (x, y) -> Math.floor(x / y),
              (x, y) -> Math.floorDiv(x, nonZero(y)),
              (x, y) -> Math.floorDiv(x, nonZero(y)));
        });
    op(
        r,
        "FloorMod",
        NUMBERS,
        new Fn(
            BinaryOps::floorMod,
            BinaryOps::floorMod,
            (x, y) -> Math.floorMod(x, nonZero(y)),
            (x, y) -> Math.floorMod(x, nonZero(y))));
    Fn truncMod =
        new Fn(
            (x, y) -> x % y, (x, y) -> x % y, (x, y) -> x % nonZero(y), (x, y) -> x % nonZero(y));
    op(r, "Mod", MOD_TYPES, truncMod);
    op(r, "TruncateMod", MOD_TYPES, truncMod);
    op(
        r,
        "DivNoNan",
        FLOATS,
        new Fn((x, y) -> y == 0 ? 0f : x / y, (x, y) -> y == 0 ? 0 : x / y, null, null));
    op(
        r,
        "MulNoNan",
        FLOATS,
        new Fn((x, y) -> y == 0 ? 0f : x * y, (x, y) -> y == 0 ? 0 : x * y, null, null));
    op(
        r,
        "Pow",
        SIGNED_REALS,
        new Fn((x, y) -> (float) pow(x, y), BinaryOps::pow, BinaryOps::ipow, BinaryOps::lpow));
    // NaN wins (TensorFlow propagates it). Between −0 and +0 TensorFlow's vectorized
    // float32/float64 loops give
    // the second operand and its scalar loops the first; tfport gives the second, and the first for
    // half types,
    // whose kernels are elementwise.
    op(
        r,
        "Maximum",
        NUMBERS,
        t ->
            t == DType.FLOAT16 || t == DType.BFLOAT16
                ? new Fn((x, y) -> x != x || y != y ? Float.NaN : x < y ? y : x, null, null, null)
                : new Fn(
                    (x, y) -> x != x || y != y ? Float.NaN : x > y ? x : y,
                    (x, y) -> x != x || y != y ? Double.NaN : x > y ? x : y,
                    Math::max,
                    Math::max));
    op(
        r,
        "Minimum",
        NUMBERS,
        t ->
            t == DType.FLOAT16 || t == DType.BFLOAT16
                ? new Fn((x, y) -> x != x || y != y ? Float.NaN : y < x ? y : x, null, null, null)
                : new Fn(
                    (x, y) -> x != x || y != y ? Float.NaN : x < y ? x : y,
                    (x, y) -> x != x || y != y ? Double.NaN : x < y ? x : y,
                    Math::min,
                    Math::min));
    op(
        r,
        "SquaredDifference",
        Elements.with(FLOATS, DType.INT32, DType.INT64),
        t -> {
          FloatUnary round = Elements.rounding(t);
          return new Fn(
              (x, y) -> {
                float d = round.apply(x - y);
                return d * d;
              },
              (x, y) -> (x - y) * (x - y),
              (x, y) -> (x - y) * (x - y),
              (x, y) -> (x - y) * (x - y));
        });
    op(r, "Atan2", FLOATS, new Fn((x, y) -> (float) Math.atan2(x, y), Math::atan2, null, null));
    op(
        r,
        "Prelu",
        Elements.with(FLOATS, DType.INT32),
        new Fn(
            (x, a) -> x < 0 ? a * x : x,
            (x, a) -> x < 0 ? a * x : x,
            (x, a) -> x < 0 ? a * x : x,
            (x, a) -> x < 0 ? a * x : x));
    op(r, "BitwiseAnd", INTEGERS, new Fn(null, null, (x, y) -> x & y, (x, y) -> x & y));
    op(r, "BitwiseOr", INTEGERS, new Fn(null, null, (x, y) -> x | y, (x, y) -> x | y));
    op(r, "BitwiseXor", INTEGERS, new Fn(null, null, (x, y) -> x ^ y, (x, y) -> x ^ y));
    // TensorFlow clamps the shift to [0, width − 1]; a left shift is done on the unsigned bits.
    op(
        r,
        "LeftShift",
        INTEGERS,
        t -> {
          int max = Elements.bits(t) - 1;
          return new Fn(
              null,
              null,
              (x, y) -> x << Math.clamp(y, 0, max),
              (x, y) -> x << Math.clamp(y, 0, 63));
        });
    op(
        r,
        "RightShift",
        INTEGERS,
        t -> {
          int max = Elements.bits(t) - 1;
          return new Fn(
              null,
              null,
              (x, y) -> x >> Math.clamp(y, 0, max),
              (x, y) -> x >> Math.clamp(y, 0, 63));
        });
    op(r, "LogicalAnd", Set.of(DType.BOOL), new Fn(null, null, (x, y) -> x & y, null));
    op(r, "LogicalOr", Set.of(DType.BOOL), new Fn(null, null, (x, y) -> x | y, null));

    Set<DType> equatable = Elements.with(NUMBERS, DType.BOOL);
    compare(
        r,
        "Equal",
        equatable,
        new Cmp((x, y) -> x == y, (x, y) -> x == y, (x, y) -> x == y, (x, y) -> x == y));
    compare(
        r,
        "NotEqual",
        equatable,
        new Cmp((x, y) -> x != y, (x, y) -> x != y, (x, y) -> x != y, (x, y) -> x != y));
    compare(
        r,
        "Less",
        NUMBERS,
        new Cmp((x, y) -> x < y, (x, y) -> x < y, (x, y) -> x < y, (x, y) -> x < y));
    compare(
        r,
        "LessEqual",
        NUMBERS,
        new Cmp((x, y) -> x <= y, (x, y) -> x <= y, (x, y) -> x <= y, (x, y) -> x <= y));
    compare(
        r,
        "Greater",
        NUMBERS,
        new Cmp((x, y) -> x > y, (x, y) -> x > y, (x, y) -> x > y, (x, y) -> x > y));
    compare(
        r,
        "GreaterEqual",
        NUMBERS,
        new Cmp((x, y) -> x >= y, (x, y) -> x >= y, (x, y) -> x >= y, (x, y) -> x >= y));

    r.reference(
        "AddN",
        node -> {
          DType t = Elements.type(node, "T", NUMBERS);
          Kernel add2 = kernel(t, add);
          return (in, ctx) -> {
            if (in.length == 0) {
              throw new KernelException("AddN needs at least one input");
            }
            for (int i = 0; i < in.length; i++) {
              Elements.check(in[i], t, "inputs[" + i + "]");
              if (!java.util.Arrays.equals(in[i].shape(), in[0].shape())) {
                throw new KernelException(
                    "AddN inputs must have one shape: " + in[0] + " vs. " + in[i]);
              }
            }
            // Left to right: TensorFlow's order (so float sums equal its bit for bit) up to 9
            // inputs; beyond that its
            // kernel adds groups of 8 in an order of Eigen's (results then differ in the last
            // bits).
            Value sum = in[0];
            for (int i = 1; i < in.length; i++) {
              sum = add2.run(new Value[] {sum, in[i]}, ctx)[0];
            }
            return new Value[] {sum};
          };
        });
  }

  private static int nonZero(int y) {
    if (y == 0) {
      throw new KernelException("Integer division by zero");
    }
    return y;
  }

  private static long nonZero(long y) {
    if (y == 0) {
      throw new KernelException("Integer division by zero");
    }
    return y;
  }

  private static float truncate(float q) {
    return (float) (q < 0 ? Math.ceil(q) : Math.floor(q));
  }

  private static double truncate(double q) {
    return q < 0 ? Math.ceil(q) : Math.floor(q);
  }

  /** fmod moved to the divisor's sign, as TensorFlow's floor_fmod. */
  private static float floorMod(float x, float y) {
    float m = x % y;
    return m != 0 && (y < 0) != (m < 0) ? m + y : m;
  }

  private static double floorMod(double x, double y) {
    double m = x % y;
    return m != 0 && (y < 0) != (m < 0) ? m + y : m;
  }

  /**
   * C's pow: 1 to any power, and −1 to an infinite one, is 1 (Java's gives NaN for NaN and ±∞
   * exponents).
   */
  private static double pow(double x, double y) {
    return x == 1 || (x == -1 && Double.isInfinite(y)) ? 1 : Math.pow(x, y);
  }

  /** Integer power by squaring, wrapping like the element type. */
  private static int ipow(int x, int y) {
    if (y < 0) {
      throw new KernelException("Integers to negative integer powers are not allowed");
    }
    int r = 1;
    for (int b = x, e = y; e != 0; e >>>= 1, b *= b) {
      if ((e & 1) != 0) {
        r *= b;
      }
    }
    return r;
  }

  private static long lpow(long x, long y) {
    if (y < 0) {
      throw new KernelException("Integers to negative integer powers are not allowed");
    }
    long r = 1;
    for (long b = x, e = y; e != 0; e >>>= 1, b *= b) {
      if ((e & 1) != 0) {
        r *= b;
      }
    }
    return r;
  }

  private static void op(KernelRegistry r, String name, Set<DType> types, Fn fn) {
    op(r, name, types, t -> fn);
  }

  private static void op(KernelRegistry r, String name, Set<DType> types, Function<DType, Fn> fns) {
    KernelFactory reference =
        node -> {
          DType t = Elements.type(node, "T", types);
          return kernel(t, fns.apply(t));
        };
    r.reference(name, reference);
    FastElementwiseOps.register(r, name, reference);
  }

  /** The kernel applying {@code fn} to the broadcast elements of two {@code t} inputs. */
  static Kernel kernel(DType t, Fn fn) {
    return switch (Elements.lane(t)) {
      case FLOAT -> {
        FloatBinary f = fn.f();
        yield (in, ctx) -> {
          Broadcast b = operands(in, t);
          float[] x = Elements.floats(in[0]);
          float[] y = Elements.floats(in[1]);
          float[] z = new float[b.size()];
          int sx = b.step(0);
          int sy = b.step(1);
          b.forEachRow(
              (o, at, n) -> {
                for (int k = 0, i = at[0], j = at[1]; k < n; k++, i += sx, j += sy) {
                  z[o + k] = f.apply(x[i], y[j]);
                }
              });
          return new Value[] {Elements.ofFloats(t, b.shape(), z)};
        };
      }
      case DOUBLE -> {
        DoubleBinaryOperator f = fn.d();
        yield (in, ctx) -> {
          Broadcast b = operands(in, t);
          double[] x = in[0].doubles();
          double[] y = in[1].doubles();
          double[] z = new double[b.size()];
          int sx = b.step(0);
          int sy = b.step(1);
          b.forEachRow(
              (o, at, n) -> {
                for (int k = 0, i = at[0], j = at[1]; k < n; k++, i += sx, j += sy) {
                  z[o + k] = f.applyAsDouble(x[i], y[j]);
                }
              });
          return new Value[] {Value.of(t, b.shape(), z)};
        };
      }
      case INT -> {
        IntBinaryOperator f = fn.i();
        yield (in, ctx) -> {
          Broadcast b = operands(in, t);
          int[] x = Elements.ints(in[0]);
          int[] y = Elements.ints(in[1]);
          int[] z = new int[b.size()];
          int sx = b.step(0);
          int sy = b.step(1);
          b.forEachRow(
              (o, at, n) -> {
                for (int k = 0, i = at[0], j = at[1]; k < n; k++, i += sx, j += sy) {
                  z[o + k] = f.applyAsInt(x[i], y[j]);
                }
              });
          return new Value[] {Elements.ofInts(t, b.shape(), z)};
        };
      }
      case LONG -> {
        LongBinaryOperator f = fn.l();
        yield (in, ctx) -> {
          Broadcast b = operands(in, t);
          long[] x = in[0].longs();
          long[] y = in[1].longs();
          long[] z = new long[b.size()];
          int sx = b.step(0);
          int sy = b.step(1);
          b.forEachRow(
              (o, at, n) -> {
                for (int k = 0, i = at[0], j = at[1]; k < n; k++, i += sx, j += sy) {
                  z[o + k] = f.applyAsLong(x[i], y[j]);
                }
              });
          return new Value[] {Value.of(t, b.shape(), z)};
        };
      }
    };
  }

  private static Broadcast operands(Value[] in, DType t) {
    Elements.check(in[0], t, "x");
    Elements.check(in[1], t, "y");
    return Broadcast.of(in[0].shape(), in[1].shape());
  }

  private static void compare(KernelRegistry r, String name, Set<DType> types, Cmp c) {
    r.reference(
        name,
        node -> {
          DType t = Elements.type(node, "T", types);
          return switch (Elements.lane(t)) {
            case FLOAT ->
                (in, ctx) -> {
                  Broadcast b = operands(in, t);
                  float[] x = Elements.floats(in[0]);
                  float[] y = Elements.floats(in[1]);
                  byte[] z = new byte[b.size()];
                  int sx = b.step(0);
                  int sy = b.step(1);
                  b.forEachRow(
                      (o, at, n) -> {
                        for (int k = 0, i = at[0], j = at[1]; k < n; k++, i += sx, j += sy) {
                          z[o + k] = (byte) (c.f().test(x[i], y[j]) ? 1 : 0);
                        }
                      });
                  return new Value[] {Value.of(DType.BOOL, b.shape(), z)};
                };
            case DOUBLE ->
                (in, ctx) -> {
                  Broadcast b = operands(in, t);
                  double[] x = in[0].doubles();
                  double[] y = in[1].doubles();
                  byte[] z = new byte[b.size()];
                  int sx = b.step(0);
                  int sy = b.step(1);
                  b.forEachRow(
                      (o, at, n) -> {
                        for (int k = 0, i = at[0], j = at[1]; k < n; k++, i += sx, j += sy) {
                          z[o + k] = (byte) (c.d().test(x[i], y[j]) ? 1 : 0);
                        }
                      });
                  return new Value[] {Value.of(DType.BOOL, b.shape(), z)};
                };
            case INT ->
                (in, ctx) -> {
                  Broadcast b = operands(in, t);
                  int[] x = Elements.ints(in[0]);
                  int[] y = Elements.ints(in[1]);
                  byte[] z = new byte[b.size()];
                  int sx = b.step(0);
                  int sy = b.step(1);
                  b.forEachRow(
                      (o, at, n) -> {
                        for (int k = 0, i = at[0], j = at[1]; k < n; k++, i += sx, j += sy) {
                          z[o + k] = (byte) (c.i().test(x[i], y[j]) ? 1 : 0);
                        }
                      });
                  return new Value[] {Value.of(DType.BOOL, b.shape(), z)};
                };
            case LONG ->
                (in, ctx) -> {
                  Broadcast b = operands(in, t);
                  long[] x = in[0].longs();
                  long[] y = in[1].longs();
                  byte[] z = new byte[b.size()];
                  int sx = b.step(0);
                  int sy = b.step(1);
                  b.forEachRow(
                      (o, at, n) -> {
                        for (int k = 0, i = at[0], j = at[1]; k < n; k++, i += sx, j += sy) {
                          z[o + k] = (byte) (c.l().test(x[i], y[j]) ? 1 : 0);
                        }
                      });
                  return new Value[] {Value.of(DType.BOOL, b.shape(), z)};
                };
          };
        });
  }
}
