package org.tfport.convert.tflite;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.formats.tflite.TfliteType;

/**
 * Calibration for full integer quantization: runs the float model with {@link CalibrationInterpreter} over the
 * representative samples and records each float tensor's global range.
 */
final class RangeCalibration {
  private RangeCalibration() {}

  /** Per-tensor global range over all samples ({@code +inf/-inf} where never computed). */
  record Ranges(float[] min, float[] max) {}

  /** Runs the float subgraph over every sample, recording each float tensor's global min/max. */
  static Ranges calibrate(ModelBuilder.Sub s, List<List<CalibrationInterpreter.V>> samples) {
    return calibrateAll(null, s, samples).get(s);
  }

  /**
   * Runs subgraph {@code s} of {@code model} (null when it calls no other subgraph) over every sample and returns
   * the ranges of every subgraph that ran, {@code s} and the WHILE/IF subgraphs it calls (over all iterations
   * and taken branches; a subgraph never entered has no entry).
   */
  static Map<ModelBuilder.Sub, Ranges> calibrateAll(ModelBuilder model, ModelBuilder.Sub s,
      List<List<CalibrationInterpreter.V>> samples) {
    List<String> bad = CalibrationInterpreter.unsupported(model, s);
    if (!bad.isEmpty()) {
      throw new UnsupportedModelException(bad.size() + " op" + (bad.size() == 1 ? "" : "s") + " cannot be"
          + " calibrated (no float reference kernel in tfport): " + String.join(", ", bad) + "; convert without"
          + " TfliteOutputOptions.representativeData (e.g. with TfliteQuantizationMode.DYNAMIC_RANGE for"
          + " dynamic-range int8)");
    }
    Map<ModelBuilder.Sub, Ranges> all = new LinkedHashMap<>();
    CalibrationInterpreter ev = new CalibrationInterpreter(model, s, (sub, v) -> record(sub, v, all));
    for (List<CalibrationInterpreter.V> sample : samples) {
      ev.run(sample);
    }
    all.computeIfAbsent(s, RangeCalibration::emptyRanges);
    return all;
  }

  private static Ranges emptyRanges(ModelBuilder.Sub s) {
    int n = s.tensors.size();
    float[] min = new float[n];
    float[] max = new float[n];
    Arrays.fill(min, Float.POSITIVE_INFINITY);
    Arrays.fill(max, Float.NEGATIVE_INFINITY);
    return new Ranges(min, max);
  }

  private static void record(ModelBuilder.Sub s, CalibrationInterpreter.V[] v, Map<ModelBuilder.Sub, Ranges> all) {
    Ranges r = all.computeIfAbsent(s, RangeCalibration::emptyRanges);
    for (int t = 0; t < v.length; t++) {
      if (v[t] == null || s.t(t).type != TfliteType.FLOAT32) {
        continue;
      }
      for (float x : v[t].d()) {
        // Non-finite values would give an infinite scale; they are clamped at run time anyway.
        if (Float.isFinite(x)) {
          r.min()[t] = Math.min(r.min()[t], x);
          r.max()[t] = Math.max(r.max()[t], x);
        }
      }
    }
  }
}
