package org.tfport.runtime.ops;

import static org.tfport.runtime.ops.NnTesting.b;
import static org.tfport.runtime.ops.NnTesting.f;
import static org.tfport.runtime.ops.NnTesting.i;
import static org.tfport.runtime.ops.NnTesting.random;
import static org.tfport.runtime.ops.NnTesting.str;
import static org.tfport.runtime.ops.NnTesting.strs;

import java.util.ArrayList;
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
 * _FusedConv2D, FusedDepthwiseConv2dNative and _FusedMatMul against the unfused composition run in
 * TensorFlow 2.18 (contraction, then BiasAdd or FusedBatchNormV3, then the activation op); TF's CPU
 * cannot run every fused combination itself. The contraction runs in its own session: in one graph
 * grappler would fuse the composition back into _FusedConv2D (and then fail on [FusedBatchNorm,
 * Tanh]). Tolerance |a−b| ≤ 1e-5 + 1e-4·|b| (float32), 1e-12 + 1e-10·|b| (float64).
 */
@OracleTest
class FusedConvOpsTest {
  static final String[] ACTIVATIONS = {
    "", "Relu", "Relu6", "Elu", "Selu", "LeakyRelu", "Sigmoid", "Tanh", "Prelu"
  };
  static final Worst WORST = new Worst();

  @AfterAll
  static void report() {
    System.out.print("FusedConvOpsTest worst differences:\n" + WORST);
  }

  /**
   * The fused ops' operands and attributes for one combination, and how TensorFlow composes them.
   */
  record Fusion(boolean batchNorm, String activation, List<Value> args, float alpha) {
    static Fusion random(Random rnd, DType t, int channels, boolean batchNorm, String activation) {
      List<Value> args = new ArrayList<>();
      if (batchNorm) {
        args.add(NnTesting.random(rnd, t, channels));
        args.add(NnTesting.random(rnd, t, channels));
        args.add(NnTesting.random(rnd, t, channels));
        Value v = NnTesting.random(rnd, t, channels);
        double[] d = Reals.read(v);
        for (int k = 0; k < d.length; k++) {
          d[k] = Math.abs(d[k]) + 0.1;
        }
        args.add(Reals.write(t, v.shape(), d));
      } else {
        args.add(NnTesting.random(rnd, t, channels));
      }
      if (activation.equals("Prelu")) {
        args.add(NnTesting.random(rnd, t, channels));
      }
      return new Fusion(batchNorm, activation, args, 0.1f + rnd.nextFloat() * 0.4f);
    }

    void addAttrs(Map<String, AttrValue> attrs) {
      List<String> ops = new ArrayList<>(List.of(batchNorm ? "FusedBatchNorm" : "BiasAdd"));
      if (!activation.isEmpty()) {
        ops.add(activation);
      }
      attrs.put("fused_ops", strs(ops.toArray(new String[0])));
      attrs.put("num_args", i(args.size()));
      attrs.put(
          "TArgs", AttrValue.ListAttr.ofTypes(args.stream().map(v -> v.dtype().tfEnum()).toList()));
      attrs.put("epsilon", f(0.001f));
      attrs.put("leakyrelu_alpha", f(alpha));
    }

    Value[] inputs(Value a, Value b) {
      List<Value> in = new ArrayList<>(List.of(a, b));
      in.addAll(args);
      return in.toArray(new Value[0]);
    }

    /** The unfused ops after {@code y} (channels last) in TensorFlow. */
    String compose(TfGraph g, String y, DType t) {
      Map<String, AttrValue> typed = OpOracle.attrs("T", OpOracle.type(t));
      String z;
      if (batchNorm && t == DType.FLOAT64) {
        // FusedBatchNormV3 is float-only: float64 goes through its definition.
        String rs =
            g.op(
                "Rsqrt",
                typed,
                g.op(
                    "Add",
                    typed,
                    g.input(args.get(3)),
                    g.input(Reals.write(t, new long[0], new double[] {0.001f}))));
        String centered = g.op("Sub", typed, y, g.input(args.get(2)));
        z =
            g.op(
                "AddV2",
                typed,
                g.op("Mul", typed, centered, g.op("Mul", typed, rs, g.input(args.get(0)))),
                g.input(args.get(1)));
      } else if (batchNorm) {
        z =
            g.op(
                "FusedBatchNormV3",
                OpOracle.attrs(
                    "T",
                    OpOracle.type(t),
                    "U",
                    OpOracle.type(t),
                    "epsilon",
                    f(0.001f),
                    "is_training",
                    b(false),
                    "data_format",
                    str("NHWC")),
                y,
                g.input(args.get(0)),
                g.input(args.get(1)),
                g.input(args.get(2)),
                g.input(args.get(3)));
      } else {
        z =
            g.op(
                "BiasAdd",
                OpOracle.attrs("T", OpOracle.type(t), "data_format", str("NHWC")),
                y,
                g.input(args.get(0)));
      }
      return switch (activation) {
        case "" -> z;
        case "LeakyRelu" ->
            g.op("LeakyRelu", OpOracle.attrs("T", OpOracle.type(t), "alpha", f(alpha)), z);
        case "Prelu" -> {
          String negative =
              g.op("Less", typed, z, g.input(Reals.write(t, new long[0], new double[] {0})));
          String scaled = g.op("Mul", typed, g.input(args.get(args.size() - 1)), z);
          yield g.op("SelectV2", typed, negative, scaled, z);
        }
        default -> g.op(activation, typed, z);
      };
    }
  }

