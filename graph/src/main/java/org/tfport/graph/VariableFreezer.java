package org.tfport.graph;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.core.graph.TensorShape;
import org.tfport.core.graph.TensorValue;

/**
 * Replaces variables by constants holding their checkpoint values, for every variable the graph's
 * outputs read. TF1 variables ({@code VariableV2}) become a {@code Const} of the same name;
 * resource variables ({@code VarHandleOp}, TF2 and late TF1) are read through {@code
 * ReadVariableOp}, and each such read becomes the {@code Const}, as TensorFlow's own freezing names
 * it.
 *
 * <p>A variable's checkpoint key is found the way TensorFlow restores it: the restore subgraph
 * assigns {@code RestoreV2} output {@code k} to the variable, and the key is the {@code k}-th of
 * that op's {@code tensor_names}. This covers TF1 savers and TF2 restore functions alike (the
 * latter once inlined). Without such a subgraph a TF1 variable's key is its name.
 */
public final class VariableFreezer {
  static final Set<String> TF1_VARIABLES = Set.of("VariableV2", "Variable");
  static final Set<String> IDENTITIES = Set.of("Identity", "Snapshot", "StopGradient");

  /**
   * Reads a checkpoint tensor by key, or returns null when the key is absent; {@code slice} is the
   * restore op's {@code shape_and_slices} entry (empty for the whole tensor; a partition of a
   * partitioned variable otherwise).
   */
  interface Values {
    Tensor read(String key, String slice);
  }

  private final Graph g;
  private final Values values;
  private final boolean frozenGraph;
  private final Map<String, String> keys = new HashMap<>();
  private final Map<String, String> slices = new HashMap<>();
  private boolean keepWritten;
  private Set<String> signatureNodes = Set.of();

  /**
   * The attribute of a kept {@code VarHandleOp} holding its checkpoint value: the runtime starts
   * each session's variable from it.
   */
  public static final String INITIAL_VALUE = "_tfport_initial_value";

  /** Ops that change a resource variable's value. */
  static final Set<String> RESOURCE_WRITERS =
      Set.of("AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp");

  /** Ops that change a TF1 reference variable's value. */
  static final Set<String> REF_WRITERS = Set.of("Assign", "AssignAdd", "AssignSub");

  /** Ops only save/restore functions hold: their assignments load the checkpoint. */
  private static final Set<String> CHECKPOINT_OPS =
      Set.of(
          "RestoreV2",
          "Restore",
          "RestoreSlice",
          "SaveV2",
          "Save",
          "SaveSlices",
          "MergeV2Checkpoints");

  VariableFreezer(Graph g, Values values) {
    this(g, values, false);
  }

  /**
   * @param frozenGraph the graph came without a checkpoint, so a variable in it is the file's
   *     mistake
   */
  VariableFreezer(Graph g, Values values, boolean frozenGraph) {
    this.g = g;
    this.values = values;
    this.frozenGraph = frozenGraph;
    findRestoreKeys();
  }

  /**
   * For the runtime: when the model writes variables (a signature's graph does, or a function it
   * calls, leaving out the save/restore ones), every variable stays a {@code VarHandleOp} (or TF1
   * {@code VariableV2}) carrying its checkpoint value in {@link #INITIAL_VALUE}, so a session holds
   * them as state and runs see each other's writes; reads stay reads. Conversions freeze as before.
   */
  VariableFreezer keepingWrittenVariables(Set<String> signatureNodes) {
    this.keepWritten = true;
    this.signatureNodes = Set.copyOf(signatureNodes);
    return this;
  }

  /**
   * Whether any signature writes a resource variable: a writer among the nodes some signature's
   * outputs need, or in a function they call (directly or through other functions), leaving out the
   * checkpoint's restore assignments.
   */
  private boolean writesVariables() {
    Set<String> roots = new java.util.HashSet<>(signatureNodes);
    roots.addAll(g.outputNodes());
    roots.removeIf(r -> !g.has(r));
    Set<String> seenFunctions = new java.util.HashSet<>();
    for (String name : g.reachable(roots)) {
      Node n = g.node(name);
      if ((RESOURCE_WRITERS.contains(n.op()) || REF_WRITERS.contains(n.op()))
          && (n.dataInputs().size() < 2 || restoredKey(n.dataInputs().get(1)) == null)) {
        return true;
      }
      if (callsWriter(n, seenFunctions)) {
        return true;
      }
    }
    return false;
  }

