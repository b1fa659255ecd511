package org.tfport.runtime.tflite;

import static org.tfport.runtime.tflite.ImportAttrs.b;
import static org.tfport.runtime.tflite.ImportAttrs.f;
import static org.tfport.runtime.tflite.ImportAttrs.i;
import static org.tfport.runtime.tflite.ImportAttrs.ints;
import static org.tfport.runtime.tflite.ImportAttrs.str;
import static org.tfport.runtime.tflite.ImportAttrs.type;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.formats.tflite.BuiltinOptions.Activation;
import org.tfport.formats.tflite.TfliteBuiltin;
import org.tfport.formats.tflite.TfliteTensor;
import org.tfport.runtime.tflite.SubgraphImport.Refusal;

/**
 * Float (and dynamic-range, whose int8 weights {@link SubgraphImport#in} dequantizes) LSTM and SVDF
 * builtins as tfport's {@code TfliteLstm}/{@code TfliteSvdf} nodes (no TensorFlow op computes them
 * as TFLite does), the int8 SVDF as {@code TfliteQuantizedSvdf}, and CONV_3D/CONV_3D_TRANSPOSE as
 * TensorFlow's {@code Conv3D}/{@code Conv3DBackpropInputV2}, whose filter layouts TFLite shares.
 *
 * <p>State tensors (TFLite variables) become inputs only when the file gives them a value: the
 * kernels start from zeros otherwise, as TFLite does after allocating its tensors.
 */
final class RecurrentBuiltins {
  private RecurrentBuiltins() {}

  /** Emits the operator's nodes; false when the builtin is not one of these. */
  static boolean map(SubgraphImport s, TfliteBuiltin builtin) {
    switch (builtin) {
      case LSTM -> {
        if (s.intOption("kernel_type", 0) != 0) {
          throw new Refusal("the BASIC LSTM kernel (4 inputs) is not supported; FULL is");
        }
        s.define(0, lstm(s, identity(), false, false, false, s.base));
      }
      case UNIDIRECTIONAL_SEQUENCE_LSTM -> {
        if (s.boolOption("diagonal_recurrent_tensors")) {
          throw new Refusal("diagonal recurrent weights are not supported");
        }
        s.define(0, lstm(s, identity(), true, s.boolOption("time_major"), false, s.base));
      }
      case BIDIRECTIONAL_SEQUENCE_LSTM -> bidirectional(s);
      case SVDF -> svdf(s);
      case CONV_3D -> conv3d(s);
      case CONV_3D_TRANSPOSE -> conv3dTranspose(s);
      default -> {
        return false;
      }
    }
    return true;
  }

  // ------------------------------------------------------------------------------------------ LSTM

  /** Operator input of each of TFLite's 24 LSTM tensors for the one-direction ops: the same. */
  private static int[] identity() {
    int[] p = new int[24];
    for (int k = 0; k < p.length; k++) {
      p[k] = k;
    }
    return p;
  }

  /**
   * BIDIRECTIONAL_SEQUENCE_LSTM's inputs: 0 input, 1–17 the forward weights, 18–34 the backward
   * ones, 35–38 the forward and backward output and cell states, 39–47 the auxiliary input and its
   * weights.
   */
  private static int[] direction(boolean backward) {
    int[] p = new int[24];
    java.util.Arrays.fill(p, -1);
    p[0] = 0;
    for (int k = 1; k <= 17; k++) {
      p[k] = backward ? k + 17 : k;
    }
    p[18] = backward ? 37 : 35;
    p[19] = backward ? 38 : 36;
    return p;
  }

  private static void bidirectional(SubgraphImport s) {
    if (s.hasInput(39)) {
      throw new Refusal("an auxiliary input is not supported");
    }
    // TFLite checks both directions' tensors against one size (its Prepare rejects the model).
    long[] fwSize = directionSize(s, 4, 8);
    long[] bwSize = directionSize(s, 21, 25);
    if (fwSize[0] != bwSize[0] || fwSize[1] != bwSize[1]) {
      throw new Refusal(
          "its forward direction has "
              + fwSize[0]
              + " cells and "
              + fwSize[1]
              + " outputs, its backward one "
              + bwSize[0]
              + " and "
              + bwSize[1]
              + "; TFLite's BIDIRECTIONAL_SEQUENCE_LSTM takes directions of one size");
    }
    boolean timeMajor = s.boolOption("time_major");
    String fw = lstm(s, direction(false), true, timeMajor, false, s.base + "/fw");
    String bw = lstm(s, direction(true), true, timeMajor, true, s.base + "/bw");
    if (s.boolOption("merge_outputs")) {
      s.define(
          0,
          s.node(
              "ConcatV2",
              s.base,
              List.of(fw, bw, s.intConst(s.base + "/axis", -1)),
              "N",
              i(2),
              "T",
              type(DType.FLOAT32),
              "Tidx",
              type(DType.INT32)));
    } else {
      s.define(0, fw);
      s.define(1, bw);
    }
  }

