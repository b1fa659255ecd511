package org.tfport.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tfport.core.Json;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.graph.keras.KerasGraph;
import org.tfport.graph.keras.KerasGraphs;

/**
 * The Keras graph builder on hand-written configs: multi-input/multi-output wiring, a shared layer,
 * a nested Sequential, and layers checked against values computed by hand.
 */
class KerasGraphBuildTest {
  private static Map<String, Tensor> run(KerasGraph kg, Map<String, Tensor> feed) {
    List<TensorSpec> ins =
        kg.inputs().stream().map(n -> new TensorSpec(n, n + ":0", null, null)).toList();
    List<TensorSpec> outs = new java.util.ArrayList<>();
    for (int i = 0; i < kg.outputs().size(); i++) {
      outs.add(new TensorSpec(kg.outputs().get(i), kg.graph().outputs().get(i), null, null));
    }
    try (Model m =
            Model.fromGraph(kg.graph(), List.of(new Signature(Signature.DEFAULT_KEY, ins, outs)));
        Session s = m.newSession()) {
      return s.run(feed);
    }
  }

  private static Tensor f(long[] shape, float... v) {
    return Tensor.ofFloats(Shape.of(shape), v);
  }

  private static final String TWO_INPUTS =
      """
      {"class_name": "Functional", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "name": "a", "inbound_nodes": [],
         "config": {"batch_input_shape": [null, 2], "dtype": "float32", "name": "a"}},
        {"class_name": "InputLayer", "name": "b", "inbound_nodes": [],
         "config": {"batch_input_shape": [null, 2], "dtype": "float32", "name": "b"}},
        {"class_name": "Dense", "name": "shared",
         "config": {"name": "shared", "units": 2, "activation": "linear", "use_bias": true},
         "inbound_nodes": [[["a", 0, 0, {}]], [["b", 0, 0, {}]]]},
        {"class_name": "Subtract", "name": "diff", "config": {"name": "diff"},
         "inbound_nodes": [[["shared", 0, 0, {}], ["shared", 1, 0, {}]]]},
        {"class_name": "Sequential", "name": "inner",
         "config": {"name": "inner", "layers": [
           {"class_name": "InputLayer",
            "config": {"batch_input_shape": [null, 2], "dtype": "float32", "name": "inner_in"}},
           {"class_name": "Dense",
            "config": {"name": "head", "units": 1, "activation": "relu", "use_bias": false}}]},
         "inbound_nodes": [[["diff", 0, 0, {}]]]}],
        "input_layers": [["a", 0, 0], ["b", 0, 0]],
        "output_layers": [["inner", 1, 0], ["shared", 1, 0]]}}
      """;

  @Test
  void sharedLayerNestedModelAndTwoOutputsAreWiredAsKerasCallsThem() {
    Map<String, Tensor> w = new LinkedHashMap<>();
    // shared: y = x·K + c with K = [[1, 2], [3, 4]], c = [0.5, -0.5]
    w.put("shared/kernel", f(new long[] {2, 2}, 1, 2, 3, 4));
    w.put("shared/bias", f(new long[] {2}, 0.5f, -0.5f));
    // head: relu(x·[1, -1]ᵀ)
    w.put("head/kernel", f(new long[] {2, 1}, 1, -1));
    KerasGraph kg = KerasGraphs.fromConfig("test.json", Json.MAPPER.readTree(TWO_INPUTS), w, 2);
    assertThat(kg.inputs()).containsExactly("a", "b");
    assertThat(kg.outputs()).containsExactly("inner", "shared");

    Map<String, Tensor> feed = new LinkedHashMap<>();
    // row 0: shared(a) = [1.5, 1.5], shared(b) = [0.5, -0.5], diff = [1, 2], relu(1 - 2) = 0
    // row 1: shared(a) = [0.5, -0.5], shared(b) = [3.5, 3.5], diff = [-3, -4], relu(-3 + 4) = 1
    feed.put("a", f(new long[] {2, 2}, 1, 0, 0, 0));
    feed.put("b", f(new long[] {2, 2}, 0, 0, 0, 1));
    Map<String, Tensor> out = run(kg, feed);
    assertThat(out.get("inner").toFloatArray()).containsExactly(0f, 1f);
    assertThat(out.get("shared").toFloatArray()).containsExactly(0.5f, -0.5f, 3.5f, 3.5f);
  }

