package org.tfport.runtime;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.tfport.core.DType;
import org.tfport.core.TfportException.UsageException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.ops.StandardKernels;

/**
 * A model ready to run: graphs, the signatures they are called through and, optionally, initializer
 * graphs that fill the session's tables before their first run (TF.js's {@code modelInitializer}).
 * Compiled once; every {@link Session} made from it shares the compiled plans, so sessions are
 * cheap. Thread-safe.
 *
 * <pre>{@code
 * try (Model model = Model.load(Path.of("saved_model_dir"));
 *     Session session = model.newSession(SessionOptions.defaults())) {
 *   Map<String, Tensor> out = session.run(Map.of("x", x));
 * }
 * }</pre>
 *
 * <p>A SavedModel loaded without naming a signature lists all of its signatures; the default one is
 * loaded and compiled at load, each other one when a session first runs it (so an op without a
 * kernel in it is reported then, naming the node).
 */
public final class Model implements AutoCloseable {
  /**
   * One graph, the signatures computed from it and the initializer that fills its tables (or null).
   * The graph is null once the model dropped it ({@link #dropSourceWeights}).
   */
  record Part(Graph graph, List<Signature> signatures, Graph initializer) {}

  /** The plans of one part's signatures and of its initializer, for one kernel mode. */
  record Compiled(Map<String, Plan> signatures, Plan initializer) {}

  /**
   * What a session needs to run one signature: its spec, its plan and its part's initializer (or
   * null).
   */
  record Bound(Signature signature, Plan plan, Plan initializer) {}

  private final String source;
  private final KernelRegistry registry;

  /** Every signature, loaded or not, in order; a loaded one is the spec of its graph. */
  private final Map<String, Signature> signatures = new LinkedHashMap<>();

  private final Map<String, Part> parts = new HashMap<>();
  private final Map<String, Supplier<Part>> pending = new HashMap<>();
  private final Map<String, RuntimeException> failed = new HashMap<>();

  /** Per kernel mode and whether the plan is for observed runs (those are not fused). */
  private final Map<PlanKind, Map<Part, Compiled>> compiled = new HashMap<>();

  private record PlanKind(KernelRegistry.Mode mode, boolean observed) {}

  private volatile boolean closed;

  /**
   * How dropped graphs are read again, and each dropped part's fingerprint; null while the model
   * keeps its graphs.
   */
  private SourceWeights sourceWeights;

  private final Map<Part, Long> fingerprints = new IdentityHashMap<>();

  /**
   * @param listed every signature in order: the loaded parts' and those {@code lazy} loads when
   *     first run
   */
  private Model(
      String source,
      List<Part> loaded,
      List<Signature> listed,
      Map<String, Supplier<Part>> lazy,
      KernelRegistry registry) {
    this.source = source;
    this.registry = registry;
    for (Signature s : listed) {
      if (signatures.putIfAbsent(s.key(), s) != null) {
        throw new UsageException(source + ": two signatures are named '" + s.key() + "'");
      }
    }
    for (Part p : loaded) {
      for (Signature s : p.signatures()) {
        if (parts.putIfAbsent(s.key(), p) != null) {
          throw new UsageException(source + ": two signatures are named '" + s.key() + "'");
        }
        signatures.put(s.key(), s);
      }
    }
    lazy.forEach(
        (k, v) -> {
          if (!parts.containsKey(k)) {
            pending.put(k, v);
          }
        });
    if (signatures.isEmpty()) {
      throw new UsageException(source + ": a model needs at least one signature");
    }
  }

  /**
   * Compiles the loaded parts with the default kernels, so that a model tfport cannot run is
   * refused when it is made, not at its first run.
   */
  private Model compileLoaded() {
    for (Part p : parts.values()) {
      compiled(SessionOptions.defaults().kernels(), p);
    }
    return this;
  }

  /**
   * A model over {@code graph} called through {@code signatures}.
   *
   * @throws org.tfport.core.TfportException.UnsupportedModelException naming every node whose op
   *     has no kernel
   * @throws UsageException for a signature naming no tensor of the graph
   */
  public static Model fromGraph(Graph graph, List<Signature> signatures) {
    return fromGraph(graph, signatures, null);
  }

