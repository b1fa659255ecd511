package org.tfport.runtime.optimize;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.Graph;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.runtime.SessionOptions;
import org.tfport.runtime.kernel.KernelRegistry;

/**
 * Runs a graph on the runtime's reference kernels, to compare a graph before and after a pass (the
 * passes keep meaning, not rounding: compare with {@link #close}).
 */
public final class RefEval {
  private RefEval() {}

  /** Evaluates the graph's outputs, feeding placeholders by node name. */
  public static List<Tensor> run(Graph g, Map<String, Tensor> feeds) {
    try (Model model = Model.fromGraph(g);
        Session session =
            model.newSession(
                SessionOptions.defaults().withKernels(KernelRegistry.Mode.REFERENCE))) {
      Map<String, Tensor> out = session.run(feeds);
      List<Tensor> values = new ArrayList<>();
      for (String o : g.outputs()) {
        values.add(out.get(o));
      }
      return values;
    }
  }

  /** Random floats in [-1, 1) of a shape, for feeds and weights. */
  public static Tensor random(java.util.Random rnd, long... shape) {
    float[] v = new float[(int) Shape.of(shape).size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = rnd.nextFloat() * 2 - 1;
    }
    return Tensor.ofFloats(Shape.of(shape), v);
  }

  /** Random floats in [0.5, 1.5): variances and scales. */
  public static Tensor positive(java.util.Random rnd, long... shape) {
    float[] v = new float[(int) Shape.of(shape).size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = 0.5f + rnd.nextFloat();
    }
    return Tensor.ofFloats(Shape.of(shape), v);
  }

  /** Whether two tensors agree within the end-to-end tolerance |a - b| <= 1e-5 + 1e-4 |b|. */
  public static boolean close(Tensor a, Tensor b) {
    if (!a.shape().equals(b.shape()) || a.dtype() != b.dtype() && a.dtype() != DType.FLOAT32) {
      return false;
    }
    float[] x = a.toFloatArray();
    float[] y = b.toFloatArray();
    for (int i = 0; i < x.length; i++) {
      if (!(Math.abs(x[i] - y[i]) <= 1e-5 + 1e-4 * Math.abs(y[i]))) {
        return false;
      }
    }
    return true;
  }
}
