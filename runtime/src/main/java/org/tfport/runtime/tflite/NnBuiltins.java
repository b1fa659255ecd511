package org.tfport.runtime.tflite;

import static org.tfport.runtime.tflite.ImportAttrs.b;
import static org.tfport.runtime.tflite.ImportAttrs.f;
import static org.tfport.runtime.tflite.ImportAttrs.i;
import static org.tfport.runtime.tflite.ImportAttrs.ints;
import static org.tfport.runtime.tflite.ImportAttrs.str;
import static org.tfport.runtime.tflite.ImportAttrs.type;

import java.util.List;
import org.tfport.core.DType;
import org.tfport.formats.tflite.BuiltinOptions;
import org.tfport.formats.tflite.BuiltinOptions.Activation;
import org.tfport.formats.tflite.TfliteBuiltin;
import org.tfport.runtime.tflite.SubgraphImport.Refusal;

/**
 * Convolutions, fully connected layers, pooling, normalizations and activations: TFLite's NHWC
 * builtins back to TensorFlow ops, filters re-laid out once at import (CONV_2D OHWI → HWIO,
 * DEPTHWISE_CONV_2D 1,H,W,C·M → H,W,C,M, TRANSPOSE_CONV OHWI → HWOI), biases as {@code BiasAdd} and
 * fused activations as their own nodes.
 */
final class NnBuiltins {
  private NnBuiltins() {}

  /** Maps the operator when it is one of this family's; false when it is not. */
  static boolean map(SubgraphImport s, TfliteBuiltin builtin) {
    switch (builtin) {
      case CONV_2D -> conv2d(s);
      case DEPTHWISE_CONV_2D -> depthwise(s);
      case FULLY_CONNECTED -> fullyConnected(s);
      case TRANSPOSE_CONV -> transposeConv(s);
      case AVERAGE_POOL_2D -> pool(s, "AvgPool");
      case MAX_POOL_2D -> pool(s, "MaxPool");
      case L2_POOL_2D -> l2Pool(s);
      case SOFTMAX -> softmax(s);
      case LOG_SOFTMAX -> s.define(0, unary(s, "LogSoftmax", s.in(0)));
      case L2_NORMALIZATION -> l2Normalization(s);
      case LOCAL_RESPONSE_NORMALIZATION ->
          s.define(
              0,
              s.node(
                  "LRN",
                  s.base,
                  List.of(s.in(0)),
                  "T",
                  type(outType(s)),
                  "depth_radius",
                  i(s.intOption("radius", 5)),
                  "bias",
                  f(floatOption(s, "bias", 1)),
                  "alpha",
                  f(floatOption(s, "alpha", 1)),
                  "beta",
                  f(floatOption(s, "beta", 0.5f))));
      case BATCH_MATMUL -> batchMatMul(s);
      case RELU -> s.define(0, unary(s, "Relu", s.in(0)));
      case RELU6 -> s.define(0, unary(s, "Relu6", s.in(0)));
      case RELU_N1_TO_1 -> s.define(0, clip(s, s.in(0), -1, 1, s.base));
      case RELU_0_TO_1 -> s.define(0, clip(s, s.in(0), 0, 1, s.base));
      case TANH -> s.define(0, unary(s, "Tanh", s.in(0)));
      case LOGISTIC -> s.define(0, unary(s, "Sigmoid", s.in(0)));
      case ELU -> s.define(0, unary(s, "Elu", s.in(0)));
      case LEAKY_RELU ->
          s.define(
              0,
              s.node(
                  "LeakyRelu",
                  s.base,
                  List.of(s.in(0)),
                  "T",
                  type(outType(s)),
                  "alpha",
                  f(floatOption(s, "alpha", 0.2f))));
      case PRELU ->
          s.define(0, s.node("Prelu", s.base, List.of(s.in(0), s.in(1)), "T", type(outType(s))));
      case HARD_SWISH -> CompositeActivations.hardSwish(s);
      case GELU -> CompositeActivations.gelu(s);
      default -> {
        return false;
      }
    }
    return true;
  }

  static DType outType(SubgraphImport s) {
    return s.dtypeOf(s.outIndex(0));
  }

  static float floatOption(SubgraphImport s, String field, float fallback) {
    return ((Number) s.option(field, fallback)).floatValue();
  }

  static String unary(SubgraphImport s, String op, String x) {
    return s.node(op, s.base, List.of(x), "T", type(outType(s)));
  }

  // -------------------------------------------------------------------------------------------
  // activations

  /** The operator's {@code fused_activation_function}, read from whichever options table it has. */
  static Activation fusedActivation(SubgraphImport s) {
    int a = s.intOption("fused_activation_function", 0);
    if (a < 0 || a >= Activation.values().length) {
      throw new Refusal("fused_activation_function " + a + " is not in the schema");
    }
    return Activation.values()[a];
  }

