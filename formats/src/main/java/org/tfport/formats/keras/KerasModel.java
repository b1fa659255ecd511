package org.tfport.formats.keras;

import java.io.Closeable;
import java.nio.file.Path;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * A Keras model as stored: its architecture ({@code model_config}, null for a weights-only file),
 * training config, and layer weights. Weight data is read lazily from the open file, so close the
 * model when done.
 *
 * <p>Files written by Keras 3 ({@code .keras}) are presented in the Keras 2 form (configs without
 * {@code module}/{@code registered_name}, weights named {@code layer/kernel}), which is what TF.js
 * reads.
 */
public final class KerasModel implements Closeable {
  private final Path source;
  private final String kerasVersion;
  private final String backend;
  private final JsonNode modelConfig;
  private final JsonNode trainingConfig;
  private final List<KerasLayerWeights> layers;
  private final Closeable resource;

  KerasModel(
      Path source,
      String kerasVersion,
      String backend,
      JsonNode modelConfig,
      JsonNode trainingConfig,
      List<KerasLayerWeights> layers,
      Closeable resource) {
    this.source = source;
    this.kerasVersion = kerasVersion;
    this.backend = backend;
    this.modelConfig = modelConfig;
    this.trainingConfig = trainingConfig;
    this.layers = List.copyOf(layers);
    this.resource = resource;
  }

  /**
   * Opens a Keras {@code .h5}/{@code .hdf5} or Keras 3 {@code .keras} file, chosen by its content.
   */
  public static KerasModel open(Path file) {
    return KerasFiles.open(file);
  }

  /**
   * Opens a SavedModel folder written by Keras ({@code model.save(dir)}, TF 2): its Keras config
   * and the layer weights from its variables checkpoint.
   */
  public static KerasModel openSavedModel(Path dir) {
    return KerasSavedModelReader.read(dir);
  }

  public Path source() {
    return source;
  }

  /** The {@code keras_version} attribute, or null when the file has none. */
  public String kerasVersion() {
    return kerasVersion;
  }

  /** The {@code backend} attribute ({@code tensorflow}, {@code theano}), or null. */
  public String backend() {
    return backend;
  }

  /** {@code {"class_name": ..., "config": ...}}, or null for a weights-only file. */
  public JsonNode modelConfig() {
    return modelConfig;
  }

  public JsonNode trainingConfig() {
    return trainingConfig;
  }

  public boolean weightsOnly() {
    return modelConfig == null;
  }

  public List<KerasLayerWeights> layers() {
    return layers;
  }

  /** The major Keras version (1, 2, 3), or 0 when unknown. */
  public int kerasMajor() {
    if (kerasVersion == null
        || kerasVersion.isEmpty()
        || !Character.isDigit(kerasVersion.charAt(0))) {
      return 0;
    }
    int dot = kerasVersion.indexOf('.');
    try {
      return Integer.parseInt(dot < 0 ? kerasVersion : kerasVersion.substring(0, dot));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  @Override
  public void close() {
    try {
      if (resource != null) {
        resource.close();
      }
    } catch (java.io.IOException e) {
      // Closing a read-only file cannot lose data; nothing useful to tell the user.
    }
  }
}
