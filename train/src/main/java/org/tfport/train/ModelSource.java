package org.tfport.train;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.keras.KerasH5Writer;
import org.tfport.formats.keras.KerasLayerWeights;
import org.tfport.formats.keras.KerasModel;
import org.tfport.formats.keras.KerasWeight;
import org.tfport.formats.tfjs.TfjsModel;
import org.tfport.formats.tfjs.TfjsReader;
import org.tfport.graph.keras.KerasTraining;
import tools.jackson.databind.JsonNode;

/**
 * The model being trained as stored: a Keras {@code .h5}/{@code .keras} file or a TF.js layers
 * {@code model.json}; builds its training graphs and lays trained weights back out as its layers
 * hold them, for the existing writers.
 */
final class ModelSource implements AutoCloseable {
  final Path path;
  private final KerasModel keras;
  private final TfjsModel tfjs;

  private ModelSource(Path path, KerasModel keras, TfjsModel tfjs) {
    this.path = path;
    this.keras = keras;
    this.tfjs = tfjs;
  }

  static ModelSource open(Path path) {
    Path p = Files.isDirectory(path) ? path.resolve("model.json") : path;
    if (!Files.isRegularFile(p)) {
      throw new UsageException(path + ": no such model file");
    }
    String name = p.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
    if (name.endsWith(".json")) {
      TfjsModel m = TfjsReader.read(p);
      if (m.modelJson().isGraphModel()) {
        throw new UsageException(
            p + ": a TF.js graph model is frozen and cannot be trained; give a layers model");
      }
      return new ModelSource(p, null, m);
    }
    return new ModelSource(p, KerasModel.open(p), null);
  }

  KerasTraining.Graph build(KerasTraining.Options options) {
    return keras != null
        ? KerasTraining.build(keras, options)
        : KerasTraining.buildTfjsLayers(path, options);
  }

  /** The stored {@code training_config} ({@code trainingConfig} in a model.json), or null. */
  JsonNode trainingConfig() {
    JsonNode c = keras != null ? keras.trainingConfig() : tfjs.modelJson().trainingConfig();
    if (c == null && tfjs != null) {
      c = tfjs.modelJson().modelTopology().get("training_config");
    }
    return c == null || c.isNull() ? null : c;
  }

  private JsonNode modelConfig() {
    if (keras != null) {
      return keras.modelConfig();
    }
    JsonNode t = tfjs.modelJson().modelTopology();
    return t.has("model_config") ? t.get("model_config") : t;
  }

  /** The stored weights by layer, trained values replacing those of {@code trained}. */
  List<KerasLayerWeights> layers(Map<String, Tensor> trained) {
    List<KerasLayerWeights> out = new ArrayList<>();
    if (keras != null) {
      for (KerasLayerWeights l : keras.layers()) {
        List<KerasWeight> ws = new ArrayList<>();
        for (KerasWeight w : l.weights()) {
          String n =
              w.name().endsWith(":0") ? w.name().substring(0, w.name().length() - 2) : w.name();
          Tensor t = trained.get(n);
          ws.add(t == null ? w : new KerasWeight(n, DType.FLOAT32, t.shape(), () -> t));
        }
        out.add(new KerasLayerWeights(l.layerName(), ws));
      }
      return out;
    }
    Map<String, List<KerasWeight>> byLayer = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : tfjs.weightsByName().entrySet()) {
      String n = e.getKey();
      Tensor t = trained.getOrDefault(n, e.getValue());
      String layer = n.contains("/") ? n.substring(0, n.indexOf('/')) : n;
      byLayer
          .computeIfAbsent(layer, k -> new ArrayList<>())
          .add(new KerasWeight(n, t.dtype(), t.shape(), () -> t));
    }
    byLayer.forEach((k, v) -> out.add(new KerasLayerWeights(k, v)));
    return out;
  }

  /** Writes the model with {@code trained} weights as a Keras HDF5 file. */
  void writeH5(Path file, Map<String, Tensor> trained) {
    String version;
    String backend;
    if (keras != null) {
      version = keras.kerasVersion() == null ? "2.15.0" : keras.kerasVersion();
      backend = keras.backend() == null ? "tensorflow" : keras.backend();
    } else {
      JsonNode t = tfjs.modelJson().modelTopology();
      version = t.path("keras_version").asString("2.15.0");
      backend = t.path("backend").asString("tensorflow");
    }
    KerasH5Writer.write(file, version, backend, modelConfig(), trainingConfig(), layers(trained));
  }

  /** Writes the model with {@code trained} weights as a Keras 3 {@code .keras} archive. */
  void writeKeras(Path file, Map<String, Tensor> trained) {
    Map<String, KerasWeight> byName = new LinkedHashMap<>();
    for (KerasLayerWeights l : layers(trained)) {
      for (KerasWeight w : l.weights()) {
        String n =
            w.name().endsWith(":0") ? w.name().substring(0, w.name().length() - 2) : w.name();
        byName.put(n, w);
      }
    }
    org.tfport.formats.keras.KerasV3Writer.write(file, modelConfig(), byName);
  }

  @Override
  public void close() {
    if (keras != null) {
      keras.close();
    }
  }
}
