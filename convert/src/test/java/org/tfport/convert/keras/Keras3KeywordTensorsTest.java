package org.tfport.convert.keras;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Json;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.graph.keras.KerasGraphs;
import org.tfport.testkit.OracleTest;

/**
 * Keras 3 functional models whose layers get tensors by keyword ({@code mha(query=q, value=v)},
 * {@code Attention()(inputs=[q, v])}, {@code lstm(x, mask=m)}) or by position beyond the first
 * ({@code mha(q, v, key=q)}), written here as the .keras archive Keras 3 saves (config.json with
 * {@code args}/{@code kwargs} nodes, weights at {@code layers/<class>/vars/<i>}), against values
 * computed here from Keras' definitions, in tfport's runtime, TensorFlow 2.18, TF.js 4.22 (graph
 * model) and TFLite 2.18.
 */
class Keras3KeywordTensorsTest {
  /** A Keras 3 serialized tensor: the output {@code index} of layer {@code layer}'s first call. */
  private static String t(String layer, int index) {
    return """
        {"class_name": "__keras_tensor__", "config": {"shape": null, "dtype": "float32",
         "keras_history": ["%s", 0, %d]}}"""
        .formatted(layer, index);
  }

  private static String t(String layer) {
    return t(layer, 0);
  }

  private static String input(String name, String shape) {
    return """
        {"module": "keras.layers", "class_name": "InputLayer", "registered_name": null,
         "name": "%s", "config": {"batch_shape": %s, "dtype": "float32", "sparse": false,
         "name": "%s"}, "inbound_nodes": []}"""
        .formatted(name, shape, name);
  }

  private static String layer(String cls, String name, String cfg, String args, String kwargs) {
    return """
        {"module": "keras.layers", "class_name": "%s", "registered_name": null, "name": "%s",
         "config": {"name": "%s", "trainable": true, "dtype": {"module": "keras",
          "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null}%s},
         "build_config": {"input_shape": null},
         "inbound_nodes": [{"args": [%s], "kwargs": {%s}}]}"""
        .formatted(cls, name, name, cfg, args, kwargs);
  }

  private static String model(List<String> layers, String inputs, String outputs) {
    return """
        {"module": "keras", "class_name": "Functional", "registered_name": "Functional",
         "config": {"name": "m", "trainable": true, "layers": [%s],
          "input_layers": [%s], "output_layers": [%s]}}"""
        .formatted(String.join(",", layers), inputs, outputs);
  }

  /** The layers of {@link AttentionLayersTest}'s model, called as Keras 3 lets a user call them. */
  static final String ATTENTION =
      model(
          List.of(
              input("q", "[null, 4, 3]"),
              input("v", "[null, 5, 3]"),
              layer(
                  "Attention",
                  "dot",
                  ", \"use_scale\": true, \"score_mode\": \"dot\", \"dropout\": 0.3",
                  "",
                  "\"inputs\": ["
                      + t("q")
                      + ", "
                      + t("v")
                      + "], \"return_attention_scores\": true"),
              layer(
                  "Attention",
                  "cat",
                  ", \"use_scale\": true, \"score_mode\": \"concat\", \"dropout\": 0.5",
                  "[" + t("q") + ", " + t("v") + ", " + t("v") + "]",
                  "\"use_causal_mask\": true"),
              layer(
                  "AdditiveAttention",
                  "add",
                  ", \"use_scale\": true, \"dropout\": 0.0",
                  "[" + t("q") + ", " + t("v") + "]",
                  "\"use_causal_mask\": true, \"training\": false"),
              layer(
                  "MultiHeadAttention",
                  "mha",
                  ", \"num_heads\": 2, \"key_dim\": 2, \"value_dim\": 3, \"dropout\": 0.1,"
                      + " \"use_bias\": true, \"output_shape\": 4, \"attention_axes\": null",
                  "",
                  "\"query\": "
                      + t("q")
                      + ", \"value\": "
                      + t("v")
                      + ", \"use_causal_mask\": true, \"return_attention_scores\": true"),
              layer(
                  "MultiHeadAttention",
                  "self",
                  ", \"num_heads\": 1, \"key_dim\": 3, \"use_bias\": false",
                  t("q") + ", " + t("q"),
                  "\"key\": " + t("q"))),
          "[\"q\", 0, 0], [\"v\", 0, 0]",
          "[\"dot\", 0, 0], [\"dot\", 0, 1], [\"cat\", 0, 0], [\"add\", 0, 0], [\"mha\", 0, 0],"
              + " [\"mha\", 0, 1], [\"self\", 0, 0]");

