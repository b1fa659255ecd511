package org.tfport.formats.keras;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The inverse of {@link Keras3Config}: a Keras 2 model config (what TF.js layers models hold) in
 * the form Keras 3 deserializes from {@code config.json}. Every layer names the module Keras 3
 * finds its class in ({@code keras.layers}; models in {@code keras} and {@code
 * keras.src.models.functional}), an input shape lives on an {@code InputLayer} as {@code
 * batch_shape} (Keras 3 layers reject {@code batch_input_shape}), and functional {@code
 * inbound_nodes} stay in the list form, which Keras 3 still reads.
 */
final class Keras3ConfigWriter {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  /** Keras 2 layer arguments Keras 3 constructors reject, dropped when they hold the default. */
  private static final List<String> OBSOLETE_FALSE = List.of("time_major", "ragged");

  private Keras3ConfigWriter() {}

  static ObjectNode model(Path file, JsonNode root) {
    if (!(root instanceof ObjectNode) || !root.path("class_name").isString()) {
      throw new CorruptModelException(
          file + ": the model topology is not a Keras model config (no class_name)");
    }
    String cls = root.path("class_name").stringValue();
    if (!Keras3Config.isModelClass(cls)) {
      throw new UnsupportedModelException(
          file
              + ": the model topology is a '"
              + cls
              + "', not a Sequential or functional model; Keras 3 archives hold a model");
    }
    Set<String> names = new HashSet<>();
    collectNames(root, names);
    return layer(file, root, names);
  }

  private static ObjectNode layer(Path file, JsonNode in, Set<String> names) {
    ObjectNode src = (ObjectNode) in.deepCopy();
    String cls = src.path("class_name").asString("");
    boolean model = Keras3Config.isModelClass(cls);
    if (cls.equals("Model")) {
      cls = "Functional";
    }
    ObjectNode out = F.objectNode();
    if (src.has("name")) {
      out.set("name", src.get("name"));
    }
    out.put(
        "module",
        !model
            ? "keras.layers"
            : cls.equals("Sequential") ? "keras" : "keras.src.models.functional");
    out.put("class_name", cls);
    JsonNode cfg = src.get("config");
    if (cls.equals("Sequential") && cfg instanceof ArrayNode bare) {
      // Keras 2.0 wrote a Sequential's config as the bare list of its layers.
      ObjectNode wrapped = F.objectNode();
      wrapped.put("name", "sequential");
      wrapped.set("layers", bare);
      cfg = wrapped;
    }
    if (cfg instanceof ObjectNode c) {
      if (cls.equals("InputLayer") && c.has("batch_input_shape")) {
        c.set("batch_shape", c.remove("batch_input_shape"));
      }
      keepKeras2Meaning(file, cls, c);
      for (String k : OBSOLETE_FALSE) {
        if (c.has(k) && !c.get(k).asBoolean(true)) {
          c.remove(k);
        }
      }
      if (model && c.get("layers") instanceof ArrayNode layers) {
        ArrayNode converted = F.arrayNode();
        if (cls.equals("Sequential")) {
          ObjectNode input = sequentialInput(layers, names);
          if (input != null) {
            converted.add(input);
          }
        }
        for (JsonNode l : layers) {
          converted.add(layer(file, l, names));
        }
        c.set("layers", converted);
        if (!cls.equals("Sequential")) {
          renumberSequentialCalls(c);
        }
      }
      for (String key : List.of("layer", "backward_layer", "cell")) {
        if (c.get(key) instanceof ObjectNode inner && inner.has("class_name")) {
          c.set(key, layer(file, inner, names));
        }
      }
      out.set("config", c);
    } else if (cfg != null) {
      out.set("config", cfg);
    }
    out.putNull("registered_name");
    if (src.has("inbound_nodes")) {
      out.set("inbound_nodes", src.get("inbound_nodes"));
    }
    return out;
  }

