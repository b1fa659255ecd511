package org.tfport.runtime.optimize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.runtime.optimize.TestGraphs.F32;
import static org.tfport.runtime.optimize.TestGraphs.I32;
import static org.tfport.runtime.optimize.TestGraphs.conv;
import static org.tfport.runtime.optimize.TestGraphs.ints;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.graph.optimize.ArithmeticSimplification;
import org.tfport.graph.optimize.BatchNormFolding;
import org.tfport.graph.optimize.BiasAddNormalization;
import org.tfport.graph.optimize.CommonSubexpressionElimination;
import org.tfport.graph.optimize.ConstantFolding;
import org.tfport.graph.optimize.Consts;
import org.tfport.graph.optimize.DeadNodePruning;
import org.tfport.graph.optimize.GraphOptimizer;
import org.tfport.graph.optimize.PreluFusion;
import org.tfport.testkit.OracleTest;

/**
 * Each target-independent pass on graphs small enough to check node by node, and number by number.
 */
class OptimizerPassesTest {
  final Random rnd = new Random(5);

  static Tensor vec(int... v) {
    return Tensor.ofInts(Shape.of(v.length), v);
  }

  static Tensor scalar(int v) {
    return Tensor.ofInts(Shape.SCALAR, v);
  }

  static Tensor fill(float v, long... shape) {
    float[] a = new float[(int) Shape.of(shape).size()];
    java.util.Arrays.fill(a, v);
    return Tensor.ofFloats(Shape.of(shape), a);
  }

  static Object[] stridedSliceAttrs(int shrink) {
    return new Object[] {
      "T",
      I32,
      "Index",
      I32,
      "begin_mask",
      new AttrValue.Int(0),
      "end_mask",
      new AttrValue.Int(0),
      "ellipsis_mask",
      new AttrValue.Int(0),
      "new_axis_mask",
      new AttrValue.Int(0),
      "shrink_axis_mask",
      new AttrValue.Int(shrink)
    };
  }

  // ------------------------------------------------------------------ constant folding

  /**
   * {@code reshape(x, [shape(x)[0] * shape(x)[1], -1])} on a fully known x, as TF1 flatten builds
   * it.
   */
  Graph shapeChain() {
    TestGraphs t =
        TestGraphs.create()
            .placeholder("x", 2, 3, 4)
            .op("shape", "Shape", List.of("x"), "T", F32, "out_type", I32)
            .constant("b0", vec(0))
            .constant("b1", vec(1))
            .constant("b2", vec(2))
            .constant("one", vec(1))
            .op("d0", "StridedSlice", List.of("shape", "b0", "b1", "one"), stridedSliceAttrs(1))
            .op("d1", "StridedSlice", List.of("shape", "b1", "b2", "one"), stridedSliceAttrs(1))
            .op("flat", "Mul", List.of("d0", "d1"), "T", I32)
            .constant("minus1", scalar(-1))
            .op(
                "target",
                "Pack",
                List.of("flat", "minus1"),
                "T",
                I32,
                "N",
                new AttrValue.Int(2),
                "axis",
                new AttrValue.Int(0))
            .op("y", "Reshape", List.of("x", "target"), "T", F32, "Tshape", I32)
            .output("y");
    return t.graph();
  }

  @OracleTest
  @Test
  void foldsShapeArithmeticOfKnownShapes() {
    Map<String, Tensor> feeds = Map.of("x", RefEval.random(rnd, 2, 3, 4));
    Graph g =
        TestGraphs.checkSameInTf(
            this::shapeChain,
            h -> {
              new ConstantFolding().apply(h);
              new DeadNodePruning().apply(h);
            },
            feeds);
    assertThat(g.nodes()).extracting(Node::name).containsExactlyInAnyOrder("x", "target", "y");
    assertThat(Consts.value(g.node("target")).toFloatArray()).containsExactly(6f, -1f);
  }

