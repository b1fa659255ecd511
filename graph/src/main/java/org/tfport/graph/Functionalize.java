package org.tfport.graph;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.ArgDef;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.core.graph.TensorShape;
import org.tfport.core.graph.TensorValue;

/**
 * TF1 dataflow control flow to functional control flow, as TensorFlow's "functionalize control
 * flow" does before a graph is lowered to a target that runs only functional loops and conditionals
 * (TFLite's WHILE and IF):
 *
 * <ul>
 *   <li>each while-loop frame (the {@code Enter}s sharing a {@code frame_name} with their {@code
 *       Merge}, {@code Switch}, {@code NextIteration}, {@code Exit} and {@code LoopCond}) becomes
 *       one {@code While} node whose {@code cond} and {@code body} are library functions cut out of
 *       the frame; innermost frames first, so an outer body holds the inner loop as a {@code While}
 *       node;
 *   <li>each {@code Switch}/{@code Merge} conditional ({@code tf.cond} in TF1) becomes one {@code
 *       If} node whose {@code then_branch}/{@code else_branch} hold the nodes that run only on that
 *       side of the predicate; innermost first, and the {@code Merge}s of one predicate in one
 *       context share one {@code If}.
 * </ul>
 *
 * <p>Function bodies are written with graph-form references ({@code node}, {@code node:1}), which
 * {@link FunctionInliner} resolves like the {@code node:out_arg:idx} form. Constants (and
 * identities of constants, as frozen variables read) that the loop or branch reads from outside are
 * copied into the functions rather than passed in, so the TFLite lowering still sees them as
 * constants (weights, shapes).
 *
 * <p>What cannot be expressed so is refused in one line naming the frame or node.
 *
 * <p>The loop rewrite is {@link FunctionalizeWhile}, the conditional one {@link FunctionalizeCond};
 * this class runs them and holds what both need to cut a function out of a graph and define it in
 * the root graph's library.
 */
public final class Functionalize {
  static final Set<String> SWITCH = Set.of("Switch", "RefSwitch");
  static final Set<String> MERGE = Set.of("Merge", "RefMerge");
  static final Set<String> ENTER = Set.of("Enter", "RefEnter");
  static final Set<String> EXIT = Set.of("Exit", "RefExit");
  static final Set<String> NEXT = Set.of("NextIteration", "RefNextIteration");
  static final Set<String> IDENTITIES = Set.of("Identity", "Snapshot", "StopGradient");

  /** The dataflow control-flow ops this pass removes. */
  static final Set<String> OPS =
      Set.of(
          "Switch",
          "RefSwitch",
          "Merge",
          "RefMerge",
          "Enter",
          "RefEnter",
          "Exit",
          "RefExit",
          "NextIteration",
          "RefNextIteration",
          "LoopCond");

  /**
   * The graph whose library receives the new functions (the top-level one, also while rewriting a
   * body).
   */
  private final Graph root;

  private Functionalize(Graph root) {
    this.root = root;
  }

  /** What a run did. */
  public record Result(int loops, int conditionals) {}

  /** Whether the graph has TF1 control flow ops (and so needs {@link #apply}). */
  public static boolean needed(Graph g) {
    for (Node n : g.nodes()) {
      if (OPS.contains(n.op())) {
        return true;
      }
    }
    return false;
  }

  /**
   * Rewrites every TF1 loop and conditional of {@code g} into {@code While}/{@code If} nodes with
   * library functions; a graph without them is left as is.
   *
   * @throws UnsupportedModelException naming the frame or node it cannot rewrite
   */
  public static Result apply(Graph g) {
    if (!needed(g)) {
      return new Result(0, 0);
    }
    Functionalize run = new Functionalize(g);
    FunctionalizeCond conditionals = new FunctionalizeCond(run);
    FunctionalizeWhile loops = new FunctionalizeWhile(run, conditionals);
    loops.loops(g);
    conditionals.conditionals(g);
    for (Node n : g.nodes()) {
      if (OPS.contains(n.op())) {
        throw new UnsupportedModelException(
            g.source()
                + ": node '"
                + n.name()
                + "' ("
                + n.op()
                + ") is TF1 control"
                + " flow that is neither part of a while loop nor of a Switch/Merge conditional tfport can rewrite;"
                + " TFLite cannot run it (export the model with TF2 control flow)");
      }
    }
    g.validate();
    return new Result(loops.loops, conditionals.conditionals);
  }

