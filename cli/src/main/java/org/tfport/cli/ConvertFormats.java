package org.tfport.cli;

import static org.tfport.formats.ModelFormat.KERAS;
import static org.tfport.formats.ModelFormat.KERAS_KERAS;
import static org.tfport.formats.ModelFormat.KERAS_SAVED_MODEL;
import static org.tfport.formats.ModelFormat.TFJS_GRAPH_MODEL;
import static org.tfport.formats.ModelFormat.TFJS_LAYERS_MODEL;
import static org.tfport.formats.ModelFormat.TFLITE;
import static org.tfport.formats.ModelFormat.TF_FROZEN_MODEL;
import static org.tfport.formats.ModelFormat.TF_HUB;
import static org.tfport.formats.ModelFormat.TF_SAVED_MODEL;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.tfport.core.Json;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.ModelFormat;
import org.tfport.io.HubModules;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What {@code tfport convert} accepts: its input and output formats, the pairs it converts, and the
 * reading of its path arguments (a TF Hub URL, {@code --metadata} files).
 */
final class ConvertFormats {
  static final List<ModelFormat> INPUT_FORMATS =
      List.of(
          KERAS,
          KERAS_SAVED_MODEL,
          KERAS_KERAS,
          TF_SAVED_MODEL,
          TF_HUB,
          TF_FROZEN_MODEL,
          TFJS_LAYERS_MODEL,
          TFJS_GRAPH_MODEL,
          TFLITE,
          ModelFormat.STABLEHLO);
  static final List<ModelFormat> OUTPUT_FORMATS =
      List.of(
          TFJS_LAYERS_MODEL,
          TFJS_GRAPH_MODEL,
          KERAS,
          KERAS_SAVED_MODEL,
          KERAS_KERAS,
          TF_SAVED_MODEL,
          TF_FROZEN_MODEL);
  static final List<String> SUPPORTED_PAIRS =
      List.of(
          "keras -> tfjs_layers_model",
          "keras_keras -> tfjs_layers_model",
          "keras_saved_model -> tfjs_layers_model",
          "tfjs_layers_model -> tfjs_layers_model",
          "tf_saved_model -> tfjs_graph_model",
          "tf_frozen_model -> tfjs_graph_model",
          "tf_hub -> tfjs_graph_model",
          "keras -> tfjs_graph_model",
          "keras_keras -> tfjs_graph_model",
          "tfjs_layers_model -> tfjs_graph_model",
          "tf_saved_model -> tflite",
          "tf_frozen_model -> tflite",
          "tf_hub -> tflite",
          "tfjs_graph_model -> tflite",
          "keras -> tflite",
          "keras_keras -> tflite",
          "tfjs_layers_model -> tflite",
          "tfjs_graph_model -> tf_saved_model",
          "tfjs_graph_model -> tf_frozen_model",
          "tflite -> tfjs_graph_model",
          "tflite -> tf_saved_model",
          "tflite -> tf_frozen_model",
          "tfjs_layers_model -> keras",
          "tfjs_layers_model -> keras_keras",
          "tfjs_layers_model -> keras_saved_model",
          "stablehlo -> tfjs_graph_model",
          "stablehlo -> tflite");

  static ModelFormat check(String value, List<ModelFormat> allowed, String flag) {
    ModelFormat f = ModelFormat.fromFlagName(value.trim()).filter(allowed::contains).orElse(null);
    if (f == null) {
      throw new UsageException(
          flag
              + " '"
              + value
              + "' is not one of "
              + String.join(", ", allowed.stream().map(ModelFormat::flagName).toList()));
    }
    return f;
  }

  /**
   * The input path, or for {@code --input_format=tf_hub} with an http(s) URL, the module folder it
   * downloads into the TF Hub cache ({@code TFHUB_CACHE_DIR}).
   */
  static Path inputPath(String arg, String inputFormat) {
    if (!HubModules.isUrl(arg)) {
      return Path.of(arg);
    }
    if (inputFormat == null || !inputFormat.trim().equals("tf_hub")) {
      throw new UsageException(
          arg
              + ": a URL input is a TF Hub module; add --input_format=tf_hub (other formats are"
              + " read from files)");
    }
    String cache = System.getProperty("tfport.tfhub_cache");
    return HubModules.fetch(
        arg,
        cache != null ? Path.of(cache) : HubModules.defaultCache(),
        null,
        HubModules.Limits.DEFAULT);
  }

  /** {@code key:path.json,...}; only the first ':' splits, so Windows drive letters survive. */
  static ObjectNode metadata(String spec) {
    if (spec == null || spec.isBlank()) {
      return null;
    }
    ObjectNode out = Json.MAPPER.createObjectNode();
    for (String entry : spec.split(",")) {
      int colon = entry.indexOf(':');
      if (colon <= 0 || colon == entry.length() - 1) {
        throw new UsageException("--metadata entries are KEY:FILE.json, got '" + entry + "'");
      }
      String key = entry.substring(0, colon).trim();
      Path file = Path.of(entry.substring(colon + 1).trim());
      try {
        JsonNode n = Json.MAPPER.readTree(Files.readString(file));
        out.set(key, n);
      } catch (IOException e) {
        throw new UsageException(
            "--metadata " + key + ": cannot read " + file + " (" + e.getMessage() + ")");
      } catch (JacksonException e) {
        throw new UsageException(
            "--metadata "
                + key
                + ": "
                + file
                + " is not valid JSON ("
                + e.getOriginalMessage()
                + ")");
      }
    }
    return out;
  }
}
