package org.tfport.graph.stablehlo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.graph.ArgDef;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.FuncRef;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.core.graph.TensorShape;
import org.tfport.formats.stablehlo.Arg;
import org.tfport.formats.stablehlo.Attr;
import org.tfport.formats.stablehlo.Func;
import org.tfport.formats.stablehlo.Op;
import org.tfport.formats.stablehlo.Region;
import org.tfport.graph.stablehlo.Lowerer.Refusal;
import org.tfport.graph.stablehlo.Lowerer.V;

/**
 * Calls (inlined), custom calls tfport knows, and {@code while}/{@code if}/{@code case} as the IR's
 * {@code While}/{@code If}/{@code Case} over library functions; values a region reads from outside
 * become extra arguments (carried unchanged through a loop).
 */
final class Control {
  private Control() {}

  static final Set<String> NAMES =
      Set.of(
          "func.call",
          "stablehlo.custom_call",
          "stablehlo.while",
          "stablehlo.if",
          "stablehlo.case",
          "stablehlo.optimization_barrier");

  /** Custom calls that only annotate placement or sharding: their operands pass through. */
  private static final Set<String> PASS_THROUGH =
      Set.of(
          "annotate_device_placement",
          "Sharding",
          "SPMDFullToShardShape",
          "SPMDShardToFullShape",
          "MoveToHost",
          "MoveToDevice",
          "mhlo.sharding");

  /** jax2tf's call of a TensorFlow function of the enclosing {@code XlaCallModule}'s library. */
  static final String CALL_TF = "tf.call_tf_function";

  static List<V> lower(Lowerer l, Op op, List<V> ins) {
    return switch (op.name()) {
      case "func.call" -> call(l, op, ins);
      case "stablehlo.custom_call" -> customCall(l, op, ins);
      case "stablehlo.optimization_barrier" -> ins.stream().map(l::identity).toList();
      case "stablehlo.while" -> whileLoop(l, op, ins);
      case "stablehlo.if" -> branches(l, op, ins, true);
      default -> branches(l, op, ins, false);
    };
  }

  private static List<V> call(Lowerer l, Op op, List<V> ins) {
    String callee = ((Attr.SymAttr) op.attr("callee")).name();
    Func f =
        l.module
            .func(callee)
            .orElseThrow(() -> new Refusal("calls @" + callee + ", which the module lacks"));
    if (f.args().size() != ins.size()) {
      throw new Refusal(
          "passes " + ins.size() + " values to @" + callee + ", which takes " + f.args().size());
    }
    Lowerer inner = l.inlined();
    for (int i = 0; i < ins.size(); i++) {
      inner.env.put(f.args().get(i).name(), ins.get(i));
    }
    int before = l.refusals.size();
    List<V> outs = inner.lowerOps(f.body());
    l.current = op;
    if (l.refusals.size() > before || outs.contains(null)) {
      throw new Refusal("calls @" + callee + ", which does not lower (see its ops)");
    }
    return outs;
  }

  /** Refuses a custom call whose target tfport does not know. */
  static void checkTarget(Op op) {
    String target = callTarget(op);
    if (target == null) {
      throw new Refusal(
          "custom_call has no call_target_name string: the module is damaged; export it again");
    }
    if (!target.startsWith("check.")
        && !target.equals("shape_assertion")
        && !target.equals(ShapeRefinement.OPERAND_WRAPPER)
        && !PASS_THROUGH.contains(target)
        && !target.equals("stablehlo.dynamic_top_k")
        && !target.equals(CALL_TF)) {
      throw new Refusal(
          "custom_call @" + target + " has no lowering (only JAX's known targets do)");
    }
  }

  /** A custom call's target, or null when the op has no call_target_name string. */
  static String callTarget(Op op) {
    return op.attr("call_target_name") instanceof Attr.StrAttr s ? s.value() : null;
  }