  /**
   * As {@link #fromGraph(Graph, List)}, with an initializer graph run once per session before its
   * first run.
   */
  public static Model fromGraph(Graph graph, List<Signature> signatures, Graph initializer) {
    return fromGraph(graph, signatures, initializer, StandardKernels.registry());
  }

  static Model fromGraph(
      Graph graph, List<Signature> signatures, Graph initializer, KernelRegistry registry) {
    if (signatures.isEmpty()) {
      throw new UsageException(graph.source() + ": a model needs at least one signature");
    }
    Part p =
        new Part(
            copy(graph), List.copyOf(signatures), initializer == null ? null : copy(initializer));
    return new Model(graph.source(), List.of(p), signatures, Map.of(), registry).compileLoaded();
  }

  /**
   * Parts already loaded, plus signatures whose part {@code lazy} loads when first run (their specs
   * in {@code listed}, which gives the order); the graphs are the model's own from here on. Not
   * compiled yet: see {@link #compiledNow}.
   */
  static Model of(
      String source,
      List<Part> loaded,
      List<Signature> listed,
      Map<String, Supplier<Part>> lazy,
      KernelRegistry registry) {
    return new Model(source, loaded, listed, lazy, registry);
  }

  /** This model with its loaded parts compiled with the default kernels. */
  Model compiledNow() {
    synchronized (this) {
      return compileLoaded();
    }
  }

  /**
   * Drops the graphs of the parts loaded so far, whose default plans are compiled: those plans hold
   * the weights they need, so the graphs' constants, as read from the files, are a second copy of
   * the weights. A plan of another kind re-reads the files through {@code reread} (an uncompiled
   * load of the same files), which must give the same graphs.
   */
  synchronized void dropSourceWeights(Supplier<Model> reread) {
    sourceWeights = new SourceWeights(source, reread);
    Map<Part, Part> dropped = new IdentityHashMap<>();
    for (Part p : parts.values()) {
      if (p.graph() != null && !dropped.containsKey(p)) {
        Part d = new Part(null, p.signatures(), p.initializer());
        fingerprints.put(d, SourceWeights.fingerprint(p.graph()));
        dropped.put(p, d);
      }
    }
    parts.replaceAll((k, p) -> dropped.getOrDefault(p, p));
    for (Map<Part, Compiled> byPart : compiled.values()) {
      dropped.forEach(
          (p, d) -> {
            Compiled c = byPart.remove(p);
            if (c != null) {
              byPart.put(d, c);
            }
          });
    }
  }

  /** The graph of the loaded part computing signature {@code key}, or null. */
  synchronized Graph loadedGraph(String key) {
    Part p = parts.get(key);
    return p == null ? null : p.graph();
  }

  /**
   * A model called through the graph's own interface: its {@link Graph#inputs()} (placeholders,
   * typed and shaped by their attributes) and {@link Graph#outputs()}, as signature {@value
   * Signature#DEFAULT_KEY}.
   */
  public static Model fromGraph(Graph graph) {
    return fromGraph(graph, List.of(graphSignature(graph)));
  }

  /**
   * Loads a model from a file or folder, its format read from the path: a SavedModel or TF Hub
   * module folder ({@code saved_model.pb}, {@code tfhub_module.pb}), a frozen GraphDef ({@code
   * .pb}), a TF.js graph model ({@code model.json}, or its folder) or a TFLite model ({@code
   * .tflite}, or a file with its {@code TFL3} identifier). See {@link #load(Path, LoadOptions)}.
   */
  public static Model load(Path path) {
    return load(path, LoadOptions.defaults());
  }

