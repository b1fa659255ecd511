package org.tfport.graph.keras;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.TfportException.CorruptModelException;
import tools.jackson.databind.JsonNode;

/**
 * The inbound nodes of a Keras 2-form functional config: each call of a layer as the tensors of its
 * first argument ({@code [layer, node, tensor, kwargs]} entries) and its other arguments by name in
 * the kwargs beside them, a tensor there as {@code [layer, node, tensor]}.
 */
final class InboundNodes {
  private InboundNodes() {}

  /**
   * The keyword arguments through which a layer's calls pass tensors ({@code [layer, node,
   * tensor]}, alone or in a list), which only some layers read.
   */
  static Set<String> keywordTensors(JsonNode layer) {
    Set<String> keys = new java.util.TreeSet<>();
    for (JsonNode node : layer.path("inbound_nodes")) {
      List<JsonNode> entries = new ArrayList<>();
      if (node.isArray() && !node.isEmpty() && node.get(0).isString()) {
        entries.add(node);
      } else {
        node.forEach(entries::add);
      }
      for (JsonNode e : entries) {
        if (e.isArray() && e.size() > 3 && e.get(3).isObject()) {
          for (Map.Entry<String, JsonNode> kv : e.get(3).properties()) {
            if (isTensorRef(kv.getValue())
                || (kv.getValue().isArray()
                    && !kv.getValue().isEmpty()
                    && isTensorRef(kv.getValue().get(0)))) {
              keys.add(kv.getKey());
            }
          }
        }
      }
    }
    return keys;
  }

  static boolean isTensorRef(JsonNode v) {
    return v.isArray()
        && v.size() == 3
        && v.get(0).isString()
        && v.get(1).isNumber()
        && v.get(2).isNumber();
  }

  /** The tensor a call passes as {@code key=}, as {@code [layer, node, tensor]}, or null. */
  static JsonNode keywordTensor(JsonNode node, String key) {
    JsonNode v = keywordArg(node, key);
    return v != null && isTensorRef(v) ? v : null;
  }

  /** What a call passes as {@code key=} (in its first entry's kwargs), or null. */
  static JsonNode keywordArg(JsonNode node, String key) {
    JsonNode e = node.isArray() && !node.isEmpty() && !node.get(0).isString() ? node.get(0) : node;
    if (e.isArray() && e.size() > 3 && e.get(3).isObject()) {
      JsonNode v = e.get(3).get(key);
      return v == null || v.isNull() ? null : v;
    }
    return null;
  }

  /** {@code [[name, node, tensor], ...]}, or one such triple alone. */
  static List<JsonNode> refs(JsonNode list) {
    List<JsonNode> out = new ArrayList<>();
    if (list == null || !list.isArray() || list.isEmpty()) {
      return out;
    }
    if (list.get(0).isString()) {
      out.add(list);
    } else {
      list.forEach(out::add);
    }
    return out;
  }

  static List<KT> lookup(Map<String, List<List<KT>>> made, JsonNode ref) {
    List<List<KT>> calls = made.get(ref.get(0).asString());
    int node = ref.size() > 1 ? ref.get(1).asInt() : 0;
    int tensor = ref.size() > 2 ? ref.get(2).asInt() : 0;
    if (calls == null
        || node >= calls.size()
        || calls.get(node) == null
        || tensor >= calls.get(node).size()) {
      return null;
    }
    return List.of(calls.get(node).get(tensor));
  }

  /** The tensors one inbound node passes, or null while one is not made yet. */
  static List<KT> resolve(Map<String, List<List<KT>>> made, JsonNode node) {
    List<KT> args = new ArrayList<>();
    for (JsonNode ref : refs(node)) {
      List<KT> t = lookup(made, ref);
      if (t == null) {
        return null;
      }
      args.add(t.get(0));
    }
    return args;
  }

  static final String CONSTANT_VALUE = "_CONSTANT_VALUE";

  /**
   * A TFOpLambda call's arguments, or null while a tensor it reads is not made yet. Its inbound
   * node is one {@code [layer, node, tensor, kwargs]} when the first argument is one tensor, a list
   * of them when it is a list; a constant first argument is {@code ["_CONSTANT_VALUE", -1, value,
   * kwargs]}; a tensor among the kwargs is {@code [layer, node, tensor]}.
   */
  static OpArgs resolveOp(
      String source,
      Map<String, List<List<KT>>> made,
      Map<String, JsonNode> byName,
      String layer,
      JsonNode node) {
    if (!node.isArray() || node.isEmpty()) {
      throw new CorruptModelException(
          source + ": layer '" + layer + "' has an empty inbound node; the file is damaged");
    }
    boolean list = !node.get(0).isString();
    List<JsonNode> entries = new ArrayList<>();
    if (list) {
      node.forEach(entries::add);
    } else {
      entries.add(node);
    }
    List<Object> first = new ArrayList<>();
    JsonNode kwargs = null;
    for (JsonNode e : entries) {
      if (!e.isArray() || e.size() < 3 || !e.get(0).isString()) {
        throw new CorruptModelException(
            source
                + ": layer '"
                + layer
                + "' has an inbound node entry "
                + e
                + " of no known form");
      }
      if (e.get(0).asString().equals(CONSTANT_VALUE)) {
        first.add(e.get(2));
      } else {
        List<KT> t = lookup(made, e);
        if (t == null) {
          return null;
        }
        first.add(t.get(0));
      }
      if (kwargs == null && e.size() > 3 && e.get(3).isObject()) {
        kwargs = e.get(3);
      }
    }
    Map<String, Object> kw = new LinkedHashMap<>();
    if (kwargs != null) {
      for (Map.Entry<String, JsonNode> k : kwargs.properties()) {
        JsonNode v = k.getValue();
        boolean tensor =
            v.isArray()
                && v.size() == 3
                && v.get(0).isString()
                && v.get(1).isNumber()
                && v.get(2).isNumber()
                && byName.containsKey(v.get(0).asString());
        if (tensor) {
          List<KT> t = lookup(made, v);
          if (t == null) {
            return null;
          }
          kw.put(k.getKey(), t.get(0));
        } else {
          kw.put(k.getKey(), v);
        }
      }
    }
    return new OpArgs(first, list, kw);
  }
}
