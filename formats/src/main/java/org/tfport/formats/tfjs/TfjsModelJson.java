package org.tfport.formats.tfjs;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.tfport.core.Json;
import org.tfport.core.TfportException.CorruptModelException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Everything in a model.json except the weights manifest. JSON-valued members are the parsed trees,
 * shared and not copied, so treat them as read-only. Every member may be null: old converters wrote
 * no {@code format}, weights-only files have no topology.
 *
 * @param format {@link #LAYERS_MODEL}, {@link #GRAPH_MODEL} or null
 * @param extras top-level keys this class does not know, kept in file order so a rewrite loses
 *     nothing
 */
public record TfjsModelJson(
    String format,
    String generatedBy,
    String convertedBy,
    JsonNode modelTopology,
    JsonNode signature,
    JsonNode userDefinedMetadata,
    JsonNode trainingConfig,
    JsonNode modelInitializer,
    JsonNode initializerSignature,
    Map<String, JsonNode> extras) {
  public static final String LAYERS_MODEL = "layers-model";
  public static final String GRAPH_MODEL = "graph-model";

  public TfjsModelJson {
    extras = extras == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(extras));
  }

  /** A layers model as the converter writes it. */
  public static TfjsModelJson layers(
      String generatedBy, String convertedBy, JsonNode modelTopology) {
    return new TfjsModelJson(
        LAYERS_MODEL, generatedBy, convertedBy, modelTopology, null, null, null, null, null, null);
  }

  /** A graph model as the converter writes it. */
  public static TfjsModelJson graph(
      String generatedBy, String convertedBy, JsonNode modelTopology, JsonNode signature) {
    return new TfjsModelJson(
        GRAPH_MODEL,
        generatedBy,
        convertedBy,
        modelTopology,
        signature,
        null,
        null,
        null,
        null,
        null);
  }

  public boolean isGraphModel() {
    return GRAPH_MODEL.equals(format);
  }

  public TfjsModelJson withUserDefinedMetadata(JsonNode metadata) {
    return new TfjsModelJson(
        format,
        generatedBy,
        convertedBy,
        modelTopology,
        signature,
        metadata,
        trainingConfig,
        modelInitializer,
        initializerSignature,
        extras);
  }

  public TfjsModelJson withInitializer(JsonNode initializer, JsonNode initializerSignature) {
    return new TfjsModelJson(
        format,
        generatedBy,
        convertedBy,
        modelTopology,
        signature,
        userDefinedMetadata,
        trainingConfig,
        initializer,
        initializerSignature,
        extras);
  }

  /**
   * The model.json tree with {@code weightsManifest} last and the other keys in the converter's
   * order: layers {@code format, generatedBy, convertedBy, [userDefinedMetadata], modelTopology};
   * graph {@code format, generatedBy, convertedBy, signature, modelTopology, [userDefinedMetadata],
   * [modelInitializer, initializerSignature]}. Keys the converter never writes for a format
   * (trainingConfig, a layers signature, extras) follow when present, so nothing read is dropped.
   */
  ObjectNode toJson(ArrayNode weightsManifest) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    if (format != null) {
      o.put("format", format);
    }
    // The converter writes these two even when null (a weights-only Keras file has no generatedBy).
    o.put("generatedBy", generatedBy);
    o.put("convertedBy", convertedBy);
    if (isGraphModel()) {
      putIfPresent(o, "signature", signature);
      o.set("modelTopology", orNull(modelTopology));
      putIfPresent(o, "userDefinedMetadata", userDefinedMetadata);
      putIfPresent(o, "modelInitializer", modelInitializer);
      putIfPresent(o, "initializerSignature", initializerSignature);
      putIfPresent(o, "trainingConfig", trainingConfig);
    } else {
      putIfPresent(o, "signature", signature);
      putIfPresent(o, "userDefinedMetadata", userDefinedMetadata);
      o.set("modelTopology", orNull(modelTopology));
      putIfPresent(o, "trainingConfig", trainingConfig);
      putIfPresent(o, "modelInitializer", modelInitializer);
      putIfPresent(o, "initializerSignature", initializerSignature);
    }
    extras.forEach(o::set);
    o.set("weightsManifest", weightsManifest);
    return o;
  }

  /**
   * Reads the envelope of a model.json object; {@code weightsManifest} is left to the caller.
   *
   * @param where the file, for error messages
   */
  static TfjsModelJson fromJson(JsonNode root, String where) {
    Map<String, JsonNode> extras = new LinkedHashMap<>();
    String format = null;
    String generatedBy = null;
    String convertedBy = null;
    JsonNode topology = null;
    JsonNode signature = null;
    JsonNode metadata = null;
    JsonNode training = null;
    JsonNode initializer = null;
    JsonNode initSignature = null;
    for (Map.Entry<String, JsonNode> e : root.properties()) {
      JsonNode v = e.getValue().isNull() ? null : e.getValue();
      switch (e.getKey()) {
        case "format" -> format = string(v, "format", where);
        case "generatedBy" -> generatedBy = string(v, "generatedBy", where);
        case "convertedBy" -> convertedBy = string(v, "convertedBy", where);
        case "modelTopology" -> topology = v;
        case "signature" -> signature = v;
        case "userDefinedMetadata" -> metadata = v;
        case "trainingConfig" -> training = v;
        case "modelInitializer" -> initializer = v;
        case "initializerSignature" -> initSignature = v;
        case "weightsManifest" -> {}
        default -> extras.put(e.getKey(), e.getValue());
      }
    }
    return new TfjsModelJson(
        format,
        generatedBy,
        convertedBy,
        topology,
        signature,
        metadata,
        training,
        initializer,
        initSignature,
        extras);
  }

  private static String string(JsonNode v, String key, String where) {
    if (v == null) {
      return null;
    }
    if (!v.isString()) {
      throw new CorruptModelException(
          where
              + ": '"
              + key
              + "' should be a string but is "
              + WeightSpec.brief(v)
              + "; the file is not a TF.js model.json");
    }
    return v.stringValue();
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
