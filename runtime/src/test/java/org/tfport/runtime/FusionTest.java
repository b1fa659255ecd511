package org.tfport.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.runtime.TestGraphs.constant;
import static org.tfport.runtime.TestGraphs.node;
import static org.tfport.runtime.TestGraphs.placeholder;
import static org.tfport.runtime.TestGraphs.type;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.KernelRegistry.Mode;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.OpOracle;
import org.tfport.runtime.ops.StandardKernels;

/**
 * Plans with fusion run Conv2D / DepthwiseConv2dNative / MatMul + BiasAdd + activation as one fused
 * step and give the same bits as the unfused plan (and as the reference kernels within float
 * rounding); chains whose intermediate values something else sees stay unfused.
 */
class FusionTest {
  private static final KernelRegistry STD = StandardKernels.registry();
  private static final AttrValue F32 = type(DType.FLOAT32);

  private static Value random(Random r, long... shape) {
    float[] v = new float[(int) Value.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return Value.floats(shape, v);
  }

  private static AttrValue ints(long... v) {
    return AttrValue.ListAttr.ofInts(java.util.Arrays.stream(v).boxed().toList());
  }

  /**
   * x [1,9,7,5] → conv 3×3 stride 2 SAME (8 channels) → BiasAdd → act → depthwise → BiasAdd → act.
   */
  private static Graph convGraph(Random r, String act1, String act2) {
    Graph g = new Graph("fusion-test");
    g.add(placeholder("x", DType.FLOAT32, 1, 9, 7, 5));
    g.add(constant("w", random(r, 3, 3, 5, 8)));
    g.add(constant("b", random(r, 8)));
    g.add(constant("dw", random(r, 3, 3, 8, 1)));
    g.add(constant("db", random(r, 8)));
    g.add(constant("alpha", random(r, 8)));
    AttrValue same = AttrValue.Str.of("SAME");
    g.add(
        node(
            "conv",
            "Conv2D",
            List.of("x", "w"),
            "T",
            F32,
            "strides",
            ints(1, 2, 2, 1),
            "padding",
            same));
    g.add(node("bias", "BiasAdd", List.of("conv", "b"), "T", F32));
    g.add(activation("act", act1, "bias"));
    g.add(
        node(
            "dconv",
            "DepthwiseConv2dNative",
            List.of("act", "dw"),
            "T",
            F32,
            "strides",
            ints(1, 1, 1, 1),
            "padding",
            same));
    g.add(node("dbias", "BiasAdd", List.of("dconv", "db"), "T", F32));
    g.add(activation("y", act2, "dbias"));
    return g;
  }

  private static org.tfport.core.graph.Node activation(String name, String op, String in) {
    return switch (op) {
      case "Prelu" -> node(name, op, List.of(in, "alpha"), "T", F32);
      case "LeakyRelu" -> node(name, op, List.of(in), "T", F32, "alpha", new AttrValue.Float(0.3f));
      default -> node(name, op, List.of(in), "T", F32);
    };
  }

  private static Value run(Plan p, Value x) {
    return p.run(new Value[] {x}, OpOracle.context(1))[0];
  }

  @Test
  void convChainsFuseAndGiveTheUnfusedBits() {
    String[][] acts = {{"Relu6", "Relu"}, {"LeakyRelu", "Prelu"}};
    for (String[] a : acts) {
      Random r = new Random(11);
      Graph g = convGraph(r, a[0], a[1]);
      Value x = random(r, 1, 9, 7, 5);
      Plan fused =
          Planner.plan(g, List.of("x"), List.of("y"), List.of(), STD, Mode.OPTIMIZED, true);
      Plan plain = Planner.plan(g, List.of("x"), List.of("y"), STD, Mode.OPTIMIZED);
      Plan ref = Planner.plan(g, List.of("x"), List.of("y"), STD, Mode.REFERENCE);
      assertThat(fused.steps())
          .extracting(Plan.Step::op)
          .as("%s", List.of(a))
          .containsExactly("_FusedConv2D", "FusedDepthwiseConv2dNative");
      assertThat(fused.steps()).extracting(Plan.Step::node).containsExactly("act", "y");
      assertThat(plain.steps()).hasSize(6);
      float[] f = run(fused, x).floats();
      assertThat(f).as("%s fused vs unfused", List.of(a)).containsExactly(run(plain, x).floats());
      float[] e = run(ref, x).floats();
      for (int i = 0; i < e.length; i++) {
        assertThat((double) f[i]).isCloseTo(e[i], org.assertj.core.data.Offset.offset(1e-4));
      }
    }
  }

  /**
   * Keras' ZeroPadding2D + VALID conv (stride 2, the MobileNetV2 stem) and + VALID depthwise: the
   * Pad becomes the convolution's explicit padding, with the unfused plan's bits; a Pad of the
   * channels, or one read twice, stays a step.
   */
  @Test
  void zeroPadOfHeightAndWidthFoldsIntoTheConvolution() {
    for (boolean depthwise : new boolean[] {false, true}) {
      Random r = new Random(depthwise ? 3 : 4);
      Graph g = new Graph("pad-fold");
      g.add(placeholder("x", DType.FLOAT32, 2, 11, 10, 6));
      g.add(constant("w", random(r, 3, 3, 6, depthwise ? 2 : 8)));
      g.add(constant("b", random(r, depthwise ? 12 : 8)));
      g.add(constant("p", Value.ints(new long[] {4, 2}, new int[] {0, 0, 0, 1, 2, 1, 0, 0})));
      g.add(node("pad", "Pad", List.of("x", "p"), "T", F32));
      g.add(
          node(
              "conv",
              depthwise ? "DepthwiseConv2dNative" : "Conv2D",
              List.of("pad", "w"),
              "T",
              F32,
              "strides",
              ints(1, 2, 1, 1),
              "padding",
              AttrValue.Str.of("VALID")));
      g.add(node("bias", "BiasAdd", List.of("conv", "b"), "T", F32));
      g.add(activation("y", "Relu6", "bias"));
      Value x = random(r, 2, 11, 10, 6);
      Plan fused =
          Planner.plan(g, List.of("x"), List.of("y"), List.of(), STD, Mode.OPTIMIZED, true);
      Plan plain = Planner.plan(g, List.of("x"), List.of("y"), STD, Mode.OPTIMIZED);
      assertThat(fused.steps())
          .extracting(Plan.Step::op)
          .containsExactly(depthwise ? "FusedDepthwiseConv2dNative" : "_FusedConv2D");
      assertThat(plain.steps()).extracting(Plan.Step::op).contains("Pad");
      Value a = run(fused, x);
      Value b = run(plain, x);
      assertThat(a.shape()).containsExactly(b.shape());
      assertThat(a.shape()).containsExactly(2, 5, 11, depthwise ? 12 : 8);
      assertThat(a.floats()).containsExactly(b.floats());

      // Channels padded: not a window padding, the Pad stays.
      g.add(constant("pc", Value.ints(new long[] {4, 2}, new int[] {0, 0, 1, 1, 1, 1, 0, 1})));
      g.add(constant("w7", random(r, 3, 3, 7, 4)));
      g.add(node("padc", "Pad", List.of("x", "pc"), "T", F32));
      g.add(
          node(
              "convc",
              "Conv2D",
              List.of("padc", "w7"),
              "T",
              F32,
              "strides",
              ints(1, 1, 1, 1),
              "padding",
              AttrValue.Str.of("VALID")));
      // Read twice: the second reader needs the padded value.
      g.add(node("other", "Relu", List.of("pad"), "T", F32));
      Plan kept =
          Planner.plan(
              g,
              List.of("x"),
              List.of("convc", "y", "other"),
              List.of(),
              STD,
              Mode.OPTIMIZED,
              true);
      assertThat(kept.steps())
          .extracting(Plan.Step::op)
          .containsExactlyInAnyOrder(
              "Pad",
              "Conv2D",
              "Pad",
              depthwise ? "FusedDepthwiseConv2dNative" : "_FusedConv2D",
              "Relu");
    }
  }

  @Test
  void intermediateValuesSeenElsewhereAreNotFused() {
    Random r = new Random(5);
    Graph g = convGraph(r, "Relu6", "Relu");
    // "bias" is also an output, so the first chain keeps its BiasAdd step; the conv fuses with it.
    Plan p =
        Planner.plan(g, List.of("x"), List.of("y", "bias"), List.of(), STD, Mode.OPTIMIZED, true);
    assertThat(p.steps())
        .extracting(Plan.Step::op)
        .containsExactly("_FusedConv2D", "Relu6", "FusedDepthwiseConv2dNative");
    // A second reader of the conv keeps the conv unfused.
    g.add(node("other", "Relu", List.of("conv"), "T", F32));
    Plan q =
        Planner.plan(g, List.of("x"), List.of("y", "other"), List.of(), STD, Mode.OPTIMIZED, true);
    assertThat(q.steps())
        .extracting(Plan.Step::op)
        .containsExactlyInAnyOrder(
            "Conv2D", "BiasAdd", "Relu6", "Relu", "FusedDepthwiseConv2dNative");
    Value x = random(r, 1, 9, 7, 5);
    Plan plain = Planner.plan(g, List.of("x"), List.of("y", "other"), STD, Mode.OPTIMIZED);
    Value[] a = q.run(new Value[] {x}, OpOracle.context(1));
    Value[] b = plain.run(new Value[] {x}, OpOracle.context(1));
    assertThat(a[0].floats()).containsExactly(b[0].floats());
    assertThat(a[1].floats()).containsExactly(b[1].floats());
  }

  @Test
  void matMulBiasActivationFuses() {
    Random r = new Random(3);
    Graph g = new Graph("fusion-matmul");
    g.add(placeholder("x", DType.FLOAT32, 5, 40));
    g.add(constant("w", random(r, 40, 37)));
    g.add(constant("b", random(r, 37)));
    g.add(
        node(
            "mm",
            "MatMul",
            List.of("x", "w"),
            "T",
            F32,
            "transpose_a",
            new AttrValue.Bool(false),
            "transpose_b",
            new AttrValue.Bool(false)));
    g.add(node("bias", "BiasAdd", List.of("mm", "b"), "T", F32));
    g.add(node("y", "Relu", List.of("bias"), "T", F32));
    Plan fused = Planner.plan(g, List.of("x"), List.of("y"), List.of(), STD, Mode.OPTIMIZED, true);
    Plan plain = Planner.plan(g, List.of("x"), List.of("y"), STD, Mode.OPTIMIZED);
    assertThat(fused.steps()).extracting(Plan.Step::op).containsExactly("_FusedMatMul");
    Value x = random(r, 5, 40);
    assertThat(run(fused, x).floats()).containsExactly(run(plain, x).floats());
  }

  /**
   * x [1,6,5,8] → depthwise 3×3 → conv 1×1 → BiasAdd → AddV2 with x (on either side) → Prelu: the
   * residual block of BlazeFace/FaceMesh. The conv, bias, add and PReLU become one step that gives
   * the unfused plan's bits; an addend that broadcasts the output larger still does.
   */
  @Test
  void residualAddAndActivationFuseIntoTheConv() {
    for (int variant = 0; variant < 3; variant++) {
      Random r = new Random(21 + variant);
      Graph g = new Graph("fusion-residual");
      g.add(placeholder("x", DType.FLOAT32, 1, 6, 5, 8));
      g.add(placeholder("skip", DType.FLOAT32, variant == 2 ? 2 : 1, 6, 5, 8));
      g.add(constant("dw", random(r, 3, 3, 8, 1)));
      g.add(constant("w", random(r, 1, 1, 8, 8)));
      g.add(constant("b", random(r, 8)));
      g.add(constant("alpha", random(r, 1, 1, 8)));
      AttrValue same = AttrValue.Str.of("SAME");
      AttrValue ones = ints(1, 1, 1, 1);
      g.add(
          node(
              "dconv",
              "DepthwiseConv2dNative",
              List.of("x", "dw"),
              "T",
              F32,
              "strides",
              ones,
              "padding",
              same));
      g.add(
          node(
              "conv", "Conv2D", List.of("dconv", "w"), "T", F32, "strides", ones, "padding", same));
      g.add(node("bias", "BiasAdd", List.of("conv", "b"), "T", F32));
      List<String> addIn = variant == 1 ? List.of("skip", "bias") : List.of("bias", "skip");
      g.add(node("add", "AddV2", addIn, "T", F32));
      g.add(node("y", "Prelu", List.of("add", "alpha"), "T", F32));
      List<String> in = List.of("x", "skip");
      Plan fused = Planner.plan(g, in, List.of("y"), List.of(), STD, Mode.OPTIMIZED, true);
      Plan plain = Planner.plan(g, in, List.of("y"), STD, Mode.OPTIMIZED);
      Plan ref = Planner.plan(g, in, List.of("y"), STD, Mode.REFERENCE);
      assertThat(fused.steps())
          .extracting(Plan.Step::op)
          .as("variant %d", variant)
          .containsExactly("DepthwiseConv2dNative", "_FusedConv2D");
      assertThat(fused.steps()).extracting(Plan.Step::node).containsExactly("dconv", "y");
      Value[] args = {random(r, 1, 6, 5, 8), random(r, variant == 2 ? 2 : 1, 6, 5, 8)};
      Value f = fused.run(args, OpOracle.context(1))[0];
      Value p = plain.run(args, OpOracle.context(1))[0];
      assertThat(f.shape()).containsExactly(p.shape());
      assertThat(f.floats()).as("variant %d fused vs unfused", variant).containsExactly(p.floats());
      float[] e = ref.run(args, OpOracle.context(1))[0].floats();
      for (int i = 0; i < e.length; i++) {
        assertThat((double) f.floats()[i])
            .isCloseTo(e[i], org.assertj.core.data.Offset.offset(1e-4));
      }
    }
  }

  /**
   * A conv, depthwise conv or MatMul whose bias is an AddV2 of a constant ([C] or [1,1,1,C], on
   * either side; batch norm folded into the weights) fuses as a BiasAdd, with the Relu6 after it; a
   * constant that is not one value per channel stays an AddV2.
   */
  @Test
  void addOfAPerChannelConstantIsABias() {
    for (int variant = 0; variant < 4; variant++) {
      Random r = new Random(40 + variant);
      Graph g = new Graph("fusion-add-bias");
      g.add(placeholder("x", DType.FLOAT32, 1, 5, 4, 3));
      g.add(constant("w", random(r, 3, 3, 3, 6)));
      long[] biasShape =
          switch (variant) {
            case 0 -> new long[] {6};
            case 1, 2 -> new long[] {1, 1, 1, 6};
            default -> new long[] {5, 1, 6}; // not one value per channel
          };
      g.add(constant("b", random(r, biasShape)));
      AttrValue same = AttrValue.Str.of("SAME");
      g.add(
          node(
              "conv",
              "Conv2D",
              List.of("x", "w"),
              "T",
              F32,
              "strides",
              ints(1, 1, 1, 1),
              "padding",
              same));
      g.add(
          node(
              "add",
              "AddV2",
              variant == 2 ? List.of("b", "conv") : List.of("conv", "b"),
              "T",
              F32));
      g.add(node("y", "Relu6", List.of("add"), "T", F32));
      Plan fused =
          Planner.plan(g, List.of("x"), List.of("y"), List.of(), STD, Mode.OPTIMIZED, true);
      Plan plain = Planner.plan(g, List.of("x"), List.of("y"), STD, Mode.OPTIMIZED);
      if (variant < 3) {
        assertThat(fused.steps()).extracting(Plan.Step::op).containsExactly("_FusedConv2D");
      } else {
        assertThat(fused.steps())
            .extracting(Plan.Step::op)
            .containsExactly("Conv2D", "AddV2", "Relu6");
      }
      Value x = random(r, 1, 5, 4, 3);
      Value f = run(fused, x);
      Value p = run(plain, x);
      assertThat(f.shape()).containsExactly(p.shape());
      assertThat(f.floats()).as("variant %d fused vs unfused", variant).containsExactly(p.floats());
    }
  }
}
