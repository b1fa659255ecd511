package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.Value;

/**
 * Test inputs and comparisons shared by the elementwise and reduction kernel tests: random and
 * special values per dtype, many cases run through TensorFlow in one session, and the worst
 * difference seen per op.
 */
final class OracleCases {
  private OracleCases() {}

  static final DType[] ALL = {
    DType.FLOAT32,
    DType.FLOAT64,
    DType.FLOAT16,
    DType.BFLOAT16,
    DType.INT8,
    DType.INT16,
    DType.INT32,
    DType.INT64,
    DType.UINT8,
    DType.UINT16,
    DType.BOOL
  };

  /** |a − b| ≤ atol + rtol·|b|; (0, 0) means bit-identical (the sign of zero included). */
  record Tol(double atol, double rtol) {
    static final Tol EXACT = new Tol(0, 0);

    boolean exact() {
      return atol == 0 && rtol == 0;
    }
  }

  /** One kernel-vs-TensorFlow comparison: an op on inputs, and the tolerance it is held to. */
  record Case(String label, String op, Map<String, AttrValue> attrs, Tol tol, Value... inputs) {
    OpOracle.Call call() {
      return new OpOracle.Call(op, attrs, 1, inputs);
    }
  }

  /**
   * Worst difference per op and dtype over a test class, printed for the report: |a − b| / max(1,
   * |b|), so absolute below 1 and relative above (the measure an atol = rtol tolerance bounds).
   */
  static final class Worst {
    private final Map<String, Double> worst = new TreeMap<>();

    void see(String op, double d) {
      worst.merge(op, d, Math::max);
    }

    String summary() {
      StringBuilder b = new StringBuilder();
      worst.forEach((op, d) -> b.append(String.format("  %-26s %.3g%n", op, d)));
      return b.toString();
    }
  }

  /**
   * Runs every case in TensorFlow (one session) and in tfport, asserting each pair agrees within
   * its tolerance.
   */
  static void check(List<Case> cases, Worst worst) {
    List<OpOracle.Call> calls = new ArrayList<>();
    for (Case c : cases) {
      calls.add(c.call());
    }
    List<List<Value>> expected = OpOracle.runTensorFlow(calls);
    List<String> failures = new ArrayList<>();
    for (int i = 0; i < cases.size(); i++) {
      Case c = cases.get(i);
      try {
        Value actual = OpOracle.runKernel(c.op(), c.attrs(), c.inputs())[0];
        worst.see(
            c.op() + " " + c.inputs()[0].dtype().jsName(),
            compare(c.label(), actual, expected.get(i).get(0), c.tol()));
      } catch (AssertionError | RuntimeException e) {
        failures.add(c.label() + ": " + e.getMessage().replace('\n', ' '));
      }
    }
    assertThat(failures).as(failures.size() + " of " + cases.size() + " cases differ").isEmpty();
  }

  /**
   * Asserts agreement and returns the largest |a − b| / max(1, |b|) (0 for exact equality, NaN
   * matching NaN).
   */
  static double compare(String what, Value actual, Value expected, Tol tol) {
    assertThat(actual.dtype()).as(what + " dtype").isEqualTo(expected.dtype());
    assertThat(actual.shape()).as(what + " shape").containsExactly(expected.shape());
    boolean real = expected.dtype().isFloating();
    double worst = 0;
    for (int i = 0; i < expected.size(); i++) {
      if (!real) {
        assertThat(actual.longAt(i)).as(what + "[" + i + "]").isEqualTo(expected.longAt(i));
        continue;
      }
      double a = actual.doubleAt(i);
      double b = expected.doubleAt(i);
      if (Double.isNaN(b) || Double.isNaN(a)) {
        assertThat(Double.isNaN(a))
            .as(what + "[" + i + "] " + a + " vs " + b)
            .isEqualTo(Double.isNaN(b));
        continue;
      }
      if (tol.exact() || Double.isInfinite(b)) {
        assertThat(Double.doubleToRawLongBits(a))
            .as(what + "[" + i + "] " + a + " vs " + b)
            .isEqualTo(Double.doubleToRawLongBits(b));
        continue;
      }
      double d = Math.abs(a - b);
      worst = Math.max(worst, d / Math.max(1, Math.abs(b)));
      assertThat(d)
          .as(what + "[" + i + "] " + a + " vs " + b)
          .isLessThanOrEqualTo(tol.atol() + tol.rtol() * Math.abs(b));
    }
    return worst;
  }

