package org.tfport.io;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.tfport.core.Json;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.formats.tfjs.ModelJsonParser;
import org.tfport.formats.tfjs.TfjsModelJson;
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

  /**
   * Parses model.json bytes; errors name {@code where} and, for a {@code .pb} URL, say what to load
   * instead.
   */
  static Parsed parse(byte[] bytes, String where) {
    JsonNode root;
    try {
      root = ModelJsonParser.readTree(bytes, where);
    } catch (CorruptModelException e) {
      if (where.split("\\?")[0].endsWith(".pb")) {
        throw new CorruptModelException(
            where
                + " is not a TF.js model.json but looks like a frozen .pb graph,"
                + " which TF.js cannot load: convert it to a graph model first",
            e);
      }
      throw e;
    }
    // TF.js's loaders take a model.json object; a bare weights manifest is no model.
    if (!root.isObject()) {
      throw new CorruptModelException(
          where + " is JSON but not an object; expected a TF.js model.json");
    }
    ModelJsonParser.Parsed p = ModelJsonParser.parse(root, where);
    TfjsModelJson j = p.envelope();
    ModelArtifacts a =
        new ModelArtifacts(
            j.modelTopology(),
            j.format(),
            j.generatedBy(),
            j.convertedBy(),
            j.trainingConfig(),
            j.signature(),
            j.userDefinedMetadata(),
            j.modelInitializer(),
            j.initializerSignature(),
            p.manifest() == null ? null : p.weightSpecs(),
            null);
    return new Parsed(a, p.paths());
  }

  static ModelArtifacts withData(ModelArtifacts a, List<ByteBuffer> data) {
    return a.withWeights(a.weightSpecs(), data);
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
