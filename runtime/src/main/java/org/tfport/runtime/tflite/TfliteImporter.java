package org.tfport.runtime.tflite;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.core.graph.ArgDef;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.formats.tflite.TfliteSignatureDef;
import org.tfport.formats.tflite.TfliteSubgraph;
import org.tfport.formats.tflite.TfliteTensor;
import org.tfport.runtime.Model;
import org.tfport.runtime.Signature;
import org.tfport.runtime.TensorSpec;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.ops.StandardKernels;

/**
 * Imports a {@code .tflite} file into the runtime's graph IR (TensorFlow ops in NodeDef form), so
 * the runtime runs it like any other model.
 *
 * <p>Public surface: {@link #load(Path)} gives a ready {@link Model}; {@link #importModel(Path)}
 * (or {@link #importModel(TfliteModel, String)} for a model already read) gives the {@link
 * ImportedModel} — the graph and its signatures — for callers that want the IR.
 *
 * <p>What becomes what: every SignatureDef is kept (each signature's subgraph becomes part of the
 * graph, subgraphs other than 0 under a name prefix); a file without SignatureDefs gets one
 * signature {@value Signature#DEFAULT_KEY} over subgraph 0's inputs and outputs, named by their
 * tensor names. Subgraphs that {@code WHILE}/{@code IF} run become library functions. Weights
 * become {@code Const}s, re-laid out for TensorFlow's ops; float16 and dynamic-range int8 weights
 * (per tensor or per channel) are dequantized to float32 here. Operators on quantized integer
 * activations (fully integer int8/uint8 models and 16x8 models) become nodes running TFLite's
 * integer kernels, their quantization parameters as attributes ({@link QuantizedBuiltins} describes
 * the scheme). Custom ops become nodes named after their custom code and Flex ops the TensorFlow
 * node they carry; either is refused unless the runtime has a kernel for it. Every operator tfport
 * cannot import is named (subgraph, operator index, builtin, reason) in one {@link
 * UnsupportedModelException}; damaged files fail in {@link TfliteReader} with a {@link
 * CorruptModelException}.
 */
public final class TfliteImporter {
  /**
   * An imported model: the graph (with its function library), the signatures it is called through,
   * where each imported subgraph's tensors ended up (one entry per subgraph in the graph, one per
   * subgraph made a function), and the quantized weights the graph holds dequantized.
   */
  public record ImportedModel(
      Graph graph,
      List<Signature> signatures,
      List<ImportedSubgraph> tensorMap,
      List<QuantizedConstant> quantizedConstants) {
    public ImportedModel {
      signatures = List.copyOf(signatures);
      tensorMap = List.copyOf(tensorMap);
      quantizedConstants = List.copyOf(quantizedConstants);
    }

    /** A runnable model over the standard kernels. */
    public Model toModel() {
      return Model.fromGraph(graph, signatures);
    }
  }

  /**
   * Where the values of one imported subgraph's tensors are, for tools that look at intermediate
   * values (with a {@link org.tfport.runtime.RunObserver}).
   *
   * @param subgraph the TFLite subgraph index
   * @param function the library function the subgraph became, or null when its nodes are in the
   *     graph itself
   * @param tensors per TFLite tensor index, the IR tensor holding its value ({@code node} or {@code
   *     node:k}; after the fused activation when the operator has one), or null where there is none
   *     (constants nobody reads)
   */
  public record ImportedSubgraph(int subgraph, String function, List<String> tensors) {
    public ImportedSubgraph {
      tensors = java.util.Collections.unmodifiableList(new ArrayList<>(tensors));
    }
  }

  final TfliteModel model;
  final String source;
  private final KernelRegistry registry;
  private final Graph graph;
  private final Set<String> topNames = new HashSet<>();
  private final Map<Integer, SubgraphImport> topLevel = new LinkedHashMap<>();
  private final Map<Integer, String> functions = new HashMap<>();
  private final Set<String> functionNames = new HashSet<>();
  private final Map<String, List<String>> problems = new LinkedHashMap<>();
  private final List<ImportedSubgraph> tensorMap = new ArrayList<>();
  final List<QuantizedConstant> quantizedConstants = new ArrayList<>();

  /** Resized inputs: by subgraph, by tensor index, the dims asked for. */
  private final Map<Integer, Map<Integer, long[]>> resized = new HashMap<>();

  private TfliteImporter(TfliteModel model, String source, KernelRegistry registry) {
    this.model = model;
    this.source = source;
    this.registry = registry;
    this.graph = new Graph(source);
  }

