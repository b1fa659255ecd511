package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.tfport.runtime.ops.OracleCases.Tol;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.Value;
import org.tfport.testkit.OracleTest;

/**
 * Reductions, arg-extrema, scans and softmax against TensorFlow 2.18 for every registered dtype.
 * Integer results and Max/Min/All/Any/ArgMax/ArgMin/Cumsum/Cumprod on float32 must be exact; float
 * Sum, Mean, Prod and EuclideanNorm (TensorFlow sums in Eigen's tree order, tfport in double) hold
 * to float32 |a−b| ≤ 1e-5·(1 + |b|) (float64 1e-12, float16 4e-3, bfloat16 3e-2); Softmax and
 * LogSoftmax to {@link OracleCases#approx}.
 */
@OracleTest
class ReductionOpsTest {
  private static final OracleCases.Worst WORST = new OracleCases.Worst();

  private static final Set<DType> NUMBERS =
      EnumSet.of(
          DType.FLOAT32,
          DType.FLOAT64,
          DType.FLOAT16,
          DType.BFLOAT16,
          DType.INT8,
          DType.INT16,
          DType.INT32,
          DType.INT64,
          DType.UINT8,
          DType.UINT16);

  private static Tol sumTolerance(DType t) {
    return switch (t) {
      case FLOAT32 -> new Tol(1e-5, 1e-5);
      case FLOAT64 -> new Tol(1e-12, 1e-12);
      case FLOAT16 -> new Tol(4e-3, 4e-3);
      case BFLOAT16 -> new Tol(3e-2, 3e-2);
      default -> Tol.EXACT;
    };
  }

  private static Value axes(long... a) {
    return Value.ints(
        new long[] {a.length}, java.util.Arrays.stream(a).mapToInt(x -> (int) x).toArray());
  }

  @ParameterizedTest
  @ValueSource(strings = {"Sum", "Mean", "Prod", "Max", "Min", "EuclideanNorm"})
  void reductionsMatchTensorFlow(String op) {
    Random rnd = new Random(op.hashCode());
    boolean computed =
        op.equals("Sum") || op.equals("Mean") || op.equals("Prod") || op.equals("EuclideanNorm");
    List<OracleCases.Case> cases = new ArrayList<>();
    for (DType t : NUMBERS) {
      Tol tol = computed ? sumTolerance(t) : Tol.EXACT;
      for (boolean keep : new boolean[] {false, true}) {
        Map<String, AttrValue> attrs = OracleCases.typeAttr(t);
        attrs.put("keep_dims", new AttrValue.Bool(keep));
        attrs.put("Tidx", OpOracle.type(DType.INT32));
        String l = op + " " + t.jsName() + (keep ? " keep" : "") + " ";
        // Products of integers over their whole range overflow (and wrap) at once; small ones wrap
        // later.
        Value x =
            op.equals("Prod") || op.equals("EuclideanNorm") || !t.isFloating() && op.equals("Mean")
                ? (t.isFloating()
                    ? OracleCases.random(rnd, t, -2, 2, 2, 3, 4)
                    : OracleCases.smallInts(
                        rnd, t, t == DType.UINT8 || t == DType.UINT16 ? 0 : -5, 5, 2, 3, 4))
                : OracleCases.random(rnd, t, -10, 10, 2, 3, 4);
        cases.add(new OracleCases.Case(l + "axis 1", op, attrs, tol, x, axes(1)));
        cases.add(new OracleCases.Case(l + "axes 0,2", op, attrs, tol, x, axes(0, 2)));
        cases.add(new OracleCases.Case(l + "axes -1,-3", op, attrs, tol, x, axes(-1, -3)));
        cases.add(new OracleCases.Case(l + "all axes", op, attrs, tol, x, axes(0, 1, 2)));
        cases.add(new OracleCases.Case(l + "no axes", op, attrs, tol, x, axes()));
        cases.add(new OracleCases.Case(l + "scalar axis", op, attrs, tol, x, Value.scalar(2)));
        cases.add(
            new OracleCases.Case(
                l + "empty reduced",
                op,
                attrs,
                tol,
                OracleCases.random(rnd, t, -1, 1, 3, 0),
                axes(1)));
        cases.add(
            new OracleCases.Case(
                l + "empty kept",
                op,
                attrs,
                tol,
                OracleCases.random(rnd, t, -1, 1, 0, 3),
                axes(1)));
        Map<String, AttrValue> attrs64 = new java.util.LinkedHashMap<>(attrs);
        attrs64.put("Tidx", OpOracle.type(DType.INT64));
        cases.add(
            new OracleCases.Case(
                l + "int64 axes, long row",
                op,
                attrs64,
                tol,
                OracleCases.random(rnd, t, -2, 2, 3, 50),
                Value.longs(new long[] {1}, 1)));
      }
    }
    if (op.equals("Max") || op.equals("Min")) {
      Value specials =
          OracleCases.specials(DType.FLOAT32).reshaped(new long[] {1, OracleCases.SPECIALS.length});
      Map<String, AttrValue> attrs = OracleCases.typeAttr(DType.FLOAT32);
      cases.add(
          new OracleCases.Case(op + " NaN propagates", op, attrs, Tol.EXACT, specials, axes(1)));
    }
    OracleCases.check(cases, WORST);
  }

