package org.tfport.io;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.tfport.core.Json;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.formats.tfjs.WeightSpec;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** model.json to and from {@link ModelArtifacts}, with the key orders of TF.js's own writers. */
final class ModelJson {
  /** Which TF.js writer's key order to follow. */
  enum Style {
    /** {@code getModelJSONForModelArtifacts}: http and downloads. */
    BROWSER,
    /** tfjs-node's {@code NodeFileSystem}. */
    NODE_FILE
  }

  /** A parsed model.json: the artifacts without weight data, and the shard paths per group. */
  record Parsed(ModelArtifacts artifacts, List<List<String>> paths) {}

  private ModelJson() {}

  /**
   * The model.json text for {@code a} with one weight group stored at {@code weightsPath}, as
   * {@code JSON.stringify} writes it.
   */
  static byte[] write(ModelArtifacts a, String weightsPath, Style style) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    ArrayNode manifest = Json.MAPPER.createArrayNode();
    ObjectNode group = manifest.addObject();
    group.putArray("paths").add(weightsPath);
    ArrayNode weights = group.putArray("weights");
    if (a.weightSpecs() != null) {
      a.weightSpecs().forEach(s -> weights.add(s.toJson()));
    }
    if (style == Style.BROWSER) {
      o.set("modelTopology", orNull(a.modelTopology()));
      o.put("format", a.format());
      o.put("generatedBy", a.generatedBy());
      o.put("convertedBy", a.convertedBy());
      o.set("weightsManifest", manifest);
      putIfPresent(o, "signature", a.signature());
      putIfPresent(o, "userDefinedMetadata", a.userDefinedMetadata());
      putIfPresent(o, "modelInitializer", a.modelInitializer());
      putIfPresent(o, "initializerSignature", a.initializerSignature());
      putIfPresent(o, "trainingConfig", a.trainingConfig());
    } else {
      o.set("modelTopology", orNull(a.modelTopology()));
      o.set("weightsManifest", manifest);
      o.put("format", a.format());
      o.put("generatedBy", a.generatedBy());
      o.put("convertedBy", a.convertedBy());
      putIfPresent(o, "trainingConfig", a.trainingConfig());
      putIfPresent(o, "signature", a.signature());
      putIfPresent(o, "userDefinedMetadata", a.userDefinedMetadata());
      // tfjs-node drops these two; writing them keeps graph models with hash tables loadable.
      putIfPresent(o, "modelInitializer", a.modelInitializer());
      putIfPresent(o, "initializerSignature", a.initializerSignature());
    }
    return JsJson.stringify(o).getBytes(StandardCharsets.UTF_8);
  }

  /** Parses model.json bytes; errors name {@code where} and, for a {@code .pb} URL, say what to load instead. */
  static Parsed parse(byte[] bytes, String where) {
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(bytes);
    } catch (JacksonException e) {
      String hint = where.split("\\?")[0].endsWith(".pb")
          ? "; this looks like a frozen .pb graph, which TF.js cannot load: convert it to a graph model first"
          : "; the body is not a TF.js model.json";
      throw new CorruptModelException("failed to parse the model JSON from " + where + " ("
          + e.getOriginalMessage().lines().findFirst().orElse("") + ")" + hint, e);
    }
    if (root == null || root.isMissingNode()) {
      throw new CorruptModelException(where + " is empty; expected a TF.js model.json");
    }
    return parse(root, where);
  }

  /** As TF.js's {@code getModelArtifactsForJSON}, without weight data. */
  static Parsed parse(JsonNode root, String where) {
    if (!root.isObject()) {
      throw new CorruptModelException(where + " is JSON but not an object; expected a TF.js model.json");
    }
    JsonNode topology = member(root, "modelTopology");
    JsonNode manifest = member(root, "weightsManifest");
    if (topology == null && manifest == null) {
      throw new CorruptModelException(where + " has neither 'modelTopology' nor 'weightsManifest', so it is not"
          + " a TF.js model.json");
    }
    List<WeightSpec> specs = null;
    List<List<String>> paths = new ArrayList<>();
    if (manifest != null) {
      if (!manifest.isArray()) {
        throw new CorruptModelException(where + ": 'weightsManifest' is not an array");
      }
      specs = new ArrayList<>();
      for (int g = 0; g < manifest.size(); g++) {
        JsonNode group = manifest.get(g);
        String gw = where + ": weightsManifest[" + g + "]";
        if (!group.isObject() || !group.path("paths").isArray() || !group.path("weights").isArray()) {
          throw new CorruptModelException(gw + " is not a group with 'paths' and 'weights' arrays");
        }
        List<String> ps = new ArrayList<>();
        for (JsonNode p : group.get("paths")) {
          if (!p.isString() || p.stringValue().isEmpty()) {
            throw new CorruptModelException(gw + ".paths holds " + p + ", not a file name");
          }
          ps.add(p.stringValue());
        }
        paths.add(ps);
        JsonNode weights = group.get("weights");
        for (int i = 0; i < weights.size(); i++) {
          try {
            specs.add(WeightSpec.fromJson(weights.get(i)));
          } catch (CorruptModelException e) {
            throw new CorruptModelException(gw + ".weights[" + i + "]: " + e.getMessage());
          }
        }
      }
    }
    ModelArtifacts a = new ModelArtifacts(topology, string(root, "format", where),
        string(root, "generatedBy", where), string(root, "convertedBy", where), member(root, "trainingConfig"),
        member(root, "signature"), member(root, "userDefinedMetadata"), member(root, "modelInitializer"),
        member(root, "initializerSignature"), specs, null);
    return new Parsed(a, paths);
  }

  static ModelArtifacts withData(ModelArtifacts a, List<ByteBuffer> data) {
    return a.withWeights(a.weightSpecs(), data);
  }

  private static JsonNode member(JsonNode root, String key) {
    JsonNode v = root.get(key);
    return v == null || v.isNull() ? null : v;
  }

  private static String string(JsonNode root, String key, String where) {
    JsonNode v = member(root, key);
    if (v == null) {
      return null;
    }
    if (!v.isString()) {
      throw new CorruptModelException(where + ": '" + key + "' should be a string but is " + brief(v));
    }
    return v.stringValue();
  }

  static String brief(JsonNode n) {
    String s = String.valueOf(n);
    return s.length() > 80 ? s.substring(0, 77) + "..." : s;
  }

  private static void putIfPresent(ObjectNode o, String key, JsonNode v) {
    if (v != null && !v.isNull()) {
      o.set(key, v);
    }
  }

  private static JsonNode orNull(JsonNode v) {
    return v == null ? Json.MAPPER.nullNode() : v;
  }
}
