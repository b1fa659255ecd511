package org.tfport.runtime.optimize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.runtime.optimize.TestGraphs.F32;
import static org.tfport.runtime.optimize.TestGraphs.I32;
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
import org.tfport.graph.optimize.CommonSubexpressionElimination;
import org.tfport.graph.optimize.ConstantFolding;
import org.tfport.graph.optimize.Consts;
import org.tfport.graph.optimize.DeadNodePruning;
import org.tfport.graph.optimize.GraphOptimizer;
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

  /**
   * Keras' Flatten as TF.js graph models hold it: {@code reshape(x, [shape(x)[0], c])} on a {@code
   * [-1, 3, 4]} x, c = -1 or 12.
   */
  Graph batchFlatten(int c) {
    return batchFlatten(c, TestGraphs.create().placeholder("x", -1, 3, 4), "x");
  }

  /** As {@link #batchFlatten(int)}, the batch read from {@code shapeOf}'s shape. */
  static Graph batchFlatten(int c, TestGraphs t, String shapeOf) {
    return t.op("shape", "Shape", List.of(shapeOf), "T", F32, "out_type", I32)
        .constant("b0", vec(0))
        .constant("b1", vec(1))
        .op("batch", "StridedSlice", List.of("shape", "b0", "b1", "b1"), stridedSliceAttrs(1))
        .constant("c", scalar(c))
        .op(
            "target",
            "Pack",
            List.of("batch", "c"),
            "T",
            I32,
            "N",
            new AttrValue.Int(2),
            "axis",
            new AttrValue.Int(0))
        .op("y", "Reshape", List.of("x", "target"), "T", F32, "Tshape", I32)
        .output("y")
        .graph();
  }

  @Test
  void aReshapeToTheBatchOfItsInputGetsAConstantTarget() {
    for (int c : new int[] {-1, 12}) {
      for (int batch : new int[] {1, 3}) {
        Map<String, Tensor> feeds = Map.of("x", RefEval.random(rnd, batch, 3, 4));
        Graph g =
            TestGraphs.checkSame(
                () -> batchFlatten(c),
                h ->
                    GraphOptimizer.runToFixedPoint(
                        h, List.of(new ArithmeticSimplification(), new DeadNodePruning())),
                feeds);
        assertThat(TestGraphs.ops(g)).containsExactly("Placeholder", "Const", "Reshape");
        assertThat(Consts.value(g, g.node("y").input(1)).toFloatArray()).containsExactly(-1f, 12f);
      }
    }
    // A target that does not fit x's other dims, or another tensor's batch, stays as it is.
    for (Graph g : new Graph[] {batchFlatten(5), batchFlatten(7)}) {
      new ArithmeticSimplification().apply(g);
      assertThat(g.node("y").input(1)).isEqualTo("target");
    }
    Graph other =
        batchFlatten(
            -1, TestGraphs.create().placeholder("x", -1, 3, 4).placeholder("z", -1, 3, 4), "z");
    new ArithmeticSimplification().apply(other);
    assertThat(other.node("y").input(1)).isEqualTo("target");
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
