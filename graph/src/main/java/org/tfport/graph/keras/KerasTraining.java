package org.tfport.graph.keras;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.Tensor;
import org.tfport.formats.keras.KerasModel;

/**
 * The training-mode graph of a Keras model: weights are placeholders fed from a parameter store,
 * BatchNormalization normalizes with the batch's statistics and yields its moving statistics'
 * updates, Dropout draws its mask from a fed noise tensor (or is off).
 */
public final class KerasTraining {
  private KerasTraining() {}

  /**
   * How to build.
   *
   * @param training whether layers run in training mode (batch statistics, dropout); false builds
   *     the inference form with the weights still fed (for evaluation between steps)
   * @param dropout whether dropout layers drop in training mode (their noise then is a graph input)
   * @param frozenLayers layer names whose weights do not train, besides those whose config says
   *     {@code trainable: false}
   */
  public record Options(boolean training, boolean dropout, Set<String> frozenLayers) {
    public Options {
      frozenLayers = Set.copyOf(frozenLayers);
    }

    public static Options defaults() {
      return new Options(true, false, Set.of());
    }

    public Options inference() {
      return new Options(false, false, frozenLayers);
    }
  }

  /**
   * One weight as a graph input.
   *
   * @param layer the owning layer
   * @param name the weight's stored name ({@code layer/kernel}, no {@code :0})
   * @param node the placeholder that feeds it
   * @param initial its stored value
   * @param trainable whether gradients update it (moving statistics and frozen layers: no)
   */
  public record Variable(
      String layer, String name, String node, Tensor initial, boolean trainable) {}

  /** A non-trainable variable's value after a training step, computed by tensor {@code value}. */
  public record StateUpdate(String variableNode, String value) {}

  /**
   * A dropout layer's noise: uniform [0, 1) values fed as {@code node}, shaped as the layer's input
   * ({@code shape}, -1 for the batch), that keep an element when {@code >= rate}.
   */
  public record Noise(String node, long[] shape, double rate) {
    @Override
    public long[] shape() {
      return shape.clone();
    }
  }

  /** The graph (model inputs and outputs as {@link KerasGraph} says) and what feeds it. */
  public record Graph(
      KerasGraph model, List<Variable> variables, List<StateUpdate> updates, List<Noise> noise) {
    public Graph {
      variables = List.copyOf(variables);
      updates = List.copyOf(updates);
      noise = List.copyOf(noise);
    }
  }

  /** A Keras 2 or 3 model file's training graph. */
  public static Graph build(KerasModel model, Options options) {
    TrainingState t = new TrainingState(options);
    KerasGraph g = KerasGraphs.build(model, t);
    return t.result(g);
  }

  /** A TF.js layers model's training graph. */
  public static Graph buildTfjsLayers(Path modelJson, Options options) {
    TrainingState t = new TrainingState(options);
    KerasGraph g = KerasGraphs.buildTfjsLayers(modelJson, t);
    return t.result(g);
  }

  /** A Keras 2-form config and its weights by Keras name; see {@link KerasGraphs#fromConfig}. */
  public static Graph fromConfig(
      String source,
      tools.jackson.databind.JsonNode modelConfig,
      Map<String, Tensor> weights,
      int kerasMajor,
      Options options) {
    TrainingState t = new TrainingState(options);
    KerasGraph g = KerasGraphs.fromConfig(source, modelConfig, weights, kerasMajor, t);
    return t.result(g);
  }
}
