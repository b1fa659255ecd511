package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.runtime.ops.NnTesting.f;
import static org.tfport.runtime.ops.NnTesting.i;
import static org.tfport.runtime.ops.NnTesting.ints;
import static org.tfport.runtime.ops.NnTesting.str;
import static org.tfport.runtime.ops.NnTesting.strs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelRegistry.Mode;
import org.tfport.runtime.kernel.Value;
import org.tfport.testkit.OracleTest;

/**
 * The optimized convolutions (FastConvOps) against the reference kernels (ConvOps, themselves
 * checked against TensorFlow): random NHWC float32 shapes with windows 1–5, strides 1–3, dilations
 * 1–2, VALID/SAME/EXPLICIT padding, channel counts that do not fill a vector or a panel, batch 1–2,
 * channel multipliers 1–3, every fused activation; filters as plan constants (packed at bind) and
 * as run-time inputs. Tolerance |a−b| ≤ 1e-5 + 1e-4·|b|; results on two threads equal those on one
 * bit for bit.
 */
@OracleTest
class FastConvOpsTest {
  static final FastCheck CHECK = new FastCheck();
  static final String[] PADDINGS = {"VALID", "SAME", "EXPLICIT"};
  static final String[] ACTIVATIONS = {
    "", "Relu", "Relu6", "Elu", "Selu", "LeakyRelu", "Sigmoid", "Tanh", "Prelu"
  };

  @AfterAll
  static void report() {
    CHECK.close();
    System.out.print("FastConvOpsTest worst differences:\n" + CHECK.worst());
  }

  /** A random NHWC case; {@code big} makes it large enough to be split over two threads. */
  record Case(
      int batch,
      int h,
      int w,
      int cin,
      int kh,
      int kw,
      int[] strides,
      int[] dilations,
      String padding,
      int[] pads) {
    static Case random(Random rnd, boolean big) {
      int kh = 1 + rnd.nextInt(big ? 3 : 5);
      int kw = 1 + rnd.nextInt(big ? 3 : 5);
      int[] strides = {1 + rnd.nextInt(3), 1 + rnd.nextInt(3)};
      int[] dilations = {1 + rnd.nextInt(2), 1 + rnd.nextInt(2)};
      String padding = PADDINGS[rnd.nextInt(PADDINGS.length)];
      int[] pads = {rnd.nextInt(3), rnd.nextInt(3), rnd.nextInt(3), rnd.nextInt(3)};
      int h = (big ? 14 : 1) + rnd.nextInt(big ? 12 : 10);
      int w = (big ? 14 : 1) + rnd.nextInt(big ? 12 : 10);
      if (!padding.equals("SAME")) {
        int p = padding.equals("EXPLICIT") ? 1 : 0;
        h = Math.max(h, (kh - 1) * dilations[0] + 1 - p * (pads[0] + pads[1]));
        w = Math.max(w, (kw - 1) * dilations[1] + 1 - p * (pads[2] + pads[3]));
      }
      int cin = big ? 8 + rnd.nextInt(40) : 1 + rnd.nextInt(20);
      return new Case(1 + rnd.nextInt(2), h, w, cin, kh, kw, strides, dilations, padding, pads);
    }

    Map<String, AttrValue> attrs() {
      Map<String, AttrValue> m = new LinkedHashMap<>();
      m.put("T", OpOracle.type(DType.FLOAT32));
      m.put("strides", ints(1, strides[0], strides[1], 1));
      m.put("dilations", ints(1, dilations[0], dilations[1], 1));
      m.put("padding", str(padding));
      m.put("data_format", str("NHWC"));
      if (padding.equals("EXPLICIT")) {
        m.put("explicit_paddings", ints(0, 0, pads[0], pads[1], pads[2], pads[3], 0, 0));
      }
      return m;
    }

    Value input(Random rnd) {
      return OpOracle.randomFloats(rnd, batch, h, w, cin);
    }

    @Override
    public String toString() {
      return String.format(
          "%dx%dx%dx%d k%dx%d s%d,%d d%d,%d %s",
          batch,
          h,
          w,
          cin,
          kh,
          kw,
          strides[0],
          strides[1],
          dilations[0],
          dilations[1],
          padding.equals("EXPLICIT") ? "EXPLICIT" + java.util.Arrays.toString(pads) : padding);
    }
  }

