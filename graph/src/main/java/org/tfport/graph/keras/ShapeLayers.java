package org.tfport.graph.keras;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** ZeroPadding, Cropping and UpSampling in 1D, 2D and 3D. */
final class ShapeLayers {
  private ShapeLayers() {}

  static void register(Map<String, LayerBuilder> r) {
    for (int n = 1; n <= 3; n++) {
      int dims = n;
      r.put("ZeroPadding" + n + "D", (LayerBuilder.Single) (c, x) -> zeroPad(c, x, dims));
      r.put("Cropping" + n + "D", (LayerBuilder.Single) (c, x) -> crop(c, x, dims));
      r.put("UpSampling" + n + "D", (LayerBuilder.Single) (c, x) -> upSample(c, x, dims));
    }
  }

  /**
   * Per spatial axis (before, after) amounts from {@code key}: an int, a pair (symmetric per axis),
   * or pairs per axis.
   */
  private static long[][] amounts(Call c, String key, int n, long dflt) {
    var v = c.cfg.get(key);
    long[][] out = new long[n][2];
    if (v == null || v.isNull()) {
      for (long[] o : out) {
        o[0] = dflt;
        o[1] = dflt;
      }
    } else if (!v.isArray()) {
      for (long[] o : out) {
        o[0] = v.asLong();
        o[1] = v.asLong();
      }
    } else if (n == 1 && v.size() == 2 && !v.get(0).isArray()) {
      out[0][0] = v.get(0).asLong();
      out[0][1] = v.get(1).asLong();
    } else {
      if (v.size() != n) {
        throw c.corrupt("has " + key + " for " + v.size() + " axes where " + n + " are expected");
      }
      for (int i = 0; i < n; i++) {
        var a = v.get(i);
        out[i][0] = a.isArray() ? a.get(0).asLong() : a.asLong();
        out[i][1] = a.isArray() ? a.get(1).asLong() : a.asLong();
      }
    }
    return out;
  }

  /** The index of spatial axis {@code i} in the layer's layout. */
  private static int axis(Call c, int i) {
    return c.channelsFirst() ? i + 2 : i + 1;
  }

  private static KT zeroPad(Call c, KT x, int n) {
    long[][] p = amounts(c, "padding", n, 1);
    long[][] all = new long[x.rank()][2];
    long[] s = x.shape();
    for (int i = 0; i < n; i++) {
      int a = n == 1 ? 1 : axis(c, i);
      all[a] = p[i];
      s[a] = s[a] < 0 ? -1 : s[a] + p[i][0] + p[i][1];
    }
    return x.with(c.e.pad(x.ref(), all), s);
  }

  private static KT crop(Call c, KT x, int n) {
    long[][] p = amounts(c, "cropping", n, 0);
    int r = x.rank();
    long[] begin = new long[r];
    long[] end = new long[r];
    long[] strides = new long[r];
    long endMask = 0;
    long[] s = x.shape();
    for (int i = 0; i < r; i++) {
      strides[i] = 1;
      endMask |= 1L << i;
    }
    for (int i = 0; i < n; i++) {
      int a = n == 1 ? 1 : axis(c, i);
      begin[a] = p[i][0];
      if (p[i][1] > 0) {
        end[a] = -p[i][1];
        endMask &= ~(1L << a);
      }
      s[a] = s[a] < 0 ? -1 : s[a] - p[i][0] - p[i][1];
    }
    Emit e = c.e;
    String y =
        e.raw(
            "StridedSlice",
            List.of(
                x.ref(), e.ints("begin", begin), e.ints("end", end), e.ints("strides", strides)),
            Emit.stridedAttrs(Emit.type(KT.FLOAT), 0, endMask, 0));
    return x.with(y, s);
  }

  /**
   * Nearest-neighbour repeats by integer factors: each axis's elements repeated in place, as Keras'
   * {@code repeat_elements} does; 2D bilinear through {@code ResizeBilinear}.
   */
  private static KT upSample(Call c, KT x, int n) {
    Emit e = c.e;
    long[] size = c.ints(n == 1 ? "size" : "size", n, 2);
    if (n == 1 && c.cfg.has("length")) {
      size = c.ints("length", 1, 2);
    }
    List<Integer> axes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      axes.add(n == 1 ? 1 : axis(c, i));
    }
    long[] s = x.shape();
    for (int i = 0; i < n; i++) {
      int a = axes.get(i);
      s[a] = s[a] < 0 ? -1 : s[a] * size[i];
    }
    if (n == 2 && "bilinear".equals(c.string("interpolation", "nearest"))) {
      KT in = c.channelsFirst() ? ConvLayers.toChannelsLast(e, x) : x;
      long h = in.dim(1) * size[0];
      long w = in.dim(2) * size[1];
      String y =
          e.raw(
              "ResizeBilinear",
              List.of(in.ref(), e.ints("size", h, w)),
              Map.of(
                  "T", Emit.type(KT.FLOAT),
                  "align_corners", Emit.attr(false),
                  "half_pixel_centers", Emit.attr(true)));
      KT out = in.with(y, new long[] {in.dim(0), h, w, in.dim(3)});
      return c.channelsFirst() ? ConvLayers.toChannelsFirst(e, out) : out;
    }
    KT cur = x;
    for (int i = 0; i < n; i++) {
      cur = repeat(e, cur, axes.get(i), size[i]);
    }
    return cur;
  }

  /** Each element along {@code axis} repeated {@code times} times in place. */
  private static KT repeat(Emit e, KT x, int axis, long times) {
    if (times == 1) {
      return x;
    }
    long[] s = x.shape();
    String ex = e.expandDims(x.ref(), axis + 1);
    long[] mult = new long[x.rank() + 1];
    java.util.Arrays.fill(mult, 1);
    mult[axis + 1] = times;
    String tiled = e.tile(ex, mult);
    s[axis] = s[axis] < 0 ? -1 : s[axis] * times;
    return x.with(e.reshapeKeeping(tiled, x.ref(), s), s);
  }
}
