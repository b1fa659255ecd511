package org.tfport.convert;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.formats.tflite.TfliteBuiltin;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteOperator;
import org.tfport.formats.tflite.TfliteQuantization;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.formats.tflite.TfliteSignatureDef;
import org.tfport.formats.tflite.TfliteSubgraph;
import org.tfport.formats.tflite.TfliteTensor;
import org.tfport.runtime.Signature;
import org.tfport.runtime.TensorSpec;

/**
 * The quantization of a converted {@code .tflite} file's signature inputs and outputs: a
 * full-integer model with integer I/O is fed the source's float inputs quantized ({@code q =
 * round(x / scale) + zeroPoint}, clamped) and its outputs are dequantized before the comparison; an
 * output's step ({@code scale}) sets its tolerance, read from the tensor itself or, for a float
 * output, from the tensor its final {@code DEQUANTIZE} reads.
 */
final class QuantizedIo {
  static final Set<DType> QUANTIZED = Set.of(DType.INT8, DType.UINT8, DType.INT16);

  /** Per signature name: scale and zero point (scale 0: none). */
  private record Params(double scale, long zeroPoint) {
    static final Params NONE = new Params(0, 0);
  }

  private final Map<String, Params> inputs = new HashMap<>();
  private final Map<String, Params> outputs = new HashMap<>();
  private final Map<String, Double> outputSteps = new HashMap<>();

  private QuantizedIo() {}

  static QuantizedIo of(Path file, Signature sig) {
    QuantizedIo q = new QuantizedIo();
    if (!Files.isRegularFile(file) || !file.getFileName().toString().endsWith(".tflite")) {
      return q;
    }
    TfliteModel m = TfliteReader.read(file);
    TfliteSignatureDef def =
        m.signatureDefs().stream().filter(d -> d.key().equals(sig.key())).findFirst().orElse(null);
    if (def == null && !m.signatureDefs().isEmpty()) {
      return q;
    }
    TfliteSubgraph sg = def == null ? m.mainSubgraph() : m.subgraphs().get(def.subgraphIndex());
    List<Integer> in =
        def == null
            ? sg.inputs()
            : def.inputs().stream().map(TfliteSignatureDef.TensorMap::tensorIndex).toList();
    List<Integer> out =
        def == null
            ? sg.outputs()
            : def.outputs().stream().map(TfliteSignatureDef.TensorMap::tensorIndex).toList();
    // Without SignatureDefs the runtime's signature lists the subgraph's inputs and outputs in
    // order.
    List<String> inNames =
        def == null
            ? sig.inputNames()
            : def.inputs().stream().map(TfliteSignatureDef.TensorMap::name).toList();
    List<String> outNames =
        def == null
            ? sig.outputNames()
            : def.outputs().stream().map(TfliteSignatureDef.TensorMap::name).toList();
    for (int i = 0; i < Math.min(in.size(), inNames.size()); i++) {
      q.inputs.put(inNames.get(i), params(sg.tensors().get(in.get(i))));
    }
    for (int i = 0; i < Math.min(out.size(), outNames.size()); i++) {
      TfliteTensor t = sg.tensors().get(out.get(i));
      Params p = params(t);
      q.outputs.put(outNames.get(i), p);
      double step = p.scale;
      if (step == 0) {
        step = dequantizedFrom(m, sg, out.get(i)).scale;
      }
      q.outputSteps.put(outNames.get(i), step);
    }
    return q;
  }

  private static Params params(TfliteTensor t) {
    TfliteQuantization q = t.quantization();
    if (q == null || q.scale().size() != 1) {
      return Params.NONE;
    }
    return new Params(q.scale().get(0), q.zeroPoint().isEmpty() ? 0 : q.zeroPoint().get(0));
  }

  /** The quantization of what the DEQUANTIZE producing {@code tensor} reads, else none. */
  private static Params dequantizedFrom(TfliteModel m, TfliteSubgraph sg, int tensor) {
    for (TfliteOperator op : sg.operators()) {
      if (op.outputs().contains(tensor)) {
        boolean dq = m.opcode(op).builtin().filter(b -> b == TfliteBuiltin.DEQUANTIZE).isPresent();
        return dq && !op.inputs().isEmpty()
            ? params(sg.tensors().get(op.inputs().get(0)))
            : Params.NONE;
      }
    }
    return Params.NONE;
  }

  /** The output's quantization step, 0 when it has none. */
  double outputScale(TensorSpec o) {
    return outputSteps.getOrDefault(o.name(), 0.0);
  }

  /**
   * {@code t} (a source input) as the output model's integer input wants it, else {@code t} itself.
   */
  Tensor quantizeInput(TensorSpec o, Tensor t) {
    Params p = inputs.getOrDefault(o.name(), Params.NONE);
    if (p.scale == 0 || !QUANTIZED.contains(o.dtype()) || !t.dtype().isFloating()) {
      return t;
    }
    double lo = o.dtype() == DType.UINT8 ? 0 : o.dtype() == DType.INT8 ? -128 : -32768;
    double hi = o.dtype() == DType.UINT8 ? 255 : o.dtype() == DType.INT8 ? 127 : 32767;
    double[] v = Compare.values(t);
    for (int i = 0; i < v.length; i++) {
      v[i] = Math.max(lo, Math.min(hi, Math.rint(v[i] / p.scale) + p.zeroPoint));
    }
    return ConversionCheck.tensorOf(o.dtype(), t.shape().dims(), v);
  }

  /**
   * {@code t} (an output of the output model) dequantized when the source's is float, else {@code
   * t} itself.
   */
  Tensor dequantizeOutput(TensorSpec o, Tensor t, DType sourceType) {
    Params p = outputs.getOrDefault(o.name(), Params.NONE);
    if (p.scale == 0 || !QUANTIZED.contains(t.dtype()) || !sourceType.isFloating()) {
      return t;
    }
    double[] v = Compare.values(t);
    for (int i = 0; i < v.length; i++) {
      v[i] = (v[i] - p.zeroPoint) * p.scale;
    }
    return ConversionCheck.tensorOf(DType.FLOAT32, t.shape().dims(), v);
  }
}
