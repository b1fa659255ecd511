package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.runtime.ops.OpOracle.attrs;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.Value;
import org.tfport.testkit.OracleTest;

/**
 * AsString against TensorFlow 2.18 (its printf): every fill flag, widths, precisions and the three
 * float notations, on values that stress rounding (ties, carries into a new digit, tiny and huge
 * magnitudes, signed zero, infinities, NaN); output strings exact.
 */
@OracleTest
class AsStringTest {
  private static final String[] FILLS = {"", " ", "+", "-", "0", "#"};
  private static final int[] WIDTHS = {-1, 0, 9, 24};
  private static final int[] PRECISIONS = {-1, 0, 1, 3, 12};

  private static float[] floats(Random rnd) {
    List<Float> v =
        new ArrayList<>(
            List.of(
                0f,
                -0f,
                1f,
                -1f,
                0.5f,
                1.5f,
                2.5f,
                9.9999995f,
                99.5f,
                0.125f,
                1e-5f,
                1.234e-7f,
                123456.78f,
                3.4028235e38f,
                1.4e-45f,
                Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY,
                Float.NaN,
                0.0001f,
                999999.5f,
                1e15f));
    for (int k = 0; k < 20; k++) {
      v.add((float) ((rnd.nextDouble() * 2 - 1) * Math.pow(10, rnd.nextInt(20) - 8)));
    }
    float[] a = new float[v.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = v.get(i);
    }
    return a;
  }

  private static void same(DType t, Map<String, AttrValue> a, Value x) {
    Value ours = OpOracle.runKernel("AsString", a, x)[0];
    Value theirs = StringOracle.run("AsString", a, 1, x).get(0);
    ExactOracle.assertSame("AsString " + a, ours, theirs);
  }

  private static Map<String, AttrValue> format(
      DType t, String fill, int width, int precision, char mode) {
    return attrs(
        "T", OpOracle.type(t),
        "fill", AttrValue.Str.of(fill),
        "width", new AttrValue.Int(width),
        "precision", new AttrValue.Int(precision),
        "scientific", new AttrValue.Bool(mode == 'e'),
        "shortest", new AttrValue.Bool(mode == 'g'));
  }

  @Test
  void floatsMatchTensorFlowUnderEveryFlag() {
    Random rnd = new Random(31);
    float[] f = floats(rnd);
    Value x32 = Value.floats(new long[] {f.length}, f);
    double[] d = new double[f.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = i % 3 == 0 ? f[i] : f[i] * (1 + 1e-9 * i);
    }
    Value x64 = Value.doubles(new long[] {d.length}, d);
    int runs = 0;
    for (String fill : FILLS) {
      for (char mode : new char[] {'f', 'e', 'g'}) {
        int width = WIDTHS[rnd.nextInt(WIDTHS.length)];
        int precision = PRECISIONS[rnd.nextInt(PRECISIONS.length)];
        same(DType.FLOAT32, format(DType.FLOAT32, fill, width, precision, mode), x32);
        same(DType.FLOAT64, format(DType.FLOAT64, fill, width, precision, mode), x64);
        runs += 2;
      }
    }
    for (int p : PRECISIONS) {
      same(DType.FLOAT64, format(DType.FLOAT64, "", -1, p, 'g'), x64);
      runs++;
    }
    same(DType.FLOAT32, attrs("T", OpOracle.type(DType.FLOAT32)), x32);
    assertThat(runs).isEqualTo(41);
  }

  @Test
  void integersAndBooleansMatchTensorFlow() {
    Value i32 = Value.ints(new long[] {6}, 0, -1, 42, Integer.MAX_VALUE, Integer.MIN_VALUE, 123456);
    Value i64 = Value.longs(new long[] {4}, Long.MIN_VALUE, Long.MAX_VALUE, 0, -77);
    Value u8 = Value.of(DType.UINT8, new long[] {3}, new byte[] {0, 127, (byte) 255});
    for (String fill : FILLS) {
      for (int width : WIDTHS) {
        same(DType.INT32, format(DType.INT32, fill, width, -1, 'f'), i32);
      }
      same(DType.INT64, format(DType.INT64, fill, 22, -1, 'f'), i64);
      same(DType.UINT8, format(DType.UINT8, fill, 5, -1, 'f'), u8);
    }
    same(
        DType.BOOL,
        attrs("T", OpOracle.type(DType.BOOL)),
        Value.bools(new long[] {2, 1}, (byte) 1, (byte) 0));
  }

  @Test
  void rejectsWhatTensorFlowRejects() {
    Value x = Value.floats(new long[] {1}, 1f);
    rejects(format(DType.FLOAT32, "x", -1, -1, 'f'), "fill", x);
    rejects(
        attrs(
            "T", OpOracle.type(DType.FLOAT32),
            "scientific", new AttrValue.Bool(true),
            "shortest", new AttrValue.Bool(true)),
        "scientific and shortest",
        x);
    rejects(format(DType.INT32, "", -1, 2, 'f'), "precision", Value.ints(new long[] {1}, 1));
  }

  private static void rejects(Map<String, AttrValue> a, String fragment, Value x) {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> OpOracle.runKernel("AsString", a, x))
        .isInstanceOf(org.tfport.runtime.kernel.KernelException.class)
        .hasMessageContaining(fragment);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> StringOracle.run("AsString", a, 1, x))
        .as("TensorFlow rejects " + a)
        .isInstanceOf(RuntimeException.class);
  }
}
