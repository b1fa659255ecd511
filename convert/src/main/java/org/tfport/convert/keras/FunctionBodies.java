package org.tfport.convert.keras;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.ArgDef;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;

/**
 * A graph's nodes as the body of a {@code FunctionDef}: a body names a tensor {@code
 * node:out_arg:idx} by the op's output argument, where a graph says {@code node:flat_index}. The
 * argument names are TensorFlow's (its op registry; {@code FunctionBodiesTest} checks every entry
 * against TensorFlow 2.18's), for the ops the Keras graph builder emits.
 */
final class FunctionBodies {
  /** Output arguments by op: name, then the attribute repeating it ({@code N} / type list). */
  private static final Map<String, List<ArgDef>> OUTPUTS = new HashMap<>();

  static {
    one("z", "AddV2", "Sub", "Mul", "RealDiv", "Maximum", "Minimum", "Greater", "GreaterEqual");
    one("z", "Less", "LessEqual", "Equal", "NotEqual", "Pow", "SquaredDifference", "FloorDiv");
    one("z", "FloorMod", "LogicalAnd", "LogicalOr");
    one("y", "Cast", "Neg", "Sigmoid", "Tanh", "Transpose", "Exp", "Erf", "Sqrt", "Rsqrt");
    one("y", "Square", "Abs", "Log", "ZerosLike", "OnesLike", "Floor", "Round", "Sign");
    one("y", "Reciprocal", "LogicalNot");
    one("activations", "Elu", "LeakyRelu", "Relu", "Relu6", "Selu", "Softplus", "Softsign");
    one("softmax", "Softmax");
    one("logsoftmax", "LogSoftmax");
    one("product", "MatMul");
    one("sum", "AddN");
    one(
        "output",
        "AvgPool",
        "AvgPool3D",
        "BatchMatMulV2",
        "BiasAdd",
        "ConcatV2",
        "Const",
        "Conv2D",
        "Conv2DBackpropInput",
        "Conv3D",
        "Conv3DBackpropInputV2",
        "DepthwiseConv2dNative",
        "ExpandDims",
        "Fill",
        "GatherV2",
        "Identity",
        "Max",
        "MaxPool",
        "MaxPool3D",
        "Mean",
        "Min",
        "Sum",
        "Prod",
        "Pack",
        "Pad",
        "MirrorPad",
        "Placeholder",
        "Reshape",
        "ReverseV2",
        "SelectV2",
        "Select",
        "Shape",
        "Slice",
        "Squeeze",
        "StridedSlice",
        "Tile",
        "Range",
        "ArgMax",
        "BroadcastTo",
        "ClipByValue",
        "Einsum",
        "SpaceToDepth",
        "DepthToSpace");
    one("resized_images", "ResizeBilinear", "ResizeNearestNeighbor");
    one("handle", "TensorListReserve");
    one("output_handle", "TensorListFromTensor", "TensorListSetItem");
    one("tensor", "TensorListStack");
    one("item", "TensorListGetItem");
    one("band", "MatrixBandPart");
    one("out", "Cumsum");
    OUTPUTS.put("Split", List.of(new ArgDef("output", 0, "T", "num_split", "")));
    OUTPUTS.put("SplitV", List.of(new ArgDef("output", 0, "T", "num_split", "")));
    OUTPUTS.put("Unpack", List.of(new ArgDef("output", 0, "T", "num", "")));
    for (String w : List.of("While", "StatelessWhile")) {
      OUTPUTS.put(w, List.of(new ArgDef("output", 0, "", "", "T")));
    }
    for (String w : List.of("If", "StatelessIf")) {
      OUTPUTS.put(w, List.of(new ArgDef("output", 0, "", "", "Tout")));
    }
  }

  private FunctionBodies() {}

  private static void one(String arg, String... ops) {
    for (String op : ops) {
      OUTPUTS.put(op, List.of(ArgDef.single(arg)));
    }
  }

  /** The ops this class can name the outputs of, with their output arguments. */
  static Map<String, List<ArgDef>> known() {
    return Map.copyOf(OUTPUTS);
  }

  /**
   * Copies of {@code nodes} (of graph {@code g}) with every input in function form; {@code args}
   * maps a graph tensor ({@code node:index}, index 0 written bare) to the function argument that
   * replaces it.
   *
   * @throws UnsupportedModelException naming a node whose op's outputs are not known here
   */
  static List<Node> body(Graph g, List<Node> nodes, Map<String, String> args) {
    List<Node> out = new ArrayList<>();
    for (Node n : nodes) {
      List<String> ins = new ArrayList<>();
      for (String in : n.inputs()) {
        TensorRef r = TensorRef.parse(in);
        if (r.control()) {
          ins.add(in);
          continue;
        }
        String key = r.index() == 0 ? r.node() : r.node() + ":" + r.index();
        String arg = args.get(key);
        ins.add(arg != null ? arg : ref(g, g.node(r.node()), r.index()));
      }
      Node c = n.copy();
      c.setInputs(ins);
      out.add(c);
    }
    return out;
  }

  /** {@code node:out_arg:idx} for output {@code index} of {@code producer}. */
  static String ref(Graph g, Node producer, int index) {
    List<ArgDef> outs = outputs(g, producer);
    int flat = 0;
    for (ArgDef a : outs) {
      int size = g.argSize(producer, a);
      if (index < flat + size) {
        return producer.name() + ":" + a.name() + ":" + (index - flat);
      }
      flat += size;
    }
    throw new UnsupportedModelException(
        g.source()
            + ": node '"
            + producer.name()
            + "' ("
            + producer.op()
            + ") has no output "
            + index
            + "; the graph is inconsistent");
  }

  private static List<ArgDef> outputs(Graph g, Node n) {
    GraphFunction f = g.functions().get(n.op());
    if (f != null) {
      return f.outputArgs();
    }
    List<ArgDef> outs = OUTPUTS.get(n.op());
    if (outs == null) {
      throw new UnsupportedModelException(
          g.source()
              + ": node '"
              + n.name()
              + "' runs "
              + n.op()
              + ", whose output names tfport does not know, so it cannot be written into the"
              + " SavedModel's function; convert into ModelFormat.TFJS_GRAPH_MODEL or"
              + " ModelFormat.KERAS instead");
    }
    return outs;
  }

  /** Attribute map helper: insertion-ordered, mutable. */
  static Map<String, AttrValue> attrs(Object... kv) {
    Map<String, AttrValue> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], (AttrValue) kv[i + 1]);
    }
    return m;
  }
}
