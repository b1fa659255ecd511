package org.tfport.convert.keras;

import java.nio.file.Path;
import java.util.List;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.formats.keras.KerasLayerWeights;
import org.tfport.formats.keras.KerasWeight;
import tools.jackson.databind.node.ObjectNode;

/** Keras 1 configs and weights in Keras 2 form, which is what TF.js reads. */
final class Keras1Upgrade {
  private Keras1Upgrade() {}

  static void upgrade(Path file, ObjectNode config) {
    throw new UnsupportedModelException(file + ": a Keras 1 model; tfport does not yet translate Keras 1"
        + " layer configs: load it in Keras 2 and save it again");
  }

  static List<KerasWeight> weights(Path file, String cls, KerasLayerWeights layer) {
    return layer.weights();
  }
}