  @Test
  void leavesUnknownShapesAndOpsAlone() {
    Graph g =
        TestGraphs.create()
            .placeholder("x", -1, 3)
            .op("shape", "Shape", List.of("x"), "T", F32, "out_type", I32)
            .constant("c", fill(1f, 2))
            .f("e", "Exp", "c")
            .op("rank", "Rank", List.of("x"), "T", F32)
            .output("shape", "e", "rank")
            .graph();
    new ConstantFolding().apply(g);
    assertThat(g.node("shape").op()).isEqualTo("Shape");
    assertThat(g.node("e").op()).isEqualTo("Exp");
    // The rank of a [-1, 3] tensor is known.
    assertThat(g.node("rank").op()).isEqualTo("Const");
    assertThat(Consts.value(g.node("rank")).toFloatArray()).containsExactly(2f);
  }

  @Test
  void capsFoldedSizesSoWeightsDoNotBalloon() {
    Tensor big = RefEval.random(rnd, 64, 64);
    Graph g =
        TestGraphs.create()
            .placeholder("x", 64, 64)
            .constant("dims", vec(1000, 1000))
            .constant("zero", Tensor.ofFloats(Shape.SCALAR, 0f))
            .op("zeros", "Fill", List.of("dims", "zero"), "T", F32, "index_type", I32)
            .constant("small_dims", vec(2, 3))
            .op("small", "Fill", List.of("small_dims", "zero"), "T", F32, "index_type", I32)
            .constant("w", big)
            .constant("perm", vec(1, 0))
            .op("wt", "Transpose", List.of("w", "perm"), "T", F32, "Tperm", I32)
            .f("y", "MatMul", "x", "w")
            .f("z", "MatMul", "x", "wt")
            .constant("v", big)
            .op("vt", "Transpose", List.of("v", "perm"), "T", F32, "Tperm", I32)
            .f("u", "MatMul", "x", "vt")
            .output("zeros", "small", "y", "z", "u")
            .graph();
    new ConstantFolding().apply(g);
    assertThat(g.node("zeros").op()).as("4 MB from two scalars").isEqualTo("Fill");
    assertThat(g.node("small").op()).isEqualTo("Const");
    assertThat(g.node("wt").op())
        .as("w stays for y: folding would duplicate it")
        .isEqualTo("Transpose");
    assertThat(g.node("vt").op()).as("v has no other reader").isEqualTo("Const");
    assertThat(
            new ConstantFolding(10)
                .apply(
                    TestGraphs.create()
                        .constant("a", fill(1f, 20))
                        .f("n", "Neg", "a")
                        .output("n")
                        .graph()))
        .as("the element cap")
        .isFalse();
  }

  @Test
  void foldedNodesKeepTheirNameAndControlInputs() {
    Graph g =
        TestGraphs.create()
            .placeholder("x", 2)
            .op("guard", "NoOp", List.of())
            .constant("a", fill(2f, 2))
            .constant("b", fill(3f, 2))
            .op("sum", "AddV2", List.of("a", "b", "^guard"), "T", F32)
            .f("y", "Mul", "x", "sum")
            .output("y", "sum")
            .graph();
    new ConstantFolding().apply(g);
    assertThat(g.node("sum").op()).isEqualTo("Const");
    assertThat(g.node("sum").inputs()).containsExactly("^guard");
    assertThat(Consts.value(g.node("sum")).toFloatArray()).containsExactly(5f, 5f);
    assertThat(g.outputs()).containsExactly("y", "sum");
  }

  @Test
  void pruningKeepsGraphInputsThatFoldingLeftUnread() {
    Graph g =
        TestGraphs.create()
            .placeholder("x", 2, 2)
            .op("shape", "Shape", List.of("x"), "T", F32, "out_type", I32)
            .output("shape")
            .graph();
    new ConstantFolding().apply(g);
    new DeadNodePruning().apply(g);
    assertThat(g.nodes()).extracting(Node::name).containsExactlyInAnyOrder("x", "shape");
  }

  // ------------------------------------------------------------------ common subexpressions

