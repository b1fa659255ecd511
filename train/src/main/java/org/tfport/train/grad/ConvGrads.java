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
 * Convolutions and pooling. Conv2D's input gradient is TensorFlow's {@code Conv2DBackpropInput} and
 * its filter gradient {@code Conv2DBackpropFilter}, both on the runtime's GEMM for NHWC float32
 * whatever the stride; an NCHW convolution or pooling differentiates through the same ops in NCHW.
 * Depthwise and transposed convolutions use TensorFlow's backprop ops; pooling its MaxPoolGrad (the
 * window's first maximum gets the gradient, as in TF.js) and AvgPoolGrad, one pass over the windows
 * whatever their size, stride and padding.
 */
final class ConvGrads {
  private static final AttrValue F32 = new AttrValue.Type(DataTypes.DT_FLOAT);
  private static final AttrValue I32 = new AttrValue.Type(DataTypes.fromDType(DType.INT32));

  private ConvGrads() {}

  static void register(Map<String, GradRule> r) {
    r.put("Conv2D", ConvGrads::conv2d);
    r.put("Conv3D", ConvGrads::conv3d);
    r.put("DepthwiseConv2dNative", ConvGrads::depthwise);
    r.put("Conv2DBackpropInput", ConvGrads::transposed);
    r.put("MaxPool", (g, n, dy) -> pool(g, n, dy.get(0), true));
    r.put("AvgPool", (g, n, dy) -> pool(g, n, dy.get(0), false));
    r.put("AvgPool3D", ConvGrads::avgPool3d);
    r.put("MaxPool3D", ConvGrads::maxPool3d);
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
    String format = n.attr("data_format") != null ? n.stringAttr("data_format") : "NHWC";
    if (!"NHWC".equals(format) && !"NCHW".equals(format)) {
      throw unsupported(n, "a convolution in " + format);
    }
    String padding = n.stringAttr("padding");
    if (!"SAME".equals(padding) && !"VALID".equals(padding)) {
      throw unsupported(n, "padding " + padding);
    }
    long[] strides = ints(n, "strides", 1);
    long[] dil = ints(n, "dilations", 1);
    long[] sf = g.dims(f);
    Map<String, AttrValue> a = attrs(n, strides, dil, padding);
    a.put("data_format", GradContext.attr(format));
    String dx = g.raw("Conv2DBackpropInput", List.of(g.shape(x), f, dy), a);
    // The filter gradient sums over every output position of every image: one product on the
    // runtime's GEMM (windows gathered transposed × dy), not a convolution of transposed copies.
    String df = g.raw("Conv2DBackpropFilter", List.of(x, g.ints(sf), dy), a);
    return List.of(dx, df);
  }

  /** Conv3D(x, f) in NDHWC: TensorFlow's V2 backprop ops, the input's sizes read at run time. */
  private static List<String> conv3d(GradContext g, Node n, List<String> dys) {
    String x = n.dataInputs().get(0);
    String f = n.dataInputs().get(1);
    if (n.attr("data_format") != null && !"NDHWC".equals(n.stringAttr("data_format"))) {
      throw unsupported(n, "a convolution in " + n.stringAttr("data_format"));
    }
    String padding = n.stringAttr("padding");
    if (!"SAME".equals(padding) && !"VALID".equals(padding)) {
      throw unsupported(n, "padding " + padding);
    }
    Map<String, AttrValue> a = new java.util.HashMap<>();
    a.put("T", F32);
    a.put("strides", n.attr("strides"));
    a.put("padding", n.attr("padding"));
    a.put("data_format", GradContext.attr("NDHWC"));
    a.put(
        "dilations",
        n.attr("dilations") != null
            ? n.attr("dilations")
            : GradContext.attr(new long[] {1, 1, 1, 1, 1}));
    a.put("Tshape", I32);
    String dx = g.raw("Conv3DBackpropInputV2", List.of(g.shape(x), f, dys.get(0)), a);
    String df = g.raw("Conv3DBackpropFilterV2", List.of(x, g.ints(g.dims(f)), dys.get(0)), a);
    return List.of(dx, df);
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
    return List.of(poolGradOp(g, n, n.dataInputs().get(0), dy, max));
  }