  /** Whether a function {@code n} calls (by op or attribute) writes a variable, transitively. */
  private boolean callsWriter(Node n, Set<String> seen) {
    List<String> called = new ArrayList<>();
    if (g.function(n.op()) != null) {
      called.add(n.op());
    }
    for (AttrValue v : n.attrs().values()) {
      if (v instanceof AttrValue.Func f) {
        called.add(f.value().name());
      } else if (v instanceof AttrValue.ListAttr l) {
        l.func().forEach(f -> called.add(f.name()));
      }
    }
    for (String name : called) {
      GraphFunction f = g.function(name);
      if (f == null || !seen.add(name)) {
        continue;
      }
      if (f.nodes().stream().anyMatch(x -> CHECKPOINT_OPS.contains(x.op()))) {
        continue;
      }
      for (Node x : f.nodes()) {
        if (RESOURCE_WRITERS.contains(x.op()) || callsWriter(x, seen)) {
          return true;
        }
      }
    }
    return false;
  }

  /** Variable node name to checkpoint key, from the restore subgraph. Exposed for tests. */
  Map<String, String> keys() {
    return keys;
  }

  private void findRestoreKeys() {
    for (Node n : g.nodes()) {
      if (!n.op().equals("Assign") && !n.op().equals("AssignVariableOp")) {
        continue;
      }
      List<String> ins = n.dataInputs();
      if (ins.size() < 2) {
        continue;
      }
      Node var = variableOf(ins.get(0));
      String[] key = restoredKey(ins.get(1));
      if (var != null && key != null && !keys.containsKey(var.name())) {
        keys.put(var.name(), key[0]);
        slices.put(var.name(), key[1]);
      }
    }
  }

  /** The variable node a reference reaches through identities, or null. */
  Node variableOf(String ref) {
    Node n = g.node(TensorRef.nodeOf(ref));
    for (int guard = 0; n != null && guard < 10_000; guard++) {
      if (TF1_VARIABLES.contains(n.op()) || n.op().equals("VarHandleOp")) {
        return n;
      }
      if (!IDENTITIES.contains(n.op()) || n.dataInputs().isEmpty()) {
        return null;
      }
      n = g.node(TensorRef.nodeOf(n.input(0)));
    }
    return null;
  }

  /** The checkpoint key and slice spec of a value read by a restore op, or null. */
  private String[] restoredKey(String ref) {
    TensorRef r = TensorRef.parse(ref);
    Node n = g.node(r.node());
    for (int guard = 0; n != null && IDENTITIES.contains(n.op()) && guard < 10_000; guard++) {
      r = TensorRef.parse(n.input(0));
      n = g.node(r.node());
    }
    if (n == null || n.dataInputs().size() < 2) {
      return null;
    }
    int k =
        switch (n.op()) {
          case "RestoreV2" -> r.index();
          case "Restore", "RestoreSlice" -> 0;
          default -> -1;
        };
    if (k < 0) {
      return null;
    }
    Node names = g.node(TensorRef.nodeOf(n.input(1)));
    TensorValue tv = names == null ? null : names.tensorAttr("value");
    if (names == null
        || !names.op().equals("Const")
        || tv == null
        || tv.value() == null
        || tv.value().dtype() != DType.STRING) {
      return null;
    }
    List<byte[]> all = tv.value().toByteStrings();
    if (k >= all.size()) {
      return null;
    }
    String slice = "";
    Node specs = n.dataInputs().size() > 2 ? g.node(TensorRef.nodeOf(n.input(2))) : null;
    TensorValue sv = specs == null ? null : specs.tensorAttr("value");
    if (specs != null
        && specs.op().equals("Const")
        && sv != null
        && sv.value() != null
        && sv.value().dtype() == DType.STRING) {
      List<byte[]> s = sv.value().toByteStrings();
      slice = k < s.size() ? new String(s.get(k), java.nio.charset.StandardCharsets.UTF_8) : "";
    }
    return new String[] {new String(all.get(k), java.nio.charset.StandardCharsets.UTF_8), slice};
  }

