package org.tfport.convert.tfjs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.core.graph.TensorValue;
import org.tfport.formats.savedmodel.SavedModelWriter;

/**
 * Turns a frozen graph's weights back into resource variables: each floating-point (or 8/16-bit
 * integer) constant of more than one element becomes a {@code VarHandleOp} and a {@code
 * ReadVariableOp} that keeps the constant's name (so its consumers stay as they are), its value a
 * checkpoint entry of that name. A V2 saver is added as TensorFlow 1's {@code tf.train.Saver}
 * builds it: a prefix placeholder, {@code RestoreV2} and one {@code AssignVariableOp} per variable
 * under a {@code restore_all} no-op, and {@code SaveV2} behind an identity of the prefix.
 *
 * <p>Small constants (scalars, shapes, axes, integer tables) stay constants: TensorFlow's shape
 * inference needs them, and they are structure, not weights.
 */
public final class CheckpointVariables {
  // 8/16-bit integers are quantized weights kept as stored (--keep_quantization on a .tflite).
  private static final Set<DType> WEIGHT_TYPES =
      Set.of(DType.FLOAT32, DType.FLOAT16, DType.FLOAT64, DType.INT8, DType.UINT8, DType.INT16);

  /**
   * What the rewrite made.
   *
   * @param values checkpoint key to value, in graph order
   * @param saver the saver's tensors, null when there are no variables
   */
  record Result(Map<String, Tensor> values, SavedModelWriter.Saver saver) {}

  private CheckpointVariables() {}

  static Result rewrite(Graph g) {
    Map<String, Tensor> values = new LinkedHashMap<>();
    Map<String, String> handles = new LinkedHashMap<>();
    for (Node n : new ArrayList<>(g.nodes())) {
      if (!n.op().equals("Const")) {
        continue;
      }
      TensorValue tv = n.tensorAttr("value");
      Tensor t = tv == null ? null : tv.value();
      if (t == null || !WEIGHT_TYPES.contains(t.dtype()) || t.size() < 2) {
        continue;
      }
      String name = n.name();
      String handle = g.uniqueName(name + "/Variable");
      AttrValue.Type dtype = new AttrValue.Type(t.dtype().tfEnum());
      Map<String, AttrValue> va = new LinkedHashMap<>();
      va.put("dtype", dtype);
      va.put("shape", new AttrValue.Shape(TensorShape.of(t.shape())));
      va.put("container", new AttrValue.Str(new byte[0]));
      va.put(
          "shared_name", new AttrValue.Str(name.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      g.add(new Node(handle, "VarHandleOp", List.of(), n.device(), va));
      g.remove(name);
      List<String> ins = new ArrayList<>(List.of(handle));
      ins.addAll(n.controlInputs());
      Map<String, AttrValue> ra = new LinkedHashMap<>();
      ra.put("dtype", dtype);
      g.add(new Node(name, "ReadVariableOp", ins, n.device(), ra));
      values.put(name, t);
      handles.put(name, handle);
    }
    if (values.isEmpty()) {
      return new Result(values, null);
    }
    Map<String, String> reads = new LinkedHashMap<>();
    values.keySet().forEach(k -> reads.put(k, k));
    return new Result(values, addSaver(g, values, handles, reads));
  }

  /**
   * Adds a V2 saver over resource variables.
   *
   * @param values checkpoint key to value (its type)
   * @param handles checkpoint key to the variable's {@code VarHandleOp}
   * @param reads checkpoint key to the tensor that reads the variable, which the save op writes
   */
  public static SavedModelWriter.Saver addSaver(
      Graph g, Map<String, Tensor> values, Map<String, String> handles, Map<String, String> reads) {
    String scope = scope(g);
    List<String> keys = new ArrayList<>(values.keySet());
    List<Integer> dtypes = keys.stream().map(k -> values.get(k).dtype().tfEnum()).toList();
    Shape n = Shape.of(keys.size());
    List<String> blanks = keys.stream().map(k -> "").toList();

    String filename = constString(g, scope + "/filename", Shape.SCALAR, List.of("model"));
    Map<String, AttrValue> pa = new LinkedHashMap<>();
    pa.put("dtype", new AttrValue.Type(DType.STRING.tfEnum()));
    pa.put("shape", new AttrValue.Shape(TensorShape.SCALAR));
    String prefix = scope + "/Const";
    g.add(new Node(prefix, "PlaceholderWithDefault", List.of(filename), "", pa));

    String names = constString(g, scope + "/RestoreV2/tensor_names", n, keys);
    String slices = constString(g, scope + "/RestoreV2/shape_and_slices", n, blanks);
    String restore = scope + "/RestoreV2";
    g.add(
        new Node(
            restore,
            "RestoreV2",
            List.of(prefix, names, slices),
            "",
            attrs("dtypes", AttrValue.ListAttr.ofTypes(dtypes))));
    List<String> assigns = new ArrayList<>();
    for (int i = 0; i < keys.size(); i++) {
      String assign = scope + "/AssignVariableOp" + (i == 0 ? "" : "_" + i);
      g.add(
          new Node(
              assign,
              "AssignVariableOp",
              List.of(handles.get(keys.get(i)), i == 0 ? restore : restore + ":" + i),
              "",
              attrs("dtype", new AttrValue.Type(dtypes.get(i)))));
      assigns.add("^" + assign);
    }
    String restoreAll = scope + "/restore_all";
    g.add(new Node(restoreAll, "NoOp", assigns, "", new LinkedHashMap<>()));

    String saveNames = constString(g, scope + "/SaveV2/tensor_names", n, keys);
    String saveSlices = constString(g, scope + "/SaveV2/shape_and_slices", n, blanks);
    List<String> saveIns = new ArrayList<>(List.of(prefix, saveNames, saveSlices));
    keys.forEach(k -> saveIns.add(reads.get(k)));
    String save = scope + "/SaveV2";
    g.add(
        new Node(save, "SaveV2", saveIns, "", attrs("dtypes", AttrValue.ListAttr.ofTypes(dtypes))));
    String saved = scope + "/control_dependency";
    g.add(
        new Node(
            saved,
            "Identity",
            List.of(prefix, "^" + save),
            "",
            attrs("T", new AttrValue.Type(DType.STRING.tfEnum()))));
    return new SavedModelWriter.Saver(prefix + ":0", saved + ":0", restoreAll);
  }

  /** {@code save}, or {@code save_1}, ... when the model already has nodes under that name. */
  private static String scope(Graph g) {
    for (int i = 0; ; i++) {
      String s = i == 0 ? "save" : "save_" + i;
      String under = s + "/";
      if (!g.has(s) && g.nodes().stream().noneMatch(x -> x.name().startsWith(under))) {
        return s;
      }
    }
  }

  private static String constString(Graph g, String name, Shape shape, List<String> values) {
    Tensor t = Tensor.ofStrings(shape, values);
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("dtype", new AttrValue.Type(DType.STRING.tfEnum()));
    a.put(
        "value",
        new AttrValue.TensorAttr(new TensorValue(DType.STRING.tfEnum(), TensorShape.of(shape), t)));
    g.add(new Node(name, "Const", List.of(), "", a));
    return name;
  }

  private static Map<String, AttrValue> attrs(String key, AttrValue v) {
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put(key, v);
    return a;
  }
}