  @Test
  void mergesEqualNodesButNotStatefulOnesOrOutputs() {
    Map<String, Tensor> feeds =
        Map.of("x", RefEval.random(rnd, 2, 3), "y", RefEval.random(rnd, 2, 3));
    Graph g =
        TestGraphs.checkSame(
            () ->
                TestGraphs.create()
                    .placeholder("x", 2, 3)
                    .placeholder("y", 2, 3)
                    .constant("c1", fill(2f, 3))
                    .constant("c2", fill(2f, 3))
                    .f("a", "Mul", "x", "c1")
                    .f("b", "Mul", "c2", "x")
                    .f("p", "Mul", "x", "y")
                    .f("q", "Mul", "y", "x")
                    .f("s", "Sub", "x", "y")
                    .f("t", "Sub", "y", "x")
                    .f("r1", "AddV2", "a", "p")
                    .f("r2", "AddV2", "b", "q")
                    .f("out1", "AddV2", "r1", "s")
                    .f("out2", "AddV2", "r2", "t")
                    .output("out1", "out2")
                    .graph(),
            h -> {
              new CommonSubexpressionElimination().apply(h);
              new DeadNodePruning().apply(h);
            },
            feeds);
    // Constants c1/c2, a/b, p/q and r1/r2 merge; Sub does not commute; both outputs keep their
    // names.
    assertThat(g.nodes())
        .extracting(Node::name)
        .containsExactlyInAnyOrder("x", "y", "c1", "a", "p", "s", "t", "r1", "out1", "out2");

    Graph random =
        TestGraphs.create()
            .constant("shape", vec(2))
            .op("r1", "RandomUniform", List.of("shape"), "T", I32, "dtype", F32)
            .op("r2", "RandomUniform", List.of("shape"), "T", I32, "dtype", F32)
            .output("r1", "r2")
            .graph();
    assertThat(new CommonSubexpressionElimination().apply(random)).isFalse();
  }

  @Test
  void differentAttributesAreDifferentNodes() {
    Graph g =
        TestGraphs.create()
            .placeholder("x", 1, 4, 4, 1)
            .op(
                "p1",
                "MaxPool",
                List.of("x"),
                "T",
                F32,
                "ksize",
                ints(1, 2, 2, 1),
                "strides",
                ints(1, 2, 2, 1),
                "padding",
                AttrValue.Str.of("VALID"))
            .op(
                "p2",
                "MaxPool",
                List.of("x"),
                "T",
                F32,
                "ksize",
                ints(1, 2, 2, 1),
                "strides",
                ints(1, 1, 1, 1),
                "padding",
                AttrValue.Str.of("VALID"))
            .op(
                "p3",
                "MaxPool",
                List.of("x"),
                "T",
                F32,
                "ksize",
                ints(1, 2, 2, 1),
                "strides",
                ints(1, 2, 2, 1),
                "padding",
                AttrValue.Str.of("VALID"))
            .f("n1", "Neg", "p1")
            .f("n2", "Neg", "p2")
            .f("n3", "Neg", "p3")
            .output("n1", "n2", "n3")
            .graph();
    new CommonSubexpressionElimination().apply(g);
    assertThat(g.has("p3")).isFalse();
    assertThat(g.node("n3").inputs()).containsExactly("p1");
    assertThat(g.has("p2")).isTrue();
  }

  // ------------------------------------------------------------------ arithmetic

  @Test
  void neutralOperandsGoOnlyWhenTheShapeStays() {
    Map<String, Tensor> feeds =
        Map.of("x", RefEval.random(rnd, 2, 1), "y", RefEval.random(rnd, 2, 3));
    Graph g =
        TestGraphs.checkSame(
            () ->
                TestGraphs.create()
                    .placeholder("x", 2, 1)
                    .placeholder("y", 2, 3)
                    .constant("one", fill(1f))
                    .constant("zeros3", fill(0f, 3))
                    .constant("ones1", fill(1f, 1))
                    .f("a", "Mul", "x", "one")
                    .f("b", "AddV2", "a", "zeros3")
                    .f("c", "Mul", "ones1", "y")
                    .f("d", "Sub", "c", "zeros3")
                    .f("e", "RealDiv", "d", "one")
                    .f("out", "AddV2", "b", "e")
                    .output("out")
                    .graph(),
            h -> {
              new ArithmeticSimplification().apply(h);
              new DeadNodePruning().apply(h);
            },
            feeds);
    assertThat(g.has("a")).isFalse();
    assertThat(g.node("b").inputs())
        .as("[2, 1] + [3] is [2, 3]: not the identity")
        .containsExactly("x", "zeros3");
    assertThat(g.has("c") || g.has("d") || g.has("e")).isFalse();
    assertThat(g.node("out").inputs()).containsExactly("b", "y");
  }

