package org.tfport.server;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Keras 3 {@code .keras} files written by the tests, in Keras 3's layout (config plus weights). */
final class Keras3Files {
  private Keras3Files() {}

  /**
   * A functional model: 4 features into Dense(3, tanh) named {@code head}; {@code kernel} is 4x3
   * row-major.
   */
  static Path dense(Path keras, float[] kernel, float[] bias) throws IOException {
    return dense(keras, kernel, bias, "[null, 4]");
  }

  /**
   * As {@link #dense(Path, float[], float[])}, the input declared as {@code batchShape} (JSON, its
   * last dim 4): {@code [1, 2, 4]} is a model saved for one row of two steps, whose Dense keeps the
   * outer dims.
   */
  static Path dense(Path keras, float[] kernel, float[] bias, String batchShape)
      throws IOException {
    Path h5 = keras.resolveSibling(keras.getFileName() + ".weights.h5");
    float[][] k = new float[4][3];
    for (int i = 0; i < 4; i++) {
      System.arraycopy(kernel, i * 3, k[i], 0, 3);
    }
    try (WritableHdfFile f = HdfFile.write(h5)) {
      WritableGroup vars = f.putGroup("layers").putGroup("dense").putGroup("vars");
      vars.putDataset("0", k);
      vars.putDataset("1", bias);
    }
    String config =
        ("""
        {"module": "keras", "class_name": "Functional", "config": {"name": "net", "trainable": true,
          "layers": [
           {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": BATCH,
             "dtype": "float32", "sparse": false, "name": "features"}, "registered_name": null,
             "inbound_nodes": []},
           {"module": "keras.layers", "class_name": "Dense", "config": {"name": "head", "trainable": true,
             "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
               "registered_name": null},
             "units": 3, "activation": "tanh", "use_bias": true,
             "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
               "config": {"seed": null}, "registered_name": null},
             "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {},
               "registered_name": null},
             "kernel_regularizer": null, "bias_regularizer": null, "kernel_constraint": null,
             "bias_constraint": null},
            "registered_name": null, "build_config": {"input_shape": BATCH},
            "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": BATCH,
              "dtype": "float32", "keras_history": ["features", 0, 0]}}], "kwargs": {}}]}],
          "input_layers": [["features", 0, 0]], "output_layers": [["head", 0, 0]]},
         "registered_name": "Functional", "build_config": {"input_shape": null}}
        """)
            .replace("BATCH", batchShape);
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(keras))) {
      put(
          zip,
          "metadata.json",
          "{\"keras_version\": \"3.8.0\", \"date_saved\": \"2025-01-01@00:00:00\"}"
              .getBytes(StandardCharsets.UTF_8));
      put(zip, "config.json", config.getBytes(StandardCharsets.UTF_8));
      put(zip, "model.weights.h5", Files.readAllBytes(h5));
    }
    Files.delete(h5);
    return keras;
  }

  private static void put(ZipOutputStream zip, String name, byte[] data) throws IOException {
    zip.putNextEntry(new ZipEntry(name));
    zip.write(data);
    zip.closeEntry();
  }
}
