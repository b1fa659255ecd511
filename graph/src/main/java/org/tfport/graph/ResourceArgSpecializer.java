package org.tfport.graph;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.ArgDef;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.FuncRef;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;

/**
 * Copies of the functions of a {@code While}/{@code If} whose resource argument (a variable handle
 * passed in) becomes the variable's frozen value: the {@code ReadVariableOp}s on it become
 * identities, as TensorFlow's {@code convert_variables_to_constants_v2} does. {@link
 * VariableFreezer} decides which handles to replace.
 */
final class ResourceArgSpecializer {
  /**
   * Functional control flow: the attributes naming its functions, and where its data inputs start.
   */
  static final Map<String, List<String>> CONTROL_FLOW =
      Map.of(
          "While",
          List.of("cond", "body"),
          "StatelessWhile",
          List.of("cond", "body"),
          "If",
          List.of("then_branch", "else_branch"),
          "StatelessIf",
          List.of("then_branch", "else_branch"));

  static int firstDataInput(String op) {
    return op.endsWith("If") ? 1 : 0;
  }

  private final Graph g;

  ResourceArgSpecializer(Graph g) {
    this.g = g;
  }

  /**
   * Makes control-flow node {@code n} pass a value of {@code dtype} where it passed a resource at
   * argument {@code arg}: its type list and, for a loop, the output's shape, and copies of its
   * functions.
   */
  void specialize(Node n, int arg, int dtype, Node var, String source) {
    boolean loop = n.op().endsWith("While");
    String typesAttr = loop ? "T" : "Tin";
    if (n.attr(typesAttr) instanceof AttrValue.ListAttr l && arg < l.type().size()) {
      List<Integer> types = new ArrayList<>(l.type());
      types.set(arg, dtype);
      n.attr(
          typesAttr,
          new AttrValue.ListAttr(
              l.s(), l.i(), l.f(), l.b(), types, l.shape(), l.tensor(), l.func()));
    }
    if (loop
        && n.attr("output_shapes") instanceof AttrValue.ListAttr l
        && arg < l.shape().size()
        && var.attr("shape") instanceof AttrValue.Shape s) {
      List<TensorShape> shapes = new ArrayList<>(l.shape());
      shapes.set(arg, s.value());
      n.attr(
          "output_shapes",
          new AttrValue.ListAttr(
              l.s(), l.i(), l.f(), l.b(), l.type(), shapes, l.tensor(), l.func()));
    }
    for (String fnAttr : CONTROL_FLOW.get(n.op())) {
      if (!(n.attr(fnAttr) instanceof AttrValue.Func f)) {
        throw new UnsupportedModelException(
            source
                + ": node '"
                + n.name()
                + "' ("
                + n.op()
                + ") has no function"
                + " attribute '"
                + fnAttr
                + "'; the graph is damaged");
      }
      String copy =
          specializeFunction(
              f.value().name(), arg, dtype, loop && fnAttr.equals("body"), n, var, source);
      n.attr(fnAttr, new AttrValue.Func(new FuncRef(copy, f.value().attrs())));
    }
  }

  /**
   * A copy of function {@code name} whose input {@code arg} is a {@code dtype} value instead of a
   * resource.
   *
   * @param passesThrough a loop body, whose output {@code arg} hands the resource to the next
   *     iteration
   */
  private String specializeFunction(
      String name,
      int arg,
      int dtype,
      boolean passesThrough,
      Node caller,
      Node var,
      String source) {
    GraphFunction f = g.function(name);
    if (f == null) {
      throw new UnsupportedModelException(
          source
              + ": node '"
              + caller.name()
              + "' calls function '"
              + name
              + "', which the graph's library does not hold; the model is incomplete");
    }
    if (arg >= f.inputArgs().size()) {
      throw new UnsupportedModelException(
          source
              + ": node '"
              + caller.name()
              + "' passes more inputs than"
              + " function '"
              + name
              + "' takes; the graph is damaged");
    }
    String copyName = name + "_frozen";
    for (int i = 2; g.functions().containsKey(copyName); i++) {
      copyName = name + "_frozen_" + i;
    }
    List<ArgDef> inputs = new ArrayList<>(f.inputArgs());
    String argName = inputs.get(arg).name();
    inputs.set(arg, ArgDef.ofType(argName, dtype));
    List<Node> nodes = new ArrayList<>();
    for (Node n : f.nodes()) {
      nodes.add(n.copy());
    }
    // Resource-valued references inside the body, grown as identities pass the handle on.
    Set<String> handles = new java.util.HashSet<>();
    handles.add(argName);
    Map<String, String> renamed = new HashMap<>();
    boolean changed = true;
    Set<String> done = new java.util.HashSet<>();
    while (changed) {
      changed = false;
      for (Node n : nodes) {
        List<String> data = n.dataInputs();
        int first = CONTROL_FLOW.containsKey(n.op()) ? firstDataInput(n.op()) : 0;
        for (int k = 0; k < data.size(); k++) {
          if (!handles.contains(data.get(k)) || !done.add(n.name() + "#" + k)) {
            continue;
          }
          changed = true;
          switch (n.op()) {
            case "ReadVariableOp" -> {
              n.op("Identity");
              n.attrs().clear();
              n.attr("T", new AttrValue.Type(dtype));
              renamed.put(n.name() + ":value:0", n.name() + ":output:0");
            }
            case "Identity" -> {
              n.attr("T", new AttrValue.Type(dtype));
              handles.add(n.name() + ":output:0");
            }
            case "While", "StatelessWhile", "If", "StatelessIf" -> {
              if (k < first) {
                throw cannotFreeze(source, caller.name(), name, n);
              }
              specialize(n, k - first, dtype, var, source);
              if (n.op().endsWith("While")) {
                handles.add(n.name() + ":output:" + (k - first));
              }
            }
            default -> throw cannotFreeze(source, caller.name(), name, n);
          }
        }
      }
    }
    for (Node n : nodes) {
      List<String> ins = new ArrayList<>(n.inputs());
      ins.replaceAll(in -> renamed.getOrDefault(in, in));
      n.setInputs(ins);
    }
    Map<String, String> ret = new LinkedHashMap<>(f.ret());
    ret.replaceAll((k, v) -> renamed.getOrDefault(v, v));
    List<ArgDef> outputs = new ArrayList<>(f.outputArgs());
    for (int i = 0; i < outputs.size(); i++) {
      String from = ret.get(outputs.get(i).name());
      if (from != null && handles.contains(from)) {
        if (!passesThrough || i != arg) {
          throw new UnsupportedModelException(
              source
                  + ": function '"
                  + name
                  + "' returns the handle of a variable"
                  + " as output '"
                  + outputs.get(i).name()
                  + "'; tfport can only freeze variables that functions read;"
                  + " export a signature that does not return variables");
        }
        outputs.set(i, ArgDef.ofType(outputs.get(i).name(), dtype));
      }
    }
    g.functions()
        .put(
            copyName,
            new GraphFunction(
                copyName,
                inputs,
                outputs,
                nodes,
                ret,
                f.controlRet(),
                f.attrs(),
                f.argAttrs(),
                f.stateful()));
    return copyName;
  }

  private static UnsupportedModelException cannotFreeze(
      String source, String caller, String function, Node n) {
    return new UnsupportedModelException(
        source
            + ": node '"
            + n.name()
            + "' ("
            + n.op()
            + ") in function '"
            + function
            + "' (called by '"
            + caller
            + "') uses a variable in a way tfport cannot freeze (only reads);"
            + " export a signature that does not update or inspect variables");
  }
}
