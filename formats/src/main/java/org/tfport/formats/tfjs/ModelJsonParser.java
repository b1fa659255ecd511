package org.tfport.formats.tfjs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.tfport.core.Json;
import org.tfport.core.TfportException.CorruptModelException;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.databind.JsonNode;

/**
 * The one parser of TF.js model.json text: the converter's reader ({@link TfjsReader}, which then
 * finds the shards), {@code io} (bodies fetched over HTTP) and the server (uploads) all read
 * model.json through it, so they agree on what a model.json is. It reads JSON only and opens no
 * weight file. Errors are one-line {@link CorruptModelException}s naming {@code where} and the
 * manifest entry.
 */
public final class ModelJsonParser {
  /**
   * A parsed model.json.
   *
   * @param envelope every member but the manifest; all null for a bare weights manifest
   * @param manifest the weights manifest's groups in order, or null when the file has none (a
   *     topology-only model)
   */
  public record Parsed(TfjsModelJson envelope, List<ManifestGroup> manifest) {
    public Parsed {
      manifest = manifest == null ? null : List.copyOf(manifest);
    }

    /** Every group's weights in manifest order; empty without a manifest. */
    public List<WeightSpec> weightSpecs() {
      return manifest == null
          ? List.of()
          : manifest.stream().flatMap(g -> g.weights().stream()).toList();
    }

    /** Every group's shard paths, as the manifest gives them; empty without a manifest. */
    public List<List<String>> paths() {
      return manifest == null ? List.of() : manifest.stream().map(ManifestGroup::paths).toList();
    }
  }

  /**
   * One group of a weights manifest: its shard files (relative paths, as written) and the weights
   * they hold.
   */
  public record ManifestGroup(List<String> paths, List<WeightSpec> weights) {
    public ManifestGroup {
      paths = List.copyOf(paths);
      weights = List.copyOf(weights);
    }
  }

  private ModelJsonParser() {}

  /** Reads and parses a model.json (or a bare weights manifest) file. */
  public static Parsed read(Path file) {
    return parse(readTree(file), file.toString());
  }

  /**
   * Parses the JSON text of a file.
   *
   * @throws CorruptModelException when it is not JSON or is empty, saying where
   */
  public static JsonNode readTree(Path file) {
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(file);
    } catch (JacksonException e) {
      throw notJson(file.toString(), e);
    }
    return nonEmpty(root, file.toString());
  }

  /** Parses JSON text received from {@code where} (a URL, an upload). */
  public static JsonNode readTree(byte[] text, String where) {
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(text);
    } catch (JacksonException e) {
      throw notJson(where, e);
    }
    return nonEmpty(root, where);
  }

  /**
   * Reads a model.json tree as TF.js's {@code getModelArtifactsForJSON} does: an object with {@code
   * modelTopology} and/or {@code weightsManifest}, or an array that is a bare weights manifest
   * (such as face-api's {@code *-weights_manifest.json}).
   *
   * @param where names the source in messages
   */
  public static Parsed parse(JsonNode root, String where) {
    if (root.isArray()) {
      return new Parsed(
          new TfjsModelJson(null, null, null, null, null, null, null, null, null, null),
          groups(root, where));
    }
    if (!root.isObject()) {
      throw new CorruptModelException(
          where
              + " is JSON but neither an object (model.json) nor an array (weights"
              + " manifest); pass a TF.js model.json");
    }
    TfjsModelJson envelope = TfjsModelJson.fromJson(root, where);
    JsonNode manifest = root.get("weightsManifest");
    if (manifest == null || manifest.isNull()) {
      if (envelope.modelTopology() == null) {
        throw new CorruptModelException(
            where
                + " has neither 'modelTopology' nor 'weightsManifest', so it is"
                + " not a TF.js model.json; pass the model.json the converter wrote");
      }
      return new Parsed(envelope, null);
    }
    if (!manifest.isArray()) {
      throw new CorruptModelException(
          where + ": 'weightsManifest' is not an array; the file is damaged");
    }
    return new Parsed(envelope, groups(manifest, where));
  }

  /**
   * The top-level {@code "format"} of a model.json file ({@link TfjsModelJson#GRAPH_MODEL}, {@link
   * TfjsModelJson#LAYERS_MODEL}), or null when it has none or cannot be read: converters before 1.0
   * wrote none. Read as a stream, since a graph model's model.json can be tens of megabytes.
   */
  public static String format(Path file) {
    try (InputStream in = Files.newInputStream(file);
        JsonParser p = Json.MAPPER.createParser(in)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (p.nextToken() == JsonToken.PROPERTY_NAME) {
        String key = p.currentName();
        p.nextToken();
        if (key.equals("format")) {
          return p.getValueAsString();
        }
        p.skipChildren();
      }
      return null;
    } catch (IOException | JacksonException e) {
      // The reader of the format chosen reports what is wrong with the file.
      return null;
    }
  }

  private static List<ManifestGroup> groups(JsonNode manifest, String where) {
    List<ManifestGroup> out = new ArrayList<>();
    for (int g = 0; g < manifest.size(); g++) {
      out.add(group(manifest.get(g), g, where));
    }
    return out;
  }

  private static ManifestGroup group(JsonNode group, int g, String where) {
    String gw = where + ": weightsManifest[" + g + "]";
    if (group == null || !group.isObject() || !group.has("paths") || !group.has("weights")) {
      throw new CorruptModelException(
          gw
              + " is not a group with 'paths' and 'weights'"
              + (where.endsWith(".json") && g == 0
                  ? ", so this is not a TF.js model.json or weights manifest"
                  : "")
              + ": "
              + WeightSpec.brief(group));
    }
    JsonNode pathsNode = group.get("paths");
    JsonNode weightsNode = group.get("weights");
    if (!pathsNode.isArray() || !weightsNode.isArray()) {
      throw new CorruptModelException(
          gw + ": 'paths' and 'weights' must be arrays; the manifest is damaged");
    }
    List<String> paths = new ArrayList<>();
    for (int i = 0; i < pathsNode.size(); i++) {
      JsonNode p = pathsNode.get(i);
      if (!p.isString()) {
        throw new CorruptModelException(
            gw + ".paths[" + i + "] is not a string: " + WeightSpec.brief(p));
      }
      if (p.stringValue().isEmpty()) {
        throw new CorruptModelException(
            gw + ".paths[" + i + "]: a weight shard path is empty; the manifest is" + " damaged");
      }
      paths.add(p.stringValue());
    }
    List<WeightSpec> specs = new ArrayList<>();
    for (int i = 0; i < weightsNode.size(); i++) {
      try {
        specs.add(WeightSpec.fromJson(weightsNode.get(i)));
      } catch (CorruptModelException e) {
        throw new CorruptModelException(gw + ".weights[" + i + "]: " + e.getMessage());
      }
    }
    return new ManifestGroup(paths, specs);
  }

  private static CorruptModelException notJson(String where, JacksonException e) {
    TokenStreamLocation loc = e.getLocation();
    String at = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
    return new CorruptModelException(
        where
            + " is not valid JSON"
            + at
            + " ("
            + e.getOriginalMessage().lines().findFirst().orElse("")
            + "); the file is damaged or truncated, so download it again",
        e);
  }

  private static JsonNode nonEmpty(JsonNode root, String where) {
    if (root == null || root.isMissingNode()) {
      throw new CorruptModelException(where + " is empty; the download or copy was cut short");
    }
    return root;
  }
}
