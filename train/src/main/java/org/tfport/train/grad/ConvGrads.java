package org.tfport.train.grad;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Node;

/**
 * Convolutions and pooling, NHWC. Conv2D's input gradient is TensorFlow's {@code
 * Conv2DBackpropInput}; its filter gradient is itself a convolution (input channels as the batch,
 * the output gradient as a filter dilated by the stride), so both run on the runtime's convolution
 * kernels. Depthwise and transposed convolutions use TensorFlow's backprop ops; pooling its
 * MaxPoolGrad (the window's first maximum gets the gradient, as in TF.js) and AvgPoolGrad, one pass
 * over the windows whatever their size, stride and padding.
 */
final class ConvGrads {
  private static final AttrValue F32 = new AttrValue.Type(DataTypes.DT_FLOAT);
  private static final AttrValue I32 = new AttrValue.Type(DataTypes.fromDType(DType.INT32));

  private ConvGrads() {}

  static void register(Map<String, GradRule> r) {
    r.put("Conv2D", ConvGrads::conv2d);
    r.put("DepthwiseConv2dNative", ConvGrads::depthwise);
    r.put("Conv2DBackpropInput", ConvGrads::transposed);
    r.put("MaxPool", (g, n, dy) -> pool(g, n, dy.get(0), true));
    r.put("AvgPool", (g, n, dy) -> pool(g, n, dy.get(0), false));
  }

  private static long[] ints(Node n, String key, long dflt) {
    if (n.attr(key) instanceof AttrValue.ListAttr l) {
      return l.i().stream().mapToLong(Long::longValue).toArray();
    }
    long[] d = new long[4];
    Arrays.fill(d, dflt);
    return d;
  }

  private static UnsupportedModelException unsupported(Node n, String why) {
    return new UnsupportedModelException(
        n.name() + " (" + n.op() + "): cannot differentiate " + why + " yet; freeze the layer");
  }

  private static List<String> conv2d(GradContext g, Node n, List<String> dys) {
    String x = n.dataInputs().get(0);
    String f = n.dataInputs().get(1);
    String dy = dys.get(0);
    if (n.attr("data_format") != null && "NCHW".equals(n.stringAttr("data_format"))) {
      throw unsupported(n, "an NCHW convolution");
    }
    String padding = n.stringAttr("padding");
    if (!"SAME".equals(padding) && !"VALID".equals(padding)) {
      throw unsupported(n, "padding " + padding);
    }
    long[] strides = ints(n, "strides", 1);
    long[] dil = ints(n, "dilations", 1);
    long[] sx = g.dims(x);
    long[] sf = g.dims(f);
    long[] sy = g.dims(n.name());
    for (int i = 1; i < 3; i++) {
      if (sx[i] < 0 || sy[i] < 0) {
        throw unsupported(n, "a convolution over spatial dimensions of unknown size");
      }
    }
    // Input padded as the forward pass saw it.
    long[] pad = new long[8];
    for (int i = 1; i < 3; i++) {
      long eff = (sf[i - 1] - 1) * dil[i] + 1;
      long total = "SAME".equals(padding) ? Math.max((sy[i] - 1) * strides[i] + eff - sx[i], 0) : 0;
      pad[2 * i] = total / 2;
      pad[2 * i + 1] = total - total / 2;
    }
    boolean unit = strides[1] == 1 && strides[2] == 1 && dil[1] == 1 && dil[2] == 1;
    String dx =
        unit
            ? fullCorrelation(g, dy, f, sf, pad)
            : g.raw(
                "Conv2DBackpropInput",
                List.of(g.raw("Shape", List.of(x), Map.of("T", F32, "out_type", I32)), f, dy),
                attrs(n, strides, dil, padding));
    String xp = x;
    if (Arrays.stream(pad).anyMatch(p -> p != 0)) {
      xp =
          g.raw(
              "Pad",
              List.of(
                  x,
                  g.constant(
                      org.tfport.core.Tensor.ofInts(org.tfport.core.Shape.of(4, 2), toInts(pad)))),
              Map.of("T", F32, "Tpaddings", I32));
    }
    String xt = g.transpose(xp, 3, 1, 2, 0); // [Cin, Hp, Wp, N]
    String ft = g.transpose(dy, 1, 2, 0, 3); // [Ho, Wo, N, Cout]
    String c =
        g.op(
            "Conv2D",
            List.of(xt, ft),
            "strides",
            new long[] {1, dil[1], dil[2], 1},
            "dilations",
            new long[] {1, strides[1], strides[2], 1},
            "padding",
            "VALID",
            "data_format",
            "NHWC",
            "use_cudnn_on_gpu",
            true);
    // [Cin, kh', kw', Cout] with kh' ≥ kh when the stride does not divide the padded input.
    c =
        g.raw(
            "Slice",
            List.of(c, g.ints(0, 0, 0, 0), g.ints(-1, sf[0], sf[1], -1)),
            Map.of("T", F32, "Index", I32));
    return List.of(dx, g.transpose(c, 1, 2, 0, 3));
  }

