package org.tfport.convert.keras;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.graph.keras.KerasGraphs;
import org.tfport.testkit.OracleTest;

/**
 * {@code SlicingOpLambda} (Python indexing of a Keras tensor: slices, negative indices and steps,
 * {@code ...}, {@code tf.newaxis}) and {@code TFOpLambda} in a TF.js layers model.json, as
 * tensorflowjs_converter copies them from a Keras 2 file, against values indexed here as Python
 * does, in tfport's runtime, TensorFlow 2.18, TF.js 4.22 (graph model) and TFLite 2.18.
 */
class SlicingOpLambdaTest {
  private static final int N = 2;

  private static String getitem(String name, String from, String spec) {
    return """
        {"class_name": "SlicingOpLambda", "name": "%s", "config": {"name": "%s",
         "trainable": true, "dtype": "float32", "function": "__operators__.getitem"},
         "inbound_nodes": [["%s", 0, 0, {"slice_spec": %s}]]}"""
        .formatted(name, name, from, spec);
  }

  private static final String ALL = "{\"start\": null, \"stop\": null, \"step\": null}";

  static String model(List<String> layers, String outputs) {
    return """
        {"format": "layers-model", "generatedBy": "keras v2.11.0",
         "convertedBy": "TensorFlow.js Converter v4.22.0",
         "modelTopology": {"keras_version": "2.11.0", "backend": "tensorflow",
          "model_config": {"class_name": "Functional", "config": {"name": "m", "layers": [
           {"class_name": "InputLayer", "name": "x", "config": {"name": "x",
            "batch_input_shape": [null, 3, 4], "dtype": "float32"}, "inbound_nodes": []},
           {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 2,
            "activation": "linear", "use_bias": true}, "inbound_nodes": [[["x", 0, 0, {}]]]},
           {"class_name": "TFOpLambda", "name": "tf.math.tanh", "config": {"name": "tf.math.tanh",
            "trainable": true, "dtype": "float32", "function": "math.tanh"},
            "inbound_nodes": [["d", 0, 0, {"name": null}]]}, %s],
           "input_layers": [["x", 0, 0]], "output_layers": [%s]}}},
         "weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": [
          {"name": "d/kernel", "shape": [4, 2], "dtype": "float32"},
          {"name": "d/bias", "shape": [2], "dtype": "float32"}]}]}
        """
        .formatted(String.join(",", layers), outputs);
  }

  static final String MODEL =
      model(
          List.of(
              // x[:, 1:3]
              getitem(
                  "tf.__operators__.getitem",
                  "x",
                  "[" + ALL + ", {\"start\": 1, \"stop\": 3, \"step\": null}]"),
              // x[..., -1]
              getitem(
                  "tf.__operators__.getitem_1", "x", "[{\"class_name\": \"__ellipsis__\"}, -1]"),
              // x[:, tf.newaxis, ::-2]
              getitem(
                  "tf.__operators__.getitem_2",
                  "x",
                  "[" + ALL + ", null, {\"start\": null, \"stop\": null, \"step\": -2}]"),
              // x[:, -2:, 1::2]
              getitem(
                  "tf.__operators__.getitem_3",
                  "x",
                  "["
                      + ALL
                      + ", {\"start\": -2, \"stop\": null, \"step\": null},"
                      + " {\"start\": 1, \"stop\": null, \"step\": 2}]"),
              // tf.math.tanh(d(x))[:, :, 1]
              getitem(
                  "tf.__operators__.getitem_4", "tf.math.tanh", "[" + ALL + ", " + ALL + ", 1]"),
              // x[1:] (one slice, not a list): the batch from its second row
              getitem(
                  "tf.__operators__.getitem_5",
                  "x",
                  "{\"start\": 1, \"stop\": null, \"step\": null}")),
          "[\"tf.__operators__.getitem\", 0, 0], [\"tf.__operators__.getitem_1\", 0, 0],"
              + " [\"tf.__operators__.getitem_2\", 0, 0], [\"tf.__operators__.getitem_3\", 0, 0],"
              + " [\"tf.__operators__.getitem_4\", 0, 0], [\"tf.__operators__.getitem_5\", 0, 0]");

