package org.tfport.graph.keras;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * Convolutions 1D/2D/3D (causal and dilated), depthwise, separable and transposed, in NHWC; a
 * channels_first layer is run between transposes. 1D convolutions run as 2D ones over a height of
 * 1, as TensorFlow's {@code conv1d} does.
 */
final class ConvLayers {
  private ConvLayers() {}

  static void register(Map<String, LayerBuilder> r) {
    r.put("Conv1D", conv(1));
    r.put("Conv2D", conv(2));
    r.put("Conv3D", conv(3));
    r.put("Convolution1D", conv(1));
    r.put("Convolution2D", conv(2));
    r.put("Convolution3D", conv(3));
    r.put("DepthwiseConv1D", spatial(1, ConvLayers::depthwise));
    r.put("DepthwiseConv2D", spatial(2, ConvLayers::depthwise));
    r.put("SeparableConv1D", spatial(1, ConvLayers::separable));
    r.put("SeparableConv2D", spatial(2, ConvLayers::separable));
    r.put("SeparableConvolution1D", spatial(1, ConvLayers::separable));
    r.put("SeparableConvolution2D", spatial(2, ConvLayers::separable));
    r.put("Conv1DTranspose", spatial(1, ConvLayers::transposed));
    r.put("Conv2DTranspose", spatial(2, ConvLayers::transposed));
    r.put("Conv3DTranspose", spatial(3, ConvLayers::transposed));
    r.put("Convolution2DTranspose", spatial(2, ConvLayers::transposed));
    r.put("Deconvolution2D", spatial(2, ConvLayers::transposed));
  }

  /** The op emitter of a spatial layer on channels-last input of {@code n} spatial dimensions. */
  interface Body {
    KT apply(Call c, KT x, int n);
  }

  private static LayerBuilder conv(int n) {
    return new LayerBuilder.Single() {
      @Override
      public KT apply(Call c, KT x) {
        return channelsLast(c, x, n, ConvLayers::plain);
      }

      @Override
      public String problem(JsonNode cfg) {
        return cfg.path("groups").asInt(1) != 1 ? "groups = " + cfg.path("groups").asInt() : null;
      }
    };
  }

  private static LayerBuilder spatial(int n, Body body) {
    return (LayerBuilder.Single) (c, x) -> channelsLast(c, x, n, body);
  }

  /** Runs {@code body} on channels-last data, then adds bias and activation. */
  static KT channelsLast(Call c, KT x, int n, Body body) {
    if (x.rank() != n + 2) {
      throw c.corrupt(
          "expects an input of rank "
              + (n + 2)
              + " but gets "
              + KerasGraphBuilder.shapeText(x.shape()));
    }
    boolean cf = c.channelsFirst();
    KT in = cf ? toChannelsLast(c.e, x) : x;
    KT y = body.apply(c, in, n);
    if (c.bool("use_bias", true)) {
      y =
          y.with(
              c.e.op(
                  "BiasAdd",
                  List.of(y.ref(), c.weight("bias", biasPosition(c))),
                  "data_format",
                  "NHWC"),
              y.shape());
    }
    y = y.with(Activations.function(c, c.cfg.get("activation"), y.ref()), y.shape());
    return cf ? toChannelsFirst(c.e, y) : y;
  }

  private static int biasPosition(Call c) {
    return c.cls.startsWith("Separable") ? 2 : 1;
  }

  /** Runs {@code body} on channels-last data, with nothing added after it. */
  static KT channelsLastOnly(Call c, KT x, int n, Body body) {
    boolean cf = c.channelsFirst();
    KT y = body.apply(c, cf ? toChannelsLast(c.e, x) : x, n);
    return cf ? toChannelsFirst(c.e, y) : y;
  }

  static KT toChannelsLast(Emit e, KT x) {
    int r = x.rank();
    long[] perm = new long[r];
    long[] shape = new long[r];
    shape[0] = x.dim(0);
    for (int i = 1; i < r - 1; i++) {
      perm[i] = i + 1;
      shape[i] = x.dim(i + 1);
    }
    perm[r - 1] = 1;
    shape[r - 1] = x.dim(1);
    return x.with(e.transpose(x.ref(), perm), shape);
  }

  static KT toChannelsFirst(Emit e, KT x) {
    int r = x.rank();
    long[] perm = new long[r];
    long[] shape = new long[r];
    perm[1] = r - 1;
    shape[0] = x.dim(0);
    shape[1] = x.dim(r - 1);
    for (int i = 2; i < r; i++) {
      perm[i] = i - 1;
      shape[i] = x.dim(i - 1);
    }
    return x.with(e.transpose(x.ref(), perm), shape);
  }

