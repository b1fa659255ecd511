package org.tfport.graph.stablehlo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.FuncRef;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.core.graph.TensorShape;
import org.tfport.core.graph.TensorValue;
import org.tfport.formats.mlir.XlaCallModule;
import org.tfport.formats.stablehlo.Func;
import org.tfport.formats.stablehlo.MlirType;
import org.tfport.formats.stablehlo.StableHloModule;
import org.tfport.formats.stablehlo.StableHloText;

/**
 * Replaces each jax2tf {@code XlaCallModule} node of a graph by its StableHLO module lowered to
 * TensorFlow ops, so that a jax2tf SavedModel or GraphDef runs and converts like any other graph.
 *
 * <p>The module's {@code main} takes, as TensorFlow's XlaCallModule kernel defines it, first the
 * platform index (op version 3 and later, when {@code platforms} lists more than one), then one
 * scalar per {@code dim_args_spec} entry ({@code "A.D"}: dimension D of array argument A), then the
 * node's inputs. {@code tf.call_tf_function} custom calls become {@code PartitionedCall}s of the
 * node's {@code function_list}, for the loader to inline; {@code XlaSharding} annotations become
 * {@code Identity}.
 */
public final class XlaCallModules {
  /** Version 1 held MHLO, which TensorFlow itself no longer reads. */
  static final int MIN_VERSION = 2;

  /** The newest calling convention tfport knows (JAX emits 9 and 10 today). */
  static final int MAX_VERSION = 10;

  private static final int VERSION_PLATFORMS = 3;

  /** The platform tfport's runtime stands for when a module was lowered for several. */
  private static final String PLATFORM = "CPU";

  private XlaCallModules() {}

  /** Whether the graph holds an {@code XlaCallModule} node (its library functions aside). */
  public static boolean present(Graph g) {
    return g.nodes().stream().anyMatch(n -> n.op().equals(XlaCallModule.OP));
  }

  /**
   * Expands every {@code XlaCallModule} node of {@code g}'s top level.
   *
   * @return the {@code PartitionedCall} nodes added for {@code tf.call_tf_function}, to be inlined
   * @throws UnsupportedModelException naming the node and every op of its module that does not
   *     lower
   * @throws CorruptModelException when the module does not fit the node ({@code Tout}, {@code
   *     Sout}, argument counts)
   */
  public static List<String> expand(Graph g) {
    List<String> calls = new ArrayList<>();
    for (Node n : List.copyOf(g.nodes())) {
      if (n.op().equals("XlaSharding")) {
        // A sharding annotation: the value passes through.
        AttrValue t = n.attr("T");
        n.op("Identity");
        n.attrs().clear();
        if (t != null) {
          n.attrs().put("T", t);
        }
      }
    }
    for (Node n : List.copyOf(g.nodes())) {
      if (n.op().equals(XlaCallModule.OP)) {
        calls.addAll(expand(g, n));
      }
    }
    return calls;
  }

