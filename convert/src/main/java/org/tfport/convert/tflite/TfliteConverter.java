package org.tfport.convert.tflite;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.tfport.convert.ConversionResult;
import org.tfport.convert.TfliteQuantizationMode;
import org.tfport.convert.TfliteSupportMetadata;
import org.tfport.convert.Version;
import org.tfport.convert.tfjs.TfGraphToTfjs;
import org.tfport.core.TfportException.OutputException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.formats.tflite.ConversionMetadata;
import org.tfport.formats.tflite.TfliteMetadata;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteModelMetadata;
import org.tfport.formats.tflite.TfliteSignatureDef;
import org.tfport.formats.tflite.TfliteWriter;
import org.tfport.graph.Functionalize;
import org.tfport.graph.GraphLoader;
import org.tfport.graph.GraphOptions;
import org.tfport.graph.TensorArrays;
import org.tfport.graph.optimize.GraphOptimizer;

/**
 * TensorFlow graphs (SavedModel signatures, frozen GraphDefs, TF Hub modules) to one {@code
 * .tflite} file, as {@code tf.lite.TFLiteConverter} does: load and freeze through {@link
 * TfGraphToTfjs}'s loaders, run the target-independent optimizer (constant and batch-norm folding),
 * lower each signature to a subgraph ({@link Lowering}), quantize weights if asked, and write the
 * file with one SignatureDef per signature, {@code min_runtime_version} and {@code
 * CONVERSION_METADATA}, through a temporary file renamed into place.
 */
public final class TfliteConverter {
  private TfliteConverter() {}

  /**
   * A graph ready to lower, with its signature's keys and its node count as read (before freezing).
   */
  record Source(
      Graph graph,
      String signature,
      List<String> inputKeys,
      List<String> inputNodes,
      List<String> outputKeys,
      int loadedNodes) {}

  /**
   * {@code tf_saved_model} / {@code tf_hub}: one subgraph per signature key (default: the format's
   * default).
   */
  public static ConversionResult convertSavedModel(
      Path dir,
      Path output,
      GraphOptions go,
      List<String> signatures,
      boolean hub,
      TfliteOptions o) {
    long start = System.nanoTime();
    List<String> keys =
        signatures == null || signatures.isEmpty()
            ? java.util.Arrays.asList((String) null)
            : signatures;
    List<Source> sources = new ArrayList<>();
    String tfVersion = "";
    for (String key : keys) {
      GraphOptions g2 =
          new GraphOptions(
              key,
              go.tags(),
              go.stripDebugOps(),
              go.skipOpCheck(),
              go.useStructuredOutputsNames(),
              go.outputNodeNames());
      GraphLoader.Loaded l = GraphLoader.loadSavedModel(dir, g2, hub);
      tfVersion = l.savedModel().tensorflowVersion();
      // Signature keys sorted by name, as the reference converter orders TensorMaps and entry
      // arguments.
      Map<String, String> ins = new TreeMap<>(l.inputNodes());
      List<String> outKeys = new ArrayList<>(l.outputKeys());
      sources.add(
          new Source(
              l.graph(),
              l.signature(),
              new ArrayList<>(ins.keySet()),
              new ArrayList<>(ins.values()),
              outKeys,
              l.before().nodes()));
    }
    return convert(
        sources,
        output,
        o,
        ConversionMetadata.MODEL_TYPE_TF_SAVED_MODEL,
        tfVersion,
        dir.toString(),
        start,
        true);
  }

