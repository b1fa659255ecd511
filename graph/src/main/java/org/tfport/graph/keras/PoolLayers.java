package org.tfport.graph.keras;

import java.util.List;
import java.util.Map;

/** Max and average pooling 1D/2D/3D and their global forms. */
final class PoolLayers {
  private PoolLayers() {}

  static void register(Map<String, LayerBuilder> r) {
    for (int n = 1; n <= 3; n++) {
      int dims = n;
      for (String kind : List.of("Max", "Average")) {
        boolean max = kind.equals("Max");
        LayerBuilder pool = (LayerBuilder.Single) (c, x) -> pool(c, x, dims, max);
        r.put(kind + "Pooling" + n + "D", pool);
        r.put((max ? "Max" : "Avg") + "Pool" + n + "D", pool);
        LayerBuilder global = (LayerBuilder.Single) (c, x) -> global(c, x, dims, max);
        r.put("Global" + kind + "Pooling" + n + "D", global);
        r.put("Global" + (max ? "Max" : "Avg") + "Pool" + n + "D", global);
      }
    }
  }

  private static KT pool(Call c, KT x, int n, boolean max) {
    if (x.rank() != n + 2) {
      throw c.corrupt(
          "expects an input of rank "
              + (n + 2)
              + " but gets "
              + KerasGraphBuilder.shapeText(x.shape()));
    }
    return ConvLayers.channelsLastOnly(c, x, n, (cc, in, nn) -> poolNhwc(cc, in, nn, max));
  }

  private static KT poolNhwc(Call c, KT x, int n, boolean max) {
    Emit e = c.e;
    String poolKey = c.cfg.has("pool_size") ? "pool_size" : "pool_length";
    long[] k = c.ints(poolKey, n, 2);
    long[] s =
        c.cfg.path("strides").isNull() || !c.cfg.has("strides") ? k : c.ints("strides", n, 1);
    if (c.cfg.has("stride") && !c.cfg.has("strides")) {
      s = c.ints("stride", n, 1);
    }
    String padding = c.string("padding", c.string("border_mode", "valid"));
    String pad = padding.equals("same") ? "SAME" : "VALID";
    long[] out = new long[n + 2];
    out[0] = x.dim(0);
    for (int i = 0; i < n; i++) {
      out[i + 1] = ConvLayers.outLength(x.dim(i + 1), k[i], padding, s[i], 1);
    }
    out[n + 1] = x.dim(-1);
    String y;
    if (n == 3) {
      y =
          e.op(
              max ? "MaxPool3D" : "AvgPool3D",
              List.of(x.ref()),
              "ksize",
              ones(k),
              "strides",
              ones(s),
              "padding",
              pad,
              "data_format",
              "NDHWC");
    } else {
      long[] k2 = n == 1 ? new long[] {1, k[0]} : k;
      long[] s2 = n == 1 ? new long[] {1, s[0]} : s;
      String in = n == 1 ? e.expandDims(x.ref(), 1) : x.ref();
      y =
          e.op(
              max ? "MaxPool" : "AvgPool",
              List.of(in),
              "ksize",
              ones(k2),
              "strides",
              ones(s2),
              "padding",
              pad,
              "data_format",
              "NHWC");
      if (n == 1) {
        y = e.squeeze(y, 1);
      }
    }
    return x.with(y, out);
  }

  private static long[] ones(long[] v) {
    long[] out = new long[v.length + 2];
    out[0] = 1;
    out[v.length + 1] = 1;
    System.arraycopy(v, 0, out, 1, v.length);
    return out;
  }

  private static KT global(Call c, KT x, int n, boolean max) {
    if (x.rank() != n + 2) {
      throw c.corrupt(
          "expects an input of rank "
              + (n + 2)
              + " but gets "
              + KerasGraphBuilder.shapeText(x.shape()));
    }
    boolean cf = c.channelsFirst();
    boolean keep = c.bool("keepdims", false);
    long[] axes = new long[n];
    for (int i = 0; i < n; i++) {
      axes[i] = cf ? i + 2 : i + 1;
    }
    long[] out;
    if (keep) {
      out = x.shape();
      for (long a : axes) {
        out[(int) a] = 1;
      }
    } else {
      out = new long[] {x.dim(0), x.dim(cf ? 1 : -1)};
    }
    return x.with(c.e.reduce(max ? "Max" : "Mean", x.ref(), axes, keep), out);
  }
}
