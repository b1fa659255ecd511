package org.tfport.train.grad;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
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
 * ResizeBilinear and ResizeNearestNeighbor rules in every corner mode, up- and down-sampling: the
 * loss Σ w·resize(x) is linear in x, so each element's gradient is the loss of the unit image e_i,
 * run forward through the runtime's resize (itself matched against TensorFlow).
 */
class ResizeGradientTest {
  private static final long[] SHAPE = {2, 3, 4, 2};

  private record Run(float[] dx, float[] unitLosses) {}

  private static Run run(String op, long oh, long ow, boolean align, boolean half, long seed) {
    Graph g = new Graph("resize-test");
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("dtype", new AttrValue.Type(DataTypes.DT_FLOAT));
    a.put("shape", new AttrValue.Shape(TensorShape.of(-1, SHAPE[1], SHAPE[2], SHAPE[3])));
    g.add(new Node("x", "Placeholder", List.of(), "", a));
    GradContext e = GradContext.emitter(g, "forward");
    String r =
        e.op(op, List.of("x", e.ints(oh, ow)), "align_corners", align, "half_pixel_centers", half);
    Random rnd = new Random(seed);
    long[] ws = {SHAPE[0], oh, ow, SHAPE[3]};
    float[] w = new float[(int) Shape.of(ws).size()];
    for (int i = 0; i < w.length; i++) {
      w[i] = rnd.nextFloat() * 2 - 1;
    }
    String loss =
        e.sum(
            e.mul(r, e.constant(Tensor.ofFloats(Shape.of(ws), w))), new long[] {0, 1, 2, 3}, false);
    String dx = Gradients.of(g, loss, List.of("x")).get(0);
    List<TensorSpec> ins = List.of(new TensorSpec("x", "x", DType.FLOAT32, SHAPE));
    List<TensorSpec> outs =
        List.of(
            new TensorSpec("dx", dx, DType.FLOAT32, null),
            new TensorSpec("loss", loss, DType.FLOAT32, null));
    try (Model m = Model.fromGraph(g, List.of(new Signature(Signature.DEFAULT_KEY, ins, outs)));
        Session s = m.newSession()) {
      int size = (int) Shape.of(SHAPE).size();
      float[] x = new float[size];
      float[] grad =
          s.run(Map.of("x", Tensor.ofFloats(Shape.of(SHAPE), x))).get("dx").toFloatArray();
      float[] unit = new float[size];
      for (int i = 0; i < size; i++) {
        x[i] = 1;
        unit[i] =
            s.run(Map.of("x", Tensor.ofFloats(Shape.of(SHAPE), x))).get("loss").toFloatArray()[0];
        x[i] = 0;
      }
      return new Run(grad, unit);
    }
  }

  @Test
  void resizeGradientsAreTheUnitImagesLossesInEveryCornerMode() {
    boolean[][] modes = {{false, false}, {true, false}, {false, true}};
    long[][] sizes = {{6, 8}, {7, 3}, {2, 2}, {1, 9}};
    long seed = 0;
    double worst = 0;
    for (String op : new String[] {"ResizeBilinear", "ResizeNearestNeighbor"}) {
      for (boolean[] mode : modes) {
        for (long[] size : sizes) {
          Run r = run(op, size[0], size[1], mode[0], mode[1], ++seed);
          for (int i = 0; i < r.dx().length; i++) {
            worst = Math.max(worst, Math.abs(r.dx()[i] - r.unitLosses()[i]));
            assertThat(r.dx()[i])
                .as(
                    "%s %dx%d align=%s half=%s element %d",
                    op, size[0], size[1], mode[0], mode[1], i)
                .isCloseTo(r.unitLosses()[i], within(1e-5f));
          }
        }
      }
    }
    System.out.printf("ResizeGradientTest worst |dx - unit loss| = %.3g%n", worst);
  }
}
