package org.tfport.runtime.ops;

import static org.tfport.runtime.ops.NnTesting.b;
import static org.tfport.runtime.ops.NnTesting.random;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.NnTesting.TfGraph;
import org.tfport.runtime.ops.NnTesting.Worst;
import org.tfport.testkit.OracleTest;

/**
 * MaxPool, MaxPoolV2, AvgPool, MaxPool3D, AvgPool3D and MaxPoolWithArgmax against TensorFlow 2.18
 * on random shapes (windows 1–4, strides 1–3, every padding, both formats; the 3-D ops are
 * float32-only in TF). Max pooling is exact; averages within |a−b| ≤ 1e-6 + 1e-5·|b| (float32) and
 * 1e-12 + 1e-10·|b| (float64).
 */
@OracleTest
class PoolOpsTest {
  static final Worst WORST = new Worst();

  @AfterAll
  static void report() {
    System.out.print("PoolOpsTest worst differences:\n" + WORST);
  }

  static Map<String, AttrValue> poolAttrs(ConvCase c, DType t) {
    Map<String, AttrValue> m = c.convAttrs(t);
    m.remove("dilations");
    m.put("ksize", c.perDim(c.window()));
    return m;
  }

  static Value tensorFlow(ConvCase c, String op, DType t, Value x) {
    TfGraph g = new TfGraph();
    String y = g.op(op, poolAttrs(c.toChannelsLast(), t), c.channelsLast(g, g.input(x), t));
    return g.run(c.fromChannelsLast(g, y, t)).get(0);
  }

  private static void compare(String op, int rank, String[] paddings, int cases, long seed) {
    Random rnd = new Random(seed);
    boolean max = op.startsWith("Max");
    for (int k = 0; k < cases; k++) {
      DType t = k % 5 == 4 && rank == 2 ? DType.FLOAT64 : DType.FLOAT32;
      ConvCase c = ConvCase.random(rnd, rank, 4, 1, paddings, k % 2 == 1).withPadsBelowWindow();
      Value x = random(rnd, t, c.inputShape());
      Value mine = OpOracle.runKernel(op, poolAttrs(c, t), x)[0];
      Value expected = tensorFlow(c, op, t, x);
      if (max) {
        WORST.check(op + " " + t.jsName(), c.toString(), mine, expected, 0, 0);
      } else if (t == DType.FLOAT32) {
        WORST.check(op + " float32", c.toString(), mine, expected, 1e-6, 1e-5);
      } else {
        WORST.check(op + " float64", c.toString(), mine, expected, 1e-12, 1e-10);
      }
    }
  }

  @Test
  void maxPoolMatchesTensorFlow() {
    compare("MaxPool", 2, new String[] {"VALID", "SAME", "EXPLICIT"}, 40, 41);
  }

  @Test
  void avgPoolMatchesTensorFlow() {
    compare("AvgPool", 2, new String[] {"VALID", "SAME"}, 40, 42);
  }

  @Test
  void pool3dMatchesTensorFlow() {
    compare("MaxPool3D", 3, new String[] {"VALID", "SAME"}, 14, 43);
    compare("AvgPool3D", 3, new String[] {"VALID", "SAME"}, 14, 44);
  }

  @Test
  void explicitPaddingMustBeSmallerThanTheWindow() {
    ConvCase c =
        new ConvCase(
            1,
            new int[] {4, 4},
            1,
            new int[] {2, 2},
            new int[] {1, 1},
            new int[] {1, 1},
            "EXPLICIT",
            new int[][] {{2, 0}, {0, 0}},
            false);
    Value x = random(new Random(48), DType.FLOAT32, c.inputShape());
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> OpOracle.runKernel("MaxPool", poolAttrs(c, DType.FLOAT32), x))
        .isInstanceOf(org.tfport.runtime.kernel.KernelException.class)
        .hasMessageContaining("padding 2 is not smaller than the window size 2");
  }

  @Test
  void maxPoolOfIntegersMatchesTensorFlow() {
    Random rnd = new Random(45);
    for (int k = 0; k < 4; k++) {
      ConvCase c = ConvCase.random(rnd, 2, 3, 1, new String[] {"VALID", "SAME"}, false);
      int[] v = new int[(int) Value.elementCount(c.inputShape())];
      for (int i = 0; i < v.length; i++) {
        v[i] = rnd.nextInt(2001) - 1000;
      }
      Value x = Value.ints(c.inputShape(), v);
      Map<String, AttrValue> attrs = poolAttrs(c, DType.INT32);
      WORST.check(
          "MaxPool int32",
          c.toString(),
          OpOracle.runKernel("MaxPool", attrs, x)[0],
          OpOracle.runTensorFlow("MaxPool", attrs, 1, x).get(0),
          0,
          0);
    }
  }

  @Test
  void maxPoolV2TakesWindowAsInputs() {
    Random rnd = new Random(46);
    for (int k = 0; k < 8; k++) {
      ConvCase c = ConvCase.random(rnd, 2, 4, 1, new String[] {"VALID", "SAME"}, false);
      Value x = random(rnd, DType.FLOAT32, c.inputShape());
      Value ksize = NnTesting.intVector(1, c.window()[0], c.window()[1], 1);
      Value strides = NnTesting.intVector(1, c.strides()[0], c.strides()[1], 1);
      Map<String, AttrValue> attrs =
          OpOracle.attrs(
              "T",
              OpOracle.type(DType.FLOAT32),
              "padding",
              NnTesting.str(c.padding()),
              "data_format",
              NnTesting.str("NHWC"));
      WORST.check(
          "MaxPoolV2 float32",
          c.toString(),
          OpOracle.runKernel("MaxPoolV2", attrs, x, ksize, strides)[0],
          OpOracle.runTensorFlow("MaxPoolV2", attrs, 1, x, ksize, strides).get(0),
          0,
          0);
    }
  }

  @Test
  void maxPoolWithArgmaxMatchesTensorFlow() {
    Random rnd = new Random(47);
    for (int k = 0; k < 12; k++) {
      ConvCase c = ConvCase.random(rnd, 2, 4, 1, new String[] {"VALID", "SAME"}, false);
      DType t = k % 3 == 2 ? DType.FLOAT64 : DType.FLOAT32;
      Value x = random(rnd, t, c.inputShape());
      if (k == 0) {
        x = Value.zeros(t, c.inputShape());
      }
      Map<String, AttrValue> attrs = poolAttrs(c, t);
      attrs.remove("data_format");
      attrs.put("include_batch_in_index", b(k % 2 == 0));
      attrs.put("Targmax", OpOracle.type(k % 4 == 1 ? DType.INT32 : DType.INT64));
      Value[] mine = OpOracle.runKernel("MaxPoolWithArgmax", attrs, x);
      List<Value> tf = OpOracle.runTensorFlow("MaxPoolWithArgmax", attrs, 2, x);
      WORST.check("MaxPoolWithArgmax " + t.jsName(), c.toString(), mine[0], tf.get(0), 0, 0);
      WORST.check("MaxPoolWithArgmax argmax", c.toString(), mine[1], tf.get(1), 0, 0);
    }
  }
}