  // ================================================================================================ functions

  /**
   * A constant, or an identity of one (a frozen variable's {@code read}): valid in every frame, so
   * it belongs to none, and functions get their own copy.
   */
  static boolean floating(Node n, Set<String> floating) {
    if (n.op().equals("Const")) {
      return n.inputs().isEmpty();
    }
    if (!IDENTITIES.contains(n.op()) || n.inputs().isEmpty()) {
      return false;
    }
    for (String in : n.inputs()) {
      if (!floating.contains(TensorRef.nodeOf(in))) {
        return false;
      }
    }
    return true;
  }

  /** The name scope the Merges share ({@code cond/Merge}, {@code cond/Merge_1} -> {@code cond}). */
  static String commonPrefix(List<String> names) {
    String first = names.get(0);
    int slash = first.lastIndexOf('/');
    String scope = slash > 0 ? first.substring(0, slash) : first;
    for (String n : names) {
      while (!scope.isEmpty() && !n.startsWith(scope + "/") && !n.equals(scope)) {
        int s = scope.lastIndexOf('/');
        scope = s > 0 ? scope.substring(0, s) : "";
      }
    }
    return scope.isEmpty() ? first : scope;
  }

  /**
   * Removes nodes; a node left that still reads one of them means the construct leaks, which is
   * refused.
   */
  static void removeAll(Graph g, Set<String> gone, String where) {
    for (Node n : g.nodes()) {
      if (gone.contains(n.name())) {
        continue;
      }
      for (String in : n.inputs()) {
        if (gone.contains(TensorRef.nodeOf(in))) {
          throw new UnsupportedModelException(
              where
                  + ": node '"
                  + n.name()
                  + "' outside it reads '"
                  + in
                  + "' from inside; tfport cannot rewrite this for TFLite");
        }
      }
    }
    for (String o : g.outputs()) {
      if (gone.contains(TensorRef.nodeOf(o))) {
        throw new UnsupportedModelException(
            where
                + ": the graph output '"
                + o
                + "' is computed inside it; ask for"
                + " a tensor after it instead");
      }
    }
    gone.forEach(g::remove);
  }

  /** A name for argument {@code i} used by no node of {@code g} and no other argument. */
  static String argName(Graph g, Set<String> taken, int i) {
    String n = "arg" + i;
    for (int k = 1; g.has(n) || taken.contains(n); k++) {
      n = "arg" + i + "_" + k;
    }
    taken.add(n);
    return n;
  }

  String functionName(String scope) {
    String base = scope.replaceAll("[^A-Za-z0-9_.-]", "_");
    String n = base;
    for (int k = 1; root.functions().containsKey(n); k++) {
      n = base + "_" + k;
    }
    return n;
  }

  static String rewrite(String ref, Map<TensorRef, String> subst) {
    TensorRef r = TensorRef.parse(ref);
    return subst.getOrDefault(r, r.toString());
  }

  /**
   * A graph holding a function while it is built: one placeholder per argument, the copied
   * constants and the function's nodes with their references to the outside made arguments. Control
   * inputs from outside the function are dropped: the function runs only when called, which is what
   * they ordered.
   */
  Graph functionGraph(
      Graph g,
      List<String> argNames,
      List<Integer> argTypes,
      Set<String> copies,
      Set<String> nodes,
      Map<TensorRef, String> subst) {
    Graph fg = new Graph(g.source());
    fg.functions().putAll(root.functions());
    for (int i = 0; i < argNames.size(); i++) {
      Map<String, AttrValue> attrs = new LinkedHashMap<>();
      attrs.put("dtype", new AttrValue.Type(argTypes.get(i)));
      attrs.put("shape", new AttrValue.Shape(TensorShape.UNKNOWN));
      fg.add(new Node(argNames.get(i), "Placeholder", List.of(), "", attrs));
      fg.inputs().add(argNames.get(i));
    }
    Set<String> constants = new LinkedHashSet<>();
    Deque<String> work = new ArrayDeque<>(copies);
    while (!work.isEmpty()) {
      String c = work.poll();
      if (constants.add(c)) {
        g.node(c).inputs().forEach(in -> work.add(TensorRef.nodeOf(in)));
      }
    }
    for (Node n : g.topologicalOrder()) {
      if (constants.contains(n.name()) && !nodes.contains(n.name())) {
        fg.add(n.copy());
      }
    }
    for (Node n : g.topologicalOrder()) {
      if (!nodes.contains(n.name())) {
        continue;
      }
      List<String> ins = new ArrayList<>();
      for (String in : n.inputs()) {
        if (TensorRef.isControl(in)) {
          String src = TensorRef.nodeOf(in);
          if (nodes.contains(src) || constants.contains(src)) {
            ins.add(in);
          }
        } else {
          String to = rewrite(in, subst);
          if (!to.equals(TensorRef.parse(in).toString())
              || nodes.contains(TensorRef.nodeOf(in))
              || constants.contains(TensorRef.nodeOf(in))) {
            ins.add(to);
          } else {
            throw new UnsupportedModelException(
                g.source()
                    + ": node '"
                    + n.name()
                    + "' reads '"
                    + in
                    + "', which is neither inside its loop or branch nor passed in; tfport cannot rewrite it for"
                    + " TFLite");
          }
        }
      }
      Node copy = new Node(n.name(), n.op(), List.of(), n.device(), n.attrs());
      copy.setInputs(ins);
      fg.add(copy);
    }
    return fg;
  }

