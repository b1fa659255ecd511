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
    r.put("BatchMatMul", NnGrads::batchMatMul);
    r.put("BatchMatMulV2", NnGrads::batchMatMul);
    r.put("BatchMatMulV3", NnGrads::batchMatMul);
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

  private static String bmm(GradContext g, String a, String b, boolean ta, boolean tb) {
    return g.op("BatchMatMulV2", List.of(a, b), "adj_x", ta, "adj_y", tb);
  }

  /**
   * A batched product over equal batch dimensions (LocallyConnected's per-position kernels): the
   * rule of MatMul on every matrix of the batch. Broadcast batch dimensions would need their
   * gradients summed back, which no Keras layer tfport builds emits: refused by name.
   */
  private static List<String> batchMatMul(GradContext g, Node n, List<String> dys) {
    String a = n.dataInputs().get(0);
    String b = n.dataInputs().get(1);
    long[] sa = g.dims(a);
    long[] sb = g.dims(b);
    boolean same = sa.length == sb.length && sa.length >= 3;
    for (int i = 0; same && i < sa.length - 2; i++) {
      same = sa[i] == sb[i] && sa[i] >= 0;
    }
    if (!same) {
      throw new org.tfport.core.TfportException.UnsupportedModelException(
          n.name()
              + " ("
              + n.op()
              + "): cannot differentiate a batched matrix product of shapes "
              + java.util.Arrays.toString(sa)
              + " and "
              + java.util.Arrays.toString(sb)
              + " (broadcast batch dimensions) yet; freeze the layer");
    }
    String dy = dys.get(0);
    boolean ta = flag(n, "adj_x");
    boolean tb = flag(n, "adj_y");
    if (!ta && !tb) {
      return List.of(bmm(g, dy, b, false, true), bmm(g, a, dy, true, false));
    }
    if (!ta) {
      return List.of(bmm(g, dy, b, false, false), bmm(g, dy, a, true, false));
    }
    if (!tb) {
      return List.of(bmm(g, b, dy, false, true), bmm(g, a, dy, false, false));
    }
    return List.of(bmm(g, b, dy, true, true), bmm(g, dy, a, true, true));
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
