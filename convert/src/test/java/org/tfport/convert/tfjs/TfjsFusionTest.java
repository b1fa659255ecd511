package org.tfport.convert.tfjs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.runtime.optimize.TestGraphs.F32;
import static org.tfport.runtime.optimize.TestGraphs.conv;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.graph.optimize.DeadNodePruning;
import org.tfport.runtime.optimize.RefEval;
import org.tfport.runtime.optimize.TestGraphs;
import org.tfport.testkit.OracleTest;

/**
 * The fusions into TF.js ops on small graphs: the fused node's op, {@code fused_ops}, {@code
 * num_args} and inputs, and its numbers against the unfused graph (by the reference evaluator; by
 * TensorFlow itself where its CPU kernels for {@code _FusedConv2D} and {@code _FusedMatMul} take
 * the combination).
 */
@OracleTest
class TfjsFusionTest {
  final Random rnd = new Random(17);

  static List<String> fusedOps(Node n) {
    return ((AttrValue.ListAttr) n.attr("fused_ops"))
        .s().stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList();
  }

  static long numArgs(Node n) {
    return ((AttrValue.Int) n.attr("num_args")).value();
  }

  static void fuse(Graph g) {
    new TfjsFusion().apply(g);
    new DeadNodePruning().apply(g);
  }

  /** conv [-> BiasAdd] [-> act]; activation "" for none. */
  Supplier<Graph> convChain(String conv, boolean bias, String act, Tensor alpha) {
    return () -> {
      TestGraphs t =
          TestGraphs.create()
              .placeholder("x", 2, 6, 6, 3)
              .constant("w", RefEval.random(new Random(1), 3, 3, 3, 2))
              .op("conv", conv, List.of("x", "w"), conv("SAME", 2));
      String last = "conv";
      if (bias) {
        t.constant("b", RefEval.random(new Random(2), conv.equals("Conv2D") ? 2 : 6))
            .op(
                "bias",
                "BiasAdd",
                List.of("conv", "b"),
                "T",
                F32,
                "data_format",
                AttrValue.Str.of("NHWC"));
        last = "bias";
      }
      if (act.equals("Prelu")) {
        t.constant("alpha", alpha).f("act", "Prelu", last, "alpha");
        last = "act";
      } else if (act.equals("LeakyRelu")) {
        t.op("act", "LeakyRelu", List.of(last), "T", F32, "alpha", new AttrValue.Float(0.3f));
        last = "act";
      } else if (!act.isEmpty()) {
        t.f("act", act, last);
        last = "act";
      }
      return t.f("out", "Neg", last).output("out").graph();
    };
  }

  Supplier<Graph> matMulChain(String act) {
    return () -> {
      TestGraphs t =
          TestGraphs.create()
              .placeholder("x", 3, 5)
              .constant("k", RefEval.random(new Random(1), 4, 5))
              .op(
                  "mm",
                  "MatMul",
                  List.of("x", "k"),
                  "T",
                  F32,
                  "transpose_a",
                  new AttrValue.Bool(false),
                  "transpose_b",
                  new AttrValue.Bool(true))
              .constant("b", RefEval.random(new Random(2), 4))
              .op(
                  "bias",
                  "BiasAdd",
                  List.of("mm", "b"),
                  "T",
                  F32,
                  "data_format",
                  AttrValue.Str.of("NHWC"));
      if (act.equals("LeakyRelu")) {
        t.op("act", "LeakyRelu", List.of("bias"), "T", F32, "alpha", new AttrValue.Float(0.3f));
      } else if (act.equals("Prelu")) {
        t.constant("alpha", RefEval.random(new Random(3), 4)).f("act", "Prelu", "bias", "alpha");
      } else if (!act.isEmpty()) {
        t.f("act", act, "bias");
      }
      return t.output(act.isEmpty() ? "bias" : "act").graph();
    };
  }

