package org.tfport.graph;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
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
import org.tfport.formats.graphdef.GraphDefReader;
import org.tfport.formats.mlir.XlaCallModule;
import org.tfport.formats.savedmodel.SavedModelGraph;
import org.tfport.formats.savedmodel.SavedModelReader;
import org.tfport.formats.savedmodel.TensorBundle;
import org.tfport.formats.savedmodel.TensorInfo;
import org.tfport.graph.stablehlo.XlaCallModules;

/**
 * TensorFlow graphs (SavedModel, TF Hub module, frozen GraphDef) into the IR every target starts
 * from: the signature picked, its functions inlined, variables replaced by their checkpoint values,
 * tables' initializers split off, and only what the outputs need kept; no target-specific
 * optimization.
 */
public final class GraphLoader {
  public static final String DEFAULT_SIGNATURE = "serving_default";
  public static final String HUB_SIGNATURE = "default";
  static final Set<String> RESTORE_OPS = Set.of("RestoreV2", "Restore", "RestoreSlice");
  private static final Pattern NODE_NAME = Pattern.compile("[A-Za-z0-9.][A-Za-z0-9_.\\-/>]*");

  private GraphLoader() {}

  /**
   * A signature of a SavedModel (or Hub module) loaded, inlined, frozen and pruned to what its
   * outputs need, before any target-specific optimization; what every output format starts from.
   *
   * @param savedModel null for a frozen GraphDef
   * @param inputNodes signature input key to the placeholder node that feeds it
   * @param outputKeys signature output keys, in the order of {@code graph.outputs()}
   * @param before node counts before freezing
   * @param frozen how many variables were replaced by constants
   */
  public record Loaded(
      Graph graph,
      SavedModelGraph savedModel,
      String signature,
      Map<String, String> inputNodes,
      List<String> outputKeys,
      Map<String, TensorInfo> outputInfo,
      Counts before,
      int frozen,
      Graph initializer) {}

  /**
   * {@link #load} with the defaults of {@code tf_saved_model} ({@code hub} false) or {@code
   * tf_hub}.
   */
  public static Loaded loadSavedModel(Path dir, GraphOptions go, boolean hub) {
    if (hub && !Files.isDirectory(dir)) {
      throw new UsageException(
          dir
              + ": a TF Hub module is a folder; download and extract the module first"
              + " (tfport does not fetch from the network)");
    }
    boolean tf1 = hub && Files.exists(dir.resolve(SavedModelReader.HUB_MODULE_PB));
    return load(dir, go, hub ? HUB_SIGNATURE : DEFAULT_SIGNATURE, tf1 ? Set.of() : Set.of("serve"));
  }

  public static Loaded load(
      Path dir, GraphOptions go, String defaultSignature, Set<String> defaultTags) {
    return load(dir, go, defaultSignature, defaultTags, false);
  }

  /**
   * As {@link #load(Path, GraphOptions, String, Set)}; with {@code keepWrittenVariables} (the
   * runtime's loading), a model some signature of which writes resource variables keeps them as
   * variables holding their checkpoint values (see {@link VariableFreezer#INITIAL_VALUE}) instead
   * of freezing them, so that writes persist between runs.
   */
  public static Loaded load(
      Path dir,
      GraphOptions go,
      String defaultSignature,
      Set<String> defaultTags,
      boolean keepWrittenVariables) {
    if (!Files.isDirectory(dir)) {
      throw new UsageException(
          dir
              + ": a SavedModel is a folder holding saved_model.pb; convert a single .pb"
              + " GraphDef as a frozen GraphDef");
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
        throw new CorruptModelException(
            source
                + ": signature '"
                + sigName
                + "' output '"
                + e.getKey()
                + "' is tensor '"
                + e.getValue().name()
                + "', but the graph has no node '"
                + r.node()
                + "'");
      }
      outputKeys.add(e.getKey());
      outputInfo.put(e.getKey(), e.getValue());
      g.outputs().add(r.toString());
    }
    if (outputKeys.isEmpty()) {
      throw new UnsupportedModelException(
          source
              + ": signature '"
              + sigName
              + "' has no outputs; a TF.js graph"
              + " model needs at least one");
    }
    Map<String, String> inputNodes = new LinkedHashMap<>();
    for (Map.Entry<String, TensorInfo> e : sm.signature().inputs().entrySet()) {
      String node = TensorRef.nodeOf(e.getValue().name());
      if (!g.has(node)) {
        throw new CorruptModelException(
            source
                + ": signature '"
                + sigName
                + "' input '"
                + e.getKey()
                + "' is tensor '"
                + e.getValue().name()
                + "', but the graph has no node '"
                + node
                + "'");
      }
      node = feedPoint(g, e.getValue());
      inputNodes.put(e.getKey(), node);
      g.inputs().add(node);
    }
    g.validate();

