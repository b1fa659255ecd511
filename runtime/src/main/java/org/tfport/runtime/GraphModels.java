package org.tfport.runtime;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.tfport.core.DType;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.core.graph.TensorShape;
import org.tfport.formats.graphdef.GraphDefReader;
import org.tfport.formats.savedmodel.SavedModelReader;
import org.tfport.formats.savedmodel.SignatureInfo;
import org.tfport.formats.savedmodel.TensorInfo;
import org.tfport.graph.Functionalize;
import org.tfport.graph.GraphLoader;
import org.tfport.graph.GraphOptions;
import org.tfport.graph.TensorArrays;
import org.tfport.graph.TfjsGraphReader;
import org.tfport.graph.stablehlo.StableHloLowering;
import org.tfport.runtime.kernel.KernelRegistry;

/**
 * The models {@link ModelLoader} reads as a TensorFlow graph (SavedModel or TF Hub module, frozen
 * GraphDef, TF.js graph model, StableHLO program): their signatures' inputs and outputs, and the
 * rewrites the planner needs on the graph.
 */
final class GraphModels {
  /**
   * Ops that never are a frozen graph's result though nothing reads them: values, feeds, and what
   * only saves, restores or assigns variables.
   */
  private static final Set<String> NOT_OUTPUTS =
      Set.of(
          "Const",
          "NoOp",
          "Placeholder",
          "PlaceholderWithDefault",
          "Assert",
          "SaveV2",
          "Save",
          "SaveSlices",
          "RestoreV2",
          "Restore",
          "RestoreSlice",
          "VarHandleOp",
          "VariableV2",
          "Variable",
          "MergeV2Checkpoints");

  private GraphModels() {}

  // -------------------------------------------------------------------------------------------
  // SavedModel

  /**
   * A SavedModel or TF Hub module: the named signature only, else every signature, the default one
   * loaded now and the others when first run.
   */
  static Model savedModel(Path dir, LoadOptions o, KernelRegistry registry) {
    boolean tf1Hub = Files.exists(dir.resolve(SavedModelReader.HUB_MODULE_PB));
    Set<String> tags = o.tags() != null ? o.tags() : tf1Hub ? Set.of() : Set.of("serve");
    String source = dir.resolve(SavedModelReader.SAVED_MODEL_PB).toString();
    if (o.signatureName() != null) {
      Model.Part p = savedModelPart(dir, tags, o.signatureName());
      return Model.of(source, List.of(p), p.signatures(), Map.of(), registry);
    }
    Map<String, SignatureInfo> infos = SavedModelReader.signatures(dir, tags);
    if (infos.isEmpty()) {
      throw new UnsupportedModelException(
          source
              + ": the MetaGraph tagged "
              + String.join(",", tags)
              + " has no"
              + " signature with dense inputs and outputs; tfport runs a model through its signatures");
    }
    String first =
        infos.size() == 1
            ? infos.keySet().iterator().next()
            : infos.containsKey(Signature.DEFAULT_KEY)
                ? Signature.DEFAULT_KEY
                : infos.containsKey(GraphLoader.HUB_SIGNATURE) ? GraphLoader.HUB_SIGNATURE : null;
    List<Signature> listed = new ArrayList<>();
    Map<String, Supplier<Model.Part>> lazy = new LinkedHashMap<>();
    for (SignatureInfo info : infos.values()) {
      listed.add(declared(info));
      if (!info.key().equals(first)) {
        lazy.put(info.key(), () -> savedModelPart(dir, tags, info.key()));
      }
    }
    List<Model.Part> loaded = first == null ? List.of() : List.of(savedModelPart(dir, tags, first));
    return Model.of(source, loaded, listed, lazy, registry);
  }

  /** A signature as saved_model.pb declares it, before its graph is loaded. */
  private static Signature declared(SignatureInfo info) {
    List<TensorSpec> ins = new ArrayList<>();
    info.inputs().forEach((k, t) -> ins.add(spec(k, t.name(), t)));
    List<TensorSpec> outs = new ArrayList<>();
    info.outputs().forEach((k, t) -> outs.add(spec(k, t.name(), t)));
    return new Signature(info.key(), ins, outs);
  }

  private static TensorSpec spec(String name, String tensor, TensorInfo t) {
    return new TensorSpec(
        name, tensor, DataTypes.toDType(DataTypes.base(t.dtype())), dims(t.shape()));
  }

  private static Model.Part savedModelPart(Path dir, Set<String> tags, String key) {
    GraphOptions go = new GraphOptions(key, tags, true, false, false, List.of(), false);
    // Variables a signature writes stay variables, so a session's runs see each other's writes.
    GraphLoader.Loaded l = GraphLoader.load(dir, go, key, tags, true);
    Graph g = l.graph();
    SignatureInfo info = l.savedModel().signature();
    List<TensorSpec> ins = new ArrayList<>();
    for (Map.Entry<String, String> e : l.inputNodes().entrySet()) {
      ins.add(input(g, e.getKey(), e.getValue(), info.inputs().get(e.getKey())));
    }
    List<TensorSpec> outs = new ArrayList<>();
    for (int i = 0; i < l.outputKeys().size(); i++) {
      String k = l.outputKeys().get(i);
      outs.add(spec(k, g.outputs().get(i), l.outputInfo().get(k)));
    }
    prepare(g);
    return new Model.Part(
        g, List.of(new Signature(key, ins, outs)), prepareInitializer(l.initializer()));
  }