  /**
   * {@code tf_frozen_model}: outputs from {@code go.outputNodeNames()}; {@code inputShapes} (may be
   * empty) sets the placeholders' shapes by name. No SignatureDef, as for the reference V1
   * converter.
   */
  public static ConversionResult convertFrozen(
      Path file,
      Path output,
      GraphOptions go,
      List<String> inputArrays,
      Map<String, long[]> inputShapes,
      TfliteOptions o) {
    long start = System.nanoTime();
    if (Files.isDirectory(file)) {
      throw new UsageException(
          file + ": a frozen model is a single GraphDef .pb file, not a folder");
    }
    GraphLoader.Loaded l = GraphLoader.loadFrozen(file, go);
    Graph g = l.graph();
    for (Map.Entry<String, long[]> e : inputShapes.entrySet()) {
      Node n = g.node(e.getKey());
      if (n == null || !n.op().equals("Placeholder")) {
        throw new UsageException(
            file
                + ": GraphLoadingOptions.inputShape names '"
                + e.getKey()
                + "', which is not"
                + " a placeholder"
                + " the outputs need");
      }
      n.attr("shape", new AttrValue.Shape(TensorShape.of(e.getValue())));
    }
    List<String> inputs = new ArrayList<>();
    if (inputArrays != null && !inputArrays.isEmpty()) {
      for (String a : inputArrays) {
        Node n = g.node(a);
        if (n == null || !n.op().equals("Placeholder")) {
          throw new UsageException(
              file
                  + ": GraphLoadingOptions.inputNodeNames names '"
                  + a
                  + "', which is not a"
                  + " placeholder the"
                  + " outputs need");
        }
        inputs.add(a);
      }
    } else {
      for (Node n : g.nodes()) {
        if (n.op().equals("Placeholder")) {
          inputs.add(n.name());
        }
      }
    }
    List<String> outKeys = go.outputNodeNames().stream().map(String::strip).toList();
    Source s = new Source(g, null, inputs, inputs, outKeys, l.before().nodes());
    return convert(
        List.of(s),
        output,
        o,
        ConversionMetadata.MODEL_TYPE_TF_GRAPH_DEF,
        "",
        file.toString(),
        start,
        false);
  }

  /**
   * A StableHLO program: its entry function lowered to a graph, one {@code serving_default}
   * SignatureDef from its arguments and results.
   */
  public static ConversionResult convertStableHlo(Path file, Path output, TfliteOptions o) {
    return convertStableHlo(file, output, Map.of(), o);
  }

  /**
   * As {@link #convertStableHlo(Path, Path, TfliteOptions)}, with the {@code ?} dimensions of the
   * arguments named in {@code inputShapes} ({@code arg0}, ...) fixed, so that the program's
   * symbolic shapes refine.
   */
  public static ConversionResult convertStableHlo(
      Path file, Path output, Map<String, long[]> inputShapes, TfliteOptions o) {
    long start = System.nanoTime();
    checkOutput(output);
    org.tfport.graph.stablehlo.StableHloLowering.Lowered lw =
        org.tfport.graph.stablehlo.StableHloLowering.load(file, inputShapes);
    org.tfport.graph.stablehlo.StableHloLowering.refuseComplexInterface(
        lw, file.toString(), "TFLite");
    refuseDynamicInputs(lw, file);
    Source s =
        new Source(
            lw.graph(),
            "serving_default",
            lw.inputNames(),
            lw.inputNames(),
            lw.outputNames(),
            lw.graph().size());
    return convert(
        List.of(s),
        output,
        o,
        ConversionMetadata.MODEL_TYPE_TF_GRAPH_DEF,
        "",
        file.toString(),
        start,
        true);
  }

  /**
   * Refuses a program whose arguments keep {@code ?} dimensions: the graph computes its shapes at
   * run time (TF.js and tfport's runtime take that), but the TFLite writer plans static shapes.
   */
  private static void refuseDynamicInputs(
      org.tfport.graph.stablehlo.StableHloLowering.Lowered lw, Path file) {
    List<String> named = new ArrayList<>();
    String example = null;
    for (String in : lw.inputNames()) {
      Node p = lw.graph().node(in);
      if (p != null
          && p.attr("shape") instanceof AttrValue.Shape sh
          && !sh.value().unknownRank()
          && java.util.Arrays.stream(sh.value().dims()).anyMatch(d -> d < 0)) {
        named.add(in + " " + java.util.Arrays.toString(sh.value().dims()).replace("-1", "?"));
        if (example == null) {
          long[] d = sh.value().dims().clone();
          for (int k = 0; k < d.length; k++) {
            d[k] = d[k] < 0 ? 1 : d[k];
          }
          example =
              "GraphLoadingOptions.inputNodeNames="
                  + in
                  + " GraphLoadingOptions.inputShape="
                  + String.join(",", java.util.Arrays.stream(d).mapToObj(Long::toString).toList());
        }
      }
    }
    if (!named.isEmpty()) {
      throw new UnsupportedModelException(
          file
              + ": the StableHLO program's argument"
              + (named.size() == 1 ? " " : "s ")
              + String.join(", ", named)
              + " of dynamic shape: a .tflite model here has static shapes; give the inputs'"
              + " shapes ("
              + example
              + " style), or convert to a TF.js graph model, which keeps the ? dimensions");
    }
  }