  private static List<V> customCall(Lowerer l, Op op, List<V> ins) {
    checkTarget(op);
    String target = callTarget(op);
    if (target.startsWith("check.")) {
      l.checks.add(new Lowerer.Check(target, ins, op));
      return List.of();
    }
    if (target.equals("shape_assertion")) {
      // JAX's check that symbolic dimensions fit the inputs; the runtime checks shapes itself.
      return List.of();
    }
    if (PASS_THROUGH.contains(target) && ins.size() == op.results().size()) {
      return ins.stream().map(l::identity).toList();
    }
    if (target.equals(CALL_TF)) {
      return callTf(l, op, ins);
    }
    if (target.equals("stablehlo.dynamic_top_k") && ins.size() == 2) {
      V x = ins.get(0);
      V k = l.cast(l.reshape(ins.get(1), new long[0]), DType.INT32);
      V values = l.resultLike(op, 0);
      V indices = l.resultLike(op, 1);
      String topk =
          l.node(
              "TopKV2",
              List.of(x.ref(), k.ref()),
              "T",
              Lowerer.type(x.dtype()),
              "sorted",
              Lowerer.b(true),
              "Tk",
              Lowerer.type(DType.INT32),
              "index_type",
              Lowerer.type(DType.INT32));
      V v = new V(topk + ":0", values.dtype(), values.shape());
      V i = new V(topk + ":1", DType.INT32, indices.shape());
      return List.of(v, l.cast(i, indices.dtype()));
    }
    throw new Refusal("custom_call @" + target + " has no lowering (only JAX's known targets do)");
  }

  /**
   * A {@code tf.call_tf_function} custom call: {@code tf.backend_config.called_index} picks the
   * function of the {@code XlaCallModule}'s {@code function_list}; it becomes a {@code
   * PartitionedCall} that the graph loader inlines.
   */
  private static List<V> callTf(Lowerer l, Op op, List<V> ins) {
    if (!(op.attr("tf.backend_config") instanceof Attr.DictAttr config)
        || !(config.entries().get("called_index") instanceof Attr.IntAttr index)) {
      throw new Refusal(
          "custom_call @" + CALL_TF + " without tf.backend_config.called_index (damaged module?)");
    }
    if (config.entries().get("has_token_input_output") instanceof Attr.BoolAttr t && t.value()) {
      throw new Refusal(
          "custom_call @"
              + CALL_TF
              + " with has_token_input_output (an ordered effect) is not"
              + " supported; convert the function without ordered effects");
    }
    if (l.tfFunctions.isEmpty()) {
      throw new Refusal(
          "custom_call @"
              + CALL_TF
              + " calls a TensorFlow function, which only a jax2tf SavedModel or GraphDef holds;"
              + " convert that model instead");
    }
    if (index.value() < 0 || index.value() >= l.tfFunctions.size()) {
      throw new Refusal(
          "custom_call @"
              + CALL_TF
              + " calls function "
              + index.value()
              + " of a function_list of "
              + l.tfFunctions.size());
    }
    List<V> outTypes = new ArrayList<>();
    for (int k = 0; k < op.results().size(); k++) {
      outTypes.add(l.resultLike(op, k));
    }
    String call =
        l.node(
            "PartitionedCall",
            ins.stream().map(V::ref).toList(),
            "Tin",
            typeList(ins),
            "Tout",
            typeList(outTypes),
            "f",
            func(l.tfFunctions.get((int) index.value())));
    List<V> outs = new ArrayList<>();
    for (int k = 0; k < outTypes.size(); k++) {
      outs.add(new V(call + ":" + k, outTypes.get(k).dtype(), outTypes.get(k).shape()));
    }
    return outs;
  }

