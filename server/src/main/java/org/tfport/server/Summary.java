package org.tfport.server;

import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.formats.tfjs.ModelJsonParser;
import org.tfport.formats.tfjs.TfjsModelJson;
import org.tfport.formats.tfjs.WeightSpec;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteOperator;
import org.tfport.formats.tflite.TfliteSubgraph;
import org.tfport.formats.tflite.TfliteTensor;
import org.tfport.runtime.Model;
import org.tfport.runtime.Signature;
import org.tfport.runtime.TensorSpec;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What the model list shows about one version: format, sizes, inputs and outputs, layer or op
 * counts.
 */
final class Summary {
  private Summary() {}

  static ObjectNode of(
      ModelJsonParser.Parsed parsed, long modelJsonBytes, long weightBytes, int weightFiles) {
    TfjsModelJson modelJson = parsed.envelope();
    ObjectNode s = Json.MAPPER.createObjectNode();
    Topology t = Topology.of(modelJson);
    s.put(
        "format",
        modelJson.format() != null
            ? modelJson.format()
            : t.graph ? TfjsModelJson.GRAPH_MODEL : TfjsModelJson.LAYERS_MODEL);
    s.put("generatedBy", modelJson.generatedBy());
    s.put("convertedBy", modelJson.convertedBy());
    s.put("modelJsonBytes", modelJsonBytes);
    s.put("weightBytes", weightBytes);
    s.put("weightFiles", weightFiles);
    long params = 0;
    int weights = 0;
    ObjectNode dtypes = Json.MAPPER.createObjectNode();
    for (WeightSpec w : parsed.weightSpecs()) {
      weights++;
      params += w.shape().size();
      String dt = w.dtype().jsName();
      if (w.quantization() != null) {
        dt += " as " + w.quantization().dtype().jsName();
      }
      dtypes.put(dt, dtypes.path(dt).asInt(0) + 1);
    }
    s.put("weights", weights);
    s.put("parameters", params);
    s.set("weightDtypes", dtypes);
    ObjectNode kinds = Json.MAPPER.createObjectNode();
    t.kinds().forEach(kinds::put);
    if (t.graph) {
      s.put("nodeCount", t.nodes.size());
      s.set("ops", kinds);
      graphIo(modelJson, t, s);
    } else {
      s.put("modelClass", t.modelClass);
      s.put("layerCount", t.nodes.size());
      s.set("layerClasses", kinds);
      layersIo(modelJson, t, s);
    }
    return s;
  }

  /**
   * The summary of a {@code .tflite} file kept without a TF.js save: its operators by name (every
   * subgraph), its constant values as parameters, and the interface the runtime serves (the
   * signature {@code :predict} uses without a name).
   */
  static ObjectNode ofTflite(TfliteModel m, Model model, long fileBytes) {
    ObjectNode s = Json.MAPPER.createObjectNode();
    s.put("format", "tflite");
    s.put("originalBytes", fileBytes);
    s.put("modelJsonBytes", 0);
    s.put("weightBytes", 0);
    s.put("weightFiles", 0);
    long params = 0;
    int weights = 0;
    int operators = 0;
    ObjectNode ops = Json.MAPPER.createObjectNode();
    ObjectNode dtypes = Json.MAPPER.createObjectNode();
    for (TfliteSubgraph g : m.subgraphs()) {
      for (TfliteOperator op : g.operators()) {
        String name = m.opcode(op).name();
        ops.put(name, ops.path(name).asInt(0) + 1);
        operators++;
      }
      for (TfliteTensor t : g.tensors()) {
        if (t.buffer() > 0 && t.buffer() < m.buffers().size() && !m.buffer(t).isEmpty()) {
          weights++;
          params += t.elementCount();
          String dt = t.type().name().toLowerCase(java.util.Locale.ROOT);
          dtypes.put(dt, dtypes.path(dt).asInt(0) + 1);
        }
      }
    }
    s.put("weights", weights);
    s.put("parameters", params);
    s.set("weightDtypes", dtypes);
    s.put("nodeCount", operators);
    s.set("ops", ops);
    Signature sig =
        model.signatures().stream()
            .filter(x -> x.key().equals(Signature.DEFAULT_KEY))
            .findFirst()
            .orElse(model.signatures().get(0));
    ArrayNode inputs = s.putArray("inputs");
    for (TensorSpec t : model.signature(sig.key()).inputs()) {
      inputs.add(specInfo(t));
    }
    ArrayNode outputs = s.putArray("outputs");
    for (TensorSpec t : model.signature(sig.key()).outputs()) {
      outputs.add(specInfo(t));
    }
    return s;
  }

