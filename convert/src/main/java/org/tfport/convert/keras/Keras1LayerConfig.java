package org.tfport.convert.keras;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.tfport.core.TfportException.UnsupportedModelException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * One Keras 1 layer's config being read and the Keras 2 config being written for it by {@link
 * Keras1Upgrade}, with the translations of setting values every layer family shares: initializers,
 * regularizers, constraints, padding. Every key read is recorded, so a setting nothing translated
 * refuses the layer ({@link #finish}) instead of being dropped.
 */
final class Keras1LayerConfig {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private final Path file;
  final String cls;
  final String name;
  final ObjectNode in;
  ObjectNode out = F.objectNode();
  private final Set<String> used = new HashSet<>();

  Keras1LayerConfig(Path file, String cls, ObjectNode in) {
    this.file = file;
    this.cls = cls;
    this.in = in;
    this.name = in.path("name").asString("?");
  }

  /** The value, or null when the key is absent or JSON null. */
  JsonNode take(String key) {
    used.add(key);
    JsonNode v = in.get(key);
    return v == null || v.isNull() ? null : v;
  }

  void copy(String key) {
    move(key, key);
  }

  void move(String from, String to) {
    used.add(from);
    if (in.has(from)) {
      out.set(to, in.get(from));
    }
  }

  int intOr(String key, int dflt) {
    JsonNode v = take(key);
    return v == null ? dflt : v.asInt(dflt);
  }

  double doubleOr(String key, double dflt) {
    JsonNode v = take(key);
    return v == null ? dflt : v.asDouble(dflt);
  }

  boolean boolOr(String key, boolean dflt) {
    JsonNode v = take(key);
    return v == null ? dflt : v.asBoolean(dflt);
  }

  UnsupportedModelException refuse(String why) {
    return new UnsupportedModelException(
        file + ": Keras 1 layer '" + name + "' (" + cls + ") " + why);
  }

  /**
   * Refuses settings nothing above read: dropping them silently could change what the layer
   * computes.
   */
  void finish() {
    for (String k : in.propertyNames()) {
      if (!used.contains(k)) {
        throw refuse(
            "has the setting '"
                + k
                + "' ("
                + in.get(k)
                + "), which tfport does not know how to"
                + " carry into Keras 2; load the model in Keras 2 and save it again");
      }
    }
  }

  /**
   * Keys every Keras 1 layer may carry; {@code input_dtype} is what Keras 2 calls {@code dtype}.
   */
  static void base(Keras1LayerConfig c) {
    c.copy("name");
    c.copy("trainable");
    c.copy("batch_input_shape");
    c.move("input_dtype", "dtype");
  }

  /**
   * Keras 1 built the input shape of a first layer from {@code input_dim}/{@code input_length} when
   * no {@code batch_input_shape} was saved; TF.js needs it spelled out. Elsewhere the keys only
   * echo the shape the layer was built for, so they are dropped.
   */
  static void inputShape(Keras1LayerConfig c, boolean first, boolean withLength) {
    JsonNode dim = c.take("input_dim");
    JsonNode length = withLength ? c.take("input_length") : null;
    if (first && dim != null && !c.out.has("batch_input_shape")) {
      ArrayNode shape = c.out.putArray("batch_input_shape").addNull();
      if (withLength) {
        shape.add(length == null ? F.nullNode() : length);
      }
      shape.add(dim);
    }
  }

  static String padding(Keras1LayerConfig c) {
    JsonNode b = c.take("border_mode");
    String v = b == null ? "valid" : b.asString("valid");
    if (!v.equals("valid") && !v.equals("same")) {
      throw c.refuse(
          "uses border_mode '"
              + v
              + "', which Keras 2 and TF.js do not have (only 'valid' and"
              + " 'same'); pad the input with ZeroPadding and use 'valid'");
    }
    return v;
  }

  static void ints(Keras1LayerConfig c, String key, int n, ArrayNode into) {
    JsonNode v = c.take(key);
    for (int i = 0; i < n; i++) {
      into.add(v == null ? 1 : v.isArray() ? v.path(i).asInt(1) : v.asInt(1));
    }
  }

  /** Keras 1 took (pad_h, pad_w), (top, bottom, left, right) or a dict of the four. */
  static JsonNode zeroPadding2D(Keras1LayerConfig c) {
    JsonNode p = c.take("padding");
    int top = 1;
    int bottom = 1;
    int left = 1;
    int right = 1;
    if (p != null && p.isObject()) {
      top = p.path("top_pad").asInt(0);
      bottom = p.path("bottom_pad").asInt(0);
      left = p.path("left_pad").asInt(0);
      right = p.path("right_pad").asInt(0);
    } else if (p != null && p.isArray() && p.size() == 4) {
      top = p.get(0).asInt();
      bottom = p.get(1).asInt();
      left = p.get(2).asInt();
      right = p.get(3).asInt();
    } else if (p != null && p.isArray() && p.size() == 2 && p.get(0).isArray()) {
      return p;
    } else if (p != null && p.isArray() && p.size() == 2) {
      top = bottom = p.get(0).asInt();
      left = right = p.get(1).asInt();
    } else if (p != null && p.isNumber()) {
      top = bottom = left = right = p.asInt();
    }
    return F.arrayNode()
        .add(F.arrayNode().add(top).add(bottom))
        .add(F.arrayNode().add(left).add(right));
  }

  /**
   * Keras 1 named its initializers by function; TF.js needs Keras 2 class configs, and its own
   * names for several (uniform, normal, zero, one) differ. Parameters are Keras 1's defaults, so a
   * model trained on after conversion starts as Keras 1 would have.
   */
  static JsonNode initializer(Keras1LayerConfig c, String key, String dflt) {
    JsonNode v = c.take(key);
    if (v != null && v.isObject() && v.has("class_name")) {
      return v;
    }
    String name = v == null ? dflt : v.asString(dflt);
    ObjectNode cfg = F.objectNode();
    switch (name) {
      case "zero", "zeros" -> {
        return named("Zeros", cfg);
      }
      case "one", "ones" -> {
        return named("Ones", cfg);
      }
      case "uniform" -> {
        cfg.put("minval", -0.05).put("maxval", 0.05).putNull("seed");
        return named("RandomUniform", cfg);
      }
      case "normal" -> {
        cfg.put("mean", 0.0).put("stddev", 0.05).putNull("seed");
        return named("RandomNormal", cfg);
      }
      case "orthogonal" -> {
        cfg.put("gain", 1.1).putNull("seed");
        return named("Orthogonal", cfg);
      }
      case "identity" -> {
        cfg.put("gain", 1.0);
        return named("Identity", cfg);
      }
      case "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform" -> {
        cfg.put("scale", name.startsWith("he_") ? 2.0 : 1.0);
        cfg.put("mode", name.startsWith("glorot_") ? "fan_avg" : "fan_in");
        cfg.put("distribution", name.endsWith("_uniform") ? "uniform" : "normal");
        cfg.putNull("seed");
        return named("VarianceScaling", cfg);
      }
      default ->
          throw c.refuse(
              "initializes '"
                  + key
                  + "' with '"
                  + name
                  + "', which is not a Keras 1"
                  + " built-in initializer (TF.js cannot construct it); use a built-in one");
    }
  }

  /**
   * Keras 1 wrote {@code {"name": "WeightRegularizer", "l1": a, "l2": b}}; Keras 2 calls it L1L2.
   */
  static JsonNode regularizer(Keras1LayerConfig c, String key) {
    JsonNode v = c.take(key);
    if (v == null) {
      return F.nullNode();
    }
    if (v.has("class_name")) {
      return v;
    }
    if (!v.isObject() || !(v.has("l1") || v.has("l2"))) {
      throw c.refuse(
          "has " + key + " " + v + ", which is not an L1/L2 penalty TF.js can construct");
    }
    ObjectNode cfg = F.objectNode();
    cfg.put("l1", v.path("l1").asDouble(0));
    cfg.put("l2", v.path("l2").asDouble(0));
    return named("L1L2", cfg);
  }

  /**
   * Keras 1 wrote {@code {"name": "MaxNorm", "m": 2, "axis": 0}}. Axes name kernel axes, so they
   * follow the kernel when its layout changes ({@code axisMap}, null when it does not).
   */
  static JsonNode constraint(Keras1LayerConfig c, String key, int[] axisMap) {
    JsonNode v = c.take(key);
    if (v == null) {
      return F.nullNode();
    }
    if (v.has("class_name")) {
      return v;
    }
    String name = v.path("name").asString("");
    ObjectNode cfg = F.objectNode();
    switch (name) {
      case "MaxNorm" -> {
        cfg.put("max_value", v.path("m").asDouble(2));
        cfg.set("axis", axes(c, key, v.path("axis"), axisMap));
      }
      case "UnitNorm" -> cfg.set("axis", axes(c, key, v.path("axis"), axisMap));
      case "NonNeg" -> {}
      default ->
          throw c.refuse("has " + key + " '" + name + "', a constraint tfport does not translate");
    }
    return named(name, cfg);
  }

  static JsonNode axes(Keras1LayerConfig c, String key, JsonNode axis, int[] axisMap) {
    if (axis.isMissingNode() || axis.isNull()) {
      return F.numberNode(0);
    }
    if (axisMap == null) {
      return axis;
    }
    ArrayNode out = F.arrayNode();
    for (JsonNode a : axis.isArray() ? axis : F.arrayNode().add(axis)) {
      int old = a.asInt();
      old = old < 0 ? old + axisMap.length : old;
      if (old < 0 || old >= axisMap.length) {
        throw c.refuse("has " + key + " over axis " + a + ", which its kernel does not have");
      }
      if (axisMap[old] >= 0) {
        out.add(axisMap[old]);
      }
    }
    return out.size() == 1 ? out.get(0) : out;
  }

  static ObjectNode named(String cls, ObjectNode config) {
    ObjectNode o = F.objectNode();
    o.put("class_name", cls);
    o.set("config", config);
    return o;
  }
}
