package org.tfport.graph;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.ArgDef;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.FuncRef;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;

/**
 * A library function (a loop's condition or body, a branch of an {@code If}) as a graph of its own:
 * one placeholder per argument, in order, and one output per result, with its calls inlined and
 * prepared like a signature's graph. TFLite runs such functions as subgraphs of the model.
 */
public final class FunctionGraph {
  private final Graph graph;
  private final List<String> inputs;
  private final List<Node> placeholders;

  private FunctionGraph(Graph graph, List<String> inputs, List<Node> placeholders) {
    this.graph = graph;
    this.inputs = inputs;
    this.placeholders = placeholders;
  }

  /** The function's graph; its library is the owner's. */
  public Graph graph() {
    return graph;
  }

  /** The placeholder of each argument, in argument order. */
  public List<String> inputs() {
    return inputs;
  }

  /**
   * Puts back the placeholders of arguments the function ignores, which pruning removes: the
   * subgraph still takes every argument its caller passes. Call after optimizing.
   */
  public void keepAllInputs() {
    for (Node p : placeholders) {
      if (!graph.has(p.name())) {
        graph.add(p.copy());
      }
    }
  }

  /**
   * Instantiates {@code function} of {@code owner}'s library.
   *
   * @param argShapes the shape each argument is called with (what the caller passes), or null
   *     entries when unknown
   */
  public static FunctionGraph instantiate(
      Graph owner, String function, List<TensorShape> argShapes) {
    return instantiate(owner, function, argShapes, null);
  }

  /**
   * As {@link #instantiate(Graph, String, List)}, with the type each argument is given where the
   * caller has lowered it to another (a TensorList, {@code DT_VARIANT}, held as the dense tensor of
   * its elements).
   */
  public static FunctionGraph instantiate(
      Graph owner, String function, List<TensorShape> argShapes, List<Integer> argTypes) {
    GraphFunction f = owner.function(function);
    if (f == null) {
      throw new UnsupportedModelException(
          owner.source()
              + ": function '"
              + function
              + "' is not in the graph's"
              + " library; the model is incomplete");
    }
    Graph g = new Graph(owner.source());
    g.functions().putAll(owner.functions());
    g.ops().putAll(owner.ops());
    List<String> inputs = new ArrayList<>();
    List<Node> placeholders = new ArrayList<>();
    List<AttrValue> types = new ArrayList<>();
    for (int i = 0; i < f.inputArgs().size(); i++) {
      ArgDef a = f.inputArgs().get(i);
      if (a.type() == 0) {
        throw new UnsupportedModelException(
            owner.source()
                + ": argument '"
                + a.name()
                + "' of function '"
                + function
                + "' has no fixed type; tfport can only lower functions with typed arguments");
      }
      Map<String, AttrValue> attrs = new LinkedHashMap<>();
      int type =
          argTypes != null
                  && i < argTypes.size()
                  && argTypes.get(i) != null
                  && a.type() == org.tfport.core.graph.DataTypes.DT_VARIANT
              ? argTypes.get(i)
              : a.type();
      attrs.put("dtype", new AttrValue.Type(type));
      TensorShape s =
          argShapes != null && i < argShapes.size() && argShapes.get(i) != null
              ? argShapes.get(i)
              : TensorShape.UNKNOWN;
      attrs.put("shape", new AttrValue.Shape(s));
      Node p = new Node(g.uniqueName(a.name()), "Placeholder", List.of(), "", attrs);
      g.add(p);
      placeholders.add(p.copy());
      inputs.add(p.name());
      g.inputs().add(p.name());
      types.add(new AttrValue.Type(type));
    }
    Map<String, AttrValue> callAttrs = new LinkedHashMap<>();
    callAttrs.put("f", new AttrValue.Func(FuncRef.of(function)));
    Node call = new Node(g.uniqueName("call"), "PartitionedCall", inputs, "", callAttrs);
    g.add(call);
    for (int k = 0; k < f.outputArgs().size(); k++) {
      ArgDef out = f.outputArgs().get(k);
      Map<String, AttrValue> attrs = new LinkedHashMap<>();
      attrs.put("T", new AttrValue.Type(out.type()));
      Node o =
          new Node(g.uniqueName(out.name()), "Identity", List.of(call.name() + ":" + k), "", attrs);
      g.add(o);
      g.outputs().add(o.name() + ":0");
    }
    FunctionInliner.inline(g, call, function + "/");
    new FunctionInliner().apply(g);
    GraphLoader.prepare(g);
    FunctionGraph fg = new FunctionGraph(g, inputs, placeholders);
    fg.keepAllInputs();
    return fg;
  }