  /**
   * Freezes every variable the graph's outputs need.
   *
   * @return how many variables were frozen
   */
  public int freeze() {
    Set<String> needed = g.reachable(g.outputNodes());
    Set<String> kept = new java.util.HashSet<>();
    if (keepWritten && writesVariables()) {
      for (Node n : g.nodes()) {
        boolean variable = n.op().equals("VarHandleOp") || TF1_VARIABLES.contains(n.op());
        if (variable && needed.contains(n.name())) {
          Tensor t = value(n, n.name());
          n.attr(
              INITIAL_VALUE,
              new AttrValue.TensorAttr(
                  new TensorValue(t.dtype().tfEnum(), TensorShape.of(t.shape()), t)));
          kept.add(n.name());
        }
      }
    }
    Map<String, String> constOfVariable = new LinkedHashMap<>();
    int frozen = 0;
    for (Node n : g.topologicalOrder()) {
      if (!needed.contains(n.name())) {
        continue;
      }
      Node readVar =
          n.op().equals("ReadVariableOp") || n.op().equals("ResourceGather")
              ? variableOf(n.input(0))
              : null;
      if (readVar != null && kept.contains(readVar.name()) || kept.contains(n.name())) {
        continue;
      }
      if (TF1_VARIABLES.contains(n.op())) {
        Tensor t = value(n, n.name());
        int dtype = DataTypes.base(n.typeAttr("dtype"));
        toConst(n, dtype, t);
        frozen++;
      } else if (n.op().equals("ReadVariableOp")) {
        Node var = variableOf(n.input(0));
        if (var == null || !var.op().equals("VarHandleOp")) {
          throw new UnsupportedModelException(
              g.source()
                  + ": node '"
                  + n.name()
                  + "' reads a variable through '"
                  + n.input(0)
                  + "', which is not a variable handle tfport can follow; the variable cannot be frozen");
        }
        String first = constOfVariable.get(var.name());
        if (first != null) {
          // One constant per variable: later reads become identities that a later pass removes.
          n.op("Identity");
          n.attrs().clear();
          n.attr("T", new AttrValue.Type(DataTypes.base(var.typeAttr("dtype"))));
          List<String> ins = new ArrayList<>(n.controlInputs());
          ins.add(0, first);
          n.setInputs(ins);
          continue;
        }
        toConst(n, DataTypes.base(var.typeAttr("dtype")), value(var, n.name()));
        constOfVariable.put(var.name(), n.name());
        frozen++;
      } else if (n.op().equals("ResourceGather")) {
        freezeGather(n, constOfVariable);
        frozen++;
      }
    }
    frozen += freezeControlFlowInputs(needed, constOfVariable, kept);
    // Whatever still reads a variable handle cannot run once the variables are gone.
    Set<String> stillNeeded = g.reachable(g.outputNodes());
    for (Node n : g.nodes()) {
      if (!stillNeeded.contains(n.name())) {
        continue;
      }
      for (String in : n.dataInputs()) {
        Node src = g.node(TensorRef.nodeOf(in));
        if (src != null
            && src.op().equals("VarHandleOp")
            && !kept.contains(src.name())
            && !n.op().equals("VarIsInitializedOp")) {
          throw new UnsupportedModelException(
              g.source()
                  + ": node '"
                  + n.name()
                  + "' ("
                  + n.op()
                  + ") uses variable '"
                  + src.name()
                  + "' in a way tfport cannot freeze (only reads and gathers);"
                  + " export a signature that does not update or inspect variables");
        }
      }
    }
    return frozen;
  }

  /**
   * A variable handle passed into {@code While}/{@code If} is read inside its functions (a {@code
   * tf.function} reading {@code self.w} in a loop traces so). The handle input becomes the
   * variable's frozen value, and each function gets a copy whose argument takes that value: its
   * {@code ReadVariableOp}s become identities, as TensorFlow's own {@code
   * convert_variables_to_constants_v2} does.
   *
   * @return how many handle inputs were replaced
   */
  private int freezeControlFlowInputs(
      Set<String> needed, Map<String, String> constOfVariable, Set<String> kept) {
    int count = 0;
    for (Node n : new ArrayList<>(g.nodes())) {
      if (!needed.contains(n.name()) || !ResourceArgSpecializer.CONTROL_FLOW.containsKey(n.op())) {
        continue;
      }
      int first = ResourceArgSpecializer.firstDataInput(n.op());
      List<String> ins = n.dataInputs();
      for (int k = first; k < ins.size(); k++) {
        Node var = variableOf(ins.get(k));
        if (var == null || !var.op().equals("VarHandleOp") || kept.contains(var.name())) {
          continue;
        }
        String valueNode = constOfVariable.get(var.name());
        if (valueNode == null) {
          valueNode = g.uniqueName(var.name() + "/frozen");
          Node c = new Node(valueNode, "Const", List.of());
          toConst(c, DataTypes.base(var.typeAttr("dtype")), value(var, n.name()));
          g.add(c);
          constOfVariable.put(var.name(), valueNode);
        }
        int dtype = DataTypes.base(g.node(valueNode).typeAttr("dtype"));
        List<String> all = new ArrayList<>(n.inputs());
        all.set(k, valueNode);
        n.setInputs(all);
        new ResourceArgSpecializer(g).specialize(n, k - first, dtype, var, g.source());
        count++;
      }
    }
    return count;
  }

