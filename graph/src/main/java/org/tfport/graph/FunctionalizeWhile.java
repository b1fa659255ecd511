package org.tfport.graph;

import static org.tfport.graph.Functionalize.ENTER;
import static org.tfport.graph.Functionalize.EXIT;
import static org.tfport.graph.Functionalize.MERGE;
import static org.tfport.graph.Functionalize.NEXT;
import static org.tfport.graph.Functionalize.SWITCH;
import static org.tfport.graph.Functionalize.argName;
import static org.tfport.graph.Functionalize.commonPrefix;
import static org.tfport.graph.Functionalize.floating;
import static org.tfport.graph.Functionalize.removeAll;
import static org.tfport.graph.Functionalize.rewrite;
import static org.tfport.graph.Functionalize.typeOf;

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
import org.tfport.core.DType;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.FuncRef;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;

/**
 * The while-loop part of {@link Functionalize}: each TF1 loop frame (the {@code Enter}s sharing a
 * {@code frame_name} with their {@code Merge}, {@code Switch}, {@code NextIteration}, {@code Exit}
 * and {@code LoopCond}) becomes one {@code While} node whose {@code cond} and {@code body} are
 * library functions cut out of the frame. Frames are assigned as TensorFlow's executor does and
 * rewritten innermost first, so an outer body holds the inner loop as a {@code While} node.
 */
final class FunctionalizeWhile {
  private final Functionalize run;

  /** Rewrites the conditionals inside a loop's cond and body before they become functions. */
  private final FunctionalizeCond conditionals;

  /** How many loops were rewritten. */
  int loops;

  FunctionalizeWhile(Functionalize run, FunctionalizeCond conditionals) {
    this.run = run;
    this.conditionals = conditionals;
  }

