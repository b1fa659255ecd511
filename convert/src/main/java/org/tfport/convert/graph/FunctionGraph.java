package org.tfport.convert.graph;

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
 * one placeholder per argument, in order, and one output per result, with its calls inlined and prepared
 * like a signature's graph. TFLite runs such functions as subgraphs of the model.
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
   * Puts back the placeholders of arguments the function ignores, which pruning removes: the subgraph still
   * takes every argument its caller passes. Call after optimizing.
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
   * @param argShapes the shape each argument is called with (what the caller passes), or null entries when
   *     unknown
   */
  public static FunctionGraph instantiate(Graph owner, String function, List<TensorShape> argShapes) {
    return instantiate(owner, function, argShapes, null);
  }

  /**
   * As {@link #instantiate(Graph, String, List)}, with the type each argument is given where the caller has
   * lowered it to another (a TensorList, {@code DT_VARIANT}, held as the dense tensor of its elements).
   */
  public static FunctionGraph instantiate(Graph owner, String function, List<TensorShape> argShapes,
      List<Integer> argTypes) {
    GraphFunction f = owner.function(function);
    if (f == null) {
      throw new UnsupportedModelException(owner.source() + ": function '" + function + "' is not in the graph's"
          + " library; the model is incomplete");
    }
    Graph g = new Graph(owner.source());
    g.functions().putAll(owner.functions());
    List<String> inputs = new ArrayList<>();
    List<Node> placeholders = new ArrayList<>();
    List<AttrValue> types = new ArrayList<>();
    for (int i = 0; i < f.inputArgs().size(); i++) {
      ArgDef a = f.inputArgs().get(i);
      if (a.type() == 0) {
        throw new UnsupportedModelException(owner.source() + ": argument '" + a.name() + "' of function '" + function
            + "' has no fixed type; tfport can only lower functions with typed arguments");
      }
      Map<String, AttrValue> attrs = new LinkedHashMap<>();
      int type = argTypes != null && i < argTypes.size() && argTypes.get(i) != null
          && a.type() == org.tfport.core.graph.DataTypes.DT_VARIANT ? argTypes.get(i) : a.type();
      attrs.put("dtype", new AttrValue.Type(type));
      TensorShape s = argShapes != null && i < argShapes.size() && argShapes.get(i) != null ? argShapes.get(i)
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
      Node o = new Node(g.uniqueName(out.name()), "Identity", List.of(call.name() + ":" + k), "", attrs);
      g.add(o);
      g.outputs().add(o.name() + ":0");
    }
    FunctionInliner.inline(g, call, function + "/");
    new FunctionInliner().apply(g);
    TfGraphToTfjs.prepare(g);
    FunctionGraph fg = new FunctionGraph(g, inputs, placeholders);
    fg.keepAllInputs();
    return fg;
  }
}
