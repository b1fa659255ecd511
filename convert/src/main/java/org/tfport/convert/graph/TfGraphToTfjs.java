package org.tfport.convert.graph;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.tfport.convert.ConversionSummary;
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
import org.tfport.core.graph.FuncRef;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.core.graph.TensorShape;
import org.tfport.core.graph.TensorValue;
import org.tfport.formats.graphdef.GraphDefReader;
import org.tfport.formats.savedmodel.SavedModelGraph;
import org.tfport.formats.savedmodel.SavedModelReader;
import org.tfport.formats.savedmodel.TensorBundle;
import org.tfport.formats.savedmodel.TensorInfo;
import org.tfport.formats.tfjs.TfjsModelJson;
import org.tfport.formats.tfjs.TfjsWriter;
import org.tfport.formats.tfjs.WeightEntry;
import org.tfport.formats.tfjs.WriteOptions;
import org.tfport.formats.tfjs.WriteSummary;
import tools.jackson.databind.node.ObjectNode;

/**
 * TensorFlow graphs (SavedModel, frozen GraphDef, TF Hub module) to a TF.js graph model: pick the signature,
 * inline its functions, replace variables by their checkpoint values, keep only what the outputs need, check
 * every op has a TF.js kernel, and write model.json with the constants as weights.
 */
public final class TfGraphToTfjs {
  static final String DEFAULT_SIGNATURE = "serving_default";
  static final String HUB_SIGNATURE = "default";
  static final Set<String> RESTORE_OPS = Set.of("RestoreV2", "Restore", "RestoreSlice");
  private static final Pattern NODE_NAME = Pattern.compile("[A-Za-z0-9.][A-Za-z0-9_.\\-/>]*");

  private TfGraphToTfjs() {}

  /** {@code tf_saved_model}: a SavedModel folder. */
  public static ConversionSummary convertSavedModel(Path dir, Path output, GraphOptions g, TfjsOutputOptions o,
      ProgressListener progress) {
    return convertSavedModel(dir, output, g, o, progress, DEFAULT_SIGNATURE, Set.of("serve"));
  }

  /**
   * {@code tf_hub}: a TF1 Hub module folder ({@code tfhub_module.pb} beside {@code saved_model.pb}; the
   * MetaGraph with no tags) or a TF2 one (a SavedModel); both default to the signature {@code default}.
   */
  public static ConversionSummary convertHub(Path dir, Path output, GraphOptions g, TfjsOutputOptions o,
      ProgressListener progress) {
    if (!Files.isDirectory(dir)) {
      throw new UsageException(dir + ": a TF Hub module is a folder; download and extract the module first"
          + " (tfport does not fetch from the network)");
    }
    boolean tf1 = Files.exists(dir.resolve(SavedModelReader.HUB_MODULE_PB));
    return convertSavedModel(dir, output, g, o, progress, HUB_SIGNATURE, tf1 ? Set.of() : Set.of("serve"));
  }

