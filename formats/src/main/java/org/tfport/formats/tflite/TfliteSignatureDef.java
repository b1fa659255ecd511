package org.tfport.formats.tflite;

import java.util.List;

/** {@code SignatureDef}: named inputs and outputs of one entry point (a subgraph). */
public record TfliteSignatureDef(
    String key, int subgraphIndex, List<TensorMap> inputs, List<TensorMap> outputs) {
  public TfliteSignatureDef {
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    if (subgraphIndex < 0) {
      throw new IllegalArgumentException("subgraph index must be >= 0, got " + subgraphIndex);
    }
  }

  /** {@code TensorMap}: a signature name for a tensor of the signature's subgraph. */
  public record TensorMap(String name, int tensorIndex) {
    public TensorMap {
      if (tensorIndex < 0) {
        throw new IllegalArgumentException("tensor index must be >= 0, got " + tensorIndex);
      }
    }
  }
}