  private static List<V> whileLoop(Lowerer l, Op op, List<V> ins) {
    Region cond = op.regions().get(0);
    Region body = op.regions().get(1);
    List<String> captured = captured(l, List.of(cond, body));
    List<V> carried = new ArrayList<>(ins);
    List<String> params = new ArrayList<>();
    for (Arg a : body.args()) {
      params.add(a.name());
    }
    for (String c : captured) {
      carried.add(l.lookup(c));
      params.add(c);
    }
    List<String> condParams = new ArrayList<>();
    cond.args().forEach(a -> condParams.add(a.name()));
    condParams.addAll(captured);
    String base = l.uniqueFunction("while");
    String condFn = function(l, base + "_cond", cond, condParams, carried, 0);
    String bodyFn = function(l, base + "_body", body, params, carried, captured.size());
    List<String> refs = carried.stream().map(V::ref).toList();
    String w =
        l.node(
            "While",
            refs,
            "T",
            typeList(carried),
            "cond",
            func(condFn),
            "body",
            func(bodyFn),
            "output_shapes",
            shapeList(carried),
            "parallel_iterations",
            Lowerer.i(10),
            "_num_original_outputs",
            Lowerer.i(carried.size()));
    List<V> outs = new ArrayList<>();
    for (int k = 0; k < ins.size(); k++) {
      outs.add(new V(w + ":" + k, ins.get(k).dtype(), ins.get(k).shape()));
    }
    return outs;
  }

  /** {@code if} (pred, then, else) and {@code case} (index, branches...). */
  private static List<V> branches(Lowerer l, Op op, List<V> ins, boolean isIf) {
    List<String> captured = captured(l, op.regions());
    List<V> args = new ArrayList<>();
    for (String c : captured) {
      args.add(l.lookup(c));
    }
    String base = l.uniqueFunction(isIf ? "if" : "case");
    List<AttrValue.Func> fns = new ArrayList<>();
    for (int k = 0; k < op.regions().size(); k++) {
      fns.add(func(function(l, base + "_branch" + k, op.regions().get(k), captured, args, -1)));
    }
    List<V> outTypes = new ArrayList<>();
    for (int k = 0; k < op.results().size(); k++) {
      outTypes.add(l.resultLike(op, k));
    }
    List<String> refs = new ArrayList<>();
    refs.add(isIf ? ins.get(0).ref() : l.cast(ins.get(0), DType.INT32).ref());
    args.forEach(a -> refs.add(a.ref()));
    String node;
    if (isIf) {
      node =
          l.node(
              "If",
              refs,
              "Tcond",
              Lowerer.type(DType.BOOL),
              "Tin",
              typeList(args),
              "Tout",
              typeList(outTypes),
              "then_branch",
              fns.get(0),
              "else_branch",
              fns.get(1),
              "output_shapes",
              shapeList(outTypes));
    } else {
      node =
          l.node(
              "Case",
              refs,
              "Tin",
              typeList(args),
              "Tout",
              typeList(outTypes),
              "branches",
              new AttrValue.ListAttr(
                  List.of(),
                  List.of(),
                  List.of(),
                  List.of(),
                  List.of(),
                  List.of(),
                  List.of(),
                  fns.stream().map(AttrValue.Func::value).toList()),
              "output_shapes",
              shapeList(outTypes));
    }
    List<V> outs = new ArrayList<>();
    for (int k = 0; k < outTypes.size(); k++) {
      outs.add(new V(node + ":" + k, outTypes.get(k).dtype(), outTypes.get(k).shape()));
    }
    return outs;
  }

