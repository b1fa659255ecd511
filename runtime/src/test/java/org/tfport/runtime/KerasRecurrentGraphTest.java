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
      assertThat(out.get("r").toFloatArray())
          .as("%s steps", steps)
          .containsExactly(1f, 2.5f, 2.5f, 4.25f);
    }
  }

  @Test
  void backwardsMaskedLoopRunsTheStepsInReverse() {
    // reversed x = [3, 0 (masked), 2, 1]: 3, 3 kept, 2 + 1.5 = 3.5, 1 + 1.75 = 2.75
    Tensor x = f(new long[] {1, 4, 1}, 1, 2, 0, 3);
    for (String steps : List.of("4", "null")) {
      Map<String, Tensor> out =
          run(build(maskedRnn(steps, true), rnnWeights()), Map.of("m_input", x));
      assertThat(out.get("r").toFloatArray())
          .as("%s steps", steps)
          .containsExactly(3f, 3f, 3.5f, 2.75f);
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

  @Test
  void convLstmOnOnePixelFramesIsAnLstm() {
    // A 1x1 kernel on 1x1 frames makes every convolution a matrix product: ConvLSTM2D over
    // [N, T, 1, 1, C] computes what an LSTM over [N, T, C] does with the same weights.
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(3);
    float[] k = new float[2 * 8];
    float[] u = new float[2 * 8];
    float[] b = new float[8];
    for (float[] a : List.of(k, u, b)) {
      for (int i = 0; i < a.length; i++) {
        a[i] = (float) (rnd.nextDouble() - 0.5);
      }
    }
    float[] xv = new float[3 * 4 * 2];
    for (int i = 0; i < xv.length; i++) {
      xv[i] = (float) (rnd.nextDouble() * 2 - 1);
    }
    Map<String, Tensor> lw = new LinkedHashMap<>();
    lw.put("l/kernel", f(new long[] {2, 8}, k));
    lw.put("l/recurrent_kernel", f(new long[] {2, 8}, u));
    lw.put("l/bias", f(new long[] {8}, b));
    KerasGraph lstm =
        build(
            """
            {"class_name": "LSTM", "config": {"name": "l", "units": 2, "return_sequences": true,
             "go_backwards": true, "batch_input_shape": [null, 4, 2]}}
            """,
            lw);
    Map<String, Tensor> cw = new LinkedHashMap<>();
    cw.put("c/kernel", f(new long[] {1, 1, 2, 8}, k));
    cw.put("c/recurrent_kernel", f(new long[] {1, 1, 2, 8}, u));
    cw.put("c/bias", f(new long[] {8}, b));
    for (String format : List.of("channels_last", "channels_first")) {
      KerasGraph conv =
          build(
              """
              {"class_name": "ConvLSTM2D", "config": {"name": "c", "filters": 2,
               "kernel_size": [1, 1], "padding": "same", "data_format": "%s",
               "return_sequences": true, "go_backwards": true,
               "batch_input_shape": [null, 4, %s]}}
              """
                  .formatted(format, format.equals("channels_last") ? "1, 1, 2" : "2, 1, 1"),
              cw);
      float[] expected =
          run(lstm, Map.of("l_input", f(new long[] {3, 4, 2}, xv))).get("l").toFloatArray();
      Tensor y =
          run(
                  conv,
                  Map.of(
                      "c_input",
                      f(
                          format.equals("channels_last")
                              ? new long[] {3, 4, 1, 1, 2}
                              : new long[] {3, 4, 2, 1, 1},
                          xv)))
              .get("c");
      assertThat(y.shape())
          .isEqualTo(
              format.equals("channels_last") ? Shape.of(3, 4, 1, 1, 2) : Shape.of(3, 4, 2, 1, 1));
      float[] got = y.toFloatArray();
      for (int i = 0; i < expected.length; i++) {
        assertThat(got[i]).as(format).isCloseTo(expected[i], within(1e-6f));
      }
    }
  }

  @Test
  void locallyConnectedLayersUseOneKernelPerPosition() {
    // 1D: x = [1, 2, 3], windows [1, 2] and [2, 3] with kernels [10, 1] and [100, 1000], bias
    // [0.5, -0.5]: 10 + 2 + 0.5 = 12.5, 200 + 3000 - 0.5 = 3199.5
    KerasGraph one =
        build(
            """
            {"class_name": "LocallyConnected1D", "config": {"name": "lc", "filters": 1,
             "kernel_size": [2], "strides": [1], "padding": "valid", "activation": "linear",
             "use_bias": true, "implementation": 1, "batch_input_shape": [null, 3, 1]}}
            """,
            Map.of(
                "lc/kernel", f(new long[] {2, 2, 1}, 10, 1, 100, 1000),
                "lc/bias", f(new long[] {2, 1}, 0.5f, -0.5f)));
    assertThat(
            run(one, Map.of("lc_input", f(new long[] {1, 3, 1}, 1, 2, 3))).get("lc").toFloatArray())
        .containsExactly(12.5f, 3199.5f);
    // 2D, one 2x2 window over two channels: Keras flattens a patch in the data's own order,
    // (row, col, channel) for channels_last and (channel, row, col) for channels_first, so
    // x = 1..8 meets the kernel [1, 10, 100, 1000, 0, 0, 0, 10000] as 1 + 20 + 300 + 4000 + 80000
    for (String format : List.of("channels_last", "channels_first")) {
      KerasGraph two =
          build(
              """
              {"class_name": "LocallyConnected2D", "config": {"name": "lc", "filters": 1,
               "kernel_size": [2, 2], "strides": [1, 1], "padding": "valid",
               "data_format": "%s", "activation": "linear", "use_bias": false,
               "implementation": 1, "batch_input_shape": [null, 2, 2, 2]}}
              """
                  .formatted(format),
              Map.of("lc/kernel", f(new long[] {1, 8, 1}, 1, 10, 100, 1000, 0, 0, 0, 10000)));
      Tensor y =
          run(two, Map.of("lc_input", f(new long[] {1, 2, 2, 2}, 1, 2, 3, 4, 5, 6, 7, 8)))
              .get("lc");
      assertThat(y.shape()).isEqualTo(Shape.of(1, 1, 1, 1));
      assertThat(y.toFloatArray()).as(format).containsExactly(84321f);
    }
  }

  @Test
  void tensorFlowOpLayersRunTheOpTheyCarry() {
    // transpose [0, 2, 1] then a Dense on the new last axis, as TF 2.x Keras saves x.T ops
    String cfg =
        """
        {"class_name": "Model", "config": {"name": "m", "layers": [
          {"class_name": "InputLayer", "name": "in", "inbound_nodes": [],
           "config": {"batch_input_shape": [null, 2, 3], "dtype": "float32", "name": "in"}},
          {"class_name": "TensorFlowOpLayer", "name": "tf_op_layer_t",
           "config": {"name": "t", "node_def": {"name": "t", "op": "Transpose",
             "input": ["in", "t/perm"], "attr": {"Tperm": {"type": "DT_INT32"},
             "T": {"type": "DT_FLOAT"}}}, "constants": {"1": [0, 2, 1]}},
           "inbound_nodes": [[["in", 0, 0, {}]]]},
          {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 1,
           "activation": "linear", "use_bias": false},
           "inbound_nodes": [[["tf_op_layer_t", 0, 0, {}]]]}],
          "input_layers": [["in", 0, 0]], "output_layers": [["d", 0, 0]]}}
        """;
    KerasGraph kg =
        KerasGraphs.fromConfig(
            "t.h5", Json.MAPPER.readTree(cfg), Map.of("d/kernel", f(new long[] {2, 1}, 1, 10)), 2);
    // x = [[1, 2, 3], [4, 5, 6]]; xᵀ rows [1, 4], [2, 5], [3, 6] · [1, 10] = 41, 52, 63
    Tensor y = run(kg, Map.of("in", f(new long[] {1, 2, 3}, 1, 2, 3, 4, 5, 6))).get("d");
    assertThat(y.shape()).isEqualTo(Shape.of(1, 3, 1));
    assertThat(y.toFloatArray()).containsExactly(41f, 52f, 63f);
  }
}
