package org.tfport.graph.stablehlo;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.formats.stablehlo.Arg;
import org.tfport.formats.stablehlo.Func;
import org.tfport.formats.stablehlo.MlirType;
import org.tfport.formats.stablehlo.Op;
import org.tfport.formats.stablehlo.Region;
import org.tfport.formats.stablehlo.StableHloFiles;
import org.tfport.formats.stablehlo.StableHloModule;
import org.tfport.graph.stablehlo.Lowerer.V;

/**
 * Lowers a StableHLO function into the graph IR: one {@code Placeholder} per argument, the ops as
 * TensorFlow ops (calls inlined, loops and conditionals as {@code While}/{@code If}/{@code Case}
 * over library functions), the results as the graph's outputs.
 */
public final class StableHloLowering {
  private StableHloLowering() {}

  /**
   * A lowered function.
   *
   * @param inputNames the placeholder of each argument, in order
   * @param outputNames a name for each result ({@code jax.result_info} when it names them all
   *     distinctly, else {@code output_k})
   * @param checks the {@code check.*} assertions of a test program, in program order
   */
  public record Lowered(
      Graph graph, List<String> inputNames, List<String> outputNames, List<Check> checks) {}

  /**
   * A test program's assertion: {@code target} ({@code check.expect_close}, {@code
   * check.expect_eq_const}, ...), the graph tensors it compares (the computed one first) and, for
   * the {@code _const} forms, the expected value's op.
   */
  public record Check(String target, List<String> tensors, Op op) {}

  /** An op that does not lower: where it is ({@code line N}), its name and why. */
  public record Problem(String location, String op, String reason) {
    @Override
    public String toString() {
      return location + ": " + op + ": " + reason;
    }
  }

  /** Every op of {@code module}'s entry function (and what it calls) that does not lower. */
  public static List<Problem> problems(StableHloModule module) {
    try {
      lower(module);
      return List.of();
    } catch (ProblemsException e) {
      return e.problems;
    }
  }

  /** The refusal of a lowering, keeping its problems for {@link #problems}. */
  private static final class ProblemsException extends UnsupportedModelException {
    private static final long serialVersionUID = 1L;
    private final transient List<Problem> problems;

    ProblemsException(String message, List<Problem> problems) {
      super(message);
      this.problems = List.copyOf(problems);
    }
  }

  /**
   * Reads a StableHLO file ({@link StableHloFiles#read}) and lowers its entry function; a {@code
   * jax.export} file's platform list places its platform index argument.
   */
  public static Lowered load(java.nio.file.Path file) {
    return load(file, Map.of());
  }

  /**
   * As {@link #load(java.nio.file.Path)}, with the shapes of some arguments fixed ({@code
   * inputShapes}, by input name: {@code arg0}, ...): their {@code ?} dimensions take these sizes,
   * so that shapes computed from them refine ({@link ShapeRefinement}).
   *
   * @throws UnsupportedModelException naming an input the program lacks or a shape that does not
   *     fit its argument's type
   */
  public static Lowered load(java.nio.file.Path file, Map<String, long[]> inputShapes) {
    StableHloModule module = StableHloFiles.read(file);
    Func f =
        module
            .entry()
            .orElseThrow(
                () ->
                    new UnsupportedModelException(
                        module.fileName() + ": the StableHLO module has no function to run"));
    return lower(module, f, List.of(), StableHloFiles.platforms(file), inputShapes);
  }

  /** Lowers the module's entry function ({@code main}, else its only public function). */
  public static Lowered lower(StableHloModule module) {
    Func f =
        module
            .entry()
            .orElseThrow(
                () ->
                    new UnsupportedModelException(
                        module.fileName() + ": the StableHLO module has no function to run"));
    return lower(module, f);
  }

  /**
   * Lowers {@code f}.
   *
   * @throws UnsupportedModelException naming every op that does not lower, with its location
   */
  public static Lowered lower(StableHloModule module, Func f) {
    return lower(module, f, List.of(), List.of(), Map.of());
  }

  /**
   * The value of a {@code jax.global_constant = "_platform_index"} argument: where CPU (the
   * platform tfport's runtime stands for) is in the module's platform list, else the first.
   */
  static long platformIndex(List<String> platforms) {
    for (int k = 0; k < platforms.size(); k++) {
      if (platforms.get(k).equalsIgnoreCase("cpu")) {
        return k;
      }
    }
    return 0;
  }

