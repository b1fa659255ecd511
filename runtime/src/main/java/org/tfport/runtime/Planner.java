package org.tfport.runtime;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.FuncRef;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.OpSignature;
import org.tfport.core.graph.TensorRef;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelFactory;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.NodeBinding;
import org.tfport.runtime.kernel.RunContext;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.kernel.Values;

/**
 * Compiles a graph into a {@link Plan}: keeps only the nodes the outputs (and targets) need, orders
 * them, turns constants into values once, binds every other node to a kernel of the registry, and
 * works out when each value dies. Library functions the kernels ask for are compiled the same way,
 * once per plan.
 */
final class Planner {
  private static final Set<String> SOURCES =
      Set.of("Const", "Placeholder", "PlaceholderWithDefault");

  private final KernelRegistry registry;
  private final KernelRegistry.Mode mode;
  private final boolean fuse;
  private final Map<String, FunctionPlan> functions = new HashMap<>();
  private final Set<String> compiling = new HashSet<>();

  private Planner(KernelRegistry registry, KernelRegistry.Mode mode, boolean fuse) {
    this.registry = registry;
    this.mode = mode;
    this.fuse = fuse;
  }

  /**
   * The plan computing {@code outputs} from {@code inputs}.
   *
   * @param inputs tensors the caller feeds ({@code x} or {@code x:0}), usually placeholders
   * @param outputs tensors computed ({@code node}, {@code node:1})
   * @param targets nodes run for their effect only (table initializers)
   * @throws UnsupportedModelException naming every node whose op has no kernel, or a node its
   *     kernel refuses
   * @throws UsageException for an input or output naming no node, or a needed placeholder not fed
   */
  static Plan plan(
      Graph graph,
      List<String> inputs,
      List<String> outputs,
      List<String> targets,
      KernelRegistry registry,
      KernelRegistry.Mode mode) {
    return plan(graph, inputs, outputs, targets, registry, mode, false);
  }

  /**
   * As {@link #plan(Graph, List, List, List, KernelRegistry, KernelRegistry.Mode)}; with {@code
   * fuse}, contractions are fused with the bias and activation that follow them ({@link Fusion}),
   * so the intermediate values are never computed (a run someone observes needs a plan without).
   */
  static Plan plan(
      Graph graph,
      List<String> inputs,
      List<String> outputs,
      List<String> targets,
      KernelRegistry registry,
      KernelRegistry.Mode mode,
      boolean fuse) {
    Planner p = new Planner(registry, mode, fuse);
    Map<String, List<String>> missing = new LinkedHashMap<>();
    p.findMissingKernels(graph, inputs, outputs, targets, "", missing, new HashSet<>());
    if (!missing.isEmpty()) {
      List<String> parts = new ArrayList<>();
      missing.forEach(
          (op, nodes) ->
              parts.add(
                  "no kernel for op '"
                      + op
                      + "' ("
                      + (nodes.size() == 1 ? "node " : "nodes ")
                      + String.join(", ", nodes)
                      + ")"));
      throw new UnsupportedModelException(graph.source() + ": " + String.join("; ", parts));
    }
    return p.compile(graph, inputs, outputs, targets, "");
  }

  static Plan plan(
      Graph graph,
      List<String> inputs,
      List<String> outputs,
      KernelRegistry registry,
      KernelRegistry.Mode mode) {
    return plan(graph, inputs, outputs, List.of(), registry, mode);
  }

  /** Collects, per op, every needed node (also in called functions) that has no kernel. */
  private void findMissingKernels(
      Graph graph,
      List<String> inputs,
      List<String> outputs,
      List<String> targets,
      String prefix,
      Map<String, List<String>> missing,
      Set<String> visited) {
    Map<String, Integer> fed = PlanOrder.feeds(graph, inputs);
    Set<String> needed =
        PlanOrder.needed(graph, fed, PlanOrder.outputRefs(graph, outputs), targets);
    for (Node n : graph.nodes()) {
      String name = n.name();
      if (!needed.contains(name) || fed.containsKey(name) || SOURCES.contains(n.op())) {
        continue;
      }
      List<FuncRef> calls = calledFunctions(n);
      if (graph.function(n.op()) != null) {
        calls.add(new FuncRef(n.op(), n.attrs()));
      } else if (registry.factory(n.op(), mode) == null) {
        missing.computeIfAbsent(n.op(), k -> new ArrayList<>()).add(prefix + name);
      }
      for (FuncRef f : calls) {
        if (visited.add(f.name())) {
          if (graph.function(f.name()) == null) {
            throw new UnsupportedModelException(
                graph.source()
                    + ": node '"
                    + prefix
                    + name
                    + "' ("
                    + n.op()
                    + ") calls function '"
                    + f.name()
                    + "', which is not in the graph's library; the model is incomplete");
          }
          FunctionBodies.Body b = FunctionBodies.instantiate(graph, f);
          findMissingKernels(
              b.graph(), b.inputs(), b.outputs(), b.targets(), f.name() + "/", missing, visited);
        }
      }
    }
  }