  /**
   * Lowers {@code region} into a library function of the root graph taking {@code params} (bound to
   * values typed as {@code types}); a loop body also returns its last {@code passThrough}
   * parameters unchanged. Returns the function's name.
   */
  private static String function(
      Lowerer l, String name, Region region, List<String> params, List<V> types, int passThrough) {
    Graph sub = new Graph(l.g.source());
    Lowerer inner = l.child(sub);
    Map<String, String> argOf = new LinkedHashMap<>();
    List<ArgDef> inArgs = new ArrayList<>();
    for (int k = 0; k < params.size(); k++) {
      V t = types.get(k);
      String arg = "arg" + k;
      Node p =
          new Node(
              sub.uniqueName(arg),
              "Placeholder",
              new ArrayList<>(),
              "",
              new LinkedHashMap<>(
                  Map.of(
                      "dtype",
                      Lowerer.type(t.dtype()),
                      "shape",
                      new AttrValue.Shape(TensorShape.of(t.shape())))));
      sub.add(p);
      argOf.put(p.name(), arg);
      inArgs.add(ArgDef.ofType(arg, t.dtype().tfEnum()));
      inner.env.put(params.get(k), new V(p.name(), t.dtype(), t.shape()));
    }
    int before = l.refusals.size();
    List<V> outs = new ArrayList<>(inner.lowerOps(region));
    if (passThrough > 0) {
      for (int k = params.size() - passThrough; k < params.size(); k++) {
        outs.add(inner.env.get(params.get(k)));
      }
    }
    if (l.refusals.size() > before || outs.contains(null)) {
      throw new Refusal("its region does not lower (see its ops)");
    }
    List<Node> nodes = new ArrayList<>();
    for (Node n : sub.nodes()) {
      if (argOf.containsKey(n.name())) {
        continue;
      }
      List<String> inputs = new ArrayList<>();
      for (String in : n.inputs()) {
        inputs.add(functionRef(in, argOf));
      }
      n.setInputs(inputs);
      nodes.add(n);
    }
    List<ArgDef> outArgs = new ArrayList<>();
    Map<String, String> ret = new LinkedHashMap<>();
    for (int k = 0; k < outs.size(); k++) {
      String out = "output_" + k;
      outArgs.add(ArgDef.ofType(out, outs.get(k).dtype().tfEnum()));
      ret.put(out, functionRef(outs.get(k).ref(), argOf));
    }
    l.root
        .functions()
        .put(
            name,
            new GraphFunction(
                name, inArgs, outArgs, nodes, ret, Map.of(), Map.of(), Map.of(), false));
    return name;
  }

  private static String functionRef(String ref, Map<String, String> argOf) {
    if (ref.startsWith("^")) {
      return ref;
    }
    TensorRef r = TensorRef.parse(ref);
    if (argOf.containsKey(r.node())) {
      return argOf.get(r.node());
    }
    return r.node() + ":output:" + r.index();
  }

  /** Values the regions read that are defined outside them, in order of first use. */
  static List<String> captured(Lowerer l, List<Region> regions) {
    Set<String> defined = new LinkedHashSet<>();
    Set<String> used = new LinkedHashSet<>();
    for (Region r : regions) {
      walk(r, defined, used);
    }
    List<String> out = new ArrayList<>();
    for (String u : used) {
      if (!defined.contains(u)) {
        if (l.lookup(u) == null) {
          throw new Refusal("its region reads " + u + ", which is not available");
        }
        out.add(u);
      }
    }
    return out;
  }

  private static void walk(Region r, Set<String> defined, Set<String> used) {
    r.args().forEach(a -> defined.add(a.name()));
    for (Op op : r.ops()) {
      used.addAll(op.operands());
      for (Region inner : op.regions()) {
        walk(inner, defined, used);
      }
      defined.addAll(op.results());
      for (String res : op.results()) {
        int hash = res.indexOf('#');
        if (hash > 0) {
          defined.add(res.substring(0, hash));
        }
      }
    }
  }

  private static AttrValue.Func func(String name) {
    return new AttrValue.Func(FuncRef.of(name));
  }

  private static AttrValue typeList(List<V> vs) {
    return AttrValue.ListAttr.ofTypes(vs.stream().map(v -> v.dtype().tfEnum()).toList());
  }

  private static AttrValue shapeList(List<V> vs) {
    return new AttrValue.ListAttr(
        List.of(),
        List.of(),
        List.of(),
        List.of(),
        List.of(),
        vs.stream().map(v -> TensorShape.of(v.shape())).toList(),
        List.of(),
        List.of());
  }
}