  @OracleTest
  @Test
  void transposesAndReshapesCollapse() {
    Map<String, Tensor> feeds = Map.of("x", RefEval.random(rnd, 2, 3, 4));
    Graph g =
        TestGraphs.checkSameInTf(
            () ->
                TestGraphs.create()
                    .placeholder("x", 2, 3, 4)
                    .constant("p1", vec(0, 2, 1))
                    .constant("p2", vec(0, 2, 1))
                    .constant("p3", vec(2, 0, 1))
                    .op("t1", "Transpose", List.of("x", "p1"), "T", F32, "Tperm", I32)
                    .op("t2", "Transpose", List.of("t1", "p2"), "T", F32, "Tperm", I32)
                    .op("t3", "Transpose", List.of("t2", "p3"), "T", F32, "Tperm", I32)
                    .op("t4", "Transpose", List.of("t3", "p1"), "T", F32, "Tperm", I32)
                    .constant("s1", vec(6, 4))
                    .constant("s2", vec(-1))
                    .constant("s3", vec(2, 3, 4))
                    .op("r1", "Reshape", List.of("t4", "s1"), "T", F32, "Tshape", I32)
                    .op("r2", "Reshape", List.of("r1", "s2"), "T", F32, "Tshape", I32)
                    .op("same", "Reshape", List.of("x", "s3"), "T", F32, "Tshape", I32)
                    .op("cast", "Cast", List.of("same"), "SrcT", F32, "DstT", F32)
                    .output("r2", "cast")
                    .graph(),
            h -> {
              GraphOptimizer.runToFixedPoint(
                  h, List.of(new ArithmeticSimplification(), new DeadNodePruning()));
            },
            feeds);
    // t1 and t2 cancel; t3 then t4 compose into one transpose of x; r2 reshapes that directly.
    assertThat(TestGraphs.ops(g)).containsOnlyOnce("Transpose").containsOnlyOnce("Reshape");
    assertThat(g.node("cast").op()).as("a graph output keeps its name").isEqualTo("Identity");
    assertThat(g.node("cast").inputs()).containsExactly("x");
  }

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
            .constant("a", fill(-0.2f, 2))
            .f("relu", "Relu", "x")
            .f("neg", "Neg", "z")
            .f("relu_neg", "Relu", "neg")
            .f("mul", "Mul", "a", "relu_neg")
            .f("add", "Add", "relu", "mul")
            .output("add")
            .graph();
    assertThat(new PreluFusion().apply(g)).isFalse();
  }

  // ------------------------------------------------------------------ the pipeline

  @OracleTest
  @Test
  void optimizerReachesAFixedPointAndKeepsTheInterface() {
    Map<String, Tensor> feeds = Map.of("x", RefEval.random(rnd, 2, 3, 4));
    GraphOptimizer opt = new GraphOptimizer();
    Graph g = TestGraphs.checkSameInTf(this::shapeChain, opt::optimize, feeds);
    assertThat(g.inputs()).containsExactly("x");
    assertThat(g.outputs()).containsExactly("y");
    assertThat(opt.counts()).containsKey("folded");
    List<String> before = new ArrayList<>(g.nodes().stream().map(Node::name).toList());
    opt.optimize(g);
    assertThat(g.nodes()).extracting(Node::name).containsExactlyElementsOf(before);
  }
}