  @Test
  void conv2dMatchesReference() {
    Random rnd = new Random(11);
    for (int trial = 0; trial < 60; trial++) {
      Case c = Case.random(rnd, trial % 6 == 0);
      int cout = 1 + rnd.nextInt(trial % 3 == 0 ? 80 : 40);
      Value filter = OpOracle.randomFloats(rnd, c.kh(), c.kw(), c.cin(), cout);
      List<Integer> constants = trial % 4 == 3 ? List.of() : List.of(1);
      CHECK.check(
          "Conv2D",
          "Conv2D " + c + " -> " + cout + " const " + constants,
          "Conv2D",
          c.attrs(),
          constants,
          c.input(rnd),
          filter);
    }
  }

  @Test
  void pointwiseConvIsOneGemm() {
    Random rnd = new Random(12);
    int[][] shapes = {
      {1, 7, 9, 3, 5}, {2, 5, 5, 17, 33}, {1, 14, 14, 32, 64}, {1, 9, 9, 96, 40}, {3, 1, 1, 64, 1}
    };
    for (int[] s : shapes) {
      Map<String, AttrValue> attrs = new LinkedHashMap<>();
      attrs.put("T", OpOracle.type(DType.FLOAT32));
      attrs.put("strides", ints(1, 1, 1, 1));
      attrs.put("padding", str(rnd.nextBoolean() ? "SAME" : "VALID"));
      Value x = OpOracle.randomFloats(rnd, s[0], s[1], s[2], s[3]);
      Value filter = OpOracle.randomFloats(rnd, 1, 1, s[3], s[4]);
      CHECK.check(
          "Conv2D 1x1",
          "Conv2D 1x1 " + java.util.Arrays.toString(s),
          "Conv2D",
          attrs,
          List.of(1),
          x,
          filter);
    }
  }

  @Test
  void fusedConv2dMatchesReference() {
    Random rnd = new Random(13);
    for (int trial = 0; trial < 2 * ACTIVATIONS.length; trial++) {
      Case c = Case.random(rnd, trial % 5 == 0);
      int cout = 1 + rnd.nextInt(48);
      String act = ACTIVATIONS[trial % ACTIVATIONS.length];
      boolean batchNorm = trial >= ACTIVATIONS.length;
      List<Value> inputs =
          new ArrayList<>(
              List.of(c.input(rnd), OpOracle.randomFloats(rnd, c.kh(), c.kw(), c.cin(), cout)));
      Map<String, AttrValue> attrs =
          fusedAttrs(c.attrs(), rnd, inputs, cout, batchNorm, act, false);
      CHECK.check(
          "_FusedConv2D",
          "_FusedConv2D " + c + " -> " + cout + " " + attrs.get("fused_ops"),
          "_FusedConv2D",
          attrs,
          List.of(1),
          inputs.toArray(Value[]::new));
    }
  }

  /**
   * The narrow layers of MobileNet 0.25-style networks, chosen rather than drawn: 8 and 16 output
   * channels (one half-width or one full vector per row, stored in place), 40 and 48 (a full panel
   * then those), 4 and 12 (partial tiles), after an RGB 3×3 stride-2 stem whose window rows are one
   * tap each, dilated along the width or not; depthwise over 8, 9, 12 and 24 channels (half-width
   * vectors, then masked); bias with ReLU6, ReLU or nothing (the tight per-tile loop) and LeakyRelu
   * (the general one), on 1 to 4 threads.
   */
  @Test
  void narrowLayersMatchReference() {
    Random rnd = new Random(21);
    String[] acts = {"Relu6", "Relu", "", "LeakyRelu"};
    int trial = 0;
    for (int cout : new int[] {8, 16, 40, 48, 4, 12}) {
      for (int[] k : new int[][] {{3, 3, 2, 1}, {1, 1, 1, 1}, {3, 3, 1, 2}}) {
        int cin = k[0] == 1 ? 8 : 3;
        Case c =
            new Case(
                1 + trial % 2,
                23 + trial % 3,
                20 + trial % 4,
                cin,
                k[0],
                k[1],
                new int[] {k[2], k[2]},
                new int[] {1, k[3]},
                trial % 2 == 0 ? "SAME" : "VALID",
                new int[4]);
        String act = acts[trial++ % acts.length];
        List<Value> inputs =
            new ArrayList<>(
                List.of(c.input(rnd), OpOracle.randomFloats(rnd, c.kh(), c.kw(), cin, cout)));
        Map<String, AttrValue> attrs = fusedAttrs(c.attrs(), rnd, inputs, cout, false, act, false);
        CHECK.check(
            "_FusedConv2D narrow",
            "_FusedConv2D " + c + " -> " + cout + " " + attrs.get("fused_ops"),
            "_FusedConv2D",
            attrs,
            List.of(1),
            inputs.toArray(Value[]::new));
      }
    }
    for (int channels : new int[] {8, 9, 12, 24}) {
      for (int stride = 1; stride <= 2; stride++) {
        Case c =
            new Case(
                1,
                17 + stride,
                19,
                channels,
                3,
                3,
                new int[] {stride, stride},
                new int[] {1, 1},
                stride == 1 ? "SAME" : "EXPLICIT",
                new int[] {0, 1, 1, 1});
        String act = acts[trial++ % acts.length];
        List<Value> inputs =
            new ArrayList<>(List.of(c.input(rnd), OpOracle.randomFloats(rnd, 3, 3, channels, 1)));
        Map<String, AttrValue> attrs =
            fusedAttrs(c.attrs(), rnd, inputs, channels, false, act, true);
        CHECK.check(
            "FusedDepthwiseConv2dNative narrow",
            "FusedDepthwiseConv2dNative " + c + " " + attrs.get("fused_ops"),
            "FusedDepthwiseConv2dNative",
            attrs,
            List.of(1),
            inputs.toArray(Value[]::new));
      }
    }
  }

