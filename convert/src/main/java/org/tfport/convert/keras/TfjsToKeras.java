package org.tfport.convert.keras;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.convert.ConversionResult;
import org.tfport.core.AtomicOutput;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.OutputException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.keras.KerasH5Writer;
import org.tfport.formats.keras.KerasLayerWeights;
import org.tfport.formats.keras.KerasV3Writer;
import org.tfport.formats.keras.KerasWeight;
import org.tfport.formats.tfjs.TfjsModel;
import org.tfport.formats.tfjs.TfjsModelJson;
import org.tfport.formats.tfjs.TfjsReader;
import org.tfport.formats.tfjs.WeightGroup;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A TF.js layers model back to Keras: {@code model.save('x.h5')}'s HDF5 layout (upstream's default
 * for a layers model.json), or a Keras 3 {@code .keras} archive. The topology is the Keras config
 * TF.js read; weights are the manifest's, quantized ones dequantized, written bit for bit as
 * float32, each under the top-level layer that owns it.
 */
public final class TfjsToKeras {
  private TfjsToKeras() {}

  /** {@code tfjs_layers_model -> keras}: a legacy Keras HDF5 file. */
  public static ConversionResult convertH5(Path input, Path output) {
    long start = System.nanoTime();
    Source src = read(input);
    List<KerasLayerWeights> layers = byLayer(src);
    JsonNode config = src.modelConfig;
    if (config != null) {
      int chars = org.tfport.core.Json.MAPPER.writeValueAsString(config).length();
      if (chars >= KerasH5Writer.ATTRIBUTE_LIMIT) {
        throw new UnsupportedModelException(
            src.json
                + ": the model config is "
                + String.format("%,d", chars)
                + " characters, over the "
                + String.format("%,d", KerasH5Writer.ATTRIBUTE_LIMIT)
                + " an HDF5 attribute holds in the .h5 files tfport writes; convert"
                + " into ModelFormat.KERAS_KERAS (a .keras file) instead");
      }
    }
    writeFile(
        output,
        tmp ->
            KerasH5Writer.write(
                tmp, src.kerasVersion, "tensorflow", config, src.trainingConfig, layers));
    List<String> notices = new ArrayList<>(src.notices);
    if (config == null) {
      notices.add(
          src.json + ": weights-only model (no modelTopology), written as a save_weights() file");
    }
    return result(output, src, start, notices);
  }