  /** Reads, imports and compiles {@code file}. */
  public static Model load(Path file) {
    return importModel(file).toModel();
  }

  public static ImportedModel importModel(Path file) {
    return importModel(TfliteReader.read(file), file.toString());
  }

  /**
   * Imports a model already read.
   *
   * @param source how messages name the model, usually its path
   * @throws UnsupportedModelException naming every operator that cannot be imported or has no
   *     kernel
   */
  public static ImportedModel importModel(TfliteModel model, String source) {
    return importModel(model, source, Map.of());
  }

  /**
   * Imports a model already read with some inputs resized, as TFLite's {@code ResizeInputTensor}
   * before {@code AllocateTensors}: the placeholders and signature take the given shapes and
   * nothing in the graph keeps a shape the file recorded for a tensor the inputs flow into (an
   * operator that needs one is refused naming itself). Whether each op takes the new shapes is its
   * kernel's to say, at run time.
   *
   * @param inputShapes known dims by signature input name (a file without SignatureDefs names its
   *     inputs as {@link #importModel(TfliteModel, String)}'s default signature does)
   * @throws UsageException for a name that is no input, or a dim that is not known
   */
  public static ImportedModel importModel(
      TfliteModel model, String source, Map<String, Shape> inputShapes) {
    TfliteImporter i = new TfliteImporter(model, source, StandardKernels.registry());
    i.resize(inputShapes);
    return i.run();
  }

  private void resize(Map<String, Shape> shapes) {
    if (shapes.isEmpty()) {
      return;
    }
    if (model.subgraphs().isEmpty()) {
      throw new CorruptModelException(source + ": the model has no subgraphs");
    }
    // Signature input name -> {subgraph, tensor}, named as the signatures will name them.
    Map<String, int[]> inputs = new LinkedHashMap<>();
    List<TfliteSignatureDef> defs = model.signatureDefs();
    if (defs.isEmpty()) {
      TfliteSubgraph sg = model.subgraphs().get(0);
      Set<String> seen = new HashSet<>();
      for (int k = 0; k < sg.inputs().size(); k++) {
        int t = sg.inputs().get(k);
        String name = t < sg.tensors().size() ? sg.tensors().get(t).name() : null;
        inputs.put(uniqueName(name, "input_" + k, seen), new int[] {0, t});
      }
    }
    for (TfliteSignatureDef d : defs) {
      for (TfliteSignatureDef.TensorMap m : d.inputs()) {
        inputs.putIfAbsent(m.name(), new int[] {d.subgraphIndex(), m.tensorIndex()});
      }
    }
    shapes.forEach(
        (name, shape) -> {
          int[] at = inputs.get(name);
          if (at == null) {
            throw new UsageException(
                source
                    + ": there is no input '"
                    + name
                    + "' to resize; the inputs are "
                    + inputs.keySet());
          }
          if (!shape.isFullyKnown()) {
            throw new UsageException(
                source + ": input '" + name + "' can be resized to known dims only, not " + shape);
          }
          resized.computeIfAbsent(at[0], k -> new HashMap<>()).put(at[1], shape.dims().clone());
        });
  }

  /** Whether the import resizes some input (see {@link SubgraphImport#knownShape}). */
  boolean resizing() {
    return !resized.isEmpty();
  }

  /**
   * The dims input {@code tensor} of top-level subgraph {@code subgraph} is resized to, or null.
   */
  long[] resizedShape(int subgraph, int tensor) {
    Map<Integer, long[]> m = resized.get(subgraph);
    return m == null ? null : m.get(tensor);
  }

  // ------------------------------------------------------------------------------------------- the
  // import

