package org.tfport.core.graph;

import java.util.List;
import java.util.Map;

/**
 * What the IR needs of an {@code OpDef}: the argument layout, to turn a function body's {@code
 * node:out_arg:idx} into a flat output index, and attribute defaults (SavedModels strip attributes
 * that equal their default).
 */
public record OpSignature(
    String name, List<ArgDef> inputs, List<ArgDef> outputs, Map<String, AttrValue> defaults) {
  public OpSignature {
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    defaults = Map.copyOf(defaults);
  }
}
