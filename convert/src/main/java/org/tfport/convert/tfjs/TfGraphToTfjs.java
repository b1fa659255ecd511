package org.tfport.convert.tfjs;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.tfport.convert.ConversionResult;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.convert.Version;
import org.tfport.core.AtomicOutput;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.ProgressListener;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.core.graph.TensorValue;
import org.tfport.formats.savedmodel.SavedModelGraph;
import org.tfport.formats.savedmodel.SavedModelReader;
import org.tfport.formats.savedmodel.TensorInfo;
import org.tfport.formats.tfjs.GraphJson;
import org.tfport.formats.tfjs.Quantization;
import org.tfport.formats.tfjs.TfjsModelJson;
import org.tfport.formats.tfjs.TfjsWriter;
import org.tfport.formats.tfjs.WeightEntry;
import org.tfport.formats.tfjs.WriteOptions;
import org.tfport.formats.tfjs.WriteSummary;
import org.tfport.graph.DefaultAttributes;
import org.tfport.graph.GraphLoader;
import org.tfport.graph.GraphOptions;
import org.tfport.graph.TfjsRewrites;
import org.tfport.graph.stablehlo.StableHloLowering;
import tools.jackson.databind.node.ObjectNode;

/**
 * TensorFlow graphs (SavedModel, frozen GraphDef, TF Hub module) to a TF.js graph model: pick the
 * signature, inline its functions, replace variables by their checkpoint values, keep only what the
 * outputs need, check every op has a TF.js kernel, and write model.json with the constants as
 * weights.
 */
public final class TfGraphToTfjs {

  private TfGraphToTfjs() {}

  /** {@code tf_saved_model}: a SavedModel folder. */
  public static ConversionResult convertSavedModel(
      Path dir, Path output, GraphOptions g, TfjsOutputOptions o, ProgressListener progress) {
    return convertSavedModel(
        dir, output, g, o, progress, GraphLoader.DEFAULT_SIGNATURE, Set.of("serve"), Map.of());
  }

  /**
   * As above; each weight named in {@code keep} is stored with that manifest quantization when its
   * values are exactly what the quantization gives back (a note names any other).
   */
  static ConversionResult convertSavedModel(
      Path dir,
      Path output,
      GraphOptions g,
      TfjsOutputOptions o,
      ProgressListener progress,
      Map<String, Quantization> keep) {
    return convertSavedModel(
        dir, output, g, o, progress, GraphLoader.DEFAULT_SIGNATURE, Set.of("serve"), keep);
  }

  /**
   * {@code tf_hub}: a TF1 Hub module folder ({@code tfhub_module.pb} beside {@code saved_model.pb};
   * the MetaGraph with no tags) or a TF2 one (a SavedModel); both default to the signature {@code
   * default}.
   */
  public static ConversionResult convertHub(
      Path dir, Path output, GraphOptions g, TfjsOutputOptions o, ProgressListener progress) {
    if (!Files.isDirectory(dir)) {
      throw new UsageException(
          dir
              + ": a TF Hub module is a folder; download and extract the module first"
              + " (tfport does not fetch from the network)");
    }
    boolean tf1 = Files.exists(dir.resolve(SavedModelReader.HUB_MODULE_PB));
    return convertSavedModel(
        dir,
        output,
        g,
        o,
        progress,
        GraphLoader.HUB_SIGNATURE,
        tf1 ? Set.of() : Set.of("serve"),
        Map.of());
  }

