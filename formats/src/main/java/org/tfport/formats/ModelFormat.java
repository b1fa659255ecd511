package org.tfport.formats;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import org.tfport.core.Json;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.savedmodel.SavedModelReader;
import org.tfport.formats.stablehlo.StableHloFiles;
import org.tfport.formats.tfjs.ModelJsonParser;
import org.tfport.formats.tfjs.TfjsModelJson;
import org.tfport.formats.tfjs.TfjsWriter;
import org.tfport.formats.tflite.TfliteReader;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * The model formats of the TensorFlow family, named as {@code tensorflowjs_converter}'s {@code
 * --input_format} and {@code --output_format} name them, and the one place that tells which of them
 * a file or folder holds.
 */
public enum ModelFormat {
  /** A Keras HDF5 file ({@code .h5}): Keras 1 and 2, and Keras 3's legacy save. */
  KERAS("keras"),
  /** A Keras 3 zip ({@code .keras}). */
  KERAS_KERAS("keras_keras"),
  /** A SavedModel written by Keras ({@code model.save(dir)} in TF 2). */
  KERAS_SAVED_MODEL("keras_saved_model"),
  TF_SAVED_MODEL("tf_saved_model"),
  /**
   * A TF1 Hub module folder: a SavedModel with {@code tfhub_module.pb}, whose graph has no tags.
   */
  TF_HUB("tf_hub"),
  /** A frozen GraphDef {@code .pb}. */
  TF_FROZEN_MODEL("tf_frozen_model"),
  TFJS_LAYERS_MODEL("tfjs_layers_model"),
  TFJS_GRAPH_MODEL("tfjs_graph_model"),
  TFLITE("tflite"),
  /**
   * A StableHLO program: MLIR text ({@code .mlir}, as JAX prints it) or bytecode ({@code .mlirbc},
   * a VHLO portable artifact).
   */
  STABLEHLO("stablehlo");

  private static final byte[] HDF5_SIGNATURE = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  private static final byte[] ZIP_SIGNATURE = {'P', 'K', 3, 4};
  private static final byte[] TFLITE_IDENTIFIER =
      TfliteReader.IDENTIFIER.getBytes(StandardCharsets.ISO_8859_1);

  private final String flagName;

  ModelFormat(String flagName) {
    this.flagName = flagName;
  }

  /** The converter's name for it: {@code keras}, {@code tf_saved_model}, ... */
  public String flagName() {
    return flagName;
  }

  /** The format with this converter name, if there is one. */
  public static Optional<ModelFormat> fromFlagName(String name) {
    return Arrays.stream(values()).filter(f -> f.flagName.equals(name)).findFirst();
  }

  /**
   * The format {@code path} holds, from its contents where they say (the first bytes of a Keras or
   * TFLite file, a model.json's {@code "format"}) and else from its name. A folder is a TF Hub
   * module when it holds {@code tfhub_module.pb} (checked first: a Hub module also holds {@code
   * saved_model.pb}), a SavedModel when it holds {@code saved_model.pb}, and a TF.js model when it
   * holds {@code model.json}. A file named {@code saved_model.pb} is a SavedModel's, one named
   * {@code tfhub_module.pb} a Hub module's; any other {@code .pb} (or {@code .graphdef}) is a
   * frozen graph.
   *
   * @throws UsageException when the path does not exist or holds none of these
   */
  public static ModelFormat detect(Path path) {
    return recognize(path)
        .orElseThrow(
            () ->
                new UsageException(
                    Files.isDirectory(path)
                        ? path
                            + ": a folder without saved_model.pb, tfhub_module.pb or model.json, so"
                            + " not a model folder; give the folder of a SavedModel, a TF Hub module"
                            + " or a TF.js model"
                        : path
                            + ": cannot tell the model format from the file; expected a SavedModel"
                            + " or TF Hub folder, a frozen .pb, a TF.js model.json, a Keras"
                            + " .h5/.keras or a .tflite file"));
  }

