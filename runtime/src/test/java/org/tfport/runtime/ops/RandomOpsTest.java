package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.runtime.ops.ExactOracle.t;
import static org.tfport.runtime.ops.OpOracle.attrs;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.Value;
import org.tfport.testkit.OracleTest;

/**
 * Philox random ops against TensorFlow with fixed seeds. Uniform and integer outputs are bit-exact;
 * normals go through log, sqrt, sin and cos, where Java's correctly rounded double functions and
 * glibc's float ones may differ in the last bit, so they are compared within 2 ulps (measured: a
 * few elements in a thousand differ by 1 or 2 ulps).
 */
@OracleTest
class RandomOpsTest {
  private static final long[][] SHAPES = {{}, {1}, {7}, {3, 5}, {2, 3, 4}, {0, 4}, {1031}};

  private static Value shape(long[] dims) {
    return Value.longs(new long[] {dims.length}, dims);
  }

  /** Within {@code ulps} units in the last place of the expected value (exact when 0). */
  private static void near(String what, Value ours, Value theirs, int ulps) {
    assertThat(ours.dtype()).as(what).isEqualTo(theirs.dtype());
    assertThat(ours.shape()).as(what).containsExactly(theirs.shape());
    for (int i = 0; i < theirs.size(); i++) {
      double a = ours.doubleAt(i);
      double b = theirs.doubleAt(i);
      double ulp = theirs.dtype() == DType.FLOAT32 ? Math.ulp((float) b) : Math.ulp(b);
      assertThat(Math.abs(a - b))
          .as(what + "[" + i + "] " + a + " vs " + b)
          .isLessThanOrEqualTo(ulps * ulp);
    }
  }

  private static void compare(String op, Map<String, AttrValue> a, int ulps, List<Value[]> cases) {
    List<OpOracle.Call> calls = new ArrayList<>();
    for (Value[] in : cases) {
      calls.add(new OpOracle.Call(op, a, 1, in));
    }
    List<List<Value>> theirs = OpOracle.runTensorFlow(calls);
    for (int c = 0; c < cases.size(); c++) {
      Value ours = OpOracle.runKernel(op, a, cases.get(c))[0];
      near(op + " case " + c, ours, theirs.get(c).get(0), ulps);
    }
  }

  private static List<Value[]> statelessCases(Value... extra) {
    List<Value[]> cases = new ArrayList<>();
    long[][] seeds = {{0, 0}, {1, 2}, {-7, 123456789012L}, {Long.MAX_VALUE, -1}};
    for (long[] s : SHAPES) {
      for (long[] seed : seeds) {
        Value[] in = new Value[2 + extra.length];
        in[0] = shape(s);
        in[1] = Value.longs(new long[] {2}, seed);
        System.arraycopy(extra, 0, in, 2, extra.length);
        cases.add(in);
      }
    }
    return cases;
  }

  @Test
  void statelessUniformAndNormals() {
    for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
      for (DType seedType : new DType[] {DType.INT64}) {
        Map<String, AttrValue> a = attrs("dtype", t(dt), "T", t(DType.INT64), "Tseed", t(seedType));
        compare("StatelessRandomUniform", a, 0, statelessCases());
        compare("StatelessRandomNormal", a, 2, statelessCases());
        compare("StatelessTruncatedNormal", a, 2, statelessCases());
      }
    }
  }

  @Test
  void statelessIntegers() {
    for (DType dt : new DType[] {DType.INT32, DType.INT64}) {
      Map<String, AttrValue> a =
          attrs("dtype", t(dt), "T", t(DType.INT64), "Tseed", t(DType.INT64));
      Value lo = dt == DType.INT32 ? Value.scalar(-5) : Value.longs(new long[0], -5_000_000_000L);
      Value hi =
          dt == DType.INT32
              ? Value.scalar(1_000_003)
              : Value.longs(new long[0], 7_000_000_000_123L);
      List<Value[]> cases = statelessCases(lo, hi);
      cases.removeIf(c -> c.length != 4);
      compare("StatelessRandomUniformInt", a, 0, cases);
    }
  }

  /** Stateful ops with both seeds set follow TensorFlow's stream from the first run on. */
  @Test
  void seededStatefulOps() {
    long[][] seeds = {{1, 2}, {87654321, 0}, {0, 5}};
    for (long[] s : seeds) {
      for (DType dt : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
        Map<String, AttrValue> a =
            attrs(
                "dtype",
                t(dt),
                "T",
                t(DType.INT64),
                "seed",
                new AttrValue.Int(s[0]),
                "seed2",
                new AttrValue.Int(s[1]));
        List<Value[]> cases = new ArrayList<>();
        for (long[] shape : SHAPES) {
          cases.add(new Value[] {shape(shape)});
        }
        compare("RandomUniform", a, 0, cases);
        compare("RandomStandardNormal", a, 2, cases);
        compare("TruncatedNormal", a, 2, cases);
      }
      Map<String, AttrValue> a =
          attrs(
              "Tout",
              t(DType.INT32),
              "T",
              t(DType.INT64),
              "seed",
              new AttrValue.Int(s[0]),
              "seed2",
              new AttrValue.Int(s[1]));
      compare(
          "RandomUniformInt",
          a,
          0,
          List.<Value[]>of(
              new Value[] {shape(new long[] {5, 7}), Value.scalar(-10), Value.scalar(33)}));
    }
  }

  @Test
  void unseededStreamsDifferAndStayInRange() {
    Map<String, AttrValue> a = attrs("dtype", t(DType.FLOAT32), "T", t(DType.INT64));
    Value x = OpOracle.runKernel("RandomUniform", a, shape(new long[] {1000}))[0];
    Value y = OpOracle.runKernel("RandomUniform", a, shape(new long[] {1000}))[0];
    assertThat(x.floats()).isNotEqualTo(y.floats());
    double mean = 0;
    for (float f : x.floats()) {
      assertThat(f).isBetween(0f, 1f).isNotEqualTo(1f);
      mean += f / 1000.0;
    }
    assertThat(mean).isBetween(0.45, 0.55);
  }
}
