package org.tfport.convert.tflite;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteSignatureDef;
import org.tfport.formats.tflite.TfliteType;
import org.tfport.runtime.Model;
import org.tfport.runtime.RunObserver;
import org.tfport.runtime.Session;
import org.tfport.runtime.tflite.TfliteImporter;
import org.tfport.runtime.tflite.TfliteImporter.ImportedModel;
import org.tfport.runtime.tflite.TfliteImporter.ImportedSubgraph;

/**
 * Calibration for full integer quantization: the float model as built so far is imported into the
 * runtime ({@link TfliteImporter}, in memory) and run on every representative sample, and a {@link
 * RunObserver} records each float tensor's global range, in the WHILE/IF subgraphs too (every
 * iteration and branch taken). The importer's tensor map says which IR value holds each TFLite
 * tensor (after its fused activation, as TFLite stores it).
 */
final class RangeCalibration {
  /**
   * The signature calibration runs the subgraph through; its inputs and outputs are the subgraph's,
   * in order.
   */
  private static final String SIGNATURE = "calibration";

  /** Tensor types a run returns as tensors (not TensorList handles or resources). */
  private static final java.util.Set<TfliteType> PLAIN =
      java.util.EnumSet.of(
          TfliteType.FLOAT32,
          TfliteType.INT32,
          TfliteType.INT64,
          TfliteType.BOOL,
          TfliteType.INT8,
          TfliteType.UINT8,
          TfliteType.INT16);

  private RangeCalibration() {}

  /** Per-tensor global range over all samples ({@code +inf/-inf} where never computed). */
  record Ranges(float[] min, float[] max) {}

  /**
   * Runs subgraph {@code s} of {@code model} over every sample (one value per subgraph input, in
   * order) and returns the ranges of every subgraph that ran, {@code s} and the WHILE/IF subgraphs
   * it calls (over all iterations and taken branches; a subgraph never entered has no entry).
   *
   * @throws UnsupportedModelException when the runtime cannot import or run the float model
   */
  static Map<ModelBuilder.Sub, Ranges> calibrateAll(
      ModelBuilder model, ModelBuilder.Sub s, List<List<Tensor>> samples) {
    int index = model.subgraphs.indexOf(s);
    ImportedModel imported;
    try {
      imported = TfliteImporter.importModel(floatModel(model, index), "the float model");
    } catch (UnsupportedModelException e) {
      throw new UnsupportedModelException(
          "cannot calibrate "
              + e.getMessage()
              + "; convert without"
              + " TfliteOutputOptions.representativeData (e.g. with TfliteQuantizationMode.DYNAMIC_RANGE for"
              + " dynamic-range int8)");
    }
    Map<ModelBuilder.Sub, Ranges> all = new LinkedHashMap<>();
    // Per graph or function body (""/its name), the TFLite tensors each IR value ("node:k") holds.
    Map<String, Map<String, List<Integer>>> where = new HashMap<>();
    Map<String, ModelBuilder.Sub> subOf = new HashMap<>();
    for (ImportedSubgraph is : imported.tensorMap()) {
      String body = is.function() == null ? "" : is.function();
      ModelBuilder.Sub sub = model.subgraphs.get(is.subgraph());
      subOf.put(body, sub);
      Map<String, List<Integer>> m = where.computeIfAbsent(body, k -> new HashMap<>());
      for (int t = 0; t < is.tensors().size(); t++) {
        String ref = is.tensors().get(t);
        if (ref != null && sub.t(t).type == TfliteType.FLOAT32) {
          m.computeIfAbsent(key(ref), k -> new ArrayList<>()).add(t);
        }
      }
    }
    RunObserver observer =
        (path, node, output, value) -> {
          String body = path.isEmpty() ? "" : path.get(path.size() - 1);
          Map<String, List<Integer>> m = where.get(body);
          List<Integer> tensors = m == null ? null : m.get(node + ":" + output);
          if (tensors != null && !value.isHandle() && value.dtype() == DType.FLOAT32) {
            Ranges r = all.computeIfAbsent(subOf.get(body), RangeCalibration::emptyRanges);
            tensors.forEach(t -> record(r, t, value.floats()));
          }
        };
    try (Model runnable = imported.toModel();
        Session session = runnable.newSession()) {
      List<String> names = runnable.signature(SIGNATURE).inputNames();
      for (List<Tensor> sample : samples) {
        Map<String, Tensor> feed = new LinkedHashMap<>();
        for (int k = 0; k < names.size(); k++) {
          feed.put(names.get(k), sample.get(k));
        }
        session.run(SIGNATURE, feed, observer);
      }
    }
    constants(imported, where, subOf, all);
    all.computeIfAbsent(s, RangeCalibration::emptyRanges);
    return all;
  }

