package org.tfport.graph;

import static org.tfport.graph.Functionalize.IDENTITIES;
import static org.tfport.graph.Functionalize.MERGE;
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
 * The conditional part of {@link Functionalize}: each {@code Switch}/{@code Merge} conditional
 * ({@code tf.cond} in TF1) of an acyclic graph becomes one {@code If} node whose {@code
 * then_branch}/{@code else_branch} hold the nodes that run only on that side of the predicate;
 * innermost first, and the {@code Merge}s of one predicate in one context share one {@code If}.
 */
final class FunctionalizeCond {
  private final Functionalize run;

  /** How many conditionals were rewritten, those inside loop bodies included. */
  int conditionals;

  FunctionalizeCond(Functionalize run) {
    this.run = run;
  }

  /** One entry of a node's conditional context: it runs only when {@code pred} is {@code then}. */
  private record Branch(String pred, boolean then) {}

  /** Where a Merge joins: the context around the conditional and its predicate. */
  private record Join(List<Branch> outer, String pred) {}

  /** Each node's context, and where each Merge joins. */
  private record States(Map<String, List<Branch>> of, Map<String, Join> joins) {}

  /**
   * The predicate a Switch tests, seen through identities, so the Switches of one tf.cond agree.
   */
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
          throw new UnsupportedModelException(
              g.source()
                  + ": Merge '"
                  + n.name()
                  + "' has "
                  + ins.size()
                  + " inputs; tfport rewrites only two-way conditionals for TFLite");
        }
        List<Branch> a = stateOf(g, of, ins.get(0));
        List<Branch> b = stateOf(g, of, ins.get(1));
        int k = a.size() - 1;
        if (a.size() != b.size()
            || a.isEmpty()
            || !a.subList(0, k).equals(b.subList(0, k))
            || !a.get(k).pred().equals(b.get(k).pred())
            || a.get(k).then() == b.get(k).then()) {
          throw new UnsupportedModelException(
              g.source()
                  + ": Merge '"
                  + n.name()
                  + "' does not join the two"
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
        List<Branch> s =
            TensorRef.isControl(in)
                ? of.getOrDefault(TensorRef.nodeOf(in), List.of())
                : stateOf(g, of, in);
        all.add(s);
        if (s.size() > longest.size()) {
          longest = s;
        }
      }
      for (List<Branch> s : all) {
        if (!longest.subList(0, s.size()).equals(s)) {
          throw new UnsupportedModelException(
              g.source()
                  + ": node '"
                  + n.name()
                  + "' ("
                  + n.op()
                  + ") reads from"
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
      throw new UnsupportedModelException(
          g.source()
              + ": Switch '"
              + src.name()
              + "' read as '"
              + ref
              + "' does not"
              + " take a value and a predicate with two outputs; the graph is damaged");
    }
    String pred = predicate(g, src);
    for (Branch b : s) {
      if (b.pred().equals(pred)) {
        throw new UnsupportedModelException(
            g.source()
                + ": Switch '"
                + src.name()
                + "' tests predicate '"
                + pred
                + "' inside a branch of the same predicate; tfport cannot rewrite it as an If for TFLite");
      }
    }
    List<Branch> out = new ArrayList<>(s);
    out.add(new Branch(pred, r.index() == 1));
    return List.copyOf(out);
  }

  /**
   * What one Merge needs: its branch nodes, the outer tensors they read, and the constants they
   * copy.
   */
  private record Part(
      List<String> merges, Set<String> nodes, Set<String> outer, Set<String> copies) {}

  /** Rewrites every conditional of an acyclic graph, innermost first. */
  void conditionals(Graph g) {
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
          throw new UnsupportedModelException(
              where
                  + ": node '"
                  + src.name()
                  + "' reached from Merge '"
                  + m.name()
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
    // The others join too unless one's inputs depend on the other's results (the If would read
    // itself).
    List<Part> groups = new ArrayList<>();
    List<Set<String>> ancestors = new ArrayList<>();
    for (Part p : joined) {
      Set<String> anc = g.reachable(p.outer().stream().map(TensorRef::nodeOf).toList());
      for (String m : p.merges()) {
        if (anc.contains(m)) {
          throw new UnsupportedModelException(
              where
                  + ": the inputs of Merge '"
                  + m
                  + "' depend on its own result;"
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
    // Branch nodes no Merge needed (a tf.cond's switch_t/switch_f pivots), then the Switches, go as
    // well.
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
    return n != null
        && SWITCH.contains(n.op())
        && n.dataInputs().size() == 2
        && predicate(g, n).equals(join.pred())
        && join.outer().equals(st.of().get(n.name()));
  }

  private void buildIf(
      Graph g,
      States st,
      Join join,
      Part p,
      List<Branch> thenState,
      List<Branch> elseState,
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
    // A Switch output inside a branch is the value it switches: that argument, or the copied
    // constant.
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
      Graph fg = run.functionGraph(g, argNames, argTypes, p.copies(), nodes, subst);
      for (String m : p.merges()) {
        String result = null;
        for (String in : g.node(m).dataInputs()) {
          if (stateOf(g, st.of(), in).equals(state)) {
            result = in;
          }
        }
        fg.outputs().add(rewrite(result, subst));
      }
      fns[b] = run.functionName(base + (b == 0 ? "_then" : "_else"));
      run.define(fg, fns[b], argNames, argTypes, outTypes);
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
            throw new UnsupportedModelException(
                where
                    + ": node '"
                    + c.name()
                    + "' reads which branch Merge '"
                    + m
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
}
