package org.tfport.graph;

import org.tfport.core.DType;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.ArgDef;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.FuncRef;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.core.graph.TensorShape;
import org.tfport.core.graph.TensorValue;

/**
 * TF1 dataflow control flow to functional control flow, as TensorFlow's "functionalize control flow" does before
 * a graph is lowered to a target that runs only functional loops and conditionals (TFLite's WHILE and IF):
 *
 * <ul>
 *   <li>each while-loop frame (the {@code Enter}s sharing a {@code frame_name} with their {@code Merge},
 *       {@code Switch}, {@code NextIteration}, {@code Exit} and {@code LoopCond}) becomes one {@code While} node
 *       whose {@code cond} and {@code body} are library functions cut out of the frame; innermost frames first,
 *       so an outer body holds the inner loop as a {@code While} node;
 *   <li>each {@code Switch}/{@code Merge} conditional ({@code tf.cond} in TF1) becomes one {@code If} node whose
 *       {@code then_branch}/{@code else_branch} hold the nodes that run only on that side of the predicate;
 *       innermost first, and the {@code Merge}s of one predicate in one context share one {@code If}.
 * </ul>
 *
 * <p>Function bodies are written with graph-form references ({@code node}, {@code node:1}), which
 * {@link FunctionInliner} resolves like the {@code node:out_arg:idx} form. Constants (and identities of constants,
 * as frozen variables read) that the loop or branch reads from outside are copied into the functions rather than
 * passed in, so the TFLite lowering still sees them as constants (weights, shapes).
 *
 * <p>What cannot be expressed so is refused in one line naming the frame or node.
 */
public final class Functionalize {
  private static final Set<String> SWITCH = Set.of("Switch", "RefSwitch");
  private static final Set<String> MERGE = Set.of("Merge", "RefMerge");
  private static final Set<String> ENTER = Set.of("Enter", "RefEnter");
  private static final Set<String> EXIT = Set.of("Exit", "RefExit");
  private static final Set<String> NEXT = Set.of("NextIteration", "RefNextIteration");
  private static final Set<String> IDENTITIES = Set.of("Identity", "Snapshot", "StopGradient");
  /** The dataflow control-flow ops this pass removes. */
  static final Set<String> OPS = Set.of("Switch", "RefSwitch", "Merge", "RefMerge", "Enter", "RefEnter", "Exit",
      "RefExit", "NextIteration", "RefNextIteration", "LoopCond");

  /** The graph whose library receives the new functions (the top-level one, also while rewriting a body). */
  private final Graph root;
  private int loops;
  private int conditionals;

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
   * Rewrites every TF1 loop and conditional of {@code g} into {@code While}/{@code If} nodes with library
   * functions; a graph without them is left as is.
   *
   * @throws UnsupportedModelException naming the frame or node it cannot rewrite
   */
  public static Result apply(Graph g) {
    if (!needed(g)) {
      return new Result(0, 0);
    }
    Functionalize f = new Functionalize(g);
    f.loops(g);
    f.conditionals(g);
    for (Node n : g.nodes()) {
      if (OPS.contains(n.op())) {
        throw new UnsupportedModelException(g.source() + ": node '" + n.name() + "' (" + n.op() + ") is TF1 control"
            + " flow that is neither part of a while loop nor of a Switch/Merge conditional tfport can rewrite;"
            + " TFLite cannot run it (export the model with TF2 control flow)");
      }
    }
    g.validate();
    return new Result(f.loops, f.conditionals);
  }

  // ================================================================================================ loops

  /** Each node's loop frame ("" outside every loop) and the frames' nesting. */
  private record Frames(Map<String, String> frameOf, Set<String> floating, Map<String, String> parent) {
    boolean isAncestor(String anc, String of) {
      for (String f = of; ; f = parent.getOrDefault(f, "")) {
        if (f.equals(anc)) {
          return true;
        }
        if (f.isEmpty()) {
          return false;
        }
      }
    }
  }