  /**
   * A model holding {@code model}'s subgraphs as they are now, with one signature over subgraph
   * {@code index}'s inputs and outputs (the importer imports what signatures name, and the function
   * subgraphs they call).
   */
  private static TfliteModel floatModel(ModelBuilder model, int index) {
    ModelBuilder.Built b = model.build("calibration");
    ModelBuilder.Sub s = model.subgraphs.get(index);
    List<TfliteSignatureDef.TensorMap> ins = new ArrayList<>();
    for (int k = 0; k < s.inputs.size(); k++) {
      ins.add(new TfliteSignatureDef.TensorMap("input_" + k, s.inputs.get(k)));
    }
    List<TfliteSignatureDef.TensorMap> outs = new ArrayList<>();
    for (int k = 0; k < s.outputs.size(); k++) {
      outs.add(new TfliteSignatureDef.TensorMap("output_" + k, s.outputs.get(k)));
    }
    // TFLite runs every operator, the runtime only what the outputs need: results nobody reads
    // become outputs
    // too, so that operators leading only to them are calibrated as well.
    java.util.Set<Integer> read = new java.util.HashSet<>(s.outputs);
    s.ops.forEach(o -> read.addAll(o.inputs));
    for (ModelBuilder.Op o : s.ops) {
      for (int t : o.outputs) {
        if (t >= 0 && PLAIN.contains(s.t(t).type) && read.add(t)) {
          outs.add(new TfliteSignatureDef.TensorMap("unread_" + t, t));
        }
      }
    }
    return new TfliteModel(
        TfliteModel.SCHEMA_VERSION,
        b.description(),
        b.opcodes(),
        b.subgraphs(),
        b.buffers(),
        List.of(),
        List.of(),
        List.of(new TfliteSignatureDef(SIGNATURE, index, ins, outs)));
  }

  /** {@code node:k} for an IR tensor reference. */
  private static String key(String ref) {
    TensorRef r = TensorRef.parse(ref);
    return r.node() + ":" + r.index();
  }

  /**
   * Tensors that TFLite computes but the import made constants (known from constants alone) are
   * never run; their range is their value, for subgraphs that ran.
   */
  private static void constants(
      ImportedModel imported,
      Map<String, Map<String, List<Integer>>> where,
      Map<String, ModelBuilder.Sub> subOf,
      Map<ModelBuilder.Sub, Ranges> all) {
    where.forEach(
        (body, m) -> {
          Ranges r = all.get(subOf.get(body));
          if (r == null) {
            return;
          }
          GraphFunction f = body.isEmpty() ? null : imported.graph().functions().get(body);
          m.forEach(
              (ref, tensors) -> {
                String name = TensorRef.nodeOf(ref);
                Node n =
                    f == null
                        ? imported.graph().node(name)
                        : f.nodes().stream()
                            .filter(x -> x.name().equals(name))
                            .findFirst()
                            .orElse(null);
                if (n != null
                    && n.op().equals("Const")
                    && n.attr("value") instanceof AttrValue.TensorAttr v
                    && v.value().value() != null
                    && v.value().value().dtype() == DType.FLOAT32) {
                  float[] values = v.value().value().toFloatArray();
                  tensors.forEach(
                      t -> {
                        if (subOf.get(body).t(t).data == null) {
                          record(r, t, values);
                        }
                      });
                }
              });
        });
  }

  private static Ranges emptyRanges(ModelBuilder.Sub s) {
    int n = s.tensors.size();
    float[] min = new float[n];
    float[] max = new float[n];
    Arrays.fill(min, Float.POSITIVE_INFINITY);
    Arrays.fill(max, Float.NEGATIVE_INFINITY);
    return new Ranges(min, max);
  }

  private static void record(Ranges r, int t, float[] values) {
    float lo = r.min()[t];
    float hi = r.max()[t];
    for (float x : values) {
      // Non-finite values would give an infinite scale; they are clamped at run time anyway.
      if (Float.isFinite(x)) {
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
      }
    }
    r.min()[t] = lo;
    r.max()[t] = hi;
  }
}
