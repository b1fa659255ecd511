package org.tfport.runtime.ops;

import static org.tfport.runtime.ops.Elements.FLOATS;
import static org.tfport.runtime.ops.Elements.NUMBERS;
import static org.tfport.runtime.ops.Elements.SIGNED;

import java.util.Set;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Function;
import java.util.function.IntUnaryOperator;
import java.util.function.LongUnaryOperator;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.Elements.FloatUnary;

/**
 * One-input elementwise math with TensorFlow's CPU kernel registrations. Exact ops (negation, abs,
 * rounding, square root, relu) are computed in the element's own type, so float32 results equal
 * TensorFlow's bit for bit; the transcendentals are computed in double and rounded once, which is
 * at least as accurate as Eigen's float approximations (TensorFlow's own results may differ in the
 * last bits).
 */
final class UnaryOps implements OpFamily {
  /**
   * An op's element function per lane; null where TensorFlow registers no kernel for that lane's
   * types.
   */
  record Fn(FloatUnary f, DoubleUnaryOperator d, IntUnaryOperator i, LongUnaryOperator l) {
    /** A float-only op given by its double function, rounded once for float lanes. */
    static Fn real(DoubleUnaryOperator d) {
      return new Fn(x -> (float) d.applyAsDouble(x), d, null, null);
    }
  }

  private static final Set<DType> SIGNED_REALS = Elements.union(FLOATS, SIGNED);

  /** SELU's constants, as TensorFlow's kernel spells them. */
  private static final double SELU_SCALE = 1.0507009873554804934193349852946;

  private static final double SELU_ALPHA = 1.6732632423543772848170429916717;