  /**
   * Lowers {@code f} of a jax2tf module: its {@code tf.call_tf_function} custom calls become {@code
   * PartitionedCall}s of {@code tfFunctions} (the {@code XlaCallModule}'s {@code function_list}).
   */
  static Lowered lower(
      StableHloModule module, Func f, List<String> tfFunctions, Map<String, long[]> argShapes) {
    return lower(module, f, tfFunctions, null, argShapes);
  }

  /**
   * As {@link #lower(StableHloModule, Func, List)}; with {@code platforms} non-null, a platform
   * index argument ({@code jax.global_constant = "_platform_index"}) becomes a constant instead of
   * an input, as the caller JAX's runtime would pass ({@link #platformIndex}).
   */
  static Lowered lower(
      StableHloModule module,
      Func f,
      List<String> tfFunctions,
      List<String> platforms,
      Map<String, long[]> argShapes) {
    Graph g = new Graph(module.fileName());
    checkShapeNames(module, f, argShapes);
    List<Problem> refusals = new ArrayList<>();
    List<Lowerer.Check> checks = new ArrayList<>();
    Lowerer l = new Lowerer(g, g, module, refusals, checks, 0);
    l.tfFunctions = List.copyOf(tfFunctions);
    List<String> inputs = new ArrayList<>();
    for (Arg a : f.args()) {
      String name = g.uniqueName(a.name().substring(1));
      MlirType t = a.type();
      if (platforms != null && "_platform_index".equals(a.globalConstant())) {
        try {
          DType it = Lowerer.dtype(t);
          if (t.rank() != 0 || (it != DType.INT32 && it != DType.INT64)) {
            throw new Lowerer.Refusal("not an integer scalar");
          }
          l.env.put(
              a.name(),
              l.constant(
                  Lowerer.tensor(it, new long[0], new long[] {platformIndex(platforms)}, null)));
        } catch (Lowerer.Refusal r) {
          refusals.add(
              new Problem(
                  "line " + f.line(), "platform index argument " + a.name(), r.getMessage()));
        }
        continue;
      }
      DType dt;
      try {
        if (ComplexLowering.isComplex(t) && ComplexLowering.partType(t) == DType.FLOAT64) {
          throw new Lowerer.Refusal(
              "a complex<f64> argument: tfport's tensors hold complex64 only; pass the real and"
                  + " imaginary parts as f64 arguments");
        }
        dt = ComplexLowering.isComplex(t) ? DType.COMPLEX64 : Lowerer.dtype(t);
      } catch (Lowerer.Refusal r) {
        refusals.add(new Problem("line " + f.line(), "argument " + a.name(), r.getMessage()));
        continue;
      }
      long[] dims = t.dims();
      long[] fixed = argShapes.get(a.name().substring(1));
      if (fixed != null) {
        if (!fits(dims, fixed)) {
          refusals.add(
              new Problem(
                  "line " + f.line(),
                  "argument " + a.name(),
                  "the input shape "
                      + java.util.Arrays.toString(fixed)
                      + " does not fit its type "
                      + t));
          continue;
        }
        dims = fixed.clone();
      }
      Map<String, AttrValue> attrs = new LinkedHashMap<>();
      attrs.put("dtype", Lowerer.type(dt));
      attrs.put("shape", new AttrValue.Shape(TensorShape.of(dims)));
      g.add(new Node(name, "Placeholder", new ArrayList<>(), "", attrs));
      g.inputs().add(name);
      inputs.add(name);
      V in = new V(name, dt, dims);
      if (dt == DType.COMPLEX64) {
        l.complexEnv.put(a.name(), ComplexLowering.argument(l, in));
        continue;
      }
      if (Lowerer.float8(t) != null) {
        in = Float8Rounding.round(l, in, Lowerer.float8(t));
      }
      l.env.put(a.name(), in);
    }
    List<V> outs = l.lowerOps(f.body());
    if (!refusals.isEmpty()) {
      throw new ProblemsException(
          module.fileName()
              + ": "
              + refusals.size()
              + " StableHLO op"
              + (refusals.size() == 1 ? "" : "s")
              + " cannot be lowered to TensorFlow ops: "
              + String.join("; ", refusals.stream().map(Problem::toString).toList()),
          refusals);
    }
    List<String> names = outputNames(f, outs.size());
    for (int k = 0; k < outs.size(); k++) {
      V v = outs.get(k);
      // An output read straight from a placeholder or another output gets its own node.
      String ref = v.ref();
      if (g.inputs().contains(ref) || g.outputs().contains(ref)) {
        l.current = null;
        ref = l.identity(v).ref();
      }
      g.outputs().add(ref);
    }
    List<Check> cs = new ArrayList<>();
    for (Lowerer.Check c : checks) {
      cs.add(new Check(c.target(), c.operands().stream().map(V::ref).toList(), c.op()));
    }
    return new Lowered(g, inputs, names, cs);
  }