  private static List<String> expand(Graph g, Node node) {
    XlaCallModule x = XlaCallModule.of(node, g.source());
    String where = g.source() + ": node " + node.name() + " (" + XlaCallModule.OP + ")";
    if (x.version() < MIN_VERSION || x.version() > MAX_VERSION) {
      throw new UnsupportedModelException(
          where
              + " has version "
              + x.version()
              + "; tfport reads versions "
              + MIN_VERSION
              + " to "
              + MAX_VERSION
              + " (re-export the model with a JAX of this decade)");
    }
    if (x.hasTokenInputOutput()) {
      throw new UnsupportedModelException(
          where
              + " threads a token (has_token_input_output: ordered effects such as"
              + " host callbacks); convert the function without ordered effects");
    }
    StableHloModule module = StableHloText.parse(x.text(), where + " module");
    Func main =
        module
            .func("main")
            .orElseThrow(() -> new CorruptModelException(where + ": its module has no @main"));
    List<String> inputs = node.dataInputs();
    // JAX marks the platform index argument (jax.global_constant); older modules have it exactly
    // when they were lowered for several platforms.
    boolean marked =
        !main.args().isEmpty() && "_platform_index".equals(main.args().get(0).globalConstant());
    int nrPlatform =
        marked || (x.version() >= VERSION_PLATFORMS && x.platforms().size() > 1) ? 1 : 0;
    int nrDim = x.dimArgsSpec().size();
    if (main.args().size() != nrPlatform + nrDim + inputs.size()) {
      throw new CorruptModelException(
          where
              + " has "
              + inputs.size()
              + " inputs, but its module's @main takes "
              + main.args().size()
              + " arguments of which "
              + nrPlatform
              + " platform index and "
              + nrDim
              + " dimension arguments");
    }
    checkResults(x, main, where);

    StableHloLowering.Lowered lowered;
    try {
      lowered =
          StableHloLowering.lower(
              module, main, x.functionList(), staticShapes(g, main, inputs, nrPlatform + nrDim));
    } catch (UnsupportedModelException e) {
      throw new UnsupportedModelException(where + ": " + e.getMessage());
    }
    String prefix = node.name() + "/";
    Map<String, String> rename = new HashMap<>();
    for (int k = 0; k < lowered.inputNames().size(); k++) {
      String placeholder = lowered.inputNames().get(k);
      MlirType t = main.args().get(k).type();
      String ref;
      if (k < nrPlatform) {
        ref = platformIndex(g, prefix, x, t, where);
      } else if (k < nrPlatform + nrDim) {
        ref =
            dimension(
                g,
                prefix,
                x.dimArgsSpec().get(k - nrPlatform),
                inputs,
                main,
                nrPlatform + nrDim,
                t,
                where);
      } else {
        ref = inputs.get(k - nrPlatform - nrDim);
      }
      rename.put(placeholder, ref);
    }
    Map<String, String> functions = copyFunctions(g, lowered.graph(), node.name());
    Map<String, String> nodeNames = new HashMap<>();
    for (Node m : lowered.graph().nodes()) {
      if (!rename.containsKey(m.name())) {
        nodeNames.put(m.name(), g.uniqueName(prefix + m.name()));
      }
    }
    List<String> calls = new ArrayList<>();
    for (Node m : lowered.graph().nodes()) {
      if (rename.containsKey(m.name())) {
        continue;
      }
      List<String> ins = new ArrayList<>();
      for (String in : m.inputs()) {
        ins.add(remap(in, rename, nodeNames));
      }
      Node copy =
          new Node(nodeNames.get(m.name()), m.op(), ins, "", renameFunctions(m.attrs(), functions));
      g.add(copy);
      if (copy.op().equals("PartitionedCall")) {
        calls.add(copy.name());
      }
    }
    Map<String, String> uses = new LinkedHashMap<>();
    List<String> outNodes = new ArrayList<>();
    for (int k = 0; k < lowered.graph().outputs().size(); k++) {
      String out = remap(lowered.graph().outputs().get(k), rename, nodeNames);
      uses.put(TensorRef.of(node.name(), k).toString(), out);
      outNodes.add(TensorRef.nodeOf(out));
    }
    g.replaceAllUses(uses);
    List<TensorRef> float8 = new ArrayList<>();
    for (int k = 0; k < main.resultTypes().size(); k++) {
      if (Lowerer.float8(main.resultTypes().get(k)) != null) {
        float8.add(TensorRef.parse(uses.get(TensorRef.of(node.name(), k).toString())));
      }
    }
    retypeFloat8(g, float8);
    g.replaceControlUses(node.name(), outNodes);
    g.remove(node.name());
    return calls;
  }

