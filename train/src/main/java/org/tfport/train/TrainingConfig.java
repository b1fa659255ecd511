package org.tfport.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * What a model's stored {@code training_config} (Keras) or {@code trainingConfig} (TF.js) says:
 * loss, metrics and optimizer with its learning rate.
 */
final class TrainingConfig {
  private TrainingConfig() {}

  static String loss(JsonNode tc) {
    if (tc == null) {
      return null;
    }
    JsonNode l = tc.get("loss");
    if (l == null || l.isNull()) {
      return null;
    }
    if (l.isString()) {
      return l.stringValue();
    }
    if (l.isObject() && l.path("class_name").isString()) {
      return l.path("class_name").stringValue();
    }
    if (l.isObject() && l.size() == 1) {
      JsonNode only = l.iterator().next();
      return only.isString() ? only.stringValue() : null;
    }
    return null;
  }

  /**
   * The losses of a model of several outputs, by output name: {@code loss} as a dictionary keyed by
   * output, or a list in output order; null when it names one loss for all.
   */
  static Map<String, String> outputLosses(JsonNode tc, List<String> outputs) {
    JsonNode l = tc == null ? null : tc.get("loss");
    if (l == null || (l.isObject() && (l.has("class_name") || l.size() == 1))) {
      return null;
    }
    Map<String, String> out = new LinkedHashMap<>();
    if (l.isObject()) {
      for (Map.Entry<String, JsonNode> e : l.properties()) {
        out.put(e.getKey(), name(e.getValue()));
      }
    } else if (l.isArray() && l.size() == outputs.size()) {
      for (int k = 0; k < l.size(); k++) {
        out.put(outputs.get(k), name(l.get(k)));
      }
    } else {
      return null;
    }
    out.values().removeIf(v -> v == null);
    return out.isEmpty() ? null : out;
  }

  private static String name(JsonNode l) {
    return l.isString()
        ? l.stringValue()
        : l.path("class_name").isString() ? l.path("class_name").stringValue() : null;
  }

  /** {@code loss_weights}, a list in output order or a dictionary by output; null when absent. */
  static Map<String, Double> lossWeights(JsonNode tc, List<String> outputs) {
    JsonNode w = tc == null ? null : tc.get("loss_weights");
    Map<String, Double> out = new LinkedHashMap<>();
    if (w != null && w.isObject()) {
      for (Map.Entry<String, JsonNode> e : w.properties()) {
        if (e.getValue().isNumber()) {
          out.put(e.getKey(), e.getValue().asDouble());
        }
      }
    } else if (w != null && w.isArray() && w.size() == outputs.size()) {
      for (int k = 0; k < w.size(); k++) {
        if (w.get(k).isNumber()) {
          out.put(outputs.get(k), w.get(k).asDouble());
        }
      }
    }
    return out.isEmpty() ? null : out;
  }

  static List<String> metrics(JsonNode tc) {
    List<String> out = new ArrayList<>();
    JsonNode m = tc == null ? null : tc.get("metrics");
    if (m != null && m.isArray()) {
      for (JsonNode e : m) {
        if (e.isString()) {
          out.add(e.stringValue());
        } else if (e.isArray()) {
          e.forEach(
              q -> {
                if (q.isString()) {
                  out.add(q.stringValue());
                }
              });
        }
      }
    }
    return out;
  }

  static Optimizer optimizer(JsonNode tc, double lr) {
    JsonNode oc = tc == null ? null : tc.get("optimizer_config");
    if (oc == null || !oc.path("class_name").isString()) {
      return Optimizer.of("rmsprop", lr);
    }
    String name = oc.path("class_name").stringValue();
    JsonNode c = oc.path("config");
    double rate = lr;
    if (Double.isNaN(rate)) {
      JsonNode r = c.has("learning_rate") ? c.get("learning_rate") : c.get("lr");
      rate = r != null && r.isNumber() ? r.asDouble() : Double.NaN;
    }
    if (name.equalsIgnoreCase("SGD") && c.path("momentum").asDouble(0) > 0) {
      return Optimizer.sgd(
          Double.isNaN(rate) ? 0.01 : rate,
          c.path("momentum").asDouble(),
          c.path("nesterov").asBoolean(false));
    }
    if (name.equalsIgnoreCase("AdamW")) {
      return Optimizer.adamW(
          Double.isNaN(rate) ? 0.001 : rate,
          c.path("beta_1").asDouble(0.9),
          c.path("beta_2").asDouble(0.999),
          c.path("epsilon").asDouble(Optimizer.EPSILON),
          c.path("weight_decay").asDouble(0.004));
    }
    return Optimizer.of(name, rate);
  }
}