  /**
   * The graph back in function form, as {@code original} (same name, arguments, results and
   * attributes): references become {@code node:out_arg:idx}, argument placeholders become the
   * argument names.
   */
  GraphFunction toFunction(GraphFunction original, Map<String, String> outArgByOp) {
    Map<String, String> argOf = new LinkedHashMap<>();
    for (int i = 0; i < inputs.size(); i++) {
      argOf.put(inputs.get(i), original.inputArgs().get(i).name());
    }
    List<Node> nodes = new ArrayList<>();
    for (Node n : graph.topologicalOrder()) {
      if (argOf.containsKey(n.name())) {
        continue;
      }
      Node c = n.copy();
      List<String> ins = new ArrayList<>();
      for (String in : n.inputs()) {
        if (in.startsWith("^")) {
          if (!argOf.containsKey(in.substring(1))) {
            ins.add(in);
          }
        } else {
          ins.add(functionRef(in, argOf, outArgByOp));
        }
      }
      c.setInputs(ins);
      nodes.add(c);
    }
    Map<String, String> ret = new LinkedHashMap<>();
    for (int k = 0; k < original.outputArgs().size(); k++) {
      ret.put(
          original.outputArgs().get(k).name(),
          functionRef(graph.outputs().get(k), argOf, outArgByOp));
    }
    Map<String, String> controlRet = new LinkedHashMap<>(original.controlRet());
    controlRet.values().removeIf(node -> !graph.has(node));
    return new GraphFunction(
        original.name(),
        original.inputArgs(),
        original.outputArgs(),
        nodes,
        ret,
        controlRet,
        original.attrs(),
        original.argAttrs(),
        original.stateful());
  }

  /**
   * A graph reference ({@code node:k}) in function form: the argument's name, or {@code
   * node:out_arg:idx}.
   */
  private String functionRef(
      String ref, Map<String, String> argOf, Map<String, String> outArgByOp) {
    org.tfport.core.graph.TensorRef r = org.tfport.core.graph.TensorRef.parse(ref);
    if (argOf.containsKey(r.node())) {
      return argOf.get(r.node());
    }
    Node n = graph.node(r.node());
    List<ArgDef> outs = n == null ? null : graph.outputArgs(n);
    if (outs == null && n != null && outArgByOp.containsKey(n.op())) {
      // No signature in the file: one output argument, named as the library's own bodies name it
      // (as the reader
      // assumed when it flattened them).
      return n.name() + ":" + outArgByOp.get(n.op()) + ":" + r.index();
    }
    if (outs == null) {
      throw new UnsupportedModelException(
          graph.source()
              + ": node '"
              + r.node()
              + "' ("
              + (n == null ? "missing" : n.op())
              + ") in a function has outputs tfport does not know; the function cannot be rewritten");
    }
    int k = r.index();
    for (ArgDef a : outs) {
      int size = graph.argSize(n, a);
      if (k < size) {
        return n.name() + ":" + a.name() + ":" + k;
      }
      k -= size;
    }
    throw new UnsupportedModelException(
        graph.source()
            + ": node '"
            + n.name()
            + "' ("
            + n.op()
            + ") has no output "
            + r.index()
            + "; the function is damaged");
  }

  /**
   * Inlines the calls ({@code PartitionedCall}, ...) inside the library functions the graph keeps
   * (loop and branch bodies): TF.js runs While/If with their functions but has no kernel for a
   * call.
   */
  static void inlineCallsInFunctions(Graph g) {
    Map<String, String> outArgByOp = outArgByOp(g);
    for (String name : new ArrayList<>(g.functions().keySet())) {
      GraphFunction f = g.function(name);
      boolean calls = false;
      for (Node n : f.nodes()) {
        calls |= FunctionInliner.CALL_OPS.contains(n.op()) || g.function(n.op()) != null;
      }
      if (calls) {
        g.functions().put(name, instantiate(g, name, null).toFunction(f, outArgByOp));
      }
    }
    GraphLoader.keepReferencedFunctions(g);
  }

  /**
   * The output argument name the library's own bodies use for each op ({@code z} of {@code
   * AddV2:z:0}), for writing back nodes whose op signature the graph does not carry.
   */
  static Map<String, String> outArgByOp(Graph g) {
    Map<String, String> outArgByOp = new java.util.HashMap<>();
    for (GraphFunction f : g.functions().values()) {
      for (Node n : f.nodes()) {
        for (String in : n.inputs()) {
          String[] parts = in.split(":");
          Node src = parts.length == 3 && !in.startsWith("^") ? f.node(parts[0]) : null;
          if (src != null) {
            outArgByOp.putIfAbsent(src.op(), parts[1]);
          }
        }
      }
      for (String v : f.ret().values()) {
        String[] parts = v.split(":");
        Node src = parts.length == 3 ? f.node(parts[0]) : null;
        if (src != null) {
          outArgByOp.putIfAbsent(src.op(), parts[1]);
        }
      }
    }
    return outArgByOp;
  }
}