  private static ConversionResult convertSavedModel(
      Path dir,
      Path output,
      GraphOptions go,
      TfjsOutputOptions o,
      ProgressListener progress,
      String defaultSignature,
      Set<String> defaultTags,
      Map<String, Quantization> keep) {
    long start = System.nanoTime();
    GraphLoader.Loaded l = GraphLoader.load(dir, go, defaultSignature, defaultTags);
    Graph g = l.graph();
    SavedModelGraph sm = l.savedModel();
    GraphLoader.Counts before = l.before();
    int frozen = l.frozen();
    List<String> outputKeys = l.outputKeys();
    Map<String, TensorInfo> outputInfo = l.outputInfo();
    Map<String, String> inputNodes = l.inputNodes();
    TfjsOptimizer.Report report = optimizeAndCheck(g, go, dir.toString());

    ObjectNode signature = Json.MAPPER.createObjectNode();
    ObjectNode ins = signature.putObject("inputs");
    for (Map.Entry<String, String> e : inputNodes.entrySet()) {
      Node n = g.node(e.getValue());
      if (n == null || n.op().equals("Const")) {
        continue;
      }
      TensorInfo info = sm.signature().inputs().get(e.getKey());
      if (n.attr("shape") instanceof AttrValue.Shape s) {
        info = new TensorInfo(info.name(), info.dtype(), s.value());
      }
      ins.set(e.getKey(), tensorInfo(n.name() + ":0", info));
    }
    ObjectNode outs = signature.putObject("outputs");
    for (int i = 0; i < outputKeys.size(); i++) {
      String key = outputKeys.get(i);
      outs.set(
          key, tensorInfo(TensorRef.parse(g.outputs().get(i)).tensorName(), outputInfo.get(key)));
    }
    String generatedBy = sm.tensorflowVersion().isEmpty() ? "unknown" : sm.tensorflowVersion();
    ObjectNode metadata =
        metadata(o, go.useStructuredOutputsNames() ? new TreeSet<>(outputKeys) : null);
    return write(
        g,
        l.initializer(),
        output,
        generatedBy,
        signature,
        metadata,
        o,
        progress,
        start,
        before,
        frozen,
        report,
        keep);
  }

  /**
   * {@code tf_frozen_model}: one GraphDef; {@code --output_node_names} says what to keep. The
   * signature has no inputs (TF.js then feeds the placeholders) and one output per name.
   */
  public static ConversionResult convertFrozen(
      Path file, Path output, GraphOptions go, TfjsOutputOptions o, ProgressListener progress) {
    long start = System.nanoTime();
    GraphLoader.Loaded l = GraphLoader.loadFrozen(file, go);
    Graph g = l.graph();
    GraphLoader.Counts before = l.before();
    int frozen = l.frozen();
    TfjsOptimizer.Report report = optimizeAndCheck(g, go, file.toString());
    ObjectNode signature = Json.MAPPER.createObjectNode();
    signature.putObject("inputs");
    ObjectNode outs = signature.putObject("outputs");
    for (int i = 0; i < go.outputNodeNames().size(); i++) {
      // Keyed by the name asked for; the tensor is where that output is now (stripping can move
      // it).
      outs.putObject(go.outputNodeNames().get(i).strip())
          .put("name", TensorRef.parse(g.outputs().get(i)).toString());
    }
    ObjectNode metadata =
        metadata(
            o,
            go.useStructuredOutputsNames()
                ? new TreeSet<>(go.outputNodeNames().stream().map(String::strip).toList())
                : null);
    return write(
        g,
        l.initializer(),
        output,
        g.producer() > 0 ? "GraphDef producer " + g.producer() : "unknown",
        signature,
        metadata,
        o,
        progress,
        start,
        before,
        frozen,
        report,
        Map.of());
  }