  @Test
  void allAndAnyMatchTensorFlow() {
    Random rnd = new Random(2);
    List<OracleCases.Case> cases = new ArrayList<>();
    for (String op : List.of("All", "Any")) {
      Map<String, AttrValue> attrs = OpOracle.attrs("keep_dims", new AttrValue.Bool(false));
      for (Value x :
          List.of(
              OracleCases.random(rnd, DType.BOOL, 0, 1, 4, 3),
              OracleCases.random(rnd, DType.BOOL, 0, 1, 0, 2))) {
        cases.add(new OracleCases.Case(op + " axis 0", op, attrs, Tol.EXACT, x, axes(0)));
        cases.add(new OracleCases.Case(op + " axis -1", op, attrs, Tol.EXACT, x, axes(-1)));
        cases.add(new OracleCases.Case(op + " all", op, attrs, Tol.EXACT, x, axes(0, 1)));
      }
    }
    OracleCases.check(cases, WORST);
  }

  @Test
  void argMaxAndArgMinMatchTensorFlow() {
    Random rnd = new Random(4);
    List<OracleCases.Case> cases = new ArrayList<>();
    Set<DType> types = EnumSet.copyOf(NUMBERS);
    types.add(DType.BOOL);
    for (String op : List.of("ArgMax", "ArgMin")) {
      for (DType t : types) {
        for (DType out : List.of(DType.INT32, DType.INT64)) {
          Map<String, AttrValue> attrs =
              OpOracle.attrs("T", OpOracle.type(t), "output_type", OpOracle.type(out));
          // Small integers, so ties are common and the first index must win.
          Value x =
              t.isFloating() || t == DType.BOOL
                  ? OracleCases.smallInts(rnd, t, 0, t == DType.BOOL ? 1 : 3, 3, 4, 5)
                  : OracleCases.smallInts(rnd, t, 0, 3, 3, 4, 5);
          String l = op + " " + t.jsName() + "->" + out.jsName();
          for (int axis : new int[] {0, 1, 2, -1}) {
            cases.add(
                new OracleCases.Case(
                    l + " axis " + axis, op, attrs, Tol.EXACT, x, Value.scalar(axis)));
          }
          cases.add(
              new OracleCases.Case(
                  l + " vector",
                  op,
                  attrs,
                  Tol.EXACT,
                  OracleCases.random(rnd, t, -5, 5, 7),
                  Value.scalar(0)));
        }
      }
    }
    OracleCases.check(cases, WORST);
  }

