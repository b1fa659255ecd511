package org.tfport.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tfport.core.Json;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.Node;
import org.tfport.graph.keras.KerasGraph;
import org.tfport.graph.keras.KerasGraphs;

/**
 * Recurrent layers in the Keras graph builder against values computed by hand: Keras masks (masked
 * steps keep the previous state and output) and time dimensions known only at run time (a While
 * loop), which must give what the unrolled graph gives.
 */
class KerasRecurrentGraphTest {
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

  private static KerasGraph build(String layersJson, Map<String, Tensor> weights) {
    String cfg =
        """
        {"class_name": "Sequential", "config": {"name": "s", "layers": [%s]}}
        """
            .formatted(layersJson);
    return KerasGraphs.fromConfig("t.h5", Json.MAPPER.readTree(cfg), weights, 2);
  }

  private static String maskedRnn(String steps, boolean backwards) {
    return """
        {"class_name": "Masking", "config": {"name": "m", "mask_value": 0.0,
         "batch_input_shape": [null, %s, 1]}},
        {"class_name": "SimpleRNN", "config": {"name": "r", "units": 1, "activation": "linear",
         "use_bias": true, "return_sequences": true, "go_backwards": %s}}
        """
        .formatted(steps, backwards);
  }

  private static Map<String, Tensor> rnnWeights() {
    Map<String, Tensor> w = new LinkedHashMap<>();
    w.put("r/kernel", f(new long[] {1, 1}, 1));
    w.put("r/recurrent_kernel", f(new long[] {1, 1}, 0.5f));
    w.put("r/bias", f(new long[] {1}, 0));
    return w;
  }

  private static boolean hasLoop(KerasGraph kg) {
    return kg.graph().nodes().stream().map(Node::op).anyMatch(op -> op.endsWith("While"));
  }

  @Test
  void maskedStepsKeepThePreviousStateUnrolledAndInALoop() {
    // h[t] = x[t] + 0.5·h[t-1]; x = [1, 2, 0 (masked), 3]:
    // 1, 2 + 0.5 = 2.5, masked: 2.5 kept, 3 + 1.25 = 4.25
    Tensor x = f(new long[] {1, 4, 1}, 1, 2, 0, 3);
    for (String steps : List.of("4", "null")) {
      KerasGraph kg = build(maskedRnn(steps, false), rnnWeights());
      assertThat(hasLoop(kg)).as("loop for %s steps", steps).isEqualTo(steps.equals("null"));
      Map<String, Tensor> out = run(kg, Map.of("m_input", x));
      assertThat(out.get("r").shape()).isEqualTo(Shape.of(1, 4, 1));
      assertThat(out.get("r").toFloatArray()).as("%s steps", steps).containsExactly(1f, 2.5f, 2.5f, 4.25f);
    }
  }

  @Test
  void backwardsMaskedLoopRunsTheStepsInReverse() {
    // reversed x = [3, 0 (masked), 2, 1]: 3, 3 kept, 2 + 1.5 = 3.5, 1 + 1.75 = 2.75
    Tensor x = f(new long[] {1, 4, 1}, 1, 2, 0, 3);
    for (String steps : List.of("4", "null")) {
      Map<String, Tensor> out = run(build(maskedRnn(steps, true), rnnWeights()), Map.of("m_input", x));
      assertThat(out.get("r").toFloatArray()).as("%s steps", steps).containsExactly(3f, 3f, 3.5f, 2.75f);
    }
  }

  @Test
  void lstmOverAnUnknownNumberOfStepsMatchesTheUnrolledGraph() {
    Map<String, Tensor> w = new LinkedHashMap<>();
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(7);
    float[] k = new float[2 * 12];
    float[] u = new float[3 * 12];
    float[] b = new float[12];
    for (float[] a : List.of(k, u, b)) {
      for (int i = 0; i < a.length; i++) {
        a[i] = (float) (rnd.nextDouble() - 0.5);
      }
    }
    w.put("l/kernel", f(new long[] {2, 12}, k));
    w.put("l/recurrent_kernel", f(new long[] {3, 12}, u));
    w.put("l/bias", f(new long[] {12}, b));
    float[] xv = new float[2 * 5 * 2];
    for (int i = 0; i < xv.length; i++) {
      xv[i] = (float) (rnd.nextDouble() * 2 - 1);
    }
    // the second sample's last two steps are masked (all-zero features)
    xv[2 * 5 * 2 - 1] = 0;
    xv[2 * 5 * 2 - 2] = 0;
    xv[2 * 5 * 2 - 3] = 0;
    xv[2 * 5 * 2 - 4] = 0;
    Tensor x = f(new long[] {2, 5, 2}, xv);
    Map<String, float[]> results = new LinkedHashMap<>();
    for (String steps : List.of("5", "null")) {
      String layers =
          """
          {"class_name": "Masking", "config": {"name": "m", "mask_value": 0.0,
           "batch_input_shape": [null, %s, 2]}},
          {"class_name": "LSTM", "config": {"name": "l", "units": 3, "return_sequences": %s}}
          """;
      for (boolean seq : new boolean[] {true, false}) {
        KerasGraph kg = build(layers.formatted(steps, seq), w);
        results.put(steps + seq, run(kg, Map.of("m_input", x)).get("l").toFloatArray());
      }
    }
    assertThat(results.get("5true")).hasSize(2 * 5 * 3);
    for (int i = 0; i < 30; i++) {
      assertThat(results.get("nulltrue")[i]).isCloseTo(results.get("5true")[i], within(1e-6f));
    }
    for (int i = 0; i < 6; i++) {
      assertThat(results.get("nullfalse")[i]).isCloseTo(results.get("5false")[i], within(1e-6f));
    }
    // masked steps repeat the last kept output: sample 1, steps 3 and 4 equal step 2
    for (int j = 0; j < 3; j++) {
      float kept = results.get("5true")[15 + 2 * 3 + j];
      assertThat(results.get("5true")[15 + 3 * 3 + j]).isEqualTo(kept);
      assertThat(results.get("5true")[15 + 4 * 3 + j]).isEqualTo(kept);
      assertThat(results.get("5false")[3 + j]).isEqualTo(kept);
    }
  }
}
