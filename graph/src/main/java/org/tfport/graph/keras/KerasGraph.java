package org.tfport.graph.keras;

import java.util.List;
import org.tfport.core.graph.Graph;

/**
 * The TensorFlow graph a Keras model computes: one placeholder per model input (named after its
 * input layer) and one {@code Identity} per output (named after its output layer), in the model's
 * order; weights are constants.
 *
 * @param inputs placeholder node names, in the model's input order
 * @param outputs output node names, in the model's output order
 */
public record KerasGraph(Graph graph, List<String> inputs, List<String> outputs) {
  public KerasGraph {
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
  }
}
