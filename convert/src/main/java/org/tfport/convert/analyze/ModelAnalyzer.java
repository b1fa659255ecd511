package org.tfport.convert.analyze;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.convert.keras.TfjsLayerSupport;
import org.tfport.convert.tfjs.TfGraphToTfjs;
import org.tfport.convert.tfjs.TfjsOpSupport;
import org.tfport.convert.tflite.TfliteOpSupport;
import org.tfport.core.DType;
import org.tfport.core.ProgressListener;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.core.graph.TensorValue;
import org.tfport.formats.ModelFormat;
import org.tfport.formats.graphdef.GraphDefReader;
import org.tfport.formats.keras.KerasLayerWeights;
import org.tfport.formats.keras.KerasModel;
import org.tfport.formats.keras.KerasWeight;
import org.tfport.formats.stablehlo.StableHloFiles;
import org.tfport.formats.stablehlo.StableHloModule;
import org.tfport.formats.tfjs.TfjsModel;
import org.tfport.formats.tfjs.TfjsReader;
import org.tfport.formats.tflite.TfliteAnalysis;
import org.tfport.formats.tflite.TfliteAnalyzer;
import org.tfport.graph.GraphLoader;
import org.tfport.graph.GraphOptions;
import org.tfport.graph.TfjsGraphReader;
import org.tfport.graph.stablehlo.StableHloLowering;
import tools.jackson.databind.JsonNode;

/**
 * {@code tfport analyze}: op (or layer class) counts, per-target support, parameters and quantized
 * sizes of any input tfport reads. Graphs are analyzed as the converters see them: loaded and
 * frozen by the same loaders, and the TFLite verdict comes from running the TFLite lowering itself
 * ({@link TfliteOpSupport}), so the ops listed as unsupported are exactly those {@code
 * --output_format=tflite} refuses.
 */
public final class ModelAnalyzer {
  static final String TFJS = "TF.js 4.22";
  static final String TFLITE = "TFLite builtins";
  static final String TFLITE_SELECT = "TFLite + select TF ops";

  /**
   * The TFLite converter leaves float tensors smaller than this unquantized in dynamic-range mode.
   */
  static final long DYNAMIC_RANGE_MIN_ELEMENTS = 1024;

  private static final Set<String> NOT_OUTPUTS =
      Set.of(
          "Const",
          "NoOp",
          "Placeholder",
          "Assert",
          "SaveV2",
          "Save",
          "SaveSlices",
          "RestoreV2",
          "Restore",
          "RestoreSlice",
          "VarHandleOp",
          "VariableV2",
          "Variable");

  private ModelAnalyzer() {}

  public static ModelAnalysis analyze(Path path) {
    return analyze(path, null, null);
  }

  /**
   * @param signature for a SavedModel, the signature to analyze, or null for the default
   * @param tags for a SavedModel, the MetaGraph's tags, or null for {@code serve}
   */
  public static ModelAnalysis analyze(Path path, String signature, Set<String> tags) {
    ModelFormat detected = ModelFormat.detect(path);
    String format = detected.flagName();
    return switch (detected) {
      case TFLITE -> tflite(path);
      case TF_SAVED_MODEL, TF_HUB -> {
        boolean hub = detected == ModelFormat.TF_HUB;
        Path dir = Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
        GraphOptions go = new GraphOptions(signature, tags, true, false, false, List.of());
        yield graph(
            dir.toString(),
            format,
            out -> {
              if (hub) {
                TfGraphToTfjs.convertHub(
                    dir, out, go, TfjsOutputOptions.defaults(), ProgressListener.NONE);
              } else {
                TfGraphToTfjs.convertSavedModel(
                    dir, out, go, TfjsOutputOptions.defaults(), ProgressListener.NONE);
              }
            },
            () -> {
              GraphLoader.Loaded l = GraphLoader.loadSavedModel(dir, go, hub);
              return new Loaded(l.graph(), new ArrayList<>(new TreeMap<>(l.inputNodes()).values()));
            });
      }
      case TF_FROZEN_MODEL -> {
        List<String> outs = sinks(GraphDefReader.read(path));
        GraphOptions go = new GraphOptions(null, null, true, false, false, outs);
        yield graph(
            path.toString(),
            format,
            out ->
                TfGraphToTfjs.convertFrozen(
                    path, out, go, TfjsOutputOptions.defaults(), ProgressListener.NONE),
            () -> {
              GraphLoader.Loaded l = GraphLoader.loadFrozen(path, go);
              List<String> ins =
                  l.graph().nodes().stream()
                      .filter(n -> n.op().equals("Placeholder"))
                      .map(Node::name)
                      .toList();
              return new Loaded(l.graph(), ins);
            });
      }
      case TFJS_GRAPH_MODEL ->
          graph(
              path.toString(),
              format,
              null,
              () -> {
                TfjsGraphReader.TfjsGraph tg = TfjsGraphReader.read(path);
                return new Loaded(tg.graph(), new ArrayList<>(new TreeMap<>(tg.inputs()).values()));
              });
      case STABLEHLO -> stablehlo(path, format);
      case KERAS, KERAS_KERAS -> keras(path, format);
      case TFJS_LAYERS_MODEL ->
          tfjsLayers(Files.isDirectory(path) ? path.resolve("model.json") : path);
      case KERAS_SAVED_MODEL ->
          throw new UsageException(path + ": analyze does not read " + format);
    };
  }

