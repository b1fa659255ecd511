package org.tfport.runtime.optimize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.runtime.optimize.TestGraphs.F32;
import static org.tfport.runtime.optimize.TestGraphs.conv;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.graph.optimize.BatchNormFolding;
import org.tfport.graph.optimize.BiasAddNormalization;
import org.tfport.graph.optimize.Consts;
import org.tfport.graph.optimize.DeadNodePruning;
import org.tfport.graph.optimize.PreluFusion;
import org.tfport.testkit.OracleTest;

/**
 * The fusion passes (batch norm into convolutions and matmuls, bias adds, PReLU) on graphs small
 * enough to check node by node, and number by number against TensorFlow.
 */
class FusionPassesTest {
  final Random rnd = new Random(5);

  // ------------------------------------------------------------------ batch norm folding

  Graph convBn(String conv, String bn, boolean withBias, boolean scaleAfter) {
    int c = conv.equals("Conv2D") ? 4 : 6;
    TestGraphs t =
        TestGraphs.create()
            .placeholder("x", 2, 5, 5, 3)
            .constant("w", RefEval.random(new Random(1), 3, 3, 3, conv.equals("Conv2D") ? 4 : 2))
            .op("conv", conv, List.of("x", "w"), conv("SAME", 1));
    String in = "conv";
    if (withBias) {
      t.constant("bias", RefEval.random(new Random(2), c)).f("add", "AddV2", "conv", "bias");
      in = "add";
    }
    Random r = new Random(3);
    t.constant("gamma", RefEval.positive(r, c))
        .constant("beta", RefEval.random(r, c))
        .constant("mean", RefEval.random(r, c))
        .constant("var", RefEval.positive(r, c));
    if (bn.equals("BatchNormWithGlobalNormalization")) {
      t.op(
          "bn",
          bn,
          List.of(in, "mean", "var", "beta", "gamma"),
          "T",
          F32,
          "variance_epsilon",
          new AttrValue.Float(1e-3f),
          "scale_after_normalization",
          new AttrValue.Bool(scaleAfter));
    } else {
      t.op(
          "bn",
          bn,
          List.of(in, "gamma", "beta", "mean", "var"),
          "T",
          F32,
          "epsilon",
          new AttrValue.Float(1e-3f),
          "is_training",
          new AttrValue.Bool(false),
          "data_format",
          AttrValue.Str.of("NHWC"));
      if (!bn.equals("FusedBatchNorm")) {
        t.graph().node("bn").attr("U", F32);
      }
    }
    return t.f("relu", "Relu", "bn").output("relu").graph();
  }

  @OracleTest
  @Test
  void batchNormsFoldIntoConvolutions() {
    Map<String, Tensor> feeds = Map.of("x", RefEval.random(rnd, 2, 5, 5, 3));
    for (String conv : List.of("Conv2D", "DepthwiseConv2dNative")) {
      for (String bn :
          List.of("FusedBatchNormV3", "FusedBatchNorm", "BatchNormWithGlobalNormalization")) {
        for (boolean bias : List.of(false, true)) {
          boolean scaleAfter = !bias;
          String label = conv + " " + bn + (bias ? " with bias" : "");
          var build = (java.util.function.Supplier<Graph>) () -> convBn(conv, bn, bias, scaleAfter);
          java.util.function.Consumer<Graph> fold =
              h -> {
                assertThat(new BatchNormFolding().apply(h)).as(label).isTrue();
                new DeadNodePruning().apply(h);
              };
          Graph g =
              bn.equals("BatchNormWithGlobalNormalization")
                  ? TestGraphs.checkSame(build, fold, feeds)
                  : TestGraphs.checkSameInTf(build, fold, feeds);
          assertThat(TestGraphs.ops(g))
              .as(label)
              .containsExactly("Placeholder", "Const", "Const", conv, "BiasAdd", "Relu")
              .doesNotContain("AddV2");
          assertThat(g.node("bn").op()).isEqualTo("BiasAdd");
          assertThat(g.node("bn").inputs()).containsExactly("conv", "conv_bn_offset");
          assertThat(g.node("conv").inputs()).containsExactly("x", "conv_weights");
        }
      }
    }
  }