  // -------------------------------------------------------------------------------------------
  // frozen graphs

  static Model frozen(Path file, LoadOptions o, KernelRegistry registry) {
    List<String> outputs =
        o.outputNodeNames().stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
    if (outputs.isEmpty()) {
      outputs = sinks(GraphDefReader.read(file));
    }
    GraphOptions go = GraphOptions.defaults().withOutputNodeNames(outputs).withOptimize(false);
    GraphLoader.Loaded l = GraphLoader.loadFrozen(file, go);
    Graph g = l.graph();
    List<TensorSpec> ins = new ArrayList<>();
    for (String in : g.inputs()) {
      Node n = g.node(in);
      // A PlaceholderWithDefault computes its default unless fed; the signature leaves it out.
      if (n != null && n.op().equals("Placeholder")) {
        ins.add(input(g, in, in, null));
      }
    }
    List<TensorSpec> outs = new ArrayList<>();
    for (int i = 0; i < outputs.size(); i++) {
      outs.add(new TensorSpec(outputs.get(i), g.outputs().get(i), null, null));
    }
    prepare(g);
    Model.Part p =
        new Model.Part(
            g,
            List.of(new Signature(Signature.DEFAULT_KEY, ins, outs)),
            prepareInitializer(l.initializer()));
    return Model.of(file.toString(), List.of(p), p.signatures(), Map.of(), registry);
  }