  /**
   * {@code ResourceGather(var, indices)} is {@code GatherV2(value, indices, 0)} on the frozen
   * value.
   */
  private void freezeGather(Node n, Map<String, String> constOfVariable) {
    Node var = variableOf(n.input(0));
    if (var == null || !var.op().equals("VarHandleOp")) {
      throw new UnsupportedModelException(
          g.source()
              + ": node '"
              + n.name()
              + "' gathers from '"
              + n.input(0)
              + "', which is not a variable handle tfport can follow");
    }
    String valueNode = constOfVariable.get(var.name());
    if (valueNode == null) {
      valueNode = g.uniqueName(n.name() + "/ReadVariableOp");
      Node c = new Node(valueNode, "Const", List.of());
      toConst(c, DataTypes.base(var.typeAttr("dtype")), value(var, n.name()));
      g.add(c);
      constOfVariable.put(var.name(), valueNode);
    }
    String axis = g.uniqueName(n.name() + "/axis");
    Node a = new Node(axis, "Const", List.of());
    toConst(a, DType.INT32.tfEnum(), Tensor.ofInts(Shape.SCALAR, 0));
    g.add(a);
    long batchDims = n.attr("batch_dims") instanceof AttrValue.Int i ? i.value() : 0;
    int dtype = n.typeAttr("dtype");
    int tindices = n.typeAttr("Tindices");
    List<String> ins = new ArrayList<>();
    ins.add(valueNode);
    ins.add(n.input(1));
    ins.add(axis);
    ins.addAll(n.controlInputs());
    n.op("GatherV2");
    n.attrs().clear();
    n.attr("Tparams", new AttrValue.Type(dtype));
    n.attr("Tindices", new AttrValue.Type(tindices < 0 ? DType.INT32.tfEnum() : tindices));
    n.attr("Taxis", new AttrValue.Type(DType.INT32.tfEnum()));
    n.attr("batch_dims", new AttrValue.Int(batchDims));
    n.setInputs(ins);
  }

  private Tensor value(Node var, String reader) {
    if (frozenGraph) {
      throw new UnsupportedModelException(
          g.source()
              + ": the graph still has variable '"
              + var.name()
              + "' ("
              + var.op()
              + (reader.equals(var.name()) ? "" : ", read by node '" + reader + "'")
              + "), and a GraphDef"
              + " carries no variable values; freeze the graph first (variables to constants), or convert the"
              + " SavedModel instead");
    }
    String key = keys.get(var.name());
    if (key == null) {
      key =
          var.op().equals("VarHandleOp")
                  && var.stringAttr("shared_name") != null
                  && !var.stringAttr("shared_name").isEmpty()
              ? var.stringAttr("shared_name")
              : var.name();
    }
    Tensor t = values.read(key, slices.getOrDefault(var.name(), ""));
    if (t == null) {
      throw new UnsupportedModelException(
          g.source()
              + ": variable '"
              + var.name()
              + "' (read by node '"
              + reader
              + "') has no value in the checkpoint (looked for key '"
              + key
              + "'); the SavedModel's variables are"
              + " missing or the signature reads a variable that is initialised at run time");
    }
    if (var.attr("shape") instanceof AttrValue.Shape s && !s.value().unknownRank()) {
      long[] want = s.value().dims();
      long[] got = t.shape().dims();
      boolean ok = want.length == got.length;
      for (int i = 0; ok && i < want.length; i++) {
        ok = want[i] < 0 || want[i] == got[i];
      }
      if (!ok) {
        throw new UnsupportedModelException(
            g.source()
                + ": variable '"
                + var.name()
                + "' is declared "
                + s.value()
                + " but the checkpoint holds "
                + t.shape()
                + " under '"
                + key
                + "'; the SavedModel's"
                + " graph and variables do not belong together");
      }
    }
    return t;
  }

  static void toConst(Node n, int declared, Tensor t) {
    // The stored tensor decides: a declared type that disagrees would mislabel the bytes.
    int dtype = t.dtype().tfEnum();
    n.op("Const");
    n.attrs().clear();
    n.attr("dtype", new AttrValue.Type(dtype));
    n.attr("value", new AttrValue.TensorAttr(new TensorValue(dtype, TensorShape.of(t.shape()), t)));
    n.setInputs(n.controlInputs());
  }
}
