package org.tfport.convert.keras;

import java.nio.file.Path;
import java.util.Map;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.formats.ModelFormat;
import org.tfport.formats.keras.KerasModel;
import org.tfport.graph.keras.KerasGraph;
import org.tfport.graph.keras.KerasGraphs;
import tools.jackson.databind.node.ObjectNode;

/**
 * The TensorFlow graph of a Keras file or TF.js layers model, for the graph targets. Keras 1 and
 * Theano-backend files are upgraded first as for the TF.js layers target (config and weights),
 * which the graph module cannot do itself.
 */
public final class KerasGraphSource {
  private KerasGraphSource() {}

  public static KerasGraph build(Path source, ModelFormat format) {
    if (format == ModelFormat.TFJS_LAYERS_MODEL) {
      Path mj = java.nio.file.Files.isDirectory(source) ? source.resolve("model.json") : source;
      return KerasGraphs.buildTfjsLayers(mj);
    }
    try (KerasModel model = KerasModel.open(source)) {
      if (model.weightsOnly() || (model.kerasMajor() != 1 && !"theano".equals(model.backend()))) {
        return KerasGraphs.build(model);
      }
      if (!(model.modelConfig() instanceof ObjectNode mc)) {
        throw new CorruptModelException(source + ": model_config is not a Keras model config");
      }
      ObjectNode config = mc.deepCopy();
      if (model.kerasMajor() == 1) {
        Keras1Upgrade.upgrade(model.source(), model.backend(), config);
      }
      Map<String, Tensor> weights = KerasToTfjs.weightsByName(model);
      return KerasGraphs.fromConfig(source.toString(), config, weights, 2);
    }
  }
}
