package org.tfport.graph.keras;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.graph.ArgDef;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.FuncRef;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.core.graph.TensorShape;

/**
 * A recurrent layer over a time dimension known only at run time, as the loop Keras' {@code rnn}
 * runs in a graph: a {@code StatelessWhile} whose body reads step {@code t} of the time-major input
 * projections, computes one cell step (masked steps keep the previous state), and writes the output
 * into a TensorList that is stacked after the loop. The same ops TensorFlow's own Keras loops use,
 * so TF.js runs it and the TFLite lowering makes it a WHILE.
 */
final class RecurrentLoop {
  private static final int FLOAT = DataTypes.DT_FLOAT;
  private static final int INT32 = KT.INT32;
  private static final int VARIANT = DataTypes.DT_VARIANT;

  /**
   * TensorFlow's output argument names of the ops a step emits, so the body is a valid FunctionDef
   * for TensorFlow too (readers without op signatures go by the index alone).
   */
  private static final Map<String, String> OUT_ARG =
      Map.ofEntries(
          Map.entry("MatMul", "product"),
          Map.entry("AddV2", "z"),
          Map.entry("Sub", "z"),
          Map.entry("Mul", "z"),
          Map.entry("RealDiv", "z"),
          Map.entry("Maximum", "z"),
          Map.entry("Minimum", "z"),
          Map.entry("Less", "z"),
          Map.entry("Greater", "z"),
          Map.entry("Tanh", "y"),
          Map.entry("Sigmoid", "y"),
          Map.entry("Exp", "y"),
          Map.entry("Erf", "y"),
          Map.entry("ZerosLike", "y"),
          Map.entry("Cast", "y"),
          Map.entry("Relu", "activations"),
          Map.entry("Relu6", "activations"),
          Map.entry("Elu", "activations"),
          Map.entry("Selu", "activations"),
          Map.entry("Softplus", "activations"),
          Map.entry("Softsign", "activations"),
          Map.entry("LeakyRelu", "activations"),
          Map.entry("Softmax", "softmax"),
          Map.entry("LogSoftmax", "logsoftmax"),
          Map.entry("TensorListSetItem", "output_handle"));

  private RecurrentLoop() {}

  /** The loop's values: name, type, shape, and initial value in the layer's graph. */
  private record Var(String name, int type, TensorShape shape, String init) {}

