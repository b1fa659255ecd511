package org.tfport.train.grad;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.runtime.Signature;
import org.tfport.runtime.TensorSpec;

/**
 * Max and Min at ties, where finite differences say nothing (the loss has a kink): the gradient is
 * split equally among the positions equal to the result, as TensorFlow's {@code _MinOrMaxGrad}
 * does, worked out by hand.
 */
class ReductionGradientTest {
  private static float[] gradient(
      String op, float[] x, long[] shape, long axis, boolean keep, float[] w, long[] wShape) {
    Graph g = new Graph("reduction-test");
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("dtype", new AttrValue.Type(DataTypes.DT_FLOAT));
    a.put("shape", new AttrValue.Shape(TensorShape.of(shape)));
    g.add(new Node("x", "Placeholder", List.of(), "", a));
    GradContext e = GradContext.emitter(g, "forward");
    String r =
        e.raw(
            op,
            List.of("x", e.ints(axis)),
            Map.of(
                "T",
                new AttrValue.Type(DataTypes.DT_FLOAT),
                "Tidx",
                new AttrValue.Type(DataTypes.fromDType(DType.INT32)),
                "keep_dims",
                new AttrValue.Bool(keep)));
    // Σ w·reduce(x): reduce's output gradient is w.
    String y =
        e.sum(
            e.mul(r, e.constant(Tensor.ofFloats(Shape.of(wShape), w))),
            wShape.length == 1 ? new long[] {0} : new long[] {0, 1},
            false);
    String dx = Gradients.of(g, y, List.of("x")).get(0);
    List<TensorSpec> ins = List.of(new TensorSpec("x", "x", DType.FLOAT32, shape));
    List<TensorSpec> outs = List.of(new TensorSpec("dx", dx, DType.FLOAT32, null));
    try (Model m = Model.fromGraph(g, List.of(new Signature(Signature.DEFAULT_KEY, ins, outs)));
        Session s = m.newSession()) {
      return s.run(Map.of("x", Tensor.ofFloats(Shape.of(shape), x))).get("dx").toFloatArray();
    }
  }

  @Test
  void maxSplitsTheGradientAmongTies() {
    // Rows [1, 3, 3] (a tie) and [2, 0, -1], max over axis 1: 10 split over two, 100 to one.
    float[] dx =
        gradient(
            "Max",
            new float[] {1, 3, 3, 2, 0, -1},
            new long[] {2, 3},
            1,
            false,
            new float[] {10, 100},
            new long[] {2});
    assertThat(dx).containsExactly(0, 5, 5, 100, 0, 0);
  }

  @Test
  void minKeepingDimsSplitsTheGradientAmongTies() {
    // Columns of [[1, 0, 3], [1, 2, -1]], min over axis 0 kept: [1, 0, -1], column 0 tied.
    float[] dx =
        gradient(
            "Min",
            new float[] {1, 0, 3, 1, 2, -1},
            new long[] {2, 3},
            0,
            true,
            new float[] {1, 10, 100},
            new long[] {1, 3});
    assertThat(dx).containsExactly(0.5f, 10, 0, 0.5f, 0, 100);
  }

  @Test
  void maxOverANegativeAxisOfThreeTies() {
    float[] dx =
        gradient(
            "Max",
            new float[] {-2, -2, -2, 4, 1, 4},
            new long[] {2, 3},
            -1,
            false,
            new float[] {3, 8},
            new long[] {2});
    assertThat(dx).containsExactly(1, 1, 1, 4, 0, 4);
  }
}
