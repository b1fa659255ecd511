package org.tfport.formats.tflite;

import java.util.List;

/**
 * {@code SubGraph}: tensors, the runtime-fed inputs and the outputs (indices into {@code tensors}),
 * and operators in execution order. Subgraph 0 is the entry point.
 *
 * @param name null when the file has none
 */
public record TfliteSubgraph(
    String name,
    List<TfliteTensor> tensors,
    List<Integer> inputs,
    List<Integer> outputs,
    List<TfliteOperator> operators) {
  public TfliteSubgraph {
    tensors = List.copyOf(tensors);
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    operators = List.copyOf(operators);
  }
}
