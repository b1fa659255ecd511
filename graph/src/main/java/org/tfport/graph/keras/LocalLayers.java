package org.tfport.graph.keras;

import java.util.List;
import java.util.Map;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import tools.jackson.databind.JsonNode;

/**
 * LocallyConnected1D and 2D (Keras' {@code implementation=1} weights): a convolution whose kernel
 * differs at every output position. Each position's input patch is gathered by a convolution with a
 * 0/1 kernel (one output channel per patch element, in the order Keras flattens a patch: kernel
 * rows, kernel columns, channels; channels first for channels_first data), then every position
 * multiplies its patch by its own kernel in one batched matrix product.
 */
final class LocalLayers {
  private LocalLayers() {}

  static void register(Map<String, LayerBuilder> r) {
    for (int n = 1; n <= 2; n++) {
      int dims = n;
      r.put(
          "LocallyConnected" + n + "D",
          new LayerBuilder.Single() {
            @Override
            public KT apply(Call c, KT x) {
              return local(c, x, dims);
            }

            @Override
            public String problem(JsonNode cfg) {
              int impl = cfg.path("implementation").asInt(1);
              if (impl != 1) {
                return "implementation = " + impl;
              }
              String padding = cfg.path("padding").asString("valid");
              return padding.equalsIgnoreCase("valid") ? null : "padding = '" + padding + "'";
            }
          });
    }
  }

  private static KT local(Call c, KT x, int n) {
    Emit e = c.e;
    if (x.rank() != n + 2) {
      throw c.corrupt(
          "expects an input of rank "
              + (n + 2)
              + " but gets "
              + KerasGraphBuilder.shapeText(x.shape()));
    }
    boolean cf = c.channelsFirst();
    KT in = cf ? ConvLayers.toChannelsLast(e, x) : x;
    long[] k = c.ints("kernel_size", n, 1);
    long[] s = c.ints("strides", n, 1);
    int filters = c.integer("filters", -1);
    long ch = in.dim(-1);
    long[] len = new long[n];
    long[] out = new long[n];
    long positions = 1;
    for (int i = 0; i < n; i++) {
      len[i] = in.dim(i + 1);
      out[i] = ConvLayers.outLength(len[i], k[i], "valid", s[i], 1);
      if (len[i] <= 0 || out[i] <= 0 || ch <= 0) {
        throw c.unsupported(
            "needs a known input size, but gets "
                + KerasGraphBuilder.shapeText(x.shape())
                + "; give the model's input a full shape");
      }
      positions *= out[i];
    }
    // As 2D: a 1D input [N, L, C] is [N, 1, L, C].
    long kh = n == 2 ? k[0] : 1;
    long kw = n == 2 ? k[1] : k[0];
    long sh = n == 2 ? s[0] : 1;
    long sw = n == 2 ? s[1] : s[0];
    long feature = kh * kw * ch;
    Tensor kernel = c.floatWeight("kernel", 0);
    if (kernel.shape().size() != positions * feature * filters) {
      throw c.corrupt(
          "has a kernel of shape "
              + kernel.shape()
              + " where "
              + positions
              + " positions of "
              + feature
              + " inputs and "
              + filters
              + " filters are expected");
    }
    String x2 = n == 2 ? in.ref() : e.expandDims(in.ref(), 1);
    String patches =
        e.op(
            "Conv2D",
            List.of(x2, e.constant("patch_kernel", patchKernel(kh, kw, ch, cf))),
            "strides",
            new long[] {1, sh, sw, 1},
            "padding",
            "VALID",
            "dilations",
            new long[] {1, 1, 1, 1},
            "data_format",
            "NHWC",
            "use_cudnn_on_gpu",
            true,
            "explicit_paddings",
            new long[0]);
    // [N, P, feature] → [P, N, feature] · [P, feature, filters] → [P, N, filters] → [N, P, filters]
    String flat = e.reshape(patches, -1, positions, feature);
    String byPosition = e.transpose(flat, 1, 0, 2);
    String w = c.weightAs("kernel", 0, positions, feature, filters);
    String y = e.op("BatchMatMulV2", List.of(byPosition, w), "adj_x", false, "adj_y", false);
    y = e.transpose(y, 1, 0, 2);
    long[] shape = new long[n + 2];
    shape[0] = x.dim(0);
    long[] dims = new long[n + 2];
    dims[0] = -1;
    for (int i = 0; i < n; i++) {
      shape[i + 1] = out[i];
      dims[i + 1] = out[i];
    }
    shape[n + 1] = filters;
    dims[n + 1] = filters;
    KT result = x.with(e.reshape(y, dims), shape);
    if (cf) {
      result = ConvLayers.toChannelsFirst(e, result);
    }
    if (c.bool("use_bias", true)) {
      Tensor bias = c.floatWeight("bias", 1);
      long[] biasShape = java.util.Arrays.copyOfRange(result.shape(), 1, n + 2);
      if (bias.shape().size() != positions * filters) {
        throw c.corrupt(
            "has a bias of shape "
                + bias.shape()
                + " where "
                + positions * filters
                + " values are expected");
      }
      String b = c.weightAs("bias", 1, biasShape);
      result = result.with(e.binary("AddV2", result.ref(), b), result.shape());
    }
    return result.with(
        Activations.function(c, c.cfg.get("activation"), result.ref()), result.shape());
  }

  /**
   * The 0/1 kernel [kh, kw, ch, kh·kw·ch] whose output channel {@code j} is patch element {@code j}
   * in Keras' order: (row, column, channel), or (channel, row, column) for channels_first.
   */
  private static Tensor patchKernel(long kh, long kw, long ch, boolean channelsFirst) {
    int f = Math.toIntExact(kh * kw * ch);
    float[] v = new float[f * f];
    for (int r = 0; r < kh; r++) {
      for (int col = 0; col < kw; col++) {
        for (int k = 0; k < ch; k++) {
          int at = (int) ((r * kw + col) * ch + k);
          int j = channelsFirst ? (int) ((k * kh + r) * kw + col) : at;
          v[at * f + j] = 1f;
        }
      }
    }
    return Tensor.ofFloats(Shape.of(kh, kw, ch, f), v);
  }
}
