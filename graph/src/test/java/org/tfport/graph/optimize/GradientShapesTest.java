package org.tfport.graph.optimize;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;

/** Shape inference of the gradient ops, from placeholder shapes and constant size vectors. */
class GradientShapesTest {
  private static final AttrValue F32 = new AttrValue.Type(DType.FLOAT32.tfEnum());

  private static void placeholder(Graph g, String name, long... dims) {
    g.add(
        new Node(
            name,
            "Placeholder",
            List.of(),
            "",
            Map.of("dtype", F32, "shape", new AttrValue.Shape(TensorShape.of(dims)))));
  }

  private static void op(Graph g, String name, String op, Map<String, AttrValue> a, String... in) {
    g.add(new Node(name, op, List.of(in), "", a));
  }

  @Test
  void gradientOpShapes() {
    Graph g = new Graph("test");
    placeholder(g, "x", 2, 8, 8, 3);
    placeholder(g, "dy", 2, 4, 4, 5);
    placeholder(g, "logits", 6, 10);
    placeholder(g, "c", 3);
    placeholder(g, "emb", 7, 4, 16);
    placeholder(g, "ids", 7, 4);
    Consts.add(g, "fs", Tensor.ofInts(Shape.of(4), 3, 3, 3, 5));
    Consts.add(g, "is", Tensor.ofInts(Shape.of(4), 2, 8, 8, 3));
    Consts.add(g, "segments", Tensor.ofInts(Shape.of(), 100));
    op(g, "relu", "ReluGrad", Map.of("T", F32), "x", "x");
    op(g, "bias", "BiasAddGrad", Map.of("T", F32), "dy");
    op(g, "biasNchw", "BiasAddGrad", Map.of("data_format", AttrValue.Str.of("NCHW")), "dy");
    op(g, "xent", "SparseSoftmaxCrossEntropyWithLogits", Map.of("T", F32), "logits", "c");
    op(g, "filter", "Conv2DBackpropFilter", Map.of("T", F32), "x", "fs", "dy");
    op(g, "avg", "AvgPoolGrad", Map.of("T", F32), "is", "dy");
    op(g, "max", "MaxPoolGrad", Map.of("T", F32), "x", "dy", "dy");
    op(g, "bn", "FusedBatchNormGradV3", Map.of("T", F32), "x", "x", "c", "c", "c", "c");
    op(g, "seg", "UnsortedSegmentSum", Map.of("T", F32), "emb", "ids", "segments");
    ShapeInference s = ShapeInference.of(g, ConstantEvaluator.NONE);
    assertThat(s.dims("relu")).containsExactly(2, 8, 8, 3);
    assertThat(s.dims("bias")).containsExactly(5);
    assertThat(s.dims("biasNchw")).containsExactly(4);
    assertThat(s.dims("xent:0")).containsExactly(6);
    assertThat(s.dims("xent:1")).containsExactly(6, 10);
    assertThat(s.dims("filter")).containsExactly(3, 3, 3, 5);
    assertThat(s.dims("avg")).containsExactly(2, 8, 8, 3);
    assertThat(s.dims("max")).containsExactly(2, 8, 8, 3);
    assertThat(s.dims("bn:0")).containsExactly(2, 8, 8, 3);
    assertThat(s.dims("bn:1")).containsExactly(3);
    assertThat(s.dims("bn:4")).containsExactly(0);
    assertThat(s.dims("seg")).containsExactly(100, 16);
  }

  /** Keras' Conv2DTranspose packs the run-time batch size with constant sizes. */
  @Test
  void transposedConvolutionShapeFromPackedSizes() {
    Graph g = new Graph("test");
    placeholder(g, "x", -1, 4, 4, 3);
    placeholder(g, "f", 3, 3, 5, 3);
    placeholder(g, "batch", new long[0]);
    Consts.add(g, "h", Tensor.ofInts(Shape.of(), 9));
    Consts.add(g, "w", Tensor.ofInts(Shape.of(), 10));
    Consts.add(g, "c", Tensor.ofInts(Shape.of(), 5));
    Consts.add(g, "constSizes", Tensor.ofInts(Shape.of(4), 2, 8, 8, 5));
    op(g, "sizes", "Pack", Map.of("N", new AttrValue.Int(4)), "batch", "h", "w", "c");
    op(g, "up", "Conv2DBackpropInput", Map.of("T", F32), "sizes", "f", "x");
    op(g, "upConst", "Conv2DBackpropInput", Map.of("T", F32), "constSizes", "f", "x");
    op(g, "upUnknown", "Conv2DBackpropInput", Map.of("T", F32), "batch", "f", "x");
    ShapeInference s = ShapeInference.of(g, ConstantEvaluator.NONE);
    assertThat(s.dims("up")).containsExactly(-1, 9, 10, 5);
    assertThat(s.dims("upConst")).containsExactly(2, 8, 8, 5);
    assertThat(s.dims("upUnknown")).isNull();
  }
}
