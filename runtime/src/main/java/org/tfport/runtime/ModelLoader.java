package org.tfport.runtime;

import java.nio.file.Files;
import java.nio.file.Path;
import org.tfport.core.Json;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.ModelFormat;
import org.tfport.formats.savedmodel.SavedModelReader;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.ops.StandardKernels;
import org.tfport.runtime.tflite.TfliteImporter;

/**
 * Reads a model from a path into a {@link Model}: the format from the path, then the graph module's
 * loaders (signature picked, functions inlined, variables frozen, pruned) and the rewrites the
 * planner needs (TF1 control flow into {@code While}/{@code If}). The graph formats are read by
 * {@link GraphModels}, the layers formats by {@link LayersModels}.
 */
final class ModelLoader {
  /** The formats a path can hold. */
  enum Format {
    SAVED_MODEL,
    FROZEN_GRAPH,
    TFJS_GRAPH,
    TFJS_LAYERS,
    KERAS,
    TFLITE,
    STABLEHLO
  }

  private ModelLoader() {}

  static Model load(Path path, LoadOptions o) {
    return load(path, o, StandardKernels.registry());
  }

  /** As {@link #load(Path, LoadOptions)}, binding kernels from {@code registry}. */
  static Model load(Path path, LoadOptions o, KernelRegistry registry) {
    Model m = read(path, o, registry).compiledNow();
    if (o.dropSourceWeights()) {
      m.dropSourceWeights(() -> read(path, o, registry));
    }
    return m;
  }

  /** The model in {@code path}, its parts not compiled yet. */
  private static Model read(Path path, LoadOptions o, KernelRegistry registry) {
    // A TF.js model's folder (what a conversion writes) stands for the model.json inside it.
    if (Files.isDirectory(path)
        && !Files.exists(path.resolve(SavedModelReader.SAVED_MODEL_PB))
        && !Files.exists(path.resolve(SavedModelReader.HUB_MODULE_PB))
        && Files.isRegularFile(path.resolve("model.json"))) {
      path = path.resolve("model.json");
    }
    Format f = detect(path);
    if (f != Format.FROZEN_GRAPH && f != Format.TFJS_GRAPH && !o.outputNodeNames().isEmpty()) {
      throw new UsageException(
          path
              + ": output node names pick the outputs of a frozen GraphDef or a TF.js graph"
              + " model; a "
              + (f == Format.TFLITE ? ".tflite model's" : "SavedModel's")
              + " outputs are its"
              + " signature's (pick one by its name)");
    }
    return switch (f) {
      case SAVED_MODEL ->
          GraphModels.savedModel(
              Files.isDirectory(path) ? path : path.toAbsolutePath().getParent(), o, registry);
      case FROZEN_GRAPH -> GraphModels.frozen(path, o, registry);
      case TFJS_GRAPH -> GraphModels.tfjsGraph(path, o, registry);
      case TFJS_LAYERS -> LayersModels.tfjsLayers(path, o, registry);
      case KERAS -> LayersModels.keras(path, o, registry);
      case TFLITE -> tflite(path, o);
      case STABLEHLO -> GraphModels.stablehlo(path, o, registry);
    };
  }

  /**
   * The format of a path as {@link ModelFormat#recognize} tells it, narrowed to the formats the
   * runtime runs: a SavedModel or TF Hub module (folder, or its {@code saved_model.pb} or {@code
   * tfhub_module.pb}), a frozen GraphDef, a TF.js graph or layers model (its {@code model.json} or
   * folder), a Keras {@code .h5}/{@code .keras} file, a {@code .tflite} file (or one starting with
   * the {@code TFL3} identifier).
   */
  static Format detect(Path path) {
    ModelFormat format =
        ModelFormat.recognize(path)
            .orElseThrow(
                () ->
                    new UsageException(
                        Files.isDirectory(path)
                            ? path
                                + ": a folder without saved_model.pb, tfhub_module.pb or"
                                + " model.json; give a SavedModel or TF Hub module folder, a frozen"
                                + " .pb, a TF.js model.json a .tflite or a StableHLO .mlir file"
                            : path
                                + ": cannot tell the format; give a SavedModel or TF Hub module"
                                + " folder, a frozen .pb, a TF.js model.json a .tflite or a StableHLO .mlir file"));
    return switch (format) {
      case TF_SAVED_MODEL, TF_HUB, KERAS_SAVED_MODEL -> Format.SAVED_MODEL;
      case TF_FROZEN_MODEL -> Format.FROZEN_GRAPH;
      case TFJS_GRAPH_MODEL -> Format.TFJS_GRAPH;
      case TFLITE -> Format.TFLITE;
      case TFJS_LAYERS_MODEL -> layersModel(path);
      case KERAS, KERAS_KERAS -> Format.KERAS;
      case STABLEHLO -> Format.STABLEHLO;
    };
  }

  /**
   * A model.json that is not a graph model runs when it says it is a layers model; broken JSON, or
   * another or no {@code "format"}, is refused.
   */
  private static Format layersModel(Path path) {
    Path json = Files.isDirectory(path) ? path.resolve("model.json") : path;
    String format;
    try {
      format = Json.MAPPER.readTree(json.toFile()).path("format").asString("");
    } catch (RuntimeException e) {
      throw new CorruptModelException(
          json + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
    }
    if (format.equals("layers-model")) {
      return Format.TFJS_LAYERS;
    }
    throw new UnsupportedModelException(
        json
            + ": a TF.js "
            + (format.isEmpty() ? "model.json without a format" : "'" + format + "'")
            + "; the runtime runs TF.js graph models (\"format\": \"graph-model\") and layers"
            + " models (\"format\": \"layers-model\")");
  }

  // -------------------------------------------------------------------------------------------
  // TFLite

  /**
   * A {@code .tflite} file, through the TFLite importer; its signatures are the file's
   * SignatureDefs.
   */
  private static Model tflite(Path path, LoadOptions o) {
    Model m =
        TfliteImporter.importModel(TfliteReader.read(path), path.toString(), o.inputShapes())
            .toModel();
    if (o.signatureName() != null) {
      m.signature(o.signatureName());
    }
    return m;
  }
}