  /**
   * A constant, or an identity of one (a frozen variable's {@code read}): valid in every frame, so it belongs to
   * none, and functions get their own copy.
   */
  private static boolean floating(Node n, Set<String> floating) {
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

  /** Assigns frames as TensorFlow's executor does: Enter goes into its frame, Exit out to the parent. */
  private static Frames frames(Graph g) {
    Map<String, String> frameOf = new HashMap<>();
    Set<String> floating = new HashSet<>();
    Map<String, String> parent = new HashMap<>();
    for (Node n : g.topologicalOrder()) {
      if (floating(n, floating)) {
        floating.add(n.name());
        frameOf.put(n.name(), "");
        continue;
      }
      if (ENTER.contains(n.op())) {
        String frame = n.stringAttr("frame_name");
        if (frame == null || frame.isEmpty()) {
          throw new UnsupportedModelException(g.source() + ": Enter node '" + n.name() + "' has no frame_name;"
              + " the graph is damaged");
        }
        // A constant entering says nothing of where the loop sits; any other input is in the enclosing frame.
        String in = n.dataInputs().isEmpty() ? null : TensorRef.nodeOf(n.input(0));
        String outer = in == null || floating.contains(in) ? null : frameOf.getOrDefault(in, "");
        String had = outer == null ? null : parent.putIfAbsent(frame, outer);
        if (had != null && !had.equals(outer)) {
          throw new UnsupportedModelException(g.source() + ": loop frame '" + frame + "' is entered from two"
              + " different frames (at Enter '" + n.name() + "'); tfport cannot rewrite such a loop for TFLite");
        }
        frameOf.put(n.name(), frame);
        continue;
      }
      if (EXIT.contains(n.op())) {
        String inner = n.dataInputs().isEmpty() ? "" : frameOf.getOrDefault(TensorRef.nodeOf(n.input(0)), "");
        if (inner.isEmpty()) {
          throw new UnsupportedModelException(g.source() + ": Exit node '" + n.name() + "' is outside every loop;"
              + " the graph is damaged");
        }
        frameOf.put(n.name(), parent.getOrDefault(inner, ""));
        continue;
      }
      String deepest = "";
      List<String> seen = new ArrayList<>();
      for (String in : n.inputs()) {
        Node src = g.node(TensorRef.nodeOf(in));
        if (src == null || floating.contains(src.name()) || MERGE.contains(n.op()) && NEXT.contains(src.op())) {
          continue;
        }
        String f = frameOf.getOrDefault(src.name(), "");
        seen.add(f);
        if (depth(parent, f) > depth(parent, deepest)) {
          deepest = f;
        }
      }
      Frames probe = new Frames(frameOf, floating, parent);
      for (String f : seen) {
        if (!probe.isAncestor(f, deepest)) {
          throw new UnsupportedModelException(g.source() + ": node '" + n.name() + "' (" + n.op() + ") reads from"
              + " two unrelated loop frames ('" + f + "' and '" + deepest + "'); the graph is damaged");
        }
      }
      frameOf.put(n.name(), deepest);
    }
    return new Frames(frameOf, floating, parent);
  }

  private static int depth(Map<String, String> parent, String frame) {
    int d = 0;
    for (String f = frame; !f.isEmpty(); f = parent.getOrDefault(f, "")) {
      d++;
    }
    return d;
  }

  /** One loop variable: its Enter, Merge, Switch, NextIteration and the Exits that read it after the loop. */
  private record LoopVar(Node enter, Node merge, Node sw, Node next, List<Node> exits) {}

  /** Rewrites every frame, innermost first; each rewrite changes the frames, so they are found again. */
  private void loops(Graph g) {
    while (true) {
      Frames fr = frames(g);
      Set<String> frames = new LinkedHashSet<>();
      for (Node n : g.nodes()) {
        if (ENTER.contains(n.op())) {
          frames.add(n.stringAttr("frame_name"));
        }
      }
      if (frames.isEmpty()) {
        return;
      }
      String leaf = null;
      for (String f : frames) {
        if (!fr.parent().containsValue(f)) {
          leaf = f;
          break;
        }
      }
      if (leaf == null) {
        throw new UnsupportedModelException(g.source() + ": the loop frames " + frames + " nest in a cycle; the"
            + " graph is damaged");
      }
      loop(g, fr, leaf);
      loops++;
    }
  }

  /** Rewrites frame {@code frame} (which holds no other frame) into one While node. */
  private void loop(Graph g, Frames fr, String frame) {
    String where = g.source() + ": while loop frame '" + frame + "'";
    List<Node> members = new ArrayList<>();
    for (Node n : g.nodes()) {
      if (frame.equals(fr.frameOf().get(n.name())) && !fr.floating().contains(n.name())) {
        members.add(n);
      }
    }
    Set<String> memberNames = new HashSet<>();
    members.forEach(m -> memberNames.add(m.name()));
    Map<String, List<Node>> consumers = g.consumers();

    List<Node> loopConds = members.stream().filter(n -> n.op().equals("LoopCond")).toList();
    if (loopConds.size() != 1) {
      throw new UnsupportedModelException(where + " has " + loopConds.size() + " LoopCond nodes, not one; tfport"
          + " cannot rewrite it for TFLite");
    }
    Node loopCond = loopConds.get(0);

    List<LoopVar> vars = new ArrayList<>();
    List<Node> invariants = new ArrayList<>();
    Set<String> structural = new HashSet<>();
    structural.add(loopCond.name());
    for (Node m : members) {
      if (!MERGE.contains(m.op())) {
        continue;
      }
      Node enter = null;
      Node next = null;
      for (String in : m.dataInputs()) {
        Node src = g.node(TensorRef.nodeOf(in));
        if (src != null && ENTER.contains(src.op()) && memberNames.contains(src.name())) {
          enter = src;
        } else if (src != null && NEXT.contains(src.op())) {
          next = src;
        }
      }
      if (next == null) {
        continue; // a conditional's Merge inside the body
      }
      if (enter == null || m.dataInputs().size() != 2) {
        throw new UnsupportedModelException(where + ": Merge '" + m.name() + "' does not join one Enter and one"
            + " NextIteration; tfport cannot rewrite this loop for TFLite");
      }
      Node sw = null;
      for (Node c : consumers.getOrDefault(m.name(), List.of())) {
        if (SWITCH.contains(c.op()) && c.dataInputs().size() == 2
            && TensorRef.nodeOf(c.input(1)).equals(loopCond.name()) && TensorRef.nodeOf(c.input(0)).equals(m.name())) {
          if (sw != null) {
            throw new UnsupportedModelException(where + ": loop variable Merge '" + m.name() + "' feeds two"
                + " Switches; tfport cannot rewrite this loop for TFLite");
          }
          sw = c;
        }
      }
      if (sw == null) {
        throw new UnsupportedModelException(where + ": loop variable Merge '" + m.name() + "' feeds no Switch on"
            + " the LoopCond; tfport cannot rewrite this loop for TFLite");
      }
      List<Node> exits = new ArrayList<>();
      for (Node c : consumers.getOrDefault(sw.name(), List.of())) {
        for (String in : c.inputs()) {
          TensorRef r = TensorRef.parse(in);
          if (!r.node().equals(sw.name()) || r.control() || r.index() != 0) {
            continue;
          }
          if (!EXIT.contains(c.op())) {
            throw new UnsupportedModelException(where + ": node '" + c.name() + "' reads the exit side of Switch '"
                + sw.name() + "' but is not an Exit; tfport cannot rewrite this loop for TFLite");
          }
          if (!exits.contains(c)) {
            exits.add(c);
          }
        }
      }
      vars.add(new LoopVar(enter, m, sw, next, exits));
      structural.addAll(List.of(enter.name(), m.name(), sw.name(), next.name()));
      exits.forEach(x -> structural.add(x.name()));
    }
    if (vars.isEmpty()) {
      throw new UnsupportedModelException(where + " has no loop variable (Enter -> Merge <- NextIteration); tfport"
          + " cannot rewrite it for TFLite");
    }
    for (Node m : members) {
      if (ENTER.contains(m.op()) && !structural.contains(m.name())) {
        if (!(m.attr("is_constant") instanceof AttrValue.Bool b && b.value())) {
          throw new UnsupportedModelException(where + ": Enter '" + m.name() + "' is neither a loop variable nor"
              + " loop-invariant (is_constant); tfport cannot rewrite this loop for TFLite");
        }
        invariants.add(m);
        structural.add(m.name());
      } else if (NEXT.contains(m.op()) && !structural.contains(m.name())) {
        throw new UnsupportedModelException(where + ": NextIteration '" + m.name() + "' feeds no loop Merge;"
            + " tfport cannot rewrite this loop for TFLite");
      }
    }

    // Arguments shared by cond and body: the loop variables, then invariants and captured outer tensors.
    Set<String> taken = new HashSet<>();
    List<String> argNames = new ArrayList<>();
    List<Integer> argTypes = new ArrayList<>();
    List<String> inits = new ArrayList<>();
    Map<TensorRef, String> subst = new HashMap<>();
    Set<String> copies = new LinkedHashSet<>();
    for (LoopVar v : vars) {
      String a = argName(g, taken, argNames.size());
      argNames.add(a);
      argTypes.add(typeOf(g, v.enter().name() + ":0"));
      inits.add(v.enter().input(0));
      subst.put(TensorRef.of(v.merge().name(), 0), a);
      subst.put(TensorRef.of(v.sw().name(), 1), a);
    }
    for (Node e : invariants) {
      String outer = e.input(0);
      if (fr.floating().contains(TensorRef.nodeOf(outer))) {
        // A constant: each function gets its own copy, so it stays a constant there.
        subst.put(TensorRef.of(e.name(), 0), TensorRef.parse(outer).toString());
        copies.add(TensorRef.nodeOf(outer));
        continue;
      }
      String a = argName(g, taken, argNames.size());
      argNames.add(a);
      argTypes.add(typeOf(g, e.name() + ":0"));
      inits.add(outer);
      subst.put(TensorRef.of(e.name(), 0), a);
    }

    // The nodes each function needs, found backwards from its results; outer tensors read without an Enter
    // are captured as further invariants.
    Map<String, String> captured = new LinkedHashMap<>();
    Set<String> condNodes = new LinkedHashSet<>();
    Set<String> bodyNodes = new LinkedHashSet<>();
    List<String> condResult = List.of(loopCond.input(0));
    List<String> bodyResults = new ArrayList<>();
    vars.forEach(v -> bodyResults.add(v.next().input(0)));
    collect(g, fr, frame, where, condResult, subst, structural, memberNames, copies, captured, condNodes);
    collect(g, fr, frame, where, bodyResults, subst, structural, memberNames, copies, captured, bodyNodes);
    for (Map.Entry<String, String> c : captured.entrySet()) {
      String a = argName(g, taken, argNames.size());
      argNames.add(a);
      argTypes.add(typeOf(g, c.getKey()));
      inits.add(c.getKey());
      subst.put(TensorRef.parse(c.getKey()), a);
    }

    // Named after the loop's scope ("while/LoopCond" -> "while"), as TensorFlow names while_loop's nodes.
    String base = commonPrefix(List.of(loopCond.name()));
    String condFn = functionName(base + "_cond");
    Graph cg = functionGraph(g, argNames, argTypes, copies, condNodes, subst);
    cg.outputs().add(rewrite(condResult.get(0), subst));
    conditionals(cg);
    define(cg, condFn, argNames, argTypes, List.of(DType.BOOL.tfEnum()));

    String bodyFn = functionName(base + "_body");
    Graph bg = functionGraph(g, argNames, argTypes, copies, bodyNodes, subst);
    for (String r : bodyResults) {
      bg.outputs().add(rewrite(r, subst));
    }
    for (int k = vars.size(); k < argNames.size(); k++) {
      bg.outputs().add(argNames.get(k)); // invariants pass through unchanged
    }
    conditionals(bg);
    define(bg, bodyFn, argNames, argTypes, argTypes);

    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    attrs.put("T", AttrValue.ListAttr.ofTypes(argTypes));
    attrs.put("cond", new AttrValue.Func(FuncRef.of(condFn)));
    attrs.put("body", new AttrValue.Func(FuncRef.of(bodyFn)));
    attrs.put("parallel_iterations", new AttrValue.Int(10));
    Node w = new Node(g.uniqueName(base + "/While"), "While", inits, "", attrs);

    // Readers of the Exits read the While; then the frame goes.
    Map<String, String> rewire = new LinkedHashMap<>();
    for (int i = 0; i < vars.size(); i++) {
      for (Node x : vars.get(i).exits()) {
        rewire.put(x.name() + ":0", w.name() + ":" + i);
      }
    }
    g.add(w);
    g.replaceAllUses(rewire);
    Set<String> gone = new HashSet<>(memberNames);
    for (LoopVar v : vars) {
      for (Node x : v.exits()) {
        g.replaceControlUses(x.name(), List.of(w.name()));
        gone.add(x.name());
      }
    }
    removeAll(g, gone, where);
  }

  /** Removes nodes; a node left that still reads one of them means the construct leaks, which is refused. */
  private static void removeAll(Graph g, Set<String> gone, String where) {
    for (Node n : g.nodes()) {
      if (gone.contains(n.name())) {
        continue;
      }
      for (String in : n.inputs()) {
        if (gone.contains(TensorRef.nodeOf(in))) {
          throw new UnsupportedModelException(where + ": node '" + n.name() + "' outside it reads '" + in
              + "' from inside; tfport cannot rewrite this for TFLite");
        }
      }
    }
    for (String o : g.outputs()) {
      if (gone.contains(TensorRef.nodeOf(o))) {
        throw new UnsupportedModelException(where + ": the graph output '" + o + "' is computed inside it; ask for"
            + " a tensor after it instead");
      }
    }
    gone.forEach(g::remove);
  }

  /**
   * The frame nodes a function needs for {@code results}: backwards along data edges, stopping at arguments
   * ({@code subst}), constants ({@code copies}) and outer tensors ({@code captured}).
   */
  private static void collect(Graph g, Frames fr, String frame, String where, List<String> results,
      Map<TensorRef, String> subst, Set<String> structural, Set<String> members, Set<String> copies,
      Map<String, String> captured, Set<String> out) {
    Deque<String> work = new ArrayDeque<>(results);
    while (!work.isEmpty()) {
      String ref = work.poll();
      TensorRef r = TensorRef.parse(ref);
      if (subst.containsKey(r)) {
        continue;
      }
      Node src = g.node(r.node());
      if (fr.floating().contains(src.name())) {
        copies.add(src.name());
        continue;
      }
      if (!members.contains(src.name())) {
        captured.putIfAbsent(r.toString(), r.toString());
        continue;
      }
      if (structural.contains(src.name())) {
        throw new UnsupportedModelException(where + ": '" + ref + "' (" + src.op() + ") is read inside the loop"
            + " other than as a loop variable; tfport cannot rewrite this loop for TFLite");
      }
      if (!out.add(src.name())) {
        continue;
      }
      work.addAll(src.dataInputs());
    }
  }

  // ================================================================================================ conditionals

  /** One entry of a node's conditional context: it runs only when {@code pred} is {@code then}. */
  private record Branch(String pred, boolean then) {}

  /** Where a Merge joins: the context around the conditional and its predicate. */
  private record Join(List<Branch> outer, String pred) {}

  /** Each node's context, and where each Merge joins. */
  private record States(Map<String, List<Branch>> of, Map<String, Join> joins) {}

  /** The predicate a Switch tests, seen through identities, so the Switches of one tf.cond agree. */
  private static String predicate(Graph g, Node sw) {
    TensorRef r = TensorRef.parse(sw.input(1));
    for (int guard = 0; guard < 10_000; guard++) {
      Node n = g.node(r.node());
      if (n == null || !IDENTITIES.contains(n.op()) || n.dataInputs().isEmpty()) {
        break;
      }
      r = TensorRef.parse(n.input(0));
    }
    return r.toString();
  }

  private static States states(Graph g) {
    Map<String, List<Branch>> of = new HashMap<>();
    Map<String, Join> joins = new HashMap<>();
    for (Node n : g.topologicalOrder()) {
      if (MERGE.contains(n.op())) {
        List<String> ins = n.dataInputs();
        if (ins.size() != 2) {
          throw new UnsupportedModelException(g.source() + ": Merge '" + n.name() + "' has " + ins.size()
              + " inputs; tfport rewrites only two-way conditionals for TFLite");
        }
        List<Branch> a = stateOf(g, of, ins.get(0));
        List<Branch> b = stateOf(g, of, ins.get(1));
        int k = a.size() - 1;
        if (a.size() != b.size() || a.isEmpty() || !a.subList(0, k).equals(b.subList(0, k))
            || !a.get(k).pred().equals(b.get(k).pred()) || a.get(k).then() == b.get(k).then()) {
          throw new UnsupportedModelException(g.source() + ": Merge '" + n.name() + "' does not join the two"
              + " branches of one Switch predicate; tfport cannot rewrite it as an If for TFLite");
        }
        List<Branch> outer = List.copyOf(a.subList(0, k));
        of.put(n.name(), outer);
        joins.put(n.name(), new Join(outer, a.get(k).pred()));
        continue;
      }
      List<Branch> longest = List.of();
      List<List<Branch>> all = new ArrayList<>();
      for (String in : n.inputs()) {
        List<Branch> s = TensorRef.isControl(in) ? of.getOrDefault(TensorRef.nodeOf(in), List.of())
            : stateOf(g, of, in);
        all.add(s);
        if (s.size() > longest.size()) {
          longest = s;
        }
      }
      for (List<Branch> s : all) {
        if (!longest.subList(0, s.size()).equals(s)) {
          throw new UnsupportedModelException(g.source() + ": node '" + n.name() + "' (" + n.op() + ") reads from"
              + " branches of conditionals that do not nest; tfport cannot rewrite them as If for TFLite");
        }
      }
      of.put(n.name(), longest);
    }
    return new States(of, joins);
  }

  /** The context of a tensor: its node's, plus the branch for a Switch output. */
  private static List<Branch> stateOf(Graph g, Map<String, List<Branch>> of, String ref) {
    TensorRef r = TensorRef.parse(ref);
    List<Branch> s = of.getOrDefault(r.node(), List.of());
    Node src = g.node(r.node());
    if (src == null || !SWITCH.contains(src.op())) {
      return s;
    }
    if (r.index() > 1 || src.dataInputs().size() != 2) {
      throw new UnsupportedModelException(g.source() + ": Switch '" + src.name() + "' read as '" + ref + "' does not"
          + " take a value and a predicate with two outputs; the graph is damaged");
    }
    String pred = predicate(g, src);
    for (Branch b : s) {
      if (b.pred().equals(pred)) {
        throw new UnsupportedModelException(g.source() + ": Switch '" + src.name() + "' tests predicate '" + pred
            + "' inside a branch of the same predicate; tfport cannot rewrite it as an If for TFLite");
      }
    }
    List<Branch> out = new ArrayList<>(s);
    out.add(new Branch(pred, r.index() == 1));
    return List.copyOf(out);
  }

  /** What one Merge needs: its branch nodes, the outer tensors they read, and the constants they copy. */
  private record Part(List<String> merges, Set<String> nodes, Set<String> outer, Set<String> copies) {}

  /** Rewrites every conditional of an acyclic graph, innermost first. */
  private void conditionals(Graph g) {
    while (true) {
      boolean any = false;
      for (Node n : g.nodes()) {
        if (MERGE.contains(n.op())) {
          any = true;
          break;
        }
      }
      if (!any) {
        return;
      }
      States st = states(g);
      Join deepest = null;
      for (Node n : g.topologicalOrder()) {
        Join j = st.joins().get(n.name());
        if (j != null && (deepest == null || j.outer().size() > deepest.outer().size())) {
          deepest = j;
        }
      }
      conditional(g, st, deepest);
    }
  }

  private void conditional(Graph g, States st, Join join) {
    String where = g.source() + ": conditional on '" + join.pred() + "'";
    List<Branch> thenState = with(join.outer(), new Branch(join.pred(), true));
    List<Branch> elseState = with(join.outer(), new Branch(join.pred(), false));
    Set<String> floating = new HashSet<>();
    for (Node n : g.topologicalOrder()) {
      if (floating(n, floating)) {
        floating.add(n.name());
      }
    }
    List<Part> parts = new ArrayList<>();
    for (Node m : g.topologicalOrder()) {
      if (!join.equals(st.joins().get(m.name()))) {
        continue;
      }
      Set<String> nodes = new LinkedHashSet<>();
      Set<String> outer = new LinkedHashSet<>();
      Set<String> copies = new LinkedHashSet<>();
      Deque<String> work = new ArrayDeque<>(m.dataInputs());
      while (!work.isEmpty()) {
        String ref = work.poll();
        TensorRef r = TensorRef.parse(ref);
        Node src = g.node(r.node());
        if (isBoundary(g, st, src, join)) {
          String x = TensorRef.parse(src.input(0)).toString();
          if (floating.contains(TensorRef.nodeOf(x))) {
            copies.add(TensorRef.nodeOf(x));
          } else {
            outer.add(x);
          }
          continue;
        }
        List<Branch> s = st.of().get(src.name());
        if (s.equals(thenState) || s.equals(elseState)) {
          if (nodes.add(src.name())) {
            work.addAll(src.dataInputs());
          }
        } else if (floating.contains(src.name())) {
          copies.add(src.name());
        } else if (s.size() <= join.outer().size() && join.outer().subList(0, s.size()).equals(s)) {
          outer.add(r.toString());
        } else {
          throw new UnsupportedModelException(where + ": node '" + src.name() + "' reached from Merge '" + m.name()
              + "' lies in another conditional; tfport cannot rewrite it as an If for TFLite");
        }
      }
      parts.add(new Part(new ArrayList<>(List.of(m.name())), nodes, outer, copies));
    }
    // Merges sharing branch nodes belong to one If.
    List<Part> joined = new ArrayList<>();
    for (Part p : parts) {
      Part into = null;
      for (java.util.Iterator<Part> it = joined.iterator(); it.hasNext(); ) {
        Part q = it.next();
        if (!java.util.Collections.disjoint(q.nodes(), p.nodes())) {
          if (into == null) {
            into = q;
            q.merges().addAll(p.merges());
            q.nodes().addAll(p.nodes());
            q.outer().addAll(p.outer());
            q.copies().addAll(p.copies());
          } else {
            into.merges().addAll(q.merges());
            into.nodes().addAll(q.nodes());
            into.outer().addAll(q.outer());
            into.copies().addAll(q.copies());
            it.remove();
          }
        }
      }
      if (into == null) {
        joined.add(p);
      }
    }
    // The others join too unless one's inputs depend on the other's results (the If would read itself).
    List<Part> groups = new ArrayList<>();
    List<Set<String>> ancestors = new ArrayList<>();
    for (Part p : joined) {
      Set<String> anc = g.reachable(p.outer().stream().map(TensorRef::nodeOf).toList());
      for (String m : p.merges()) {
        if (anc.contains(m)) {
          throw new UnsupportedModelException(where + ": the inputs of Merge '" + m + "' depend on its own result;"
              + " tfport cannot rewrite it as an If for TFLite");
        }
      }
      boolean placed = false;
      for (int i = 0; i < groups.size() && !placed; i++) {
        Part q = groups.get(i);
        if (java.util.Collections.disjoint(ancestors.get(i), p.merges())
            && java.util.Collections.disjoint(anc, q.merges())) {
          q.merges().addAll(p.merges());
          q.nodes().addAll(p.nodes());
          q.outer().addAll(p.outer());
          q.copies().addAll(p.copies());
          ancestors.get(i).addAll(anc);
          placed = true;
        }
      }
      if (!placed) {
        groups.add(p);
        ancestors.add(new HashSet<>(anc));
      }
    }
    Set<String> gone = new HashSet<>();
    for (Part p : groups) {
      buildIf(g, st, join, p, thenState, elseState, where);
      gone.addAll(p.nodes());
      gone.addAll(p.merges());
      conditionals++;
    }
    // Branch nodes no Merge needed (a tf.cond's switch_t/switch_f pivots), then the Switches, go as well.
    for (Node n : g.nodes()) {
      List<Branch> s = st.of().get(n.name());
      if (s != null && (s.equals(thenState) || s.equals(elseState))) {
        gone.add(n.name());
      }
    }
    Map<String, List<Node>> consumers = g.consumers();
    for (Node n : g.nodes()) {
      if (isBoundary(g, st, n, join)) {
        boolean used = false;
        for (Node c : consumers.getOrDefault(n.name(), List.of())) {
          used |= !gone.contains(c.name());
        }
        if (!used) {
          gone.add(n.name());
        }
      }
    }
    removeAll(g, gone, where);
  }

  private static List<Branch> with(List<Branch> s, Branch b) {
    List<Branch> out = new ArrayList<>(s);
    out.add(b);
    return List.copyOf(out);
  }

  /** A Switch that opens the conditional {@code join}: on its predicate, in its outer context. */
  private static boolean isBoundary(Graph g, States st, Node n, Join join) {
    return n != null && SWITCH.contains(n.op()) && n.dataInputs().size() == 2
        && predicate(g, n).equals(join.pred()) && join.outer().equals(st.of().get(n.name()));
  }

  private void buildIf(Graph g, States st, Join join, Part p, List<Branch> thenState, List<Branch> elseState,
      String where) {
    Set<String> taken = new HashSet<>();
    List<String> args = new ArrayList<>(p.outer());
    List<String> argNames = new ArrayList<>();
    List<Integer> argTypes = new ArrayList<>();
    Map<TensorRef, String> subst = new HashMap<>();
    for (String a : args) {
      String name = argName(g, taken, argNames.size());
      argNames.add(name);
      argTypes.add(typeOf(g, a));
      subst.put(TensorRef.parse(a), name);
    }
    // A Switch output inside a branch is the value it switches: that argument, or the copied constant.
    for (Node n : g.nodes()) {
      if (isBoundary(g, st, n, join)) {
        String x = TensorRef.parse(n.input(0)).toString();
        String to = subst.getOrDefault(TensorRef.parse(x), x);
        subst.put(TensorRef.of(n.name(), 0), to);
        subst.put(TensorRef.of(n.name(), 1), to);
      }
    }
    List<Integer> outTypes = new ArrayList<>();
    for (String m : p.merges()) {
      outTypes.add(typeOf(g, m + ":0"));
    }
    String base = commonPrefix(p.merges());
    String[] fns = new String[2];
    for (int b = 0; b < 2; b++) {
      List<Branch> state = b == 0 ? thenState : elseState;
      Set<String> nodes = new LinkedHashSet<>();
      for (String n : p.nodes()) {
        if (st.of().get(n).equals(state)) {
          nodes.add(n);
        }
      }
      Graph fg = functionGraph(g, argNames, argTypes, p.copies(), nodes, subst);
      for (String m : p.merges()) {
        String result = null;
        for (String in : g.node(m).dataInputs()) {
          if (stateOf(g, st.of(), in).equals(state)) {
            result = in;
          }
        }
        fg.outputs().add(rewrite(result, subst));
      }
      fns[b] = functionName(base + (b == 0 ? "_then" : "_else"));
      define(fg, fns[b], argNames, argTypes, outTypes);
    }
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    attrs.put("Tcond", new AttrValue.Type(DType.BOOL.tfEnum()));
    attrs.put("Tin", AttrValue.ListAttr.ofTypes(argTypes));
    attrs.put("Tout", AttrValue.ListAttr.ofTypes(outTypes));
    attrs.put("then_branch", new AttrValue.Func(FuncRef.of(fns[0])));
    attrs.put("else_branch", new AttrValue.Func(FuncRef.of(fns[1])));
    List<String> ins = new ArrayList<>();
    ins.add(join.pred());
    ins.addAll(args);
    Node iff = g.add(new Node(g.uniqueName(base + "/If"), "If", ins, "", attrs));
    Map<String, List<Node>> consumers = g.consumers();
    Map<String, String> rewire = new LinkedHashMap<>();
    for (int k = 0; k < p.merges().size(); k++) {
      String m = p.merges().get(k);
      for (Node c : consumers.getOrDefault(m, List.of())) {
        for (String in : c.dataInputs()) {
          TensorRef r = TensorRef.parse(in);
          if (r.node().equals(m) && r.index() == 1) {
            throw new UnsupportedModelException(where + ": node '" + c.name() + "' reads which branch Merge '" + m
                + "' took (its value_index); tfport cannot rewrite that as an If for TFLite");
          }
        }
      }
      rewire.put(m + ":0", iff.name() + ":" + k);
    }
    g.replaceAllUses(rewire);
    for (String m : p.merges()) {
      g.replaceControlUses(m, List.of(iff.name()));
    }
  }

  /** The name scope the Merges share ({@code cond/Merge}, {@code cond/Merge_1} -> {@code cond}). */
  private static String commonPrefix(List<String> names) {
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

  // ================================================================================================ functions

  /** A name for argument {@code i} used by no node of {@code g} and no other argument. */
  private static String argName(Graph g, Set<String> taken, int i) {
    String n = "arg" + i;
    for (int k = 1; g.has(n) || taken.contains(n); k++) {
      n = "arg" + i + "_" + k;
    }
    taken.add(n);
    return n;
  }

  private String functionName(String scope) {
    String base = scope.replaceAll("[^A-Za-z0-9_.-]", "_");
    String n = base;
    for (int k = 1; root.functions().containsKey(n); k++) {
      n = base + "_" + k;
    }
    return n;
  }

  private static String rewrite(String ref, Map<TensorRef, String> subst) {
    TensorRef r = TensorRef.parse(ref);
    return subst.getOrDefault(r, r.toString());
  }

  /**
   * A graph holding a function while it is built: one placeholder per argument, the copied constants and the
   * function's nodes with their references to the outside made arguments. Control inputs from outside the
   * function are dropped: the function runs only when called, which is what they ordered.
   */
  private Graph functionGraph(Graph g, List<String> argNames, List<Integer> argTypes, Set<String> copies,
      Set<String> nodes, Map<TensorRef, String> subst) {
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
          if (!to.equals(TensorRef.parse(in).toString()) || nodes.contains(TensorRef.nodeOf(in))
              || constants.contains(TensorRef.nodeOf(in))) {
            ins.add(to);
          } else {
            throw new UnsupportedModelException(g.source() + ": node '" + n.name() + "' reads '" + in
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
  private void define(Graph fg, String name, List<String> argNames, List<Integer> argTypes, List<Integer> outTypes) {
    // Functions made while rewriting fg (a conditional inside a loop body) go to the root's library.
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
    // Constants copied for the other branch or function only: drop them (and the constants they alone read).
    for (boolean dropped = true; dropped; ) {
      dropped = false;
      Set<String> outs2 = fg.outputNodes();
      Map<String, List<Node>> readers = fg.consumers();
      for (Node n : fg.nodes()) {
        if ((n.op().equals("Const") || IDENTITIES.contains(n.op())) && !outs2.contains(n.name())
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
    root.functions().put(name, new GraphFunction(name, ins, outs, body, ret, Map.of(), Map.of(), Map.of(),
        stateful));
  }

  /** The TF type of a tensor, from its producer's attributes; refused when they do not say. */
  static int typeOf(Graph g, String ref) {
    TensorRef r = TensorRef.parse(ref);
    for (int guard = 0; guard < 10_000; guard++) {
      Node n = g.node(r.node());
      if (n == null) {
        break;
      }
      Integer t = switch (n.op()) {
        case "Const", "Placeholder", "PlaceholderWithDefault", "TensorArrayReadV3", "TensorArrayGatherV3",
            "TensorArrayPackV3" -> type(n, "dtype");
        case "Cast" -> type(n, "DstT");
        case "Shape", "Size", "Rank", "ShapeN" -> n.attr("out_type") == null ? DType.INT32.tfEnum() : type(n, "out_type");
        case "ArgMax", "ArgMin" -> n.attr("output_type") == null ? DType.INT64.tfEnum() : type(n, "output_type");
        case "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd", "LogicalOr",
            "LogicalNot", "IsNan", "IsInf", "IsFinite", "LoopCond", "All", "Any" -> DType.BOOL.tfEnum();
        case "Merge", "RefMerge" -> r.index() == 1 ? Integer.valueOf(DType.INT32.tfEnum()) : type(n, "T");
        case "TensorArrayV3" -> r.index() == 0 ? Integer.valueOf(DataTypes.DT_RESOURCE) : DType.FLOAT32.tfEnum();
        case "TensorArrayWriteV3", "TensorArrayScatterV3", "TensorArraySplitV3" -> DType.FLOAT32.tfEnum();
        case "TensorArraySizeV3" -> DType.INT32.tfEnum();
        // TensorArrays as TensorArrays.apply leaves them: the dense array, typed by its elements.
        case "TensorListReserve", "TensorListSetItem", "TensorListGetItem", "TensorListStack",
            "TensorListFromTensor" -> type(n, "element_dtype");
        case "Range" -> type(n, "Tidx");
        case "If", "StatelessIf", "PartitionedCall", "StatefulPartitionedCall" -> listType(n, "Tout", r.index());
        case "While", "StatelessWhile" -> listType(n, "T", r.index());
        default -> n.attr("T") instanceof AttrValue.Type ? type(n, "T")
            : n.attr("dtype") instanceof AttrValue.Type ? type(n, "dtype")
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
    throw new UnsupportedModelException(g.source() + ": cannot tell the type of '" + ref + "', which a rewritten"
        + " loop or conditional passes; tfport cannot rewrite it for TFLite");
  }

  private static Integer type(Node n, String key) {
    return n.attr(key) instanceof AttrValue.Type t ? t.value() : null;
  }

  private static Integer listType(Node n, String key, int i) {
    return n.attr(key) instanceof AttrValue.ListAttr l && i < l.type().size() ? l.type().get(i) : null;
  }

  // ================================================================================================ folding

  /**
   * Replaces each {@code If} whose predicate is a constant by the branch it takes, inlined; the TFLite
   * converter does so too, and a conditional on constants becomes constants. Run after constant folding.
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
