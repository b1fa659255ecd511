package org.tfport.convert;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.tfport.core.Json;
import org.tfport.core.TfportException.UsageException;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;

/** The model formats {@link Converter} reads, and how to tell them from the file or folder. */
public enum SourceFormat {
  /** Keras HDF5 ({@code .h5}, Keras 1 and 2). */
  KERAS_H5,
  /** Keras 3 zip ({@code .keras}). */
  KERAS_V3,
  /** A TF.js layers model ({@code model.json} + shards). */
  TFJS_LAYERS_MODEL,
  /** A TF.js graph model ({@code model.json} with {@code "format": "graph-model"}). */
  TFJS_GRAPH_MODEL,
  /** A SavedModel folder ({@code saved_model.pb} + variables), TF1 or TF2. */
  TF_SAVED_MODEL,
  /** A frozen GraphDef ({@code .pb}). */
  TF_FROZEN_MODEL,
  /** A TF Hub module folder (TF1: {@code tfhub_module.pb} beside {@code saved_model.pb}; TF2: a SavedModel). */
  TF_HUB;

  /**
   * The format of {@code path}, read from the file itself where it can be: a folder with {@code tfhub_module.pb}
   * (hub), {@code saved_model.pb} or a {@code model.json}; a zip ({@code .keras}) or HDF5 file by its magic
   * bytes; a {@code model.json} by its {@code "format"}; a {@code .pb} GraphDef. Any other folder is taken for a
   * SavedModel, whose reader then says what is missing.
   *
   * @throws UsageException when the path does not exist or nothing tells its format
   */
  public static SourceFormat detect(Path path) {
    if (!Files.exists(path)) {
      throw new UsageException(path + ": no such file or folder");
    }
    if (Files.isDirectory(path)) {
      // A TF1 Hub module is a SavedModel plus tfhub_module.pb, and its graph has no tags: hub first.
      if (Files.exists(path.resolve("tfhub_module.pb"))) {
        return TF_HUB;
      }
      if (Files.exists(path.resolve("saved_model.pb")) || Files.exists(path.resolve("saved_model.pbtxt"))) {
        return TF_SAVED_MODEL;
      }
      if (Files.exists(path.resolve("model.json"))) {
        return modelJsonFormat(path.resolve("model.json"));
      }
      return TF_SAVED_MODEL;
    }
    byte[] head = new byte[8];
    int n;
    try (InputStream s = Files.newInputStream(path)) {
      n = s.readNBytes(head, 0, 8);
    } catch (IOException e) {
      throw new UsageException(path + ": cannot read the input (" + e.getMessage() + ")");
    }
    if (n >= 4 && head[0] == 'P' && head[1] == 'K') {
      return KERAS_V3;
    }
    if (n >= 4 && head[1] == 'H' && head[2] == 'D' && head[3] == 'F') {
      return KERAS_H5;
    }
    String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".json")) {
      return modelJsonFormat(path);
    }
    if (name.endsWith(".pb") || name.endsWith(".pbtxt")) {
      return TF_FROZEN_MODEL;
    }
    if (name.endsWith(".h5") || name.endsWith(".hdf5")) {
      return KERAS_H5;
    }
    throw new UsageException(path + ": cannot tell the model format from the file; name it with"
        + " Converter.from(path, format)");
  }

  /**
   * A model.json says which kind it is in its top-level {@code "format"}; converters before 1.0 wrote none
   * (layers models). Read as a stream: graph models' model.json can be tens of megabytes.
   */
  private static SourceFormat modelJsonFormat(Path json) {
    try (InputStream in = Files.newInputStream(json); JsonParser p = Json.MAPPER.createParser(in)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return TFJS_LAYERS_MODEL;
      }
      while (p.nextToken() == JsonToken.PROPERTY_NAME) {
        String key = p.currentName();
        p.nextToken();
        if (key.equals("format")) {
          return "graph-model".equals(p.getValueAsString()) ? TFJS_GRAPH_MODEL : TFJS_LAYERS_MODEL;
        }
        p.skipChildren();
      }
      return TFJS_LAYERS_MODEL;
    } catch (IOException | JacksonException e) {
      // The reader of the chosen format reports what is wrong with the file.
      return TFJS_LAYERS_MODEL;
    }
  }
}
