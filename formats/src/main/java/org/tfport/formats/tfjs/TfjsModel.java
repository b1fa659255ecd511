package org.tfport.formats.tfjs;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.Tensor;

/**
 * A TF.js model read into memory: the model.json envelope and every weight, dequantized.
 *
 * @param source the model.json (or weights manifest) it was read from
 * @param modelJson the envelope; for a bare weights manifest every member is null
 */
public record TfjsModel(Path source, TfjsModelJson modelJson, List<WeightGroup> groups) {
  public TfjsModel {
    groups = List.copyOf(groups);
  }

  public int weightCount() {
    return groups.stream().mapToInt(g -> g.weights().size()).sum();
  }

  /** Every weight by name, in manifest order. */
  public Map<String, Tensor> weightsByName() {
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (WeightGroup g : groups) {
      for (WeightGroup.Weight w : g.weights()) {
        m.put(w.spec().name(), w.value());
      }
    }
    return m;
  }

  /**
   * The weights in the writer's input form, grouped as in the manifest, for re-sharding or
   * re-quantizing. Quantization is not carried over: the values are the dequantized ones and the
   * write options decide.
   */
  public List<List<WeightEntry>> weightEntries() {
    return entries(false);
  }

  /**
   * As {@link #weightEntries()}, but each quantized weight keeps its stored form ({@link
   * WeightEntry#keep()}), so writing the model again gives the same bytes: for re-sharding without
   * a new quantization. A weight whose stored values cannot be recovered exactly from the
   * dequantized ones (a damaged or hand-made manifest) is left to the write options.
   */
  public List<List<WeightEntry>> storedWeightEntries() {
    return entries(true);
  }

  private List<List<WeightEntry>> entries(boolean keep) {
    List<List<WeightEntry>> out = new ArrayList<>();
    for (WeightGroup g : groups) {
      List<WeightEntry> es = new ArrayList<>();
      for (WeightGroup.Weight w : g.weights()) {
        Tensor v = w.value();
        Quantization q = w.spec().quantization();
        boolean kept =
            keep && q != null && v.dtype() == DType.FLOAT32 && QuantMath.recoverable(v, q);
        es.add(
            new WeightEntry(
                w.spec().name(), v.dtype(), v.shape(), () -> v, w.spec().group(), kept ? q : null));
      }
      out.add(es);
    }
    return out;
  }
}
