package org.tfport.convert.keras;

import java.util.function.BiConsumer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Visits every serialized layer in a Keras model config, nested models and wrapped layers included.
 */
final class KerasLayerWalk {
  private KerasLayerWalk() {}

  /**
   * Calls {@code visit(layer, path)} for each {@code {class_name, config}} object, parents first.
   * The path names the layer for messages ({@code model/bidirectional_1/lstm_1}).
   */
  static void walk(JsonNode layer, String path, BiConsumer<ObjectNode, String> visit) {
    if (!(layer instanceof ObjectNode o) || !o.has("class_name")) {
      return;
    }
    JsonNode cfg = o.get("config");
    String name =
        cfg != null && cfg.path("name").isString() ? cfg.path("name").stringValue() : null;
    String here =
        path.isEmpty()
            ? (name == null ? o.path("class_name").asString("") : name)
            : path + "/" + (name == null ? o.path("class_name").asString("") : name);
    visit.accept(o, here);
    if (cfg == null) {
      return;
    }
    JsonNode layers = cfg.isArray() ? cfg : cfg.get("layers");
    if (layers != null && layers.isArray()) {
      for (JsonNode l : layers) {
        walk(l, here, visit);
      }
    }
    for (String key : new String[] {"layer", "backward_layer", "cell"}) {
      JsonNode inner = cfg.get(key);
      if (inner != null && inner.isObject()) {
        walk(inner, here, visit);
      }
      if (inner != null && inner.isArray()) {
        for (JsonNode c : inner) {
          walk(c, here, visit);
        }
      }
    }
    JsonNode cells = cfg.get("cells");
    if (cells != null && cells.isArray()) {
      for (JsonNode c : cells) {
        walk(c, here, visit);
      }
    }
  }
}