  /**
   * [cells, outputs] of one direction, from its input-to-output and recurrent-to-output weights.
   */
  private static long[] directionSize(SubgraphImport s, int inputToOutput, int recurrentToOutput) {
    long[] w = Weights.dims(s.tensor(s.inIndex(inputToOutput)));
    long[] r = Weights.dims(s.tensor(s.inIndex(recurrentToOutput)));
    if (w.length != 2 || r.length != 2) {
      throw new Refusal("its output-gate weights are not matrices");
    }
    return new long[] {w[0], r[1]};
  }

  private static String lstm(
      SubgraphImport s,
      int[] inputOf,
      boolean sequence,
      boolean timeMajor,
      boolean reverse,
      String name) {
    List<String> ins = new ArrayList<>();
    long[] slots = new long[24];
    long[] stateSizes = {-1, -1};
    for (int k = 0; k < slots.length; k++) {
      int i = inputOf[k];
      slots[k] = -1;
      if (i < 0 || !s.hasInput(i)) {
        continue;
      }
      if (k == 18 || k == 19) {
        stateSizes[k - 18] = variableSize(s, i);
      }
      String ref = k == 18 || k == 19 ? state(s, i) : s.in(i);
      if (ref != null) {
        slots[k] = ins.size();
        ins.add(ref);
      }
    }
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("slots", ints(slots));
    a.put("state_sizes", ints(stateSizes));
    a.put("sequence", b(sequence));
    a.put("time_major", b(timeMajor));
    a.put("reverse", b(reverse));
    a.put("activation", str(activation(s)));
    a.put("cell_clip", f(NnBuiltins.floatOption(s, "cell_clip", 0f)));
    a.put("proj_clip", f(NnBuiltins.floatOption(s, "proj_clip", 0f)));
    if (s.tensor(s.outIndex(0)).type() != org.tfport.formats.tflite.TfliteType.FLOAT32) {
      throw new Refusal("its output is " + s.tensor(s.outIndex(0)).type() + ", not float32");
    }
    return s.node("TfliteLstm", name, ins, a);
  }

  private static String activation(SubgraphImport s) {
    Activation act = NnBuiltins.fusedActivation(s);
    if (act == Activation.SIGN_BIT) {
      throw new Refusal("activation SIGN_BIT is not supported");
    }
    return act.name();
  }

  /**
   * The values a state input {@code i} the file keeps in a variable tensor holds, fixed by the
   * file's shape; -1 for a constant initial value or a shape with unknown dims.
   */
  static long variableSize(SubgraphImport s, int i) {
    int t = s.inIndex(i);
    if (t < 0 || s.isConstant(t)) {
      return -1;
    }
    long n = 1;
    for (long d : SubgraphTensors.signatureShape(s.tensor(t))) {
      if (d < 0) {
        return -1;
      }
      n *= d;
    }
    return n;
  }

  /**
   * The initial value of state input {@code i} when the file gives one (as stored for integer
   * kernels, dequantized for float ones), else null.
   */
  static String state(SubgraphImport s, int i) {
    int t = s.inIndex(i);
    if (!s.isConstant(t)) {
      return null;
    }
    TfliteTensor x = s.tensor(t);
    return s.constNode(
        s.sanitize(x.name(), t) + "/initial",
        Weights.raw(x, s.model.buffer(x).data(), s.importer.where(s)));
  }

  // ------------------------------------------------------------------------------------------ SVDF

  /** SVDF's inputs: input, weights_feature, weights_time, bias?, state. */
  private static void svdf(SubgraphImport s) {
    List<String> ins = new ArrayList<>(List.of(s.in(0), s.in(1), s.in(2)));
    boolean bias = s.hasInput(3);
    if (bias) {
      ins.add(s.in(3));
    }
    if (s.hasInput(4)) {
      int t = s.inIndex(4);
      if (s.isConstant(t)) {
        ins.add(s.floatConstant(t));
      }
    }
    s.define(
        0,
        s.node(
            "TfliteSvdf",
            s.base,
            ins,
            "rank",
            i(s.intOption("rank", 1)),
            "fused_activation_function",
            str(activation(s)),
            "has_bias",
            b(bias)));
  }

