package org.tfport.train.grad;

import java.util.List;
import java.util.Map;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Node;

/** Matrix products and bias adds. */
final class NnGrads {
  private NnGrads() {}

  static void register(Map<String, GradRule> r) {
    r.put("MatMul", NnGrads::matMul);
    r.put(
        "BiasAdd",
        (g, n, dy) -> {
          int rank = g.rank(n.name());
          boolean nchw =
              n.attr("data_format") != null && "NCHW".equals(n.stringAttr("data_format"));
          long[] axes = new long[rank - 1];
          for (int i = 0, k = 0; i < rank; i++) {
            if (i != (nchw ? 1 : rank - 1)) {
              axes[k++] = i;
            }
          }
          return List.of(dy.get(0), g.sum(dy.get(0), axes, false));
        });
  }

  private static boolean flag(Node n, String key) {
    return n.attr(key) instanceof AttrValue.Bool b && b.value();
  }

  private static String mm(GradContext g, String a, String b, boolean ta, boolean tb) {
    return g.op("MatMul", List.of(a, b), "transpose_a", ta, "transpose_b", tb);
  }

  /** For y = op(a)·op(b), op a transpose or not: da and db as products of dy and a, b. */
  private static List<String> matMul(GradContext g, Node n, List<String> dys) {
    String a = n.dataInputs().get(0);
    String b = n.dataInputs().get(1);
    String dy = dys.get(0);
    boolean ta = flag(n, "transpose_a");
    boolean tb = flag(n, "transpose_b");
    if (!ta && !tb) {
      return List.of(mm(g, dy, b, false, true), mm(g, a, dy, true, false));
    }
    if (!ta) {
      return List.of(mm(g, dy, b, false, false), mm(g, dy, a, true, false));
    }
    if (!tb) {
      return List.of(mm(g, b, dy, false, true), mm(g, a, dy, false, false));
    }
    return List.of(mm(g, b, dy, true, true), mm(g, dy, a, true, true));
  }
}
