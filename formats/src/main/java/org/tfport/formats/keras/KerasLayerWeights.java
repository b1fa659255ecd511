package org.tfport.formats.keras;

import java.util.List;

/** The weights stored for one top-level layer, in the order Keras saved them. */
public record KerasLayerWeights(String layerName, List<KerasWeight> weights) {
  public KerasLayerWeights {
    weights = List.copyOf(weights);
  }
}
