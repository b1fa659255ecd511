package org.tfport.runtime;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * A model ready to run: a graph, the signatures it is called through and, optionally, an initializer graph that
 * fills the session's tables before its first run (TF.js's {@code modelInitializer}). Compiled once; every
 * {@link Session} made from it shares the compiled plans, so sessions are cheap. Thread-safe.
 *
 * <pre>{@code
 * try (Model model = Model.fromGraph(graph, List.of(signature));
 *     Session session = model.newSession(SessionOptions.defaults())) {
 *   Map<String, Tensor> out = session.run(Map.of("x", x));
 * }
 * }</pre>
 */
public final class Model implements AutoCloseable {
  /** The plans of every signature and of the initializer, for one kernel mode. */
  record Compiled(Map<String, Plan> signatures, Plan initializer) {}

  private final Graph graph;
  private final Graph initializer;
  private final Map<String, Signature> signatures = new LinkedHashMap<>();
  private final KernelRegistry registry;
  private final Map<KernelRegistry.Mode, Compiled> compiled = new EnumMap<>(KernelRegistry.Mode.class);
  private volatile boolean closed;

  private Model(Graph graph, List<Signature> signatures, Graph initializer, KernelRegistry registry) {
    this.graph = copy(graph);
    this.initializer = initializer == null ? null : copy(initializer);
    this.registry = registry;
    if (signatures.isEmpty()) {
      throw new UsageException(graph.source() + ": a model needs at least one signature");
    }
    for (Signature s : signatures) {
      if (this.signatures.putIfAbsent(s.key(), s) != null) {
        throw new UsageException(graph.source() + ": two signatures are named '" + s.key() + "'");
      }
    }
    // Compile now, so a model tfport cannot run is refused when it is made, not at its first run.
    compiled(SessionOptions.defaults().kernels());
  }

  /**
   * A model over {@code graph} called through {@code signatures}.
   *
   * @throws org.tfport.core.TfportException.UnsupportedModelException naming every node whose op has no kernel
   * @throws UsageException for a signature naming no tensor of the graph
   */
  public static Model fromGraph(Graph graph, List<Signature> signatures) {
    return fromGraph(graph, signatures, null);
  }

  /** As {@link #fromGraph(Graph, List)}, with an initializer graph run once per session before its first run. */
  public static Model fromGraph(Graph graph, List<Signature> signatures, Graph initializer) {
    return new Model(graph, signatures, initializer, StandardKernels.registry());
  }

  static Model fromGraph(Graph graph, List<Signature> signatures, Graph initializer, KernelRegistry registry) {
    return new Model(graph, signatures, initializer, registry);
  }

  /**
   * A model called through the graph's own interface: its {@link Graph#inputs()} (placeholders, typed and shaped
   * by their attributes) and {@link Graph#outputs()}, as signature {@value Signature#DEFAULT_KEY}.
   */
  public static Model fromGraph(Graph graph) {
    return fromGraph(graph, List.of(graphSignature(graph)));
  }

  static Signature graphSignature(Graph graph) {
    List<TensorSpec> ins = new ArrayList<>();
    for (String in : graph.inputs()) {
      Node p = graph.node(TensorRef.nodeOf(in));
      if (p == null) {
        throw new UsageException(graph.source() + ": the graph input '" + in + "' names no node");
      }
      DType t = DataTypes.toDType(p.typeAttr("dtype"));
      long[] shape = p.attr("shape") instanceof AttrValue.Shape s && !s.value().unknownRank() ? s.value().dims() : null;
      ins.add(new TensorSpec(p.name(), in, t, shape));
    }
    List<TensorSpec> outs = new ArrayList<>();
    for (String o : graph.outputs()) {
      outs.add(new TensorSpec(o, o, null, null));
    }
    return new Signature(Signature.DEFAULT_KEY, ins, outs);
  }

  private static Graph copy(Graph g) {
    Graph c = new Graph(g.source());
    g.nodes().forEach(n -> c.add(n.copy()));
    c.functions().putAll(g.functions());
    c.ops().putAll(g.ops());
    c.inputs().addAll(g.inputs());
    c.outputs().addAll(g.outputs());
    c.versions(g.producer(), g.minConsumer());
    return c;
  }

  /** The signatures, in the order given. */
  public List<Signature> signatures() {
    return List.copyOf(signatures.values());
  }

  /** @throws UsageException when the model has no signature {@code key} */
  public Signature signature(String key) {
    Signature s = signatures.get(key);
    if (s == null) {
      throw new UsageException(graph.source() + ": the model has no signature '" + key + "'; its signatures are "
          + signatures.keySet());
    }
    return s;
  }

  /** The signature a call without a key uses: the only one, else {@value Signature#DEFAULT_KEY}. */
  Signature defaultSignature() {
    if (signatures.size() == 1) {
      return signatures.values().iterator().next();
    }
    if (signatures.containsKey(Signature.DEFAULT_KEY)) {
      return signatures.get(Signature.DEFAULT_KEY);
    }
    throw new UsageException(graph.source() + ": the model has several signatures " + signatures.keySet()
        + " and none is '" + Signature.DEFAULT_KEY + "'; name the one to run");
  }

  String source() {
    return graph.source();
  }

  synchronized Compiled compiled(KernelRegistry.Mode mode) {
    Compiled c = compiled.get(mode);
    if (c == null) {
      Map<String, Plan> plans = new LinkedHashMap<>();
      for (Signature s : signatures.values()) {
        List<String> ins = s.inputs().stream().map(TensorSpec::tensor).toList();
        List<String> outs = s.outputs().stream().map(TensorSpec::tensor).toList();
        plans.put(s.key(), Planner.plan(graph, ins, outs, registry, mode));
      }
      Plan init = null;
      if (initializer != null) {
        // The initializer runs for its effect; every node of it is a target unless it names its outputs.
        List<String> targets = initializer.outputs().isEmpty()
            ? initializer.nodes().stream().map(Node::name).toList() : List.of();
        init = Planner.plan(initializer, List.of(), initializer.outputs(), targets, registry, mode);
      }
      c = new Compiled(Map.copyOf(plans), init);
      compiled.put(mode, c);
    }
    return c;
  }

  /** A session: its own tables and threads over this model's shared plans; use one per thread. */
  public Session newSession(SessionOptions options) {
    if (closed) {
      throw new UsageException(graph.source() + ": the model is closed");
    }
    return new Session(this, compiled(options.kernels()), options);
  }

  public Session newSession() {
    return newSession(SessionOptions.defaults());
  }

  /** Releases the compiled plans; sessions already made keep working, new ones are refused. */
  @Override
  public synchronized void close() {
    closed = true;
    compiled.clear();
  }
}
