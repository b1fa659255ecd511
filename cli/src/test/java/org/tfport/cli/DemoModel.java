package org.tfport.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.tfport.core.Json;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.formats.keras.KerasH5Writer;
import org.tfport.formats.keras.KerasLayerWeights;
import org.tfport.formats.keras.KerasWeight;
import tools.jackson.databind.JsonNode;

/**
 * A small Keras 2 model the tests write themselves: Dense(5, relu) then Dense(3, softmax) on 4
 * inputs, with seeded weights, and its forward pass computed here in double precision as the
 * reference.
 */
final class DemoModel {
  static final int IN = 4;
  static final int HIDDEN = 5;
  static final int OUT = 3;

  private DemoModel() {}

  static Path write(Path file, String secondLayerClass) {
    KerasH5Writer.write(
        file,
        "2.15.0",
        "tensorflow",
        config(secondLayerClass),
        null,
        List.of(
            new KerasLayerWeights(
                "dense", List.of(w("dense/kernel", IN, HIDDEN), w("dense/bias", HIDDEN))),
            new KerasLayerWeights(
                "dense_1", List.of(w("dense_1/kernel", HIDDEN, OUT), w("dense_1/bias", OUT)))));
    return file;
  }

  /** The same layers as a functional model with a second head, dense_2: Dense(2, linear). */
  static Path writeTwoOutputs(Path file) {
    JsonNode cfg =
        Json.MAPPER.readTree(
            """
            {"class_name": "Functional", "config": {"name": "two", "layers": [
              {"class_name": "InputLayer", "name": "input", "inbound_nodes": [], "config":
                {"batch_input_shape": [null, 4], "dtype": "float32", "sparse": false, "name": "input"}},
              {"class_name": "Dense", "name": "dense", "inbound_nodes": [[["input", 0, 0, {}]]],
                "config": {"name": "dense", "trainable": true, "dtype": "float32", "units": 5,
                "activation": "relu", "use_bias": true}},
              {"class_name": "Dense", "name": "dense_1", "inbound_nodes": [[["dense", 0, 0, {}]]],
                "config": {"name": "dense_1", "trainable": true, "dtype": "float32", "units": 3,
                "activation": "softmax", "use_bias": true}},
              {"class_name": "Dense", "name": "dense_2", "inbound_nodes": [[["dense", 0, 0, {}]]],
                "config": {"name": "dense_2", "trainable": true, "dtype": "float32", "units": 2,
                "activation": "linear", "use_bias": true}}],
              "input_layers": [["input", 0, 0]],
              "output_layers": [["dense_1", 0, 0], ["dense_2", 0, 0]]}}
            """);
    KerasH5Writer.write(
        file,
        "2.15.0",
        "tensorflow",
        cfg,
        null,
        List.of(
            new KerasLayerWeights(
                "dense", List.of(w("dense/kernel", IN, HIDDEN), w("dense/bias", HIDDEN))),
            new KerasLayerWeights(
                "dense_1", List.of(w("dense_1/kernel", HIDDEN, OUT), w("dense_1/bias", OUT))),
            new KerasLayerWeights(
                "dense_2", List.of(w("dense_2/kernel", HIDDEN, 2), w("dense_2/bias", 2)))));
    return file;
  }

  static float[] values(String name, int n) {
    SplittableRandom r = new SplittableRandom(name.hashCode());
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return v;
  }

  private static KerasWeight w(String name, int... dims) {
    long[] d = java.util.Arrays.stream(dims).asLongStream().toArray();
    int n = java.util.Arrays.stream(dims).reduce(1, (a, b) -> a * b);
    Tensor t = Tensor.ofFloats(Shape.of(d), values(name, n));
    return new KerasWeight(name, t.dtype(), t.shape(), () -> t);
  }

  /**
   * The model's output for a batch of inputs (row-major [batch, IN]), computed independently of
   * tfport.
   */
  static double[] predict(float[] x, int batch) {
    float[] k1 = values("dense/kernel", IN * HIDDEN);
    float[] b1 = values("dense/bias", HIDDEN);
    float[] k2 = values("dense_1/kernel", HIDDEN * OUT);
    float[] b2 = values("dense_1/bias", OUT);
    double[] out = new double[batch * OUT];
    for (int n = 0; n < batch; n++) {
      double[] h = new double[HIDDEN];
      for (int j = 0; j < HIDDEN; j++) {
        double s = b1[j];
        for (int i = 0; i < IN; i++) {
          s += x[n * IN + i] * k1[i * HIDDEN + j];
        }
        h[j] = Math.max(0, s);
      }
      double[] z = new double[OUT];
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < OUT; j++) {
        double s = b2[j];
        for (int i = 0; i < HIDDEN; i++) {
          s += h[i] * k2[i * OUT + j];
        }
        z[j] = s;
        max = Math.max(max, s);
      }
      double sum = 0;
      for (int j = 0; j < OUT; j++) {
        z[j] = Math.exp(z[j] - max);
        sum += z[j];
      }
      for (int j = 0; j < OUT; j++) {
        out[n * OUT + j] = z[j] / sum;
      }
    }
    return out;
  }

  static JsonNode config(String secondLayerClass) {
    return Json.MAPPER.readTree(
        """
        {"class_name": "Sequential", "config": {"name": "demo", "layers": [
          {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "dtype": "float32",
            "sparse": false, "name": "input"}},
          {"class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32",
            "units": 5, "activation": "relu", "use_bias": true,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
            "bias_initializer": {"class_name": "Zeros", "config": {}}}},
          {"class_name": "%s", "config": {"name": "dense_1", "trainable": true, "dtype": "float32",
            "units": 3, "activation": "softmax", "use_bias": true,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
            "bias_initializer": {"class_name": "Zeros", "config": {}}}}]}}
        """
            .formatted(secondLayerClass));
  }
}