  /**
   * Loads a model as {@link #load(Path)} does, with a signature, MetaGraph tags or output tensors
   * picked.
   *
   * <p>What each format gives: a SavedModel, its signatures (inputs and outputs by their keys); a
   * frozen GraphDef, one signature {@value Signature#DEFAULT_KEY} fed by its placeholders (by node
   * name) computing the {@code outputNodeNames}, or, when none are given, every node nothing reads
   * except constants, placeholders, {@code NoOp}s and ops that only save, restore or assign
   * variables; a TF.js graph model, its signature (else its placeholders and the nodes nothing
   * reads, as TF.js does) and its {@code modelInitializer}; a {@code .tflite} file, its
   * SignatureDefs (else its main subgraph's inputs and outputs). TF1 control flow ({@code
   * Switch}/{@code Merge}, {@code Enter}/{@code Exit} loops) and TF1 TensorArrays are rewritten
   * into {@code If}/{@code While} over dense tensors at load.
   *
   * @throws UsageException for a path that is no model, or a signature, tag set or output the model
   *     lacks
   * @throws org.tfport.core.TfportException.CorruptModelException for a damaged file
   * @throws org.tfport.core.TfportException.UnsupportedModelException naming every node whose op
   *     has no kernel
   */
  public static Model load(Path path, LoadOptions options) {
    return ModelLoader.load(path, options);
  }

  /**
   * Loads a model named by a URL through the io module's handlers: {@code file://} (any format
   * {@link #load(Path)} reads), {@code http(s)://} (a TF.js model.json and its weights, fetched
   * into a temporary folder that is deleted once loaded) or a scheme an {@link
   * org.tfport.io.IORouter} plug-in adds. A string without a scheme is a path.
   */
  public static Model loadUrl(String url) {
    return loadUrl(url, LoadOptions.defaults());
  }

  /** As {@link #loadUrl(String)}, with a signature, MetaGraph tags or output tensors picked. */
  public static Model loadUrl(String url, LoadOptions options) {
    return UrlLoader.load(url, options);
  }

  static Signature graphSignature(Graph graph) {
    List<TensorSpec> ins = new ArrayList<>();
    for (String in : graph.inputs()) {
      Node p = graph.node(TensorRef.nodeOf(in));
      if (p == null) {
        throw new UsageException(graph.source() + ": the graph input '" + in + "' names no node");
      }
      DType t = DataTypes.toDType(p.typeAttr("dtype"));
      long[] shape =
          p.attr("shape") instanceof AttrValue.Shape s && !s.value().unknownRank()
              ? s.value().dims()
              : null;
      ins.add(new TensorSpec(p.name(), in, t, shape));
    }
    List<TensorSpec> outs = new ArrayList<>();
    for (String o : graph.outputs()) {
      outs.add(new TensorSpec(o, o, null, null));
    }
    return new Signature(Signature.DEFAULT_KEY, ins, outs);
  }

  static Graph copy(Graph g) {
    Graph c = new Graph(g.source());
    g.nodes().forEach(n -> c.add(n.copy()));
    c.functions().putAll(g.functions());
    c.ops().putAll(g.ops());
    c.inputs().addAll(g.inputs());
    c.outputs().addAll(g.outputs());
    c.versions(g.producer(), g.minConsumer());
    return c;
  }

  /**
   * The signatures, in order: loaded ones as compiled, the others as the model file declares them.
   */
  public synchronized List<Signature> signatures() {
    return List.copyOf(signatures.values());
  }

  /**
   * Signature {@code key}, its graph loaded and compiled first if it was not yet (a SavedModel's
   * other signatures), so its specs are those of the graph that runs. A signature that fails to
   * load fails the same way each time it is asked for.
   *
   * @throws UsageException when the model has no signature {@code key}
   * @throws org.tfport.core.TfportException.UnsupportedModelException when its graph cannot be run
   */
  public synchronized Signature signature(String key) {
    if (!signatures.containsKey(key)) {
      throw new UsageException(
          source
              + ": the model has no signature '"
              + key
              + "'; its signatures are "
              + signatures.keySet());
    }
    if (!closed) {
      part(key);
    }
    return signatures.get(key);
  }

  /**
   * The signature a call without a key uses: the only one, else {@value Signature#DEFAULT_KEY},
   * else TF Hub's {@code default}; loaded as {@link #signature(String)} does.
   *
   * @throws UsageException when the model has several signatures and none of these
   */
  public synchronized Signature defaultSignature() {
    String key = null;
    if (signatures.size() == 1) {
      key = signatures.keySet().iterator().next();
    } else {
      for (String k : List.of(Signature.DEFAULT_KEY, "default")) {
        if (signatures.containsKey(k)) {
          key = k;
          break;
        }
      }
    }
    if (key == null) {
      throw new UsageException(
          source
              + ": the model has several signatures "
              + signatures.keySet()
              + " and none is '"
              + Signature.DEFAULT_KEY
              + "'; name the one to run");
    }
    return signature(key);
  }