  /**
   * The shapes of the node's inputs that come straight from placeholders of static shape, by {@code
   * main}'s argument name: with them the module's {@code ?} dimensions refine, as TF's kernel
   * refines the module for the shapes it runs on.
   */
  private static Map<String, long[]> staticShapes(
      Graph g, Func main, List<String> inputs, int first) {
    Map<String, long[]> out = new HashMap<>();
    for (int k = 0; k < inputs.size(); k++) {
      Node p = g.node(TensorRef.nodeOf(inputs.get(k)));
      MlirType t = main.args().get(first + k).type();
      if (p != null
          && p.op().equals("Placeholder")
          && p.attr("shape") instanceof AttrValue.Shape s
          && s.value().dims() != null
          && t.isTensor()
          && !t.isStatic()
          && s.value().dims().length == t.rank()
          && java.util.Arrays.stream(s.value().dims()).allMatch(d -> d >= 0)) {
        out.put(main.args().get(first + k).name().substring(1), s.value().dims().clone());
      }
    }
    return out;
  }

  /** {@code Tout}/{@code Sout} against the types of {@code main}'s results. */
  /**
   * TensorFlow's number of each 8-bit float format it has a type for; tfport's graph holds their
   * values as float32, rounded to the format.
   */
  private static final Map<String, Integer> TF_FLOAT8 = Map.of("f8E5M2", 24, "f8E4M3FN", 25);

  /** Ops that pass their input on unchanged, so an 8-bit float stays one through them. */
  private static final java.util.Set<String> PASS_ON =
      java.util.Set.of("Identity", "StopGradient", "Snapshot", "PreventGradient");

  /**
   * The readers of 8-bit float results ({@code Tout} an f8 type) see float32 values of the format:
   * their type attributes naming the f8 type become {@code DT_FLOAT}, through ops that pass values
   * on (a {@code Cast} from f8 then converts float32 values already rounded).
   */
  private static void retypeFloat8(Graph g, List<TensorRef> refs) {
    java.util.ArrayDeque<TensorRef> work = new java.util.ArrayDeque<>(refs);
    java.util.Set<TensorRef> seen = new java.util.HashSet<>();
    while (!work.isEmpty()) {
      TensorRef ref = work.pop();
      if (!seen.add(ref)) {
        continue;
      }
      for (Node n : g.nodes()) {
        if (n.dataInputs().stream().noneMatch(in -> TensorRef.parse(in).equals(ref))) {
          continue;
        }
        for (Map.Entry<String, AttrValue> a : new ArrayList<>(n.attrs().entrySet())) {
          if (a.getValue() instanceof AttrValue.Type t && TF_FLOAT8.containsValue(t.value())) {
            n.attr(a.getKey(), new AttrValue.Type(DType.FLOAT32.tfEnum()));
          }
        }
        if (PASS_ON.contains(n.op())) {
          work.add(TensorRef.of(n.name(), 0));
        }
      }
    }
  }

  private static void checkResults(XlaCallModule x, Func main, String where) {
    List<MlirType> results = main.resultTypes();
    if (!x.outputTypes().isEmpty() && x.outputTypes().size() != results.size()) {
      throw new CorruptModelException(
          where
              + " declares "
              + x.outputTypes().size()
              + " outputs (Tout), but its module's @main returns "
              + results.size());
    }
    for (int k = 0; k < results.size(); k++) {
      MlirType t = results.get(k);
      DType dt;
      try {
        dt = Lowerer.dtype(t);
      } catch (Lowerer.Refusal r) {
        throw new UnsupportedModelException(where + ": result " + k + ": " + r.getMessage());
      }
      org.tfport.formats.stablehlo.Float8 f8 = Lowerer.float8(t);
      boolean float8 =
          f8 != null
              && TF_FLOAT8.get(f8.name()) instanceof Integer n
              && k < x.outputTypes().size()
              && x.outputTypes().get(k) == n.intValue();
      if (k < x.outputTypes().size() && x.outputTypes().get(k) != dt.tfEnum() && !float8) {
        throw new CorruptModelException(
            where
                + ": output "
                + k
                + " is "
                + t
                + " in the module but Tout says type enum "
                + x.outputTypes().get(k));
      }
      if (k < x.outputShapes().size() && !x.outputShapes().get(k).unknownRank()) {
        long[] declared = x.outputShapes().get(k).dims();
        long[] dims = t.dims();
        boolean fits = declared.length == dims.length;
        for (int d = 0; fits && d < dims.length; d++) {
          fits = declared[d] < 0 || dims[d] < 0 || declared[d] == dims[d];
        }
        if (!fits) {
          throw new CorruptModelException(
              where
                  + ": output "
                  + k
                  + " is "
                  + t
                  + " in the module but Sout says "
                  + x.outputShapes().get(k));
        }
      }
    }
  }