  @Override
  public void register(KernelRegistry r) {
    op(r, "Abs", SIGNED_REALS, new Fn(Math::abs, Math::abs, Math::abs, Math::abs));
    op(r, "Neg", SIGNED_REALS, new Fn(x -> -x, x -> -x, x -> -x, x -> -x));
    op(r, "Square", NUMBERS, new Fn(x -> x * x, x -> x * x, x -> x * x, x -> x * x));
    // Zero (of either sign) gives +0 and NaN stays NaN, as TensorFlow's vectorized kernels give.
    op(
        r,
        "Sign",
        SIGNED_REALS,
        new Fn(
            x -> x > 0 ? 1f : x < 0 ? -1f : x == 0 ? 0f : x,
            x -> x > 0 ? 1 : x < 0 ? -1 : x == 0 ? 0 : x,
            Integer::signum,
            Long::signum));
    // float32 and float64 Relu turn −0 into +0; the half types keep −0 (Eigen computes them
    // elementwise).
    op(
        r,
        "Relu",
        NUMBERS,
        node ->
            halfType(node)
                ? new Fn(x -> x < 0 ? 0f : x, null, null, null)
                : new Fn(
                    x -> x > 0 || x != x ? x : 0f,
                    x -> x > 0 || x != x ? x : 0,
                    x -> Math.max(x, 0),
                    x -> Math.max(x, 0)));
    op(
        r,
        "Relu6",
        NUMBERS,
        node ->
            halfType(node)
                ? new Fn(x -> x < 0 ? 0f : Math.min(x, 6f), null, null, null)
                : new Fn(
                    x -> x > 0 || x != x ? Math.min(x, 6f) : 0f,
                    x -> x > 0 || x != x ? Math.min(x, 6) : 0,
                    x -> Math.min(Math.max(x, 0), 6),
                    x -> Math.min(Math.max(x, 0), 6)));
    // A float's square root, rounded once from the exact double result, is correctly rounded.
    op(r, "Sqrt", FLOATS, Fn.real(Math::sqrt));
    op(r, "Rsqrt", FLOATS, Fn.real(x -> 1 / Math.sqrt(x)));
    op(r, "Reciprocal", FLOATS, new Fn(x -> 1 / x, x -> 1 / x, null, null));
    op(r, "Inv", FLOATS, new Fn(x -> 1 / x, x -> 1 / x, null, null));
    op(r, "Floor", FLOATS, Fn.real(Math::floor));
    op(r, "Ceil", FLOATS, Fn.real(Math::ceil));
    // Half to even, for Round as for Rint; integers are their own rounding.
    op(
        r,
        "Round",
        Elements.with(FLOATS, DType.INT32, DType.INT64),
        new Fn(x -> (float) Math.rint(x), Math::rint, x -> x, x -> x));
    op(r, "Rint", Set.of(DType.FLOAT32, DType.FLOAT64), Fn.real(Math::rint));
    op(r, "Exp", FLOATS, Fn.real(Math::exp));
    op(r, "Expm1", FLOATS, Fn.real(Math::expm1));
    op(r, "Log", FLOATS, Fn.real(Math::log));
    op(r, "Log1p", FLOATS, Fn.real(Math::log1p));
    op(r, "Sin", FLOATS, Fn.real(Math::sin));
    op(r, "Cos", FLOATS, Fn.real(Math::cos));
    op(r, "Tan", FLOATS, Fn.real(Math::tan));
    op(r, "Asin", FLOATS, Fn.real(Math::asin));
    op(r, "Acos", FLOATS, Fn.real(Math::acos));
    op(r, "Atan", FLOATS, Fn.real(Math::atan));
    op(r, "Sinh", FLOATS, Fn.real(Math::sinh));
    op(r, "Cosh", FLOATS, Fn.real(Math::cosh));
    op(r, "Tanh", FLOATS, Fn.real(Math::tanh));
    op(r, "Asinh", FLOATS, Fn.real(SpecialFunctions::asinh));
    op(r, "Acosh", FLOATS, Fn.real(SpecialFunctions::acosh));
    op(r, "Atanh", FLOATS, Fn.real(SpecialFunctions::atanh));
    op(r, "Erf", FLOATS, Fn.real(SpecialFunctions::erf));
    op(r, "Erfc", FLOATS, Fn.real(SpecialFunctions::erfc));
    op(
        r,
        "Sigmoid",
        FLOATS,
        Fn.real(x -> x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))));
    op(
        r,
        "Softplus",
        FLOATS,
        Fn.real(x -> x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))));
    op(r, "Softsign", FLOATS, Fn.real(x -> x / (1 + Math.abs(x))));
    op(r, "Elu", FLOATS, Fn.real(x -> x < 0 ? Math.expm1(x) : x));
    op(
        r,
        "Selu",
        FLOATS,
        Fn.real(x -> x < 0 ? SELU_SCALE * SELU_ALPHA * Math.expm1(x) : SELU_SCALE * x));
    op(
        r,
        "LeakyRelu",
        FLOATS,
        node -> {
          // alpha is converted to the element type first (a half alpha for half inputs), as
          // TensorFlow does.
          float alpha = Elements.rounding(node.typeAttr("T")).apply(node.floatAttr("alpha", 0.2f));
          double alphaD = alpha;
          // TensorFlow selects x > 0 ? x : x * alpha (alpha may exceed 1, so not a maximum).
          return new Fn(x -> x > 0 ? x : x * alpha, x -> x > 0 ? x : x * alphaD, null, null);
        });
    test(r, "IsNan", Float::isNaN, Double::isNaN);
    test(r, "IsInf", Float::isInfinite, Double::isInfinite);
    test(r, "IsFinite", Float::isFinite, Double::isFinite);
    op(r, "LogicalNot", Set.of(DType.BOOL), new Fn(null, null, x -> x ^ 1, null));
  }

  private static boolean halfType(BindContext node) {
    DType t = node.typeAttr("T");
    return t == DType.FLOAT16 || t == DType.BFLOAT16;
  }

  private static void op(KernelRegistry r, String name, Set<DType> types, Fn fn) {
    op(r, name, types, node -> fn);
  }

  private static void op(
      KernelRegistry r, String name, Set<DType> types, Function<BindContext, Fn> fns) {
    r.reference(
        name,
        node -> {
          DType t = Elements.type(node, "T", types);
          return kernel(t, fns.apply(node));
        });
  }

  /** The kernel applying {@code fn} to every element of a {@code t} input. */
  static Kernel kernel(DType t, Fn fn) {
    return switch (Elements.lane(t)) {
      case FLOAT -> {
        FloatUnary f = fn.f();
        yield (in, ctx) -> {
          Elements.check(in[0], t, "x");
          float[] x = Elements.floats(in[0]);
          float[] y = new float[x.length];
          for (int i = 0; i < x.length; i++) {
            y[i] = f.apply(x[i]);
          }
          return new Value[] {Elements.ofFloats(t, in[0].shape(), y)};
        };
      }
      case DOUBLE -> {
        DoubleUnaryOperator f = fn.d();
        yield (in, ctx) -> {
          Elements.check(in[0], t, "x");
          double[] x = in[0].doubles();
          double[] y = new double[x.length];
          for (int i = 0; i < x.length; i++) {
            y[i] = f.applyAsDouble(x[i]);
          }
          return new Value[] {Value.of(t, in[0].shape(), y)};
        };
      }
      case INT -> {
        IntUnaryOperator f = fn.i();
        yield (in, ctx) -> {
          Elements.check(in[0], t, "x");
          int[] x = Elements.ints(in[0]);
          int[] y = new int[x.length];
          for (int i = 0; i < x.length; i++) {
            y[i] = f.applyAsInt(x[i]);
          }
          return new Value[] {Elements.ofInts(t, in[0].shape(), y)};
        };
      }
      case LONG -> {
        LongUnaryOperator f = fn.l();
        yield (in, ctx) -> {
          Elements.check(in[0], t, "x");
          long[] x = in[0].longs();
          long[] y = new long[x.length];
          for (int i = 0; i < x.length; i++) {
            y[i] = f.applyAsLong(x[i]);
          }
          return new Value[] {Value.of(t, in[0].shape(), y)};
        };
      }
    };
  }

  @FunctionalInterface
  private interface FloatPredicate {
    boolean test(float x);
  }

  /** A float classification (IsNan, ...) giving bools. */
  private static void test(
      KernelRegistry r, String name, FloatPredicate f, java.util.function.DoublePredicate d) {
    r.reference(
        name,
        node -> {
          DType t = Elements.type(node, "T", FLOATS);
          return (in, ctx) -> {
            Elements.check(in[0], t, "x");
            boolean[] y = new boolean[in[0].size()];
            if (t == DType.FLOAT64) {
              double[] x = in[0].doubles();
              for (int i = 0; i < y.length; i++) {
                y[i] = d.test(x[i]);
              }
            } else {
              float[] x = Elements.floats(in[0]);
              for (int i = 0; i < y.length; i++) {
                y[i] = f.test(x[i]);
              }
            }
            return new Value[] {Elements.bools(in[0].shape(), y)};
          };
        });
  }
}