  @Test
  void convolutionsFuseWithBiasAndActivation() {
    Map<String, Tensor> feeds = Map.of("x", RefEval.random(rnd, 2, 6, 6, 3));
    for (String act : List.of("Relu", "Relu6", "Elu", "LeakyRelu", "Sigmoid", "")) {
      Supplier<Graph> build = convChain("Conv2D", true, act, null);
      boolean tfRuns = !act.equals("Sigmoid");
      Graph g =
          tfRuns
              ? TestGraphs.checkSameInTf(build, TfjsFusionTest::fuse, feeds)
              : TestGraphs.checkSame(build, TfjsFusionTest::fuse, feeds);
      Node f = g.node(act.isEmpty() ? "bias" : "act");
      assertThat(f.op()).as(act).isEqualTo("_FusedConv2D");
      assertThat(fusedOps(f))
          .isEqualTo(act.isEmpty() ? List.of("BiasAdd") : List.of("BiasAdd", act));
      assertThat(numArgs(f)).isEqualTo(1);
      assertThat(f.inputs()).containsExactly("x", "w", "b");
      assertThat(TestGraphs.ops(g)).doesNotContain("Conv2D", "BiasAdd");
      if (act.equals("LeakyRelu")) {
        assertThat(f.attr("leakyrelu_alpha")).isEqualTo(new AttrValue.Float(0.3f));
      }
    }
  }

  @Test
  void matMulsFuseWithBiasAndActivation() {
    Map<String, Tensor> feeds = Map.of("x", RefEval.random(rnd, 3, 5));
    for (String act : List.of("Relu", "Relu6", "Elu", "LeakyRelu", "Sigmoid", "Prelu", "")) {
      boolean tfRuns = !act.equals("Prelu") && !act.equals("Sigmoid");
      Graph g =
          tfRuns
              ? TestGraphs.checkSameInTf(matMulChain(act), TfjsFusionTest::fuse, feeds)
              : TestGraphs.checkSame(matMulChain(act), TfjsFusionTest::fuse, feeds);
      Node f = g.node(act.isEmpty() ? "bias" : "act");
      assertThat(f.op()).as(act).isEqualTo("_FusedMatMul");
      assertThat(fusedOps(f))
          .isEqualTo(act.isEmpty() ? List.of("BiasAdd") : List.of("BiasAdd", act));
      assertThat(numArgs(f)).isEqualTo(act.equals("Prelu") ? 2 : 1);
      assertThat(f.attr("transpose_b")).isEqualTo(new AttrValue.Bool(true));
      assertThat(f.attr("TArgs"))
          .isEqualTo(
              AttrValue.ListAttr.ofTypes(
                  java.util.Collections.nCopies((int) numArgs(f), DType.FLOAT32.tfEnum())));
    }
  }

  @Test
  void depthwiseFusesInThreeWays() {
    Map<String, Tensor> feeds = Map.of("x", RefEval.random(rnd, 2, 6, 6, 3));
    String dw = "DepthwiseConv2dNative";
    Graph both =
        TestGraphs.checkSame(convChain(dw, true, "Relu6", null), TfjsFusionTest::fuse, feeds);
    assertThat(both.node("act").op()).isEqualTo("FusedDepthwiseConv2dNative");
    assertThat(fusedOps(both.node("act"))).containsExactly("BiasAdd", "Relu6");
    assertThat(numArgs(both.node("act"))).isEqualTo(1);

    Graph bias = TestGraphs.checkSame(convChain(dw, true, "", null), TfjsFusionTest::fuse, feeds);
    assertThat(fusedOps(bias.node("bias"))).containsExactly("BiasAdd");

    Graph act =
        TestGraphs.checkSame(convChain(dw, false, "Elu", null), TfjsFusionTest::fuse, feeds);
    assertThat(fusedOps(act.node("act"))).containsExactly("NoOp", "Elu");
    assertThat(numArgs(act.node("act"))).isZero();
    assertThat(act.node("act").inputs()).containsExactly("x", "w");

    Graph prelu =
        TestGraphs.checkSame(
            convChain(dw, false, "Prelu", RefEval.random(rnd, 6)), TfjsFusionTest::fuse, feeds);
    assertThat(fusedOps(prelu.node("act"))).containsExactly("NoOp", "Prelu");
    assertThat(prelu.node("act").inputs()).containsExactly("x", "w", "alpha");
  }

