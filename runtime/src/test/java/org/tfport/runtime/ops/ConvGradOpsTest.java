package org.tfport.runtime.ops;

import static org.tfport.runtime.ops.NnTesting.random;

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
 * The convolution filter gradients and the depthwise input gradient against TensorFlow 2.18 on
 * random shapes: strides 1–3, every padding the op takes, both data formats (TensorFlow's CPU
 * kernels run channels-last, so the oracle transposes), float32 and float64. TensorFlow's CPU
 * kernels have no dilations here, so cases are undilated. Tolerance |a−b| ≤ 1e-5 + 1e-5·|b| for
 * float32, 1e-12 + 1e-10·|b| for float64.
 */
@OracleTest
class ConvGradOpsTest {
  private static final String[] ALL_PADDINGS = {"VALID", "SAME", "EXPLICIT"};
  private static final String[] NO_EXPLICIT = {"VALID", "SAME"};
  private static final Worst WORST = new Worst();

  @AfterAll
  static void report() {
    System.out.print("ConvGradOpsTest worst differences:\n" + WORST);
  }

  private static void check(String op, DType t, String what, Value actual, Value expected) {
    if (t == DType.FLOAT32) {
      WORST.check(op + " float32", what, actual, expected, 1e-5, 1e-5);
    } else {
      WORST.check(op + " float64", what, actual, expected, 1e-12, 1e-10);
    }
  }

  /** Runs a filter gradient (input, filter_sizes, out_backprop) in TensorFlow, channels-last. */
  private static Value filterGradInTensorFlow(
      ConvCase c,
      String op,
      Map<String, AttrValue> lastAttrs,
      DType t,
      Value x,
      Value sizes,
      Value dy) {
    TfGraph g = new TfGraph();
    String y =
        g.op(
            op,
            lastAttrs,
            c.channelsLast(g, g.input(x), t),
            g.input(sizes),
            c.channelsLast(g, g.input(dy), t));
    return g.run(y).get(0);
  }

  @Test
  void conv2dBackpropFilterMatchesTensorFlow() {
    Random rnd = new Random(151);
    for (int k = 0; k < 30; k++) {
      DType t = k % 5 == 4 ? DType.FLOAT64 : DType.FLOAT32;
      ConvCase c = ConvCase.random(rnd, 2, 4, 1, ALL_PADDINGS, k % 2 == 1);
      int out = 1 + rnd.nextInt(4);
      Value x = random(rnd, t, c.inputShape());
      Value dy = random(rnd, t, c.outputShape(out));
      long[] fs = c.filterShape(c.channels(), out);
      Value sizes = NnTesting.intVector(fs);
      Value mine = OpOracle.runKernel("Conv2DBackpropFilter", c.convAttrs(t), x, sizes, dy)[0];
      check(
          "Conv2DBackpropFilter",
          t,
          c.toString(),
          mine,
          filterGradInTensorFlow(
              c, "Conv2DBackpropFilter", c.toChannelsLast().convAttrs(t), t, x, sizes, dy));
    }
  }

  @Test
  void conv3dBackpropFilterMatchesTensorFlow() {
    Random rnd = new Random(152);
    for (int k = 0; k < 12; k++) {
      DType t = k % 4 == 3 ? DType.FLOAT64 : DType.FLOAT32;
      ConvCase c = ConvCase.random(rnd, 3, 3, 1, NO_EXPLICIT, k % 2 == 1);
      int out = 1 + rnd.nextInt(3);
      Value x = random(rnd, t, c.inputShape());
      Value dy = random(rnd, t, c.outputShape(out));
      Value sizes = NnTesting.intVector(c.filterShape(c.channels(), out));
      Value mine = OpOracle.runKernel("Conv3DBackpropFilterV2", c.convAttrs(t), x, sizes, dy)[0];
      check(
          "Conv3DBackpropFilterV2",
          t,
          c.toString(),
          mine,
          filterGradInTensorFlow(
              c, "Conv3DBackpropFilterV2", c.toChannelsLast().convAttrs(t), t, x, sizes, dy));
    }
  }

  /** A depthwise case TensorFlow's CPU kernels take: equal strides, no dilation. */
  private static ConvCase depthwiseCase(Random rnd, boolean channelsFirst) {
    ConvCase c = ConvCase.random(rnd, 2, 4, 1, ALL_PADDINGS, channelsFirst);
    int[] strides = {c.strides()[0], c.strides()[0]};
    return new ConvCase(
        c.batch(),
        c.spatial(),
        c.channels(),
        c.window(),
        strides,
        c.dilations(),
        c.padding(),
        c.pads(),
        channelsFirst);
  }

  @Test
  void depthwiseBackpropFilterMatchesTensorFlow() {
    Random rnd = new Random(153);
    for (int k = 0; k < 24; k++) {
      DType t = k % 5 == 4 ? DType.FLOAT64 : DType.FLOAT32;
      ConvCase c = depthwiseCase(rnd, k % 2 == 1);
      int multiplier = 1 + rnd.nextInt(3);
      Value x = random(rnd, t, c.inputShape());
      Value dy = random(rnd, t, c.outputShape(c.channels() * multiplier));
      Value sizes = NnTesting.intVector(c.filterShape(c.channels(), multiplier));
      String op = "DepthwiseConv2dNativeBackpropFilter";
      Value mine = OpOracle.runKernel(op, c.convAttrs(t), x, sizes, dy)[0];
      check(
          op,
          t,
          c.toString(),
          mine,
          filterGradInTensorFlow(c, op, c.toChannelsLast().convAttrs(t), t, x, sizes, dy));
    }
  }

  @Test
  void depthwiseBackpropInputMatchesTensorFlow() {
    Random rnd = new Random(154);
    for (int k = 0; k < 24; k++) {
      DType t = k % 5 == 4 ? DType.FLOAT64 : DType.FLOAT32;
      ConvCase c = depthwiseCase(rnd, k % 2 == 1);
      int multiplier = 1 + rnd.nextInt(3);
      Value w = random(rnd, t, c.filterShape(c.channels(), multiplier));
      Value dy = random(rnd, t, c.outputShape(c.channels() * multiplier));
      String op = "DepthwiseConv2dNativeBackpropInput";
      Value mine =
          OpOracle.runKernel(op, c.convAttrs(t), NnTesting.intVector(c.inputShape()), w, dy)[0];
      ConvCase last = c.toChannelsLast();
      TfGraph g = new TfGraph();
      String y =
          g.op(
              op,
              last.convAttrs(t),
              g.input(NnTesting.intVector(last.inputShape())),
              g.input(w),
              c.channelsLast(g, g.input(dy), t));
      check(op, t, c.toString(), mine, g.run(c.fromChannelsLast(g, y, t)).get(0));
    }
  }
}