  /** Keras' {@code conv_output_length}. */
  static long outLength(long len, long k, String padding, long stride, long dilation) {
    if (len < 0) {
      return -1;
    }
    long dk = (k - 1) * dilation + 1;
    long l =
        switch (padding) {
          case "same", "causal" -> len;
          case "full" -> len + dk - 1;
          default -> len - dk + 1;
        };
    return (l + stride - 1) / stride;
  }

  private static long[] withOnes(long[] v, int n) {
    long[] out = new long[n + 2];
    out[0] = 1;
    out[n + 1] = 1;
    System.arraycopy(v, 0, out, 1, n);
    return out;
  }

  /** A 1D input [N, W, C] as [N, 1, W, C], and the 2D equivalents of per-axis settings. */
  private static long[] as2d(long[] v, long first) {
    return new long[] {first, v[0]};
  }

  private static KT plain(Call c, KT x, int n) {
    Emit e = c.e;
    long[] k = c.ints("kernel_size", n, 1);
    long[] s = c.ints("strides", n, 1);
    long[] d = c.ints("dilation_rate", n, 1);
    String padding = c.string("padding", "valid");
    int filters = c.integer("filters", -1);
    long inCh = x.dim(-1);
    String in = x.ref();
    if (padding.equals("causal")) {
      long left = d[0] * (k[0] - 1);
      long[][] p = new long[n + 2][2];
      p[1][0] = left;
      in = e.pad(in, p);
    }
    String pad = padding.equals("same") ? "SAME" : "VALID";
    long[] out = new long[n + 2];
    out[0] = x.dim(0);
    for (int i = 0; i < n; i++) {
      out[i + 1] = outLength(x.dim(i + 1), k[i], padding, s[i], d[i]);
    }
    out[n + 1] = filters;
    String y;
    if (n == 1) {
      String kernel = c.weightAs("kernel", 0, 1, k[0], inCh, filters);
      String x2 = e.expandDims(in, 1);
      y =
          e.op(
              "Conv2D",
              List.of(x2, kernel),
              "strides",
              withOnes(as2d(s, 1), 2),
              "padding",
              pad,
              "dilations",
              withOnes(as2d(d, 1), 2),
              "data_format",
              "NHWC",
              "use_cudnn_on_gpu",
              true,
              "explicit_paddings",
              new long[0]);
      y = e.squeeze(y, 1);
    } else {
      String kernel = c.weight("kernel", 0);
      y =
          n == 2
              ? e.op(
                  "Conv2D",
                  List.of(in, kernel),
                  "strides",
                  withOnes(s, 2),
                  "padding",
                  pad,
                  "dilations",
                  withOnes(d, 2),
                  "data_format",
                  "NHWC",
                  "use_cudnn_on_gpu",
                  true,
                  "explicit_paddings",
                  new long[0])
              : e.op(
                  "Conv3D",
                  List.of(in, kernel),
                  "strides",
                  withOnes(s, 3),
                  "padding",
                  pad,
                  "dilations",
                  withOnes(d, 3),
                  "data_format",
                  "NDHWC");
    }
    return x.with(y, out);
  }

  private static String depthwiseOp(
      Emit e, String in, String kernel, long[] s2, long[] d2, String pad) {
    return e.op(
        "DepthwiseConv2dNative",
        List.of(in, kernel),
        "strides",
        withOnes(s2, 2),
        "padding",
        pad,
        "dilations",
        withOnes(d2, 2),
        "data_format",
        "NHWC",
        "explicit_paddings",
        new long[0]);
  }

  private static KT depthwise(Call c, KT x, int n) {
    Emit e = c.e;
    long[] k = c.ints("kernel_size", n, 1);
    long[] s = c.ints("strides", n, 1);
    long[] d = c.ints("dilation_rate", n, 1);
    String padding = c.string("padding", "valid");
    int mult = c.integer("depth_multiplier", 1);
    long inCh = x.dim(-1);
    String pad = padding.equals("same") ? "SAME" : "VALID";
    long[] out = new long[n + 2];
    out[0] = x.dim(0);
    for (int i = 0; i < n; i++) {
      out[i + 1] = outLength(x.dim(i + 1), k[i], padding, s[i], d[i]);
    }
    out[n + 1] = inCh * mult;
    String y;
    if (n == 1) {
      String kernel = c.weightAs("depthwise_kernel", 0, 1, k[0], inCh, mult);
      y =
          e.squeeze(
              depthwiseOp(e, e.expandDims(x.ref(), 1), kernel, as2d(s, 1), as2d(d, 1), pad), 1);
    } else {
      y = depthwiseOp(e, x.ref(), c.weight("depthwise_kernel", 0), s, d, pad);
    }
    return x.with(y, out);
  }

