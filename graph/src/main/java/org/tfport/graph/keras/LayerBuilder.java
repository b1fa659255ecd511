package org.tfport.graph.keras;

import java.util.List;
import tools.jackson.databind.JsonNode;

/** Emits the TensorFlow ops of one Keras layer class's {@code call}. */
interface LayerBuilder {
  List<KT> call(Call c, List<KT> in);

  /** Why this layer's settings cannot be built, or null when they can. */
  default String problem(JsonNode config) {
    return null;
  }

  /** A builder for layers of one input and one output. */
  interface Single extends LayerBuilder {
    KT apply(Call c, KT x);

    @Override
    default List<KT> call(Call c, List<KT> in) {
      if (in.size() != 1) {
        throw c.corrupt("takes one input but is called on " + in.size());
      }
      return List.of(apply(c, in.get(0)));
    }
  }
}
