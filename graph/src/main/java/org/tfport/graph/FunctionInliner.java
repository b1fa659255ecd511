package org.tfport.graph;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.ArgDef;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.FuncRef;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.GraphPass;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;

/**
 * Replaces function calls ({@code PartitionedCall}, {@code StatefulPartitionedCall}, or a node
 * whose op is a library function) by the function's body, until none is left. Body nodes are named
 * {@code <call node>/<body node>}, as TensorFlow's inliner names them; readers of the call's
 * outputs read the body's results instead.
 *
 * <p>Functional control flow ({@code If}, {@code While}) is left alone: TF.js runs it with the
 * library.
 */
public final class FunctionInliner implements GraphPass {
  static final Set<String> CALL_OPS = Set.of("PartitionedCall", "StatefulPartitionedCall");

  /** Deeper than any real model nests functions; reaching it means a function calls itself. */
  private static final int MAX_INLINES = 1_000_000;

  private final Predicate<Node> which;

  /**
   * @param which the call nodes to inline (nested calls inside inlined bodies are always inlined)
   */
  FunctionInliner(Predicate<Node> which) {
    this.which = which;
  }

  FunctionInliner() {
    this(n -> true);
  }

  @Override
  public String name() {
    return "inline-functions";
  }

  static boolean isCall(Graph g, Node n) {
    return CALL_OPS.contains(n.op()) || g.function(n.op()) != null;
  }

  @Override
  public boolean apply(Graph g) {
    List<Node> work = new ArrayList<>();
    for (Node n : g.nodes()) {
      if (isCall(g, n) && which.test(n)) {
        work.add(n);
      }
    }
    int count = 0;
    while (!work.isEmpty()) {
      Node call = work.remove(work.size() - 1);
      if (++count > MAX_INLINES) {
        throw new UnsupportedModelException(
            g.source()
                + ": function calls nest without end at node '"
                + call.name()
                + "'; recursive functions cannot be inlined");
      }
      for (Node added : inline(g, call, call.name() + "/")) {
        if (isCall(g, added)) {
          work.add(added);
        }
      }
    }
    return count > 0;
  }

  /** The function a call node runs, with the attributes it instantiates it with. */
  static FuncRef target(Graph g, Node call) {
    if (CALL_OPS.contains(call.op())) {
      if (call.attr("f") instanceof AttrValue.Func f) {
        return f.value();
      }
      throw new CorruptModelException(
          g.source()
              + ": node '"
              + call.name()
              + "' ("
              + call.op()
              + ") has no"
              + " function attribute 'f'; the graph is damaged");
    }
    return new FuncRef(call.op(), call.attrs());
  }

  /**
   * Inlines one call and returns the nodes added.
   *
   * @param prefix put before every body node's name; name clashes get a numeric suffix
   */
  public static List<Node> inline(Graph g, Node call, String prefix) {
    FuncRef ref = target(g, call);
    GraphFunction f = g.function(ref.name());
    if (f == null) {
      throw new UnsupportedModelException(
          g.source()
              + ": node '"
              + call.name()
              + "' calls function '"
              + ref.name()
              + "', which the graph's library does not hold; the model is incomplete");
    }
    List<String> data = call.dataInputs();
    List<String> control = call.controlInputs();
    // Argument name to the caller's tensors (a list argument spans several inputs).
    Map<String, List<String>> args = new HashMap<>();
    int at = 0;
    for (ArgDef a : f.inputArgs()) {
      int n = a.numberAttr().isEmpty() && a.typeListAttr().isEmpty() ? 1 : argSize(ref, a, call, g);
      if (at + n > data.size()) {
        throw new CorruptModelException(
            g.source()
                + ": node '"
                + call.name()
                + "' passes "
                + data.size()
                + " inputs to function '"
                + f.name()
                + "', which takes more; the graph is damaged");
      }
      args.put(a.name(), new ArrayList<>(data.subList(at, at + n)));
      at += n;
    }
    if (at != data.size()) {
      throw new CorruptModelException(
          g.source()
              + ": node '"
              + call.name()
              + "' passes "
              + data.size()
              + " inputs to function '"
              + f.name()
              + "', which takes "
              + at
              + "; the graph is damaged");
    }
    g.remove(call.name());

    Map<String, String> names = new LinkedHashMap<>();
    Set<String> taken = new java.util.HashSet<>();
    Map<String, Node> body = new HashMap<>();
    for (Node n : f.nodes()) {
      body.put(n.name(), n);
    }
    for (Node n : f.nodes()) {
      String want = prefix + n.name();
      String got = g.has(want) || taken.contains(want) ? uniqueAvoiding(g, want, taken) : want;
      names.put(n.name(), got);
      taken.add(got);
    }
    Resolver r = new Resolver(g, f, call, args, names, body);
    // Readers of the call are rewired before the body joins the graph: a body node may take the
    // call's name,
    // and its own inputs must not be caught by the rewiring.
    Map<String, String> rewire = new LinkedHashMap<>();
    int flat = 0;
    Set<String> resultNodes = new LinkedHashSet<>();
    for (ArgDef out : f.outputArgs()) {
      String ret = f.ret().get(out.name());
      if (ret == null) {
        throw new CorruptModelException(
            g.source()
                + ": function '"
                + f.name()
                + "' does not say which tensor is"
                + " its output '"
                + out.name()
                + "'; the library is damaged");
      }
      String resolved = r.resolve(null, ret);
      rewire.put(call.name() + ":" + flat, resolved);
      resultNodes.add(TensorRef.nodeOf(resolved));
      flat++;
    }
    for (String c : f.controlRet().values()) {
      if (names.containsKey(c)) {
        resultNodes.add(names.get(c));
      }
    }
    g.replaceAllUses(rewire);
    g.replaceControlUses(call.name(), resultNodes);

    List<Node> added = new ArrayList<>();
    for (Node n : f.nodes()) {
      List<String> ins = new ArrayList<>();
      for (String in : n.inputs()) {
        if (TensorRef.isControl(in)) {
          String src = in.substring(1);
          if (names.containsKey(src)) {
            ins.add("^" + names.get(src));
          } else if (args.containsKey(src)) {
            args.get(src).forEach(t -> ins.add("^" + TensorRef.nodeOf(t)));
          } else {
            throw r.missing(n, in);
          }
        } else {
          ins.add(r.resolve(n, in));
        }
      }
      if (ins.isEmpty()) {
        // A source node of the body still runs after the call's own control dependencies.
        ins.addAll(control);
      }
      Map<String, AttrValue> attrs = new LinkedHashMap<>();
      n.attrs().forEach((k, v) -> attrs.put(k, substitute(v, ref, g, call)));
      Node copy = new Node(names.get(n.name()), n.op(), List.of(), n.device(), attrs);
      copy.setInputs(ins);
      added.add(g.add(copy));
    }
    return added;
  }

