package org.tfport.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code fit} logged: per key ({@code loss}, metric names, {@code val_} ones), one value per
 * epoch run, as Keras' and TF.js' {@code history.history}.
 */
public record History(Map<String, List<Double>> values, int epochs) {
  public History {
    Map<String, List<Double>> copy = new LinkedHashMap<>();
    values.forEach((k, v) -> copy.put(k, List.copyOf(v)));
    values = java.util.Collections.unmodifiableMap(copy);
  }

  static History of(List<Map<String, Double>> logs) {
    Map<String, List<Double>> v = new LinkedHashMap<>();
    for (Map<String, Double> epoch : logs) {
      epoch.forEach((k, x) -> v.computeIfAbsent(k, q -> new ArrayList<>()).add(x));
    }
    return new History(v, logs.size());
  }

  /** The values logged under {@code key}, one per epoch. */
  public List<Double> get(String key) {
    return values.getOrDefault(key, List.of());
  }
}
