package org.tfport.runtime;

import static java.util.Map.entry;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.ArgDef;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.FuncRef;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;

/**
 * Library functions in graph form, so the planner compiles a loop body or a branch exactly like a
 * model graph: one placeholder per argument, body references rewritten from {@code
 * node:out_arg:idx} to {@code node:k}, and the results as the graph's outputs.
 */
final class FunctionBodies {
  /**
   * An instantiated function.
   *
   * @param inputs the placeholder of each argument, in argument order
   * @param outputs the tensor of each result, in result order
   * @param targets nodes run for their effect (control results and stateful ops TensorFlow keeps in
   *     a body)
   */
  record Body(Graph graph, List<String> inputs, List<String> outputs, List<String> targets) {}

  /**
   * Output argument names of multi-output ops, each one tensor, for bodies whose file declares no
   * op signatures. Ops with one output argument (a single tensor or a list such as Unpack's {@code
   * output}) need no entry: the element index is the flat index.
   */
  private static final Map<String, List<String>> OUTPUT_ARGS =
      Map.ofEntries(
          entry("TopKV2", List.of("values", "indices")),
          entry("TopK", List.of("values", "indices")),
          entry("Unique", List.of("y", "idx")),
          entry("UniqueV2", List.of("y", "idx")),
          entry("UniqueWithCounts", List.of("y", "idx", "count")),
          entry("ListDiff", List.of("out", "idx")),
          entry(
              "FusedBatchNorm",
              List.of("y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2")),
          entry(
              "FusedBatchNormV2",
              List.of("y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2")),
          entry(
              "FusedBatchNormV3",
              List.of(
                  "y",
                  "batch_mean",
                  "batch_variance",
                  "reserve_space_1",
                  "reserve_space_2",
                  "reserve_space_3")),
          entry("TensorListPopBack", List.of("output_handle", "tensor")),
          entry("TensorListConcat", List.of("tensor", "lengths")),
          entry("TensorListConcatV2", List.of("tensor", "lengths")),
          entry("Switch", List.of("output_false", "output_true")),
          entry("Merge", List.of("output", "value_index")),
          entry("MaxPoolWithArgmax", List.of("output", "argmax")),
          entry("NonMaxSuppressionV4", List.of("selected_indices", "valid_outputs")),
          entry(
              "NonMaxSuppressionV5",
              List.of("selected_indices", "selected_scores", "valid_outputs")),
          entry("BroadcastGradientArgs", List.of("r0", "r1")),
          entry("LookupTableExportV2", List.of("keys", "values")),
          entry("Qr", List.of("q", "r")),
          entry("Svd", List.of("s", "u", "v")),
          entry("SelfAdjointEigV2", List.of("e", "v")),
          entry("StringSplitV2", List.of("indices", "values", "shape")),
          entry("StringSplit", List.of("indices", "values", "shape")),
          entry("SparseReshape", List.of("output_indices", "output_shape")),
          entry("TensorArrayV3", List.of("handle", "flow")),
          entry("TensorArrayConcatV3", List.of("value", "lengths")));

  /**
   * Stateful ops a function body runs even when no result depends on them, as TensorFlow's function
   * runtime keeps them; an unconnected {@code Assert} still checks.
   */
  private static final Set<String> KEPT_FOR_EFFECT =
      Set.of(
          "Assert",
          "Print",
          "PrintV2",
          "LookupTableInsert",
          "LookupTableInsertV2",
          "LookupTableImport",
          "LookupTableImportV2",
          "InitializeTable",
          "InitializeTableV2",
          "LookupTableRemoveV2",
          "AssignVariableOp",
          "AssignAddVariableOp",
          "AssignSubVariableOp",
          "Assign",
          "AssignAdd",
          "AssignSub");

  private FunctionBodies() {}