  /** The int8 SVDF: quantization of the input, both weights, the int16 state and the output. */
  static void quantizedSvdf(SubgraphImport s) {
    Map<String, AttrValue> a = new LinkedHashMap<>();
    QuantizedBuiltins.put(a, s, "input", s.inIndex(0));
    QuantizedBuiltins.put(a, s, "feature", s.inIndex(1));
    QuantizedBuiltins.put(a, s, "time", s.inIndex(2));
    if (!s.hasInput(4)) {
      throw new Refusal("it has no state tensor");
    }
    QuantizedBuiltins.put(a, s, "state", s.inIndex(4));
    var timeType = s.tensor(s.inIndex(2)).type();
    var stateType = s.tensor(s.inIndex(4)).type();
    if (timeType != org.tfport.formats.tflite.TfliteType.INT16
        || stateType != org.tfport.formats.tflite.TfliteType.INT16) {
      // TFLite Micro also has an SVDF with int8 time weights and state; TFLite's kernel has not,
      // and TFLite 2.18 accepts such a file but reads both as int16 (tflite-micro's
      // keyword_scrambled_8bit corrupts its heap), so there is no TFLite result to follow.
      throw new Refusal(
          "its time weights are "
              + timeType
              + " and its state "
              + stateType
              + "; TFLite's integer SVDF takes INT16 for both (int8 ones are a TFLite Micro"
              + " variant, which TFLite 2.18 cannot run either)");
    }
    QuantizedBuiltins.put(a, s, "output", s.outIndex(0));
    List<String> ins = new ArrayList<>(List.of(s.in(0), s.in(1), s.in(2)));
    boolean bias = s.hasInput(3);
    if (bias) {
      ins.add(s.in(3));
    }
    String init = state(s, 4);
    if (init != null) {
      ins.add(init);
    }
    a.put("rank", i(s.intOption("rank", 1)));
    a.put("has_bias", b(bias));
    s.define(0, s.node("TfliteQuantizedSvdf", s.base, ins, a));
  }

  // ----------------------------------------------------------------------------------------
  // CONV_3D

  private static AttrValue spatial(SubgraphImport s, String field) {
    return ints(
        1,
        s.intOption(field + "_d" + (field.equals("stride") ? "" : "_factor"), 1),
        s.intOption(field + "_h" + (field.equals("stride") ? "" : "_factor"), 1),
        s.intOption(field + "_w" + (field.equals("stride") ? "" : "_factor"), 1),
        1);
  }

  private static void conv3d(SubgraphImport s) {
    DType t = NnBuiltins.outType(s);
    String y =
        s.node(
            "Conv3D",
            s.base + "/Conv3D",
            List.of(s.in(0), s.in(1)),
            "T",
            type(t),
            "strides",
            spatial(s, "stride"),
            "padding",
            str(s.intOption("padding", 0) == 0 ? "SAME" : "VALID"),
            "dilations",
            spatial(s, "dilation"),
            "data_format",
            str("NDHWC"));
    s.define(0, NnBuiltins.activation(s, NnBuiltins.bias(s, y, 2, t), activationOf(s), t));
  }

  /** CONV_3D_TRANSPOSE's inputs are [output shape, filter, input, bias?]. */
  private static void conv3dTranspose(SubgraphImport s) {
    DType t = NnBuiltins.outType(s);
    String y =
        s.node(
            "Conv3DBackpropInputV2",
            s.base + "/Conv3DBackpropInputV2",
            List.of(s.in(0), s.in(1), s.in(2)),
            "T",
            type(t),
            "Tshape",
            type(ArrayBuiltins.inType(s, 0)),
            "strides",
            spatial(s, "stride"),
            "padding",
            str(s.intOption("padding", 0) == 0 ? "SAME" : "VALID"),
            "dilations",
            spatial(s, "dilation"),
            "data_format",
            str("NDHWC"));
    s.define(0, NnBuiltins.activation(s, NnBuiltins.bias(s, y, 3, t), activationOf(s), t));
  }

  private static Activation activationOf(SubgraphImport s) {
    return NnBuiltins.fusedActivation(s);
  }
}