  @Test
  void cumulativeSumsAndProductsMatchTensorFlow() {
    Random rnd = new Random(6);
    List<OracleCases.Case> cases = new ArrayList<>();
    for (String op : List.of("Cumsum", "Cumprod")) {
      for (DType t : NUMBERS) {
        for (boolean exclusive : new boolean[] {false, true}) {
          for (boolean reverse : new boolean[] {false, true}) {
            Map<String, AttrValue> attrs = OracleCases.typeAttr(t);
            attrs.put("exclusive", new AttrValue.Bool(exclusive));
            attrs.put("reverse", new AttrValue.Bool(reverse));
            attrs.put("Tidx", OpOracle.type(DType.INT32));
            Value x =
                op.equals("Cumprod")
                    ? (t.isFloating()
                        ? OracleCases.random(rnd, t, 0.5, 1.5, 3, 4, 5)
                        : OracleCases.smallInts(rnd, t, 0, 3, 3, 4, 5))
                    : OracleCases.random(rnd, t, -10, 10, 3, 4, 5);
            String l =
                op
                    + " "
                    + t.jsName()
                    + (exclusive ? " exclusive" : "")
                    + (reverse ? " reverse" : "");
            // Eigen's scan accumulates step by step in the element type, as tfport does: exact,
            // halves included.
            for (int axis : new int[] {0, 1, -1}) {
              cases.add(
                  new OracleCases.Case(
                      l + " axis " + axis, op, attrs, Tol.EXACT, x, Value.scalar(axis)));
            }
            cases.add(
                new OracleCases.Case(
                    l + " empty",
                    op,
                    attrs,
                    Tol.EXACT,
                    OracleCases.random(rnd, t, -1, 1, 0, 3),
                    Value.scalar(1)));
          }
        }
      }
    }
    OracleCases.check(cases, WORST);
  }

  @Test
  void softmaxAndLogSoftmaxMatchTensorFlow() {
    Random rnd = new Random(8);
    List<OracleCases.Case> cases = new ArrayList<>();
    for (String op : List.of("Softmax", "LogSoftmax")) {
      for (DType t : List.of(DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16)) {
        Map<String, AttrValue> attrs = OracleCases.typeAttr(t);
        Tol tol = t == DType.FLOAT32 ? new Tol(1e-6, 1e-6) : OracleCases.approx(t);
        cases.add(
            new OracleCases.Case(
                op + " " + t.jsName(), op, attrs, tol, OracleCases.random(rnd, t, -5, 5, 3, 7)));
        // Large logits: without subtracting the maximum, exp overflows.
        cases.add(
            new OracleCases.Case(
                op + " " + t.jsName() + " large",
                op,
                attrs,
                tol,
                OracleCases.random(rnd, t, 80, 100, 2, 2, 5)));
        cases.add(
            new OracleCases.Case(
                op + " " + t.jsName() + " vector",
                op,
                attrs,
                tol,
                OracleCases.random(rnd, t, -3, 3, 9)));
        cases.add(
            new OracleCases.Case(
                op + " " + t.jsName() + " empty",
                op,
                attrs,
                tol,
                OracleCases.random(rnd, t, -3, 3, 0, 4)));
      }
    }
    OracleCases.check(cases, WORST);
  }

  @Test
  void badAxesAreRejected() {
    Value x = Value.floats(new long[] {2, 3}, new float[6]);
    assertThatThrownBy(
            () -> OpOracle.runKernel("Sum", OracleCases.typeAttr(DType.FLOAT32), x, axes(2)))
        .isInstanceOf(KernelException.class)
        .hasMessage("Invalid reduction dimension (2 for input with 2 dimension(s)");
    Value empty = Value.floats(new long[] {2, 0}, new float[0]);
    assertThatThrownBy(
            () ->
                OpOracle.runKernel(
                    "ArgMax", OracleCases.typeAttr(DType.FLOAT32), empty, Value.scalar(1)))
        .isInstanceOf(KernelException.class)
        .hasMessage("Reduction axis 1 is empty in shape [2, 0]");
  }

  @AfterAll
  static void report() {
    System.out.print("ReductionOpsTest worst |a-b|/max(1,|b|) per op:\n" + WORST.summary());
  }
}
