package org.tfport.runtime.tflite;

import static org.tfport.formats.tflite.TfliteBuiltin.*;
import static org.tfport.runtime.tflite.ImportAttrs.b;
import static org.tfport.runtime.tflite.ImportAttrs.f;
import static org.tfport.runtime.tflite.ImportAttrs.i;
import static org.tfport.runtime.tflite.ImportAttrs.ints;
import static org.tfport.runtime.tflite.ImportAttrs.str;
import static org.tfport.runtime.tflite.ImportAttrs.type;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.formats.tflite.BuiltinOptions.Activation;
import org.tfport.formats.tflite.TfliteBuiltin;
import org.tfport.formats.tflite.TfliteQuantization;
import org.tfport.formats.tflite.TfliteTensor;
import org.tfport.formats.tflite.TfliteType;
import org.tfport.runtime.tflite.SubgraphImport.Refusal;

/**
 * Operators of fully integer models (int8/uint8 activations, or int16 in 16x8 models) as nodes that
 * run TFLite's integer arithmetic. Two kinds:
 *
 * <ul>
 *   <li>Ops that rescale become {@code TfliteQuantized<Op>} nodes ({@code TfliteQuantize} and
 *       {@code TfliteDequantize} for QUANTIZE/DEQUANTIZE; a QUANTIZE between two integer types is a
 *       requantization), kept in TFLite's layouts (filters OHWI, depthwise [1, H, W, C·M], dense
 *       [out, in]) with their int8/uint8 weights and int32/int64 biases as integer {@code Const}s.
 *       Quantization parameters are attributes: {@code input_scale}/{@code input_zero_point} (first
 *       input), {@code input2_*} (second input of ADD, SUB, MUL, PRELU), {@code output_*}, {@code
 *       filter_scales}/{@code filter_zero_points} (one per output channel or one for all), plus
 *       {@code T} (activation type), {@code out_type} where it can differ, and the TFLite options
 *       ({@code fused_activation_function} as its name, {@code strides}, {@code padding}, ...).
 *   <li>Ops that only move quantized values (RESHAPE, TRANSPOSE, STRIDED_SLICE, GATHER, SPLIT,
 *       MAXIMUM, ARG_MAX, ...) become the standard TensorFlow op on the integer tensor, as TFLite
 *       copies the codes unchanged. PAD pads with the output's zero point; a CONCATENATION whose
 *       inputs differ in scale or zero point from the output requantizes those inputs first.
 * </ul>
 */
final class QuantizedBuiltins {
  private QuantizedBuiltins() {}

  /**
   * Builtins whose integer kernel copies quantized codes: the TensorFlow op on the integer tensor
   * is exact.
   */
  private static final Set<TfliteBuiltin> PASS_THROUGH =
      EnumSet.of(
          RESHAPE,
          SQUEEZE,
          EXPAND_DIMS,
          TRANSPOSE,
          STRIDED_SLICE,
          SLICE,
          GATHER,
          GATHER_ND,
          SPLIT,
          SPLIT_V,
          PACK,
          UNPACK,
          TILE,
          BROADCAST_TO,
          REVERSE_V2,
          MAXIMUM,
          MINIMUM,
          ARG_MAX,
          ARG_MIN,
          SPACE_TO_DEPTH,
          DEPTH_TO_SPACE,
          RESIZE_NEAREST_NEIGHBOR,
          SHAPE,
          PADV2,
          REDUCE_MAX,
          REDUCE_MIN);