  /** Nodes nothing reads, as output names for a frozen graph without given outputs. */
  static List<String> sinks(Graph g) {
    Set<String> read = new HashSet<>();
    for (Node n : g.nodes()) {
      n.inputs().forEach(i -> read.add(TensorRef.nodeOf(i)));
    }
    List<String> out = new ArrayList<>();
    for (Node n : g.nodes()) {
      if (!read.contains(n.name())
          && !NOT_OUTPUTS.contains(n.op())
          && !n.op().startsWith("Assign")) {
        out.add(n.name());
      }
    }
    if (out.isEmpty()) {
      throw new UsageException(
          g.source() + ": every node is read by another; the graph has no outputs to analyze");
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------------- graphs

  record Loaded(Graph graph, List<String> inputs) {}

  /**
   * @param toTfjs runs the TF.js converter into the given folder, so the parameters are those it
   *     writes (its optimizer folds and drops constants); null when the input already is a TF.js
   *     model
   */
  /**
   * A StableHLO program: first target the lowering to the graph IR (each StableHLO op, and the
   * locations of those that do not lower); when it lowers, the lowered graph's targets follow.
   */
  private static ModelAnalysis stablehlo(Path path, String format) {
    StableHloModule m = StableHloFiles.read(path);
    Map<String, Integer> hloCounts = new TreeMap<>();
    StableHloLowering.opCensus(m).forEach((op, c) -> hloCounts.put(op, c[0]));
    List<StableHloLowering.Problem> problems = StableHloLowering.problems(m);
    Map<String, List<String>> bad = new TreeMap<>();
    for (StableHloLowering.Problem p : problems) {
      bad.computeIfAbsent(p.op(), k -> new ArrayList<>())
          .add(p.location() + " (" + p.reason() + ")");
    }
    Map<String, Integer> ok = new TreeMap<>(hloCounts);
    ok.keySet().removeAll(bad.keySet());
    ModelAnalysis.Target lowering = new ModelAnalysis.Target("StableHLO lowering", ok, bad, null);
    if (!problems.isEmpty()) {
      return new ModelAnalysis(
          path.toString(),
          format,
          "op",
          hloCounts,
          List.of(lowering),
          0,
          "nothing (the program does not lower)",
          0,
          List.of(),
          null);
    }
    ModelAnalysis g =
        graph(
            path.toString(),
            format,
            out ->
                TfGraphToTfjs.convertStableHlo(
                    path,
                    out,
                    GraphOptions.defaults(),
                    TfjsOutputOptions.defaults(),
                    ProgressListener.NONE),
            () -> {
              StableHloLowering.Lowered lw = StableHloLowering.lower(m);
              return new Loaded(lw.graph(), lw.inputNames());
            });
    List<ModelAnalysis.Target> targets = new ArrayList<>();
    targets.add(lowering);
    targets.addAll(g.targets());
    return new ModelAnalysis(
        g.source(),
        format,
        "op",
        g.counts(),
        targets,
        g.parameters(),
        g.parameterBasis(),
        g.bytes(),
        g.estimates(),
        null);
  }

  private static ModelAnalysis graph(
      String source, String format, Consumer<Path> toTfjs, Supplier<Loaded> load) {
    Loaded l = load.get();
    Graph g = l.graph();
    Map<String, Integer> counts = new LinkedHashMap<>();
    Map<String, Integer> jsOk = new TreeMap<>();
    Map<String, List<String>> jsBad = new TreeMap<>();
    Weights w = new Weights();
    List<Node> all = new ArrayList<>(g.nodes());
    Map<Node, String> prefix = new LinkedHashMap<>();
    for (GraphFunction f : g.functions().values()) {
      for (Node n : f.nodes()) {
        all.add(n);
        prefix.put(n, f.name() + "/");
      }
    }
    for (Node n : all) {
      counts.merge(n.op(), 1, Integer::sum);
      if (TfjsOpSupport.supports(n.op())) {
        jsOk.merge(n.op(), 1, Integer::sum);
      } else {
        jsBad
            .computeIfAbsent(n.op(), k -> new ArrayList<>())
            .add(prefix.getOrDefault(n, "") + n.name());
      }
      if (n.op().equals("Const")) {
        TensorValue tv = n.tensorAttr("value");
        if (tv != null && tv.value() != null) {
          w.add(tv.value());
        }
      }
    }
    List<ModelAnalysis.Target> targets = new ArrayList<>();
    targets.add(new ModelAnalysis.Target(TFJS, jsOk, jsBad, null));
    targets.add(tfliteTarget(TFLITE, load, false, counts));
    targets.add(tfliteTarget(TFLITE_SELECT, load, true, counts));
    String basis =
        format.equals(ModelFormat.TFJS_GRAPH_MODEL.flagName())
            ? "the model's weights"
            : "frozen graph constants";
    if (toTfjs != null) {
      Weights js = tfjsWeights(toTfjs);
      if (js != null) {
        w = js;
        basis = "weights of the TF.js conversion";
      } else {
        basis += " (the TF.js converter refuses the model)";
      }
    }
    return new ModelAnalysis(
        source,
        format,
        "op",
        sorted(counts),
        targets,
        w.elements,
        basis,
        w.bytes,
        w.estimates(true),
        null);
  }

  /**
   * The weights the TF.js converter writes, converting into a temporary folder; null when it
   * refuses.
   */
  private static Weights tfjsWeights(Consumer<Path> toTfjs) {
    Path dir = null;
    try {
      dir = Files.createTempDirectory("tfport-analyze");
      Path out = dir.resolve("tfjs");
      toTfjs.accept(out);
      Weights w = new Weights();
      TfjsReader.read(out.resolve("model.json")).weightsByName().values().forEach(w::add);
      return w;
    } catch (TfportException e) {
      return null;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      if (dir != null) {
        try (var s = Files.walk(dir)) {
          s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
          // best effort
        }
      }
    }
  }

  private static ModelAnalysis.Target tfliteTarget(
      String name, Supplier<Loaded> load, boolean select, Map<String, Integer> counts) {
    Loaded l = load.get();
    TfliteOpSupport.Result r;
    try {
      r = TfliteOpSupport.check(l.graph(), l.inputs(), select);
    } catch (TfportException e) {
      return new ModelAnalysis.Target(
          name, Map.of(), Map.of(), "the lowering failed: " + e.getMessage());
    }
    Map<String, List<String>> bad = new TreeMap<>();
    for (String u : r.unsupported()) {
      int sp = u.indexOf(" (");
      bad.computeIfAbsent(u.substring(0, sp), k -> new ArrayList<>())
          .add(u.substring(sp + 2, u.length() - 1));
    }
    if (select) {
      // A Flex op is the NodeDef alone: an op that calls functions (While, If, PartitionedCall)
      // finds none.
      for (Node n : l.graph().nodes()) {
        if (r.flexOps().contains(n.op()) && callsFunctions(n)) {
          bad.computeIfAbsent(
                  n.op() + " (calls functions, which Flex ops do not carry)",
                  k -> new ArrayList<>())
              .add(n.name());
        }
      }
    }
    Map<String, Integer> ok = new TreeMap<>();
    counts.forEach(
        (op, c) -> {
          if (bad.keySet().stream().noneMatch(k -> k.equals(op) || k.startsWith(op + " ("))) {
            ok.put(op, c);
          }
        });
    String note =
        select && !r.flexOps().isEmpty()
            ? "Flex ops (need the select TF ops delegate): " + String.join(", ", r.flexOps())
            : null;
    return new ModelAnalysis.Target(name, ok, bad, note);
  }

  private static boolean callsFunctions(Node n) {
    return n.attrs().values().stream()
        .anyMatch(
            v ->
                v instanceof AttrValue.Func
                    || v instanceof AttrValue.ListAttr l && !l.func().isEmpty());
  }

  // ------------------------------------------------------------------------------------------------- tflite

  private static ModelAnalysis tflite(Path path) {
    TfliteAnalysis a = TfliteAnalyzer.analyze(path);
    Map<String, Integer> counts = new LinkedHashMap<>(a.builtinOps());
    a.customOps().forEach(counts::put);
    a.flexOps().forEach((k, v) -> counts.put("Flex" + k, v));
    Map<String, List<String>> custom = new TreeMap<>();
    a.customOps().forEach((k, v) -> custom.put(k, List.of(v + " custom operator(s)")));
    Map<String, List<String>> flex = new TreeMap<>();
    a.flexOps().forEach((k, v) -> flex.put("Flex" + k, List.of(v + " Flex operator(s)")));
    Map<String, List<String>> notBuiltin = new TreeMap<>(custom);
    notBuiltin.putAll(flex);
    Map<String, Integer> withFlex = new LinkedHashMap<>(a.builtinOps());
    a.flexOps().forEach((k, v) -> withFlex.put("Flex" + k, v));
    List<ModelAnalysis.Target> targets =
        List.of(
            new ModelAnalysis.Target(
                TFJS,
                Map.of(),
                Map.of(),
                "not applicable: tfport does not convert .tflite to" + " TF.js"),
            new ModelAnalysis.Target(TFLITE, a.builtinOps(), notBuiltin, null),
            new ModelAnalysis.Target(TFLITE_SELECT, withFlex, custom, null));
    List<ModelAnalysis.Estimate> est = new ArrayList<>();
    for (TfliteAnalysis.SizeEstimate e : a.estimates()) {
      est.add(new ModelAnalysis.Estimate("tflite", e.mode() + " (file)", e.bytes()));
    }
    return new ModelAnalysis(
        path.toString(),
        "tflite",
        "op",
        sorted(counts),
        targets,
        a.parameters(),
        "constant tensors of the file",
        a.constantBytes(),
        est,
        a);
  }

  // ------------------------------------------------------------------------------------------------- layers

  private static ModelAnalysis keras(Path path, String format) {
    try (KerasModel m = KerasModel.open(path)) {
      Weights w = new Weights();
      for (KerasLayerWeights lw : m.layers()) {
        for (KerasWeight kw : lw.weights()) {
          w.add(kw.dtype(), kw.shape().size());
        }
      }
      return layers(path.toString(), format, m.modelConfig(), w);
    }
  }

  private static ModelAnalysis tfjsLayers(Path modelJson) {
    TfjsModel m = TfjsReader.read(modelJson);
    if (m.modelJson() == null || m.modelJson().modelTopology() == null) {
      throw new UsageException(
          modelJson + ": a weights manifest without a model topology; nothing to analyze");
    }
    JsonNode topo = m.modelJson().modelTopology();
    JsonNode config = topo.has("model_config") ? topo.path("model_config") : topo;
    Weights w = new Weights();
    m.weightsByName().values().forEach(w::add);
    return layers(modelJson.toString(), "tfjs_layers_model", config, w);
  }

  private static ModelAnalysis layers(String source, String format, JsonNode config, Weights w) {
    if (config == null || config.isMissingNode() || config.isNull()) {
      throw new UsageException(
          source + ": no model config (a weights-only file); nothing to analyze");
    }
    Map<String, Integer> counts = new LinkedHashMap<>();
    Map<String, Integer> ok = new TreeMap<>();
    Map<String, List<String>> bad = new TreeMap<>();
    walk(config, "", counts, ok, bad);
    String noTflite =
        "not checked: tfport converts Keras models to TF.js layers models only; for TFLite, save a"
            + " SavedModel and analyze that";
    List<ModelAnalysis.Target> targets =
        List.of(
            new ModelAnalysis.Target(TFJS, ok, bad, null),
            new ModelAnalysis.Target(TFLITE, Map.of(), Map.of(), noTflite),
            new ModelAnalysis.Target(TFLITE_SELECT, Map.of(), Map.of(), noTflite));
    return new ModelAnalysis(
        source,
        format,
        "layer",
        sorted(counts),
        targets,
        w.elements,
        "the model's weights",
        w.bytes,
        w.estimates(false),
        null);
  }

  /** Counts every layer, looking into nested models and wrapped layers. */
  private static void walk(
      JsonNode layer,
      String path,
      Map<String, Integer> counts,
      Map<String, Integer> ok,
      Map<String, List<String>> bad) {
    String cls = layer.path("class_name").asString("");
    JsonNode cfg = layer.path("config");
    String name = cfg.path("name").asString(layer.path("name").asString(cls));
    if (!cls.isEmpty()) {
      counts.merge(cls, 1, Integer::sum);
      String problem =
          TfjsLayerSupport.supports(cls) ? TfjsLayerSupport.unsupportedSetting(cls, cfg) : null;
      if (problem != null) {
        bad.computeIfAbsent(cls + " with " + problem, k -> new ArrayList<>()).add(path + name);
      } else if (TfjsLayerSupport.supports(cls)) {
        ok.merge(cls, 1, Integer::sum);
      } else {
        bad.computeIfAbsent(cls, k -> new ArrayList<>()).add(path + name);
      }
    }
    JsonNode children = cfg.isArray() ? cfg : cfg.path("layers");
    for (JsonNode c : children) {
      walk(c, path + name + "/", counts, ok, bad);
    }
    if (cfg.has("layer")) {
      walk(cfg.path("layer"), path + name + "/", counts, ok, bad);
    }
  }

  // ------------------------------------------------------------------------------------------------ weights

  private static Map<String, Integer> sorted(Map<String, Integer> counts) {
    Map<String, Integer> out = new LinkedHashMap<>();
    counts.entrySet().stream()
        .sorted(
            Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder())
                .thenComparing(Map.Entry.comparingByKey()))
        .forEach(e -> out.put(e.getKey(), e.getValue()));
    return out;
  }

  /**
   * Totals for the size estimates: float32 elements (all, and in tensors big enough to quantize),
   * the rest.
   */
  static final class Weights {
    long elements;
    long bytes;
    long f32;
    long f32Large;
    long otherBytes;

    void add(Tensor t) {
      if (t.dtype() == DType.STRING) {
        elements += t.size();
        bytes += t.byteLength();
        otherBytes += t.byteLength();
      } else {
        add(t.dtype(), t.size());
      }
    }

    void add(DType d, long n) {
      elements += n;
      long b = n * (d == DType.STRING ? 1 : d.byteSize());
      bytes += b;
      if (d == DType.FLOAT32) {
        f32 += n;
        if (n >= DYNAMIC_RANGE_MIN_ELEMENTS) {
          f32Large += n;
        }
      } else {
        otherBytes += b;
      }
    }

    List<ModelAnalysis.Estimate> estimates(boolean tflite) {
      List<ModelAnalysis.Estimate> e = new ArrayList<>();
      e.add(new ModelAnalysis.Estimate("tfjs", "none", bytes));
      e.add(new ModelAnalysis.Estimate("tfjs", "float16", otherBytes + 2 * f32));
      e.add(new ModelAnalysis.Estimate("tfjs", "uint16", otherBytes + 2 * f32));
      e.add(new ModelAnalysis.Estimate("tfjs", "uint8", otherBytes + f32));
      if (tflite) {
        e.add(new ModelAnalysis.Estimate("tflite", "none", bytes));
        e.add(new ModelAnalysis.Estimate("tflite", "float16", otherBytes + 2 * f32));
        e.add(
            new ModelAnalysis.Estimate(
                "tflite", "dynamic_range_int8", otherBytes + f32Large + 4 * (f32 - f32Large)));
        e.add(new ModelAnalysis.Estimate("tflite", "full_int8", otherBytes + f32));
      }
      return e;
    }
  }
}