  @Test
  void fusedOperandsThatAreNotPerChannelUseTheReferenceEpilogue() {
    Random rnd = new Random(14);
    Case c = new Case(2, 6, 5, 3, 3, 3, new int[] {1, 1}, new int[] {1, 1}, "SAME", new int[4]);
    List<Value> inputs =
        new ArrayList<>(List.of(c.input(rnd), OpOracle.randomFloats(rnd, 3, 3, 3, 4)));
    Map<String, AttrValue> attrs = fusedAttrs(c.attrs(), rnd, inputs, 4, false, "Prelu", false);
    inputs.set(3, OpOracle.randomFloats(rnd, 6, 5, 4)); // PReLU alpha per position and channel
    CHECK.check(
        "_FusedConv2D broadcast",
        "_FusedConv2D with a [6,5,4] alpha",
        "_FusedConv2D",
        attrs,
        List.of(1),
        inputs.toArray(Value[]::new));
  }

  @Test
  void depthwiseMatchesReference() {
    Random rnd = new Random(15);
    for (int trial = 0; trial < 50; trial++) {
      Case c = Case.random(rnd, trial % 5 == 0);
      if (trial < 2) {
        // Large enough to be split over two threads: 3×3 SAME, and 5×5 stride 2 with 33 channels.
        c =
            trial == 0
                ? new Case(
                    1, 32, 32, 64, 3, 3, new int[] {1, 1}, new int[] {1, 1}, "SAME", new int[4])
                : new Case(
                    2, 41, 37, 33, 5, 5, new int[] {2, 2}, new int[] {1, 1}, "SAME", new int[4]);
      } else if (trial % 7 == 0) {
        c =
            new Case(
                c.batch(),
                c.h(),
                c.w(),
                16 * (1 + rnd.nextInt(3)),
                c.kh(),
                c.kw(),
                c.strides(),
                c.dilations(),
                c.padding(),
                c.pads());
      }
      int multiplier = trial % 3 == 0 ? 1 + rnd.nextInt(3) : 1;
      Value filter = OpOracle.randomFloats(rnd, c.kh(), c.kw(), c.cin(), multiplier);
      List<Integer> constants = trial % 4 == 3 ? List.of() : List.of(1);
      CHECK.check(
          "DepthwiseConv2dNative",
          "DepthwiseConv2dNative " + c + " x" + multiplier,
          "DepthwiseConv2dNative",
          c.attrs(),
          constants,
          c.input(rnd),
          filter);
    }
  }

