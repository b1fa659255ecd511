package org.tfport.graph.keras;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * The arguments of one {@code TFOpLambda} call as Keras 2 saved them: the first argument (a tensor
 * or constant, or a list of them, as in {@code tf.concat([a, b], axis=1)}) and every other argument
 * by its parameter name, positional ones included (Keras names them from the op's signature when it
 * saves). Each element and keyword value is a {@link KT} when it is a tensor of the model, else the
 * constant's JSON.
 */
record OpArgs(List<Object> first, boolean firstIsList, Map<String, Object> kwargs) {
  OpArgs {
    first = java.util.Collections.unmodifiableList(new ArrayList<>(first));
    kwargs = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(kwargs));
  }

  /** A call on tensors alone (a Sequential model's, or a TF.js layers model's). */
  static OpArgs of(List<KT> in) {
    return new OpArgs(new ArrayList<>(in), in.size() != 1, Map.of());
  }

  /** The model's tensors among the arguments, first argument first: the layer's inputs. */
  List<KT> tensors() {
    List<KT> out = new ArrayList<>();
    for (Object o : first) {
      if (o instanceof KT k) {
        out.add(k);
      }
    }
    for (Object o : kwargs.values()) {
      if (o instanceof KT k) {
        out.add(k);
      }
    }
    return out;
  }

  static boolean isConstant(Object o) {
    return o instanceof JsonNode;
  }
}
