package org.tfport.convert.keras;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.convert.ConversionResult;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.convert.Version;
import org.tfport.core.AtomicOutput;
import org.tfport.core.ProgressListener;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.formats.keras.KerasLayerWeights;
import org.tfport.formats.keras.KerasModel;
import org.tfport.formats.keras.KerasWeight;
import org.tfport.formats.tfjs.TfjsModelJson;
import org.tfport.formats.tfjs.TfjsWriter;
import org.tfport.formats.tfjs.WeightEntry;
import org.tfport.formats.tfjs.WriteOptions;
import org.tfport.formats.tfjs.WriteSummary;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Keras ({@code .h5}, {@code .keras}) to a TF.js layers model: the Keras config becomes {@code
 * modelTopology}, each layer's weights become manifest entries named {@code layer/weight}. Every
 * layer class is checked against what TF.js can deserialize first, so a model either converts whole
 * or is refused naming each layer TF.js cannot run.
 */
public final class KerasToTfjs {
  private static final Set<String> CONV_CLASSES =
      Set.of("Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "ConvLSTM2D");

  private KerasToTfjs() {}

  public static ConversionResult convert(
      Path input, Path output, TfjsOutputOptions options, ProgressListener progress) {
    return convert(KerasModel.open(input), output, options, progress);
  }

  /**
   * A SavedModel folder written by Keras' {@code model.save(dir)}, converted as its .h5 would be.
   */
  public static ConversionResult convertSavedModel(
      Path input, Path output, TfjsOutputOptions options, ProgressListener progress) {
    return convert(KerasModel.openSavedModel(input), output, options, progress);
  }

  private static ConversionResult convert(
      KerasModel opened, Path output, TfjsOutputOptions options, ProgressListener progress) {
    long start = System.nanoTime();
    try (KerasModel model = opened;
        AtomicOutput out = AtomicOutput.modelFolder(output, options.overwrite())) {
      List<String> notices = new ArrayList<>();
      TfjsModelJson json = modelJson(model, options, notices);
      List<List<WeightEntry>> groups =
          groups(
              model,
              layerClasses(model),
              options.weightGrouping() == TfjsOutputOptions.WeightGrouping.PER_LAYER);
      WriteSummary ws =
          TfjsWriter.write(
              out.dir(),
              json,
              groups,
              new WriteOptions(options.shardSizeBytes(), options.quantization()),
              progress);
      out.commit();
      notices.addAll(ws.notices());
      return new ConversionResult(
          output,
          ws.files().stream().map(f -> output.resolve(out.dir().relativize(f))).toList(),
          ws.totalBytes(),
          ws.weightCount(),
          null,
          (System.nanoTime() - start) / 1_000_000,
          notices,
          "");
    }
  }

  static TfjsModelJson modelJson(
      KerasModel model, TfjsOutputOptions options, List<String> notices) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode topology = null;
    if (!model.weightsOnly()) {
      if (!(model.modelConfig() instanceof ObjectNode mc) || !mc.path("class_name").isString()) {
        throw new CorruptModelException(
            model.source()
                + ": model_config is not a Keras model config"
                + " (expected {\"class_name\": ..., \"config\": ...}); the file is damaged or not from Keras");
      }
      ObjectNode config = mc.deepCopy();
      checkAndRename(model, config);
      topology = f.objectNode();
      topology.put("keras_version", model.kerasVersion() == null ? "2.15.0" : model.kerasVersion());
      topology.put("backend", model.backend() == null ? "tensorflow" : model.backend());
      topology.set("model_config", config);
      if (model.trainingConfig() != null) {
        topology.set("training_config", model.trainingConfig());
      }
    } else {
      notices.add(
          model.source() + ": weights-only file, written with a null modelTopology (as upstream)");
    }
    String generatedBy =
        model.weightsOnly()
            ? null
            : "keras v" + (model.kerasVersion() == null ? "unknown" : model.kerasVersion());
    TfjsModelJson json = TfjsModelJson.layers(generatedBy, Version.CONVERTED_BY, topology);
    return options.userDefinedMetadata() == null
        ? json
        : json.withUserDefinedMetadata(options.userDefinedMetadata());
  }

