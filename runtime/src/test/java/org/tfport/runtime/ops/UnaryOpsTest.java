package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.tfport.runtime.ops.OracleCases.Tol;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.Value;
import org.tfport.testkit.OracleTest;

/**
 * Unary elementwise kernels and Cast against TensorFlow 2.18, for every dtype its CPU kernel
 * registers: random values over several shapes (scalar, empty, matrix) and the special values (NaN,
 * ±inf, ±0, ties). Exact ops must equal TensorFlow bit for bit; computed ones hold to {@link
 * OracleCases#approx} (float32 1e-6 + 1e-6·|b|, found by measurement; the widest are stated per op
 * below).
 */
@OracleTest
class UnaryOpsTest {
  private static final OracleCases.Worst WORST = new OracleCases.Worst();

  private static final Set<DType> FLOATS =
      EnumSet.of(DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16);
  private static final Set<DType> SIGNED_REALS =
      union(FLOATS, DType.INT8, DType.INT16, DType.INT32, DType.INT64);
  private static final Set<DType> NUMBERS = union(SIGNED_REALS, DType.UINT8, DType.UINT16);

  /** Ops whose TensorFlow results are exactly rounded, so ours must be identical. */
  private static final Set<String> EXACT =
      Set.of(
          "Abs",
          "Neg",
          "Square",
          "Sign",
          "Relu",
          "Relu6",
          "Sqrt",
          "Floor",
          "Ceil",
          "Round",
          "Rint",
          "LogicalNot",
          "IsNan",
          "IsInf",
          "IsFinite",
          "LeakyRelu");

  private static Set<DType> union(Set<DType> base, DType... more) {
    Set<DType> s = EnumSet.copyOf(base);
    s.addAll(List.of(more));
    return s;
  }

  /** The dtypes TensorFlow's CPU kernels register, per op (probed from TensorFlow 2.18). */
  static Stream<Object[]> ops() {
    List<Object[]> ops = new ArrayList<>();
    for (String op : List.of("Abs", "Neg", "Sign")) {
      ops.add(new Object[] {op, SIGNED_REALS});
    }
    for (String op : List.of("Square", "Relu", "Relu6")) {
      ops.add(new Object[] {op, NUMBERS});
    }
    // TensorFlow 2.18's Round kernel for int32 and int64 returns zeros (tf.round never emits it for
    // integers:
    // it returns x); tfport returns x, tested by hand in roundOfIntegersIsIdentity.
    ops.add(new Object[] {"Round", FLOATS});
    ops.add(new Object[] {"Rint", EnumSet.of(DType.FLOAT32, DType.FLOAT64)});
    for (String op :
        List.of(
            "Sqrt",
            "Rsqrt",
            "Exp",
            "Expm1",
            "Log",
            "Log1p",
            "Sin",
            "Cos",
            "Tan",
            "Asin",
            "Acos",
            "Atan",
            "Sinh",
            "Cosh",
            "Tanh",
            "Asinh",
            "Acosh",
            "Atanh",
            "Sigmoid",
            "Elu",
            "Selu",
            "LeakyRelu",
            "Softplus",
            "Softsign",
            "Erf",
            "Erfc",
            "Floor",
            "Ceil",
            "Reciprocal",
            "Inv",
            "IsNan",
            "IsInf",
            "IsFinite")) {
      ops.add(new Object[] {op, FLOATS});
    }
    ops.add(new Object[] {"LogicalNot", EnumSet.of(DType.BOOL)});
    return ops.stream();
  }

  /** Where an op's interesting values are (its domain, or where it saturates). */
  private static double[] range(String op) {
    return switch (op) {
      case "Acosh" -> new double[] {0.5, 6};
      case "Log", "Sqrt", "Rsqrt" -> new double[] {-0.5, 8};
      case "Exp", "Expm1", "Sinh", "Cosh" -> new double[] {-12, 12};
      case "Sigmoid", "Softplus", "Tanh", "Elu", "Selu", "Erfc" -> new double[] {-20, 20};
      default -> new double[] {-3, 3};
    };
  }