  private ImportedModel run() {
    if (model.subgraphs().isEmpty()) {
      throw new CorruptModelException(source + ": the model has no subgraphs");
    }
    List<TfliteSignatureDef> defs = model.signatureDefs();
    if (defs.isEmpty()) {
      topLevel(0);
    }
    for (TfliteSignatureDef d : defs) {
      if (d.subgraphIndex() >= model.subgraphs().size()) {
        throw new CorruptModelException(
            source
                + ": signature '"
                + d.key()
                + "' names subgraph "
                + d.subgraphIndex()
                + ", but the model has "
                + model.subgraphs().size());
      }
      topLevel(d.subgraphIndex());
    }
    for (TfliteSignatureDef d : defs) {
      SubgraphImport s = topLevel.get(d.subgraphIndex());
      for (TfliteSignatureDef.TensorMap m : d.outputs()) {
        check(d.key(), m, s);
        try {
          s.ref(m.tensorIndex());
        } catch (SubgraphImport.Refusal r) {
          problem(s, -1, "signature output '" + m.name() + "': " + r.getMessage());
        }
      }
    }
    fail();
    topLevel.values().forEach(s -> s.nodes.forEach(graph::add));
    SubgraphImport main = topLevel.get(0);
    if (main != null) {
      graph.inputs().addAll(main.inputNames);
      for (int t : main.sg.outputs()) {
        graph.outputs().add(main.refs[t]);
      }
    }
    List<Signature> signatures = new ArrayList<>();
    if (defs.isEmpty()) {
      signatures.add(defaultSignature(main));
    }
    for (int k = 0; k < defs.size(); k++) {
      TfliteSignatureDef d = defs.get(k);
      String key =
          d.key() != null ? d.key() : defs.size() == 1 ? Signature.DEFAULT_KEY : "signature_" + k;
      signatures.add(signature(key, d, topLevel.get(d.subgraphIndex())));
    }
    List<ImportedSubgraph> map = new ArrayList<>();
    topLevel
        .values()
        .forEach(
            s -> map.add(new ImportedSubgraph(s.index, null, java.util.Arrays.asList(s.refs))));
    map.addAll(tensorMap);
    return new ImportedModel(graph, signatures, map, quantizedConstants);
  }

  private void topLevel(int index) {
    if (topLevel.containsKey(index)) {
      return;
    }
    String prefix = "";
    if (index > 0) {
      TfliteSubgraph sg = model.subgraphs().get(index);
      String n = sg.name() == null || sg.name().isEmpty() ? "subgraph_" + index : sg.name();
      prefix = SubgraphTensors.sanitize("", n, index) + "/";
    }
    SubgraphImport s = new SubgraphImport(this, index, false, prefix, topNames);
    topLevel.put(index, s);
    s.run();
  }

  /**
   * The library function made from subgraph {@code index} (a loop's condition or body, a branch),
   * imported the first time it is asked for.
   */
  String function(int index) {
    if (index < 0 || index >= model.subgraphs().size()) {
      throw new SubgraphImport.Refusal(
          "it names subgraph " + index + ", but the model has " + model.subgraphs().size());
    }
    String name = functions.get(index);
    if (name != null) {
      return name;
    }
    TfliteSubgraph sg = model.subgraphs().get(index);
    String base = sg.name() == null || sg.name().isEmpty() ? "subgraph_" + index : sg.name();
    name = SubgraphTensors.sanitize("", base, index);
    for (int k = 1; !functionNames.add(name); k++) {
      name = name + "_" + k;
    }
    functions.put(index, name);
    SubgraphImport s = new SubgraphImport(this, index, true, "", new HashSet<>());
    s.run();
    List<ArgDef> ins = new ArrayList<>();
    for (int k = 0; k < sg.inputs().size(); k++) {
      ins.add(ArgDef.ofType(s.inputNames.get(k), tfType(s, sg.inputs().get(k))));
    }
    List<ArgDef> outs = new ArrayList<>();
    Map<String, String> ret = new LinkedHashMap<>();
    for (int k = 0; k < sg.outputs().size(); k++) {
      int t = sg.outputs().get(k);
      outs.add(ArgDef.ofType("output_" + k, tfType(s, t)));
      ret.put("output_" + k, s.refs[t] == null ? "unimported_" + t : s.refs[t]);
    }
    tensorMap.add(new ImportedSubgraph(index, name, java.util.Arrays.asList(s.refs)));
    graph
        .functions()
        .put(
            name,
            new GraphFunction(
                name,
                ins,
                outs,
                s.nodes,
                ret,
                s.lastEffect == null ? Map.of() : Map.of("effects", s.lastEffect),
                Map.of(),
                Map.of(),
                s.lastEffect != null));
    return name;
  }

  /** The name of the function made from subgraph {@code index}. */
  String functionName(int index) {
    return functions.get(index);
  }

  private int tfType(SubgraphImport s, int t) {
    try {
      return DataTypes.fromDType(s.dtypeOf(t));
    } catch (SubgraphImport.Refusal r) {
      problem(s, -1, r.getMessage());
      return DataTypes.DT_INVALID;
    }
  }

  // -------------------------------------------------------------------------------------------
  // signatures

