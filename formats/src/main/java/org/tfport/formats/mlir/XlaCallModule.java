package org.tfport.formats.mlir;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.FuncRef;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;

/**
 * The attributes of a jax2tf {@code XlaCallModule} node (TensorFlow's op: {@code version}, {@code
 * module}, {@code Sout}, {@code Tout}, {@code Tin}, {@code dim_args_spec}, {@code platforms},
 * {@code function_list}, {@code has_token_input_output}, {@code disabled_checks}), with the module
 * decoded. Since op version 4 the module is a StableHLO portable artifact (MLIR bytecode); versions
 * 1 to 3 hold MLIR text, kept as it is.
 *
 * @param node the node's name, for messages
 * @param module the decoded bytecode, or null when the attribute holds MLIR text
 * @param text the module as MLIR text: {@link MlirBytecode#toGenericText(MlirModule)} of the
 *     bytecode, or the attribute's own text
 * @param outputShapes {@code Sout}: result shapes, -1 for an unknown dimension
 * @param outputTypes {@code Tout}: result TensorFlow dtypes (DataType enum numbers)
 * @param functionList {@code function_list}: TensorFlow functions the module calls through {@code
 *     tf.call_tf_function} custom calls ({@code called_index} indexes this list)
 */
public record XlaCallModule(
    String node,
    long version,
    MlirModule module,
    String text,
    List<TensorShape> outputShapes,
    List<Integer> outputTypes,
    List<Integer> inputTypes,
    List<String> dimArgsSpec,
    List<String> platforms,
    List<String> functionList,
    boolean hasTokenInputOutput,
    List<String> disabledChecks) {

  public static final String OP = "XlaCallModule";

  /**
   * Reads {@code node}'s attributes; {@code source} names the model file in errors.
   *
   * @throws CorruptModelException naming the file and node when {@code module} is missing or its
   *     bytecode is damaged
   */
  public static XlaCallModule of(Node node, String source) {
    if (!OP.equals(node.op())) {
      throw new IllegalArgumentException(node.name() + " is a " + node.op() + ", not " + OP);
    }
    Map<String, AttrValue> a = node.attrs();
    String where = source + ": node " + node.name() + " (" + OP + ")";
    if (!(a.get("module") instanceof AttrValue.Str s)) {
      throw new CorruptModelException(where + " has no 'module' attribute");
    }
    byte[] bytes = s.value();
    MlirModule module = null;
    String text;
    if (MlirBytecode.isBytecode(bytes)) {
      module = MlirBytecode.read(bytes, where + " module");
      text = MlirBytecode.toGenericText(module);
    } else {
      text = new String(bytes, StandardCharsets.UTF_8);
    }
    ListView l = new ListView(a);
    return new XlaCallModule(
        node.name(),
        a.get("version") instanceof AttrValue.Int v ? v.value() : 0,
        module,
        text,
        l.shapes("Sout"),
        l.types("Tout"),
        l.types("Tin"),
        l.strings("dim_args_spec"),
        l.strings("platforms"),
        l.funcs("function_list"),
        a.get("has_token_input_output") instanceof AttrValue.Bool b && b.value(),
        l.strings("disabled_checks"));
  }

  /** Every {@code XlaCallModule} node of the graph and of its library functions. */
  public static List<XlaCallModule> all(Graph graph) {
    List<XlaCallModule> out = new ArrayList<>();
    for (Node n : graph.nodes()) {
      if (OP.equals(n.op())) {
        out.add(of(n, graph.source()));
      }
    }
    for (GraphFunction f : graph.functions().values()) {
      for (Node n : f.nodes()) {
        if (OP.equals(n.op())) {
          out.add(of(n, graph.source() + " function " + f.name()));
        }
      }
    }
    return out;
  }

  private record ListView(Map<String, AttrValue> attrs) {
    AttrValue.ListAttr list(String key) {
      return attrs.get(key) instanceof AttrValue.ListAttr l ? l : null;
    }

    List<String> strings(String key) {
      AttrValue.ListAttr l = list(key);
      return l == null
          ? List.of()
          : l.s().stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList();
    }

    List<Integer> types(String key) {
      AttrValue.ListAttr l = list(key);
      return l == null ? List.of() : l.type();
    }

    List<TensorShape> shapes(String key) {
      AttrValue.ListAttr l = list(key);
      return l == null ? List.of() : l.shape();
    }

    List<String> funcs(String key) {
      AttrValue.ListAttr l = list(key);
      return l == null ? List.of() : l.func().stream().map(FuncRef::name).toList();
    }
  }
}