  /** Whether {@code fixed} is a static shape of the rank of {@code declared}, agreeing with it. */
  private static boolean fits(long[] declared, long[] fixed) {
    if (declared.length != fixed.length) {
      return false;
    }
    for (int k = 0; k < fixed.length; k++) {
      if (fixed[k] < 0 || (declared[k] >= 0 && declared[k] != fixed[k])) {
        return false;
      }
    }
    return true;
  }

  private static void checkShapeNames(StableHloModule module, Func f, Map<String, long[]> shapes) {
    Set<String> names = new HashSet<>();
    for (Arg a : f.args()) {
      names.add(a.name().substring(1));
    }
    for (String k : shapes.keySet()) {
      if (!names.contains(k)) {
        throw new UnsupportedModelException(
            module.fileName()
                + ": an input shape is given for '"
                + k
                + "', but @"
                + f.name()
                + " has no such argument (it has "
                + String.join(", ", names.stream().sorted().toList())
                + ")");
      }
    }
  }

  /**
   * Refuses a conversion whose program takes or returns complex values: inside a program they are
   * pairs of real tensors, but at its interface they stay complex64, which {@code target} (TF.js,
   * TFLite) has no arithmetic for.
   *
   * @throws UnsupportedModelException naming each complex argument and result
   */
  public static void refuseComplexInterface(Lowered lw, String fileName, String target) {
    List<String> named = new ArrayList<>();
    for (String in : lw.inputNames()) {
      Node p = lw.graph().node(in);
      if (p != null
          && p.attr("dtype") instanceof AttrValue.Type t
          && t.value() == DType.COMPLEX64.tfEnum()) {
        named.add("argument " + in);
      }
    }
    for (int k = 0; k < lw.graph().outputs().size(); k++) {
      Node n = lw.graph().node(org.tfport.core.graph.TensorRef.nodeOf(lw.graph().outputs().get(k)));
      if (n != null && n.op().equals("Complex")) {
        named.add("result " + lw.outputNames().get(k));
      }
    }
    if (!named.isEmpty()) {
      throw new UnsupportedModelException(
          fileName
              + ": "
              + String.join(", ", named)
              + " of the StableHLO program "
              + (named.size() == 1 ? "is" : "are")
              + " complex64, which "
              + target
              + " has no arithmetic for; pass and return the real and imaginary parts"
              + " (stablehlo.complex / stablehlo.real / stablehlo.imag) instead");
    }
  }

  private static List<String> outputNames(Func f, int n) {
    List<String> names = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    boolean usable = f.resultNames().size() == n;
    for (int k = 0; k < n && usable; k++) {
      String s = f.resultNames().get(k);
      usable = s.matches("[A-Za-z_][A-Za-z0-9_.\\-/]*") && seen.add(s);
    }
    for (int k = 0; k < n; k++) {
      names.add(usable ? f.resultNames().get(k) : "output_" + k);
    }
    return names;
  }

  /**
   * Every op of the module's functions (nested regions included) with whether it lowers, for {@code
   * analyze}: op name to [count, lowers ? 1 : 0].
   */
  public static Map<String, int[]> opCensus(StableHloModule module) {
    Map<String, int[]> out = new java.util.TreeMap<>();
    for (Func f : module.funcs()) {
      census(f.body(), out);
    }
    return out;
  }

  private static void census(Region r, Map<String, int[]> out) {
    for (Op op : r.ops()) {
      String name = op.name();
      boolean terminator = name.equals("func.return") || name.equals("stablehlo.return");
      if (name.equals("stablehlo.custom_call")) {
        String target = Control.callTarget(op);
        name = "stablehlo.custom_call" + (target == null ? " without a target" : " @" + target);
      }
      int[] c = out.computeIfAbsent(name, k -> new int[2]);
      c[0]++;
      c[1] = terminator || lowers(op) ? 1 : 0;
      for (Region inner : op.regions()) {
        census(inner, out);
      }
    }
  }

  private static boolean lowers(Op op) {
    if (op.name().equals("stablehlo.custom_call")) {
      String t = Control.callTarget(op);
      return t != null && t.startsWith("check.")
          || t.equals("shape_assertion")
          || t.equals("stablehlo.shape_refinement_operand_wrapper")
          || t.equals("stablehlo.dynamic_top_k")
          || t.equals("annotate_device_placement")
          || t.equals(Control.CALL_TF)
          || t.equals("Sharding");
    }
    return Dispatch.LOWERED.contains(op.name()) || op.name().startsWith("check.");
  }
}