  private static KT separable(Call c, KT x, int n) {
    Emit e = c.e;
    long[] k = c.ints("kernel_size", n, 1);
    long[] s = c.ints("strides", n, 1);
    long[] d = c.ints("dilation_rate", n, 1);
    String padding = c.string("padding", "valid");
    int mult = c.integer("depth_multiplier", 1);
    int filters = c.integer("filters", -1);
    long inCh = x.dim(-1);
    String pad = padding.equals("same") ? "SAME" : "VALID";
    long[] out = new long[n + 2];
    out[0] = x.dim(0);
    for (int i = 0; i < n; i++) {
      out[i + 1] = outLength(x.dim(i + 1), k[i], padding, s[i], d[i]);
    }
    out[n + 1] = filters;
    String in = n == 1 ? e.expandDims(x.ref(), 1) : x.ref();
    String dk =
        n == 1
            ? c.weightAs("depthwise_kernel", 0, 1, k[0], inCh, mult)
            : c.weight("depthwise_kernel", 0);
    String pk = c.weightAs("pointwise_kernel", 1, 1, 1, inCh * mult, filters);
    String dw = depthwiseOp(e, in, dk, n == 1 ? as2d(s, 1) : s, n == 1 ? as2d(d, 1) : d, pad);
    String y =
        e.op(
            "Conv2D",
            List.of(dw, pk),
            "strides",
            new long[] {1, 1, 1, 1},
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
    return x.with(n == 1 ? e.squeeze(y, 1) : y, out);
  }

  /** Keras' {@code deconv_output_length}. */
  static long deconvLength(
      long len, long k, String padding, Long outputPadding, long stride, long dilation) {
    long dk = k + (k - 1) * (dilation - 1);
    if (outputPadding == null) {
      return switch (padding) {
        case "valid" -> len * stride + Math.max(dk - stride, 0);
        case "full" -> len * stride - (stride + dk - 2);
        default -> len * stride;
      };
    }
    long pad =
        switch (padding) {
          case "same" -> dk / 2;
          case "full" -> dk - 1;
          default -> 0;
        };
    return (len - 1) * stride + dk - 2 * pad + outputPadding;
  }

  private static KT transposed(Call c, KT x, int n) {
    Emit e = c.e;
    long[] k = c.ints("kernel_size", n, 1);
    long[] s = c.ints("strides", n, 1);
    long[] d = c.ints("dilation_rate", n, 1);
    long[] op = c.intList("output_padding");
    if (op != null && op.length == 1 && n > 1) {
      long v = op[0];
      op = new long[n];
      java.util.Arrays.fill(op, v);
    }
    String padding = c.string("padding", "valid");
    int filters = c.integer("filters", -1);
    long inCh = x.dim(-1);
    long[] out = new long[n + 2];
    out[0] = x.dim(0);
    for (int i = 0; i < n; i++) {
      if (x.dim(i + 1) < 0) {
        throw c.unsupported(
            "needs the input's spatial dimensions; give the model's input a full shape");
      }
      out[i + 1] = deconvLength(x.dim(i + 1), k[i], padding, op == null ? null : op[i], s[i], d[i]);
    }
    out[n + 1] = filters;
    String pad = padding.equals("same") ? "SAME" : "VALID";
    List<String> sizes = new ArrayList<>();
    sizes.add(e.batchSize(x.ref()));
    if (n == 1) {
      sizes.add(e.intScalar(1));
    }
    for (int i = 1; i < out.length; i++) {
      sizes.add(e.intScalar(out[i]));
    }
    String inputSizes =
        e.raw(
            "Pack",
            sizes,
            Map.of("T", Emit.type(KT.INT32), "N", Emit.attr(sizes.size()), "axis", Emit.attr(0)));
    String y;
    if (n == 3) {
      y =
          e.raw(
              "Conv3DBackpropInputV2",
              List.of(inputSizes, c.weight("kernel", 0), x.ref()),
              Map.of(
                  "T", Emit.type(KT.FLOAT),
                  "Tshape", Emit.type(KT.INT32),
                  "strides", Emit.attr(withOnes(s, 3)),
                  "padding", Emit.attr(pad),
                  "dilations", Emit.attr(withOnes(d, 3)),
                  "data_format", Emit.attr("NDHWC")));
    } else {
      String kernel =
          n == 1 ? c.weightAs("kernel", 0, 1, k[0], filters, inCh) : c.weight("kernel", 0);
      String in = n == 1 ? e.expandDims(x.ref(), 1) : x.ref();
      y =
          e.op(
              "Conv2DBackpropInput",
              List.of(inputSizes, kernel, in),
              "strides",
              withOnes(n == 1 ? as2d(s, 1) : s, 2),
              "padding",
              pad,
              "dilations",
              withOnes(n == 1 ? as2d(d, 1) : d, 2),
              "data_format",
              "NHWC",
              "use_cudnn_on_gpu",
              true,
              "explicit_paddings",
              new long[0]);
      if (n == 1) {
        y = e.squeeze(y, 1);
      }
    }
    return x.with(y, out);
  }
}