  /**
   * AvgPool3D with windows that tile the input (stride = window, VALID: Keras' default
   * AveragePooling3D): each output's gradient divided by the window's size and copied back over its
   * window; the rows a VALID pool leaves out get zero. Overlapping or padded windows are refused by
   * name (the runtime has no AvgPool3DGrad).
   */
  private static List<String> avgPool3d(GradContext g, Node n, List<String> dys) {
    String x = n.dataInputs().get(0);
    long[] k = ints(n, "ksize", 1);
    long[] st = ints(n, "strides", 1);
    if (n.attr("data_format") != null && !"NDHWC".equals(n.stringAttr("data_format"))) {
      throw unsupported(n, "a pooling in " + n.stringAttr("data_format"));
    }
    if (!"VALID".equals(n.stringAttr("padding")) || !Arrays.equals(k, st) || k.length != 5) {
      throw unsupported(n, "a 3D average pooling whose windows overlap or are padded");
    }
    long[] sx = g.dims(x);
    long[] split = new long[8];
    long[] mult = new long[8];
    long[] whole = new long[5];
    int[] pads = new int[10];
    split[0] = -1;
    mult[0] = 1;
    whole[0] = -1;
    long count = 1;
    for (int i = 1; i <= 3; i++) {
      if (sx[i] < 0) {
        throw unsupported(n, "a 3D average pooling of a dimension of unknown size");
      }
      long out = sx[i] / k[i];
      split[2 * i - 1] = out;
      split[2 * i] = 1;
      mult[2 * i - 1] = 1;
      mult[2 * i] = k[i];
      whole[i] = out * k[i];
      pads[2 * i + 1] = Math.toIntExact(sx[i] - whole[i]);
      count *= k[i];
    }
    split[7] = sx[4];
    mult[7] = 1;
    whole[4] = sx[4];
    String d = g.binary("RealDiv", dys.get(0), g.scalar((float) count));
    String tiled =
        g.raw(
            "Tile",
            List.of(g.reshape(d, g.ints(split)), g.ints(mult)),
            Map.of("T", F32, "Tmultiples", I32));
    String back = g.reshape(tiled, g.ints(whole));
    String paddings =
        g.constant(org.tfport.core.Tensor.ofInts(org.tfport.core.Shape.of(5, 2), pads));
    return List.of(g.raw("Pad", List.of(back, paddings), Map.of("T", F32, "Tpaddings", I32)));
  }

  /**
   * MaxPool3D with windows that tile the input, as TensorFlow's MaxPool3DGrad: each output's
   * gradient to its window's first maximum (ArgMax over the window's elements, one-hot), the rows a
   * VALID pool leaves out zero.
   */
  private static List<String> maxPool3d(GradContext g, Node n, List<String> dys) {
    String x = n.dataInputs().get(0);
    long[] k = ints(n, "ksize", 1);
    long[] st = ints(n, "strides", 1);
    if (n.attr("data_format") != null && !"NDHWC".equals(n.stringAttr("data_format"))) {
      throw unsupported(n, "a pooling in " + n.stringAttr("data_format"));
    }
    if (!"VALID".equals(n.stringAttr("padding")) || !Arrays.equals(k, st) || k.length != 5) {
      throw unsupported(n, "a 3D max pooling whose windows overlap or are padded");
    }
    long[] sx = g.dims(x);
    long[] out = new long[5];
    long[] whole = {-1, 0, 0, 0, sx[4]};
    int[] pads = new int[10];
    for (int i = 1; i <= 3; i++) {
      if (sx[i] < 0) {
        throw unsupported(n, "a 3D max pooling of a dimension of unknown size");
      }
      out[i] = sx[i] / k[i];
      whole[i] = out[i] * k[i];
      pads[2 * i + 1] = Math.toIntExact(sx[i] - whole[i]);
    }
    long c = sx[4];
    long size = k[1] * k[2] * k[3];
    AttrValue i32 = I32;
    String cropped =
        g.raw(
            "Slice",
            List.of(x, g.ints(0, 0, 0, 0, 0), g.ints(-1, whole[1], whole[2], whole[3], -1)),
            Map.of("T", F32, "Index", i32));
    String windows = g.reshape(cropped, g.ints(-1, out[1], k[1], out[2], k[2], out[3], k[3], c));
    String flat =
        g.reshape(
            g.transpose(windows, 0, 1, 3, 5, 7, 2, 4, 6),
            g.ints(-1, out[1], out[2], out[3], c, size));
    String first =
        g.raw(
            "ArgMax",
            List.of(
                flat, g.constant(org.tfport.core.Tensor.ofInts(org.tfport.core.Shape.SCALAR, 5))),
            Map.of("T", F32, "Tidx", i32, "output_type", i32));
    String hot =
        g.raw(
            "OneHot",
            List.of(
                first,
                g.constant(org.tfport.core.Tensor.ofInts(org.tfport.core.Shape.SCALAR, (int) size)),
                g.scalar(1f),
                g.scalar(0f)),
            Map.of("T", F32, "TI", i32, "axis", new AttrValue.Int(-1)));
    String dy = g.reshape(dys.get(0), g.ints(-1, out[1], out[2], out[3], c, 1));
    String spread =
        g.reshape(g.mul(hot, dy), g.ints(-1, out[1], out[2], out[3], c, k[1], k[2], k[3]));
    String back = g.reshape(g.transpose(spread, 0, 1, 5, 2, 6, 3, 7, 4), g.ints(whole));
    String paddings =
        g.constant(org.tfport.core.Tensor.ofInts(org.tfport.core.Shape.of(5, 2), pads));
    return List.of(g.raw("Pad", List.of(back, paddings), Map.of("T", F32, "Tpaddings", I32)));
  }
}
