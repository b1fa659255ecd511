package org.tfport.convert.tflite;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.tflite.TfliteSignatureDef;

/** The full-integer step of a conversion to TFLite, after every signature's subgraph is lowered. */
final class FullIntegerConversion {
  private FullIntegerConversion() {}

  /**
   * Full integer quantization (int8, or 16x8 with int16 activations) of every signature's subgraph:
   * load its representative samples, calibrate the float subgraph (running the WHILE/IF subgraphs
   * it calls), rewrite it ({@link FullIntegerQuantizer}), drop the tensors that left and re-point
   * its SignatureDef. WHILE and IF stay float with their subgraphs (float fallback: DEQUANTIZE of
   * the integer operands before, QUANTIZE of the results after, with the results' calibrated
   * ranges), so the called subgraphs are left as they are.
   */
  static void run(
      ModelBuilder mb,
      List<TfliteConverter.Source> sources,
      List<Integer> sourceSubgraphs,
      List<List<String>> inputNames,
      TfliteOptions o,
      List<String> notices,
      QuantizedKernels.Precision precision) {
    if (o.representativeData() == null) {
      throw new UsageException(
          "full integer quantization needs TfliteOutputOptions.representativeData (a folder of"
              + " .npy input samples)");
    }
    // As the reference converter: int8 models take float32, int8 or uint8 I/O; 16x8 models float32
    // or int16.
    List<String> ioTypes =
        precision == QuantizedKernels.Precision.INT8
            ? List.of("float32", "int8", "uint8")
            : List.of("float32", "int16");
    String mode =
        precision == QuantizedKernels.Precision.INT8
            ? "int8 quantization"
            : "16x8 quantization (EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8)";
    for (String t : List.of(o.inferenceInputType(), o.inferenceOutputType())) {
      if (!ioTypes.contains(t)) {
        throw new UsageException(
            "TfliteOutputOptions.inferenceInputType/inferenceOutputType "
                + t
                + " is not available with "
                + mode
                + "; use "
                + String.join(", ", ioTypes.subList(0, ioTypes.size() - 1))
                + " or "
                + ioTypes.get(ioTypes.size() - 1));
      }
    }
    for (int i = 0; i < sources.size(); i++) {
      int subIndex = sourceSubgraphs.get(i);
      ModelBuilder.Sub sub = mb.subgraphs.get(subIndex);
      Path dir = o.representativeData();
      if (sources.size() > 1) {
        // Several signatures: one folder of samples per signature key.
        dir = dir.resolve(RepresentativeData.fileName(String.valueOf(sources.get(i).signature())));
      }
      List<RepresentativeData.Input> ins = new ArrayList<>();
      for (int k = 0; k < sub.inputs.size(); k++) {
        ModelBuilder.T t = sub.t(sub.inputs.get(k));
        if (!t.hasRank) {
          throw new UnsupportedModelException(
              "input '"
                  + inputNames.get(i).get(k)
                  + "' has an unknown rank;"
                  + " full integer quantization needs ranked inputs (for a frozen graph, set them with"
                  + " GraphLoadingOptions.inputShape)");
        }
        ins.add(
            new RepresentativeData.Input(
                inputNames.get(i).get(k),
                t.type,
                t.signature != null ? t.signature.clone() : t.shape.clone()));
      }
      List<List<org.tfport.core.Tensor>> samples = RepresentativeData.load(dir, ins);
      RangeCalibration.Ranges ranges = RangeCalibration.calibrateAll(mb, sub, samples).get(sub);
      FullIntegerQuantizer q = new FullIntegerQuantizer(sub, ranges, precision);
      q.run(o.inferenceInputType(), o.inferenceOutputType(), o.integerOnly());
      if (!q.floatOps.isEmpty()) {
        notices.add(
            q.floatOps.size()
                + " op"
                + (q.floatOps.size() == 1 ? " stays" : "s stay")
                + " float (no "
                + precision.ioName()
                + " kernel in tfport), between DEQUANTIZE and QUANTIZE: "
                + String.join(", ", q.floatOps));
      }
      int[] map = FullIntegerQuantizer.prune(sub);
      for (int k = 0; k < mb.signatures.size(); k++) {
        TfliteSignatureDef sd = mb.signatures.get(k);
        if (sd.subgraphIndex() == subIndex) {
          mb.signatures.set(
              k,
              new TfliteSignatureDef(
                  sd.key(), subIndex, remap(sd.inputs(), map), remap(sd.outputs(), map)));
        }
      }
    }
  }

  private static List<TfliteSignatureDef.TensorMap> remap(
      List<TfliteSignatureDef.TensorMap> l, int[] map) {
    return l.stream()
        .map(m -> new TfliteSignatureDef.TensorMap(m.name(), map[m.tensorIndex()]))
        .toList();
  }
}