  @Test
  void foldedValuesFollowUpstreamArithmetic() {
    Graph g = convBn("Conv2D", "FusedBatchNormV3", false, true);
    float[] w = Consts.value(g.node("w")).toFloatArray();
    float[] gamma = Consts.value(g.node("gamma")).toFloatArray();
    float[] beta = Consts.value(g.node("beta")).toFloatArray();
    float[] mean = Consts.value(g.node("mean")).toFloatArray();
    float[] var = Consts.value(g.node("var")).toFloatArray();
    new BatchNormFolding().apply(g);
    float[] folded = Consts.value(g.node("conv_weights")).toFloatArray();
    float[] offset = Consts.value(g.node("conv_bn_offset")).toFloatArray();
    for (int i = 0; i < w.length; i++) {
      int c = i % 4;
      // numpy: var + eps in float32, math.sqrt and the rest in float64, stored as float32.
      double scale = 1.0 / Math.sqrt(var[c] + 1e-3f) * gamma[c];
      assertThat(folded[i]).isEqualTo((float) (w[i] * scale));
      assertThat(offset[c]).isEqualTo((float) (-mean[c] * scale + beta[c]));
    }
  }

  @Test
  void batchNormStaysWhenAnIntermediateIsShared() {
    Graph shared = convBn("Conv2D", "FusedBatchNormV3", false, true);
    shared.add(new Node("other", "Neg", List.of("conv"), "", Map.of("T", F32)));
    shared.outputs().add("other");
    assertThat(new BatchNormFolding().apply(shared)).isFalse();

    Graph stats = convBn("Conv2D", "FusedBatchNormV3", false, true);
    stats.outputs().add("bn:1");
    assertThat(new BatchNormFolding().apply(stats)).isFalse();

    Graph training = convBn("Conv2D", "FusedBatchNormV3", false, true);
    training.node("bn").attr("is_training", new AttrValue.Bool(true));
    assertThat(new BatchNormFolding().apply(training)).isFalse();
  }

  @OracleTest
  @Test
  void decomposedBatchNormFoldsIntoConvolutionAndMatMul() {
    Map<String, Tensor> feeds =
        Map.of("x", RefEval.random(rnd, 2, 5, 5, 3), "v", RefEval.random(rnd, 2, 7));
    Graph g =
        TestGraphs.checkSameInTf(
            () ->
                TestGraphs.create()
                    .placeholder("x", 2, 5, 5, 3)
                    .placeholder("v", 2, 7)
                    .constant("w", RefEval.random(new Random(1), 3, 3, 3, 4))
                    .op("conv", "Conv2D", List.of("x", "w"), conv("VALID", 2))
                    .constant("scale", RefEval.positive(new Random(2), 4))
                    .constant("offset", RefEval.random(new Random(3), 4))
                    .f("mul", "Mul", "conv", "scale")
                    .f("add", "AddV2", "mul", "offset")
                    .constant("k", RefEval.random(new Random(4), 5, 7))
                    .constant("b", RefEval.random(new Random(5), 5))
                    .op(
                        "mm",
                        "MatMul",
                        List.of("v", "k"),
                        "T",
                        F32,
                        "transpose_a",
                        new AttrValue.Bool(false),
                        "transpose_b",
                        new AttrValue.Bool(true))
                    .op(
                        "ba",
                        "BiasAdd",
                        List.of("mm", "b"),
                        "T",
                        F32,
                        "data_format",
                        AttrValue.Str.of("NHWC"))
                    .constant("s2", RefEval.positive(new Random(6), 1, 5))
                    .constant("o2", RefEval.random(new Random(7), 5))
                    .f("mul2", "Mul", "s2", "ba")
                    .f("add2", "AddV2", "mul2", "o2")
                    .output("add", "add2")
                    .graph(),
            h -> {
              new BatchNormFolding().apply(h);
              new BiasAddNormalization().apply(h);
              new DeadNodePruning().apply(h);
            },
            feeds);
    assertThat(TestGraphs.ops(g)).doesNotContain("Mul", "AddV2");
    assertThat(g.node("add").op()).isEqualTo("BiasAdd");
    assertThat(g.node("add2").op()).as("a graph output keeps its name").isEqualTo("Identity");
    assertThat(g.node("ba").inputs()).containsExactly("mm", "ba_offset");
  }

