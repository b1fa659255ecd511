package org.tfport.server;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.formats.tfjs.TfjsModelJson;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.MissingNode;

/**
 * The structure of a model.json as a plain graph: layers (layers models) or nodes (graph models),
 * each with the names it takes input from. Reads Keras 2 and Keras 3 configs, and GraphDef JSON
 * from any converter version; what it cannot read becomes an empty graph rather than an error,
 * since it only feeds summaries and pictures.
 */
final class Topology {
  /** One layer or node; {@code kind} is the layer class or the op. */
  record Node(String name, String kind, List<String> inputs) {}

  final boolean graph;
  final String modelClass;
  final List<Node> nodes;

  private Topology(boolean graph, String modelClass, List<Node> nodes) {
    this.graph = graph;
    this.modelClass = modelClass;
    this.nodes = nodes;
  }

  static Topology of(TfjsModelJson modelJson) {
    JsonNode topo = orMissing(modelJson.modelTopology());
    if (modelJson.isGraphModel() || topo.has("node")) {
      return graph(topo);
    }
    return layers(topo);
  }

  /** The member, or a missing node that reads as empty, for the members a model.json may lack. */
  static JsonNode orMissing(JsonNode member) {
    return member == null ? MissingNode.getInstance() : member;
  }

  private static Topology graph(JsonNode topo) {
    List<Node> nodes = new ArrayList<>();
    for (JsonNode n : topo.path("node")) {
      List<String> ins = new ArrayList<>();
      for (JsonNode i : n.path("input")) {
        String s = i.asString("");
        if (s.startsWith("^")) {
          s = s.substring(1);
        }
        int colon = s.indexOf(':');
        ins.add(colon >= 0 ? s.substring(0, colon) : s);
      }
      nodes.add(new Node(n.path("name").asString(""), n.path("op").asString("?"), ins));
    }
    return new Topology(true, "GraphDef", nodes);
  }

  /**
   * The Keras model config: {@code model_config} when the converter wrapped it, else the topology
   * itself.
   */
  static JsonNode modelConfig(JsonNode topo) {
    return topo.has("model_config") ? topo.get("model_config") : topo;
  }

  /** The layer list of a model config ({@code config.layers}, or a bare list in very old files). */
  static JsonNode layerList(JsonNode config) {
    JsonNode c = config.path("config");
    return c.isArray() ? c : c.path("layers");
  }

  private static Topology layers(JsonNode topo) {
    JsonNode config = modelConfig(topo);
    String cls = config.path("class_name").asString("?");
    List<Node> nodes = new ArrayList<>();
    JsonNode layers = layerList(config);
    String prev = null;
    boolean sequential = cls.equals("Sequential");
    for (JsonNode l : layers) {
      String name = l.path("name").asString(l.path("config").path("name").asString("?"));
      List<String> ins = new ArrayList<>();
      if (sequential) {
        if (prev != null) {
          ins.add(prev);
        }
      } else {
        Set<String> found = new LinkedHashSet<>();
        inboundNames(l.path("inbound_nodes"), found);
        ins.addAll(found);
      }
      nodes.add(new Node(name, l.path("class_name").asString("?"), ins));
      prev = name;
    }
    return new Topology(false, cls, nodes);
  }

  /**
   * Layer names in {@code inbound_nodes}: Keras 2 writes {@code [[name, node, tensor, kwargs],
   * ...]}, Keras 3 nests {@code keras_history: [name, node, tensor]} inside its argument
   * structures.
   */
  private static void inboundNames(JsonNode n, Set<String> out) {
    if (n.isArray()) {
      if (n.size() >= 3 && n.get(0).isString() && n.get(1).isNumber()) {
        out.add(n.get(0).stringValue());
        return;
      }
      for (JsonNode c : n) {
        inboundNames(c, out);
      }
    } else if (n.isObject()) {
      JsonNode h = n.get("keras_history");
      if (h != null && h.isArray() && h.size() > 0 && h.get(0).isString()) {
        out.add(h.get(0).stringValue());
        return;
      }
      for (Map.Entry<String, JsonNode> e : n.properties()) {
        inboundNames(e.getValue(), out);
      }
    }
  }

  /** Names no other node takes input from. */
  List<String> sinks() {
    Set<String> used = new LinkedHashSet<>();
    nodes.forEach(n -> used.addAll(n.inputs()));
    List<String> out = new ArrayList<>();
    for (Node n : nodes) {
      if (!used.contains(n.name()) && !(graph && n.kind().equals("Const"))) {
        out.add(n.name());
      }
    }
    return out;
  }

  /** How many nodes of each kind, most frequent first. */
  Map<String, Integer> kinds() {
    Map<String, Integer> m = new LinkedHashMap<>();
    nodes.forEach(n -> m.merge(n.kind(), 1, Integer::sum));
    Map<String, Integer> sorted = new LinkedHashMap<>();
    m.entrySet().stream()
        .sorted((a, b) -> b.getValue() - a.getValue())
        .forEach(e -> sorted.put(e.getKey(), e.getValue()));
    return sorted;
  }
}