  /**
   * A StableHLO program ({@code --input_format=stablehlo}): its entry function lowered to a graph,
   * then optimized, checked and written as a frozen graph is; the signature's inputs are the
   * arguments ({@code arg0}, ...) and its outputs the results.
   */
  public static ConversionResult convertStableHlo(
      Path file, Path output, GraphOptions go, TfjsOutputOptions o, ProgressListener progress) {
    long start = System.nanoTime();
    StableHloLowering.Lowered lw = StableHloLowering.load(file);
    StableHloLowering.refuseComplexInterface(lw, file.toString(), "a TF.js graph model");
    Graph g = lw.graph();
    GraphLoader.Counts before = GraphLoader.Counts.of(g);
    ObjectNode signature = Json.MAPPER.createObjectNode();
    ObjectNode ins = signature.putObject("inputs");
    for (String in : lw.inputNames()) {
      Node p = g.node(in);
      ins.set(
          in,
          tensorInfo(
              in + ":0",
              new TensorInfo(
                  in, p.typeAttr("dtype"), ((AttrValue.Shape) p.attr("shape")).value())));
    }
    TfjsOptimizer.Report report = optimizeAndCheck(g, go, file.toString());
    ObjectNode outs = signature.putObject("outputs");
    for (int i = 0; i < lw.outputNames().size(); i++) {
      outs.putObject(lw.outputNames().get(i))
          .put("name", TensorRef.parse(g.outputs().get(i)).toString());
    }
    return write(
        g,
        null,
        output,
        "StableHLO",
        signature,
        metadata(o, null),
        o,
        progress,
        start,
        before,
        0,
        report,
        Map.of());
  }

  /**
   * A Keras model or TF.js layers model as the TensorFlow graph its layers compute (built by {@link
   * org.tfport.graph.keras.KerasGraphs}), through the same optimizer and fusions as a SavedModel.
   * The signature's inputs and outputs are named after the model's input and output layers.
   */
  public static ConversionResult convertKeras(
      Path source,
      org.tfport.graph.keras.KerasGraph kg,
      Path output,
      GraphOptions go,
      TfjsOutputOptions o,
      ProgressListener progress) {
    long start = System.nanoTime();
    Graph g = kg.graph();
    GraphLoader.Counts before = GraphLoader.Counts.of(g);
    TfjsOptimizer.Report report = optimizeAndCheck(g, go, source.toString());
    ObjectNode signature = Json.MAPPER.createObjectNode();
    ObjectNode ins = signature.putObject("inputs");
    for (String in : kg.inputs()) {
      Node n = g.node(in);
      if (n == null) {
        continue;
      }
      int dtype = n.attr("dtype") instanceof AttrValue.Type t ? t.value() : DataTypes.DT_FLOAT;
      org.tfport.core.graph.TensorShape shape =
          n.attr("shape") instanceof AttrValue.Shape sh
              ? sh.value()
              : org.tfport.core.graph.TensorShape.UNKNOWN;
      ins.set(in, tensorInfo(in + ":0", new TensorInfo(in + ":0", dtype, shape)));
    }
    ObjectNode outs = signature.putObject("outputs");
    for (int i = 0; i < kg.outputs().size(); i++) {
      String tensor = TensorRef.parse(g.outputs().get(i)).tensorName();
      outs.putObject(kg.outputs().get(i)).put("name", tensor).put("dtype", "DT_FLOAT");
    }
    ObjectNode metadata =
        metadata(o, go.useStructuredOutputsNames() ? new TreeSet<>(kg.outputs()) : null);
    return write(
        g,
        null,
        output,
        "keras layers",
        signature,
        metadata,
        o,
        progress,
        start,
        before,
        0,
        report,
        Map.of());
  }

  /**
   * The op check, the optimizer (unless turned off) and the check after it, as upstream runs them
   * around Grappler; null when not optimizing.
   */
  static TfjsOptimizer.Report optimizeAndCheck(Graph g, GraphOptions go, String source) {
    ensureShapeAsIdentity(g);
    if (!go.optimize()) {
      GraphLoader.cleanup(g);
      if (!go.skipOpCheck()) {
        OpCheck.require(g, go.stripDebugOps(), source);
      }
      return null;
    }
    if (!go.skipOpCheck()) {
      OpCheck.requireBeforeOptimizing(g, go.stripDebugOps(), source);
    }
    TfjsOptimizer.Report report = TfjsOptimizer.run(g);
    GraphLoader.cleanup(g);
    if (!go.skipOpCheck()) {
      OpCheck.requireAfterOptimizing(g, go.stripDebugOps(), source);
    }
    return report;
  }