  /** {@code x} followed by the fused activation as its own node; the operator's result. */
  static String activation(SubgraphImport s, String x, Activation a, DType t) {
    return switch (a) {
      case NONE -> x;
      case RELU -> s.node("Relu", s.base + "/Relu", List.of(x), "T", type(t));
      case RELU6 -> s.node("Relu6", s.base + "/Relu6", List.of(x), "T", type(t));
      case RELU_N1_TO_1 -> clip(s, x, -1, 1, s.base + "/ReluN1To1");
      case TANH -> s.node("Tanh", s.base + "/Tanh", List.of(x), "T", type(t));
      case SIGN_BIT -> throw new Refusal("fused activation SIGN_BIT has no TensorFlow op");
    };
  }

  static String clip(SubgraphImport s, String x, double lo, double hi, String name) {
    DType t = outType(s);
    return s.node(
        "ClipByValue",
        name,
        List.of(x, s.scalarConst(name + "/min", t, lo), s.scalarConst(name + "/max", t, hi)),
        "T",
        type(t));
  }

  /** {@code y} plus the bias input {@code i} when the operator has one. */
  static String bias(SubgraphImport s, String y, int i, DType t) {
    if (!s.hasInput(i)) {
      return y;
    }
    return s.node(
        "BiasAdd",
        s.base + "/BiasAdd",
        List.of(y, s.in(i)),
        "T",
        type(t),
        "data_format",
        str("NHWC"));
  }

  // -------------------------------------------------------------------------------------------
  // convolutions

  /**
   * Filter input {@code i} with its axes permuted by {@code perm}: a constant is re-laid out now,
   * anything else gets a {@code Transpose}.
   */
  static String filter(SubgraphImport s, int i, int[] perm) {
    int t = s.inIndex(i);
    float[] v = s.constantFloats(t);
    long[] dims = Weights.dims(s.tensor(t));
    if (dims.length != perm.length) {
      throw new Refusal("the filter " + s.tensor(t).shape() + " is not " + perm.length + "-D");
    }
    if (v != null) {
      String c =
          s.constNode(
              s.sanitize(s.tensor(t).name(), t) + "/relayout",
              Weights.floats(Weights.permuted(dims, perm), Weights.permute(v, dims, perm)));
      s.keepQuantized(c, t, perm, null);
      return c;
    }
    long[] p = new long[perm.length];
    for (int k = 0; k < p.length; k++) {
      p[k] = perm[k];
    }
    return s.node(
        "Transpose",
        s.base + "/filter",
        List.of(s.in(i), s.intsConst(s.base + "/filter/perm", p)),
        "T",
        type(outType(s)),
        "Tperm",
        type(DType.INT32));
  }

  private static String keptFilter(SubgraphImport s, int w, long[] hwcm, float[] v) {
    String c =
        s.constNode(s.sanitize(s.tensor(w).name(), w) + "/relayout", Weights.floats(hwcm, v));
    s.keepQuantized(c, w, null, hwcm);
    return c;
  }

  static String padding(BuiltinOptions.Padding p) {
    return p == BuiltinOptions.Padding.SAME ? "SAME" : "VALID";
  }

  private static <T extends BuiltinOptions> T required(SubgraphImport s, Class<T> type) {
    T o = s.options(type);
    if (o == null) {
      throw new Refusal("it has no options table");
    }
    return o;
  }

  private static void conv2d(SubgraphImport s) {
    var o = required(s, BuiltinOptions.Conv2D.class);
    DType t = outType(s);
    String y =
        s.node(
            "Conv2D",
            s.base + "/Conv2D",
            List.of(s.in(0), filter(s, 1, new int[] {1, 2, 3, 0})),
            "T",
            type(t),
            "strides",
            ints(1, o.strideH(), o.strideW(), 1),
            "padding",
            str(padding(o.padding())),
            "dilations",
            ints(1, o.dilationHFactor(), o.dilationWFactor(), 1),
            "data_format",
            str("NHWC"),
            "explicit_paddings",
            ints(),
            "use_cudnn_on_gpu",
            b(true));
    s.define(0, activation(s, bias(s, y, 2, t), o.fusedActivation(), t));
  }