  String source() {
    return source;
  }

  /**
   * Whether signature {@code key}'s graph is loaded (always, but for a SavedModel's other
   * signatures).
   */
  synchronized boolean isLoaded(String key) {
    return parts.containsKey(key);
  }

  /**
   * The part computing signature {@code key}, loaded and compiled with the default kernels on first
   * use.
   */
  private Part part(String key) {
    Part p = parts.get(key);
    if (p == null) {
      if (failed.containsKey(key)) {
        throw failed.get(key);
      }
      try {
        p = pending.get(key).get();
        compiled(SessionOptions.defaults().kernels(), p);
      } catch (RuntimeException e) {
        failed.put(key, e);
        throw e;
      }
      pending.remove(key);
      for (Signature s : p.signatures()) {
        parts.put(s.key(), p);
        signatures.put(s.key(), s);
      }
    }
    return p;
  }

  /**
   * Signature {@code key} ready to run with {@code mode}'s kernels; see {@link #signature(String)}.
   */
  synchronized Bound bound(KernelRegistry.Mode mode, String key) {
    return bound(mode, key, false);
  }

  /**
   * As {@link #bound(KernelRegistry.Mode, String)}; an {@code observed} run gets a plan that
   * computes every node's value (nothing fused away).
   */
  synchronized Bound bound(KernelRegistry.Mode mode, String key, boolean observed) {
    if (closed) {
      throw new UsageException(source + ": the model is closed");
    }
    signature(key);
    Compiled c = compiled(new PlanKind(mode, observed), part(key));
    return new Bound(signatures.get(key), c.signatures().get(key), c.initializer());
  }

  private Compiled compiled(KernelRegistry.Mode mode, Part part) {
    return compiled(new PlanKind(mode, false), part);
  }

  private Compiled compiled(PlanKind kind, Part part) {
    KernelRegistry.Mode mode = kind.mode();
    boolean fuse = mode == KernelRegistry.Mode.OPTIMIZED && !kind.observed();
    Map<Part, Compiled> byPart = compiled.computeIfAbsent(kind, m -> new IdentityHashMap<>());
    Compiled c = byPart.get(part);
    if (c == null) {
      Graph graph =
          part.graph() != null
              ? part.graph()
              : sourceWeights.graph(part.signatures().get(0).key(), fingerprints.get(part));
      Map<String, Plan> plans = new LinkedHashMap<>();
      for (Signature s : part.signatures()) {
        List<String> ins = s.inputs().stream().map(TensorSpec::tensor).toList();
        List<String> outs = s.outputs().stream().map(TensorSpec::tensor).toList();
        plans.put(s.key(), Planner.plan(graph, ins, outs, List.of(), registry, mode, fuse));
      }
      Plan init = null;
      Graph initializer = part.initializer();
      if (initializer != null) {
        // The initializer runs for its effect; every node of it is a target unless it names its
        // outputs.
        List<String> targets =
            initializer.outputs().isEmpty()
                ? initializer.nodes().stream().map(Node::name).toList()
                : List.of();
        init =
            Planner.plan(
                initializer, List.of(), initializer.outputs(), targets, registry, mode, fuse);
      }
      c = new Compiled(Map.copyOf(plans), init);
      byPart.put(part, c);
    }
    return c;
  }

  /** A session: its own tables and threads over this model's shared plans; use one per thread. */
  public Session newSession(SessionOptions options) {
    List<Bound> ready = new ArrayList<>();
    synchronized (this) {
      if (closed) {
        throw new UsageException(source + ": the model is closed");
      }
      for (String key : parts.keySet()) {
        ready.add(bound(options.kernels(), key));
      }
    }
    return new Session(this, ready, options);
  }

  public Session newSession() {
    return newSession(SessionOptions.defaults());
  }

  /**
   * Releases the graphs and compiled plans; sessions already made keep running the signatures
   * loaded when they were made, new sessions are refused.
   */
  @Override
  public synchronized void close() {
    closed = true;
    compiled.clear();
    fingerprints.clear();
    parts.clear();
    pending.clear();
  }
}