  static void check(String op, DType t, String what, Value actual, Value expected) {
    if (t == DType.FLOAT32) {
      WORST.check(op + " float32", what, actual, expected, 1e-5, 1e-4);
    } else {
      WORST.check(op + " float64", what, actual, expected, 1e-12, 1e-10);
    }
  }

  @Test
  void fusedConv2dMatchesComposition() {
    Random rnd = new Random(21);
    String[] paddings = {"VALID", "SAME", "EXPLICIT"};
    int k = 0;
    for (boolean batchNorm : new boolean[] {false, true}) {
      for (String act : ACTIVATIONS) {
        for (int rep = 0; rep < 2; rep++, k++) {
          DType t = k % 4 == 3 ? DType.FLOAT64 : DType.FLOAT32;
          ConvCase c = ConvCase.random(rnd, 2, 3, 2, paddings, rep == 1 && !act.equals("Prelu"));
          int out = 1 + rnd.nextInt(4);
          Value x = random(rnd, t, c.inputShape());
          Value w = random(rnd, t, c.filterShape(c.channels(), out));
          Fusion fusion = Fusion.random(rnd, t, out, batchNorm, act);
          Map<String, AttrValue> attrs = c.convAttrs(t);
          fusion.addAttrs(attrs);
          Value mine = OpOracle.runKernel("_FusedConv2D", attrs, fusion.inputs(x, w))[0];
          TfGraph g = new TfGraph();
          String y =
              g.op(
                  "Conv2D",
                  c.toChannelsLast().convAttrs(t),
                  c.channelsLast(g, g.input(x), t),
                  g.input(w));
          TfGraph g2 = new TfGraph();
          String z = c.fromChannelsLast(g2, fusion.compose(g2, g2.input(g.run(y).get(0)), t), t);
          check("_FusedConv2D", t, c + " " + attrs.get("fused_ops"), mine, g2.run(z).get(0));
        }
      }
    }
  }

  @Test
  void fusedConv2dMatchesTensorFlowsOwnKernel() {
    // TF's CPU runs _FusedConv2D itself for BiasAdd with Relu, Relu6, Elu and LeakyRelu in NHWC.
    Random rnd = new Random(22);
    String[] acts = {"", "Relu", "Relu6", "Elu", "LeakyRelu"};
    for (int k = 0; k < 10; k++) {
      ConvCase c = ConvCase.random(rnd, 2, 3, 1, new String[] {"VALID", "SAME"}, false);
      int out = 1 + rnd.nextInt(4);
      Value x = random(rnd, DType.FLOAT32, c.inputShape());
      Value w = random(rnd, DType.FLOAT32, c.filterShape(c.channels(), out));
      Fusion fusion = Fusion.random(rnd, DType.FLOAT32, out, false, acts[k % acts.length]);
      Map<String, AttrValue> attrs = c.convAttrs(DType.FLOAT32);
      fusion.addAttrs(attrs);
      Value[] in = fusion.inputs(x, w);
      Value mine = OpOracle.runKernel("_FusedConv2D", attrs, in)[0];
      check(
          "_FusedConv2D (TF kernel)",
          DType.FLOAT32,
          c + " " + attrs.get("fused_ops"),
          mine,
          OpOracle.runTensorFlow("_FusedConv2D", attrs, 1, in).get(0));
    }
  }

  @Test
  void fusedDepthwiseMatchesComposition() {
    Random rnd = new Random(23);
    int k = 0;
    for (boolean batchNorm : new boolean[] {false, true}) {
      for (String act : ACTIVATIONS) {
        DType t = k++ % 4 == 3 ? DType.FLOAT64 : DType.FLOAT32;
        ConvCase c = ConvCase.random(rnd, 2, 3, 1, new String[] {"VALID", "SAME"}, false);
        int[] s = {c.strides()[0], c.strides()[0]};
        c =
            new ConvCase(
                c.batch(),
                c.spatial(),
                c.channels(),
                c.window(),
                s,
                c.dilations(),
                c.padding(),
                c.pads(),
                false);
        int multiplier = 1 + rnd.nextInt(3);
        Value x = random(rnd, t, c.inputShape());
        Value w = random(rnd, t, c.filterShape(c.channels(), multiplier));
        Fusion fusion = Fusion.random(rnd, t, c.channels() * multiplier, batchNorm, act);
        Map<String, AttrValue> attrs = c.convAttrs(t);
        fusion.addAttrs(attrs);
        Value mine =
            OpOracle.runKernel("FusedDepthwiseConv2dNative", attrs, fusion.inputs(x, w))[0];
        Value y = OpOracle.runTensorFlow("DepthwiseConv2dNative", c.convAttrs(t), 1, x, w).get(0);
        TfGraph g = new TfGraph();
        check(
            "FusedDepthwiseConv2dNative",
            t,
            c + " " + attrs.get("fused_ops"),
            mine,
            g.run(fusion.compose(g, g.input(y), t)).get(0));
      }
    }
  }
}