  static ConversionResult convert(
      List<Source> sources,
      Path output,
      TfliteOptions o,
      int modelType,
      String tfVersion,
      String where,
      long start,
      boolean signatures) {
    checkOutput(output);
    ModelBuilder mb = new ModelBuilder();
    List<String> unsupported = new ArrayList<>();
    List<String> notices = new ArrayList<>();
    java.util.Set<String> flex = new java.util.TreeSet<>();
    java.util.Set<String> custom = new java.util.TreeSet<>();
    List<List<String>> inputNames = new ArrayList<>();
    // Each source's own subgraph: WHILE/IF functions lowered for source i are appended after it.
    List<Integer> sourceSubgraphs = new ArrayList<>();
    int loadedNodes = 0;
    boolean float64 = false;
    for (int i = 0; i < sources.size(); i++) {
      Source src = sources.get(i);
      Graph g = src.graph();
      loadedNodes += src.loadedNodes();
      if (o.castFloat64()) {
        int cast = Float64Cast.apply(g);
        if (cast > 0) {
          notices.add("computed in float32: " + cast + " float64 nodes cast (constants rounded)");
        }
      } else {
        float64 |= Float64Cast.uses(g);
      }
      prepare(g);
      ModelBuilder.Sub sub = new ModelBuilder.Sub(i == 0 ? "main" : src.signature());
      mb.subgraphs.add(sub);
      int subIndex = mb.subgraphs.size() - 1;
      sourceSubgraphs.add(subIndex);
      Lowering low = new Lowering(g, sub, o);
      low.model = mb;
      low.run(src.inputNodes());
      unsupported.addAll(low.unsupported);
      flex.addAll(low.flexOps);
      custom.addAll(low.customOps);
      inputNames.add(inputNames(src, sub, low));
      if (signatures) {
        List<TfliteSignatureDef.TensorMap> ins = new ArrayList<>();
        for (int k = 0; k < src.inputKeys().size(); k++) {
          if (g.node(src.inputNodes().get(k)) != null
              && Lowering.isPlaceholder(g.node(src.inputNodes().get(k)))) {
            ins.add(
                new TfliteSignatureDef.TensorMap(
                    src.inputKeys().get(k), low.tensor(src.inputNodes().get(k) + ":0")));
          }
        }
        List<TfliteSignatureDef.TensorMap> outs = new ArrayList<>();
        for (int k = 0; k < src.outputKeys().size(); k++) {
          outs.add(new TfliteSignatureDef.TensorMap(src.outputKeys().get(k), sub.outputs.get(k)));
        }
        outs.sort(java.util.Comparator.comparing(TfliteSignatureDef.TensorMap::name));
        mb.signatures.add(new TfliteSignatureDef(src.signature(), subIndex, ins, outs));
      }
    }
    if (!unsupported.isEmpty() && float64) {
      throw new UnsupportedModelException(
          where
              + ": the graph computes in float64, which TFLite's builtins do not, so "
              + unsupported.size()
              + " op"
              + (unsupported.size() == 1 ? " has" : "s have")
              + " no TFLite builtin: "
              + String.join(", ", unsupported)
              + "; convert with TfliteOutputOptions.castFloat64ToFloat32 to compute in float32");
    }
    if (!unsupported.isEmpty()) {
      throw new UnsupportedModelException(
          where
              + ": "
              + unsupported.size()
              + " op"
              + (unsupported.size() == 1 ? " has" : "s have")
              + " no TFLite builtin: "
              + String.join(", ", unsupported)
              + "; convert with"
              + " TfliteOutputOptions.opSets with SELECT_TF_OPS (Flex ops, needs the Flex delegate) or"
              + " TfliteOutputOptions.allowCustomOps (you provide the"
              + " kernels)");
    }
    List<Integer> modes = new ArrayList<>();
    int dynamicRangeWeights = 0;
    for (ModelBuilder.Sub sub : mb.subgraphs) {
      switch (o.quantization()) {
        case FLOAT16 -> WeightQuantizer.float16(sub);
        case DYNAMIC_RANGE -> dynamicRangeWeights += WeightQuantizer.dynamicRange(sub);
        case INT8, INT16X8, NONE -> {}
      }
    }
    if (o.quantization() == TfliteQuantizationMode.DYNAMIC_RANGE && dynamicRangeWeights == 0) {
      notices.add(
          "dynamic-range quantization quantized no weight: it takes the constant weights of"
              + " CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED with at least "
              + String.format("%,d", WeightQuantizer.DYNAMIC_RANGE_MIN_ELEMENTS)
              + " elements (as TensorFlow's converter does), and this model has none, so it is"
              + " written in float32");
    }
    if (o.quantization() == TfliteQuantizationMode.INT8) {
      FullIntegerConversion.run(
          mb, sources, sourceSubgraphs, inputNames, o, notices, QuantizedKernels.Precision.INT8);
    } else if (o.quantization() == TfliteQuantizationMode.INT16X8) {
      FullIntegerConversion.run(
          mb, sources, sourceSubgraphs, inputNames, o, notices, QuantizedKernels.Precision.INT16);
    }
    switch (o.quantization()) {
      case FLOAT16 -> modes.add(ConversionMetadata.PTQ_FLOAT16);
      case DYNAMIC_RANGE -> modes.add(ConversionMetadata.PTQ_DYNAMIC_RANGE);
      case INT8 -> modes.add(ConversionMetadata.PTQ_FULL_INTEGER);
      case INT16X8 -> modes.add(ConversionMetadata.PTQ_INT16);
      default -> {}
    }
    ModelBuilder.Built b = mb.build("MLIR Converted.");
    TfliteModel model =
        new TfliteModel(
                TfliteModel.SCHEMA_VERSION,
                b.description(),
                b.opcodes(),
                b.subgraphs(),
                b.buffers(),
                List.of(),
                List.of(),
                mb.signatures)
            .withComputedMinRuntimeVersion();
    model =
        model.withConversionMetadata(
            new ConversionMetadata(
                tfVersion.isEmpty() ? null : tfVersion,
                2,
                modelType,
                0,
                modes,
                o.allowCustomOps(),
                o.selectTfOps(),
                !o.builtins(),
                List.of()));
    byte[] bytes =
        o.metadata() == null ? TfliteWriter.write(model) : withMetadata(model, o.metadata());
    writeAtomically(output, bytes);
    if (!flex.isEmpty()) {
      notices.add(
          "the model uses TensorFlow ops through the Flex delegate (link it to run the model): "
              + String.join(", ", flex));
    }
    if (!custom.isEmpty()) {
      notices.add(
          "the model has custom ops you must register kernels for: " + String.join(", ", custom));
    }
    // Each stored buffer counted once: tensors sharing one (an unrolled RNN's steps) are one
    // weight.
    int params = 0;
    java.util.Set<Integer> counted = new java.util.HashSet<>();
    for (var sub : model.subgraphs()) {
      for (var t : sub.tensors()) {
        if (t.buffer() != 0 && !model.buffer(t).isEmpty() && counted.add(t.buffer())) {
          params += (int) t.elementCount();
        }
      }
    }
    int ops = model.subgraphs().stream().mapToInt(s -> s.operators().size()).sum();
    String detail =
        "tflite: "
            + ops
            + " operators in "
            + model.subgraphs().size()
            + " subgraph"
            + (model.subgraphs().size() == 1 ? "" : "s")
            + ", min_runtime_version "
            + model.minRuntimeVersion().orElse("?")
            + (modes.isEmpty()
                ? ""
                : ", quantization " + o.quantization().name().toLowerCase(java.util.Locale.ROOT));
    return new ConversionResult(
        output,
        List.of(output),
        bytes.length,
        params,
        new ConversionResult.NodeCounts(loadedNodes, ops),
        (System.nanoTime() - start) / 1_000_000,
        notices,
        detail);
  }