  /** The function {@code ref} names, instantiated with its attributes. */
  static Body instantiate(Graph owner, FuncRef ref) {
    GraphFunction f = owner.function(ref.name());
    if (f == null) {
      throw new UnsupportedModelException(
          owner.source()
              + ": function '"
              + ref.name()
              + "' is not in the graph's library; the model is incomplete");
    }
    String where = owner.source() + ": function '" + f.name() + "'";
    Set<String> bodyNames = new HashSet<>();
    f.nodes().forEach(n -> bodyNames.add(n.name()));
    Graph g = new Graph(owner.source());
    g.functions().putAll(owner.functions());
    g.ops().putAll(owner.ops());

    // Arguments and body nodes live in separate namespaces in a FunctionDef, so a placeholder may
    // need a new name.
    Map<String, String> placeholderOf = new LinkedHashMap<>();
    List<String> inputs = new ArrayList<>();
    for (ArgDef a : f.inputArgs()) {
      if (!a.numberAttr().isEmpty() || !a.typeListAttr().isEmpty()) {
        throw new UnsupportedModelException(
            where
                + " takes the list argument '"
                + a.name()
                + "'; tfport runs functions whose arguments are single tensors");
      }
      String name = a.name();
      for (int k = 1; bodyNames.contains(name) || g.has(name); k++) {
        name = a.name() + "_arg" + k;
      }
      Map<String, AttrValue> attrs = new LinkedHashMap<>();
      int type =
          a.type() != 0
              ? a.type()
              : ref.attrs().get(a.typeAttr()) instanceof AttrValue.Type t ? t.value() : 0;
      if (type != 0) {
        attrs.put("dtype", new AttrValue.Type(type));
      }
      int index = inputs.size();
      if (f.argAttrs().getOrDefault(index, Map.of()).get("_output_shapes")
              instanceof AttrValue.ListAttr l
          && l.shape().size() == 1) {
        attrs.put("shape", new AttrValue.Shape(l.shape().get(0)));
      }
      g.add(new Node(name, "Placeholder", List.of(), "", attrs));
      placeholderOf.put(a.name(), name);
      inputs.add(name);
    }
    g.inputs().addAll(inputs);

    Map<String, Node> originals = new LinkedHashMap<>();
    for (Node n : f.nodes()) {
      originals.put(n.name(), n);
    }
    List<String> targets = new ArrayList<>();
    for (Node n : f.nodes()) {
      Node c =
          new Node(n.name(), n.op(), List.of(), n.device(), substitute(n.attrs(), ref, where, n));
      List<String> ins = new ArrayList<>();
      for (String in : n.inputs()) {
        ins.add(graphRef(in, placeholderOf, originals, owner, where));
      }
      c.setInputs(ins);
      g.add(c);
      if (KEPT_FOR_EFFECT.contains(n.op())) {
        targets.add(n.name());
      }
    }
    List<String> outputs = new ArrayList<>();
    for (ArgDef out : f.outputArgs()) {
      String r = f.ret().get(out.name());
      if (r == null) {
        throw new CorruptModelException(
            where + " has no value for its result '" + out.name() + "'");
      }
      outputs.add(graphRef(r, placeholderOf, originals, owner, where));
    }
    g.outputs().addAll(outputs);
    for (String node : f.controlRet().values()) {
      if (!targets.contains(node)) {
        targets.add(node);
      }
    }
    return new Body(g, inputs, outputs, targets);
  }

  /** Fills in attributes the body takes from the call ({@code T: {placeholder: "T"}}). */
  private static Map<String, AttrValue> substitute(
      Map<String, AttrValue> attrs, FuncRef ref, String where, Node n) {
    Map<String, AttrValue> out = new LinkedHashMap<>(attrs);
    for (Map.Entry<String, AttrValue> e : out.entrySet()) {
      if (e.getValue() instanceof AttrValue.Placeholder p) {
        AttrValue v = ref.attrs().get(p.name());
        if (v == null) {
          throw new UnsupportedModelException(
              where
                  + ": node '"
                  + n.name()
                  + "' takes its attribute '"
                  + e.getKey()
                  + "' from the call's '"
                  + p.name()
                  + "', which the call does not set");
        }
        e.setValue(v);
      }
    }
    return out;
  }

  /** A body reference ({@code arg}, {@code node:out_arg:idx}, {@code ^node}) in graph form. */
  private static String graphRef(
      String in,
      Map<String, String> placeholderOf,
      Map<String, Node> nodes,
      Graph owner,
      String where) {
    if (in.startsWith("^")) {
      String name = in.substring(1);
      return "^" + placeholderOf.getOrDefault(name, name);
    }
    String[] parts = in.split(":", -1);
    if (parts.length == 1 || parts.length == 2 && placeholderOf.containsKey(parts[0])) {
      if (placeholderOf.containsKey(parts[0])) {
        if (parts.length == 2 && !parts[1].equals("0")) {
          throw new UnsupportedModelException(
              where
                  + " reads '"
                  + in
                  + "', an element of a list argument;"
                  + " tfport runs functions whose arguments are single tensors");
        }
        return placeholderOf.get(parts[0]);
      }
      return in;
    }
    if (parts.length == 2) {
      return in; // already graph form (node:k)
    }
    Node src = nodes.get(parts[0]);
    if (src == null || parts.length != 3 || !isIndex(parts[2])) {
      throw new CorruptModelException(
          where + " reads '" + in + "', which names no node of its body");
    }
    return parts[0] + ":" + outputIndex(owner, src, parts[1], Integer.parseInt(parts[2]), where);
  }

  /**
   * The flat output index of {@code node:arg:idx}: the declared signature, else the table, else one
   * output argument.
   */
  static int outputIndex(Graph owner, Node node, String arg, int idx, String where) {
    if (owner.outputArgs(node) != null) {
      return owner.outputIndex(node, arg, idx);
    }
    List<String> args = OUTPUT_ARGS.get(node.op());
    if (args == null) {
      return idx;
    }
    int k = args.indexOf(arg);
    if (k < 0 || idx != 0) {
      throw new CorruptModelException(
          where
              + ": node '"
              + node.name()
              + "' ("
              + node.op()
              + ") has no output '"
              + arg
              + ":"
              + idx
              + "'; its outputs are "
              + args);
    }
    return k;
  }

  private static boolean isIndex(String s) {
    return !s.isEmpty() && s.length() < 10 && s.chars().allMatch(Character::isDigit);
  }

  /** The shape a placeholder declares, as the planner's static shape (null for an unknown rank). */
  static long[] declaredShape(Node placeholder) {
    if (placeholder.attr("shape") instanceof AttrValue.Shape s && !s.value().unknownRank()) {
      return s.value().dims();
    }
    return null;
  }
}
