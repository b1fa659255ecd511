package org.tfport.convert.keras;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Json;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.formats.keras.KerasLayerWeights;
import org.tfport.graph.keras.KerasGraphs;
import org.tfport.testkit.OracleTest;

/**
 * {@code TFOpLambda} layers (tf.* calls in a Keras 2 functional model) with the arguments Keras
 * saved beside the call (axis=, keepdims=, perm=, a second tensor y= or b=, a constant first
 * operand), against values computed here as the tf.* functions define them, in tfport's runtime,
 * TensorFlow 2.18, TF.js 4.22 (graph model) and TFLite 2.18.
 */
class TfOpLambdaTest {
  private static String op(String name, String fn, String node) {
    return """
        {"class_name": "TFOpLambda", "name": "%s", "config": {"name": "%s", "trainable": true,
         "dtype": "float32", "function": "%s"}, "inbound_nodes": [%s]}
        """
        .formatted(name, name, fn, node);
  }

  private static String model(List<String> layers, String outputs) {
    return """
        {"class_name": "Functional", "config": {"name": "m", "layers": [
         {"class_name": "InputLayer", "name": "x", "config": {"name": "x",
          "batch_input_shape": [null, 3, 4], "dtype": "float32"}, "inbound_nodes": []}, %s],
         "input_layers": [["x", 0, 0]], "output_layers": [%s]}}
        """
        .formatted(String.join(",", layers), outputs);
  }

  static final String MODEL =
      model(
          List.of(
              op("mean", "math.reduce_mean", "[\"x\", 0, 0, {\"axis\": 1, \"keepdims\": true}]"),
              op(
                  "sub",
                  "math.subtract",
                  "[\"x\", 0, 0, {\"y\": [\"mean\", 0, 0], \"name\": null}]"),
              op("tr", "transpose", "[\"sub\", 0, 0, {\"perm\": [0, 2, 1]}]"),
              op("flat", "reshape", "[\"tr\", 0, 0, {\"shape\": [-1, 12]}]"),
              op("mx", "math.reduce_max", "[\"x\", 0, 0, {\"axis\": [1, 2]}]"),
              op("ex", "expand_dims", "[\"mx\", 0, 0, {\"axis\": -1}]"),
              op(
                  "twice",
                  "math.multiply",
                  "[\"_CONSTANT_VALUE\", -1, 2.0, {\"y\": [\"ex\", 0, 0], \"name\": null}]"),
              op("sum", "math.reduce_sum", "[\"x\", 0, 0, {\"axis\": -1}]"),
              op(
                  "cat",
                  "concat",
                  "[[\"sum\", 0, 0, {\"axis\": 1}], [\"twice\", 0, 0, {\"axis\": 1}]]"),
              op("sm", "nn.softmax", "[\"x\", 0, 0, {\"axis\": 1}]"),
              op(
                  "mm",
                  "linalg.matmul",
                  "[\"sm\", 0, 0, {\"b\": [\"x\", 0, 0], \"transpose_b\": true}]"),
              op("plus", "__operators__.add", "[\"mm\", 0, 0, {\"y\": [0.5, -1.0, 2.0]}]"),
              op("lrelu", "nn.leaky_relu", "[\"x\", 0, 0, {\"alpha\": 0.1}]"),
              op("mn", "math.reduce_min", "[\"lrelu\", 0, 0, {\"axis\": 2}]"),
              op(
                  "clip",
                  "clip_by_value",
                  "[\"x\", 0, 0, {\"clip_value_min\": -0.5, \"clip_value_max\": 0.5}]"),
              op("cm", "math.reduce_mean", "[\"clip\", 0, 0, {\"axis\": 2, \"keepdims\": true}]"),
              op("sq", "squeeze", "[\"cm\", 0, 0, {\"axis\": -1}]"),
              TfOpLambdaTest.DENSE,
              op("dt", "math.tanh", "[\"d\", 0, 0, {\"name\": null}]")),
          "[\"flat\", 0, 0], [\"cat\", 0, 0], [\"plus\", 0, 0], [\"mn\", 0, 0], [\"sq\", 0, 0],"
              + " [\"dt\", 0, 0]");

