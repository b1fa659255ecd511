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
   * A batched product: the rule of MatMul on every matrix of the batch, each input's gradient then
   * summed over the batch dimensions it was broadcast along (a rank-2 kernel against a batch of
   * sequences, a batch of 1). Unknown batch dimensions on both sides are the same batch.
   */
  private static List<String> batchMatMul(GradContext g, Node n, List<String> dys) {
    String a = n.dataInputs().get(0);
    String b = n.dataInputs().get(1);
    String dy = dys.get(0);
    boolean ta = flag(n, "adj_x");
    boolean tb = flag(n, "adj_y");
    List<String> d;
    if (!ta && !tb) {
      d = List.of(bmm(g, dy, b, false, true), bmm(g, a, dy, true, false));
    } else if (!ta) {
      d = List.of(bmm(g, dy, b, false, false), bmm(g, dy, a, true, false));
    } else if (!tb) {
      d = List.of(bmm(g, b, dy, false, true), bmm(g, a, dy, false, false));
    } else {
      d = List.of(bmm(g, b, dy, true, true), bmm(g, dy, a, true, true));
    }
    long[] so = g.dims(n.name());
    return List.of(unbatch(g, n, d.get(0), a, so), unbatch(g, n, d.get(1), b, so));
  }

  /** {@code d}, one matrix per batch position of the output, summed to {@code x}'s batch. */
  private static String unbatch(GradContext g, Node n, String d, String x, long[] so) {
    long[] sx = g.dims(x);
    int lead = so.length - sx.length;
    java.util.List<Long> axes = new java.util.ArrayList<>();
    for (int i = 0; i < so.length - 2; i++) {
      if (i < lead) {
        axes.add((long) i);
      } else if (sx[i - lead] == 1 && so[i] != 1) {
        axes.add((long) i);
      } else if (sx[i - lead] < 0 && so[i] >= 0 && so[i] != 1) {
        throw new org.tfport.core.TfportException.UnsupportedModelException(
            n.name()
                + " ("
                + n.op()
                + "): cannot differentiate a batched matrix product whose batch may be broadcast"
                + " (shapes "
                + java.util.Arrays.toString(sx)
                + " and output "
                + java.util.Arrays.toString(so)
                + "); freeze the layer");
      }
    }
    if (axes.isEmpty()) {
      return d;
    }
    String s = g.sum(d, axes.stream().mapToLong(Long::longValue).toArray(), false);
    int unknown = 0;
    for (long v : sx) {
      unknown += v < 0 ? 1 : 0;
    }
    return g.reshape(s, unknown <= 1 ? g.ints(sx) : g.shape(x));
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