  /** {@code tfjs_layers_model -> keras_keras}: a Keras 3 archive. */
  public static ConversionResult convertKeras3(Path input, Path output) {
    long start = System.nanoTime();
    Source src = read(input);
    if (src.modelConfig == null) {
      throw new UsageException(
          src.json
              + ": has no modelTopology (weights only); a .keras archive needs the model, so"
              + " write a weights file into ModelFormat.KERAS instead");
    }
    Map<String, KerasWeight> weights = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : src.weights.entrySet()) {
      weights.put(e.getKey(), weight(e.getKey(), e.getValue()));
    }
    writeFile(output, tmp -> KerasV3Writer.write(tmp, src.modelConfig, weights));
    List<String> notices = new ArrayList<>(src.notices);
    if (src.trainingConfig != null) {
      notices.add(
          src.json
              + ": the training config (optimizer, loss) is not written to the .keras archive;"
              + " compile the model again after loading it");
    }
    return result(output, src, start, notices);
  }

  record Source(
      Path json,
      JsonNode modelConfig,
      JsonNode trainingConfig,
      String kerasVersion,
      Map<String, Tensor> weights,
      int quantized,
      List<String> notices) {}

  static Source read(Path input) {
    Path json = Files.isDirectory(input) ? input.resolve("model.json") : input;
    if (!Files.isRegularFile(json)) {
      throw new UsageException(
          input + ": no model.json there; give the path of a TF.js layers model's model.json");
    }
    TfjsModel model = TfjsReader.read(json);
    TfjsModelJson mj = model.modelJson();
    if (mj.isGraphModel()) {
      throw new UsageException(
          json
              + ": is a TF.js graph model, which holds TensorFlow ops, not Keras layers; convert it"
              + " into ModelFormat.TF_SAVED_MODEL instead");
    }
    JsonNode topology = mj.modelTopology();
    JsonNode config = null;
    JsonNode training = mj.trainingConfig();
    String version = null;
    if (topology != null && !topology.isNull()) {
      if (!(topology instanceof ObjectNode t)) {
        throw new CorruptModelException(json + ": modelTopology is not a JSON object");
      }
      // The Python converter nests the config under model_config; TF.js' own save() does not.
      if (t.get("model_config") instanceof ObjectNode mc) {
        config = mc;
        if (training == null && t.get("training_config") instanceof ObjectNode tc) {
          training = tc;
        }
      } else if (t.path("class_name").isString()) {
        ObjectNode c = t.deepCopy();
        c.remove("keras_version");
        c.remove("backend");
        config = c;
      } else {
        throw new CorruptModelException(
            json + ": modelTopology holds neither model_config nor class_name; not a Keras model");
      }
      version = t.path("keras_version").asString(null);
    }
    Map<String, Tensor> weights = new LinkedHashMap<>();
    int quantized = 0;
    int optimizer = 0;
    for (WeightGroup g : model.groups()) {
      for (WeightGroup.Weight w : g.weights()) {
        if ("optimizer".equals(w.spec().group())) {
          optimizer++;
          continue;
        }
        if (weights.put(w.spec().name(), w.value()) != null) {
          throw new CorruptModelException(
              json + ": weight '" + w.spec().name() + "' is listed twice in the weights manifest");
        }
        if (w.spec().quantization() != null) {
          quantized++;
        }
      }
    }
    List<String> notices = new ArrayList<>();
    if (quantized > 0) {
      notices.add(
          json
              + ": "
              + quantized
              + " quantized weight"
              + (quantized == 1 ? " was" : "s were")
              + " dequantized to float32 (Keras stores float weights)");
    }
    if (optimizer > 0) {
      notices.add(
          json
              + ": "
              + optimizer
              + " optimizer weight"
              + (optimizer == 1 ? " was" : "s were")
              + " left out (Keras keeps only the model's weights here)");
    }
    return new Source(json, config, training, kerasVersion(version), weights, quantized, notices);
  }

  /**
   * TF.js holds configs in the Keras 2 form (a Keras 1 model's already upgraded), with TensorFlow
   * weight layouts, so the file says Keras 2 unless the model came from Keras 3, whose defaults
   * differ.
   */
  private static String kerasVersion(String v) {
    return v != null && (v.startsWith("2.") || v.startsWith("3.")) ? v : "2.15.0";
  }

  /** Each weight under the top-level layer it belongs to, layers in the config's order. */
  static List<KerasLayerWeights> byLayer(Source src) {
    Map<String, String> owner = new LinkedHashMap<>();
    Map<String, List<KerasWeight>> layers = new LinkedHashMap<>();
    if (src.modelConfig != null) {
      JsonNode cfg = src.modelConfig.path("config");
      JsonNode list = cfg.isArray() ? cfg : cfg.path("layers");
      for (JsonNode l : list) {
        String name = l.path("config").path("name").asString(l.path("name").asString(null));
        if (name == null) {
          throw new CorruptModelException(
              src.json
                  + ": a "
                  + l.path("class_name").asString("?")
                  + " layer of the model topology has no name");
        }
        layers.put(name, new ArrayList<>());
        owner.putIfAbsent(name, name);
        KerasLayerWalk.walk(
            l,
            "",
            (inner, path) -> {
              JsonNode n = inner.path("config").path("name");
              if (n.isString()) {
                owner.putIfAbsent(n.stringValue(), name);
              }
            });
      }
    }
    for (Map.Entry<String, Tensor> e : src.weights.entrySet()) {
      String wn = e.getKey();
      int slash = wn.indexOf('/');
      String scope = slash < 0 ? wn : wn.substring(0, slash);
      String layer = src.modelConfig == null ? scope : owner.get(scope);
      if (layer == null) {
        throw new CorruptModelException(
            src.json
                + ": weight '"
                + wn
                + "' belongs to no layer of the model topology (no layer '"
                + scope
                + "'); the topology and the weights manifest do not match");
      }
      // A weight without a scope is stored as Keras would name it inside its layer.
      String stored = slash < 0 ? layer + "/" + wn : wn;
      layers.computeIfAbsent(layer, k -> new ArrayList<>()).add(weight(stored, e.getValue()));
    }
    List<KerasLayerWeights> out = new ArrayList<>();
    layers.forEach((name, ws) -> out.add(new KerasLayerWeights(name, ws)));
    return out;
  }

  private static KerasWeight weight(String name, Tensor t) {
    return new KerasWeight(name, t.dtype(), t.shape(), () -> t);
  }

  private interface FileWrite {
    void write(Path tmp) throws IOException;
  }

  /** Writes beside the target under a hidden name and renames: no half-written file. */
  private static void writeFile(Path output, FileWrite write) {
    if (Files.isDirectory(output)) {
      throw new UsageException(output + ": the output path is a folder; give a file path");
    }
    try (AtomicOutput staging =
        AtomicOutput.folder(
            output.toAbsolutePath().resolveSibling("." + output.getFileName() + ".staging"))) {
      Path tmp = staging.dir().resolve(output.getFileName().toString());
      write.write(tmp);
      AtomicOutput.followUmask(tmp);
      Files.move(
          tmp,
          output.toAbsolutePath(),
          StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new OutputException(output + ": cannot write (" + e + ")", e);
    }
  }

  private static ConversionResult result(
      Path output, Source src, long start, List<String> notices) {
    long bytes;
    try {
      bytes = Files.size(output);
    } catch (IOException e) {
      throw new OutputException(output + ": written but cannot be read back (" + e + ")", e);
    }
    return new ConversionResult(
        output,
        List.of(output.toAbsolutePath()),
        bytes,
        src.weights.size(),
        null,
        (System.nanoTime() - start) / 1_000_000,
        notices,
        src.quantized > 0 ? "dequantized " + src.quantized + " weights" : "");
  }
}