  private Signature defaultSignature(SubgraphImport s) {
    List<TensorSpec> ins = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (int k = 0; k < s.sg.inputs().size(); k++) {
      int t = s.sg.inputs().get(k);
      ins.add(spec(uniqueName(s.tensor(t).name(), "input_" + k, seen), s, t));
    }
    List<TensorSpec> outs = new ArrayList<>();
    seen.clear();
    for (int k = 0; k < s.sg.outputs().size(); k++) {
      int t = s.sg.outputs().get(k);
      outs.add(spec(uniqueName(s.tensor(t).name(), "output_" + k, seen), s, t));
    }
    return new Signature(Signature.DEFAULT_KEY, ins, outs);
  }

  private static String uniqueName(String name, String fallback, Set<String> seen) {
    String n = name == null || name.isEmpty() ? fallback : name;
    String u = n;
    for (int k = 1; !seen.add(u); k++) {
      u = n + "_" + k;
    }
    return u;
  }

  private Signature signature(String key, TfliteSignatureDef d, SubgraphImport s) {
    List<TensorSpec> ins = new ArrayList<>();
    for (TfliteSignatureDef.TensorMap m : d.inputs()) {
      check(key, m, s);
      if (!s.sg.inputs().contains(m.tensorIndex())) {
        throw new UnsupportedModelException(
            source
                + ": signature '"
                + key
                + "' input '"
                + m.name()
                + "' is tensor "
                + m.tensorIndex()
                + ", which is not an input of subgraph "
                + s.index);
      }
      ins.add(spec(m.name(), s, m.tensorIndex()));
    }
    List<TensorSpec> outs = new ArrayList<>();
    for (TfliteSignatureDef.TensorMap m : d.outputs()) {
      check(key, m, s);
      outs.add(spec(m.name(), s, m.tensorIndex()));
    }
    return new Signature(key, ins, outs);
  }

  private void check(String key, TfliteSignatureDef.TensorMap m, SubgraphImport s) {
    // A signature's names are what callers feed and fetch by; the schema lets a damaged file
    // leave one out (found by fuzzing).
    if (m.name() == null) {
      throw new CorruptModelException(
          source
              + ": signature '"
              + key
              + "' maps tensor "
              + m.tensorIndex()
              + " of subgraph "
              + s.index
              + " without a name; the file is damaged");
    }
    if (m.tensorIndex() >= s.sg.tensors().size()) {
      throw new CorruptModelException(
          source
              + ": signature '"
              + key
              + "' names tensor "
              + m.tensorIndex()
              + " of subgraph "
              + s.index
              + ", which has "
              + s.sg.tensors().size());
    }
  }

  private static TensorSpec spec(String name, SubgraphImport s, int t) {
    TfliteTensor x = s.tensor(t);
    DType d = x.type().dtype();
    long[] shape = x.hasRank() || !x.shape().isEmpty() ? s.knownShape(t) : null;
    return new TensorSpec(name, s.refs[t], d, shape);
  }

  // -------------------------------------------------------------------------------------------
  // problems

  String where(SubgraphImport s) {
    return source + ": subgraph " + s.index + " operator " + s.opIndex;
  }

  boolean hasKernel(String op) {
    return registry.has(op);
  }

  /** Notes that the current operator emits a node of {@code op}, which must have a kernel. */
  void checkKernel(SubgraphImport s, String op) {
    if (!registry.has(op)) {
      problem(s, "TensorFlow op '" + op + "' has no kernel in tfport");
    }
  }

  void problem(SubgraphImport s, String message) {
    problem(s, s.opIndex, message);
  }

  /**
   * Records why operator {@code opIndex} (-1: the subgraph itself) of {@code s} cannot be imported.
   */
  void problem(SubgraphImport s, int opIndex, String message) {
    String at =
        "subgraph "
            + s.index
            + (opIndex < 0 || s.op == null ? "" : " operator " + opIndex + " " + s.code.name());
    List<String> list = problems.computeIfAbsent(message, k -> new ArrayList<>());
    if (!list.contains(at)) {
      list.add(at);
    }
  }

  private void fail() {
    if (!problems.isEmpty()) {
      // One part per reason, naming the operators it applies to (the first few of them).
      Set<String> operators = new HashSet<>();
      List<String> parts = new ArrayList<>();
      problems.forEach(
          (why, where) -> {
            operators.addAll(where);
            List<String> shown = where.size() > 6 ? where.subList(0, 5) : where;
            parts.add(
                why
                    + " ("
                    + String.join(", ", shown)
                    + (shown.size() < where.size()
                        ? " and " + (where.size() - shown.size()) + " more"
                        : "")
                    + ")");
          });
      throw new UnsupportedModelException(
          source
              + ": cannot import "
              + operators.size()
              + (operators.size() == 1 ? " operator: " : " operators: ")
              + String.join("; ", parts));
    }
  }
}
