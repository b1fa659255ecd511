package org.tfport.formats.keras;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import java.lang.reflect.Array;
import java.nio.file.Path;
import java.util.List;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.UnsupportedModelException;
import tools.jackson.databind.JsonNode;

/**
 * Writes the legacy Keras HDF5 layout ({@code model.save('x.h5')}) for float32 weights. Attributes
 * are fixed-length strings, which Keras and this reader both accept; jhdf cannot write attributes
 * past the 64 KiB object-header limit, so a larger {@code model_config} is refused rather than
 * silently corrupted.
 */
public final class KerasH5Writer {
  /** Keras' own HDF5_OBJECT_HEADER_LIMIT; jhdf writes a corrupt file beyond it. */
  public static final int ATTRIBUTE_LIMIT = 64512;

  private KerasH5Writer() {}

  public static void write(
      Path file,
      String kerasVersion,
      String backend,
      JsonNode modelConfig,
      JsonNode trainingConfig,
      List<KerasLayerWeights> layers) {
    String config = modelConfig == null ? null : Json.MAPPER.writeValueAsString(modelConfig);
    if (config != null && config.length() >= ATTRIBUTE_LIMIT) {
      throw new TfportException(
          file
              + ": model_config is "
              + config.length()
              + " characters, over the "
              + ATTRIBUTE_LIMIT
              + " that can be written as an HDF5 attribute here; write a .keras file instead");
    }
    try (WritableHdfFile h5 = HdfFile.write(file)) {
      WritableGroup weightsRoot = h5;
      if (config != null) {
        h5.putAttribute("model_config", config);
        if (trainingConfig != null) {
          h5.putAttribute("training_config", Json.MAPPER.writeValueAsString(trainingConfig));
        }
        weightsRoot = h5.putGroup("model_weights");
      }
      for (WritableGroup g : config != null ? List.of(h5, weightsRoot) : List.of(weightsRoot)) {
        g.putAttribute("keras_version", kerasVersion);
        g.putAttribute("backend", backend);
      }
      // jhdf 0.13 writes a corrupt parent group when groups without children sit beside groups
      // holding data, so only layers with weights get a group; Keras' loader matches only those
      // (load_weights_from_hdf5_group skips layer names without weight_names).
      List<KerasLayerWeights> written =
          layers.stream().filter(l -> !l.weights().isEmpty()).toList();
      if (written.isEmpty()) {
        // No data anywhere, so empty groups are safe; jhdf cannot write an empty layer_names.
        written = layers;
      }
      weightsRoot.putAttribute(
          "layer_names", written.stream().map(KerasLayerWeights::layerName).toArray(String[]::new));
      for (KerasLayerWeights layer : written) {
        WritableGroup lg = weightsRoot.putGroup(layer.layerName());
        String[] names = layer.weights().stream().map(w -> w.name() + ":0").toArray(String[]::new);
        if (names.length > 0) {
          // jhdf cannot write an empty array; Keras reads a missing weight_names as no weights.
          lg.putAttribute("weight_names", names);
        }
        for (KerasWeight w : layer.weights()) {
          WritableGroup parent = lg;
          String[] parts = (w.name() + ":0").split("/");
          for (int i = 0; i < parts.length - 1; i++) {
            parent =
                parent.getChild(parts[i]) instanceof WritableGroup existing
                    ? existing
                    : parent.putGroup(parts[i]);
          }
          parent.putDataset(parts[parts.length - 1], nested(w.name(), w.data().get()));
        }
      }
    }
  }

  /**
   * jhdf takes the shape from a nested Java array, so build one from the flat tensor. Keras layer
   * weights are float32; another dtype would be written as something Keras does not expect, so it
   * is refused naming the weight.
   */
  static Object nested(String name, Tensor t) {
    if (t.dtype() != DType.FLOAT32) {
      throw new UnsupportedModelException(
          "weight '" + name + "' is " + t.dtype() + "; tfport writes float32 Keras weights only");
    }
    float[] flat = t.toFloatArray();
    long[] dims = t.shape().dims();
    if (dims.length == 0) {
      return new float[] {flat[0]};
    }
    int[] d = new int[dims.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = Math.toIntExact(dims[i]);
    }
    Object arr = Array.newInstance(float.class, d);
    fill(arr, flat, 0, d, 0);
    return arr;
  }

  private static int fill(Object arr, float[] flat, int pos, int[] d, int depth) {
    if (depth == d.length - 1) {
      System.arraycopy(flat, pos, arr, 0, d[depth]);
      return pos + d[depth];
    }
    for (int i = 0; i < d[depth]; i++) {
      pos = fill(Array.get(arr, i), flat, pos, d, depth + 1);
    }
    return pos;
  }
}
