package org.tfport.graph.keras;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;

/** What a training build collects while layers emit their ops. */
final class TrainingState {
  private final KerasTraining.Options options;
  private final List<KerasTraining.Variable> variables = new ArrayList<>();
  private final List<KerasTraining.StateUpdate> updates = new ArrayList<>();
  private final List<KerasTraining.Noise> noise = new ArrayList<>();
  private final Map<String, LayerBuilder> builders = new HashMap<>();

  TrainingState(KerasTraining.Options options) {
    this.options = options;
    TrainingLayers.register(builders);
  }

  KerasTraining.Options options() {
    return options;
  }

  /** The training-mode builder of a layer class, or null when its inference form trains as is. */
  LayerBuilder builder(String cls) {
    return options.training() ? builders.get(cls) : null;
  }

  /** Whether a layer's weights train: its config and the frozen list decide. */
  boolean trains(Call c) {
    return c.bool("trainable", true) && !options.frozenLayers().contains(c.layer);
  }

  /** A placeholder fed with the stored weight; made once per layer weight by {@link Call}. */
  String variable(Call c, String shortName, int position) {
    Tensor t = c.floatWeight(shortName, position);
    WeightLookup.Entry entry = c.weights().entry(c.layer, shortName, position);
    String name = entry == null ? c.layer + "/" + shortName : entry.name();
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("dtype", new AttrValue.Type(DataTypes.DT_FLOAT));
    a.put("shape", new AttrValue.Shape(TensorShape.of(t.shape())));
    String node = c.e.g.uniqueName(c.layer + "/" + shortName);
    c.e.g.add(new Node(node, "Placeholder", List.of(), "", a));
    boolean trainable = trains(c) && !shortName.startsWith("moving_");
    variables.add(new KerasTraining.Variable(c.layer, name, node, t, trainable));
    return node;
  }

  void update(String variableNode, String value) {
    updates.add(new KerasTraining.StateUpdate(variableNode, value));
  }

  /** A fed noise tensor of {@code shape} (-1 for the batch). */
  String noise(Call c, long[] shape, double rate) {
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("dtype", new AttrValue.Type(DataTypes.DT_FLOAT));
    a.put("shape", new AttrValue.Shape(TensorShape.of(shape)));
    String node = c.e.g.uniqueName(c.layer + "/noise");
    c.e.g.add(new Node(node, "Placeholder", List.of(), "", a));
    noise.add(new KerasTraining.Noise(node, shape, rate));
    return node;
  }

  KerasTraining.Graph result(KerasGraph g) {
    return new KerasTraining.Graph(g, variables, updates, noise);
  }
}