  /**
   * Depthwise layers of few channels (half-width vectors, masked tails): channel counts 1 to 17
   * around the vector's divisors, strides 1 and 2, SAME and VALID, dilations, multipliers 1 and 2,
   * widths that leave a partial group of four pixels, with and without a fused epilogue.
   */
  @Test
  void depthwiseOverFewChannelsMatchesReference() {
    Random rnd = new Random(23);
    int trial = 0;
    for (int channels : new int[] {1, 2, 3, 4, 5, 8, 12, 16, 17}) {
      for (int stride = 1; stride <= 2; stride++) {
        int multiplier = trial % 3 == 2 ? 2 : 1;
        int dilation = trial % 4 == 3 ? 2 : 1;
        Case c =
            new Case(
                1 + trial % 2,
                9 + rnd.nextInt(8),
                11 + rnd.nextInt(24),
                channels,
                3,
                1 + rnd.nextInt(3),
                new int[] {1 + rnd.nextInt(2), stride},
                new int[] {dilation, dilation},
                trial % 2 == 0 ? "SAME" : "VALID",
                new int[4]);
        Value filter = OpOracle.randomFloats(rnd, c.kh(), c.kw(), channels, multiplier);
        CHECK.check(
            "DepthwiseConv2dNative few channels",
            "DepthwiseConv2dNative " + c + " x" + multiplier,
            "DepthwiseConv2dNative",
            c.attrs(),
            trial % 4 == 1 ? List.of() : List.of(1),
            c.input(rnd),
            filter);
        List<Value> inputs = new ArrayList<>(List.of(c.input(rnd), filter));
        Map<String, AttrValue> attrs =
            fusedAttrs(c.attrs(), rnd, inputs, channels * multiplier, false, "Relu6", true);
        CHECK.check(
            "FusedDepthwiseConv2dNative few channels",
            "FusedDepthwiseConv2dNative " + c + " x" + multiplier + " " + attrs.get("fused_ops"),
            "FusedDepthwiseConv2dNative",
            attrs,
            List.of(1),
            inputs.toArray(Value[]::new));
        trial++;
      }
    }
  }

  @Test
  void fusedDepthwiseMatchesReference() {
    Random rnd = new Random(16);
    for (int trial = 0; trial < 2 * ACTIVATIONS.length; trial++) {
      Case c = Case.random(rnd, trial % 5 == 0);
      int multiplier = 1 + rnd.nextInt(2);
      String act = ACTIVATIONS[trial % ACTIVATIONS.length];
      List<Value> inputs =
          new ArrayList<>(
              List.of(
                  c.input(rnd), OpOracle.randomFloats(rnd, c.kh(), c.kw(), c.cin(), multiplier)));
      Map<String, AttrValue> attrs =
          fusedAttrs(
              c.attrs(), rnd, inputs, c.cin() * multiplier, trial >= ACTIVATIONS.length, act, true);
      CHECK.check(
          "FusedDepthwiseConv2dNative",
          "FusedDepthwiseConv2dNative " + c + " x" + multiplier + " " + attrs.get("fused_ops"),
          "FusedDepthwiseConv2dNative",
          attrs,
          List.of(1),
          inputs.toArray(Value[]::new));
    }
  }

  /**
   * [BiasAdd, Add, activation] (a residual block the runtime's Fusion makes): an addend of the
   * output's shape is added per tile; a per-channel one, or one that broadcasts the output larger
   * (batch 1 → 2), goes through the reference epilogue.
   */
  @Test
  void fusedResidualAddMatchesReference() {
    Random rnd = new Random(18);
    String[] acts = {"", "Relu", "LeakyRelu", "Prelu"};
    for (int trial = 0; trial < 24; trial++) {
      Case c = Case.random(rnd, trial % 8 == 0);
      if (trial % 3 == 2) {
        c =
            new Case(
                1,
                c.h(),
                c.w(),
                c.cin(),
                c.kh(),
                c.kw(),
                c.strides(),
                c.dilations(),
                c.padding(),
                c.pads());
      }
      boolean depthwise = trial % 2 == 1;
      int cout = depthwise ? c.cin() : 1 + rnd.nextInt(40);
      String op = depthwise ? "FusedDepthwiseConv2dNative" : "_FusedConv2D";
      Value filter = OpOracle.randomFloats(rnd, c.kh(), c.kw(), c.cin(), depthwise ? 1 : cout);
      List<Value> plain = new ArrayList<>(List.of(c.input(rnd), filter));
      Map<String, AttrValue> biasOnly = fusedAttrs(c.attrs(), rnd, plain, cout, false, "", false);
      long[] outShape =
          OpOracle.runKernel(Mode.REFERENCE, op, biasOnly, List.of(1), plain.toArray(Value[]::new))[
              0]
              .shape();
      long[] addShape =
          switch (trial % 3) {
            case 0 -> outShape;
            case 1 -> new long[] {cout};
            default -> new long[] {2, outShape[1], outShape[2], outShape[3]};
          };
      List<Value> inputs = new ArrayList<>(plain);
      inputs.add(OpOracle.randomFloats(rnd, addShape));
      String act = acts[trial % acts.length];
      List<String> ops = new ArrayList<>(List.of("BiasAdd", "Add"));
      if (!act.isEmpty()) {
        ops.add(act);
      }
      if (act.equals("Prelu")) {
        inputs.add(OpOracle.randomFloats(rnd, cout));
      }
      Map<String, AttrValue> attrs = new LinkedHashMap<>(biasOnly);
      attrs.put("fused_ops", strs(ops.toArray(String[]::new)));
      attrs.put("num_args", i(inputs.size() - 2));
      Value[] in = inputs.toArray(Value[]::new);
      if (trial % 3 == 2) {
        assertThat(OpOracle.runKernel(Mode.OPTIMIZED, op, attrs, List.of(1), in)[0].shape())
            .as("the addend broadcasts the output to batch 2")
            .containsExactly(addShape);
      }
      CHECK.check(
          op + " Add",
          op + " " + c + " " + ops + " addend " + java.util.Arrays.toString(addShape),
          op,
          attrs,
          List.of(1),
          in);
    }
  }

