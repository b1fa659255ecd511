package org.tfport.train;

import java.util.ArrayList;
import java.util.List;
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
    return Optimizer.of(name, rate);
  }
}