  /** The window attributes of an NHWC convolution node, refusing what the rules do not cover. */
  private static Map<String, AttrValue> windowAttrs(Node n) {
    if (n.attr("data_format") != null && !"NHWC".equals(n.stringAttr("data_format"))) {
      throw unsupported(n, "a convolution in " + n.stringAttr("data_format"));
    }
    String padding = n.stringAttr("padding");
    if (!"SAME".equals(padding) && !"VALID".equals(padding)) {
      throw unsupported(n, "padding " + padding);
    }
    return attrs(n, ints(n, "strides", 1), ints(n, "dilations", 1), padding);
  }

  /**
   * DepthwiseConv2dNative(x, f): TensorFlow's own backprop ops, the input's sizes read at run time
   * (the batch varies), the filter's constant.
   */
  private static List<String> depthwise(GradContext g, Node n, List<String> dys) {
    String x = n.dataInputs().get(0);
    String f = n.dataInputs().get(1);
    String dy = dys.get(0);
    Map<String, AttrValue> a = windowAttrs(n);
    a.remove("use_cudnn_on_gpu");
    String dx = g.raw("DepthwiseConv2dNativeBackpropInput", List.of(g.shape(x), f, dy), a);
    String df = g.raw("DepthwiseConv2dNativeBackpropFilter", List.of(x, g.ints(g.dims(f)), dy), a);
    return List.of(dx, df);
  }

  /**
   * Conv2DBackpropInput(sizes, f, x) as Conv2DTranspose uses it, y = the input gradient of a
   * convolution of y by f that gives x: so x's gradient is that convolution of dy, and f's is the
   * filter gradient of that convolution with dy as its input and x as its output gradient.
   */
  private static List<String> transposed(GradContext g, Node n, List<String> dys) {
    String f = n.dataInputs().get(1);
    String x = n.dataInputs().get(2);
    String dy = dys.get(0);
    Map<String, AttrValue> a = windowAttrs(n);
    String dx = g.raw("Conv2D", List.of(dy, f), a);
    String df = g.raw("Conv2DBackpropFilter", List.of(dy, g.ints(g.dims(f)), x), a);
    return Arrays.asList(null, df, dx);
  }

  /**
   * The input gradient of a stride-1, undilated convolution as a convolution itself, so it runs on
   * the runtime's GEMM: dy padded by {@code k − 1 − p} on each side (p the forward padding there),
   * correlated with the filter turned by 180° and its channels swapped.
   */
  private static String fullCorrelation(
      GradContext g, String dy, String f, long[] sf, long[] forwardPad) {
    int[] pad = new int[8];
    for (int i = 1; i < 3; i++) {
      pad[2 * i] = (int) (sf[i - 1] - 1 - forwardPad[2 * i]);
      pad[2 * i + 1] = (int) (sf[i - 1] - 1 - forwardPad[2 * i + 1]);
    }
    String padded =
        g.raw(
            "Pad",
            List.of(
                dy, g.constant(org.tfport.core.Tensor.ofInts(org.tfport.core.Shape.of(4, 2), pad))),
            Map.of("T", F32, "Tpaddings", I32));
    String turned =
        g.transpose(
            g.raw("ReverseV2", List.of(f, g.ints(0, 1)), Map.of("T", F32, "Tidx", I32)),
            0,
            1,
            3,
            2);
    return g.raw(
        "Conv2D",
        List.of(padded, turned),
        attrs(null, new long[] {1, 1, 1, 1}, new long[] {1, 1, 1, 1}, "VALID"));
  }

  private static int[] toInts(long[] v) {
    int[] o = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      o[i] = (int) v[i];
    }
    return o;
  }

  private static Map<String, AttrValue> attrs(Node n, long[] strides, long[] dil, String padding) {
    return new java.util.HashMap<>(
        Map.of(
            "T", F32,
            "strides", GradContext.attr(strides),
            "dilations", GradContext.attr(dil),
            "padding", GradContext.attr(padding),
            "data_format", GradContext.attr("NHWC"),
            "use_cudnn_on_gpu", GradContext.attr(true),
            "explicit_paddings", GradContext.attr(new long[0])));
  }

  /**
   * TensorFlow's {@code MaxPoolGrad} (the window's first maximum gets the gradient) or {@code
   * AvgPoolGrad} (each output's gradient spread evenly over the input positions its window
   * counted), run by the runtime's kernels.
   */
  private static String poolGradOp(GradContext g, Node n, String x, String dy, boolean max) {
    Map<String, AttrValue> attrs = new java.util.LinkedHashMap<>();
    for (String a : List.of("ksize", "strides", "padding")) {
      attrs.put(a, n.attr(a));
    }
    if (n.attr("data_format") != null) {
      attrs.put("data_format", n.attr("data_format"));
    }
    attrs.put("T", F32);
    return max
        ? g.raw("MaxPoolGrad", List.of(x, n.name(), dy), attrs)
        : g.raw(
            "AvgPoolGrad",
            List.of(g.raw("Shape", List.of(x), Map.of("T", F32, "out_type", I32)), dy),
            attrs);
  }

  private static List<String> pool(GradContext g, Node n, String dy, boolean max) {
    if (n.attr("data_format") != null && "NCHW".equals(n.stringAttr("data_format"))) {
      throw unsupported(n, "NCHW pooling");
    }
    return List.of(poolGradOp(g, n, n.dataInputs().get(0), dy, max));
  }
}