  @Test
  void otherTypesFormatsAndGroupsRunTheReferenceKernel() {
    Random rnd = new Random(17);
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    attrs.put("T", OpOracle.type(DType.FLOAT64));
    attrs.put("strides", ints(1, 1, 1, 1));
    attrs.put("padding", str("SAME"));
    Value x = NnTesting.random(rnd, DType.FLOAT64, 1, 5, 5, 4);
    Value filter = NnTesting.random(rnd, DType.FLOAT64, 3, 3, 4, 6);
    assertSameAsReference("Conv2D", attrs, x, filter);

    attrs.put("T", OpOracle.type(DType.FLOAT32));
    attrs.put("data_format", str("NCHW"));
    assertSameAsReference(
        "Conv2D",
        attrs,
        OpOracle.randomFloats(rnd, 1, 4, 5, 5),
        OpOracle.randomFloats(rnd, 3, 3, 4, 6));

    attrs.put("data_format", str("NHWC"));
    // Grouped: 6 input channels, a filter of 2 input channels, 3 groups.
    assertSameAsReference(
        "Conv2D",
        attrs,
        OpOracle.randomFloats(rnd, 1, 5, 5, 6),
        OpOracle.randomFloats(rnd, 3, 3, 2, 9));

    Kernel k =
        OpOracle.bindKernel(
            Mode.OPTIMIZED,
            "Conv2D",
            attrs,
            List.of(1),
            OpOracle.randomFloats(rnd, 1, 5, 5, 6),
            OpOracle.randomFloats(rnd, 3, 3, 6, 9));
    assertThat(k.getClass().getName())
        .as("the float32 NHWC kernel")
        .startsWith(FastConvOps.class.getName());
  }

  private static void assertSameAsReference(String op, Map<String, AttrValue> attrs, Value... in) {
    Value ref = OpOracle.runKernel(Mode.REFERENCE, op, attrs, List.of(1), in)[0];
    Value opt = OpOracle.runKernel(Mode.OPTIMIZED, op, attrs, List.of(1), in)[0];
    OpOracle.assertClose(op + " " + attrs, opt, ref, 0, 0);
  }

  /** Adds the fused operands to {@code inputs} and the fusion attributes to {@code attrs}. */
  static Map<String, AttrValue> fusedAttrs(
      Map<String, AttrValue> attrs,
      Random rnd,
      List<Value> inputs,
      int channels,
      boolean batchNorm,
      String activation,
      boolean biasOnly) {
    List<String> ops = new ArrayList<>();
    if (batchNorm && !biasOnly) {
      ops.add("FusedBatchNorm");
      for (int k = 0; k < 3; k++) {
        inputs.add(OpOracle.randomFloats(rnd, channels));
      }
      float[] variance = OpOracle.randomFloats(rnd, channels).floats();
      for (int k = 0; k < variance.length; k++) {
        variance[k] = Math.abs(variance[k]) + 0.1f;
      }
      inputs.add(Value.floats(new long[] {channels}, variance));
    } else {
      ops.add("BiasAdd");
      inputs.add(
          batchNorm
              ? OpOracle.randomFloats(rnd, 1, 1, 1, channels)
              : OpOracle.randomFloats(rnd, channels));
    }
    if (!activation.isEmpty()) {
      ops.add(activation);
    }
    if (activation.equals("Prelu")) {
      inputs.add(OpOracle.randomFloats(rnd, channels));
    }
    Map<String, AttrValue> m = new LinkedHashMap<>(attrs);
    m.put("fused_ops", strs(ops.toArray(String[]::new)));
    m.put("num_args", i(inputs.size() - 2));
    m.put("epsilon", f(1e-3f));
    m.put("leakyrelu_alpha", f(0.15f));
    return m;
  }
}