  /**
   * Keras 2 put a Sequential's input shape on its first layer; Keras 3 needs an InputLayer for it.
   * Returns that InputLayer (and takes the shape off the first layer), or null when there is none
   * to add.
   */
  private static ObjectNode sequentialInput(ArrayNode layers, Set<String> names) {
    if (layers.isEmpty()
        || !(layers.get(0).get("config") instanceof ObjectNode first)
        || layers.get(0).path("class_name").asString("").equals("InputLayer")
        || !first.has("batch_input_shape")) {
      return null;
    }
    ObjectNode cfg = F.objectNode();
    cfg.set("batch_shape", first.remove("batch_input_shape"));
    JsonNode dtype = first.get("dtype");
    cfg.set("dtype", dtype != null && dtype.isString() ? dtype : F.stringNode("float32"));
    cfg.put("sparse", false);
    String name = "input_layer";
    for (int i = 1; names.contains(name); i++) {
      name = "input_layer_" + i;
    }
    names.add(name);
    cfg.put("name", name);
    ObjectNode input = F.objectNode();
    input.put("module", "keras.layers");
    input.put("class_name", "InputLayer");
    input.set("config", cfg);
    input.putNull("registered_name");
    return input;
  }

  /**
   * Keras 3 changed what some configs mean: {@code hard_sigmoid} is {@code relu6(x + 3) / 6}, not
   * {@code clip(0.2x + 0.5, 0, 1)}; GRU's {@code reset_after} defaults to true; LeakyReLU's slope
   * is {@code negative_slope}. Defaults are written out, and what Keras 3 cannot express is refused
   * by layer.
   */
  private static void keepKeras2Meaning(Path file, String cls, ObjectNode c) {
    for (String key : List.of("activation", "recurrent_activation")) {
      if ("hard_sigmoid".equals(c.path(key).asString(""))) {
        throw new UnsupportedModelException(
            file
                + ": layer '"
                + c.path("name").asString(cls)
                + "' uses "
                + key
                + " hard_sigmoid, which Keras 3 computes differently (relu6(x + 3) / 6 instead of"
                + " clip(0.2x + 0.5, 0, 1)); write a .h5 file instead (into ModelFormat.KERAS)");
      }
    }
    if (cls.equals("GRU") && !c.has("reset_after")) {
      c.put("reset_after", false);
    }
    if (cls.equals("LeakyReLU") && !c.has("negative_slope")) {
      JsonNode alpha = c.remove("alpha");
      c.set("negative_slope", alpha != null ? alpha : F.numberNode(0.3));
    }
  }

  /**
   * Keras 2 counts a nested Sequential model's own construction as its node 0, so calls of it in
   * the enclosing model start at node 1; Keras 3 counts from 0.
   */
  private static void renumberSequentialCalls(ObjectNode modelConfig) {
    Set<String> shifted = new HashSet<>();
    for (JsonNode l : modelConfig.path("layers")) {
      if (l.path("class_name").asString("").equals("Sequential")
          && l.path("config")
              .path("layers")
              .path(0)
              .path("class_name")
              .asString("")
              .equals("InputLayer")) {
        shifted.add(l.path("config").path("name").asString(""));
      }
    }
    if (shifted.isEmpty()) {
      return;
    }
    for (JsonNode l : modelConfig.path("layers")) {
      for (JsonNode node : l.path("inbound_nodes")) {
        for (JsonNode call : node) {
          shift(call, shifted);
        }
      }
    }
    for (String key : List.of("input_layers", "output_layers")) {
      for (JsonNode end : modelConfig.path(key)) {
        shift(end, shifted);
      }
    }
  }

  private static void shift(JsonNode ref, Set<String> shifted) {
    if (ref instanceof ArrayNode a
        && a.size() >= 2
        && shifted.contains(a.path(0).asString(""))
        && a.get(1).asInt(0) >= 1) {
      a.set(1, F.numberNode(a.get(1).asInt() - 1));
    }
  }

  private static void collectNames(JsonNode n, Set<String> names) {
    if (n.isObject()) {
      if (n.has("class_name") && n.path("config").path("name").isString()) {
        names.add(n.path("config").path("name").stringValue());
      }
      n.forEach(c -> collectNames(c, names));
    } else if (n.isArray()) {
      n.forEach(c -> collectNames(c, names));
    }
  }
}