  /** Keras 3's group for each of {@link AttentionLayersTest}'s weights in model.weights.h5. */
  private static String keras3Path(String kerasName) {
    String[] p = kerasName.split("/");
    String layer =
        switch (p[0]) {
          case "dot" -> "attention";
          case "cat" -> "attention_1";
          case "add" -> "additive_attention";
          case "mha" -> "multi_head_attention";
          case "self" -> "multi_head_attention_1";
          default -> throw new IllegalArgumentException(kerasName);
        };
    if (p.length == 2) {
      int i = p[1].equals("concat_score_weight") ? 1 : 0;
      return "layers/" + layer + "/vars/" + i;
    }
    String dense = p[1].equals("attention_output") ? "output_dense" : p[1] + "_dense";
    return "layers/" + layer + "/" + dense + "/vars/" + (p[2].equals("kernel") ? 0 : 1);
  }

  /** A .keras archive: config.json as given, weights at their Keras 3 paths. */
  static Path writeKeras(Path dir, String name, String config, Map<String, Tensor> byPath)
      throws IOException {
    Path h5 = dir.resolve(name + ".weights.h5");
    try (WritableHdfFile file = HdfFile.write(h5)) {
      for (Map.Entry<String, Tensor> e : byPath.entrySet()) {
        String[] parts = e.getKey().split("/");
        WritableGroup parent = file;
        for (int i = 0; i < parts.length - 1; i++) {
          parent =
              parent.getChild(parts[i]) instanceof WritableGroup g ? g : parent.putGroup(parts[i]);
        }
        parent.putDataset(parts[parts.length - 1], nested(e.getValue()));
      }
    }
    Path keras = dir.resolve(name + ".keras");
    try (OutputStream os = Files.newOutputStream(keras);
        ZipOutputStream zip = new ZipOutputStream(os)) {
      zip.putNextEntry(new ZipEntry("metadata.json"));
      zip.write(
          "{\"keras_version\": \"3.6.0\", \"date_saved\": \"2024-10-01@12:00:00\"}".getBytes());
      zip.closeEntry();
      zip.putNextEntry(new ZipEntry("config.json"));
      zip.write(config.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      zip.closeEntry();
      zip.putNextEntry(new ZipEntry("model.weights.h5"));
      Files.copy(h5, zip);
      zip.closeEntry();
    }
    return keras;
  }

  /** jhdf takes a dataset's shape from a nested Java array; a scalar is stored as one value. */
  private static Object nested(Tensor t) {
    float[] flat = t.toFloatArray();
    long[] dims = t.shape().dims();
    return switch (dims.length) {
      case 0 -> new float[] {flat[0]};
      case 1 -> flat;
      case 2 -> {
        float[][] a = new float[(int) dims[0]][(int) dims[1]];
        for (int i = 0; i < a.length; i++) {
          System.arraycopy(flat, i * a[0].length, a[i], 0, a[0].length);
        }
        yield a;
      }
      case 3 -> {
        float[][][] a = new float[(int) dims[0]][(int) dims[1]][(int) dims[2]];
        int k = 0;
        for (float[][] m : a) {
          for (float[] row : m) {
            System.arraycopy(flat, k, row, 0, row.length);
            k += row.length;
          }
        }
        yield a;
      }
      default -> throw new IllegalArgumentException("rank " + dims.length);
    };
  }

  @Test
  @OracleTest
  void attentionTensorsPassedByKeywordAreWiredInEveryTarget(@TempDir Path tmp) throws IOException {
    Map<String, Tensor> byPath = new LinkedHashMap<>();
    AttentionLayersTest.W.forEach(
        (k, v) ->
            byPath.put(
                keras3Path(k), Tensor.ofFloats(Shape.of(AttentionLayersTest.SHAPES.get(k)), v)));
    Path keras = writeKeras(tmp, "att3", ATTENTION, byPath);
    int b = AttentionLayersTest.B;
    float[] q = AttentionLayersTest.seq(b * AttentionLayersTest.TQ * AttentionLayersTest.D, 21);
    float[] v = AttentionLayersTest.seq(b * AttentionLayersTest.TV * AttentionLayersTest.D, 22);
    Map<String, Tensor> feed =
        GraphTargets.feed("q", new long[] {b, AttentionLayersTest.TQ, AttentionLayersTest.D}, q);
    feed.put("v", Tensor.ofFloats(Shape.of(b, AttentionLayersTest.TV, AttentionLayersTest.D), v));
    GraphTargets.Outputs o = GraphTargets.run(tmp, keras, feed);
    List<float[]> expected = AttentionLayersTest.reference(q, v);
    String[] names = {
      "Attention(inputs=[q, v])",
      "its scores",
      "Attention([q, v, v]) causal",
      "AdditiveAttention causal",
      "MultiHeadAttention(query=q, value=v) causal",
      "its scores",
      "MultiHeadAttention(q, q, key=q)"
    };
    double worst = 0;
    for (int i = 0; i < expected.size(); i++) {
      worst = Math.max(worst, GraphTargets.check(o, i, expected.get(i), names[i]));
    }
    System.out.printf(
        "Keras 3 keyword tensors, attention: 7 outputs x 4 targets match, worst |a-b| = %.3g%n",
        worst);
  }

  // ------------------------------------------------------------------ LSTM with mask=

  private static final int N = 2;
  private static final int T = 5;
  private static final int F = 3;
  private static final int U = 2;

  static final String LSTM =
      model(
          List.of(
              input("x", "[null, 5, 3]"),
              input("m", "[null, 5]"),
              layer(
                  "LSTM",
                  "lstm",
                  ", \"units\": 2, \"activation\": \"tanh\", \"recurrent_activation\": \"sigmoid\","
                      + " \"use_bias\": true, \"return_sequences\": false, \"return_state\": false,"
                      + " \"go_backwards\": false, \"stateful\": false, \"unroll\": false",
                  t("x"),
                  "\"mask\": " + t("m") + ", \"training\": false")),
          "[\"x\", 0, 0], [\"m\", 0, 0]",
          "[\"lstm\", 0, 0]");

  private static double sigmoid(double z) {
    return 1 / (1 + Math.exp(-z));
  }

  /** Keras' LSTM (gates i, f, c, o) over [N, T, F]; a step whose mask is 0 keeps h and c. */
  private static float[] lstm(float[] x, float[] mask, float[] k, float[] r, float[] bias) {
    return lstm(x, mask, k, r, bias, new float[N * U], new float[N * U]);
  }

  /** As above, from the states h0 and c0 [N, U]. */
  private static float[] lstm(
      float[] x, float[] mask, float[] k, float[] r, float[] bias, float[] h0, float[] c0) {
    float[] out = new float[N * U];
    for (int n = 0; n < N; n++) {
      double[] h = new double[U];
      double[] c = new double[U];
      for (int u = 0; u < U; u++) {
        h[u] = h0[n * U + u];
        c[u] = c0[n * U + u];
      }
      for (int s = 0; s < T; s++) {
        if (mask[n * T + s] == 0) {
          continue;
        }
        double[] z = new double[4 * U];
        for (int j = 0; j < 4 * U; j++) {
          z[j] = bias[j];
          for (int f = 0; f < F; f++) {
            z[j] += x[(n * T + s) * F + f] * k[f * 4 * U + j];
          }
          for (int u = 0; u < U; u++) {
            z[j] += h[u] * r[u * 4 * U + j];
          }
        }
        for (int u = 0; u < U; u++) {
          double i = sigmoid(z[u]);
          double fg = sigmoid(z[U + u]);
          double cc = Math.tanh(z[2 * U + u]);
          double o = sigmoid(z[3 * U + u]);
          c[u] = fg * c[u] + i * cc;
          h[u] = o * Math.tanh(c[u]);
        }
      }
      for (int u = 0; u < U; u++) {
        out[n * U + u] = (float) h[u];
      }
    }
    return out;
  }

  @Test
  @OracleTest
  void aMaskPassedByKeywordMasksTheRecurrentLayerInEveryTarget(@TempDir Path tmp)
      throws IOException {
    float[] k = AttentionLayersTest.seq(F * 4 * U, 31);
    float[] r = AttentionLayersTest.seq(U * 4 * U, 32);
    float[] bias = AttentionLayersTest.seq(4 * U, 33);
    Map<String, Tensor> byPath = new LinkedHashMap<>();
    byPath.put("layers/lstm/cell/vars/0", Tensor.ofFloats(Shape.of(F, 4 * U), k));
    byPath.put("layers/lstm/cell/vars/1", Tensor.ofFloats(Shape.of(U, 4 * U), r));
    byPath.put("layers/lstm/cell/vars/2", Tensor.ofFloats(Shape.of(4 * U), bias));
    Path keras = writeKeras(tmp, "lstm3", LSTM, byPath);
    float[] x = AttentionLayersTest.seq(N * T * F, 34);
    // Row 0 skips steps 2 and 4; row 1 keeps only the first and last.
    float[] mask = {1, 1, 0, 1, 0, 1, 0, 0, 0, 1};
    Map<String, Tensor> feed = GraphTargets.feed("x", new long[] {N, T, F}, x);
    feed.put("m", Tensor.ofFloats(Shape.of(N, T), mask));
    GraphTargets.Outputs o = GraphTargets.run(tmp, keras, feed);
    float[] expected = lstm(x, mask, k, r, bias);
    float[] ones = new float[N * T];
    java.util.Arrays.fill(ones, 1f);
    // The mask changes the result: a build that ignored it would not pass.
    assertThat(
            org.tfport.testkit.Comparison.of(lstm(x, ones, k, r, bias), expected, 1e-5, 1e-4)
                .maxAbs())
        .isGreaterThan(1e-2);
    double worst = GraphTargets.check(o, 0, expected, "LSTM(x, mask=m)");
    System.out.printf(
        "Keras 3 keyword tensors, LSTM mask=: 1 output x 4 targets match, worst |a-b| = %.3g%n",
        worst);
  }

  @Test
  void theLayersModelTargetRefusesAKeywordTensorAndPointsToTheGraphModel(@TempDir Path tmp)
      throws IOException {
    Map<String, Tensor> byPath = new LinkedHashMap<>();
    byPath.put(
        "layers/lstm/cell/vars/0", Tensor.ofFloats(Shape.of(F, 4 * U), new float[F * 4 * U]));
    byPath.put(
        "layers/lstm/cell/vars/1", Tensor.ofFloats(Shape.of(U, 4 * U), new float[U * 4 * U]));
    byPath.put("layers/lstm/cell/vars/2", Tensor.ofFloats(Shape.of(4 * U), new float[4 * U]));
    Path keras = writeKeras(tmp, "lstm3", LSTM, byPath);
    Path out = tmp.resolve("layers");
    // TF.js would hand the LSTM the name of the mask, not the mask, and run it unmasked.
    assertThatThrownBy(
            () ->
                org.tfport.convert.Converter.from(keras, org.tfport.formats.ModelFormat.KERAS_KERAS)
                    .to(org.tfport.formats.ModelFormat.TFJS_LAYERS_MODEL)
                    .convert(out))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("LSTM called with a tensor as mask= (layer 'm/lstm')")
        .hasMessageContaining("ModelFormat.TFJS_GRAPH_MODEL");
    assertThat(out).doesNotExist();
  }

  /** {@code lstm(x, mask=m, initial_state=[h, c])}, as Keras 3 saves it. */
  static final String LSTM_STATES =
      model(
          List.of(
              input("x", "[null, 5, 3]"),
              input("m", "[null, 5]"),
              input("h", "[null, 2]"),
              input("c", "[null, 2]"),
              layer(
                  "LSTM",
                  "lstm",
                  ", \"units\": 2, \"activation\": \"tanh\", \"recurrent_activation\": \"sigmoid\","
                      + " \"use_bias\": true, \"return_sequences\": false",
                  t("x"),
                  "\"mask\": " + t("m") + ", \"initial_state\": [" + t("h") + ", " + t("c") + "]")),
          "[\"x\", 0, 0], [\"m\", 0, 0], [\"h\", 0, 0], [\"c\", 0, 0]",
          "[\"lstm\", 0, 0]");

  private static String keras2Lstm(String cls, String cfg, String node) {
    return """
        {"class_name": "Functional", "config": {"name": "m", "layers": [
         {"class_name": "InputLayer", "name": "x", "config": {"name": "x",
          "batch_input_shape": [null, 5, 3], "dtype": "float32"}, "inbound_nodes": []},
         {"class_name": "InputLayer", "name": "h", "config": {"name": "h",
          "batch_input_shape": [null, 2], "dtype": "float32"}, "inbound_nodes": []},
         {"class_name": "InputLayer", "name": "c", "config": {"name": "c",
          "batch_input_shape": [null, 2], "dtype": "float32"}, "inbound_nodes": []},
         {"class_name": "%s", "name": "lstm", "config": {"name": "lstm", %s},
          "inbound_nodes": [%s]}],
         "input_layers": [["x", 0, 0], ["h", 0, 0], ["c", 0, 0]],
         "output_layers": [["lstm", 0, 0]]}}
        """
        .formatted(cls, cfg, node);
  }

  private static final String LSTM_CFG =
      "\"units\": 2, \"activation\": \"tanh\", \"recurrent_activation\": \"sigmoid\","
          + " \"use_bias\": true";

  @Test
  @OracleTest
  void initialStatesByKeywordOrAsFurtherInputsStartTheLstmInEveryTarget(@TempDir Path tmp)
      throws IOException {
    float[] k = AttentionLayersTest.seq(F * 4 * U, 51);
    float[] r = AttentionLayersTest.seq(U * 4 * U, 52);
    float[] bias = AttentionLayersTest.seq(4 * U, 53);
    float[] x = AttentionLayersTest.seq(N * T * F, 54);
    float[] h0 = AttentionLayersTest.seq(N * U, 55);
    float[] c0 = AttentionLayersTest.seq(N * U, 56);
    float[] mask = {1, 0, 1, 1, 0, 0, 1, 1, 0, 1};
    float[] ones = new float[N * T];
    java.util.Arrays.fill(ones, 1f);
    // The states change the result: a build that started from zeros would not pass.
    assertThat(
            org.tfport.testkit.Comparison.of(
                    lstm(x, ones, k, r, bias), lstm(x, ones, k, r, bias, h0, c0), 1e-5, 1e-4)
                .maxAbs())
        .isGreaterThan(1e-3);
    // Keras 3: lstm(x, mask=m, initial_state=[h, c]) in a .keras file.
    Map<String, Tensor> byPath = new LinkedHashMap<>();
    byPath.put("layers/lstm/cell/vars/0", Tensor.ofFloats(Shape.of(F, 4 * U), k));
    byPath.put("layers/lstm/cell/vars/1", Tensor.ofFloats(Shape.of(U, 4 * U), r));
    byPath.put("layers/lstm/cell/vars/2", Tensor.ofFloats(Shape.of(4 * U), bias));
    Path keras = writeKeras(tmp, "lstm_states", LSTM_STATES, byPath);
    Map<String, Tensor> feed = GraphTargets.feed("x", new long[] {N, T, F}, x);
    feed.put("m", Tensor.ofFloats(Shape.of(N, T), mask));
    feed.put("h", Tensor.ofFloats(Shape.of(N, U), h0));
    feed.put("c", Tensor.ofFloats(Shape.of(N, U), c0));
    double worst =
        GraphTargets.check(
            GraphTargets.run(tmp, keras, feed),
            0,
            lstm(x, mask, k, r, bias, h0, c0),
            "LSTM(x, mask=m, initial_state=[h, c])");
    // Keras 2: the same call saved as a call on [x, h, c], in an .h5 file.
    Path h5 =
        GraphTargets.writeH5(
            tmp,
            "lstm_states2",
            keras2Lstm(
                "LSTM", LSTM_CFG, "[[\"x\", 0, 0, {}], [\"h\", 0, 0, {}], [\"c\", 0, 0, {}]]"),
            List.of(
                new org.tfport.formats.keras.KerasLayerWeights(
                    "lstm",
                    List.of(
                        GraphTargets.weight("lstm/kernel", new long[] {F, 4 * U}, k),
                        GraphTargets.weight("lstm/recurrent_kernel", new long[] {U, 4 * U}, r),
                        GraphTargets.weight("lstm/bias", new long[] {4 * U}, bias)))));
    Map<String, Tensor> feed2 = GraphTargets.feed("x", new long[] {N, T, F}, x);
    feed2.put("h", Tensor.ofFloats(Shape.of(N, U), h0));
    feed2.put("c", Tensor.ofFloats(Shape.of(N, U), c0));
    worst =
        Math.max(
            worst,
            GraphTargets.check(
                GraphTargets.run(tmp, h5, feed2),
                0,
                lstm(x, ones, k, r, bias, h0, c0),
                "Keras 2 LSTM called on [x, h, c]"));
    // The same over a time length known only at run time: the While loop starts from h and c.
    Path loop =
        GraphTargets.writeH5(
            tmp,
            "lstm_states_loop",
            keras2Lstm(
                    "LSTM", LSTM_CFG, "[[\"x\", 0, 0, {}], [\"h\", 0, 0, {}], [\"c\", 0, 0, {}]]")
                .replace("[null, 5, 3]", "[null, null, 3]"),
            List.of(
                new org.tfport.formats.keras.KerasLayerWeights(
                    "lstm",
                    List.of(
                        GraphTargets.weight("lstm/kernel", new long[] {F, 4 * U}, k),
                        GraphTargets.weight("lstm/recurrent_kernel", new long[] {U, 4 * U}, r),
                        GraphTargets.weight("lstm/bias", new long[] {4 * U}, bias)))));
    worst =
        Math.max(
            worst,
            GraphTargets.check(
                GraphTargets.run(tmp, loop, feed2),
                0,
                lstm(x, ones, k, r, bias, h0, c0),
                "Keras 2 LSTM over unknown length called on [x, h, c]"));
    System.out.printf(
        "Keras initial states: 3 models x 4 targets match, worst |a-b| = %.3g%n", worst);
  }

  @Test
  void initialStatesOfABidirectionalLayerAreRefusedByName() {
    String bidi =
        keras2Lstm(
            "Bidirectional",
            "\"layer\": {\"class_name\": \"LSTM\", \"config\": {\"name\": \"l\", \"units\": 1}}",
            "[[\"x\", 0, 0, {\"initial_state\": [[\"h\", 0, 0], [\"c\", 0, 0]]}]]");
    assertThatThrownBy(
            () -> KerasGraphs.fromConfig("m.keras", Json.MAPPER.readTree(bidi), Map.of(), 3))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessage(
            "m.keras: cannot build the TensorFlow graph of layer class Bidirectional called with a"
                + " tensor as initial_state= (not built) (layer 'm/lstm'); replace it with built-in"
                + " layers");
  }
}