  /**
   * The optimizer as for every target, after TF1 control flow (Switch/Merge, Enter/Exit loops) is
   * rewritten to If/While, which TFLite can run; conditionals whose predicate folds to a constant
   * are then inlined.
   */
  static void prepare(Graph g) {
    // TF1 TensorArrays first: their flows become the dense arrays, so the loops carry no resource
    // handle.
    TensorArrays.apply(g);
    Functionalize.apply(g);
    new GraphOptimizer().optimize(g);
    if (Functionalize.foldConstantPredicates(g)) {
      new GraphOptimizer().optimize(g);
    }
  }

  /**
   * Each subgraph input's name for the representative data: its signature key, else the tensor
   * name.
   */
  private static List<String> inputNames(Source src, ModelBuilder.Sub sub, Lowering low) {
    List<String> names = new ArrayList<>();
    for (int t : sub.inputs) {
      String name = sub.t(t).name;
      for (int k = 0; k < src.inputNodes().size(); k++) {
        Node n = src.graph().node(src.inputNodes().get(k));
        if (n != null
            && Lowering.isPlaceholder(n)
            && low.tensor(src.inputNodes().get(k) + ":0") == t) {
          name = src.inputKeys().get(k);
          break;
        }
      }
      names.add(name);
    }
    return names;
  }