  /**
   * Applies upstream's class renames and refuses, in one message, every layer TF.js cannot load.
   */
  static void checkAndRename(KerasModel model, ObjectNode config) {
    if (model.kerasMajor() == 1) {
      Keras1Upgrade.upgrade(model.source(), model.backend(), config);
    }
    KerasLayerWalk.walk(config, "", (layer, path) -> checkWiring(model.source(), layer, path));
    Map<String, List<String>> unsupported = new LinkedHashMap<>();
    KerasLayerWalk.walk(
        config,
        "",
        (layer, path) -> {
          String cls = layer.path("class_name").asString("");
          String renamed = TfjsLayerClasses.RENAMES.get(cls);
          if (renamed != null) {
            layer.put("class_name", renamed);
            cls = renamed;
          }
          if (TfjsLayerClasses.isLeakyRelu(cls, layer.path("config"))) {
            ObjectNode cfg = (ObjectNode) layer.get("config");
            cfg.set("alpha", cfg.remove("negative_slope"));
            cfg.remove("threshold");
            cfg.remove("max_value");
            layer.put("class_name", "LeakyReLU");
            cls = "LeakyReLU";
          }
          if (cls.equals("SpatialDropout2D") || cls.equals("SpatialDropout3D")) {
            spatialDropoutAsDropout(layer, cls.equals("SpatialDropout2D") ? 2 : 3);
            cls = "Dropout";
          }
          if (!TfjsLayerClasses.SUPPORTED.contains(cls)) {
            unsupported.computeIfAbsent(cls, k -> new ArrayList<>()).add(path);
          } else {
            String problem = TfjsLayerClasses.unsupportedSetting(cls, layer.path("config"));
            if (problem != null) {
              unsupported
                  .computeIfAbsent(cls + " with " + problem, k -> new ArrayList<>())
                  .add(path);
            }
            TfjsLayerClasses.dropUnusedKeys(cls, layer.get("config"));
          }
          for (String key :
              TfjsLayerClasses.SUPPORTED.contains(cls) ? keywordTensors(layer) : Set.<String>of()) {
            unsupported
                .computeIfAbsent(
                    cls + " called with a tensor as " + key + "=", k -> new ArrayList<>())
                .add(path);
          }
        });
    if (!unsupported.isEmpty()) {
      StringBuilder sb = new StringBuilder();
      for (Map.Entry<String, List<String>> e : unsupported.entrySet()) {
        if (!sb.isEmpty()) {
          sb.append("; ");
        }
        sb.append(e.getKey())
            .append(" (layer ")
            .append(String.join(", ", e.getValue().stream().map(p -> "'" + p + "'").toList()))
            .append(')');
      }
      throw new UnsupportedModelException(
          model.source()
              + ": TensorFlow.js cannot load layer class"
              + (unsupported.size() > 1 ? "es " : " ")
              + sb
              + "; replace "
              + (unsupported.size() > 1 ? "them" : "it")
              + " with built-in layers, or convert to a graph model, which runs them as TensorFlow ops"
              + " (into ModelFormat.TFJS_GRAPH_MODEL)");
    }
  }

  /**
   * The keyword arguments through which a layer's calls pass a model tensor ({@code [layer, node,
   * tensor]}, alone or first in a list): TF.js hands a call's kwargs to the layer as they are, so
   * {@code mask=} or {@code initial_state=} would reach it as a name, not a tensor.
   */
  private static Set<String> keywordTensors(JsonNode layer) {
    java.util.Set<String> keys = new java.util.TreeSet<>();
    for (JsonNode node : layer.path("inbound_nodes")) {
      for (JsonNode e :
          node.isArray() && !node.isEmpty() && node.get(0).isString()
              ? List.of(node)
              : (Iterable<JsonNode>) node::iterator) {
        if (e.isArray() && e.size() > 3 && e.get(3).isObject()) {
          for (Map.Entry<String, JsonNode> kv : e.get(3).properties()) {
            JsonNode v = kv.getValue();
            if (isTensorRef(v) || (v.isArray() && !v.isEmpty() && isTensorRef(v.get(0)))) {
              keys.add(kv.getKey());
            }
          }
        }
      }
    }
    return keys;
  }

  private static boolean isTensorRef(JsonNode v) {
    return v.isArray()
        && v.size() == 3
        && v.get(0).isString()
        && v.get(1).isNumber()
        && v.get(2).isNumber();
  }

  /**
   * A functional model's layers must carry their names and call only layers that exist: TF.js does
   * not report a broken reference, it never finishes loading, so a damaged config is refused here
   * instead.
   */
  static void checkWiring(Path file, ObjectNode model, String path) {
    JsonNode cfg = model.path("config");
    if (!cfg.has("input_layers") || !cfg.path("layers").isArray()) {
      return;
    }
    java.util.Set<String> names = new java.util.HashSet<>();
    for (JsonNode l : cfg.path("layers")) {
      if (!l.path("name").isString()) {
        throw new CorruptModelException(
            file
                + ": a layer of functional model '"
                + path
                + "' has no name"
                + " beside its config ("
                + l.path("class_name").asString("?")
                + "); the config is damaged");
      }
      names.add(l.path("name").stringValue());
    }
    for (JsonNode l : cfg.path("layers")) {
      for (JsonNode node : l.path("inbound_nodes")) {
        for (JsonNode call : node) {
          String from = call.path(0).asString(null);
          if (from != null && !names.contains(from)) {
            throw new CorruptModelException(
                file
                    + ": layer '"
                    + path
                    + "/"
                    + l.path("name").stringValue()
                    + "' takes its input from '"
                    + from
                    + "', which is not a layer of the model; the config is"
                    + " damaged");
          }
        }
      }
    }
    for (String key : List.of("input_layers", "output_layers")) {
      for (JsonNode end : cfg.path(key)) {
        String n = end.path(0).asString(null);
        if (n != null && !names.contains(n)) {
          throw new CorruptModelException(
              file
                  + ": "
                  + key
                  + " of '"
                  + path
                  + "' names '"
                  + n
                  + "', which is not a layer of the model; the config is damaged");
        }
      }
    }
  }