  private static String uniqueAvoiding(Graph g, String want, Set<String> taken) {
    for (int i = 1; ; i++) {
      String n = want + "_" + i;
      if (!g.has(n) && !taken.contains(n)) {
        return n;
      }
    }
  }

  private static int argSize(FuncRef ref, ArgDef a, Node call, Graph g) {
    String key = a.numberAttr().isEmpty() ? a.typeListAttr() : a.numberAttr();
    AttrValue v = ref.attrs().get(key);
    if (v instanceof AttrValue.Int i) {
      return Math.toIntExact(i.value());
    }
    if (v instanceof AttrValue.ListAttr l) {
      return l.type().size();
    }
    throw new UnsupportedModelException(
        g.source()
            + ": node '"
            + call.name()
            + "' calls a function whose"
            + " argument '"
            + a.name()
            + "' is sized by attribute '"
            + key
            + "', which the call does not set");
  }

  /**
   * Resolves {@code placeholder} attributes of a polymorphic function with the call's attributes.
   */
  private static AttrValue substitute(AttrValue v, FuncRef ref, Graph g, Node call) {
    if (v instanceof AttrValue.Placeholder p) {
      AttrValue got = ref.attrs().get(p.name());
      if (got == null) {
        throw new UnsupportedModelException(
            g.source()
                + ": node '"
                + call.name()
                + "' calls function '"
                + ref.name()
                + "' without its attribute '"
                + p.name()
                + "'");
      }
      return got;
    }
    return v;
  }

  /** Turns body-form references ({@code arg}, {@code node:out:idx}) into graph-form ones. */
  private record Resolver(
      Graph g,
      GraphFunction f,
      Node call,
      Map<String, List<String>> args,
      Map<String, String> names,
      Map<String, Node> body) {
    String resolve(Node reader, String in) {
      String[] parts = in.split(":", -1);
      if (parts.length == 1) {
        if (args.containsKey(in)) {
          return args.get(in).get(0);
        }
        if (names.containsKey(in)) {
          return names.get(in);
        }
      } else if (parts.length == 2) {
        if (args.containsKey(parts[0]) && isIndex(parts[1])) {
          List<String> a = args.get(parts[0]);
          int i = Integer.parseInt(parts[1]);
          if (i < a.size()) {
            return a.get(i);
          }
        } else if (names.containsKey(parts[0]) && isIndex(parts[1])) {
          return TensorRef.of(names.get(parts[0]), Integer.parseInt(parts[1])).toString();
        }
      } else if (parts.length == 3 && names.containsKey(parts[0]) && isIndex(parts[2])) {
        Node src = body.get(parts[0]);
        int idx = g.outputIndex(src, parts[1], Integer.parseInt(parts[2]));
        return TensorRef.of(names.get(parts[0]), idx).toString();
      }
      throw missing(reader, in);
    }

    CorruptModelException missing(Node reader, String in) {
      return new CorruptModelException(
          g.source()
              + ": in function '"
              + f.name()
              + "', "
              + (reader == null ? "an output" : "node '" + reader.name() + "'")
              + " reads '"
              + in
              + "', which is neither an argument nor a node of the function; the library is damaged");
    }

    private static boolean isIndex(String s) {
      return !s.isEmpty() && s.length() < 10 && s.chars().allMatch(Character::isDigit);
    }
  }
}
