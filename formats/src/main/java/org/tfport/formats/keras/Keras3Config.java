package org.tfport.formats.keras;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.Json;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Rewrites a Keras 3 serialized config into the Keras 2 form that TF.js layers and older Keras
 * read: no {@code module}/{@code registered_name}/{@code build_config}, dtype policies as plain
 * dtype names, {@code batch_shape} as {@code batch_input_shape}, and functional {@code
 * inbound_nodes} as nested lists. Upstream strips only three keys and produces configs TF.js cannot
 * load (tfjs #8328, #8544).
 */
final class Keras3Config {
  private static final Set<String> DROPPED_KEYS =
      Set.of(
          "module",
          "registered_name",
          "build_config",
          "compile_config",
          "shared_object_id",
          "date_saved");
  private static final Set<String> MODEL_CLASSES = Set.of("Sequential", "Functional", "Model");
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private Keras3Config() {}

  static boolean isModelClass(String className) {
    return MODEL_CLASSES.contains(className);
  }

  /** The whole model: {@code {class_name, config}} in Keras 2 form. */
  static ObjectNode model(Path file, JsonNode root) {
    if (root == null || !root.isObject() || !root.path("class_name").isString()) {
      throw new CorruptModelException(
          file + ": config.json is not a Keras model config (no class_name)");
    }
    String cls = root.path("class_name").stringValue();
    if (!isModelClass(cls)) {
      String reg =
          root.path("registered_name").isString()
              ? root.path("registered_name").stringValue()
              : null;
      throw new UnsupportedModelException(
          file
              + ": model class '"
              + cls
              + "'"
              + (reg != null ? " (registered as '" + reg + "')" : "")
              + " is a subclassed model, whose layer graph is Python code, not config; tfport reads"
              + " a .keras file's layers from its config, so it needs a Sequential or functional model:"
              + " rebuild it with keras.Sequential or keras.Model(inputs, outputs) and save it again, or"
              + " export it as a SavedModel (model.export(dir)) and convert that as"
              + " ModelFormat.TF_SAVED_MODEL");
    }
    return layer(file, root);
  }

  /** One serialized layer ({@code {class_name, config, inbound_nodes?}}) in Keras 2 form. */
  static ObjectNode layer(Path file, JsonNode layer) {
    ObjectNode out = (ObjectNode) clean(layer);
    String cls = out.path("class_name").asString("");
    JsonNode cfg = out.get("config");
    if (cfg instanceof ObjectNode c) {
      if (c.has("batch_shape") && !c.has("batch_input_shape")) {
        c.set("batch_input_shape", c.remove("batch_shape"));
      }
      if (cls.equals("InputLayer")) {
        c.remove("optional");
      }
      if (isModelClass(cls) && c.get("layers") instanceof ArrayNode layers) {
        ArrayNode converted = F.arrayNode();
        for (JsonNode l : layers) {
          ObjectNode k2 = layer(file, l);
          // Keras 2 repeats each layer's name beside its config; TF.js keys its layer map on it and
          // never finishes loading a functional model without it.
          if (!k2.has("name") && k2.path("config").path("name").isString()) {
            ObjectNode named = F.objectNode();
            named.put("name", k2.path("config").path("name").stringValue());
            named.setAll(k2);
            k2 = named;
          }
          converted.add(k2);
        }
        c.set("layers", converted);
        normalizeEnds(c, "input_layers");
        normalizeEnds(c, "output_layers");
      }
    }
    if (out.get("inbound_nodes") instanceof ArrayNode nodes) {
      out.set(
          "inbound_nodes",
          inboundNodes(file, out.path("config").path("name").asString("?"), nodes));
    }
    return out;
  }

  /**
   * Keras 3 writes a single input/output as {@code ["x", 0, 0]}; Keras 2 always as a list of those.
   */
  private static void normalizeEnds(ObjectNode c, String key) {
    JsonNode v = c.get(key);
    if (v instanceof ArrayNode a && !a.isEmpty() && a.get(0).isString()) {
      c.set(key, F.arrayNode().add(a));
    }
  }

  private static ArrayNode inboundNodes(Path file, String layerName, ArrayNode nodes) {
    ArrayNode out = F.arrayNode();
    for (JsonNode node : nodes) {
      if (node.isArray()) {
        out.add(node); // already Keras 2 form
        continue;
      }
      JsonNode args = node.path("args");
      JsonNode kwargs = node.get("kwargs");
      ObjectNode kw = kwargs instanceof ObjectNode k ? k.deepCopy() : F.objectNode();
      ArrayNode call = F.arrayNode();
      List<JsonNode> tensors = new ArrayList<>();
      for (JsonNode a : args) {
        collectTensors(a, tensors);
      }
      // Keyword tensors (mask=, initial_state=) have no Keras 2 place; drop them from kwargs.
      List<String> tensorKw = new ArrayList<>();
      for (Map.Entry<String, JsonNode> e : kw.properties()) {
        List<JsonNode> t = new ArrayList<>();
        collectTensors(e.getValue(), t);
        if (!t.isEmpty()) {
          tensorKw.add(e.getKey());
        }
      }
      tensorKw.forEach(kw::remove);
      if (tensors.isEmpty()) {
        throw new UnsupportedModelException(
            file
                + ": layer '"
                + layerName
                + "' is called on no tensor"
                + " in config.json; tfport cannot rebuild its connections");
      }
      for (JsonNode t : tensors) {
        JsonNode h = t.path("config").path("keras_history");
        if (!h.isArray() || h.size() < 3) {
          throw new CorruptModelException(
              file
                  + ": layer '"
                  + layerName
                  + "' has an input without"
                  + " keras_history in config.json; the file is damaged");
        }
        call.add(F.arrayNode().add(h.get(0)).add(h.get(1)).add(h.get(2)).add(clean(kw)));
      }
      out.add(call);
    }
    return out;
  }

  private static void collectTensors(JsonNode n, List<JsonNode> out) {
    if (n.isObject() && "__keras_tensor__".equals(n.path("class_name").asString(""))) {
      out.add(n);
    } else if (n.isArray()) {
      for (JsonNode c : n) {
        collectTensors(c, out);
      }
    }
  }

  /**
   * Drops Keras 3 bookkeeping keys at every depth and unwraps dtype policies and tensor constants.
   */
  static JsonNode clean(JsonNode n) {
    if (n.isObject()) {
      String cls = n.path("class_name").asString("");
      if (cls.endsWith("DTypePolicy") && n.path("config").path("name").isString()) {
        return F.stringNode(n.path("config").path("name").stringValue());
      }
      if (cls.equals("__tensor__") || cls.equals("__numpy__")) {
        JsonNode v = n.path("config").path("value");
        return v.isArray() && v.size() == 1 ? clean(v.get(0)) : clean(v);
      }
      ObjectNode o = F.objectNode();
      for (Map.Entry<String, JsonNode> e : n.properties()) {
        if (!DROPPED_KEYS.contains(e.getKey())) {
          o.set(e.getKey(), clean(e.getValue()));
        }
      }
      return o;
    }
    if (n.isArray()) {
      ArrayNode a = F.arrayNode();
      for (JsonNode c : n) {
        a.add(clean(c));
      }
      return a;
    }
    return n.deepCopy();
  }

  /**
   * compile_config becomes the Keras 2 training_config, so optimizer and loss survive the
   * conversion.
   */
  static JsonNode trainingConfig(JsonNode root) {
    JsonNode cc = root.get("compile_config");
    if (!(cc instanceof ObjectNode c) || c.isEmpty()) {
      return null;
    }
    ObjectNode t = F.objectNode();
    if (c.get("optimizer") instanceof ObjectNode opt) {
      t.set("optimizer_config", clean(opt));
    }
    for (String k : List.of("loss", "metrics", "weighted_metrics", "loss_weights")) {
      if (c.has(k)) {
        t.set(k, clean(c.get(k)));
      }
    }
    return t;
  }

  static String toSnakeCase(String name) {
    String s = name.replaceAll("(.)([A-Z][a-z]+)", "$1_$2");
    return s.replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT);
  }

  static JsonNode parse(Path file, String entry, byte[] bytes) {
    try {
      return Json.MAPPER.readTree(bytes);
    } catch (tools.jackson.core.JacksonException e) {
      throw new CorruptModelException(
          file
              + ": "
              + entry
              + " is not valid JSON ("
              + e.getOriginalMessage()
              + "); the .keras file is damaged");
    }
  }
}