  /**
   * SpatialDropout2D/3D is Dropout whose mask is shared across the spatial axes; TF.js lacks the
   * class but its Dropout takes the same {@code noise_shape} (nulls filled from the input), so this
   * keeps training and inference behaviour exactly.
   */
  static void spatialDropoutAsDropout(ObjectNode layer, int spatialRank) {
    layer.put("class_name", "Dropout");
    if (!(layer.get("config") instanceof ObjectNode cfg)) {
      return;
    }
    boolean channelsFirst = "channels_first".equals(cfg.path("data_format").asString(""));
    cfg.remove("data_format");
    var noise = cfg.putArray("noise_shape");
    noise.addNull();
    if (channelsFirst) {
      noise.addNull();
    }
    for (int i = 0; i < spatialRank; i++) {
      noise.add(1);
    }
    if (!channelsFirst) {
      noise.addNull();
    }
  }

  /** Top-level layer name to class, for weight fix-ups that depend on the layer kind. */
  static Map<String, String> layerClasses(KerasModel model) {
    Map<String, String> out = new HashMap<>();
    if (model.modelConfig() != null) {
      KerasLayerWalk.walk(
          model.modelConfig(),
          "",
          (layer, path) -> {
            JsonNode name = layer.path("config").path("name");
            if (name.isString()) {
              out.putIfAbsent(name.stringValue(), layer.path("class_name").asString(""));
            }
          });
    }
    return out;
  }

  static List<List<WeightEntry>> groups(
      KerasModel model, Map<String, String> classes, boolean split) {
    boolean theano = "theano".equals(model.backend());
    List<List<WeightEntry>> groups = new ArrayList<>();
    List<WeightEntry> all = new ArrayList<>();
    for (KerasLayerWeights layer : model.layers()) {
      List<WeightEntry> entries = new ArrayList<>();
      String cls = classes.getOrDefault(layer.layerName(), "");
      cls = TfjsLayerClasses.RENAMES.getOrDefault(cls, cls);
      List<KerasWeight> ws =
          model.kerasMajor() == 1 ? Keras1Upgrade.weights(model, layer) : layer.weights();
      for (int i = 0; i < ws.size(); i++) {
        KerasWeight w = ws.get(i);
        boolean flip =
            theano
                && CONV_CLASSES.contains(cls)
                && (i == 0 || (i == 1 && cls.equals("ConvLSTM2D")));
        entries.add(
            new WeightEntry(
                manifestName(w.name(), layer.layerName(), classes),
                w.dtype(),
                w.shape(),
                flip ? () -> TheanoKernels.flip(w.data().get()) : w.data(),
                null));
      }
      if (split) {
        if (!entries.isEmpty()) {
          groups.add(entries);
        }
      } else {
        all.addAll(entries);
      }
    }
    if (!split) {
      groups.add(all);
    }
    return groups;
  }

  /**
   * TF.js binds a weight by {@code layer/weight}. Keras names a weight after the name scope it was
   * created in, which differs from the layer's name when a model was built twice in one session
   * ({@code conv0_1/kernel} in layer {@code conv0}); such names are rebased onto the layer that
   * owns them.
   */
  static String manifestName(String weightName, String layerName, Map<String, String> knownLayers) {
    int slash = weightName.indexOf('/');
    if (slash < 0) {
      return layerName + "/" + weightName;
    }
    String scope = weightName.substring(0, slash);
    if (knownLayers.isEmpty() || knownLayers.containsKey(scope)) {
      return weightName;
    }
    return layerName + weightName.substring(slash);
  }

  /** Exposed for tests: the weights a conversion writes, with fix-ups applied, by manifest name. */
  static Map<String, Tensor> weightsByName(KerasModel model) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (List<WeightEntry> g : groups(model, layerClasses(model), false)) {
      for (WeightEntry e : g) {
        out.put(e.name(), e.data().get());
      }
    }
    return out;
  }
}