  private static void depthwise(SubgraphImport s) {
    var o = required(s, BuiltinOptions.DepthwiseConv2D.class);
    DType t = outType(s);
    int w = s.inIndex(1);
    long[] wd = Weights.dims(s.tensor(w));
    if (wd.length != 4 || wd[0] != 1) {
      throw new Refusal("the depthwise filter is " + s.tensor(w).shape() + ", not [1, H, W, C*M]");
    }
    long[] xs = s.knownShape(s.inIndex(0));
    long channels =
        xs.length == 4 && xs[3] > 0
            ? xs[3]
            : o.depthMultiplier() > 0 ? wd[3] / o.depthMultiplier() : -1;
    if (channels <= 0 || wd[3] % channels != 0) {
      throw new Refusal(
          "cannot tell the input channels of the depthwise filter " + s.tensor(w).shape());
    }
    long[] hwcm = {wd[1], wd[2], channels, wd[3] / channels};
    float[] v = s.constantFloats(w);
    // [1, H, W, C*M] and [H, W, C, M] are the same bytes in C order: output channel c*M + m.
    String filter =
        v != null
            ? keptFilter(s, w, hwcm, v)
            : s.node(
                "Reshape",
                s.base + "/filter",
                List.of(s.in(1), s.intsConst(s.base + "/filter/shape", hwcm)),
                "T",
                type(t),
                "Tshape",
                type(DType.INT32));
    String y =
        s.node(
            "DepthwiseConv2dNative",
            s.base + "/DepthwiseConv2dNative",
            List.of(s.in(0), filter),
            "T",
            type(t),
            "strides",
            ints(1, o.strideH(), o.strideW(), 1),
            "padding",
            str(padding(o.padding())),
            "dilations",
            ints(1, o.dilationHFactor(), o.dilationWFactor(), 1),
            "data_format",
            str("NHWC"),
            "explicit_paddings",
            ints());
    s.define(0, activation(s, bias(s, y, 2, t), o.fusedActivation(), t));
  }

  private static void fullyConnected(SubgraphImport s) {
    var o = s.options(BuiltinOptions.FullyConnected.class);
    Activation act = o == null ? Activation.NONE : o.fusedActivation();
    boolean keepDims = o != null && o.keepNumDims();
    if (o != null && o.weightsFormat() != 0) {
      throw new Refusal(
          "weights_format " + o.weightsFormat() + " (shuffled int8 weights) is not supported");
    }
    if (s.op.outputs().size() != 1) {
      throw new Refusal(
          "it has " + s.op.outputs().size() + " outputs; tfport imports the one-output form");
    }
    DType t = outType(s);
    long[] wd = Weights.dims(s.tensor(s.inIndex(1)));
    if (wd.length != 2) {
      throw new Refusal("the weights are " + s.tensor(s.inIndex(1)).shape() + ", not [out, in]");
    }
    int xt = s.inIndex(0);
    long[] xs = s.knownShape(xt);
    String x = s.in(0);
    // TFLite reads the input as [size / in, in] whatever its rank.
    if (!(xs.length == 2 && xs[1] == wd[1])) {
      x =
          s.node(
              "Reshape",
              s.base + "/flatten",
              List.of(x, s.intsConst(s.base + "/flatten/shape", -1, wd[1])),
              "T",
              type(t),
              "Tshape",
              type(DType.INT32));
    }
    String y =
        s.node(
            "MatMul",
            s.base + "/MatMul",
            List.of(x, s.in(1)),
            "T",
            type(t),
            "transpose_a",
            b(false),
            "transpose_b",
            b(true));
    y = activation(s, bias(s, y, 2, t), act, t);
    if (keepDims && xs.length != 2) {
      y = restoreOuterDims(s, y, xt, wd[0], t);
    }
    s.define(0, y);
  }

  /**
   * {@code y} [N, out] reshaped to the input's outer dims followed by {@code out} (keep_num_dims).
   */
  private static String restoreOuterDims(SubgraphImport s, String y, int xt, long out, DType t) {
    long[] target = s.knownShape(s.outIndex(0));
    int unknown = 0;
    for (long d : target) {
      unknown += d < 0 ? 1 : 0;
    }
    String shape;
    if (unknown <= 1 && target.length > 0 && target[target.length - 1] == out) {
      shape = s.intsConst(s.base + "/shape", target);
    } else {
      String full =
          s.node(
              "Shape",
              s.base + "/input_shape",
              List.of(s.ref(xt)),
              "T",
              type(s.dtypeOf(xt)),
              "out_type",
              type(DType.INT32));
      String outer =
          s.node(
              "StridedSlice",
              s.base + "/outer_dims",
              List.of(
                  full,
                  s.intsConst(s.base + "/begin", 0),
                  s.intsConst(s.base + "/end", -1),
                  s.intsConst(s.base + "/strides", 1)),
              "T",
              type(DType.INT32),
              "Index",
              type(DType.INT32),
              "begin_mask",
              i(1),
              "end_mask",
              i(0),
              "ellipsis_mask",
              i(0),
              "new_axis_mask",
              i(0),
              "shrink_axis_mask",
              i(0));
      shape =
          s.node(
              "ConcatV2",
              s.base + "/shape",
              List.of(outer, s.intsConst(s.base + "/units", out), s.intConst(s.base + "/axis", 0)),
              "N",
              i(2),
              "T",
              type(DType.INT32),
              "Tidx",
              type(DType.INT32));
    }
    return s.node(
        "Reshape",
        s.base + "/Reshape",
        List.of(y, shape),
        "T",
        type(t),
        "Tshape",
        type(DType.INT32));
  }

