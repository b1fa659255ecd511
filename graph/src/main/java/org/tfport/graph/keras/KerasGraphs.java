package org.tfport.graph.keras;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.formats.keras.KerasLayerWeights;
import org.tfport.formats.keras.KerasModel;
import org.tfport.formats.keras.KerasWeight;
import org.tfport.formats.tfjs.TfjsModel;
import org.tfport.formats.tfjs.TfjsReader;
import tools.jackson.databind.JsonNode;

/** Builds the TensorFlow graph of a Keras model (.h5, .keras) or a TF.js layers model. */
public final class KerasGraphs {
  private KerasGraphs() {}

  /**
   * A Keras 2 or 3 model file; Keras 1 and Theano-backend files need their config upgraded first.
   */
  public static KerasGraph build(KerasModel model) {
    return build(model, null, 0);
  }

  /**
   * As {@link #build(KerasModel)}, for {@code batch} rows whatever batch size the model's inputs
   * declare (0: as declared), so a model saved with a fixed batch runs on others: shapes its layers
   * compute from the inputs' then hold that batch.
   */
  public static KerasGraph build(KerasModel model, long batch) {
    return build(model, null, batch);
  }

  static KerasGraph build(KerasModel model, TrainingState training) {
    return build(model, training, 0);
  }

  private static KerasGraph build(KerasModel model, TrainingState training, long batch) {
    String source = model.source().toString();
    if (model.weightsOnly()) {
      throw new UnsupportedModelException(
          source
              + ": a weights-only file has no architecture to build; save the whole model (model.save)");
    }
    if (model.kerasMajor() == 1 || "theano".equals(model.backend())) {
      throw new UnsupportedModelException(
          source
              + ": a "
              + (model.kerasMajor() == 1 ? "Keras 1" : "Theano-backend")
              + " file; convert it"
              + " into ModelFormat.TFJS_LAYERS_MODEL first (a TF.js layers model), which"
              + " upgrades its config and weights, and use that model.json");
    }
    Map<String, List<WeightLookup.Entry>> grouped = new LinkedHashMap<>();
    for (KerasLayerWeights lw : model.layers()) {
      List<WeightLookup.Entry> es = new ArrayList<>();
      for (KerasWeight w : lw.weights()) {
        es.add(new WeightLookup.Entry(w.name(), w.data()));
      }
      grouped.put(lw.layerName(), es);
    }
    return KerasGraphBuilder.build(
        source,
        model.modelConfig(),
        new WeightLookup(grouped),
        Math.max(model.kerasMajor(), 2),
        training,
        batch);
  }

  /** A TF.js layers model ({@code model.json} and its weight files). */
  public static KerasGraph buildTfjsLayers(Path modelJson) {
    return buildTfjsLayers(modelJson, null, 0);
  }

  /**
   * As {@link #buildTfjsLayers(Path)}, for {@code batch} rows as {@link #build(KerasModel, long)}.
   */
  public static KerasGraph buildTfjsLayers(Path modelJson, long batch) {
    return buildTfjsLayers(modelJson, null, batch);
  }

  static KerasGraph buildTfjsLayers(Path modelJson, TrainingState training) {
    return buildTfjsLayers(modelJson, training, 0);
  }

  private static KerasGraph buildTfjsLayers(Path modelJson, TrainingState training, long batch) {
    TfjsModel m = TfjsReader.read(modelJson);
    JsonNode topology = m.modelJson().modelTopology();
    if (topology == null || topology.isNull()) {
      throw new UnsupportedModelException(
          modelJson
              + ": a TF.js layers model.json without a model topology (weights only) has no architecture to build");
    }
    if (m.modelJson().isGraphModel()) {
      throw new UnsupportedModelException(modelJson + ": a TF.js graph model, not a layers model");
    }
    JsonNode config = topology.has("model_config") ? topology.get("model_config") : topology;
    String version = topology.path("keras_version").asString("");
    int major = version.startsWith("3") ? 3 : 2;
    return fromConfig(modelJson.toString(), config, m.weightsByName(), major, training, batch);
  }

  /**
   * A Keras 2-form model config with its weights by Keras name ({@code layer/kernel}), as a
   * converter holds them after upgrading an old file.
   */
  public static KerasGraph fromConfig(
      String source, JsonNode modelConfig, Map<String, Tensor> weights, int kerasMajor) {
    return fromConfig(source, modelConfig, weights, kerasMajor, null);
  }

  static KerasGraph fromConfig(
      String source,
      JsonNode modelConfig,
      Map<String, Tensor> weights,
      int kerasMajor,
      TrainingState training) {
    return fromConfig(source, modelConfig, weights, kerasMajor, training, 0);
  }

  private static KerasGraph fromConfig(
      String source,
      JsonNode modelConfig,
      Map<String, Tensor> weights,
      int kerasMajor,
      TrainingState training,
      long batch) {
    if (modelConfig == null) {
      throw new CorruptModelException(source + ": no model config");
    }
    List<WeightLookup.Entry> flat = new ArrayList<>();
    weights.forEach((k, v) -> flat.add(new WeightLookup.Entry(k, () -> v)));
    return KerasGraphBuilder.build(
        source, modelConfig, new WeightLookup(Map.of("", flat)), kerasMajor, training, batch);
  }
}