  /**
   * Random elements: reals uniform in [lo, hi), integers over the type's whole range, bools fair.
   */
  static Value random(Random rnd, DType t, double lo, double hi, long... shape) {
    int n = (int) Value.elementCount(shape);
    if (t == DType.INT64) {
      return Value.of(t, shape, rnd.longs(n).toArray());
    }
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] =
          switch (t) {
            case FLOAT32, FLOAT64, FLOAT16, BFLOAT16 -> lo + rnd.nextDouble() * (hi - lo);
            case INT8 -> rnd.nextInt(256) - 128;
            case UINT8 -> rnd.nextInt(256);
            case INT16 -> rnd.nextInt(65536) - 32768;
            case UINT16 -> rnd.nextInt(65536);
            case INT32 -> rnd.nextInt();
            case BOOL -> rnd.nextInt(2);
            default -> throw new IllegalArgumentException(t.toString());
          };
    }
    return of(t, shape, v);
  }

  /**
   * Random small integers in [lo, hi] (as any type), for ops whose large values overflow or trap.
   */
  static Value smallInts(Random rnd, DType t, int lo, int hi, long... shape) {
    int n = (int) Value.elementCount(shape);
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = lo + rnd.nextInt(hi - lo + 1);
    }
    return of(t, shape, v);
  }

  /** {@code v} converted to {@code t} (rounded to nearest for half types, wrapped for integers). */
  static Value of(DType t, long[] shape, double... v) {
    int n = v.length;
    Object data =
        switch (t) {
          case FLOAT32 -> {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) {
              a[i] = (float) v[i];
            }
            yield a;
          }
          case FLOAT64 -> v.clone();
          case FLOAT16 -> {
            short[] a = new short[n];
            for (int i = 0; i < n; i++) {
              a[i] = Float.floatToFloat16((float) v[i]);
            }
            yield a;
          }
          case BFLOAT16 -> {
            short[] a = new short[n];
            for (int i = 0; i < n; i++) {
              a[i] = Elements.toBfloat16((float) v[i]);
            }
            yield a;
          }
          case INT32 -> {
            int[] a = new int[n];
            for (int i = 0; i < n; i++) {
              a[i] = (int) (long) v[i];
            }
            yield a;
          }
          case INT64 -> {
            long[] a = new long[n];
            for (int i = 0; i < n; i++) {
              a[i] = (long) v[i];
            }
            yield a;
          }
          case INT8, UINT8 -> {
            byte[] a = new byte[n];
            for (int i = 0; i < n; i++) {
              a[i] = (byte) (long) v[i];
            }
            yield a;
          }
          case BOOL -> {
            byte[] a = new byte[n];
            for (int i = 0; i < n; i++) {
              a[i] = (byte) (v[i] != 0 ? 1 : 0);
            }
            yield a;
          }
          case INT16, UINT16 -> {
            short[] a = new short[n];
            for (int i = 0; i < n; i++) {
              a[i] = (short) (long) v[i];
            }
            yield a;
          }
          default -> throw new IllegalArgumentException(t.toString());
        };
    return Value.of(t, shape, data);
  }

  /**
   * Values at the edges of float arithmetic: NaN, infinities, signed zeros, halves (rounding ties),
   * ±1.
   */
  static final double[] SPECIALS = {
    Double.NaN,
    Double.POSITIVE_INFINITY,
    Double.NEGATIVE_INFINITY,
    0.0,
    -0.0,
    1,
    -1,
    0.5,
    -0.5,
    1.5,
    2.5,
    -2.5,
    3.5,
    1e-3,
    -7.25,
    6,
    6.5,
    100,
    -100
  };

  static Value specials(DType t) {
    return of(t, new long[] {SPECIALS.length}, SPECIALS);
  }

  static Map<String, AttrValue> typeAttr(DType t) {
    return OpOracle.attrs("T", OpOracle.type(t));
  }

  /** The tolerance of a computed (not exactly rounded) real result of type {@code t}. */
  static Tol approx(DType t) {
    return switch (t) {
      case FLOAT32 -> new Tol(1e-6, 1e-6);
      case FLOAT64 -> new Tol(1e-13, 1e-13);
      case FLOAT16 -> new Tol(1e-3, 1e-3);
      case BFLOAT16 -> new Tol(8e-3, 8e-3);
      default -> Tol.EXACT;
    };
  }
}