  /** Each node's loop frame ("" outside every loop) and the frames' nesting. */
  private record Frames(
      Map<String, String> frameOf, Set<String> floating, Map<String, String> parent) {
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
   * Assigns frames as TensorFlow's executor does: Enter goes into its frame, Exit out to the
   * parent.
   */
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
          throw new UnsupportedModelException(
              g.source()
                  + ": Enter node '"
                  + n.name()
                  + "' has no frame_name;"
                  + " the graph is damaged");
        }
        // A constant entering says nothing of where the loop sits; any other input is in the
        // enclosing frame.
        String in = n.dataInputs().isEmpty() ? null : TensorRef.nodeOf(n.input(0));
        String outer = in == null || floating.contains(in) ? null : frameOf.getOrDefault(in, "");
        String had = outer == null ? null : parent.putIfAbsent(frame, outer);
        if (had != null && !had.equals(outer)) {
          throw new UnsupportedModelException(
              g.source()
                  + ": loop frame '"
                  + frame
                  + "' is entered from two"
                  + " different frames (at Enter '"
                  + n.name()
                  + "'); tfport cannot rewrite such a loop for TFLite");
        }
        frameOf.put(n.name(), frame);
        continue;
      }
      if (EXIT.contains(n.op())) {
        String inner =
            n.dataInputs().isEmpty() ? "" : frameOf.getOrDefault(TensorRef.nodeOf(n.input(0)), "");
        if (inner.isEmpty()) {
          throw new UnsupportedModelException(
              g.source()
                  + ": Exit node '"
                  + n.name()
                  + "' is outside every loop;"
                  + " the graph is damaged");
        }
        frameOf.put(n.name(), parent.getOrDefault(inner, ""));
        continue;
      }
      String deepest = "";
      List<String> seen = new ArrayList<>();
      for (String in : n.inputs()) {
        Node src = g.node(TensorRef.nodeOf(in));
        if (src == null
            || floating.contains(src.name())
            || MERGE.contains(n.op()) && NEXT.contains(src.op())) {
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
          throw new UnsupportedModelException(
              g.source()
                  + ": node '"
                  + n.name()
                  + "' ("
                  + n.op()
                  + ") reads from"
                  + " two unrelated loop frames ('"
                  + f
                  + "' and '"
                  + deepest
                  + "'); the graph is damaged");
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

  /**
   * One loop variable: its Enter, Merge, Switch, NextIteration and the Exits that read it after the
   * loop.
   */
  private record LoopVar(Node enter, Node merge, Node sw, Node next, List<Node> exits) {}

  /**
   * Rewrites every frame, innermost first; each rewrite changes the frames, so they are found
   * again.
   */
  void loops(Graph g) {
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
        throw new UnsupportedModelException(
            g.source()
                + ": the loop frames "
                + frames
                + " nest in a cycle; the"
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
      throw new UnsupportedModelException(
          where
              + " has "
              + loopConds.size()
              + " LoopCond nodes, not one; tfport"
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
        throw new UnsupportedModelException(
            where
                + ": Merge '"
                + m.name()
                + "' does not join one Enter and one"
                + " NextIteration; tfport cannot rewrite this loop for TFLite");
      }
      Node sw = null;
      for (Node c : consumers.getOrDefault(m.name(), List.of())) {
        if (SWITCH.contains(c.op())
            && c.dataInputs().size() == 2
            && TensorRef.nodeOf(c.input(1)).equals(loopCond.name())
            && TensorRef.nodeOf(c.input(0)).equals(m.name())) {
          if (sw != null) {
            throw new UnsupportedModelException(
                where
                    + ": loop variable Merge '"
                    + m.name()
                    + "' feeds two"
                    + " Switches; tfport cannot rewrite this loop for TFLite");
          }
          sw = c;
        }
      }
      if (sw == null) {
        throw new UnsupportedModelException(
            where
                + ": loop variable Merge '"
                + m.name()
                + "' feeds no Switch on"
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
            throw new UnsupportedModelException(
                where
                    + ": node '"
                    + c.name()
                    + "' reads the exit side of Switch '"
                    + sw.name()
                    + "' but is not an Exit; tfport cannot rewrite this loop for TFLite");
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
      throw new UnsupportedModelException(
          where
              + " has no loop variable (Enter -> Merge <- NextIteration); tfport"
              + " cannot rewrite it for TFLite");
    }
    for (Node m : members) {
      if (ENTER.contains(m.op()) && !structural.contains(m.name())) {
        if (!(m.attr("is_constant") instanceof AttrValue.Bool b && b.value())) {
          throw new UnsupportedModelException(
              where
                  + ": Enter '"
                  + m.name()
                  + "' is neither a loop variable nor"
                  + " loop-invariant (is_constant); tfport cannot rewrite this loop for TFLite");
        }
        invariants.add(m);
        structural.add(m.name());
      } else if (NEXT.contains(m.op()) && !structural.contains(m.name())) {
        throw new UnsupportedModelException(
            where
                + ": NextIteration '"
                + m.name()
                + "' feeds no loop Merge;"
                + " tfport cannot rewrite this loop for TFLite");
      }
    }

    // Arguments shared by cond and body: the loop variables, then invariants and captured outer
    // tensors.
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

    // The nodes each function needs, found backwards from its results; outer tensors read without
    // an Enter
    // are captured as further invariants.
    Map<String, String> captured = new LinkedHashMap<>();
    Set<String> condNodes = new LinkedHashSet<>();
    Set<String> bodyNodes = new LinkedHashSet<>();
    List<String> condResult = List.of(loopCond.input(0));
    List<String> bodyResults = new ArrayList<>();
    vars.forEach(v -> bodyResults.add(v.next().input(0)));
    collect(
        g,
        fr,
        frame,
        where,
        condResult,
        subst,
        structural,
        memberNames,
        copies,
        captured,
        condNodes);
    collect(
        g,
        fr,
        frame,
        where,
        bodyResults,
        subst,
        structural,
        memberNames,
        copies,
        captured,
        bodyNodes);
    for (Map.Entry<String, String> c : captured.entrySet()) {
      String a = argName(g, taken, argNames.size());
      argNames.add(a);
      argTypes.add(typeOf(g, c.getKey()));
      inits.add(c.getKey());
      subst.put(TensorRef.parse(c.getKey()), a);
    }

    // Named after the loop's scope ("while/LoopCond" -> "while"), as TensorFlow names while_loop's
    // nodes.
    String base = commonPrefix(List.of(loopCond.name()));
    String condFn = run.functionName(base + "_cond");
    Graph cg = run.functionGraph(g, argNames, argTypes, copies, condNodes, subst);
    cg.outputs().add(rewrite(condResult.get(0), subst));
    conditionals.conditionals(cg);
    run.define(cg, condFn, argNames, argTypes, List.of(DType.BOOL.tfEnum()));

    String bodyFn = run.functionName(base + "_body");
    Graph bg = run.functionGraph(g, argNames, argTypes, copies, bodyNodes, subst);
    for (String r : bodyResults) {
      bg.outputs().add(rewrite(r, subst));
    }
    for (int k = vars.size(); k < argNames.size(); k++) {
      bg.outputs().add(argNames.get(k)); // invariants pass through unchanged
    }
    conditionals.conditionals(bg);
    run.define(bg, bodyFn, argNames, argTypes, argTypes);

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

  /**
   * The frame nodes a function needs for {@code results}: backwards along data edges, stopping at
   * arguments ({@code subst}), constants ({@code copies}) and outer tensors ({@code captured}).
   */
  private static void collect(
      Graph g,
      Frames fr,
      String frame,
      String where,
      List<String> results,
      Map<TensorRef, String> subst,
      Set<String> structural,
      Set<String> members,
      Set<String> copies,
      Map<String, String> captured,
      Set<String> out) {
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
        throw new UnsupportedModelException(
            where
                + ": '"
                + ref
                + "' ("
                + src.op()
                + ") is read inside the loop"
                + " other than as a loop variable; tfport cannot rewrite this loop for TFLite");
      }
      if (!out.add(src.name())) {
        continue;
      }
      work.addAll(src.dataInputs());
    }
  }
}