  // ------------------------------------------------------------------ bias adds, PReLU

  @OracleTest
  @Test
  void addBecomesBiasAddOnlyForPerChannelBiases() {
    Map<String, Tensor> feeds =
        Map.of("x", RefEval.random(rnd, 2, 4, 4, 3), "v", RefEval.random(rnd, 3, 7));
    Graph g =
        TestGraphs.checkSameInTf(
            () ->
                TestGraphs.create()
                    .placeholder("x", 2, 4, 4, 3)
                    .placeholder("v", 3, 7)
                    .constant("w", RefEval.random(new Random(1), 1, 1, 3, 4))
                    .op("conv", "Conv2D", List.of("x", "w"), conv("SAME", 1))
                    .constant("bias", RefEval.random(new Random(2), 4))
                    .f("add", "AddV2", "bias", "conv")
                    .op("conv2", "Conv2D", List.of("x", "w"), conv("SAME", 1))
                    .constant("bias4d", RefEval.random(new Random(3), 1, 1, 1, 4))
                    .f("add2", "Add", "conv2", "bias4d")
                    .constant("k", RefEval.random(new Random(4), 7, 2))
                    .f("mm", "MatMul", "v", "k")
                    .constant("b", RefEval.random(new Random(5), 2))
                    .f("add3", "Add", "mm", "b")
                    .f("mm2", "MatMul", "v", "k")
                    .f("add4", "Add", "mm2", "b")
                    .f("other", "Neg", "mm2")
                    .output("add", "add2", "add3", "add4", "other")
                    .graph(),
            h -> new BiasAddNormalization().apply(h),
            feeds);
    assertThat(g.node("add").op()).isEqualTo("BiasAdd");
    assertThat(g.node("add").inputs()).containsExactly("conv", "bias");
    assertThat(g.node("add2").op())
        .as("a [1, 1, 1, C] bias is no BiasAdd operand")
        .isEqualTo("Add");
    assertThat(g.node("add3").op()).isEqualTo("BiasAdd");
    assertThat(g.node("add4").op()).as("mm2 has another reader").isEqualTo("Add");
  }

  @Test
  void preluPatternBecomesPrelu() {
    Map<String, Tensor> feeds = Map.of("x", RefEval.random(rnd, 2, 3, 4));
    Tensor negAlpha = RefEval.random(new Random(9), 3, 4);
    Graph g =
        TestGraphs.checkSame(
            () ->
                TestGraphs.create()
                    .placeholder("x", 2, 3, 4)
                    .constant("neg_alpha", negAlpha)
                    .f("relu", "Relu", "x")
                    .f("neg", "Neg", "x")
                    .f("relu_neg", "Relu", "neg")
                    .f("mul", "Mul", "relu_neg", "neg_alpha")
                    .f("add", "AddV2", "mul", "relu")
                    .f("y", "Sigmoid", "add")
                    .output("y")
                    .graph(),
            h -> {
              assertThat(new PreluFusion().apply(h)).isTrue();
              new DeadNodePruning().apply(h);
            },
            feeds);
    assertThat(TestGraphs.ops(g)).containsExactly("Placeholder", "Const", "Prelu", "Sigmoid");
    assertThat(g.node("add").inputs()).containsExactly("x", "neg_alpha");
    float[] alpha = Consts.value(g, g.node("add").input(1)).toFloatArray();
    float[] neg = negAlpha.toFloatArray();
    for (int i = 0; i < alpha.length; i++) {
      assertThat(alpha[i]).isEqualTo(-neg[i]);
    }
  }

  @Test
  void preluPatternNeedsTheSameInput() {
    Graph g =
        TestGraphs.create()
            .placeholder("x", 2)
            .placeholder("z", 2)
            .constant("a", OptimizerPassesTest.fill(-0.2f, 2))
            .f("relu", "Relu", "x")
            .f("neg", "Neg", "z")
            .f("relu_neg", "Relu", "neg")
            .f("mul", "Mul", "a", "relu_neg")
            .f("add", "Add", "relu", "mul")
            .output("add")
            .graph();
    assertThat(new PreluFusion().apply(g)).isFalse();
  }
}
