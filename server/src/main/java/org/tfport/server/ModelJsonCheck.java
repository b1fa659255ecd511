package org.tfport.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.formats.tfjs.ModelJsonParser;
import org.tfport.formats.tfjs.TfjsModelJson;
import tools.jackson.databind.JsonNode;

/** The checks an uploaded model.json passes before it can become part of a version. */
final class ModelJsonCheck {
  private ModelJsonCheck() {}

  /**
   * model.json must be an object with a topology TF.js can load; its manifest is read by the one
   * model.json parser, and the shards are checked by the reader when the version is written.
   */
  static ModelJsonParser.Parsed parse(Path file, long maxBytes) throws IOException {
    if (Files.size(file) > maxBytes) {
      throw new HttpError(
          413, "model.json is " + Files.size(file) + " bytes, over the limit of " + maxBytes);
    }
    ModelJsonParser.Parsed parsed;
    try {
      JsonNode root = ModelJsonParser.readTree(Files.readAllBytes(file), "model.json");
      if (!root.isObject()) {
        throw new HttpError(400, "model.json is not a JSON object; expected a TF.js model.json");
      }
      parsed = ModelJsonParser.parse(root, "model.json");
    } catch (CorruptModelException e) {
      throw new HttpError(400, e.getMessage(), e);
    }
    JsonNode topology = parsed.envelope().modelTopology();
    if (topology == null || !topology.isObject()) {
      throw new HttpError(
          400, "model.json has no 'modelTopology' object, so TF.js could not load it");
    }
    String format = parsed.envelope().format();
    if (format != null
        && !format.equals(TfjsModelJson.LAYERS_MODEL)
        && !format.equals(TfjsModelJson.GRAPH_MODEL)) {
      throw new HttpError(
          400,
          "model.json: 'format' is '"
              + Names.printable(format)
              + "'; TF.js knows '"
              + TfjsModelJson.LAYERS_MODEL
              + "' and '"
              + TfjsModelJson.GRAPH_MODEL
              + "'");
    }
    return parsed;
  }

  static List<ModelJsonParser.ManifestGroup> manifest(ModelJsonParser.Parsed parsed) {
    return parsed.manifest() == null ? List.of() : parsed.manifest();
  }

  /** A manifest path as the plain file name it must be. */
  static String weightFile(String p) {
    String f = Names.weightFile(p);
    if (f == null) {
      throw new HttpError(
          400,
          "model.json: weight path '"
              + Names.printable(p)
              + "' must be a plain"
              + " file name (letters, digits, '.', '_', '-', optionally after './'), not 'model.json'");
    }
    return f;
  }
}