  private static ConversionSummary convertSavedModel(Path dir, Path output, GraphOptions go, TfjsOutputOptions o,
      ProgressListener progress, String defaultSignature, Set<String> defaultTags) {
    long start = System.nanoTime();
    Loaded l = load(dir, go, defaultSignature, defaultTags);
    Graph g = l.graph();
    SavedModelGraph sm = l.savedModel();
    Counts before = l.before();
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
      outs.set(key, tensorInfo(TensorRef.parse(g.outputs().get(i)).tensorName(), outputInfo.get(key)));
    }
    String generatedBy = sm.tensorflowVersion().isEmpty() ? "unknown" : sm.tensorflowVersion();
    ObjectNode metadata = metadata(o, go.useStructuredOutputsNames() ? new TreeSet<>(outputKeys) : null);
    return write(g, l.initializer(), output, generatedBy, signature, metadata, o, progress, start, before, frozen,
        report);
  }

  /**
   * {@code tf_frozen_model}: one GraphDef; {@code --output_node_names} says what to keep. The signature has
   * no inputs (TF.js then feeds the placeholders) and one output per name.
   */
  public static ConversionSummary convertFrozen(Path file, Path output, GraphOptions go, TfjsOutputOptions o,
      ProgressListener progress) {
    long start = System.nanoTime();
    Loaded l = loadFrozen(file, go);
    Graph g = l.graph();
    Counts before = l.before();
    int frozen = l.frozen();
    TfjsOptimizer.Report report = optimizeAndCheck(g, go, file.toString());
    ObjectNode signature = Json.MAPPER.createObjectNode();
    signature.putObject("inputs");
    ObjectNode outs = signature.putObject("outputs");
    for (int i = 0; i < go.outputNodeNames().size(); i++) {
      // Keyed by the name asked for; the tensor is where that output is now (stripping can move it).
      outs.putObject(go.outputNodeNames().get(i).strip()).put("name",
          TensorRef.parse(g.outputs().get(i)).toString());
    }
    ObjectNode metadata = metadata(o, go.useStructuredOutputsNames()
        ? new TreeSet<>(go.outputNodeNames().stream().map(String::strip).toList()) : null);
    return write(g, l.initializer(), output, g.producer() > 0 ? "GraphDef producer " + g.producer() : "unknown",
        signature, metadata, o, progress, start, before, frozen, report);
  }


  /**
   * A signature of a SavedModel (or Hub module) loaded, inlined, frozen and pruned to what its outputs need,
   * before any target-specific optimization; what every output format starts from.
   *
   * @param savedModel null for a frozen GraphDef
   * @param inputNodes signature input key to the placeholder node that feeds it
   * @param outputKeys signature output keys, in the order of {@code graph.outputs()}
   * @param before     node counts before freezing
   * @param frozen     how many variables were replaced by constants
   */
  public record Loaded(Graph graph, SavedModelGraph savedModel, String signature, Map<String, String> inputNodes,
      List<String> outputKeys, Map<String, TensorInfo> outputInfo, Counts before, int frozen, Graph initializer) {}

  /** {@link #load} with the defaults of {@code tf_saved_model} ({@code hub} false) or {@code tf_hub}. */
  public static Loaded loadSavedModel(Path dir, GraphOptions go, boolean hub) {
    if (hub && !Files.isDirectory(dir)) {
      throw new UsageException(dir + ": a TF Hub module is a folder; download and extract the module first"
          + " (tfport does not fetch from the network)");
    }
    boolean tf1 = hub && Files.exists(dir.resolve(SavedModelReader.HUB_MODULE_PB));
    return load(dir, go, hub ? HUB_SIGNATURE : DEFAULT_SIGNATURE, tf1 ? Set.of() : Set.of("serve"));
  }

  static Loaded load(Path dir, GraphOptions go, String defaultSignature, Set<String> defaultTags) {
    if (!Files.isDirectory(dir)) {
      throw new UsageException(dir + ": a SavedModel is a folder holding saved_model.pb; for a single .pb"
          + " GraphDef use --input_format=tf_frozen_model");
    }
    String sigName = go.signatureName() != null ? go.signatureName() : defaultSignature;
    Set<String> tags = go.tags() != null ? go.tags() : defaultTags;
    SavedModelGraph sm = SavedModelReader.read(dir, tags, sigName);
    Graph g = sm.graph();
    String source = sm.file().toString();
    Counts before = Counts.of(g);

    List<String> outputKeys = new ArrayList<>();
    Map<String, TensorInfo> outputInfo = new LinkedHashMap<>();
    for (Map.Entry<String, TensorInfo> e : sm.signature().outputs().entrySet()) {
      TensorRef r = TensorRef.parse(e.getValue().name());
      if (!g.has(r.node())) {
        throw new CorruptModelException(source + ": signature '" + sigName + "' output '" + e.getKey()
            + "' is tensor '" + e.getValue().name() + "', but the graph has no node '" + r.node() + "'");
      }
      outputKeys.add(e.getKey());
      outputInfo.put(e.getKey(), e.getValue());
      g.outputs().add(r.toString());
    }
    if (outputKeys.isEmpty()) {
      throw new UnsupportedModelException(source + ": signature '" + sigName + "' has no outputs; a TF.js graph"
          + " model needs at least one");
    }
    Map<String, String> inputNodes = new LinkedHashMap<>();
    for (Map.Entry<String, TensorInfo> e : sm.signature().inputs().entrySet()) {
      String node = TensorRef.nodeOf(e.getValue().name());
      if (!g.has(node)) {
        throw new CorruptModelException(source + ": signature '" + sigName + "' input '" + e.getKey()
            + "' is tensor '" + e.getValue().name() + "', but the graph has no node '" + node + "'");
      }
      node = feedPoint(g, e.getValue());
      inputNodes.put(e.getKey(), node);
      g.inputs().add(node);
    }
    g.validate();

    // A TF2 signature is one call of a wrapper function; inlining that one without a prefix gives the
    // names TensorFlow's own freezing gives (inputs named after the arguments, outputs 'Identity').
    boolean hoisted = false;
    Set<String> outNodes = g.outputNodes();
    if (outNodes.size() == 1) {
      Node call = g.node(outNodes.iterator().next());
      if (FunctionInliner.isCall(g, call)) {
        FunctionInliner.inline(g, call, "");
        hoisted = true;
      }
    }
    // Calls that restore variables or fill tables are inlined too: they show which key is which variable's
    // and what goes into each table.
    Set<String> restoreFns = functionsWith(g, op -> RESTORE_OPS.contains(op) || TableInitializer.fillsTables(op));
    Set<String> needed = g.reachable(g.outputNodes());
    new FunctionInliner(n -> needed.contains(n.name()) || calls(n, g, restoreFns)).apply(g);
    if (go.stripDebugOps()) {
      new DebugOpStripper().apply(g);
    }
    TensorBundle bundle = sm.variables();
    int frozen = new VariableFreezer(g, (key, slice) -> bundle != null && bundle.has(key)
        ? bundle.read(key, slice) : null).freeze();
    Graph initializer = TableInitializer.extract(g, g.reachable(g.outputNodes()));
    prepare(g);
    FunctionGraph.inlineCallsInFunctions(g);
    if (hoisted) {
      renameInputs(g, inputNodes);
    }
    return new Loaded(g, sm, sigName, inputNodes, outputKeys, outputInfo, before, frozen, initializer);
  }

  /** A frozen GraphDef with {@code go.outputNodeNames()} as outputs, frozen and pruned like {@link #load}. */
  public static Loaded loadFrozen(Path file, GraphOptions go) {
    if (go.outputNodeNames().isEmpty()) {
      throw new UsageException("--output_node_names is required for tf_frozen_model: give the comma-separated"
          + " names of the nodes to compute");
    }
    Graph g = GraphDefReader.read(file);
    Counts before = Counts.of(g);
    for (String name : go.outputNodeNames()) {
      TensorRef r = TensorRef.parse(name.strip());
      if (!g.has(r.node())) {
        throw new UsageException(file + ": --output_node_names names '" + r.node() + "', which is not a node of"
            + " the graph; nodes nothing reads are: " + sinks(g));
      }
      g.outputs().add(r.toString());
    }
    for (Node n : g.nodes()) {
      if (n.op().equals("Placeholder") || n.op().equals("PlaceholderWithDefault")) {
        g.inputs().add(n.name());
      }
    }
    g.validate();
    Set<String> needed = g.reachable(g.outputNodes());
    new FunctionInliner(n -> needed.contains(n.name())).apply(g);
    if (go.stripDebugOps()) {
      new DebugOpStripper().apply(g);
    }
    int frozen = new VariableFreezer(g, (key, slice) -> null, true).freeze();
    Graph initializer = TableInitializer.extract(g, g.reachable(g.outputNodes()));
    prepare(g);
    FunctionGraph.inlineCallsInFunctions(g);
    return new Loaded(g, null, null, new LinkedHashMap<>(), new ArrayList<>(), new LinkedHashMap<>(), before,
        frozen, initializer);
  }

  /**
   * Makes a signature input a placeholder. TF1 serving signatures often feed an inner tensor (the {@code x}
   * a {@code ParseExample} would produce); TensorFlow feeds it directly and never runs what computes it, so
   * the tensor's producer becomes the placeholder (or a new one takes its place, for a later output).
   */
  static String feedPoint(Graph g, TensorInfo info) {
    TensorRef r = TensorRef.parse(info.name());
    Node n = g.node(r.node());
    if (n.op().equals("Placeholder") || n.op().equals("PlaceholderWithDefault") && r.index() == 0) {
      return n.name();
    }
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    attrs.put("dtype", new AttrValue.Type(DataTypes.base(info.dtype())));
    TensorShape shape = info.shape();
    // Old TF1 signatures can misdeclare a fed tensor's shape; TensorFlow's own inference wins when they differ
    // in rank.
    if (n.attr("_output_shapes") instanceof AttrValue.ListAttr l && r.index() < l.shape().size()) {
      TensorShape inferred = l.shape().get(r.index());
      if (!inferred.unknownRank() && (shape.unknownRank() || shape.rank() != inferred.rank())) {
        shape = inferred;
      }
    }
    attrs.put("shape", new AttrValue.Shape(shape));
    var outs = g.outputArgs(n);
    boolean single = outs != null && outs.size() == 1 && g.argSize(n, outs.get(0)) == 1;
    if (r.index() == 0 && (single || IdentityRemover.OPS.contains(n.op()))) {
      n.op("Placeholder");
      n.attrs().clear();
      n.attrs().putAll(attrs);
      n.setInputs(List.of());
      return n.name();
    }
    String name = g.uniqueName(r.node() + "_" + r.index() + "_input");
    g.add(new Node(name, "Placeholder", List.of(), "", attrs));
    g.replaceUses(r.toString(), name);
    return name;
  }

  /** The placeholders of a graph, in order: what TF.js feeds when a signature names no inputs. */
  static List<String> placeholders(Graph g) {
    List<String> out = new ArrayList<>();
    for (Node n : g.nodes()) {
      if (n.op().equals("Placeholder")) {
        out.add(n.name());
      }
    }
    return out;
  }

  /** A placeholder's declared shape, unknown dimensions as 1 (used to make example inputs). */
  static long[] shapeOf(Node placeholder) {
    if (placeholder.attr("shape") instanceof AttrValue.Shape s && !s.value().unknownRank()) {
      long[] d = s.value().dims();
      for (int i = 0; i < d.length; i++) {
        d[i] = d[i] < 0 ? 1 : d[i];
      }
      return d;
    }
    return new long[] {1};
  }

  /** The rewrites after freezing, shared by every input kind, without optimizing; the graph is valid after. */
  static void finish(Graph g) {
    prepare(g);
    cleanup(g);
  }

  /** What TF.js needs of a frozen graph: what the outputs use, in ops and attributes it reads. */
  static void prepare(Graph g) {
    g.prune();
    new ControlDependencyCleanup().apply(g);
    g.prune();
    new IdentityRemover().apply(g);
    new DefaultAttributes().apply(g);
    new TfjsRewrites().apply(g);
    g.prune();
    keepReferencedFunctions(g);
  }

  /** Drops what only TensorFlow reads (devices, {@code _} attributes, unused functions); checks the graph. */
  static void cleanup(Graph g) {
    new TfjsRewrites.Cleanup().apply(g);
    keepReferencedFunctions(g);
    g.validate();
  }

  /**
   * The op check, the optimizer (unless turned off) and the check after it, as upstream runs them around
   * Grappler; null when not optimizing.
   */
  static TfjsOptimizer.Report optimizeAndCheck(Graph g, GraphOptions go, String source) {
    if (!go.optimize()) {
      cleanup(g);
      if (!go.skipOpCheck()) {
        OpCheck.require(g, go.stripDebugOps(), source);
      }
      return null;
    }
    if (!go.skipOpCheck()) {
      OpCheck.requireBeforeOptimizing(g, go.stripDebugOps(), source);
    }
    TfjsOptimizer.Report report = TfjsOptimizer.run(g);
    cleanup(g);
    if (!go.skipOpCheck()) {
      OpCheck.requireAfterOptimizing(g, go.stripDebugOps(), source);
    }
    return report;
  }

  /** Drops library functions no remaining node refers to (through {@code If}, {@code While}, ...). */
  static void keepReferencedFunctions(Graph g) {
    Set<String> keep = new HashSet<>();
    List<String> work = new ArrayList<>();
    for (Node n : g.nodes()) {
      referencedFunctions(n, g, work);
    }
    while (!work.isEmpty()) {
      String f = work.remove(work.size() - 1);
      if (keep.add(f) && g.function(f) != null) {
        for (Node n : g.function(f).nodes()) {
          referencedFunctions(n, g, work);
        }
      }
    }
    g.functions().keySet().retainAll(keep);
  }

  private static void referencedFunctions(Node n, Graph g, List<String> out) {
    if (g.function(n.op()) != null) {
      out.add(n.op());
    }
    for (AttrValue v : n.attrs().values()) {
      if (v instanceof AttrValue.Func f) {
        out.add(f.value().name());
      } else if (v instanceof AttrValue.ListAttr l) {
        l.func().forEach(x -> out.add(x.name()));
      }
    }
  }

  /** Functions that hold an op {@code which} accepts, directly or through calls. */
  private static Set<String> functionsWith(Graph g, java.util.function.Predicate<String> which) {
    Set<String> out = new HashSet<>();
    boolean grew = true;
    while (grew) {
      grew = false;
      for (GraphFunction f : g.functions().values()) {
        if (out.contains(f.name())) {
          continue;
        }
        for (Node n : f.nodes()) {
          List<String> refs = new ArrayList<>();
          referencedFunctions(n, g, refs);
          if (which.test(n.op()) || refs.stream().anyMatch(out::contains)) {
            out.add(f.name());
            grew = true;
            break;
          }
        }
      }
    }
    return out;
  }

  private static boolean calls(Node n, Graph g, Set<String> fns) {
    if (!FunctionInliner.isCall(g, n)) {
      return false;
    }
    FuncRef f = FunctionInliner.target(g, n);
    return fns.contains(f.name());
  }

  /** Gives TF2 signature inputs the argument names TensorFlow's freezing gives them, where free. */
  private static void renameInputs(Graph g, Map<String, String> inputNodes) {
    for (Map.Entry<String, String> e : inputNodes.entrySet()) {
      String key = e.getKey();
      String node = e.getValue();
      if (g.has(node) && !node.equals(key) && NODE_NAME.matcher(key).matches() && !g.has(key)) {
        g.rename(node, key);
        e.setValue(key);
      }
    }
  }

  private static String sinks(Graph g) {
    Set<String> read = new HashSet<>();
    for (Node n : g.nodes()) {
      n.inputs().forEach(i -> read.add(TensorRef.nodeOf(i)));
    }
    List<String> out = new ArrayList<>();
    for (Node n : g.nodes()) {
      if (!read.contains(n.name()) && !n.op().equals("NoOp") && !n.op().equals("Const")) {
        out.add(n.name());
      }
    }
    return out.size() > 10 ? String.join(", ", out.subList(0, 10)) + ", ..." : String.join(", ", out);
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

  /** Node counts, for the summary. */
  record Counts(int nodes, int functionNodes, int functions) {
    static Counts of(Graph g) {
      int fn = 0;
      for (GraphFunction f : g.functions().values()) {
        fn += f.nodes().size();
      }
      return new Counts(g.size(), fn, g.functions().size());
    }

    String describe() {
      return nodes + " nodes" + (functions == 0 ? "" : " + " + functionNodes + " in " + functions + " function"
          + (functions == 1 ? "" : "s"));
    }
  }

  private static ConversionSummary write(Graph g, Graph initializer, Path output, String generatedBy,
      ObjectNode signature,
      ObjectNode metadata, TfjsOutputOptions o, ProgressListener progress, long start, Counts before,
      int frozen, TfjsOptimizer.Report report) {
    List<String> notices = new ArrayList<>();
    String variables = frozen + " variable" + (frozen == 1 ? "" : "s") + " frozen";
    String detail = "graph: " + before.describe() + " before, " + (report == null
        ? Counts.of(g).describe() + " after (" + variables + "; not optimized)"
        : report.nodesBefore() + " after freezing (" + variables + "), " + report.describe());
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
    ObjectNode topology = GraphJson.graph(g, order);
    TfjsModelJson json = TfjsModelJson.graph(generatedBy, Version.CONVERTED_BY, topology, signature);
    if (initializer != null) {
      json = json.withInitializer(initializerJson(g, initializer, weights, notices), null);
      detail += "; tables filled by a " + initializer.size() + "-node modelInitializer";
    }
    if (metadata != null) {
      json = json.withUserDefinedMetadata(metadata);
    }
    try (AtomicOutput out = AtomicOutput.folder(output)) {
      WriteSummary ws = TfjsWriter.write(out.dir(), json, List.of(weights),
          new WriteOptions(o.shardSizeBytes(), o.quantization()), progress);
      out.commit();
      notices.addAll(ws.notices());
      return new ConversionSummary(output, ws.files().size(), ws.totalBytes(), ws.weightCount(),
          (System.nanoTime() - start) / 1_000_000, notices, detail);
    }
  }

  /**
   * The initializer graph as model.json's {@code modelInitializer}; its constants join the weights after the
   * inference graph's, as the converter writes them. Table nodes keep their names, by which TF.js finds the
   * filled table again; a constant whose name the optimizer has since given to an inference node is renamed
   * (both graphs draw on one weight map).
   */
  private static ObjectNode initializerJson(Graph g, Graph init, List<WeightEntry> weights, List<String> notices) {
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
   * A function's constants become weights named {@code <function>/<node>}, and the node is renamed to
   * match, because TF.js looks up a function's constants under that name.
   */
  private static void functionWeights(GraphFunction f, String source, List<WeightEntry> weights,
      List<String> notices) {
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
          ins.set(i, (control ? "^" : "") + renames.get(node) + (colon < 0 ? "" : body.substring(colon)));
        }
      }
    }
    f.ret().replaceAll((k, v) -> {
      int colon = v.indexOf(':');
      String node = colon < 0 ? v : v.substring(0, colon);
      return renames.containsKey(node) ? renames.get(node) + (colon < 0 ? "" : v.substring(colon)) : v;
    });
  }

  private static WeightEntry weight(Node n, String name, String source, List<String> notices) {
    TensorValue tv = n.tensorAttr("value");
    if (tv == null) {
      throw new CorruptModelException(source + ": constant '" + n.name() + "' has no value; the graph is damaged");
    }
    Tensor t = tv.value();
    if (t == null) {
      throw new UnsupportedModelException(source + ": constant '" + n.name() + "' has type "
          + DataTypes.name(tv.dtype()) + ", which TF.js cannot hold");
    }
    DType dt = t.dtype();
    if (dt == DType.INT8 || dt == DType.INT16 || dt == DType.UINT8 || dt == DType.UINT16) {
      // TF.js reads these types as int32, and its weight loader takes no unquantized 8/16-bit integers.
      notices.add("weight '" + name + "' has dtype " + dt.jsName() + ", which TF.js does not support;"
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
      out.putInt(switch (t.dtype()) {
        case INT8 -> in.get(i);
        case UINT8 -> in.get(i) & 0xff;
        case INT16 -> in.getShort(2 * i);
        default -> in.getShort(2 * i) & 0xffff;
      });
    }
    return new Tensor(DType.INT32, t.shape(), out.flip());
  }
}
