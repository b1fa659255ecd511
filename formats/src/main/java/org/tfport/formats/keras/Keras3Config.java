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
          inboundNodes(file, cls, out.path("config").path("name").asString("?"), nodes));
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

  /**
   * The names of each call argument, in order, of the layers a Keras 3 functional model may call
   * with more than one positional argument; every other layer's first argument is {@code inputs}
   * and it takes no further tensors by position.
   */
  private static final Map<String, List<String>> CALL_ARGS = callArgs();

  private static Map<String, List<String>> callArgs() {
    Map<String, List<String>> m = new java.util.HashMap<>();
    List<String> mha =
        List.of(
            "query",
            "value",
            "key",
            "query_mask",
            "value_mask",
            "key_mask",
            "attention_mask",
            "return_attention_scores",
            "training",
            "use_causal_mask");
    m.put("MultiHeadAttention", mha);
    m.put("GroupQueryAttention", mha);
    List<String> attention =
        List.of("inputs", "mask", "training", "return_attention_scores", "use_causal_mask");
    m.put("Attention", attention);
    m.put("AdditiveAttention", attention);
    for (String rnn :
        List.of(
            "RNN",
            "LSTM",
            "GRU",
            "SimpleRNN",
            "ConvLSTM1D",
            "ConvLSTM2D",
            "ConvLSTM3D",
            "Bidirectional")) {
      m.put(rnn, List.of("sequences", "initial_state", "mask", "training"));
    }
    return Map.copyOf(m);
  }

  /**
   * Keras 3 saves a call as its positional {@code args} and keyword {@code kwargs}; Keras 2 saved
   * the first argument's tensors as the node's entries and every other argument by its parameter
   * name in the kwargs beside them, a tensor there as {@code [layer, node, tensor]}. So {@code
   * mha(query=q, value=v)} and {@code mha(q, v)} both become {@code [[q, 0, 0, {value: [v, 0,
   * 0]}]]}, as Keras 2 wrote them.
   */
  private static ArrayNode inboundNodes(Path file, String cls, String layerName, ArrayNode nodes) {
    List<String> params = CALL_ARGS.getOrDefault(cls, List.of("inputs"));
    ArrayNode out = F.arrayNode();
    for (JsonNode node : nodes) {
      if (node.isArray()) {
        out.add(node); // already Keras 2 form
        continue;
      }
      JsonNode args = node.path("args");
      JsonNode kwargs = node.get("kwargs");
      ObjectNode kw = kwargs instanceof ObjectNode k ? k.deepCopy() : F.objectNode();
      JsonNode first;
      if (args.isArray() && !args.isEmpty()) {
        first = args.get(0);
      } else {
        first = kw.remove(params.get(0));
      }
      ObjectNode named = F.objectNode();
      for (int i = 1; args.isArray() && i < args.size(); i++) {
        if (i >= params.size()) {
          throw new UnsupportedModelException(
              file
                  + ": layer '"
                  + layerName
                  + "' ("
                  + cls
                  + ") is called with "
                  + args.size()
                  + " positional arguments in config.json; tfport knows the name of only its"
                  + " first, so it cannot tell what the others are");
        }
        named.set(params.get(i), args.get(i));
      }
      for (Map.Entry<String, JsonNode> e : kw.properties()) {
        if (named.has(e.getKey())) {
          throw new CorruptModelException(
              file
                  + ": layer '"
                  + layerName
                  + "' is given argument '"
                  + e.getKey()
                  + "' both by position and by keyword in config.json; the file is damaged");
        }
        named.set(e.getKey(), e.getValue());
      }
      ObjectNode keras2Kwargs = F.objectNode();
      for (Map.Entry<String, JsonNode> e : named.properties()) {
        keras2Kwargs.set(e.getKey(), tensorRefs(file, layerName, e.getValue()));
      }
      List<JsonNode> tensors = new ArrayList<>();
      if (first != null) {
        collectTensors(first, tensors);
      }
      if (tensors.isEmpty()) {
        throw new UnsupportedModelException(
            file
                + ": layer '"
                + layerName
                + "' is called on no tensor"
                + " in config.json; tfport cannot rebuild its connections");
      }
      ArrayNode call = F.arrayNode();
      for (JsonNode t : tensors) {
        ArrayNode ref = history(file, layerName, t);
        call.add(ref.add(keras2Kwargs));
      }
      out.add(call);
    }
    return out;
  }

  /** A keyword argument with each Keras tensor in it as {@code [layer, node, tensor]}. */
  private static JsonNode tensorRefs(Path file, String layerName, JsonNode v) {
    if (isKerasTensor(v)) {
      return history(file, layerName, v);
    }
    if (v.isArray()) {
      ArrayNode a = F.arrayNode();
      for (JsonNode c : v) {
        a.add(tensorRefs(file, layerName, c));
      }
      return a;
    }
    return clean(v);
  }

  private static ArrayNode history(Path file, String layerName, JsonNode tensor) {
    JsonNode h = tensor.path("config").path("keras_history");
    if (!h.isArray() || h.size() < 3) {
      throw new CorruptModelException(
          file
              + ": layer '"
              + layerName
              + "' has an input without"
              + " keras_history in config.json; the file is damaged");
    }
    return F.arrayNode().add(h.get(0)).add(h.get(1)).add(h.get(2));
  }

  private static boolean isKerasTensor(JsonNode n) {
    return n.isObject() && "__keras_tensor__".equals(n.path("class_name").asString(""));
  }

  private static void collectTensors(JsonNode n, List<JsonNode> out) {
    if (isKerasTensor(n)) {
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