  @Test
  void preluJoinsOnlyWithWeightsTfjsAccepts() {
    Map<String, Tensor> feeds = Map.of("x", RefEval.random(rnd, 2, 6, 6, 3));
    for (long[] shape :
        List.of(new long[] {2}, new long[] {3, 3, 2}, new long[0], new long[] {1})) {
      Graph g =
          TestGraphs.checkSame(
              convChain("Conv2D", true, "Prelu", RefEval.random(rnd, shape)),
              TfjsFusionTest::fuse,
              feeds);
      assertThat(g.node("act").op()).isEqualTo("_FusedConv2D");
      assertThat(fusedOps(g.node("act"))).containsExactly("BiasAdd", "Prelu");
      assertThat(numArgs(g.node("act"))).isEqualTo(2);
      assertThat(g.node("act").inputs()).containsExactly("x", "w", "b", "alpha");
    }
    // TF.js's fused conv2d refuses rank-2 PReLU weights: the bias fuses, the Prelu stays.
    Graph g =
        TestGraphs.checkSame(
            convChain("Conv2D", true, "Prelu", RefEval.random(rnd, 3, 2)),
            TfjsFusionTest::fuse,
            feeds);
    assertThat(g.node("act").op()).isEqualTo("Prelu");
    assertThat(fusedOps(g.node("bias"))).containsExactly("BiasAdd");
  }

  @Test
  void preluAfterABiasOnlyFusionJoinsIt() {
    Map<String, Tensor> feeds = Map.of("x", RefEval.random(rnd, 3, 5));
    Graph g =
        TestGraphs.checkSame(
            matMulChain("Prelu"),
            h -> {
              // As if the bias had been fused first, by an earlier converter run or another tool.
              Node act = h.node("act");
              act.op("Identity");
              new TfjsFusion().apply(h);
              act.op("Prelu");
              new TfjsFusion().apply(h);
              new DeadNodePruning().apply(h);
            },
            feeds);
    assertThat(g.node("act").op()).isEqualTo("_FusedMatMul");
    assertThat(fusedOps(g.node("act"))).containsExactly("BiasAdd", "Prelu");
    assertThat(numArgs(g.node("act"))).isEqualTo(2);
    assertThat(g.has("bias")).isFalse();
  }

  @Test
  void nothingFusesAcrossASharedOrExposedIntermediate() {
    Graph shared = convChain("Conv2D", true, "Relu", null).get();
    shared.add(new Node("peek", "Neg", List.of("bias"), "", Map.of("T", F32)));
    shared.outputs().add("peek");
    fuse(shared);
    assertThat(shared.node("act").op()).isEqualTo("Relu");
    assertThat(shared.node("bias").op()).as("the bias alone still fuses").isEqualTo("_FusedConv2D");

    Graph exposed = convChain("Conv2D", true, "Relu", null).get();
    exposed.outputs().add("conv");
    fuse(exposed);
    assertThat(TestGraphs.ops(exposed))
        .contains("Conv2D", "BiasAdd", "Relu")
        .doesNotContain("_FusedConv2D");

    Graph noBias = convChain("Conv2D", false, "Relu", null).get();
    fuse(noBias);
    assertThat(TestGraphs.ops(noBias))
        .as("upstream fuses convolutions only with a bias")
        .contains("Conv2D");

    Graph doubles = matMulChain("Relu").get();
    doubles.node("mm").attr("T", new AttrValue.Type(DType.FLOAT64.tfEnum()));
    fuse(doubles);
    assertThat(TestGraphs.ops(doubles)).contains("MatMul");
  }
}
