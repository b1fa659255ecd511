package org.tfport.convert.keras;

import static org.assertj.core.api.Assertions.assertThat;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.core.ProgressListener;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfjsOracle.Input;
import org.tfport.testkit.TfjsOracle.Job;

/**
 * A Keras 3 functional model written here the way Keras 3 saves it (weights addressed by
 * class-derived paths such as {@code layers/dense_1/vars/0}, not by layer names), converted, and
 * run by TF.js: its outputs must equal the forward pass computed in Java. This is the case where
 * upstream scrambles weights (#8266).
 */
@OracleTest
class Keras3NumbersTest {
  private static final int IN = 4;
  private static final int HID = 6;
  private static final int OUT = 3;
  private static final int BATCH = 5;
  @TempDir Path tmp;

  private static float[] rand(long seed, int n, double lo, double hi) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (lo + r.nextDouble() * (hi - lo));
    }
    return v;
  }

  private static float[][] matrix(float[] flat, int rows, int cols) {
    float[][] m = new float[rows][cols];
    for (int i = 0; i < rows; i++) {
      System.arraycopy(flat, i * cols, m[i], 0, cols);
    }
    return m;
  }

  @Test
  void functionalModelWithBatchNormComputesTheSameInTfjs() throws IOException {
    float[] k1 = rand(1, IN * HID, -1, 1);
    float[] b1 = rand(2, HID, -0.5, 0.5);
    float[] gamma = rand(3, HID, 0.5, 1.5);
    float[] beta = rand(4, HID, -0.5, 0.5);
    float[] mean = rand(5, HID, -0.2, 0.8);
    float[] var = rand(6, HID, 0.5, 2);
    float[] k2 = rand(7, HID * OUT, -1, 1);
    float[] b2 = rand(8, OUT, -0.5, 0.5);

    Path h5 = tmp.resolve("model.weights.h5");
    try (WritableHdfFile f = HdfFile.write(h5)) {
      WritableGroup layers = f.putGroup("layers");
      WritableGroup d = layers.putGroup("dense").putGroup("vars");
      d.putDataset("0", matrix(k1, IN, HID));
      d.putDataset("1", b1);
      WritableGroup bn = layers.putGroup("batch_normalization").putGroup("vars");
      bn.putDataset("0", gamma);
      bn.putDataset("1", beta);
      bn.putDataset("2", mean);
      bn.putDataset("3", var);
      WritableGroup d2 = layers.putGroup("dense_1").putGroup("vars");
      d2.putDataset("0", matrix(k2, HID, OUT));
      d2.putDataset("1", b2);
    }
    String config =
        """
        {"module": "keras", "class_name": "Functional", "config": {"name": "net", "trainable": true,
          "layers": [
           {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 4],
             "dtype": "float32", "sparse": false, "name": "features"}, "registered_name": null, "inbound_nodes": []},
           %s,
           {"module": "keras.layers", "class_name": "BatchNormalization", "config": {"name": "norm", "trainable": true,
             "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
             "axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": true, "scale": true,
             "beta_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
             "gamma_initializer": {"module": "keras.initializers", "class_name": "Ones", "config": {}, "registered_name": null},
             "moving_mean_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
             "moving_variance_initializer": {"module": "keras.initializers", "class_name": "Ones", "config": {}, "registered_name": null},
             "beta_regularizer": null, "gamma_regularizer": null, "beta_constraint": null, "gamma_constraint": null,
             "synchronized": false}, "registered_name": null, "build_config": {"input_shape": [null, 6]},
             "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 6],
               "dtype": "float32", "keras_history": ["hidden", 0, 0]}}], "kwargs": {"mask": null}}]},
           %s],
          "input_layers": [["features", 0, 0]], "output_layers": [["head", 0, 0]]},
         "registered_name": "Functional", "build_config": {"input_shape": null}}
        """
            .formatted(
                dense("hidden", HID, "relu", "features"), dense("head", OUT, "softmax", "norm"));
    Path keras = tmp.resolve("net.keras");
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(keras))) {
      put(
          zip,
          "metadata.json",
          "{\"keras_version\": \"3.8.0\", \"date_saved\": \"2025-01-01@00:00:00\"}"
              .getBytes(StandardCharsets.UTF_8));
      put(zip, "config.json", config.getBytes(StandardCharsets.UTF_8));
      put(zip, "model.weights.h5", Files.readAllBytes(h5));
    }
    Path out = tmp.resolve("out");
    KerasToTfjs.convert(keras, out, TfjsOutputOptions.defaults(), ProgressListener.NONE);

    float[] x = rand(9, BATCH * IN, -2, 2);
    float[] want = new float[BATCH * OUT];
    for (int n = 0; n < BATCH; n++) {
      double[] h = new double[HID];
      for (int j = 0; j < HID; j++) {
        double s = b1[j];
        for (int i = 0; i < IN; i++) {
          s += x[n * IN + i] * k1[i * HID + j];
        }
        s = Math.max(0, s);
        h[j] = gamma[j] * (s - mean[j]) / Math.sqrt(var[j] + 0.001) + beta[j];
      }
      double[] z = new double[OUT];
      double sum = 0;
      for (int j = 0; j < OUT; j++) {
        double s = b2[j];
        for (int i = 0; i < HID; i++) {
          s += h[i] * k2[i * OUT + j];
        }
        z[j] = Math.exp(s);
        sum += z[j];
      }
      for (int j = 0; j < OUT; j++) {
        want[n * OUT + j] = (float) (z[j] / sum);
      }
    }
    var res =
        TfjsOracle.run(
                Job.layers(
                    out.resolve("model.json"), new Input("features", new long[] {BATCH, IN}, x)))
            .orThrow();
    Comparison c = Comparison.of(want, res.outputs().get(0).data(), 1e-6, 1e-5);
    System.out.println("keras 3 functional model in tfjs vs Java: " + c);
    c.assertOk("keras 3 model");
    assertThat(Files.list(tmp).map(p -> p.getFileName().toString())).doesNotContain("config.json");
  }

  private static String dense(String name, int units, String act, String from) {
    return """
        {"module": "keras.layers", "class_name": "Dense", "config": {"name": "%s", "trainable": true,
          "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
          "units": %d, "activation": "%s", "use_bias": true,
          "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": null}, "registered_name": null},
          "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
          "kernel_regularizer": null, "bias_regularizer": null, "kernel_constraint": null, "bias_constraint": null},
         "registered_name": null, "build_config": {"input_shape": [null, 4]},
         "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 4],
           "dtype": "float32", "keras_history": ["%s", 0, 0]}}], "kwargs": {}}]}
        """
        .formatted(name, units, act, from);
  }

  private static void put(ZipOutputStream zip, String name, byte[] data) throws IOException {
    zip.putNextEntry(new ZipEntry(name));
    zip.write(data);
    zip.closeEntry();
  }
}
