package org.tfport.formats.keras;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * Where Keras 3 keeps a layer's weights in {@code model.weights.h5}, shared by {@link
 * KerasV3Reader} and {@link KerasV3Writer} so both walk a model the same way: a model's layers but
 * InputLayer under {@code layers/KEY}, KEY the class name in snake case numbered per class ({@code
 * dense}, {@code dense_1}); a wrapper's layers in groups of their own, named as TF.js names their
 * weights.
 */
final class Keras3Paths {
  private Keras3Paths() {}

  /** A model's layer: its config, class, group key under {@code layers/} and Keras name. */
  record Keyed(JsonNode layer, String cls, String key, String name) {}

  /** A wrapped layer: its config, its group under the wrapper's, and its weights' name prefix. */
  record Wrapped(JsonNode layer, String group, String name) {}

  /** The layers of {@code model} that have a weights group, in config order. */
  static List<Keyed> layers(JsonNode model) {
    Map<String, Integer> used = new HashMap<>();
    List<Keyed> out = new ArrayList<>();
    for (JsonNode layer : model.path("config").path("layers")) {
      String cls = layer.path("class_name").asString("");
      if (cls.equals("InputLayer")) {
        continue;
      }
      String base = Keras3Config.toSnakeCase(cls);
      int k = used.merge(base, 1, Integer::sum) - 1;
      String key = k == 0 ? base : base + "_" + k;
      out.add(new Keyed(layer, cls, key, layer.path("config").path("name").asString(key)));
    }
    return out;
  }

  /**
   * The layers a Bidirectional or TimeDistributed wrapper named {@code name} holds; empty for any
   * other class.
   */
  static List<Wrapped> wrapped(String cls, JsonNode cfg, String name) {
    return switch (cls) {
      case "Bidirectional" -> {
        JsonNode inner = cfg.path("layer");
        String innerName = inner.path("config").path("name").asString("rnn");
        JsonNode back = cfg.has("backward_layer") ? cfg.path("backward_layer") : inner;
        String backName = back.path("config").path("name").asString(innerName);
        yield List.of(
            new Wrapped(inner, "forward_layer", name + "/forward_" + innerName),
            new Wrapped(
                back,
                "backward_layer",
                name + "/backward_" + backName.replaceFirst("^backward_", "")));
      }
      case "TimeDistributed" -> List.of(new Wrapped(cfg.path("layer"), "layer", name));
      default -> List.of();
    };
  }
}
