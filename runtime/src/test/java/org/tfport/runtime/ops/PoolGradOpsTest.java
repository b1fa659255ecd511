package org.tfport.runtime.ops;

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
 * MaxPoolGrad, MaxPoolGradV2 and AvgPoolGrad against TensorFlow 2.18 on random shapes, windows 1–4,
 * strides 1–3, VALID and SAME, both data formats (the oracle runs channels-last). Max-pool inputs
 * are small integers, so windows hold ties and the first-maximum rule is exercised. Tolerance |a−b|
 * ≤ 1e-6 + 1e-6·|b| for float32, 1e-13 + 1e-13·|b| for float64.
 */
@OracleTest
class PoolGradOpsTest {
  private static final Worst WORST = new Worst();

  @AfterAll
  static void report() {
    System.out.print("PoolGradOpsTest worst differences:\n" + WORST);
  }

  private static void check(String op, DType t, String what, Value actual, Value expected) {
    if (t == DType.FLOAT32) {
      WORST.check(op + " float32", what, actual, expected, 1e-6, 1e-6);
    } else {
      WORST.check(op + " float64", what, actual, expected, 1e-13, 1e-13);
    }
  }

  private static Map<String, AttrValue> attrs(DType t, ConvCase c, boolean windowAttrs) {
    Map<String, AttrValue> a =
        OpOracle.attrs(
            "T",
            OpOracle.type(t),
            "padding",
            NnTesting.str(c.padding()),
            "data_format",
            NnTesting.str(c.format()));
    if (windowAttrs) {
      a.put("ksize", c.perDim(c.window()));
      a.put("strides", c.perDim(c.strides()));
    }
    return a;
  }

  /** ksize or strides as MaxPoolGradV2's input vector, in the case's layout. */
  private static Value perDimVector(ConvCase c, int[] spatial) {
    return NnTesting.intVector(
        ((AttrValue.ListAttr) c.perDim(spatial)).i().stream().mapToLong(Long::longValue).toArray());
  }

  private static ConvCase poolCase(Random rnd, boolean channelsFirst) {
    return ConvCase.random(rnd, 2, 4, 1, new String[] {"VALID", "SAME"}, channelsFirst);
  }

  @Test
  void maxPoolGradMatchesTensorFlow() {
    Random rnd = new Random(161);
    for (int k = 0; k < 40; k++) {
      DType t = k % 5 == 4 ? DType.FLOAT64 : DType.FLOAT32;
      boolean v2 = k % 3 == 2;
      ConvCase c = poolCase(rnd, k % 2 == 1);
      Value x = OracleCases.smallInts(rnd, t, -3, 3, c.inputShape());
      long[] outShape = c.outputShape(c.channels());
      Value dy = NnTesting.random(rnd, t, outShape);
      String op = v2 ? "MaxPoolGradV2" : "MaxPoolGrad";
      // MaxPoolGrad's orig_output only fixes the shape: TensorFlow recomputes the maxima from
      // orig_input.
      Value y = Value.zeros(t, outShape);
      Value mine =
          v2
              ? OpOracle.runKernel(
                  op,
                  attrs(t, c, false),
                  x,
                  y,
                  dy,
                  perDimVector(c, c.window()),
                  perDimVector(c, c.strides()))[0]
              : OpOracle.runKernel(op, attrs(t, c, true), x, y, dy)[0];
      ConvCase last = c.toChannelsLast();
      TfGraph g = new TfGraph();
      String r =
          g.op(
              "MaxPoolGrad",
              attrs(t, last, true),
              c.channelsLast(g, g.input(x), t),
              c.channelsLast(g, g.input(y), t),
              c.channelsLast(g, g.input(dy), t));
      check("MaxPoolGrad", t, c.toString(), mine, g.run(c.fromChannelsLast(g, r, t)).get(0));
    }
  }

  /**
   * The windows Keras training meets (3x3 at stride 2 and 2x2 at stride 1, SAME, odd and even
   * sizes, so padding falls on both sides or after only) on random floats, where the maximum is
   * unique and a wrong window offset moves the gradient.
   */
  @Test
  void maxPoolGradOfOverlappingPaddedWindowsMatchesTensorFlowOnRandomFloats() {
    Random rnd = new Random(163);
    int[][] configs = {{3, 2}, {2, 1}, {3, 1}};
    int k = 0;
    for (int[] wc : configs) {
      for (int size : new int[] {4, 5, 7, 8}) {
        int[] sp = {size, size + 1};
        ConvCase c =
            new ConvCase(
                2,
                sp,
                3,
                new int[] {wc[0], wc[0]},
                new int[] {wc[1], wc[1]},
                new int[] {1, 1},
                k++ % 2 == 0 ? "SAME" : "VALID",
                new int[2][2],
                false);
        Value x = NnTesting.random(rnd, DType.FLOAT32, c.inputShape());
        long[] outShape = c.outputShape(c.channels());
        Value dy = NnTesting.random(rnd, DType.FLOAT32, outShape);
        Value y = Value.zeros(DType.FLOAT32, outShape);
        Map<String, AttrValue> a = attrs(DType.FLOAT32, c, true);
        Value mine = OpOracle.runKernel("MaxPoolGrad", a, x, y, dy)[0];
        TfGraph g = new TfGraph();
        String r = g.op("MaxPoolGrad", a, g.input(x), g.input(y), g.input(dy));
        check("MaxPoolGrad random floats", DType.FLOAT32, c.toString(), mine, g.run(r).get(0));
      }
    }
  }

  @Test
  void avgPoolGradMatchesTensorFlow() {
    Random rnd = new Random(162);
    for (int k = 0; k < 30; k++) {
      DType t = k % 5 == 4 ? DType.FLOAT64 : DType.FLOAT32;
      ConvCase c = poolCase(rnd, k % 2 == 1);
      Value dy = NnTesting.random(rnd, t, c.outputShape(c.channels()));
      Value mine =
          OpOracle.runKernel(
              "AvgPoolGrad", attrs(t, c, true), NnTesting.intVector(c.inputShape()), dy)[0];
      ConvCase last = c.toChannelsLast();
      TfGraph g = new TfGraph();
      String r =
          g.op(
              "AvgPoolGrad",
              attrs(t, last, true),
              g.input(NnTesting.intVector(last.inputShape())),
              c.channelsLast(g, g.input(dy), t));
      check("AvgPoolGrad", t, c.toString(), mine, g.run(c.fromChannelsLast(g, r, t)).get(0));
    }
  }
}
