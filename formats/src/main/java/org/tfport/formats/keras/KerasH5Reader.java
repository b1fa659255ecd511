package org.tfport.formats.keras;

import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import java.io.Closeable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.tfport.core.Json;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.CorruptModelException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Reads the legacy Keras HDF5 layout (Keras 1 and 2, and Keras 3's {@code .h5}): root attributes
 * {@code model_config}, {@code training_config}, {@code keras_version}, {@code backend}, and the
 * weights under {@code model_weights} (a full model) or the root (a {@code save_weights} file),
 * each layer group listing its datasets in {@code weight_names}.
 */
final class KerasH5Reader {
  private KerasH5Reader() {}

  /**
   * @param displayName what to call the file in messages (the .keras path for an embedded H5)
   * @param resource closed with the model, after the HDF5 file
   */
  static KerasModel read(Path displayName, HdfFile h5, Closeable resource) {
    try {
      String config = H5Access.stringAttr(displayName, h5, "model_config");
      String training = H5Access.stringAttr(displayName, h5, "training_config");
      String version = H5Access.stringAttr(displayName, h5, "keras_version");
      String backend = H5Access.stringAttr(displayName, h5, "backend");
      JsonNode modelConfig = parse(displayName, "model_config", config);
      JsonNode trainingConfig = parse(displayName, "training_config", training);
      Group weightsRoot;
      if (config != null) {
        Node mw = child(displayName, h5, "model_weights");
        if (mw == null) {
          // A model saved with include_optimizer and no weights is legal but empty; refuse with the
          // reason.
          throw new CorruptModelException(
              displayName
                  + ": has 'model_config' but no 'model_weights' group;"
                  + " the file is incomplete, re-save it with model.save()");
        }
        if (!(mw instanceof Group g)) {
          throw new CorruptModelException(
              displayName
                  + ": 'model_weights' is not a group; the file was not"
                  + " written by Keras");
        }
        weightsRoot = g;
        if (version == null) {
          version = H5Access.stringAttr(displayName, g, "keras_version");
        }
        if (backend == null) {
          backend = H5Access.stringAttr(displayName, g, "backend");
        }
      } else {
        weightsRoot = h5;
        if (H5Access.stringListAttr(displayName, h5, "layer_names") == null) {
          throw new CorruptModelException(
              displayName
                  + ": an HDF5 file, but neither a Keras model (no"
                  + " 'model_config' attribute) nor Keras weights (no 'layer_names' attribute); save it with"
                  + " model.save('x.h5') or model.save_weights('x.h5')");
        }
      }
      List<String> layerNames = H5Access.stringListAttr(displayName, weightsRoot, "layer_names");
      if (layerNames == null) {
        throw new CorruptModelException(
            displayName
                + ": group "
                + weightsRoot.getPath()
                + " has no 'layer_names' attribute; the file was not written by Keras");
      }
      List<KerasLayerWeights> layers = new ArrayList<>();
      for (String layer : layerNames) {
        Node n = child(displayName, weightsRoot, layer);
        if (!(n instanceof Group g)) {
          throw new CorruptModelException(
              displayName
                  + ": layer '"
                  + layer
                  + "' is listed in layer_names but"
                  + " has no weight group; the file is damaged");
        }
        layers.add(new KerasLayerWeights(layer, layerWeights(displayName, g, layer)));
      }
      return new KerasModel(
          displayName,
          version,
          backend,
          modelConfig,
          trainingConfig,
          layers,
          () -> {
            h5.close();
            if (resource != null) {
              resource.close();
            }
          });
    } catch (TfportException e) {
      h5.close();
      throw e;
    } catch (RuntimeException | StackOverflowError e) {
      // jhdf reports a damaged file as any runtime exception (IllegalStateException,
      // BufferUnderflowException, ...), from wherever it notices.
      h5.close();
      throw new CorruptModelException(
          displayName
              + ": cannot read the HDF5 structure: "
              + H5Access.why(e)
              + "; the file is damaged or truncated",
          e);
    }
  }

  private static List<KerasWeight> layerWeights(Path file, Group g, String layer) {
    List<String> names = H5Access.stringListAttr(file, g, "weight_names");
    List<KerasWeight> out = new ArrayList<>();
    if (names == null) {
      return out;
    }
    for (String wn : names) {
      Node n = byPath(g, wn);
      if (!(n instanceof Dataset ds)) {
        throw new CorruptModelException(
            file
                + ": layer '"
                + layer
                + "' lists weight '"
                + wn
                + "' but the file has no such dataset; the file is damaged");
      }
      String name = wn.endsWith(":0") ? wn.substring(0, wn.length() - 2) : wn;
      out.add(
          new KerasWeight(
              name, H5Access.dtype(file, ds), H5Access.shape(ds), () -> H5Access.read(file, ds)));
    }
    return out;
  }

  /**
   * The node at a relative path, or null: jhdf's own {@code getByPath} names the backing file when
   * a path is missing, and a file opened from a memory mapping has none.
   */
  private static Node byPath(Group g, String path) {
    Node n = g;
    for (String part : path.split("/")) {
      if (part.isEmpty()) {
        continue;
      }
      if (!(n instanceof Group group)) {
        return null;
      }
      n = group.getChildren().get(part);
    }
    return n;
  }

  private static Node child(Path file, Group g, String name) {
    try {
      return g.getChildren().get(name);
    } catch (RuntimeException | StackOverflowError e) {
      // jhdf reports a damaged file as any runtime exception (IllegalStateException,
      // BufferUnderflowException, ...), from wherever it notices.
      throw new CorruptModelException(
          file
              + ": cannot list group "
              + g.getPath()
              + ": "
              + H5Access.why(e)
              + "; the file is damaged",
          e);
    }
  }

  static JsonNode parse(Path file, String what, String json) {
    if (json == null) {
      return null;
    }
    try {
      JsonNode n = Json.MAPPER.readTree(json);
      if (n == null || n.isMissingNode() || n.isNull()) {
        return null;
      }
      return n;
    } catch (JacksonException e) {
      throw new CorruptModelException(
          file
              + ": attribute '"
              + what
              + "' is not valid JSON ("
              + e.getOriginalMessage()
              + "); the file is damaged or was edited by hand");
    }
  }
}