  private static byte[] withMetadata(TfliteModel model, TfliteSupportMetadata m) {
    var sub = model.mainSubgraph();
    List<TfliteModelMetadata.TensorInfo> ins = new ArrayList<>();
    for (int i : sub.inputs()) {
      String name = sub.tensors().get(i).name();
      ins.add(
          m.mean().isEmpty()
              ? TfliteModelMetadata.TensorInfo.feature(name, null)
              : new TfliteModelMetadata.TensorInfo(
                  name,
                  null,
                  TfliteModelMetadata.Content.FEATURE,
                  null,
                  m.mean(),
                  m.std(),
                  List.of(),
                  List.of(),
                  List.of()));
    }
    List<TfliteModelMetadata.TensorInfo> outs = new ArrayList<>();
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (int k = 0; k < sub.outputs().size(); k++) {
      String name = sub.tensors().get(sub.outputs().get(k)).name();
      if (k == 0 && m.labelsFile() != null) {
        String file = m.labelsFile().getFileName().toString();
        try {
          files.put(file, Files.readAllBytes(m.labelsFile()));
        } catch (IOException e) {
          throw new UsageException(
              m.labelsFile() + ": cannot read the labels file (" + e.getMessage() + ")");
        }
        outs.add(TfliteModelMetadata.TensorInfo.scores(name, null, file));
      } else {
        outs.add(TfliteModelMetadata.TensorInfo.feature(name, null));
      }
    }
    TfliteModelMetadata md =
        TfliteModelMetadata.of(
            m.name(), m.description(), m.version(), m.author(), m.license(), ins, outs);
    return TfliteMetadata.attach(model, md, files);
  }

  /** Refuses a folder (or a path under a file) as output before any work. */
  static void checkOutput(Path output) {
    if (Files.isDirectory(output)) {
      throw new UsageException(output + ": the output path is a folder; give a .tflite file path");
    }
  }

  /** Writes through a temporary file in the same folder, renamed into place: all or nothing. */
  static void writeAtomically(Path output, byte[] bytes) {
    checkOutput(output);
    Path dir = output.toAbsolutePath().getParent();
    Path tmp = null;
    try {
      Files.createDirectories(dir);
      tmp = Files.createTempFile(dir, "." + output.getFileName(), ".tmp");
      Files.write(tmp, bytes);
      // A temporary file is owner-only; the model is as readable as any file the user creates.
      org.tfport.core.AtomicOutput.followUmask(tmp);
      Files.move(
          tmp,
          output.toAbsolutePath(),
          StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new OutputException(output + ": cannot write the model (" + e + ")", e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // best effort
        }
      }
    }
  }

  static String version() {
    return Version.VERSION;
  }
}