  /** A Dense(2) on x, whose output a tf.math.tanh reads (the .h5 holds its weights). */
  static final String DENSE =
      """
      {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 2,
       "activation": "linear", "use_bias": true}, "inbound_nodes": [[["x", 0, 0, {}]]]}
      """;

  static final float[] KERNEL = {0.5f, -1f, 0.25f, 2f, -0.75f, 0.1f, 1f, 0.3f};
  static final float[] BIAS = {0.2f, -0.4f};

  private static final int N = 2;

  private static float[] input() {
    float[] x = new float[N * 12];
    java.util.SplittableRandom r = new java.util.SplittableRandom(12);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return x;
  }

  private static float at(float[] x, int n, int i, int j) {
    return x[n * 12 + i * 4 + j];
  }

  @Test
  @OracleTest
  void keywordArgumentsAreHonouredInEveryTarget(@TempDir Path tmp) {
    float[] x = input();
    Path h5 =
        GraphTargets.writeH5(
            tmp,
            "tfop",
            MODEL,
            List.of(
                new KerasLayerWeights(
                    "d",
                    List.of(
                        GraphTargets.weight("d/kernel", new long[] {4, 2}, KERNEL),
                        GraphTargets.weight("d/bias", new long[] {2}, BIAS)))));
    GraphTargets.Outputs o =
        GraphTargets.run(tmp, h5, GraphTargets.feed("x", new long[] {N, 3, 4}, x));
    List<float[]> expected = new ArrayList<>();
    float[] flat = new float[N * 12];
    float[] cat = new float[N * 4];
    float[] plus = new float[N * 9];
    float[] mn = new float[N * 3];
    float[] sq = new float[N * 3];
    float[] add = {0.5f, -1f, 2f};
    for (int n = 0; n < N; n++) {
      float max = Float.NEGATIVE_INFINITY;
      for (int j = 0; j < 4; j++) {
        float mean = (at(x, n, 0, j) + at(x, n, 1, j) + at(x, n, 2, j)) / 3;
        for (int i = 0; i < 3; i++) {
          flat[n * 12 + j * 3 + i] = at(x, n, i, j) - mean; // transposed [4, 3], then flattened
          max = Math.max(max, at(x, n, i, j));
        }
      }
      for (int i = 0; i < 3; i++) {
        float s = 0;
        float min = Float.POSITIVE_INFINITY;
        float clipped = 0;
        for (int j = 0; j < 4; j++) {
          float v = at(x, n, i, j);
          s += v;
          min = Math.min(min, v > 0 ? v : 0.1f * v);
          clipped += Math.max(-0.5f, Math.min(0.5f, v));
        }
        cat[n * 4 + i] = s;
        mn[n * 3 + i] = min;
        sq[n * 3 + i] = clipped / 4;
      }
      cat[n * 4 + 3] = 2 * max;
      // softmax over axis 1 (the 3 rows), then sm · xᵀ
      float[][] sm = new float[3][4];
      for (int j = 0; j < 4; j++) {
        double z = 0;
        for (int i = 0; i < 3; i++) {
          z += Math.exp(at(x, n, i, j));
        }
        for (int i = 0; i < 3; i++) {
          sm[i][j] = (float) (Math.exp(at(x, n, i, j)) / z);
        }
      }
      for (int i = 0; i < 3; i++) {
        for (int k = 0; k < 3; k++) {
          float d = 0;
          for (int j = 0; j < 4; j++) {
            d += sm[i][j] * at(x, n, k, j);
          }
          plus[n * 9 + i * 3 + k] = d + add[k];
        }
      }
    }
    float[] dt = new float[N * 3 * 2];
    for (int r = 0; r < N * 3; r++) {
      for (int u = 0; u < 2; u++) {
        float v = BIAS[u];
        for (int j = 0; j < 4; j++) {
          v += x[r * 4 + j] * KERNEL[j * 2 + u];
        }
        dt[r * 2 + u] = (float) Math.tanh(v);
      }
    }
    expected.add(flat);
    expected.add(cat);
    expected.add(plus);
    expected.add(mn);
    expected.add(sq);
    expected.add(dt);
    double worst = 0;
    for (int i = 0; i < expected.size(); i++) {
      worst = Math.max(worst, GraphTargets.check(o, i, expected.get(i), "TFOpLambda model"));
    }
    System.out.printf("TFOpLambda: 6 outputs x 4 targets match, worst |a-b| = %.3g%n", worst);
  }