  static Path write(Path dir, String modelJson) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("model.json"), modelJson);
    ByteBuffer b = ByteBuffer.allocate(4 * 10).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : TfOpLambdaTest.KERNEL) {
      b.putFloat(v);
    }
    for (float v : TfOpLambdaTest.BIAS) {
      b.putFloat(v);
    }
    Files.write(dir.resolve("group1-shard1of1.bin"), b.array());
    return dir.resolve("model.json");
  }

  private static float at(float[] x, int n, int i, int j) {
    return x[n * 12 + i * 4 + j];
  }

  @Test
  @OracleTest
  void slicesAndOpLambdasOfALayersModelMatchPythonIndexingInEveryTarget(@TempDir Path tmp)
      throws IOException {
    Path mj = write(tmp.resolve("layers"), MODEL);
    float[] x = AttentionLayersTest.seq(N * 12, 41);
    GraphTargets.Outputs o =
        GraphTargets.run(tmp, mj, GraphTargets.feed("x", new long[] {N, 3, 4}, x));
    List<float[]> expected = new ArrayList<>();
    List<Float> s0 = new ArrayList<>();
    List<Float> s1 = new ArrayList<>();
    List<Float> s2 = new ArrayList<>();
    List<Float> s3 = new ArrayList<>();
    List<Float> s4 = new ArrayList<>();
    List<Float> s5 = new ArrayList<>();
    for (int n = 0; n < N; n++) {
      for (int i = 1; i < 3; i++) {
        for (int j = 0; j < 4; j++) {
          s0.add(at(x, n, i, j));
        }
      }
      for (int i = 0; i < 3; i++) {
        s1.add(at(x, n, i, 3));
      }
      for (int i = 2; i >= 0; i -= 2) {
        for (int j = 0; j < 4; j++) {
          s2.add(at(x, n, i, j));
        }
      }
      for (int i = 1; i < 3; i++) {
        for (int j = 1; j < 4; j += 2) {
          s3.add(at(x, n, i, j));
        }
      }
      for (int i = 0; i < 3; i++) {
        float v = TfOpLambdaTest.BIAS[1];
        for (int j = 0; j < 4; j++) {
          v += at(x, n, i, j) * TfOpLambdaTest.KERNEL[j * 2 + 1];
        }
        s4.add((float) Math.tanh(v));
      }
      for (int k = 0; n >= 1 && k < 12; k++) {
        s5.add(x[n * 12 + k]);
      }
    }
    for (List<Float> l : List.of(s0, s1, s2, s3, s4, s5)) {
      float[] f = new float[l.size()];
      for (int i = 0; i < f.length; i++) {
        f[i] = l.get(i);
      }
      expected.add(f);
    }
    double worst = 0;
    String[] what = {
      "x[:, 1:3]",
      "x[..., -1]",
      "x[:, newaxis, ::-2]",
      "x[:, -2:, 1::2]",
      "tanh(d(x))[:, :, 1]",
      "x[1:]"
    };
    for (int i = 0; i < expected.size(); i++) {
      worst = Math.max(worst, GraphTargets.check(o, i, expected.get(i), what[i]));
    }
    System.out.printf(
        "SlicingOpLambda/TFOpLambda in a layers model: 6 outputs x 4 targets match, worst |a-b| ="
            + " %.3g%n",
        worst);
  }

  @Test
  void aTensorBoundOrABooleanMaskIsRefusedByName(@TempDir Path tmp) throws IOException {
    String tensorBound =
        model(
            List.of(
                getitem(
                    "g",
                    "x",
                    "[" + ALL + ", {\"start\": [\"d\", 0, 0], \"stop\": null, \"step\": null}]")),
            "[\"g\", 0, 0]");
    Path mj = write(tmp.resolve("a"), tensorBound);
    assertThatThrownBy(() -> KerasGraphs.buildTfjsLayers(mj))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("layer 'g' (SlicingOpLambda) slices with bound [\"d\",0,0];");
    String other =
        model(
            List.of(
                "{\"class_name\": \"SlicingOpLambda\", \"name\": \"g\", \"config\": {\"name\": \"g\","
                    + " \"function\": \"__operators__.ne\"}, \"inbound_nodes\": [[\"x\", 0, 0, {}]]}"),
            "[\"g\", 0, 0]");
    Path mj2 = write(tmp.resolve("b"), other);
    assertThatThrownBy(() -> KerasGraphs.buildTfjsLayers(mj2))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("SlicingOpLambda with function tf.__operators__.ne (layer 'm/g')");
  }
}