  /**
   * As {@link #detect(Path)}, but empty when the path exists and holds none of these formats, so
   * that a caller that reads only some of them can say which.
   *
   * @throws UsageException when the path does not exist or cannot be read
   */
  public static Optional<ModelFormat> recognize(Path path) {
    if (Files.isDirectory(path)) {
      if (Files.exists(path.resolve(SavedModelReader.HUB_MODULE_PB))) {
        return Optional.of(TF_HUB);
      }
      if (Files.exists(path.resolve(SavedModelReader.SAVED_MODEL_PB))
          || Files.exists(path.resolve("saved_model.pbtxt"))) {
        return Optional.of(TF_SAVED_MODEL);
      }
      if (Files.exists(path.resolve(TfjsWriter.MODEL_JSON))) {
        return Optional.of(ofModelJson(path.resolve(TfjsWriter.MODEL_JSON)));
      }
      return Optional.empty();
    }
    if (!Files.exists(path)) {
      throw new UsageException(path + ": no such file or folder");
    }
    byte[] head = new byte[8];
    int n;
    try (InputStream s = Files.newInputStream(path)) {
      n = s.readNBytes(head, 0, head.length);
    } catch (IOException e) {
      throw new UsageException(path + ": cannot read the input (" + e.getMessage() + ")");
    }
    if (n <= 0) {
      throw new CorruptModelException(path + ": the file is empty (0 bytes), so it holds no model");
    }
    Optional<ModelFormat> bySignature = ofSignature(head, n);
    if (bySignature.isPresent()) {
      return bySignature;
    }
    String name =
        path.getFileName() == null ? "" : path.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".json")) {
      return Optional.of(ofModelJson(path));
    }
    if (name.equals(SavedModelReader.SAVED_MODEL_PB)) {
      return Optional.of(TF_SAVED_MODEL);
    }
    if (name.equals(SavedModelReader.HUB_MODULE_PB)) {
      return Optional.of(TF_HUB);
    }
    if (name.endsWith(".pb") || name.endsWith(".pbtxt") || name.endsWith(".graphdef")) {
      return Optional.of(TF_FROZEN_MODEL);
    }
    // A damaged file keeps the format its name says, so that format's reader explains what is
    // wrong.
    if (name.endsWith(".h5") || name.endsWith(".hdf5")) {
      return Optional.of(KERAS);
    }
    if (name.endsWith(".keras")) {
      return Optional.of(KERAS_KERAS);
    }
    if (name.endsWith(".tflite")) {
      return Optional.of(TFLITE);
    }
    if (StableHloFiles.hasStableHloName(path)) {
      return Optional.of(STABLEHLO);
    }
    return Optional.empty();
  }

  /**
   * The format the first bytes of a file announce: the HDF5 signature (Keras {@code .h5}), a zip
   * header (Keras 3 {@code .keras}) or the TFLite FlatBuffer identifier; empty when they announce
   * none of these.
   *
   * @param n how many bytes of {@code head} were read
   */
  public static Optional<ModelFormat> ofSignature(byte[] head, int n) {
    if (startsWith(head, n, 0, ZIP_SIGNATURE)) {
      return Optional.of(KERAS_KERAS);
    }
    if (startsWith(head, n, 0, HDF5_SIGNATURE)) {
      return Optional.of(KERAS);
    }
    if (startsWith(head, n, 4, TFLITE_IDENTIFIER)) {
      return Optional.of(TFLITE);
    }
    if (StableHloFiles.isBytecode(head, n)) {
      return Optional.of(STABLEHLO);
    }
    return Optional.empty();
  }

  /**
   * A model.json says which kind it is in its top-level {@code "format"}; before 1.0 only layers
   * models existed.
   */
  private static ModelFormat ofModelJson(Path json) {
    String format = ModelJsonParser.format(json);
    if (TfjsModelJson.GRAPH_MODEL.equals(format)) {
      return TFJS_GRAPH_MODEL;
    }
    if (TfjsModelJson.LAYERS_MODEL.equals(format)) {
      return TFJS_LAYERS_MODEL;
    }
    if (format != null) {
      throw new CorruptModelException(
          json
              + ": model.json says format '"
              + format
              + "', neither a TF.js layers model ('layers-model') nor a graph model ('graph-model')");
    }
    // No "format": a pre-1.0 layers model holds a Keras config, a graph model nodes.
    JsonNode topology;
    try {
      if (Files.size(json) == 0) {
        throw new CorruptModelException(
            json + ": the file is empty (0 bytes), so it holds no model");
      }
      topology = Json.MAPPER.readTree(Files.readString(json)).path("modelTopology");
    } catch (IOException | JacksonException e) {
      throw new CorruptModelException(
          json
              + ": not a TF.js model.json: it is not a JSON object ("
              // Jackson's message goes on with a location line; errors are one line.
              + String.valueOf(e.getMessage()).lines().findFirst().orElse("")
              + ")");
    }
    if (topology.has("node") || topology.has("library")) {
      return TFJS_GRAPH_MODEL;
    }
    if (topology.has("model_config") || topology.has("class_name") || topology.has("config")) {
      return TFJS_LAYERS_MODEL;
    }
    throw new CorruptModelException(
        json
            + ": a model.json that is neither a TF.js layers model (modelTopology with a Keras"
            + " model config) nor a graph model (modelTopology with nodes)");
  }

  private static boolean startsWith(byte[] b, int n, int at, byte[] prefix) {
    if (n < at + prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (b[at + i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }
}