    // A TF2 signature is one call of a wrapper function; inlining that one without a prefix gives
    // the
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
    // Calls that restore variables or fill tables are inlined too: they show which key is which
    // variable's
    // and what goes into each table.
    Set<String> restoreFns =
        functionsWith(g, op -> RESTORE_OPS.contains(op) || TableInitializer.fillsTables(op));
    Set<String> needed = g.reachable(g.outputNodes());
    new FunctionInliner(n -> needed.contains(n.name()) || calls(n, g, restoreFns)).apply(g);
    expandXlaCallModules(g);
    if (go.stripDebugOps()) {
      new DebugOpStripper().apply(g);
    }
    TensorBundle bundle = sm.variables();
    VariableFreezer freezer =
        new VariableFreezer(
            g, (key, slice) -> bundle != null && bundle.has(key) ? bundle.read(key, slice) : null);
    if (keepWrittenVariables && Files.exists(dir.resolve(SavedModelReader.SAVED_MODEL_PB))) {
      Set<String> signatureNodes = new java.util.HashSet<>();
      for (var info : SavedModelReader.signatures(dir, tags).values()) {
        info.outputs().values().forEach(t -> signatureNodes.add(TensorRef.nodeOf(t.name())));
      }
      freezer.keepingWrittenVariables(signatureNodes);
    }
    int frozen = freezer.freeze();
    Graph initializer = TableInitializer.extract(g, g.reachable(g.outputNodes()));
    prepare(g);
    FunctionGraph.inlineCallsInFunctions(g);
    if (hoisted) {
      renameInputs(g, inputNodes);
    }
    return new Loaded(
        g, sm, sigName, inputNodes, outputKeys, outputInfo, before, frozen, initializer);
  }

  /**
   * A frozen GraphDef with {@code go.outputNodeNames()} as outputs, frozen and pruned like {@link
   * #load}.
   */
  public static Loaded loadFrozen(Path file, GraphOptions go) {
    if (go.outputNodeNames().isEmpty()) {
      throw new UsageException(
          file
              + ": a frozen GraphDef needs its output node names: give the names of the"
              + " nodes to compute");
    }
    Graph g = GraphDefReader.read(file);
    Counts before = Counts.of(g);
    for (String name : go.outputNodeNames()) {
      TensorRef r = TensorRef.parse(name.strip());
      if (!g.has(r.node())) {
        throw new UsageException(
            file
                + ": output node name '"
                + r.node()
                + "' is not a node of"
                + " the graph; nodes nothing reads are: "
                + sinks(g));
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
    expandXlaCallModules(g);
    if (go.stripDebugOps()) {
      new DebugOpStripper().apply(g);
    }
    int frozen = new VariableFreezer(g, (key, slice) -> null, true).freeze();
    Graph initializer = TableInitializer.extract(g, g.reachable(g.outputNodes()));
    prepare(g);
    FunctionGraph.inlineCallsInFunctions(g);
    return new Loaded(
        g,
        null,
        null,
        new LinkedHashMap<>(),
        new ArrayList<>(),
        new LinkedHashMap<>(),
        before,
        frozen,
        initializer);
  }

  /**
   * jax2tf's {@code XlaCallModule} nodes become their StableHLO module's TensorFlow ops, and the
   * TensorFlow functions the module calls back ({@code tf.call_tf_function}) are inlined.
   */
  private static void expandXlaCallModules(Graph g) {
    if (XlaCallModules.present(g)) {
      Set<String> calls = new HashSet<>(XlaCallModules.expand(g));
      new FunctionInliner(n -> calls.contains(n.name())).apply(g);
    }
    // Modules inside library functions (a loop body jax2tf wrote around a converted step): the
    // function is expanded as a graph of its own and written back in function form.
    Set<String> used = referencedFunctions(g);
    for (String name : new ArrayList<>(g.functions().keySet())) {
      GraphFunction f = g.function(name);
      if (!used.contains(name)
          || f.nodes().stream().noneMatch(n -> n.op().equals(XlaCallModule.OP))) {
        continue;
      }
      FunctionGraph fg = FunctionGraph.instantiate(g, name, null);
      Set<String> calls = new HashSet<>(XlaCallModules.expand(fg.graph()));
      new FunctionInliner(n -> calls.contains(n.name())).apply(fg.graph());
      // The loops and branches of the module's lowering join the owner's library.
      fg.graph().functions().forEach(g.functions()::putIfAbsent);
      // The lowering's ops have one output argument each, written "output" as its own loop
      // bodies write them (the file's op list need not know these ops).
      Map<String, String> outArgByOp = FunctionGraph.outArgByOp(g);
      for (Node n : fg.graph().nodes()) {
        outArgByOp.putIfAbsent(n.op(), "output");
      }
      g.functions().put(name, fg.toFunction(f, outArgByOp));
    }
  }

  /**
   * Makes a signature input a placeholder. TF1 serving signatures often feed an inner tensor (the
   * {@code x} a {@code ParseExample} would produce); TensorFlow feeds it directly and never runs
   * what computes it, so the tensor's producer becomes the placeholder (or a new one takes its
   * place, for a later output).
   */
  public static String feedPoint(Graph g, TensorInfo info) {
    TensorRef r = TensorRef.parse(info.name());
    Node n = g.node(r.node());
    if (n.op().equals("Placeholder") || n.op().equals("PlaceholderWithDefault") && r.index() == 0) {
      return n.name();
    }
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    attrs.put("dtype", new AttrValue.Type(DataTypes.base(info.dtype())));
    TensorShape shape = info.shape();
    // Old TF1 signatures can misdeclare a fed tensor's shape; TensorFlow's own inference wins when
    // they differ
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
  public static List<String> placeholders(Graph g) {
    List<String> out = new ArrayList<>();
    for (Node n : g.nodes()) {
      if (n.op().equals("Placeholder")) {
        out.add(n.name());
      }
    }
    return out;
  }

  /** A placeholder's declared shape, unknown dimensions as 1 (used to make example inputs). */
  public static long[] shapeOf(Node placeholder) {
    if (placeholder.attr("shape") instanceof AttrValue.Shape s && !s.value().unknownRank()) {
      long[] d = s.value().dims();
      for (int i = 0; i < d.length; i++) {
        d[i] = d[i] < 0 ? 1 : d[i];
      }
      return d;
    }
    return new long[] {1};
  }

  /**
   * The rewrites after freezing, shared by every input kind, without optimizing; the graph is valid
   * after.
   */
  public static void finish(Graph g) {
    prepare(g);
    cleanup(g);
  }

  /** What TF.js needs of a frozen graph: what the outputs use, in ops and attributes it reads. */
  public static void prepare(Graph g) {
    g.prune();
    new ControlDependencyCleanup().apply(g);
    g.prune();
    new IdentityRemover().apply(g);
    new DefaultAttributes().apply(g);
    new TfjsRewrites().apply(g);
    g.prune();
    keepReferencedFunctions(g);
  }

  /**
   * Drops what only TensorFlow reads (devices, {@code _} attributes, unused functions); checks the
   * graph.
   */
  public static void cleanup(Graph g) {
    new TfjsRewrites.Cleanup().apply(g);
    keepReferencedFunctions(g);
    g.validate();
  }

  /**
   * Drops library functions no remaining node refers to (through {@code If}, {@code While}, ...).
   */
  public static void keepReferencedFunctions(Graph g) {
    g.functions().keySet().retainAll(referencedFunctions(g));
  }

  /** The library functions the graph's nodes refer to, directly or through other functions. */
  private static Set<String> referencedFunctions(Graph g) {
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
    return keep;
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

  /**
   * Functions that hold an op {@code which} accepts, directly or through calls. One pass over the
   * library, then up the callers: a fixed point over whole passes cost a pass per level of calls,
   * which a deep TF2 library (or a fuzzer's) makes quadratic.
   */
  private static Set<String> functionsWith(Graph g, java.util.function.Predicate<String> which) {
    Set<String> out = new HashSet<>();
    List<String> work = new ArrayList<>();
    Map<String, List<String>> callers = new HashMap<>();
    for (GraphFunction f : g.functions().values()) {
      List<String> refs = new ArrayList<>();
      boolean holds = false;
      for (Node n : f.nodes()) {
        holds |= which.test(n.op());
        referencedFunctions(n, g, refs);
      }
      if (holds && out.add(f.name())) {
        work.add(f.name());
      }
      for (String callee : refs) {
        callers.computeIfAbsent(callee, k -> new ArrayList<>()).add(f.name());
      }
    }
    while (!work.isEmpty()) {
      for (String caller : callers.getOrDefault(work.remove(work.size() - 1), List.of())) {
        if (out.add(caller)) {
          work.add(caller);
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
    return out.size() > 10
        ? String.join(", ", out.subList(0, 10)) + ", ..."
        : String.join(", ", out);
  }

  /** Node counts, for the summary. */
  public record Counts(int nodes, int functionNodes, int functions) {
    public static Counts of(Graph g) {
      int fn = 0;
      for (GraphFunction f : g.functions().values()) {
        fn += f.nodes().size();
      }
      return new Counts(g.size(), fn, g.functions().size());
    }

    public String describe() {
      return nodes
          + " nodes"
          + (functions == 0
              ? ""
              : " + "
                  + functionNodes
                  + " in "
                  + functions
                  + " function"
                  + (functions == 1 ? "" : "s"));
    }
  }
}
