package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;
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
 * Binary elementwise kernels against TensorFlow 2.18 for every dtype its CPU kernel registers:
 * equal shapes, broadcasting ([2,1,3] with [4,1]), scalars on either side, empty operands, and for
 * reals every pair of special values. All are bit-exact except Pow and Atan2 ({@link
 * OracleCases#approx}).
 */
@OracleTest
class BinaryOpsTest {
  private static final OracleCases.Worst WORST = new OracleCases.Worst();

  private static final Set<DType> FLOATS =
      EnumSet.of(DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16);
  private static final Set<DType> INTS =
      EnumSet.of(DType.INT8, DType.INT16, DType.INT32, DType.INT64, DType.UINT8, DType.UINT16);
  private static final Set<DType> NUMBERS = union(FLOATS, INTS);
  private static final Set<DType> MOD =
      EnumSet.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64);

  private static Set<DType> union(Set<DType> a, Set<DType> b) {
    Set<DType> s = EnumSet.copyOf(a);
    s.addAll(b);
    return s;
  }

  private static Set<DType> with(Set<DType> a, DType... more) {
    return union(a, EnumSet.copyOf(List.of(more)));
  }

  /** Registered dtypes per op (probed from TensorFlow 2.18). */
  static Stream<Object[]> ops() {
    List<Object[]> ops = new ArrayList<>();
    ops.add(
        new Object[] {
          "Add", with(FLOATS, DType.INT8, DType.INT16, DType.INT32, DType.INT64, DType.UINT8)
        });
    for (String op :
        List.of(
            "AddV2",
            "Sub",
            "Mul",
            "Maximum",
            "Minimum",
            "Div",
            "TruncateDiv",
            "FloorDiv",
            "FloorMod")) {
      ops.add(new Object[] {op, NUMBERS});
    }
    for (String op : List.of("RealDiv", "DivNoNan", "MulNoNan", "Atan2")) {
      ops.add(new Object[] {op, FLOATS});
    }
    ops.add(new Object[] {"Mod", MOD});
    ops.add(new Object[] {"TruncateMod", MOD});
    ops.add(new Object[] {"Pow", with(FLOATS, DType.INT8, DType.INT16, DType.INT32, DType.INT64)});
    ops.add(new Object[] {"SquaredDifference", with(FLOATS, DType.INT32, DType.INT64)});
    for (String op : List.of("Equal", "NotEqual")) {
      ops.add(new Object[] {op, with(NUMBERS, DType.BOOL)});
    }
    for (String op : List.of("Less", "LessEqual", "Greater", "GreaterEqual")) {
      ops.add(new Object[] {op, NUMBERS});
    }
    for (String op : List.of("BitwiseAnd", "BitwiseOr", "BitwiseXor", "LeftShift", "RightShift")) {
      ops.add(new Object[] {op, INTS});
    }
    ops.add(new Object[] {"LogicalAnd", EnumSet.of(DType.BOOL)});
    ops.add(new Object[] {"LogicalOr", EnumSet.of(DType.BOOL)});
    return ops.stream();
  }

  private static boolean divides(String op) {
    return op.contains("Div") && !op.equals("RealDiv") && !op.equals("DivNoNan")
        || op.contains("Mod");
  }

  /**
   * Left operand: reals in [-4, 4] on a half-step grid (ties and equal values happen), integers
   * over their range.
   */
  private static Value x(String op, Random rnd, DType t, long... shape) {
    if (op.equals("Pow") && !t.isFloating()) {
      return OracleCases.smallInts(rnd, t, -9, 9, shape);
    }
    if (op.equals("Pow")) {
      return OracleCases.random(rnd, t, 0.05, 3, shape);
    }
    if (t.isFloating() && !op.equals("Atan2")) {
      return halfSteps(rnd, t, shape);
    }
    return OracleCases.random(rnd, t, -4, 4, shape);
  }

  /**
   * Right operand: as x, but no zero divisor for integers (TensorFlow fails) and small shifts and
   * exponents.
   */
  private static Value y(String op, Random rnd, DType t, long... shape) {
    if (!t.isFloating() && divides(op)) {
      Value v = OracleCases.smallInts(rnd, t, 1, 40, shape);
      // Negative divisors too where the type has them; −1 with int32/int64 minimum would trap in
      // C++.
      boolean signed = t != DType.UINT8 && t != DType.UINT16;
      double[] d = new double[v.size()];
      for (int i = 0; i < d.length; i++) {
        d[i] = signed && rnd.nextBoolean() ? -v.longAt(i) - 1 : v.longAt(i);
      }
      return OracleCases.of(t, shape, d);
    }
    if (op.equals("Pow") && !t.isFloating()) {
      return OracleCases.smallInts(rnd, t, 0, 9, shape);
    }
    if (op.endsWith("Shift")) {
      return OracleCases.smallInts(
          rnd, t, t == DType.UINT8 || t == DType.UINT16 ? 0 : -2, Elements.bits(t) + 2, shape);
    }
    return x(op, rnd, t, shape);
  }

  private static Value halfSteps(Random rnd, DType t, long... shape) {
    double[] v = new double[(int) Value.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = rnd.nextInt(17) / 2.0 - 4 + (rnd.nextInt(4) == 0 ? rnd.nextDouble() : 0);
    }
    return OracleCases.of(t, shape, v);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("ops")
  void matchesTensorFlow(String op, Set<DType> types) {
    Random rnd = new Random(op.hashCode());
    List<OracleCases.Case> cases = new ArrayList<>();
    long[][][] shapes = {
      {{3, 4}, {3, 4}},
      {{2, 1, 3}, {4, 1}},
      {{}, {5}},
      {{5}, {}},
      {{0, 3}, {1, 3}},
      {{}, {}},
      {{2, 3, 4}, {3, 1}}
    };
    for (DType t : types) {
      Map<String, AttrValue> attrs = OracleCases.typeAttr(t);
      Tol tol = op.equals("Pow") || op.equals("Atan2") ? OracleCases.approx(t) : Tol.EXACT;
      for (long[][] s : shapes) {
        cases.add(
            new OracleCases.Case(
                op
                    + " "
                    + t.jsName()
                    + " "
                    + java.util.Arrays.toString(s[0])
                    + "x"
                    + java.util.Arrays.toString(s[1]),
                op,
                attrs,
                tol,
                x(op, rnd, t, s[0]),
                y(op, rnd, t, s[1])));
      }
      if (t.isFloating()) {
        // Every ordered pair of special values: [n,1] against [n].
        int n = OracleCases.SPECIALS.length;
        cases.add(
            new OracleCases.Case(
                op + " " + t.jsName() + " special pairs",
                op,
                attrs,
                tol,
                OracleCases.of(t, new long[] {n, 1}, OracleCases.SPECIALS),
                OracleCases.of(t, new long[] {n}, OracleCases.SPECIALS)));
      }
    }
    OracleCases.check(cases, WORST);
  }

  @Test
  void selectAndClipMatchTensorFlow() {
    Random rnd = new Random(11);
    List<OracleCases.Case> cases = new ArrayList<>();
    for (DType t : with(NUMBERS, DType.BOOL)) {
      Map<String, AttrValue> attrs = OracleCases.typeAttr(t);
      String l = " " + t.jsName();
      cases.add(
          new OracleCases.Case(
              "SelectV2 broadcast" + l,
              "SelectV2",
              attrs,
              Tol.EXACT,
              OracleCases.random(rnd, DType.BOOL, 0, 1, 2, 1, 3),
              OracleCases.random(rnd, t, -4, 4, 4, 1),
              OracleCases.random(rnd, t, -4, 4, 3)));
      cases.add(
          new OracleCases.Case(
              "SelectV2 scalar cond" + l,
              "SelectV2",
              attrs,
              Tol.EXACT,
              OracleCases.random(rnd, DType.BOOL, 0, 1),
              OracleCases.random(rnd, t, -4, 4, 2, 3),
              OracleCases.random(rnd, t, -4, 4, 2, 3)));
      cases.add(
          new OracleCases.Case(
              "SelectV2 empty" + l,
              "SelectV2",
              attrs,
              Tol.EXACT,
              OracleCases.random(rnd, DType.BOOL, 0, 1, 0, 1),
              OracleCases.random(rnd, t, -4, 4, 1, 3),
              OracleCases.random(rnd, t, -4, 4, 3)));
      cases.add(
          new OracleCases.Case(
              "Select same shape" + l,
              "Select",
              attrs,
              Tol.EXACT,
              OracleCases.random(rnd, DType.BOOL, 0, 1, 3, 4),
              OracleCases.random(rnd, t, -4, 4, 3, 4),
              OracleCases.random(rnd, t, -4, 4, 3, 4)));
      cases.add(
          new OracleCases.Case(
              "Select row vector" + l,
              "Select",
              attrs,
              Tol.EXACT,
              OracleCases.random(rnd, DType.BOOL, 0, 1, 3),
              OracleCases.random(rnd, t, -4, 4, 3, 2, 2),
              OracleCases.random(rnd, t, -4, 4, 3, 2, 2)));
      cases.add(
          new OracleCases.Case(
              "Select scalar" + l,
              "Select",
              attrs,
              Tol.EXACT,
              OracleCases.random(rnd, DType.BOOL, 0, 1),
              OracleCases.random(rnd, t, -4, 4, 3, 2),
              OracleCases.random(rnd, t, -4, 4, 3, 2)));
      if (t != DType.BOOL) {
        cases.add(
            new OracleCases.Case(
                "ClipByValue scalars" + l,
                "ClipByValue",
                attrs,
                Tol.EXACT,
                OracleCases.random(rnd, t, -4, 4, 4, 5),
                OracleCases.of(t, new long[0], -1),
                OracleCases.of(t, new long[0], 2)));
        cases.add(
            new OracleCases.Case(
                "ClipByValue tensors" + l,
                "ClipByValue",
                attrs,
                Tol.EXACT,
                OracleCases.random(rnd, t, -4, 4, 6),
                OracleCases.random(rnd, t, -4, 0, 6),
                OracleCases.random(rnd, t, 0, 4, 6)));
      }
    }
    OracleCases.check(cases, WORST);
  }

  @Test
  void addNMatchesTensorFlowLeftToRight() {
    Random rnd = new Random(5);
    List<OracleCases.Case> cases = new ArrayList<>();
    for (DType t : NUMBERS) {
      for (int n : new int[] {1, 2, 3, 8, 9, 12, 17, 26}) {
        Value[] in = new Value[n];
        for (int i = 0; i < n; i++) {
          in[i] = OracleCases.random(rnd, t, -1000, 1000, 4, 6);
        }
        Map<String, AttrValue> attrs = OracleCases.typeAttr(t);
        attrs.put("N", new AttrValue.Int(n));
        // Up to 9 inputs TensorFlow adds left to right as tfport does; beyond, in groups whose
        // order it picks.
        // Half types round at every step, so their sums of up to 26 terms may differ by a few ulps
        // of the largest
        // partial sum.
        Tol tol =
            n <= 9 || !t.isFloating()
                ? Tol.EXACT
                : switch (t) {
                  case FLOAT32 -> new Tol(1e-4, 1e-6);
                  case FLOAT64 -> new Tol(1e-12, 1e-14);
                  case FLOAT16 -> new Tol(8, 0);
                  default -> new Tol(64, 0);
                };
        cases.add(new OracleCases.Case("AddN " + t.jsName() + " x" + n, "AddN", attrs, tol, in));
      }
    }
    OracleCases.check(cases, WORST);
  }

  /** TensorFlow has no Prelu op; TF.js's is max(x, 0) + alpha·min(x, 0), computed here. */
  @Test
  void preluIsReluPlusScaledNegativePart() {
    Random rnd = new Random(3);
    Value x = OracleCases.random(rnd, DType.FLOAT32, -3, 3, 2, 3);
    Value alpha = OracleCases.random(rnd, DType.FLOAT32, 0, 0.5, 3);
    float[] want = new float[6];
    for (int i = 0; i < 6; i++) {
      float v = x.floats()[i];
      want[i] = Math.max(v, 0) + alpha.floats()[i % 3] * Math.min(v, 0);
    }
    Value got = OpOracle.runKernel("Prelu", OracleCases.typeAttr(DType.FLOAT32), x, alpha)[0];
    OracleCases.compare("Prelu", got, Value.floats(new long[] {2, 3}, want), Tol.EXACT);
  }

  @Test
  void integerDivisionByZeroFailsLikeTensorFlow() {
    for (String op : List.of("Div", "FloorDiv", "FloorMod", "TruncateDiv", "Mod")) {
      Value x = Value.ints(new long[] {2}, 7, 8);
      Value y = Value.ints(new long[] {2}, 1, 0);
      Map<String, AttrValue> attrs = OracleCases.typeAttr(DType.INT32);
      // TensorFlow's TruncateDiv fails with "Unexpected error in binary operator", the others name
      // the cause.
      assertThatThrownBy(() -> OpOracle.runTensorFlow(op, attrs, 1, x, y))
          .as(op + " in TensorFlow")
          .hasMessageContaining(op.equals("TruncateDiv") ? "error" : "division by zero");
      assertThatThrownBy(() -> OpOracle.runKernel(op, attrs, x, y))
          .as(op)
          .isInstanceOf(KernelException.class)
          .hasMessage("Integer division by zero");
    }
  }

  @Test
  void shapesThatDoNotBroadcastAreRejected() {
    Value a = Value.floats(new long[] {2, 3}, new float[6]);
    Value b = Value.floats(new long[] {4}, new float[4]);
    assertThatThrownBy(() -> OpOracle.runKernel("Add", OracleCases.typeAttr(DType.FLOAT32), a, b))
        .isInstanceOf(KernelException.class)
        .hasMessage("Incompatible shapes: [2, 3] vs. [4]");
  }

  @Test
  void broadcastCoalescesSameShapeAndScalarOperandsIntoOneRow() {
    List<int[]> rows = new ArrayList<>();
    Broadcast.of(new long[] {2, 3, 4}, new long[0])
        .forEachRow((o, in, n) -> rows.add(new int[] {o, in[0], in[1], n}));
    assertThat(rows).containsExactly(new int[] {0, 0, 0, 24});
    rows.clear();
    Broadcast b = Broadcast.of(new long[] {2, 1, 3}, new long[] {4, 1});
    b.forEachRow((o, in, n) -> rows.add(new int[] {o, in[0], in[1], n}));
    assertThat(b.shape()).containsExactly(2, 4, 3);
    assertThat(rows).hasSize(8);
    assertThat(rows.get(5)).containsExactly(15, 3, 1, 3);
    assertThat(b.step(0)).isEqualTo(1);
    assertThat(b.step(1)).isZero();
  }

  @AfterAll
  static void report() {
    System.out.print("BinaryOpsTest worst |a-b|/max(1,|b|) per op:\n" + WORST.summary());
  }
}
