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

/**
 * The graph module alone has no kernels (the runtime, which installs them, is not on this module's
 * class path): constant folding then only replaces Shape, Size and Rank of statically known shapes.
 */
class ConstantFoldingWithoutEvaluatorTest {
  static final AttrValue F32 = new AttrValue.Type(DType.FLOAT32.tfEnum());
  static final AttrValue I32 = new AttrValue.Type(DType.INT32.tfEnum());

  @Test
  void onlyStaticShapesFold() {
    assertThat(ConstantEvaluator.installed()).isSameAs(ConstantEvaluator.NONE);
    Graph g = new Graph("test");
    g.add(
        new Node(
            "x",
            "Placeholder",
            List.of(),
            "",
            Map.of("dtype", F32, "shape", new AttrValue.Shape(TensorShape.of(2, 3)))));
    g.inputs().add("x");
    g.add(new Node("shape", "Shape", List.of("x"), "", Map.of("T", F32, "out_type", I32)));
    g.add(new Node("size", "Size", List.of("x"), "", Map.of("T", F32, "out_type", I32)));
    g.add(new Node("rank", "Rank", List.of("x"), "", Map.of("T", F32)));
    Consts.add(g, "a", Tensor.ofInts(Shape.of(2), 1, 2));
    g.add(new Node("sum", "AddV2", List.of("shape", "a"), "", Map.of("T", I32)));
    g.outputs().addAll(List.of("sum", "size", "rank"));

    ConstantFolding folding = new ConstantFolding();
    folding.apply(g);

    assertThat(g.node("shape").op()).isEqualTo("Const");
    assertThat(Consts.value(g.node("shape")).toFloatArray()).containsExactly(2, 3);
    assertThat(Consts.value(g.node("size")).toFloatArray()).containsExactly(6);
    assertThat(Consts.value(g.node("rank")).toFloatArray()).containsExactly(2);
    // Its inputs are now constants, but adding them needs a kernel.
    assertThat(g.node("sum").op()).isEqualTo("AddV2");
    assertThat(folding.folded()).isEqualTo(3);
  }
}
