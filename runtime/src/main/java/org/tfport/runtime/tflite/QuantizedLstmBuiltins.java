package org.tfport.runtime.tflite;

import static org.tfport.runtime.tflite.ImportAttrs.b;
import static org.tfport.runtime.tflite.ImportAttrs.f;
import static org.tfport.runtime.tflite.ImportAttrs.ints;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.graph.AttrValue;
import org.tfport.formats.tflite.TfliteBuiltin;
import org.tfport.formats.tflite.TfliteTensor;
import org.tfport.formats.tflite.TfliteType;
import org.tfport.runtime.tflite.SubgraphImport.Refusal;

/**
 * The fully integer LSTM and UNIDIRECTIONAL_SEQUENCE_LSTM (int8 input, weights and output state,
 * int16 cell state, five intermediate tensors: TFLite's "8x8_16" kernel) as {@code
 * TfliteQuantizedLstm} nodes, with the quantization of every tensor the kernel rescales by as
 * attributes. TFLite has no integer BIDIRECTIONAL_SEQUENCE_LSTM, and the LSTM op's "8x8_8" variant
 * (twelve intermediates) is refused by name.
 */
final class QuantizedLstmBuiltins {
  private QuantizedLstmBuiltins() {}

  private static final int OUTPUT_STATE = 18;
  private static final int CELL_STATE = 19;

  static void map(SubgraphImport s, TfliteBuiltin builtin) {
    boolean sequence = builtin == TfliteBuiltin.UNIDIRECTIONAL_SEQUENCE_LSTM;
    if (builtin == TfliteBuiltin.BIDIRECTIONAL_SEQUENCE_LSTM) {
      throw new Refusal(
          "TFLite has no integer kernel for BIDIRECTIONAL_SEQUENCE_LSTM (it runs float and"
              + " dynamic-range weights only)");
    }
    if (!sequence && s.intOption("kernel_type", 0) != 0) {
      throw new Refusal("the BASIC LSTM kernel (4 inputs) is not supported; FULL is");
    }
    if (sequence && s.boolOption("diagonal_recurrent_tensors")) {
      throw new Refusal("diagonal recurrent weights are not supported");
    }
    int intermediates = s.op.intermediates().size();
    if (intermediates != 5) {
      throw new Refusal(
          "it has "
              + intermediates
              + " intermediate tensors; tfport runs TFLite's 8x8_16 integer LSTM, which has 5"
              + (intermediates == 12 ? " (the 8x8_8 variant is not supported)" : ""));
    }
    require(s, s.inIndex(0), TfliteType.INT8, "the input");
    require(s, s.outIndex(0), TfliteType.INT8, "the output");
    if (!s.hasInput(OUTPUT_STATE) || !s.hasInput(CELL_STATE)) {
      throw new Refusal("its output or cell state tensor is missing");
    }
    require(s, s.inIndex(OUTPUT_STATE), TfliteType.INT8, "the output state");
    require(s, s.inIndex(CELL_STATE), TfliteType.INT16, "the cell state");

    List<String> ins = new ArrayList<>();
    long[] slots = new long[24];
    float[] weightScales = new float[24];
    for (int k = 0; k < slots.length; k++) {
      slots[k] = -1;
      if (!s.hasInput(k)) {
        continue;
      }
      TfliteTensor x = s.tensor(s.inIndex(k));
      weightScales[k] = Weights.isQuantized(x) ? x.quantization().scale().get(0) : 0f;
      String ref = k == OUTPUT_STATE || k == CELL_STATE ? RecurrentBuiltins.state(s, k) : s.in(k);
      if (ref != null) {
        slots[k] = ins.size();
        ins.add(ref);
      }
    }
    float[] gateScales = new float[4];
    for (int g = 0; g < 4; g++) {
      TfliteTensor t = s.tensor(s.op.intermediates().get(g));
      gateScales[g] = Weights.isQuantized(t) ? t.quantization().scale().get(0) : 0f;
    }
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("slots", ints(slots));
    a.put(
        "state_sizes",
        ints(
            RecurrentBuiltins.variableSize(s, OUTPUT_STATE),
            RecurrentBuiltins.variableSize(s, CELL_STATE)));
    a.put("sequence", b(sequence));
    a.put("time_major", b(sequence && s.boolOption("time_major")));
    QuantizedBuiltins.put(a, s, "input", s.inIndex(0));
    QuantizedBuiltins.put(a, s, "output_state", s.inIndex(OUTPUT_STATE));
    QuantizedBuiltins.put(a, s, "hidden", s.op.intermediates().get(4));
    a.put("cell_state_scale", f(scaleOf(s, s.inIndex(CELL_STATE))));
    a.put("output_scale", f(scaleOf(s, s.outIndex(0))));
    a.put("weight_scales", floats(weightScales));
    a.put("gate_scales", floats(gateScales));
    a.put("cell_clip", f(NnBuiltins.floatOption(s, "cell_clip", 0f)));
    a.put("proj_clip", f(NnBuiltins.floatOption(s, "proj_clip", 0f)));
    s.define(0, s.node("TfliteQuantizedLstm", s.base, ins, a));
  }

  private static void require(SubgraphImport s, int t, TfliteType type, String what) {
    TfliteTensor x = s.tensor(t);
    if (x.type() != type || !Weights.isQuantized(x)) {
      throw new Refusal(
          what
              + " '"
              + x.name()
              + "' is "
              + x.type()
              + (Weights.isQuantized(x) ? "" : " without quantization")
              + "; TFLite's integer LSTM takes a quantized "
              + type);
    }
  }

  private static float scaleOf(SubgraphImport s, int t) {
    TfliteTensor x = s.tensor(t);
    if (!Weights.isQuantized(x)) {
      throw new Refusal("tensor '" + x.name() + "' has no quantization parameters");
    }
    return x.quantization().scale().get(0);
  }

  private static AttrValue floats(float[] v) {
    List<Float> list = new ArrayList<>();
    for (float x : v) {
      list.add(x);
    }
    return new AttrValue.ListAttr(
        List.of(), List.of(), list, List.of(), List.of(), List.of(), List.of(), List.of());
  }
}