  /** The platform index argument: where {@code CPU} is in {@code platforms}, else the first. */
  private static String platformIndex(
      Graph g, String prefix, XlaCallModule x, MlirType t, String where) {
    if (!t.isTensor()
        || t.rank() != 0
        || !(t.element().equals("i32") || t.element().equals("i64"))) {
      throw new CorruptModelException(
          where + ": its module's platform index argument is " + t + ", not tensor<i32> or i64");
    }
    int index = 0;
    for (int k = 0; k < x.platforms().size(); k++) {
      if (x.platforms().get(k).toUpperCase(Locale.ROOT).equals(PLATFORM)) {
        index = k;
        break;
      }
    }
    DType type = t.element().equals("i64") ? DType.INT64 : DType.INT32;
    return constant(
        g, prefix + "platform_index", Lowerer.tensor(type, new long[0], new long[] {index}, null));
  }

  /** A dimension argument {@code "A.D"}: the size of dimension D of array argument A. */
  private static String dimension(
      Graph g,
      String prefix,
      String spec,
      List<String> inputs,
      Func main,
      int firstArray,
      MlirType t,
      String where) {
    String[] parts = spec.split("\\.");
    int arg;
    int axis;
    try {
      if (parts.length != 2) {
        throw new NumberFormatException();
      }
      arg = Integer.parseInt(parts[0]);
      axis = Integer.parseInt(parts[1]);
    } catch (NumberFormatException e) {
      throw new CorruptModelException(where + ": dim_args_spec '" + spec + "' is not ARG.AXIS");
    }
    if (arg < 0 || arg >= inputs.size()) {
      throw new CorruptModelException(
          where + ": dim_args_spec '" + spec + "' names argument " + arg + " of " + inputs.size());
    }
    MlirType argType = main.args().get(firstArray + arg).type();
    if (!argType.isTensor() || axis < 0 || axis >= argType.rank()) {
      throw new CorruptModelException(
          where + ": dim_args_spec '" + spec + "' names axis " + axis + " of " + argType);
    }
    DType out;
    DType in;
    try {
      out = Lowerer.dtype(t);
      in = Lowerer.dtype(argType);
    } catch (Lowerer.Refusal r) {
      throw new UnsupportedModelException(
          where + ": dimension argument " + spec + ": " + r.getMessage());
    }
    if (t.rank() != 0 || (out != DType.INT32 && out != DType.INT64)) {
      throw new CorruptModelException(
          where
              + ": its module's dimension argument for '"
              + spec
              + "' is "
              + t
              + ", not an integer scalar");
    }
    String base = prefix + "dim_" + arg + "_" + axis;
    String shape = g.uniqueName(base + "/shape");
    g.add(
        new Node(
            shape,
            "Shape",
            new ArrayList<>(List.of(inputs.get(arg))),
            "",
            attrs("T", Lowerer.type(in), "out_type", Lowerer.type(out))));
    Tensor b = Lowerer.tensor(DType.INT32, new long[] {1}, new long[] {axis}, null);
    Tensor e = Lowerer.tensor(DType.INT32, new long[] {1}, new long[] {axis + 1}, null);
    Tensor s = Lowerer.tensor(DType.INT32, new long[] {1}, new long[] {1}, null);
    String slice = g.uniqueName(base);
    g.add(
        new Node(
            slice,
            "StridedSlice",
            new ArrayList<>(
                List.of(
                    shape,
                    constant(g, base + "/begin", b),
                    constant(g, base + "/end", e),
                    constant(g, base + "/strides", s))),
            "",
            attrs(
                "T",
                Lowerer.type(out),
                "Index",
                Lowerer.type(DType.INT32),
                "begin_mask",
                Lowerer.i(0),
                "end_mask",
                Lowerer.i(0),
                "ellipsis_mask",
                Lowerer.i(0),
                "new_axis_mask",
                Lowerer.i(0),
                "shrink_axis_mask",
                Lowerer.i(1))));
    return slice;
  }

