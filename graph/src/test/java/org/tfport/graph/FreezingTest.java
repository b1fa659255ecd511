package org.tfport.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.ArgDef;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.FuncRef;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;

/** Inlining, freezing and the cleanup passes on graphs small enough to check node by node. */
class FreezingTest {
  static final AttrValue FLOAT = new AttrValue.Type(DType.FLOAT32.tfEnum());

  static Node node(String name, String op, String... inputs) {
    return new Node(name, op, List.of(inputs), "", Map.of("T", FLOAT));
  }

  static Node constant(String name, Tensor t) {
    Node c = new Node(name, "Const", List.of());
    VariableFreezer.toConst(c, t.dtype().tfEnum(), t);
    return c;
  }

  static Node placeholder(String name) {
    return new Node(name, "Placeholder", List.of(), "", Map.of("dtype", FLOAT));
  }

  /** TF1: {@code y = x * w}, w a VariableV2 restored from key "weights" by a Saver. */
  static Graph tf1() {
    Graph g = new Graph("tf1.pb");
    g.add(placeholder("x"));
    g.add(
        new Node(
            "w",
            "VariableV2",
            List.of(),
            "",
            Map.of(
                "dtype",
                new AttrValue.Type(101),
                "shape",
                new AttrValue.Shape(org.tfport.core.graph.TensorShape.of(2)))));
    g.add(node("w/read", "Identity", "w"));
    g.add(node("y", "Mul", "x", "w/read"));
    g.add(constant("save/Const", Tensor.ofStrings(Shape.SCALAR, List.of("model"))));
    g.add(
        constant("save/RestoreV2/tensor_names", Tensor.ofStrings(Shape.of(1), List.of("weights"))));
    g.add(constant("save/RestoreV2/shape_and_slices", Tensor.ofStrings(Shape.of(1), List.of(""))));
    g.add(
        new Node(
            "save/RestoreV2",
            "RestoreV2",
            List.of(
                "save/Const", "save/RestoreV2/tensor_names", "save/RestoreV2/shape_and_slices")));
    g.add(node("save/Assign", "Assign", "w", "save/RestoreV2"));
    g.add(new Node("init", "NoOp", List.of("^save/Assign")));
    g.outputs().add("y");
    g.inputs().add("x");
    return g;
  }

  @Test
  void tf1VariableBecomesAConstantFromItsRestoreKey() {
    Graph g = tf1();
    Tensor w = Tensor.ofFloats(Shape.of(2), 3f, 4f);
    VariableFreezer f = new VariableFreezer(g, (key, slice) -> key.equals("weights") ? w : null);
    assertThat(f.keys()).containsEntry("w", "weights");
    assertThat(f.freeze()).isEqualTo(1);
    GraphLoader.finish(g);
    assertThat(g.nodes()).extracting(Node::name).containsExactly("x", "w", "y");
    assertThat(g.node("w").op()).isEqualTo("Const");
    assertThat(g.node("w").tensorAttr("value").value().toFloatArray()).containsExactly(3f, 4f);
    assertThat(g.node("y").inputs()).containsExactly("x", "w");
  }

  @Test
  void missingCheckpointValueIsNamed() {
    Graph g = tf1();
    assertThatThrownBy(() -> new VariableFreezer(g, (key, slice) -> null).freeze())
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("'w'")
        .hasMessageContaining("weights");
  }

  /**
   * TF2: a signature calls f(x, handle) which reads the variable and multiplies; nested in a second
   * call.
   */
  static Graph tf2() {
    Graph g = new Graph("tf2/saved_model.pb");
    g.add(placeholder("serving_default_x"));
    g.add(
        new Node(
            "v",
            "VarHandleOp",
            List.of(),
            "",
            Map.of("dtype", FLOAT, "shared_name", AttrValue.Str.of("v"))));
    GraphFunction inner =
        new GraphFunction(
            "inner",
            List.of(
                ArgDef.ofType("x", DType.FLOAT32.tfEnum()),
                ArgDef.ofType("res", DataTypes.DT_RESOURCE)),
            List.of(ArgDef.ofType("out", DType.FLOAT32.tfEnum())),
            List.of(
                new Node(
                    "mul/ReadVariableOp",
                    "ReadVariableOp",
                    List.of("res"),
                    "",
                    Map.of("dtype", FLOAT)),
                node("mul", "Mul", "x", "mul/ReadVariableOp:value:0"),
                node("Identity", "Identity", "mul:z:0", "^mul/ReadVariableOp")),
            Map.of("out", "Identity:output:0"),
            Map.of(),
            Map.of(),
            Map.of(),
            true);
    GraphFunction wrapper =
        new GraphFunction(
            "wrapper",
            List.of(
                ArgDef.ofType("x", DType.FLOAT32.tfEnum()),
                ArgDef.ofType("res", DataTypes.DT_RESOURCE)),
            List.of(ArgDef.ofType("out", DType.FLOAT32.tfEnum())),
            List.of(
                new Node(
                    "StatefulPartitionedCall",
                    "StatefulPartitionedCall",
                    List.of("x", "res"),
                    "",
                    Map.of(
                        "f",
                        new AttrValue.Func(FuncRef.of("inner")),
                        "Tout",
                        AttrValue.ListAttr.ofTypes(List.of(DType.FLOAT32.tfEnum())))),
                node("Identity", "Identity", "StatefulPartitionedCall:output:0")),
            Map.of("out", "Identity:output:0"),
            Map.of(),
            Map.of(),
            Map.of(),
            true);
    g.functions().put("inner", inner);
    g.functions().put("wrapper", wrapper);
    g.ops()
        .put(
            "StatefulPartitionedCall",
            new org.tfport.core.graph.OpSignature(
                "StatefulPartitionedCall",
                List.of(),
                List.of(new ArgDef("output", 0, "", "", "Tout")),
                Map.of()));
    g.ops()
        .put(
            "Mul",
            new org.tfport.core.graph.OpSignature(
                "Mul", List.of(), List.of(ArgDef.single("z")), Map.of()));
    g.ops()
        .put(
            "Identity",
            new org.tfport.core.graph.OpSignature(
                "Identity", List.of(), List.of(ArgDef.single("output")), Map.of()));
    g.ops()
        .put(
            "ReadVariableOp",
            new org.tfport.core.graph.OpSignature(
                "ReadVariableOp",
                List.of(),
                List.of(new ArgDef("value", 0, "dtype", "", "")),
                Map.of()));
    g.add(
        new Node(
            "StatefulPartitionedCall",
            "StatefulPartitionedCall",
            List.of("serving_default_x", "v"),
            "",
            Map.of(
                "f",
                new AttrValue.Func(FuncRef.of("wrapper")),
                "Tout",
                AttrValue.ListAttr.ofTypes(List.of(DType.FLOAT32.tfEnum())))));
    g.outputs().add("StatefulPartitionedCall");
    g.inputs().add("serving_default_x");
    return g;
  }

