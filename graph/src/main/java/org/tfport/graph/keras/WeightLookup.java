package org.tfport.graph.keras;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.tfport.core.Tensor;

/**
 * A model's stored weights by the layer that owns them. Keras names a weight {@code
 * layer/.../kernel} (the TF.js manifest keeps that name, an HDF5 file adds {@code :0}); a weight is
 * found by its owner's name and its last name part, else by its position among its owner's weights.
 */
final class WeightLookup {
  record Entry(String name, Supplier<Tensor> data) {}

  private final Map<String, List<Entry>> byLayer = new LinkedHashMap<>();

  /**
   * @param grouped top-level layer name to its weights in saved order (HDF5), or the flat manifest
   *     under the key {@code ""} (TF.js)
   */
  WeightLookup(Map<String, List<Entry>> grouped) {
    for (Map.Entry<String, List<Entry>> g : grouped.entrySet()) {
      for (Entry e : g.getValue()) {
        String n =
            e.name().endsWith(":0") ? e.name().substring(0, e.name().length() - 2) : e.name();
        Entry clean = new Entry(n, e.data());
        String[] parts = n.split("/");
        // Every prefix scope may be the owner: 'model/dense/kernel' belongs to 'dense' in a
        // nested model, 'bidirectional/forward_lstm/...' to the wrapper.
        for (int i = 0; i < parts.length - 1; i++) {
          byLayer.computeIfAbsent(parts[i], k -> new ArrayList<>()).add(clean);
        }
        if (!g.getKey().isEmpty() && (parts.length < 2 || !parts[0].equals(g.getKey()))) {
          byLayer.computeIfAbsent(g.getKey(), k -> new ArrayList<>()).add(clean);
        }
      }
    }
  }

  /** The weights a layer owns, in saved order; empty when it has none. */
  List<Entry> of(String layer) {
    return byLayer.getOrDefault(layer, List.of());
  }

  /**
   * The weight of {@code layer} whose last name part is {@code shortName}, else the one at {@code
   * position} among the layer's weights, else null.
   */
  Tensor find(String layer, String shortName, int position) {
    Entry e = entry(layer, shortName, position);
    return e == null ? null : e.data().get();
  }

  /** The stored entry {@link #find} reads, or null. */
  Entry entry(String layer, String shortName, int position) {
    List<Entry> es = of(layer);
    for (Entry e : es) {
      String n = e.name();
      if (n.substring(n.lastIndexOf('/') + 1).equals(shortName)) {
        return e;
      }
    }
    if (position >= 0 && position < es.size()) {
      return es.get(position);
    }
    return null;
  }
}