  private static String constant(Graph g, String base, Tensor t) {
    String name = g.uniqueName(base);
    g.add(
        new Node(
            name,
            "Const",
            new ArrayList<>(),
            "",
            attrs(
                "dtype",
                Lowerer.type(t.dtype()),
                "value",
                new AttrValue.TensorAttr(
                    new TensorValue(t.dtype().tfEnum(), TensorShape.of(t.shape()), t)))));
    return name;
  }

  private static Map<String, AttrValue> attrs(Object... kv) {
    Map<String, AttrValue> a = new LinkedHashMap<>();
    for (int k = 0; k < kv.length; k += 2) {
      a.put((String) kv[k], (AttrValue) kv[k + 1]);
    }
    return a;
  }

  private static String remap(
      String in, Map<String, String> rename, Map<String, String> nodeNames) {
    TensorRef r = TensorRef.parse(in);
    if (rename.containsKey(r.node())) {
      String to = rename.get(r.node());
      return r.control() ? "^" + TensorRef.nodeOf(to) : to;
    }
    String n = nodeNames.get(r.node());
    if (n == null) {
      throw new IllegalStateException("lowered graph reads unknown node " + r.node());
    }
    return r.control() ? "^" + n : TensorRef.of(n, r.index()).toString();
  }

  /** Copies the lowered graph's functions (loops, branches) under names free in {@code g}. */
  private static Map<String, String> copyFunctions(Graph g, Graph lowered, String nodeName) {
    Map<String, String> names = new HashMap<>();
    String base = nodeName.replaceAll("[^A-Za-z0-9_]", "_") + "_";
    for (String f : lowered.functions().keySet()) {
      String name = base + f;
      for (int k = 1; g.functions().containsKey(name) || names.containsValue(name); k++) {
        name = base + f + "_" + k;
      }
      names.put(f, name);
    }
    for (GraphFunction f : lowered.functions().values()) {
      List<Node> nodes = new ArrayList<>();
      for (Node n : f.nodes()) {
        nodes.add(
            new Node(
                n.name(),
                n.op(),
                new ArrayList<>(n.inputs()),
                n.device(),
                renameFunctions(n.attrs(), names)));
      }
      String name = names.get(f.name());
      g.functions()
          .put(
              name,
              new GraphFunction(
                  name,
                  f.inputArgs(),
                  f.outputArgs(),
                  nodes,
                  f.ret(),
                  f.controlRet(),
                  f.attrs(),
                  f.argAttrs(),
                  f.stateful()));
    }
    return names;
  }

  private static Map<String, AttrValue> renameFunctions(
      Map<String, AttrValue> attrs, Map<String, String> names) {
    Map<String, AttrValue> out = new LinkedHashMap<>();
    for (Map.Entry<String, AttrValue> e : attrs.entrySet()) {
      AttrValue v = e.getValue();
      if (v instanceof AttrValue.Func f && names.containsKey(f.value().name())) {
        v = new AttrValue.Func(new FuncRef(names.get(f.value().name()), f.value().attrs()));
      } else if (v instanceof AttrValue.ListAttr l && !l.func().isEmpty()) {
        v =
            new AttrValue.ListAttr(
                l.s(),
                l.i(),
                l.f(),
                l.b(),
                l.type(),
                l.shape(),
                l.tensor(),
                l.func().stream()
                    .map(
                        r ->
                            names.containsKey(r.name())
                                ? new FuncRef(names.get(r.name()), r.attrs())
                                : r)
                    .toList());
      }
      out.put(e.getKey(), v);
    }
    return out;
  }
}