  @Test
  void anArgumentTfportDoesNotReadIsRefusedByName() {
    String cfg =
        model(
            List.of(
                op("mean", "math.reduce_mean", "[\"x\", 0, 0, {\"axis\": 1, \"where\": true}]")),
            "[\"mean\", 0, 0]");
    assertThatThrownBy(() -> KerasGraphs.fromConfig("m.h5", Json.MAPPER.readTree(cfg), Map.of(), 2))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessage(
            "m.h5: layer 'mean' (TFOpLambda) passes tf.math.reduce_mean the argument 'where',"
                + " which tfport does not read for it");
  }

  @Test
  void anUnknownFunctionIsRefusedBeforeBuilding() {
    String cfg = model(List.of(op("rf", "io.read_file", "[\"x\", 0, 0, {}]")), "[\"rf\", 0, 0]");
    assertThatThrownBy(
            () ->
                KerasGraphs.fromConfig(
                    "m.h5", Json.MAPPER.readTree(cfg), Map.<String, Tensor>of(), 2))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("TFOpLambda with function tf.io.read_file (layer 'm/rf')");
  }

  @Test
  void keepdimsDefaultsToFalseAndAxisNoneReducesEverything() {
    String cfg =
        model(
            List.of(
                op("a", "math.reduce_sum", "[\"x\", 0, 0, {\"axis\": 1}]"),
                op("b", "math.reduce_sum", "[\"x\", 0, 0, {\"keepdims\": true}]")),
            "[\"a\", 0, 0], [\"b\", 0, 0]");
    var kg = KerasGraphs.fromConfig("m.h5", Json.MAPPER.readTree(cfg), Map.of(), 2);
    float[] x = input();
    Map<String, Tensor> out;
    try (var m =
            org.tfport.runtime.Model.fromGraph(
                kg.graph(),
                List.of(
                    new org.tfport.runtime.Signature(
                        org.tfport.runtime.Signature.DEFAULT_KEY,
                        List.of(new org.tfport.runtime.TensorSpec("x", "x:0", null, null)),
                        List.of(
                            new org.tfport.runtime.TensorSpec(
                                "a", kg.graph().outputs().get(0), null, null),
                            new org.tfport.runtime.TensorSpec(
                                "b", kg.graph().outputs().get(1), null, null)))));
        var s = m.newSession()) {
      out = s.run(GraphTargets.feed("x", new long[] {N, 3, 4}, x));
    }
    assertThat(out.get("a").shape().dims()).containsExactly(N, 4);
    assertThat(out.get("b").shape().dims()).containsExactly(1, 1, 1);
    float total = 0;
    for (float v : x) {
      total += v;
    }
    assertThat(out.get("b").toFloatArray()[0])
        .isCloseTo(total, org.assertj.core.data.Offset.offset(1e-5f));
    assertThat(out.get("a").toFloatArray()[1])
        .isCloseTo(
            at(x, 0, 0, 1) + at(x, 0, 1, 1) + at(x, 0, 2, 1),
            org.assertj.core.data.Offset.offset(1e-6f));
  }
}