  @Test
  void tf2CallsAreInlinedAndReadsFrozen() {
    Graph g = tf2();
    Node call = g.node("StatefulPartitionedCall");
    FunctionInliner.inline(g, call, "");
    new FunctionInliner().apply(g);
    assertThat(g.nodes()).noneMatch(n -> n.op().endsWith("PartitionedCall"));
    int frozen =
        new VariableFreezer(
                g, (key, slice) -> key.equals("v") ? Tensor.ofFloats(Shape.SCALAR, 3f) : null)
            .freeze();
    assertThat(frozen).isEqualTo(1);
    GraphLoader.finish(g);
    assertThat(g.nodes())
        .extracting(Node::name)
        .containsExactlyInAnyOrder(
            "serving_default_x",
            "Identity",
            "StatefulPartitionedCall/mul/ReadVariableOp",
            "StatefulPartitionedCall/mul");
    assertThat(g.node("StatefulPartitionedCall/mul/ReadVariableOp").op()).isEqualTo("Const");
    assertThat(g.node("StatefulPartitionedCall/mul").inputs())
        .containsExactly("serving_default_x", "StatefulPartitionedCall/mul/ReadVariableOp");
    assertThat(g.outputs()).containsExactly("Identity");
  }

  @Test
  void debugOpsAreStripped() {
    Graph g = new Graph("debug.pb");
    g.add(placeholder("x"));
    g.add(node("check", "CheckNumerics", "x"));
    g.add(new Node("assert", "Assert", List.of("x")));
    g.add(node("y", "Relu", "check", "^assert"));
    g.outputs().add("y");
    new DebugOpStripper().apply(g);
    g.validate();
    assertThat(g.nodes()).extracting(Node::name).containsExactly("x", "y");
    assertThat(g.node("y").inputs()).containsExactly("x");
  }

  @Test
  void maxPoolWithInputsBecomesMaxPool() {
    Graph g = new Graph("pool.pb");
    g.add(placeholder("x"));
    g.add(constant("ksize", Tensor.ofInts(Shape.of(4), 1, 2, 2, 1)));
    g.add(constant("strides", Tensor.ofInts(Shape.of(4), 1, 2, 2, 1)));
    g.add(
        new Node(
            "pool",
            "MaxPoolV2",
            List.of("x", "ksize", "strides"),
            "",
            Map.of("T", FLOAT, "padding", AttrValue.Str.of("VALID"))));
    g.outputs().add("pool");
    GraphLoader.finish(g);
    assertThat(g.node("pool").op()).isEqualTo("MaxPool");
    assertThat(g.node("pool").inputs()).containsExactly("x");
    assertThat(g.node("pool").attr("ksize"))
        .isEqualTo(AttrValue.ListAttr.ofInts(List.of(1L, 2L, 2L, 1L)));
    assertThat(g.nodes()).extracting(Node::name).containsExactly("x", "pool");
  }

  @Test
  void identitiesThatAreOutputsStay() {
    Graph g = new Graph("id.pb");
    g.add(placeholder("x"));
    g.add(node("a", "Identity", "x"));
    g.add(node("b", "StopGradient", "a"));
    g.add(node("y", "Relu", "b"));
    g.add(node("out", "Identity", "y"));
    g.outputs().add("out");
    GraphLoader.finish(g);
    assertThat(g.nodes()).extracting(Node::name).containsExactly("x", "y", "out");
    assertThat(g.node("y").inputs()).containsExactly("x");
  }
}