  private static List<FuncRef> calledFunctions(Node n) {
    List<FuncRef> out = new ArrayList<>();
    for (AttrValue v : n.attrs().values()) {
      if (v instanceof AttrValue.Func f) {
        out.add(f.value());
      } else if (v instanceof AttrValue.ListAttr l) {
        out.addAll(l.func());
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ compiling

  private Plan compile(
      Graph graph, List<String> inputs, List<String> outputs, List<String> targets, String where) {
    Map<String, Integer> fed = PlanOrder.feeds(graph, inputs);
    List<TensorRef> outRefs = PlanOrder.outputRefs(graph, outputs);
    Set<String> needed = PlanOrder.needed(graph, fed, outRefs, targets);
    List<Node> order = PlanOrder.order(graph, needed, fed);
    if (fuse) {
      Set<String> pinned = new HashSet<>(targets);
      outRefs.forEach(r -> pinned.add(r.node()));
      order = Fusion.apply(graph, order, pinned);
    }

    // How many outputs of each node are kept: up to the highest one read.
    Map<String, Integer> width = new HashMap<>();
    fed.keySet().forEach(k -> width.put(k, 1));
    for (Node n : order) {
      width.putIfAbsent(n.name(), 0);
      for (String in : n.dataInputs()) {
        TensorRef r = TensorRef.parse(in);
        width.merge(r.node(), r.index() + 1, Math::max);
      }
    }
    for (TensorRef r : outRefs) {
      width.merge(r.node(), r.index() + 1, Math::max);
    }
    for (String f : fed.keySet()) {
      if (width.get(f) > 1) {
        throw new UsageException(
            graph.source()
                + ": '"
                + f
                + "' is fed, but its output "
                + (width.get(f) - 1)
                + " is read too; only a node's first output can be fed");
      }
    }

    Map<String, Integer> base = new HashMap<>();
    int slots = 0;
    for (String f : fed.keySet()) {
      base.put(f, slots++);
    }
    for (Node n : order) {
      base.put(n.name(), slots);
      slots += width.get(n.name());
    }
    Value[] constants = new Value[slots];
    // A constant becomes a value when a kernel asks for it at bind, and again at the end only if
    // a reader needs it then: a weight a kernel packs is garbage as soon as it is packed, not a
    // second copy alive until the whole plan is bound.
    Tensor[] constTensors = new Tensor[slots];
    DType[] types = new DType[slots];
    long[][] shapes = new long[slots][];
    for (String f : fed.keySet()) {
      Node n = graph.node(f);
      types[base.get(f)] = DataTypes.toDType(n.typeAttr("dtype"));
      shapes[base.get(f)] = FunctionBodies.declaredShape(n);
    }

    int[] lastRead = new int[slots];
    Arrays.fill(lastRead, -1);
    // Per constant slot: a reader keeps it in its own form / a reader needs the value itself.
    boolean[] keptByKernel = new boolean[slots];
    boolean[] readAsValue = new boolean[slots];
    List<int[]> stepInputs = new ArrayList<>();
    List<Node> stepNodes = new ArrayList<>();
    List<Kernel> kernels = new ArrayList<>();
    for (Node n : order) {
      int b = base.get(n.name());
      if (n.op().equals("Const")) {
        if (width.get(n.name()) > 1) {
          throw new CorruptModelException(
              graph.source()
                  + ": the constant '"
                  + n.name()
                  + "' has one output, but its"
                  + " output "
                  + (width.get(n.name()) - 1)
                  + " is read");
        }
        AttrValue v = n.attr("value");
        if (!(v instanceof AttrValue.TensorAttr t)) {
          throw new CorruptModelException(
              graph.source() + ": the constant '" + n.name() + "' has no value");
        }
        if (t.value().value() == null) {
          throw new UnsupportedModelException(
              graph.source()
                  + ": the constant '"
                  + n.name()
                  + "' is a "
                  + DataTypes.name(t.value().dtype())
                  + " tensor, a type tfport cannot hold");
        }
        if (width.get(n.name()) > 0) {
          Tensor tensor = t.value().value();
          constTensors[b] = tensor;
          types[b] = tensor.dtype();
          shapes[b] = tensor.shape().dims().clone();
        }
        continue;
      }
      if (n.op().equals("Placeholder")) {
        throw new UsageException(
            graph.source()
                + ": the placeholder '"
                + n.name()
                + "' is needed for the outputs "
                + outputs
                + " but is not among the inputs "
                + inputs);
      }
      int[] in = new int[n.dataInputs().size()];
      for (int j = 0; j < in.length; j++) {
        TensorRef r = TensorRef.parse(n.dataInputs().get(j));
        in[j] = base.get(r.node()) + r.index();
      }
      PlanOrder.staticOutputs(graph, n, b, width.get(n.name()), types, shapes);
      boolean[] kept = new boolean[in.length];
      Kernel k = bind(graph, n, in, constants, constTensors, types, shapes, kept, where);
      for (int j = 0; j < in.length; j++) {
        int s = in[j];
        lastRead[s] = stepNodes.size();
        if (kept[j]) {
          keptByKernel[s] = true;
        } else {
          readAsValue[s] = true;
        }
      }
      for (int j = 0; j < in.length; j++) {
        if (kept[j] && !readAsValue[in[j]]) {
          constants[in[j]] = null; // packed: a later reader that asks gets a value made again
        }
      }
      stepInputs.add(in);
      stepNodes.add(n);
      kernels.add(k);
    }

    int[] outputSlots = new int[outRefs.size()];
    boolean[] keep = new boolean[slots];
    for (int i = 0; i < outputSlots.length; i++) {
      TensorRef r = outRefs.get(i);
      if (graph.node(r.node()).op().equals("Placeholder") && !fed.containsKey(r.node())) {
        throw new UsageException(
            graph.source()
                + ": the output '"
                + outputs.get(i)
                + "' is a placeholder that is not"
                + " among the inputs "
                + inputs);
      }
      outputSlots[i] = base.get(r.node()) + r.index();
      keep[outputSlots[i]] = true;
    }
    int[] inputSlots = new int[fed.size()];
    for (Map.Entry<String, Integer> e : fed.entrySet()) {
      int s = base.get(e.getKey());
      inputSlots[e.getValue()] = lastRead[s] >= 0 || keep[s] ? s : -1;
    }

    // A value dies after its last reader; one nobody reads dies right after its producer.
    List<List<Integer>> dying = new ArrayList<>();
    for (int i = 0; i < stepNodes.size(); i++) {
      dying.add(new ArrayList<>());
    }
    for (int s = 0; s < slots; s++) {
      if (!keep[s] && constTensors[s] == null && lastRead[s] >= 0) {
        dying.get(lastRead[s]).add(s);
      }
    }
    List<Plan.Step> steps = new ArrayList<>();
    for (int i = 0; i < stepNodes.size(); i++) {
      Node n = stepNodes.get(i);
      int b = base.get(n.name());
      int w = width.get(n.name());
      for (int s = b; s < b + w; s++) {
        if (!keep[s] && lastRead[s] < 0) {
          dying.get(i).add(s);
        }
      }
      int[] d = dying.get(i).stream().mapToInt(Integer::intValue).toArray();
      steps.add(new Plan.Step(n.name(), n.op(), kernels.get(i), stepInputs.get(i), b, w, d));
    }
    for (int s = 0; s < slots; s++) {
      if (constTensors[s] == null) {
        continue;
      }
      if (keptByKernel[s] && !readAsValue[s] && !keep[s]) {
        constants[s] = null; // every reader holds its own copy: the run passes null
      } else if (constants[s] == null) {
        constants[s] = Values.fromTensor(constTensors[s]);
      }
    }
    StaticMemory.check(graph, where, fed.size(), steps, types, shapes);
    return new Plan(where, constants, inputs, inputSlots, steps, outputs, outputSlots);
  }

  private Kernel bind(
      Graph graph,
      Node n,
      int[] in,
      Value[] constants,
      Tensor[] constTensors,
      DType[] types,
      long[][] shapes,
      boolean[] kept,
      String where) {
    if (n.op().equals("PlaceholderWithDefault")) {
      return (args, ctx) -> new Value[] {args[0]};
    }
    OpSignature sig = graph.ops().get(n.op());
    Binding binding =
        new Binding(
            graph,
            n,
            sig == null ? Map.of() : sig.defaults(),
            in,
            constants,
            constTensors,
            types,
            shapes,
            kept);
    try {
      if (graph.function(n.op()) != null) {
        // A node whose op is a library function is a direct call.
        BindContext.Function f = function(graph, new FuncRef(n.op(), n.attrs()));
        return (args, ctx) -> f.call(args, ctx);
      }
      KernelFactory factory = registry.factory(n.op(), mode);
      if (factory == null) {
        throw new KernelException("no kernel for op '" + n.op() + "'");
      }
      Kernel k = factory.bind(binding);
      binding.detach();
      return k;
    } catch (KernelException e) {
      throw new UnsupportedModelException(
          graph.source()
              + ": "
              + where
              + "node '"
              + n.name()
              + "' ("
              + n.op()
              + "): "
              + e.getMessage());
    }
  }

  /**
   * The function a node calls, compiled once per plan (a loop's body is shared by every loop
   * calling it).
   */
  private FunctionPlan function(Graph graph, FuncRef ref) {
    String key = ref.attrs().isEmpty() ? ref.name() : ref.name() + ref.attrs();
    FunctionPlan cached = functions.get(key);
    if (cached != null) {
      return cached;
    }
    if (!compiling.add(key)) {
      throw new UnsupportedModelException(
          graph.source()
              + ": function '"
              + ref.name()
              + "' calls itself;"
              + " tfport cannot run recursive functions");
    }
    try {
      FunctionBodies.Body b = FunctionBodies.instantiate(graph, ref);
      Plan p =
          compile(
              b.graph(),
              b.inputs(),
              b.outputs(),
              b.targets(),
              "in function '" + ref.name() + "': ");
      FunctionPlan f = new FunctionPlan(ref.name(), p);
      functions.put(key, f);
      return f;
    } finally {
      compiling.remove(key);
    }
  }

  /** A compiled library function, called by kernels in the caller's run. */
  record FunctionPlan(String name, Plan plan) implements BindContext.Function {
    @Override
    public int inputCount() {
      return plan.inputNames().size();
    }

    @Override
    public int outputCount() {
      return plan.outputNames().size();
    }

    @Override
    public Value[] call(Value[] args, RunContext context) {
      if (args.length != inputCount()) {
        throw new KernelException(
            "function '" + name + "' takes " + inputCount() + " arguments, got " + args.length);
      }
      return plan.run(args, context instanceof ObservedContext o ? o.enter(name) : context);
    }
  }

  /**
   * What the planner knows of a node when binding it. Kernels may keep it for its attributes; what
   * only binding needs (the graph, every constant as read) is let go of once the node is bound, so
   * that a kernel keeping its context does not keep the weights as read alive with the plan.
   */
  private final class Binding extends NodeBinding {
    private Graph graph;
    private final int[] in;
    private Value[] constants;
    private Tensor[] constTensors;
    private DType[] types;
    private long[][] shapes;
    private boolean[] kept;

    Binding(
        Graph graph,
        Node node,
        Map<String, AttrValue> defaults,
        int[] in,
        Value[] constants,
        Tensor[] constTensors,
        DType[] types,
        long[][] shapes,
        boolean[] kept) {
      super(node, defaults);
      this.kept = kept;
      this.graph = graph;
      this.in = in;
      this.constants = constants;
      this.constTensors = constTensors;
      this.types = types;
      this.shapes = shapes;
    }

    /** Ends binding: the graph and the plan's tables are the planner's again. */
    void detach() {
      graph = null;
      constants = null;
      constTensors = null;
      types = null;
      shapes = null;
      kept = null;
    }

    private void bound() {
      if (graph == null) {
        throw new IllegalStateException(
            "node '" + node().name() + "' is bound: what its inputs are is known at bind only");
      }
    }

    @Override
    public Value constantInput(int i) {
      bound();
      int s = in[i];
      if (constants[s] == null && constTensors[s] != null) {
        constants[s] = Values.fromTensor(constTensors[s]);
      }
      return constants[s];
    }

    @Override
    public void keepsConstant(int i) {
      bound();
      if (constTensors[in[i]] != null) {
        kept[i] = true;
      }
    }

    @Override
    public DType inputType(int i) {
      bound();
      return types[in[i]];
    }

    @Override
    public long[] inputShape(int i) {
      bound();
      return shapes[in[i]] == null ? null : shapes[in[i]].clone();
    }

    @Override
    public Function function(String attrName) {
      bound();
      if (attr(attrName) instanceof AttrValue.Func f) {
        return Planner.this.function(graph, f.value());
      }
      throw new KernelException(
          "attribute '"
              + attrName
              + "' is "
              + (attr(attrName) == null ? "missing" : attr(attrName) + ", not a function"));
    }

    @Override
    public List<Function> functions(String attrName) {
      bound();
      if (attr(attrName) instanceof AttrValue.ListAttr l) {
        List<Function> out = new ArrayList<>();
        l.func().forEach(f -> out.add(Planner.this.function(graph, f)));
        return out;
      }
      throw new KernelException(
          "attribute '"
              + attrName
              + "' is "
              + (attr(attrName) == null
                  ? "missing"
                  : attr(attrName) + ", not a list of functions"));
    }
  }
}