  /** Emits the operator's nodes; false when tfport has no integer kernel for the builtin. */
  static boolean map(SubgraphImport s, TfliteBuiltin builtin) {
    if (PASS_THROUGH.contains(builtin)) {
      return ArrayBuiltins.map(s, builtin);
    }
    switch (builtin) {
      case QUANTIZE -> quantize(s);
      case DEQUANTIZE ->
          s.define(
              0,
              s.node(
                  "TfliteDequantize", s.base, List.of(s.in(0)), attrs(s, "input", s.inIndex(0))));
      case CONV_2D -> conv(s, false);
      case DEPTHWISE_CONV_2D -> conv(s, true);
      case FULLY_CONNECTED -> fullyConnected(s);
      case TRANSPOSE_CONV -> transposeConv(s);
      case AVERAGE_POOL_2D -> pool(s, "TfliteQuantizedAvgPool");
      case MAX_POOL_2D -> pool(s, "TfliteQuantizedMaxPool");
      case ADD -> binary(s, "TfliteQuantizedAdd", true);
      case SUB -> binary(s, "TfliteQuantizedSub", true);
      case MUL -> binary(s, "TfliteQuantizedMul", false);
      case PRELU -> binary(s, "TfliteQuantizedPrelu", false);
      case SOFTMAX -> {
        Map<String, AttrValue> a = unaryAttrs(s);
        a.put("beta", f(NnBuiltins.floatOption(s, "beta", 1f)));
        s.define(0, s.node("TfliteQuantizedSoftmax", s.base, List.of(s.in(0)), a));
      }
      case LOGISTIC ->
          s.define(0, s.node("TfliteQuantizedLogistic", s.base, List.of(s.in(0)), unaryAttrs(s)));
      case TANH ->
          s.define(0, s.node("TfliteQuantizedTanh", s.base, List.of(s.in(0)), unaryAttrs(s)));
      case RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1 -> {
        Map<String, AttrValue> a = unaryAttrs(s);
        a.put("activation", str(builtin.name()));
        s.define(0, s.node("TfliteQuantizedRelu", s.base, List.of(s.in(0)), a));
      }
      case LEAKY_RELU -> {
        Map<String, AttrValue> a = unaryAttrs(s);
        a.put("alpha", f(NnBuiltins.floatOption(s, "alpha", 0.2f)));
        s.define(0, s.node("TfliteQuantizedLeakyRelu", s.base, List.of(s.in(0)), a));
      }
      case MEAN -> {
        Map<String, AttrValue> a = unaryAttrs(s);
        a.put("keep_dims", b(s.boolOption("keep_dims")));
        s.define(0, s.node("TfliteQuantizedMean", s.base, List.of(s.in(0), s.in(1)), a));
      }
      case PAD -> pad(s);
      case CONCATENATION -> concat(s);
      case SVDF -> RecurrentBuiltins.quantizedSvdf(s);
      case LSTM, UNIDIRECTIONAL_SEQUENCE_LSTM, BIDIRECTIONAL_SEQUENCE_LSTM ->
          QuantizedLstmBuiltins.map(s, builtin);
      case HARD_SWISH ->
          s.define(0, s.node("TfliteQuantizedHardSwish", s.base, List.of(s.in(0)), unaryAttrs(s)));
      case RESIZE_BILINEAR ->
          // TFLite interpolates the codes: input and output share their quantization.
          s.define(
              0,
              s.node(
                  "TfliteQuantizedResizeBilinear",
                  s.base,
                  List.of(s.in(0), s.in(1)),
                  "T",
                  type(dtype(s, s.inIndex(0))),
                  "align_corners",
                  b(s.boolOption("align_corners")),
                  "half_pixel_centers",
                  b(s.boolOption("half_pixel_centers"))));
      default -> {
        return false;
      }
    }
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // parameters

  /** Scale and zero point of a per-tensor quantized tensor. */
  private static TfliteQuantization quantization(SubgraphImport s, int t) {
    TfliteTensor x = s.tensor(t);
    if (!Weights.isQuantized(x)) {
      throw new Refusal(
          "tensor '" + x.name() + "' (" + x.type() + ") has no quantization parameters");
    }
    return x.quantization();
  }

  private static float scale(SubgraphImport s, int t) {
    return quantization(s, t).scale().get(0);
  }

  private static long zeroPoint(SubgraphImport s, int t) {
    List<Long> z = quantization(s, t).zeroPoint();
    return z.isEmpty() ? 0 : z.get(0);
  }

  /** {@code <role>_scale} and {@code <role>_zero_point} of tensor {@code t}, added to {@code a}. */
  static Map<String, AttrValue> put(
      Map<String, AttrValue> a, SubgraphImport s, String role, int t) {
    if (quantization(s, t).scale().size() != 1) {
      throw new Refusal(
          "tensor '"
              + s.tensor(t).name()
              + "' is quantized per channel where TFLite takes one scale");
    }
    a.put(role + "_scale", f(scale(s, t)));
    a.put(role + "_zero_point", i(zeroPoint(s, t)));
    return a;
  }

  private static Map<String, AttrValue> attrs(SubgraphImport s, String role, int t) {
    return put(new LinkedHashMap<>(), s, role, t);
  }

  private static DType dtype(SubgraphImport s, int t) {
    return s.dtypeOf(t);
  }

  /** T (the first input's type), out_type, and the first input's and the output's parameters. */
  private static Map<String, AttrValue> unaryAttrs(SubgraphImport s) {
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("T", type(dtype(s, s.inIndex(0))));
    a.put("out_type", type(dtype(s, s.outIndex(0))));
    put(a, s, "input", s.inIndex(0));
    put(a, s, "output", s.outIndex(0));
    return a;
  }

  private static AttrValue activation(SubgraphImport s) {
    Activation act = NnBuiltins.fusedActivation(s);
    if (act == Activation.TANH || act == Activation.SIGN_BIT) {
      throw new Refusal("fused activation " + act + " has no integer form in TFLite");
    }
    return str(act.name());
  }

  private static String padding(SubgraphImport s) {
    return s.intOption("padding", 0) == 0 ? "SAME" : "VALID";
  }

  // ------------------------------------------------------------------------------------------- ops

  private static void quantize(SubgraphImport s) {
    int in = s.inIndex(0);
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("out_type", type(dtype(s, s.outIndex(0))));
    put(a, s, "output", s.outIndex(0));
    TfliteType from = s.tensor(in).type();
    if (from != TfliteType.FLOAT32) {
      if (!Weights.isQuantized(s.tensor(in))) {
        throw new Refusal("it quantizes a " + from + " tensor without quantization parameters");
      }
      put(a, s, "input", in);
    }
    s.define(0, s.node("TfliteQuantize", s.base, List.of(s.in(0)), a));
  }

  /** The weights' per-channel (or per-tensor) scales and zero points. */
  private static void weights(
      SubgraphImport s, Map<String, AttrValue> a, int w, int channelAxis, long channels) {
    TfliteQuantization q = quantization(s, w);
    int n = q.scale().size();
    if (n != 1 && (n != channels || q.quantizedDimension() != channelAxis)) {
      throw new Refusal(
          "the weights have "
              + n
              + " scales along dimension "
              + q.quantizedDimension()
              + "; TFLite"
              + " takes one, or one per output channel along dimension "
              + channelAxis);
    }
    List<java.lang.Float> scales = new ArrayList<>(q.scale());
    List<Long> zeros = q.zeroPoint().isEmpty() ? List.of(0L) : q.zeroPoint();
    a.put(
        "filter_scales",
        new AttrValue.ListAttr(
            List.of(), List.of(), scales, List.of(), List.of(), List.of(), List.of(), List.of()));
    a.put("filter_zero_points", AttrValue.ListAttr.ofInts(zeros));
  }

  /** Input, weights and optional bias (an int32/int64 constant or tensor). */
  private static List<String> weightedInputs(SubgraphImport s, int x, int w, int bias) {
    List<String> ins = new ArrayList<>(List.of(s.in(x), s.in(w)));
    if (s.hasInput(bias)) {
      ins.add(s.in(bias));
    }
    return ins;
  }

  private static void conv(SubgraphImport s, boolean depthwise) {
    Map<String, AttrValue> a = unaryAttrs(s);
    int w = s.inIndex(1);
    long[] wd = Weights.dims(s.tensor(w));
    if (wd.length != 4) {
      throw new Refusal("the filter " + s.tensor(w).shape() + " is not 4-D");
    }
    weights(s, a, w, depthwise ? 3 : 0, depthwise ? wd[3] : wd[0]);
    a.put("strides", ints(1, s.intOption("stride_h", 1), s.intOption("stride_w", 1), 1));
    a.put(
        "dilations",
        ints(1, s.intOption("dilation_h_factor", 1), s.intOption("dilation_w_factor", 1), 1));
    a.put("padding", str(padding(s)));
    a.put("fused_activation_function", activation(s));
    if (depthwise) {
      a.put("depth_multiplier", i(s.intOption("depth_multiplier", 0)));
    }
    String op = depthwise ? "TfliteQuantizedDepthwiseConv2D" : "TfliteQuantizedConv2D";
    s.define(0, s.node(op, s.base, weightedInputs(s, 0, 1, 2), a));
  }

  private static void fullyConnected(SubgraphImport s) {
    if (s.intOption("weights_format", 0) != 0) {
      throw new Refusal(
          "weights_format "
              + s.intOption("weights_format", 0)
              + " (shuffled weights) is not supported");
    }
    if (s.op.outputs().size() != 1) {
      throw new Refusal(
          "it has " + s.op.outputs().size() + " outputs; tfport imports the one-output form");
    }
    Map<String, AttrValue> a = unaryAttrs(s);
    int w = s.inIndex(1);
    long[] wd = Weights.dims(s.tensor(w));
    if (wd.length != 2) {
      throw new Refusal("the weights are " + s.tensor(w).shape() + ", not [out, in]");
    }
    if (s.tensor(w).type() != TfliteType.INT8 && s.tensor(w).type() != TfliteType.UINT8) {
      throw new Refusal("the weights are " + s.tensor(w).type() + ", not int8 or uint8");
    }
    weights(s, a, w, 0, wd[0]);
    a.put("keep_num_dims", b(s.boolOption("keep_num_dims")));
    a.put("fused_activation_function", activation(s));
    s.define(0, s.node("TfliteQuantizedFullyConnected", s.base, weightedInputs(s, 0, 1, 2), a));
  }

  /** TRANSPOSE_CONV's inputs are [output shape, weights, x, bias?]. */
  private static void transposeConv(SubgraphImport s) {
    Map<String, AttrValue> a = new LinkedHashMap<>();
    int x = s.inIndex(2);
    a.put("T", type(dtype(s, x)));
    put(a, s, "input", x);
    put(a, s, "output", s.outIndex(0));
    int w = s.inIndex(1);
    long[] wd = Weights.dims(s.tensor(w));
    if (wd.length != 4) {
      throw new Refusal("the filter " + s.tensor(w).shape() + " is not 4-D");
    }
    weights(s, a, w, 0, wd[0]);
    a.put("strides", ints(1, s.intOption("stride_h", 1), s.intOption("stride_w", 1), 1));
    a.put("padding", str(padding(s)));
    a.put("fused_activation_function", activation(s));
    List<String> ins = new ArrayList<>(List.of(s.in(0), s.in(1), s.in(2)));
    if (s.hasInput(3)) {
      ins.add(s.in(3));
    }
    s.define(0, s.node("TfliteQuantizedTransposeConv", s.base, ins, a));
  }

  private static void pool(SubgraphImport s, String op) {
    Map<String, AttrValue> a = unaryAttrs(s);
    a.put("ksize", ints(1, s.intOption("filter_height", 1), s.intOption("filter_width", 1), 1));
    a.put("strides", ints(1, s.intOption("stride_h", 1), s.intOption("stride_w", 1), 1));
    a.put("padding", str(padding(s)));
    a.put("fused_activation_function", activation(s));
    s.define(0, s.node(op, s.base, List.of(s.in(0)), a));
  }

  /** ADD, SUB (with a fused activation and pot_scale_int16), MUL, PRELU: two quantized inputs. */
  private static void binary(SubgraphImport s, String op, boolean addSub) {
    Map<String, AttrValue> a = unaryAttrs(s);
    if (dtype(s, s.inIndex(1)) != dtype(s, s.inIndex(0))) {
      throw new Refusal(
          "its inputs are "
              + s.tensor(s.inIndex(0)).type()
              + " and "
              + s.tensor(s.inIndex(1)).type());
    }
    put(a, s, "input2", s.inIndex(1));
    if (!op.equals("TfliteQuantizedPrelu")) {
      a.put("fused_activation_function", activation(s));
    }
    if (addSub) {
      a.put("pot_scale_int16", b(Boolean.TRUE.equals(s.option("pot_scale_int16", true))));
    }
    s.define(0, s.node(op, s.base, List.of(s.in(0), s.in(1)), a));
  }

  /** PAD fills with the output's zero point (the real value 0). */
  private static void pad(SubgraphImport s) {
    DType t = dtype(s, s.inIndex(0));
    int zp = (int) zeroPoint(s, s.outIndex(0));
    Object data =
        switch (t) {
          case INT8, UINT8 -> new byte[] {(byte) zp};
          case INT16 -> new short[] {(short) zp};
          default -> throw new Refusal("it pads a " + t.jsName() + " tensor");
        };
    java.nio.ByteBuffer bytes =
        java.nio.ByteBuffer.allocate(t.byteSize()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    if (data instanceof byte[] v) {
      bytes.put(v[0]);
    } else {
      bytes.putShort(((short[]) data)[0]);
    }
    String value = s.constNode(s.base + "/zero_point", new Tensor(t, Shape.SCALAR, bytes.flip()));
    s.define(
        0,
        s.node(
            "PadV2",
            s.base,
            List.of(s.in(0), s.in(1), value),
            "T",
            type(t),
            "Tpaddings",
            type(ArrayBuiltins.inType(s, 1))));
  }

  /**
   * Inputs quantized differently from the output are requantized to it first (TFLite rescales them
   * too).
   */
  private static void concat(SubgraphImport s) {
    if (NnBuiltins.fusedActivation(s) != Activation.NONE) {
      throw new Refusal("a fused activation on a quantized CONCATENATION is not supported");
    }
    int out = s.outIndex(0);
    float os = scale(s, out);
    long oz = zeroPoint(s, out);
    DType t = dtype(s, out);
    int n = s.op.inputs().size();
    List<String> ins = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      int x = s.inIndex(k);
      String ref = s.in(k);
      if (scale(s, x) != os || zeroPoint(s, x) != oz) {
        Map<String, AttrValue> a = new LinkedHashMap<>();
        a.put("out_type", type(t));
        put(a, s, "input", x);
        put(a, s, "output", out);
        ref = s.node("TfliteQuantize", s.base + "/requantize_" + k, List.of(ref), a);
      }
      ins.add(ref);
    }
    ins.add(s.intConst(s.base + "/axis", s.intOption("axis", 0)));
    s.define(
        0, s.node("ConcatV2", s.base, ins, "N", i(n), "T", type(t), "Tidx", type(DType.INT32)));
  }
}