  private static ObjectNode specInfo(TensorSpec t) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("name", t.name());
    o.put("dtype", t.dtype() == null ? "?" : t.dtype().jsName());
    long[] shape = t.shape();
    if (shape == null) {
      o.putNull("shape");
    } else {
      ArrayNode dims = o.putArray("shape");
      for (long d : shape) {
        dims.add(d);
      }
    }
    return o;
  }

  private static void graphIo(TfjsModelJson modelJson, Topology t, ObjectNode s) {
    JsonNode sig = Topology.orMissing(modelJson.userDefinedMetadata()).path("signature");
    if (!sig.isObject()) {
      sig = Topology.orMissing(modelJson.signature());
    }
    ArrayNode inputs = s.putArray("inputs");
    ArrayNode outputs = s.putArray("outputs");
    if (sig.path("inputs").isObject()) {
      for (Map.Entry<String, JsonNode> e : sig.get("inputs").properties()) {
        inputs.add(
            tensorInfo(
                e.getValue().path("name").asString(e.getKey()),
                e.getValue().path("dtype"),
                e.getValue().path("tensorShape")));
      }
    } else {
      for (JsonNode n : Topology.orMissing(modelJson.modelTopology()).path("node")) {
        if (n.path("op").asString("").equals("Placeholder")) {
          inputs.add(
              tensorInfo(
                  n.path("name").asString(""),
                  n.path("attr").path("dtype").path("type"),
                  n.path("attr").path("shape").path("shape")));
        }
      }
    }
    if (sig.path("outputs").isObject()) {
      for (Map.Entry<String, JsonNode> e : sig.get("outputs").properties()) {
        outputs.add(
            tensorInfo(
                e.getValue().path("name").asString(e.getKey()),
                e.getValue().path("dtype"),
                e.getValue().path("tensorShape")));
      }
    } else {
      t.sinks().forEach(n -> outputs.addObject().put("name", n));
    }
  }

  private static ObjectNode tensorInfo(String name, JsonNode dtype, JsonNode shape) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("name", name);
    DType d = DType.fromTfName(dtype.asString(""));
    o.put("dtype", d == null ? dtype.asString("?") : d.jsName());
    if (shape.path("unknownRank").asBoolean(false)) {
      o.putNull("shape");
    } else {
      ArrayNode dims = o.putArray("shape");
      for (JsonNode dim : shape.path("dim")) {
        dims.add(dim.path("size").asLong(-1));
      }
    }
    return o;
  }

  private static void layersIo(TfjsModelJson modelJson, Topology t, ObjectNode s) {
    JsonNode config = Topology.modelConfig(Topology.orMissing(modelJson.modelTopology()));
    JsonNode layers = Topology.layerList(config);
    ArrayNode inputs = s.putArray("inputs");
    ArrayNode outputs = s.putArray("outputs");
    if (t.modelClass.equals("Sequential")) {
      if (layers.size() > 0) {
        JsonNode first = layers.get(0);
        inputs.add(layerInput(first));
        outputs.addObject().put("name", name(layers.get(layers.size() - 1)));
      }
      return;
    }
    for (JsonNode in : config.path("config").path("input_layers")) {
      String n = in.isArray() ? in.path(0).asString("") : in.asString("");
      for (JsonNode l : layers) {
        if (name(l).equals(n)) {
          inputs.add(layerInput(l));
        }
      }
    }
    JsonNode outs = config.path("config").path("output_layers");
    if (outs.isArray() && outs.size() > 0 && outs.get(0).isString()) {
      outputs.addObject().put("name", outs.get(0).stringValue());
    } else {
      for (JsonNode o : outs) {
        outputs.addObject().put("name", o.path(0).asString(""));
      }
    }
    if (outputs.isEmpty()) {
      List<String> sinks = t.sinks();
      sinks.forEach(n -> outputs.addObject().put("name", n));
    }
  }

  private static ObjectNode layerInput(JsonNode layer) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("name", name(layer));
    JsonNode c = layer.path("config");
    JsonNode shape =
        c.has("batch_input_shape") ? c.get("batch_input_shape") : c.path("batch_shape");
    if (shape.isArray()) {
      ArrayNode dims = o.putArray("shape");
      shape.forEach(d -> dims.add(d.isNull() ? -1 : d.asLong(-1)));
    } else {
      o.putNull("shape");
    }
    JsonNode dt = c.path("dtype");
    o.put(
        "dtype",
        dt.isString() ? dt.stringValue() : dt.path("config").path("name").asString("float32"));
    return o;
  }

  private static String name(JsonNode layer) {
    return layer.path("name").asString(layer.path("config").path("name").asString("?"));
  }
}
