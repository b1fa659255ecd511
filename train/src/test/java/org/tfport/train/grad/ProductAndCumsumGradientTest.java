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
 * Prod (with zeros among the factors, where dividing the product by an element would fail) and
 * Cumsum in its four modes: the gradient of Σ w·op(x), worked out by hand.
 */
class ProductAndCumsumGradientTest {
  private static final AttrValue I32 = new AttrValue.Type(DataTypes.fromDType(DType.INT32));

  private static float[] gradient(
      String op,
      float[] x,
      long[] shape,
      long axis,
      Map<String, Object> attrs,
      float[] w,
      long[] wShape) {
    Graph g = new Graph("scan-test");
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("dtype", new AttrValue.Type(DataTypes.DT_FLOAT));
    a.put("shape", new AttrValue.Shape(TensorShape.of(shape)));
    g.add(new Node("x", "Placeholder", List.of(), "", a));
    GradContext e = GradContext.emitter(g, "forward");
    Map<String, AttrValue> fa = new LinkedHashMap<>();
    fa.put("T", new AttrValue.Type(DataTypes.DT_FLOAT));
    fa.put("Tidx", I32);
    attrs.forEach((k, v) -> fa.put(k, GradContext.attr(v)));
    String axisRef =
        op.equals("Prod") ? e.ints(axis) : e.constant(Tensor.ofInts(Shape.SCALAR, (int) axis));
    String r = e.raw(op, List.of("x", axisRef), fa);
    long[] all = new long[wShape.length];
    for (int i = 0; i < all.length; i++) {
      all[i] = i;
    }
    String y = e.sum(e.mul(r, e.constant(Tensor.ofFloats(Shape.of(wShape), w))), all, false);
    String dx = Gradients.of(g, y, List.of("x")).get(0);
    List<TensorSpec> ins = List.of(new TensorSpec("x", "x", DType.FLOAT32, shape));
    List<TensorSpec> outs = List.of(new TensorSpec("dx", dx, DType.FLOAT32, null));
    try (Model m = Model.fromGraph(g, List.of(new Signature(Signature.DEFAULT_KEY, ins, outs)));
        Session s = m.newSession()) {
      return s.run(Map.of("x", Tensor.ofFloats(Shape.of(shape), x))).get("dx").toFloatArray();
    }
  }

  @Test
  void productGradientIsTheProductOfTheOthersEvenWithZeros() {
    // Rows [2, 0, 3] (one zero), [0, 0, 5] (two), [1, -2, 4]; weights 10, 100, 1000.
    float[] dx =
        gradient(
            "Prod",
            new float[] {2, 0, 3, 0, 0, 5, 1, -2, 4},
            new long[] {3, 3},
            1,
            Map.of("keep_dims", false),
            new float[] {10, 100, 1000},
            new long[] {3});
    assertThat(dx).containsExactly(0, 60, 0, 0, 0, 0, -8000, 4000, -2000);
  }

  @Test
  void productOverTheFirstAxisKeepingDims() {
    // Columns of [[1, 2, 3], [4, 5, 6]], weights [1, 10, 100].
    float[] dx =
        gradient(
            "Prod",
            new float[] {1, 2, 3, 4, 5, 6},
            new long[] {2, 3},
            0,
            Map.of("keep_dims", true),
            new float[] {1, 10, 100},
            new long[] {1, 3});
    assertThat(dx).containsExactly(4, 50, 600, 1, 20, 300);
  }

  @Test
  void cumsumGradientSumsTheWeightsTheOtherWayInEveryMode() {
    float[] x = {0.5f, -1, 2, 3};
    float[] w = {1, 10, 100, 1000};
    long[] shape = {1, 4};
    // Σ w_j·Σ_{i ≤ j} x_i: x_i is in every sum from j = i on.
    assertThat(gradient("Cumsum", x, shape, 1, modes(false, false), w, shape))
        .containsExactly(1111, 1110, 1100, 1000);
    assertThat(gradient("Cumsum", x, shape, 1, modes(true, false), w, shape))
        .containsExactly(1110, 1100, 1000, 0);
    assertThat(gradient("Cumsum", x, shape, -1, modes(false, true), w, shape))
        .containsExactly(1, 11, 111, 1111);
    assertThat(gradient("Cumsum", x, shape, 1, modes(true, true), w, shape))
        .containsExactly(0, 1, 11, 111);
  }

  private static Map<String, Object> modes(boolean exclusive, boolean reverse) {
    return Map.of("exclusive", exclusive, "reverse", reverse);
  }
}