  private static Tol tolerance(String op, DType t) {
    if (EXACT.contains(op) || !t.isFloating()) {
      return Tol.EXACT;
    }
    return OracleCases.approx(t);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("ops")
  void matchesTensorFlow(String op, Set<DType> types) {
    Random rnd = new Random(op.hashCode());
    double[] range = range(op);
    List<OracleCases.Case> cases = new ArrayList<>();
    for (DType t : types) {
      Map<String, AttrValue> attrs = OracleCases.typeAttr(t);
      if (op.equals("LeakyRelu")) {
        attrs.put("alpha", new AttrValue.Float(0.3f));
      }
      Tol tol = tolerance(op, t);
      String label = op + " " + t.jsName();
      cases.add(
          new OracleCases.Case(
              label + " scalar", op, attrs, tol, OracleCases.random(rnd, t, range[0], range[1])));
      cases.add(
          new OracleCases.Case(
              label + " empty", op, attrs, tol, OracleCases.random(rnd, t, 0, 1, 2, 0)));
      cases.add(
          new OracleCases.Case(
              label + " [3,5]",
              op,
              attrs,
              tol,
              OracleCases.random(rnd, t, range[0], range[1], 3, 5)));
      if (t.isFloating()) {
        cases.add(
            new OracleCases.Case(label + " specials", op, attrs, tol, OracleCases.specials(t)));
      }
    }
    OracleCases.check(cases, WORST);
  }

  @Test
  void roundOfIntegersIsIdentity() {
    for (DType t : List.of(DType.INT32, DType.INT64)) {
      Value x = OracleCases.of(t, new long[] {5}, -3, 0, 7, 2147483647, -2147483648.0);
      OracleCases.compare(
          "Round " + t, OpOracle.runKernel("Round", OracleCases.typeAttr(t), x)[0], x, Tol.EXACT);
    }
  }

  /**
   * Every pair of types, on values that hit rounding ties, signed zeros, NaN, infinities and
   * out-of-range floats.
   */
  @Test
  void castMatchesTensorFlow() {
    double[] edge = {
      Double.NaN,
      Double.POSITIVE_INFINITY,
      Double.NEGATIVE_INFINITY,
      0.0,
      -0.0,
      0.9999,
      -0.9999,
      2.5,
      -2.5,
      127.9,
      -128.9,
      255.5,
      300.7,
      -129.5,
      32767.9,
      65535.5,
      65536.5,
      -32769.5,
      3e9,
      -3e9,
      1e10,
      -1e10,
      9.3e18,
      -9.3e18,
      1e20,
      1.00048828125,
      1.0009765625,
      65520,
      3.3895e38,
      1e-30,
      70000.3
    };
    Random rnd = new Random(7);
    List<OracleCases.Case> cases = new ArrayList<>();
    for (DType from : OracleCases.ALL) {
      for (DType to : OracleCases.ALL) {
        for (boolean truncate : new boolean[] {false, true}) {
          if (truncate && !(from.isFloating() && to.isFloating())) {
            continue;
          }
          Map<String, AttrValue> attrs =
              OpOracle.attrs(
                  "SrcT",
                  OpOracle.type(from),
                  "DstT",
                  OpOracle.type(to),
                  "Truncate",
                  new AttrValue.Bool(truncate));
          String label =
              "Cast " + from.jsName() + "->" + to.jsName() + (truncate ? " truncate" : "");
          // TensorFlow's float64 and half conversions to 8- and 16-bit integers saturate
          // out-of-range values in
          // vectorized runs and wrap them elsewhere (undefined in C++): only in-range values are
          // compared.
          boolean inRangeOnly =
              from != DType.FLOAT32
                  && from.isFloating()
                  && to.byteSize() <= 2
                  && !to.isFloating()
                  && to != DType.BOOL;
          double[] values = inRangeOnly ? inRange(from, edge, to) : edge;
          cases.add(
              new OracleCases.Case(
                  label,
                  "Cast",
                  attrs,
                  Tol.EXACT,
                  from.isFloating()
                      ? OracleCases.of(from, new long[] {values.length}, values)
                      : OracleCases.random(rnd, from, 0, 1, 40)));
          cases.add(
              new OracleCases.Case(
                  label + " random",
                  "Cast",
                  attrs,
                  Tol.EXACT,
                  inRangeOnly
                      ? OracleCases.random(
                          rnd, from, Elements.intMin(to), Elements.intMax(to) + 0.99, 4, 5)
                      : OracleCases.random(rnd, from, -300, 300, 4, 5)));
        }
      }
    }
    OracleCases.check(cases, WORST);
  }

  /**
   * The values whose truncation fits {@code to}, once rounded to the source type (which may round
   * them out).
   */
  private static double[] inRange(DType from, double[] values, DType to) {
    Value v = OracleCases.of(from, new long[] {values.length}, values);
    return java.util.stream.IntStream.range(0, values.length)
        .mapToDouble(v::doubleAt)
        .filter(
            x ->
                !Double.isNaN(x)
                    && (long) x >= Elements.intMin(to)
                    && (long) x <= Elements.intMax(to))
        .toArray();
  }

  @Test
  void rejectsTypesTensorFlowDoesNotRegister() {
    Value ints = Value.ints(new long[] {2}, 4, 9);
    assertThatThrownBy(() -> OpOracle.runKernel("Sqrt", OracleCases.typeAttr(DType.INT32), ints))
        .isInstanceOf(KernelException.class)
        .hasMessage("Sqrt does not support int32");
    Value u16 = OracleCases.of(DType.UINT16, new long[] {1}, 3);
    assertThatThrownBy(() -> OpOracle.runKernel("Neg", OracleCases.typeAttr(DType.UINT16), u16))
        .isInstanceOf(KernelException.class)
        .hasMessage("Neg does not support uint16");
  }

  @AfterAll
  static void report() {
    System.out.print("UnaryOpsTest worst |a-b|/max(1,|b|) per op:\n" + WORST.summary());
  }
}
