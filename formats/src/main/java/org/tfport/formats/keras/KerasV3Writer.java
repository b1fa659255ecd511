package org.tfport.formats.keras;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.tfport.core.Json;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.OutputException;
import org.tfport.core.TfportException.UnsupportedModelException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Writes a Keras 3 {@code .keras} archive from a model in the Keras 2 form (what TF.js layers
 * models and {@link KerasModel} hold): {@code config.json} in Keras 3's form ({@link
 * Keras3ConfigWriter}), {@code metadata.json}, and {@code model.weights.h5} with each layer's
 * weights at {@code layers/<snake_case class>[_k]/vars/<i>}, where Keras 3 saves them and {@link
 * KerasV3Reader} finds them. Weights are bound by the names TF.js gives them ({@code
 * dense_1/kernel}); a layer missing one, or a weight no layer owns, is refused by name.
 */
public final class KerasV3Writer {
  /** The Keras release whose archive layout this writes. */
  public static final String KERAS_VERSION = "3.6.0";

  private KerasV3Writer() {}

  /**
   * @param modelConfig {@code {class_name, config}} in Keras 2 form (Sequential or functional)
   * @param weights every weight by its TF.js name, in any order
   * @param archive the .keras file to write; the caller owns atomicity
   */
  public static void write(Path archive, JsonNode modelConfig, Map<String, KerasWeight> weights) {
    ObjectNode k3 = Keras3ConfigWriter.model(archive, modelConfig);
    Map<String, KerasWeight> unused = new LinkedHashMap<>(weights);
    Path h5 = archive.resolveSibling(archive.getFileName() + ".weights.h5.tmp");
    try {
      Map<String, KerasWeight> datasets = new LinkedHashMap<>();
      bindModel(archive, k3, "layers", unused, datasets);
      if (!unused.isEmpty()) {
        throw new CorruptModelException(
            archive
                + ": weight"
                + (unused.size() == 1 ? " '" : "s '")
                + String.join("', '", unused.keySet())
                + "' belong to no layer of the model config; the model's topology and weights"
                + " manifest do not match");
      }
      writeDatasets(h5, datasets);
      ObjectNode meta = Json.MAPPER.createObjectNode();
      meta.put("keras_version", KERAS_VERSION);
      meta.put("date_saved", java.time.LocalDateTime.now().withNano(0).toString());
      try (OutputStream os = Files.newOutputStream(archive);
          ZipOutputStream zip = new ZipOutputStream(os)) {
        entry(zip, "metadata.json", Json.MAPPER.writeValueAsBytes(meta));
        entry(zip, "config.json", Json.MAPPER.writeValueAsBytes(k3));
        zip.putNextEntry(new ZipEntry("model.weights.h5"));
        Files.copy(h5, zip);
        zip.closeEntry();
      }
    } catch (IOException e) {
      throw new OutputException(archive + ": cannot write the .keras file (" + e + ")", e);
    } finally {
      try {
        Files.deleteIfExists(h5);
      } catch (IOException e) {
        // The staging folder holding it is removed by the caller anyway.
      }
    }
  }

  private static void entry(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
    zip.putNextEntry(new ZipEntry(name));
    zip.write(bytes);
    zip.closeEntry();
  }

  /**
   * Groups are made only on the way to a dataset. Keras writes an empty {@code vars} group for
   * every layer and the model itself, but jhdf 0.13 writes a corrupt parent when an empty group
   * sits between groups holding data; Keras 3 (3.4 and later for the root) and KerasV3Reader read a
   * missing group as a layer without variables.
   */
  private static void writeDatasets(Path h5, Map<String, KerasWeight> datasets) {
    try (WritableHdfFile file = HdfFile.write(h5)) {
      for (Map.Entry<String, KerasWeight> e : datasets.entrySet()) {
        String[] parts = e.getKey().split("/");
        WritableGroup parent = file;
        for (int i = 0; i < parts.length - 1; i++) {
          parent =
              parent.getChild(parts[i]) instanceof WritableGroup existing
                  ? existing
                  : parent.putGroup(parts[i]);
        }
        KerasWeight w = e.getValue();
        parent.putDataset(parts[parts.length - 1], KerasH5Writer.nested(w.name(), w.data().get()));
      }
    }
  }

  /** The inverse of {@link KerasV3Reader}'s walk: the same keys, the same weight names. */
  private static void bindModel(
      Path file,
      JsonNode model,
      String layersGroup,
      Map<String, KerasWeight> weights,
      Map<String, KerasWeight> out) {
    for (Keras3Paths.Keyed l : Keras3Paths.layers(model)) {
      collect(file, l.layer(), layersGroup + "/" + l.key(), l.name(), weights, out);
    }
  }

  private static void collect(
      Path file,
      JsonNode layer,
      String g,
      String name,
      Map<String, KerasWeight> weights,
      Map<String, KerasWeight> out) {
    String cls = layer.path("class_name").asString("");
    JsonNode cfg = layer.path("config");
    if (Keras3Config.isModelClass(cls)) {
      bindModel(file, layer, g + "/layers", weights, out);
      return;
    }
    List<Keras3Paths.Wrapped> inner = Keras3Paths.wrapped(cls, cfg, name);
    for (Keras3Paths.Wrapped w : inner) {
      collect(file, w.layer(), g + "/" + w.group(), w.name(), weights, out);
    }
    switch (cls) {
      case "Bidirectional", "TimeDistributed" -> {}
      default -> {
        List<String> names = LayerVars.names(cls, cfg);
        if (names == null) {
          List<String> owned = new ArrayList<>();
          for (String w : weights.keySet()) {
            if (w.startsWith(name + "/")) {
              owned.add(w);
            }
          }
          if (owned.isEmpty()) {
            return;
          }
          throw new UnsupportedModelException(
              file
                  + ": layer '"
                  + name
                  + "' ("
                  + cls
                  + ") has weights "
                  + owned
                  + ", but tfport does not know the order Keras 3 saves the weights of "
                  + cls
                  + " in; write a .h5 file instead (into ModelFormat.KERAS)");
        }
        String vars = (LayerVars.isRecurrent(cls) ? g + "/cell" : g) + "/vars";
        for (int i = 0; i < names.size(); i++) {
          String wn = name + "/" + names.get(i);
          KerasWeight w = weights.remove(wn);
          if (w == null) {
            throw new CorruptModelException(
                file
                    + ": layer '"
                    + name
                    + "' ("
                    + cls
                    + ") needs weight '"
                    + wn
                    + "', which the weights manifest does not hold");
          }
          out.put(vars + "/" + i, w);
        }
      }
    }
  }
}