  /**
   * TF.js 4.22 reads EnsureShape's shape from a second input, where TensorFlow's op has it as an
   * attribute, and fails on the node; the shape was checked when the graph was made, so the node
   * passes its input through.
   */
  private static void ensureShapeAsIdentity(Graph g) {
    List<Node> nodes = new ArrayList<>(g.nodes());
    g.functions().values().forEach(f -> nodes.addAll(f.nodes()));
    for (Node n : nodes) {
      if (n.op().equals("EnsureShape")) {
        n.op("Identity");
        n.attrs().remove("shape");
      }
    }
  }

  private static ObjectNode tensorInfo(String name, TensorInfo info) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("name", name);
    o.put("dtype", DataTypes.name(DataTypes.base(info.dtype())));
    o.set("tensorShape", GraphJson.shape(info.shape()));
    return o;
  }

  private static ObjectNode metadata(TfjsOutputOptions o, Set<String> structuredKeys) {
    ObjectNode m = o.userDefinedMetadata() == null ? null : o.userDefinedMetadata().deepCopy();
    if (structuredKeys != null) {
      if (m == null) {
        m = Json.MAPPER.createObjectNode();
      }
      var a = m.putArray("structuredOutputKeys");
      structuredKeys.forEach(a::add);
    }
    return m;
  }

  private static ConversionResult write(
      Graph g,
      Graph initializer,
      Path output,
      String generatedBy,
      ObjectNode signature,
      ObjectNode metadata,
      TfjsOutputOptions o,
      ProgressListener progress,
      long start,
      GraphLoader.Counts before,
      int frozen,
      TfjsOptimizer.Report report,
      Map<String, Quantization> keep) {
    List<String> notices = new ArrayList<>();
    String variables = frozen + " variable" + (frozen == 1 ? "" : "s") + " frozen";
    String detail =
        "graph: "
            + before.describe()
            + " before, "
            + (report == null
                ? GraphLoader.Counts.of(g).describe() + " after (" + variables + "; not optimized)"
                : report.nodesBefore()
                    + " after freezing ("
                    + variables
                    + "), "
                    + report.describe());
    List<Node> order = g.nodes();
    List<WeightEntry> weights = new ArrayList<>();
    for (Node n : order) {
      if (n.op().equals("Const")) {
        weights.add(weight(n, n.name(), g.source(), notices));
      }
    }
    for (GraphFunction f : g.functions().values()) {
      functionWeights(f, g.source(), weights, notices);
    }
    if (!keep.isEmpty()) {
      KeptQuantization.intoManifest(weights, keep, notices);
    }
    ObjectNode topology = GraphJson.graph(g, order);
    TfjsModelJson json =
        TfjsModelJson.graph(generatedBy, Version.CONVERTED_BY, topology, signature);
    if (initializer != null) {
      json = json.withInitializer(initializerJson(g, initializer, weights, notices), null);
      detail += "; tables filled by a " + initializer.size() + "-node modelInitializer";
    }
    if (metadata != null) {
      json = json.withUserDefinedMetadata(metadata);
    }
    try (AtomicOutput out = AtomicOutput.modelFolder(output, o.overwrite())) {
      WriteSummary ws =
          TfjsWriter.write(
              out.dir(),
              json,
              List.of(weights),
              new WriteOptions(o.shardSizeBytes(), o.quantization()),
              progress);
      out.commit();
      notices.addAll(ws.notices());
      return new ConversionResult(
          output,
          ws.files().stream().map(f -> output.resolve(out.dir().relativize(f))).toList(),
          ws.totalBytes(),
          ws.weightCount(),
          new ConversionResult.NodeCounts(before.nodes(), g.size()),
          (System.nanoTime() - start) / 1_000_000,
          notices,
          detail);
    }
  }

  /**
   * The initializer graph as model.json's {@code modelInitializer}; its constants join the weights
   * after the inference graph's, as the converter writes them. Table nodes keep their names, by
   * which TF.js finds the filled table again; a constant whose name the optimizer has since given
   * to an inference node is renamed (both graphs draw on one weight map).
   */
  private static ObjectNode initializerJson(
      Graph g, Graph init, List<WeightEntry> weights, List<String> notices) {
    for (Node n : new ArrayList<>(init.nodes())) {
      if (n.op().equals("Const") && g.has(n.name())) {
        String fresh = n.name() + "/init";
        for (int i = 2; g.has(fresh) || init.has(fresh); i++) {
          fresh = n.name() + "/init_" + i;
        }
        init.rename(n.name(), fresh);
      }
    }
    new DefaultAttributes().apply(init);
    new TfjsRewrites.Cleanup().apply(init);
    for (Node n : init.nodes()) {
      if (n.op().equals("Const")) {
        weights.add(weight(n, n.name(), g.source(), notices));
      }
    }
    return GraphJson.graph(init, init.nodes());
  }

  /**
   * A function's constants become weights named {@code <function>/<node>}, and the node is renamed
   * to match, because TF.js looks up a function's constants under that name.
   */
  private static void functionWeights(
      GraphFunction f, String source, List<WeightEntry> weights, List<String> notices) {
    Map<String, String> renames = new LinkedHashMap<>();
    for (int i = 0; i < f.nodes().size(); i++) {
      Node n = f.nodes().get(i);
      if (n.op().equals("Const")) {
        String name = f.name() + "/" + n.name();
        weights.add(weight(n, name, source, notices));
        renames.put(n.name(), name);
        f.nodes().set(i, n.renamedCopy(name));
      }
    }
    if (renames.isEmpty()) {
      return;
    }
    for (Node n : f.nodes()) {
      List<String> ins = n.inputs();
      for (int i = 0; i < ins.size(); i++) {
        String in = ins.get(i);
        boolean control = in.startsWith("^");
        String body = control ? in.substring(1) : in;
        int colon = body.indexOf(':');
        String node = colon < 0 ? body : body.substring(0, colon);
        if (renames.containsKey(node)) {
          ins.set(
              i,
              (control ? "^" : "") + renames.get(node) + (colon < 0 ? "" : body.substring(colon)));
        }
      }
    }
    f.ret()
        .replaceAll(
            (k, v) -> {
              int colon = v.indexOf(':');
              String node = colon < 0 ? v : v.substring(0, colon);
              return renames.containsKey(node)
                  ? renames.get(node) + (colon < 0 ? "" : v.substring(colon))
                  : v;
            });
  }

  private static WeightEntry weight(Node n, String name, String source, List<String> notices) {
    TensorValue tv = n.tensorAttr("value");
    if (tv == null) {
      throw new CorruptModelException(
          source + ": constant '" + n.name() + "' has no value; the graph is damaged");
    }
    Tensor t = tv.value();
    if (t == null) {
      throw new UnsupportedModelException(
          source
              + ": constant '"
              + n.name()
              + "' has type "
              + DataTypes.name(tv.dtype())
              + ", which TF.js cannot hold");
    }
    DType dt = t.dtype();
    if (dt == DType.INT8 || dt == DType.INT16 || dt == DType.UINT8 || dt == DType.UINT16) {
      // TF.js reads these types as int32, and its weight loader takes no unquantized 8/16-bit
      // integers.
      notices.add(
          "weight '"
              + name
              + "' has dtype "
              + dt.jsName()
              + ", which TF.js does not support;"
              + " converted to int32");
      t = widenToInt32(t);
    }
    return WeightEntry.of(name, t);
  }

  private static Tensor widenToInt32(Tensor t) {
    int n = Math.toIntExact(t.size());
    ByteBuffer in = t.bytes();
    ByteBuffer out = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      out.putInt(
          switch (t.dtype()) {
            case INT8 -> in.get(i);
            case UINT8 -> in.get(i) & 0xff;
            case INT16 -> in.getShort(2 * i);
            default -> in.getShort(2 * i) & 0xffff;
          });
    }
    return new Tensor(DType.INT32, t.shape(), out.flip());
  }
}