  /**
   * Runs the cell over {@code xw} [N, T, gates·units] (the input projections, bias included).
   *
   * @param mask [N, T] float 0/1, or null
   * @return the last output, the last LSTM cell state (else null), and the outputs [N, T, units]
   *     (null unless {@code sequences})
   */
  static String[] run(
      Call c,
      RecurrentLayers.Cell cell,
      KT x,
      String xw,
      String mask,
      boolean backwards,
      boolean sequences) {
    Emit e = c.e;
    Graph g = e.g;
    int units = cell.units();
    long gu = (long) cell.gates() * units;
    String xs = e.transpose(xw, 1, 0, 2);
    if (backwards) {
      xs = reverseTime(e, xs);
    }
    String shape = e.raw("Shape", List.of(xs), Map.of("T", Emit.F32, "out_type", Emit.I32));
    String steps =
        e.raw(
            "StridedSlice",
            List.of(shape, e.ints("begin", 0), e.ints("end", 1), e.ints("strides", 1)),
            Emit.stridedAttrs(Emit.I32, 0, 0, 1));
    String dims =
        e.raw(
            "Pack",
            List.of(e.batchSize(x.ref()), e.intScalar(units)),
            Map.of("T", Emit.I32, "N", Emit.attr(2), "axis", Emit.attr(0)));
    String zeros =
        e.raw("Fill", List.of(dims, e.scalar(0f)), Map.of("T", Emit.F32, "index_type", Emit.I32));
    TensorShape state = TensorShape.of(-1, units);
    List<Var> vars = new ArrayList<>();
    vars.add(new Var("time", INT32, TensorShape.SCALAR, e.intScalar(0)));
    vars.add(new Var("steps", INT32, TensorShape.SCALAR, steps));
    String[] init = c.initialStates;
    vars.add(new Var("h", FLOAT, state, init != null ? init[0] : zeros));
    if (cell.lstm()) {
      vars.add(new Var("c", FLOAT, state, init != null ? init[1] : zeros));
    }
    String elementShape = e.ints("element_shape", -1, units);
    if (sequences) {
      String list =
          e.raw(
              "TensorListReserve",
              List.of(elementShape, steps),
              Map.of("element_dtype", Emit.F32, "shape_type", Emit.I32));
      vars.add(new Var("outputs", VARIANT, TensorShape.SCALAR, list));
    }
    vars.add(new Var("inputs", FLOAT, TensorShape.of(-1, -1, gu), xs));
    if (mask != null) {
      String ms = e.expandDims(e.transpose(mask, 1, 0), -1);
      if (backwards) {
        ms = reverseTime(e, ms);
      }
      vars.add(new Var("mask", FLOAT, TensorShape.of(-1, -1, 1), ms));
    }

    String base = g.uniqueName(e.scope() + "/while");
    String condName = functionName(g, base.replace('/', '_') + "_cond");
    String bodyName = functionName(g, base.replace('/', '_') + "_body");
    g.functions().put(condName, cond(g.source(), condName, vars));
    g.functions().put(bodyName, body(c, bodyName, cell, vars));

    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("T", AttrValue.ListAttr.ofTypes(vars.stream().map(Var::type).toList()));
    a.put("cond", new AttrValue.Func(FuncRef.of(condName)));
    a.put("body", new AttrValue.Func(FuncRef.of(bodyName)));
    a.put(
        "output_shapes",
        new AttrValue.ListAttr(
            List.of(),
            List.of(),
            List.of(),
            List.of(),
            List.of(),
            vars.stream().map(Var::shape).toList(),
            List.of(),
            List.of()));
    a.put("parallel_iterations", Emit.attr(10));
    g.add(new Node(base, "StatelessWhile", vars.stream().map(Var::init).toList(), "", a));

    String h = base + ":2";
    String cellState = cell.lstm() ? base + ":3" : null;
    String seq = null;
    if (sequences) {
      int k = cell.lstm() ? 4 : 3;
      String stacked =
          e.raw(
              "TensorListStack",
              List.of(base + ":" + k, elementShape),
              Map.of("element_dtype", Emit.F32, "num_elements", Emit.attr(-1)));
      seq = e.transpose(stacked, 1, 0, 2);
    }
    return new String[] {h, cellState, seq};
  }

  private static String reverseTime(Emit e, String x) {
    return e.raw(
        "ReverseV2", List.of(x, e.ints("axis", 0)), Map.of("T", Emit.F32, "Tidx", Emit.I32));
  }

  private static String functionName(Graph g, String want) {
    String name = want;
    for (int i = 1; g.functions().containsKey(name); i++) {
      name = want + "_" + i;
    }
    return name;
  }

  /** {@code time < steps}. */
  private static GraphFunction cond(String source, String name, List<Var> vars) {
    Graph fg = new Graph(source);
    List<String> args = arguments(fg, vars);
    String less =
        new Emit(fg, "while").raw("Less", List.of(args.get(0), args.get(1)), Map.of("T", Emit.I32));
    return function(
        name, fg, vars, List.of(ArgDef.ofType("output", KT.BOOL)), List.of(less + ":0"));
  }