  private static String sequential(String layersJson) {
    return """
        {"class_name": "Sequential", "config": {"name": "s", "layers": [%s]}}
        """
        .formatted(layersJson);
  }

  @Test
  void causalDilatedConv1dPadsOnTheLeft() {
    // x = [1, 2, 3, 4] (one channel), kernel [w0, w1] = [10, 1], dilation 2, causal:
    // y[t] = 10·x[t-2] + 1·x[t], x[t<0] = 0 → [1, 2, 13, 24]
    String cfg =
        sequential(
            """
            {"class_name": "Conv1D", "config": {"name": "c", "filters": 1, "kernel_size": [2],
             "strides": [1], "padding": "causal", "dilation_rate": [2], "use_bias": false,
             "activation": "linear", "batch_input_shape": [null, 4, 1]}}
            """);
    KerasGraph kg =
        KerasGraphs.fromConfig(
            "t", Json.MAPPER.readTree(cfg), Map.of("c/kernel", f(new long[] {2, 1, 1}, 10, 1)), 2);
    Map<String, Tensor> out = run(kg, Map.of("c_input", f(new long[] {1, 4, 1}, 1, 2, 3, 4)));
    assertThat(out.get("c").toFloatArray()).containsExactly(1f, 2f, 13f, 24f);
  }

  @Test
  void batchNormalizationAndLayerNormalizationInInferenceForm() {
    String cfg =
        sequential(
            """
            {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": -1,
             "epsilon": 0.001, "center": true, "scale": true, "batch_input_shape": [null, 2]}},
            {"class_name": "LayerNormalization", "config": {"name": "ln", "axis": -1,
             "epsilon": 0.001, "center": true, "scale": true}}
            """);
    Map<String, Tensor> w = new LinkedHashMap<>();
    w.put("bn/gamma", f(new long[] {2}, 2, 1));
    w.put("bn/beta", f(new long[] {2}, 0, 1));
    w.put("bn/moving_mean", f(new long[] {2}, 1, -1));
    w.put("bn/moving_variance", f(new long[] {2}, 3.999f, 0.999f));
    w.put("ln/gamma", f(new long[] {2}, 1, 1));
    w.put("ln/beta", f(new long[] {2}, 0, 0));
    KerasGraph kg = KerasGraphs.fromConfig("t", Json.MAPPER.readTree(cfg), w, 2);
    // bn: [(3 - 1)/2·2 + 0, (1 + 1)/1·1 + 1] = [2, 3]; ln over [2, 3]: mean 2.5, var 0.25,
    // (x - 2.5)/√(0.25 + 0.001) = ±0.5/0.500999 = ±0.998004
    Map<String, Tensor> out = run(kg, Map.of("bn_input", f(new long[] {1, 2}, 3, 1)));
    float[] y = out.get("ln").toFloatArray();
    assertThat(y[0]).isCloseTo(-0.998004f, within(1e-5f));
    assertThat(y[1]).isCloseTo(0.998004f, within(1e-5f));
  }

  @Test
  void everyUnbuildableLayerIsNamedInOneMessage() {
    String cfg =
        sequential(
            """
            {"class_name": "Lambda", "config": {"name": "lam", "function": "...",
             "batch_input_shape": [null, 2]}},
            {"class_name": "FancyLayer", "config": {"name": "fancy"}},
            {"class_name": "Dense", "config": {"name": "d", "units": 1, "activation": "weird"}}
            """);
    assertThatThrownBy(() -> KerasGraphs.fromConfig("m.h5", Json.MAPPER.readTree(cfg), Map.of(), 2))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageStartingWith("m.h5: ")
        .hasMessageContaining("Lambda (its Python code cannot be read) (layer 's/lam')")
        .hasMessageContaining("FancyLayer (layer 's/fancy')")
        .hasMessageContaining("Dense with activation 'weird' (layer 's/d')")
        .hasMessageNotContaining("\n");
  }
}