  /**
   * The nodes nothing reads, but for {@link #NOT_OUTPUTS} and variable assignments: a frozen
   * graph's results.
   */
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
          g.source()
              + ": every node is read by another, so the graph has no evident outputs;"
              + " name the nodes to compute (LoadOptions.outputNodeNames)");
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // StableHLO

  /**
   * A StableHLO program: its entry function lowered to a graph, one signature {@value
   * Signature#DEFAULT_KEY} fed by the arguments ({@code arg0}, ...) computing the results (named by
   * {@code jax.result_info}, else {@code output_k}).
   */
  static Model stablehlo(Path file, LoadOptions o, KernelRegistry registry) {
    if (o.signatureName() != null && !o.signatureName().equals(Signature.DEFAULT_KEY)) {
      throw new UsageException(
          file
              + ": a StableHLO program has one signature, "
              + Signature.DEFAULT_KEY
              + ", not '"
              + o.signatureName()
              + "'");
    }
    StableHloLowering.Lowered lw = StableHloLowering.load(file);
    Graph g = lw.graph();
    List<TensorSpec> ins = new ArrayList<>();
    for (String in : lw.inputNames()) {
      ins.add(input(g, in, in, null));
    }
    List<TensorSpec> outs = new ArrayList<>();
    for (int i = 0; i < lw.outputNames().size(); i++) {
      outs.add(new TensorSpec(lw.outputNames().get(i), g.outputs().get(i), null, null));
    }
    Model.Part p =
        new Model.Part(g, List.of(new Signature(Signature.DEFAULT_KEY, ins, outs)), null);
    return Model.of(file.toString(), List.of(p), p.signatures(), Map.of(), registry);
  }

  // -------------------------------------------------------------------------------------------
  // TF.js

  static Model tfjsGraph(Path path, LoadOptions o, KernelRegistry registry) {
    onlyDefaultSignature(path, o, "a TF.js graph model");
    TfjsGraphReader.TfjsGraph tg = TfjsGraphReader.read(path);
    Graph g = tg.graph();
    List<String> outNames = new ArrayList<>(tg.outputKeys());
    List<String> outputs =
        o.outputNodeNames().stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
    if (!outputs.isEmpty()) {
      g.outputs().clear();
      outNames.clear();
      for (String name : outputs) {
        TensorRef r = TensorRef.parse(name);
        if (!g.has(r.node())) {
          throw new UsageException(
              tg.source() + ": there is no node '" + r.node() + "' to compute");
        }
        g.outputs().add(r.toString());
        outNames.add(name);
      }
    }
    List<TensorSpec> ins = new ArrayList<>();
    for (Map.Entry<String, String> e : tg.inputs().entrySet()) {
      ins.add(input(g, e.getKey(), e.getValue(), null));
    }
    List<TensorSpec> outs = new ArrayList<>();
    for (int i = 0; i < outNames.size(); i++) {
      outs.add(new TensorSpec(outNames.get(i), g.outputs().get(i), null, null));
    }
    typePrelu(g);
    // As TF.js, only what the outputs need runs; inputs they do not need stay fed placeholders.
    g.prune();
    restoreInputs(g, ins);
    prepare(g);
    Model.Part p =
        new Model.Part(
            g,
            List.of(new Signature(Signature.DEFAULT_KEY, ins, outs)),
            prepareInitializer(TfjsGraphReader.initializer(tg)));
    return Model.of(tg.source().toString(), List.of(p), p.signatures(), Map.of(), registry);
  }

  /**
   * TF.js's own {@code Prelu} op (the converter's fusion of Keras' PReLU; TensorFlow has none)
   * carries no {@code T}: it takes its input's type, read from the producer's {@code T} or {@code
   * dtype}, else float32.
   */
  static void typePrelu(Graph g) {
    List<List<Node>> bodies = new ArrayList<>();
    bodies.add(g.nodes());
    g.functions().values().forEach(f -> bodies.add(f.nodes()));
    for (List<Node> nodes : bodies) {
      Map<String, Node> byName = new LinkedHashMap<>();
      nodes.forEach(n -> byName.put(n.name(), n));
      for (Node n : nodes) {
        if (n.op().equals("Prelu") && n.attr("T") == null && !n.dataInputs().isEmpty()) {
          Node src = byName.get(TensorRef.nodeOf(n.dataInputs().get(0)));
          AttrValue t =
              src == null ? null : src.attr("T") != null ? src.attr("T") : src.attr("dtype");
          n.attr("T", t instanceof AttrValue.Type ty ? ty : new AttrValue.Type(DataTypes.DT_FLOAT));
        }
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // shared

  /**
   * Refuses a signature other than {@value Signature#DEFAULT_KEY} for a model that has that one
   * only ({@code kind}: "a TF.js graph model", "a Keras model").
   */
  static void onlyDefaultSignature(Path path, LoadOptions o, String kind) {
    if (o.signatureName() != null && !o.signatureName().equals(Signature.DEFAULT_KEY)) {
      throw new UsageException(
          path
              + ": "
              + kind
              + " has one signature, '"
              + Signature.DEFAULT_KEY
              + "'; there is no signature '"
              + o.signatureName()
              + "'");
    }
  }

  /**
   * A signature input fed at {@code node}: typed and shaped by the placeholder, else by the
   * signature's declaration. A placeholder the outputs do not need (pruned away) is put back, so it
   * can still be fed.
   */
  static TensorSpec input(Graph g, String name, String node, TensorInfo declared) {
    Node n = g.node(node);
    if (n == null) {
      if (declared == null) {
        throw new UsageException(
            g.source() + ": the input '" + name + "' names no node '" + node + "'");
      }
      Map<String, AttrValue> attrs = new LinkedHashMap<>();
      attrs.put("dtype", new AttrValue.Type(DataTypes.base(declared.dtype())));
      attrs.put("shape", new AttrValue.Shape(declared.shape()));
      n = g.add(new Node(node, "Placeholder", List.of(), "", attrs));
      g.inputs().add(node);
    }
    DType t =
        n.attr("dtype") instanceof AttrValue.Type ty
            ? DataTypes.toDType(DataTypes.base(ty.value()))
            : declared == null ? null : DataTypes.toDType(DataTypes.base(declared.dtype()));
    long[] shape =
        n.attr("shape") instanceof AttrValue.Shape s
            ? dims(s.value())
            : declared == null ? null : dims(declared.shape());
    return new TensorSpec(name, node, t, shape);
  }

  /**
   * Placeholders of signature inputs the pruning removed, put back as the signature declares them.
   */
  private static void restoreInputs(Graph g, List<TensorSpec> ins) {
    for (TensorSpec s : ins) {
      if (!g.has(TensorRef.nodeOf(s.tensor()))) {
        Map<String, AttrValue> attrs = new LinkedHashMap<>();
        attrs.put(
            "dtype",
            new AttrValue.Type(
                s.dtype() == null ? DataTypes.DT_FLOAT : DataTypes.fromDType(s.dtype())));
        attrs.put(
            "shape",
            new AttrValue.Shape(
                s.shape() == null ? TensorShape.UNKNOWN : TensorShape.of(s.shape())));
        g.add(new Node(TensorRef.nodeOf(s.tensor()), "Placeholder", List.of(), "", attrs));
      }
    }
  }

  private static long[] dims(TensorShape s) {
    return s == null || s.unknownRank() ? null : s.dims();
  }

  /**
   * What the planner needs beyond a loaded graph: TF1 TensorArrays become the dense tensors they
   * hold and TF1 control flow becomes {@code While}/{@code If} with library functions (the planner
   * runs no cycles).
   */
  static void prepare(Graph g) {
    try {
      if (g.nodes().stream().anyMatch(n -> n.op().startsWith("TensorArray"))) {
        TensorArrays.apply(g);
      }
      Functionalize.apply(g);
    } catch (UnsupportedModelException e) {
      throw new UnsupportedModelException(
          "cannot run TF1 control flow or TensorArrays: " + e.getMessage());
    }
  }

  private static Graph prepareInitializer(Graph init) {
    if (init != null) {
      prepare(init);
    }
    return init;
  }
}