  /** One step of the cell, as the loop's body: every loop value in, the next ones out. */
  private static GraphFunction body(
      Call c, String name, RecurrentLayers.Cell cell, List<Var> vars) {
    Graph fg = new Graph(c.source());
    List<String> args = arguments(fg, vars);
    Map<String, String> arg = new LinkedHashMap<>();
    for (int i = 0; i < vars.size(); i++) {
      arg.put(vars.get(i).name(), args.get(i));
    }
    Emit e = new Emit(fg, "while");
    Call in = c.emitting(e);
    String time = arg.get("time");
    String xt = gather(e, arg.get("inputs"), time);
    RecurrentLayers.CellNodes w = RecurrentLayers.CellNodes.of(e, cell);
    String h = arg.get("h");
    String cellState = arg.get("c");
    String[] next = RecurrentLayers.step(in, cell, w, xt, h, cellState);
    if (arg.containsKey("mask")) {
      String m = gather(e, arg.get("mask"), time);
      String notM = e.binary("Sub", w.one(), m);
      next[0] = RecurrentLayers.keep(e, next[0], h, m, notM);
      next[1] = RecurrentLayers.keep(e, next[1], cellState, m, notM);
    }
    Map<String, String> out = new LinkedHashMap<>();
    out.put("time", e.raw("AddV2", List.of(time, e.intScalar(1)), Map.of("T", Emit.I32)));
    out.put("h", next[0]);
    if (cellState != null) {
      out.put("c", next[1]);
    }
    if (arg.containsKey("outputs")) {
      out.put(
          "outputs",
          e.raw(
              "TensorListSetItem",
              List.of(arg.get("outputs"), time, next[0]),
              Map.of("element_dtype", Emit.F32)));
    }
    List<ArgDef> outArgs = new ArrayList<>();
    List<String> rets = new ArrayList<>();
    for (Var v : vars) {
      String r = out.get(v.name());
      if (r == null) {
        // Loop-invariant values pass through, as TensorFlow's loops pass them.
        r = e.raw("Identity", List.of(arg.get(v.name())), Map.of("T", Emit.type(v.type())));
      }
      outArgs.add(ArgDef.ofType(v.name() + "_next", v.type()));
      rets.add(r);
    }
    return function(name, fg, vars, outArgs, rets);
  }

  private static String gather(Emit e, String params, String index) {
    return e.raw(
        "GatherV2",
        List.of(params, index, e.intScalar(0)),
        Map.of(
            "Tparams", Emit.F32,
            "Tindices", Emit.I32,
            "Taxis", Emit.I32,
            "batch_dims", Emit.attr(0)));
  }

  /** One placeholder per loop value, standing for the function's argument of that name. */
  private static List<String> arguments(Graph fg, List<Var> vars) {
    List<String> out = new ArrayList<>();
    for (Var v : vars) {
      Map<String, AttrValue> a = new LinkedHashMap<>();
      a.put("dtype", Emit.type(v.type()));
      fg.add(new Node(v.name(), "Placeholder", List.of(), "", a));
      out.add(v.name());
    }
    return out;
  }

  /**
   * The body graph {@code fg} in function form: its placeholders are the arguments, references
   * become {@code node:out_arg:idx}.
   */
  private static GraphFunction function(
      String name, Graph fg, List<Var> vars, List<ArgDef> outArgs, List<String> rets) {
    List<ArgDef> inArgs = new ArrayList<>();
    java.util.Set<String> argNames = new java.util.HashSet<>();
    for (Var v : vars) {
      inArgs.add(ArgDef.ofType(v.name(), v.type()));
      argNames.add(v.name());
    }
    List<Node> nodes = new ArrayList<>();
    for (Node n : fg.nodes()) {
      if (argNames.contains(n.name())) {
        continue;
      }
      Node copy = n.copy();
      copy.setInputs(n.inputs().stream().map(i -> functionRef(fg, i, argNames)).toList());
      nodes.add(copy);
    }
    Map<String, String> ret = new LinkedHashMap<>();
    for (int i = 0; i < outArgs.size(); i++) {
      ret.put(outArgs.get(i).name(), functionRef(fg, rets.get(i), argNames));
    }
    return new GraphFunction(
        name, inArgs, outArgs, nodes, ret, Map.of(), Map.of(), Map.of(), false);
  }

  private static String functionRef(Graph fg, String ref, java.util.Set<String> args) {
    TensorRef r = TensorRef.parse(ref);
    if (r.control()) {
      return "^" + r.node();
    }
    if (args.contains(r.node())) {
      return r.node();
    }
    String op = fg.node(r.node()).op();
    return r.node() + ":" + OUT_ARG.getOrDefault(op, "output") + ":" + r.index();
  }
}