  private static void transposeConv(SubgraphImport s) {
    var o = required(s, BuiltinOptions.TransposeConv.class);
    DType t = outType(s);
    // The filter is [out channels, H, W, in channels]; Conv2DBackpropInput takes [H, W, out, in].
    String y =
        s.node(
            "Conv2DBackpropInput",
            s.base + "/Conv2DBackpropInput",
            List.of(s.in(0), filter(s, 1, new int[] {1, 2, 0, 3}), s.in(2)),
            "T",
            type(t),
            "strides",
            ints(1, o.strideH(), o.strideW(), 1),
            "padding",
            str(padding(o.padding())),
            "dilations",
            ints(1, 1, 1, 1),
            "data_format",
            str("NHWC"),
            "explicit_paddings",
            ints(),
            "use_cudnn_on_gpu",
            b(true));
    s.define(0, activation(s, bias(s, y, 3, t), o.fusedActivation(), t));
  }

  private static void pool(SubgraphImport s, String op) {
    var o = required(s, BuiltinOptions.Pool2D.class);
    DType t = outType(s);
    String y =
        s.node(
            op,
            s.base + "/" + op,
            List.of(s.in(0)),
            "T",
            type(t),
            "ksize",
            ints(1, o.filterHeight(), o.filterWidth(), 1),
            "strides",
            ints(1, o.strideH(), o.strideW(), 1),
            "padding",
            str(padding(o.padding())),
            "data_format",
            str("NHWC"));
    s.define(0, activation(s, y, o.fusedActivation(), t));
  }

  /** sqrt(mean of squares over each window), the mean over the window's cells inside the input. */
  private static void l2Pool(SubgraphImport s) {
    var o = required(s, BuiltinOptions.Pool2D.class);
    DType t = outType(s);
    String sq = s.node("Square", s.base + "/Square", List.of(s.in(0)), "T", type(t));
    String avg =
        s.node(
            "AvgPool",
            s.base + "/AvgPool",
            List.of(sq),
            "T",
            type(t),
            "ksize",
            ints(1, o.filterHeight(), o.filterWidth(), 1),
            "strides",
            ints(1, o.strideH(), o.strideW(), 1),
            "padding",
            str(padding(o.padding())),
            "data_format",
            str("NHWC"));
    String y = s.node("Sqrt", s.base + "/Sqrt", List.of(avg), "T", type(t));
    s.define(0, activation(s, y, o.fusedActivation(), t));
  }

  private static void softmax(SubgraphImport s) {
    var o = s.options(BuiltinOptions.Softmax.class);
    float beta = o == null ? 1f : o.beta();
    DType t = outType(s);
    String x = s.in(0);
    if (beta != 1f) {
      x =
          s.node(
              "Mul",
              s.base + "/beta",
              List.of(x, s.scalarConst(s.base + "/beta/value", t, beta)),
              "T",
              type(t));
    }
    s.define(0, s.node("Softmax", s.base, List.of(x), "T", type(t)));
  }

  /**
   * x / max(sqrt(sum of squares over the last axis), 1e-6), as TFLite's float kernel computes it.
   */
  private static void l2Normalization(SubgraphImport s) {
    DType t = outType(s);
    String x = s.in(0);
    String sq = s.node("Square", s.base + "/Square", List.of(x), "T", type(t));
    String sum =
        s.node(
            "Sum",
            s.base + "/Sum",
            List.of(sq, s.intsConst(s.base + "/axis", -1)),
            "T",
            type(t),
            "Tidx",
            type(DType.INT32),
            "keep_dims",
            b(true));
    String norm = s.node("Sqrt", s.base + "/Sqrt", List.of(sum), "T", type(t));
    String floor =
        s.node(
            "Maximum",
            s.base + "/Maximum",
            List.of(norm, s.scalarConst(s.base + "/epsilon", t, 1e-6)),
            "T",
            type(t));
    String y = s.node("RealDiv", s.base + "/RealDiv", List.of(x, floor), "T", type(t));
    s.define(0, activation(s, y, fusedActivation(s), t));
  }

  private static void batchMatMul(SubgraphImport s) {
    var o = s.options(BuiltinOptions.BatchMatMul.class);
    s.define(
        0,
        s.node(
            "BatchMatMulV2",
            s.base,
            List.of(s.in(0), s.in(1)),
            "T",
            type(outType(s)),
            "adj_x",
            b(o != null && o.adjX()),
            "adj_y",
            b(o != null && o.adjY())));
  }
}