  /** Turns a built function graph into a library function of the root graph. */
  void define(
      Graph fg,
      String name,
      List<String> argNames,
      List<Integer> argTypes,
      List<Integer> outTypes) {
    // Functions made while rewriting fg (a conditional inside a loop body) go to the root's
    // library.
    for (Map.Entry<String, GraphFunction> e : fg.functions().entrySet()) {
      root.functions().putIfAbsent(e.getKey(), e.getValue());
    }
    List<ArgDef> ins = new ArrayList<>();
    for (int i = 0; i < argNames.size(); i++) {
      ins.add(ArgDef.ofType(argNames.get(i), argTypes.get(i)));
    }
    List<ArgDef> outs = new ArrayList<>();
    Map<String, String> ret = new LinkedHashMap<>();
    for (int k = 0; k < fg.outputs().size(); k++) {
      String out = "output_" + k;
      outs.add(ArgDef.ofType(out, outTypes.get(k)));
      ret.put(out, fg.outputs().get(k));
    }
    // Constants copied for the other branch or function only: drop them (and the constants they
    // alone read).
    for (boolean dropped = true; dropped; ) {
      dropped = false;
      Set<String> outs2 = fg.outputNodes();
      Map<String, List<Node>> readers = fg.consumers();
      for (Node n : fg.nodes()) {
        if ((n.op().equals("Const") || IDENTITIES.contains(n.op()))
            && !outs2.contains(n.name())
            && readers.getOrDefault(n.name(), List.of()).isEmpty()) {
          fg.remove(n.name());
          dropped = true;
        }
      }
    }
    Set<String> args = new HashSet<>(argNames);
    List<Node> body = new ArrayList<>();
    boolean stateful = false;
    for (Node n : fg.nodes()) {
      if (!args.contains(n.name())) {
        body.add(n);
        stateful |= n.op().equals("While") || n.op().equals("If");
      }
    }
    root.functions()
        .put(
            name,
            new GraphFunction(name, ins, outs, body, ret, Map.of(), Map.of(), Map.of(), stateful));
  }

  /** The TF type of a tensor, from its producer's attributes; refused when they do not say. */
  static int typeOf(Graph g, String ref) {
    TensorRef r = TensorRef.parse(ref);
    for (int guard = 0; guard < 10_000; guard++) {
      Node n = g.node(r.node());
      if (n == null) {
        break;
      }
      Integer t =
          switch (n.op()) {
            case "Const",
                "Placeholder",
                "PlaceholderWithDefault",
                "TensorArrayReadV3",
                "TensorArrayGatherV3",
                "TensorArrayPackV3" ->
                type(n, "dtype");
            case "Cast" -> type(n, "DstT");
            case "Shape", "Size", "Rank", "ShapeN" ->
                n.attr("out_type") == null ? DType.INT32.tfEnum() : type(n, "out_type");
            case "ArgMax", "ArgMin" ->
                n.attr("output_type") == null ? DType.INT64.tfEnum() : type(n, "output_type");
            case "Equal",
                "NotEqual",
                "Less",
                "LessEqual",
                "Greater",
                "GreaterEqual",
                "LogicalAnd",
                "LogicalOr",
                "LogicalNot",
                "IsNan",
                "IsInf",
                "IsFinite",
                "LoopCond",
                "All",
                "Any" ->
                DType.BOOL.tfEnum();
            case "Merge", "RefMerge" ->
                r.index() == 1 ? Integer.valueOf(DType.INT32.tfEnum()) : type(n, "T");
            case "TensorArrayV3" ->
                r.index() == 0 ? Integer.valueOf(DataTypes.DT_RESOURCE) : DType.FLOAT32.tfEnum();
            case "TensorArrayWriteV3", "TensorArrayScatterV3", "TensorArraySplitV3" ->
                DType.FLOAT32.tfEnum();
            case "TensorArraySizeV3" -> DType.INT32.tfEnum();
            // TensorArrays as TensorArrays.apply leaves them: the dense array, typed by its
            // elements.
            case "TensorListReserve",
                "TensorListSetItem",
                "TensorListGetItem",
                "TensorListStack",
                "TensorListFromTensor" ->
                type(n, "element_dtype");
            case "Range" -> type(n, "Tidx");
            case "If", "StatelessIf", "PartitionedCall", "StatefulPartitionedCall" ->
                listType(n, "Tout", r.index());
            case "While", "StatelessWhile" -> listType(n, "T", r.index());
            default ->
                n.attr("T") instanceof AttrValue.Type
                    ? type(n, "T")
                    : n.attr("dtype") instanceof AttrValue.Type
                        ? type(n, "dtype")
                        : n.attr("out_type") instanceof AttrValue.Type ? type(n, "out_type") : null;
          };
      if (t != null) {
        return DataTypes.base(t);
      }
      if (n.dataInputs().isEmpty()) {
        break;
      }
      r = TensorRef.parse(n.input(0));
    }
    throw new UnsupportedModelException(
        g.source()
            + ": cannot tell the type of '"
            + ref
            + "', which a rewritten"
            + " loop or conditional passes; tfport cannot rewrite it for TFLite");
  }

  private static Integer type(Node n, String key) {
    return n.attr(key) instanceof AttrValue.Type t ? t.value() : null;
  }

  private static Integer listType(Node n, String key, int i) {
    return n.attr(key) instanceof AttrValue.ListAttr l && i < l.type().size()
        ? l.type().get(i)
        : null;
  }

  // ================================================================================================ folding

  /**
   * Replaces each {@code If} whose predicate is a constant by the branch it takes, inlined; the
   * TFLite converter does so too, and a conditional on constants becomes constants. Run after
   * constant folding.
   *
   * @return whether anything changed
   */
  public static boolean foldConstantPredicates(Graph g) {
    boolean changed = false;
    for (Node n : g.nodes()) {
      if (!n.op().equals("If") && !n.op().equals("StatelessIf") || n.dataInputs().isEmpty()) {
        continue;
      }
      Node p = g.node(TensorRef.nodeOf(n.input(0)));
      TensorValue tv = p == null || !p.op().equals("Const") ? null : p.tensorAttr("value");
      if (tv == null || tv.value() == null || tv.value().size() != 1) {
        continue;
      }
      if (tv.value().byteLength() != 1) {
        continue; // a bool is one byte; other predicate types are left to the runtime
      }
      boolean take = tv.value().bytes().get(0) != 0;
      if (!(n.attr(take ? "then_branch" : "else_branch") instanceof AttrValue.Func f)) {
        continue;
      }
      List<String> ins = new ArrayList<>(n.dataInputs().subList(1, n.dataInputs().size()));
      ins.addAll(n.controlInputs());
      Map<String, AttrValue> attrs = new LinkedHashMap<>();
      attrs.put("f", new AttrValue.Func(f.value()));
      if (n.attr("Tin") != null) {
        attrs.put("Tin", n.attr("Tin"));
      }
      if (n.attr("Tout") != null) {
        attrs.put("Tout", n.attr("Tout"));
      }
      g.remove(n.name());
      Node call = g.add(new Node(n.name(), "PartitionedCall", ins, n.device(), attrs));
      FunctionInliner.inline(g, call, call.name() + "/");
      changed = true;
    }
    if (changed) {
      new FunctionInliner().apply(g); // calls inside the branches taken
    }
    return changed;
  }
}
