package org.tfport.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.tfport.runtime.TestGraphs.constant;
import static org.tfport.runtime.TestGraphs.node;
import static org.tfport.runtime.TestGraphs.placeholder;
import static org.tfport.runtime.TestGraphs.type;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.OpOracle;
import org.tfport.runtime.ops.StandardKernels;

/** Joins (ConcatV2, Concat, Pack) whose inputs disagree on the dtype are refused at plan time. */
class JoinTypesTest {
  private static final KernelRegistry.Mode REF = KernelRegistry.Mode.REFERENCE;

  private static Graph mixed(String op, List<String> inputs, DType t) {
    Graph g = new Graph("mixed.pb");
    g.add(placeholder("f", DType.FLOAT32, 2));
    g.add(placeholder("i", DType.INT32, 2));
    g.add(constant("axis", Value.scalar(0)));
    g.add(node("join", op, inputs, "T", type(t), "N", new AttrValue.Int(2)));
    return g;
  }

  private static Plan plan(Graph g) {
    return Planner.plan(g, List.of("f", "i"), List.of("join"), StandardKernels.registry(), REF);
  }

  @Test
  void concatV2OfFloatAndIntIsRefusedNamingTheNode() {
    assertThatThrownBy(() -> plan(mixed("ConcatV2", List.of("f", "i", "axis"), DType.FLOAT32)))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageStartingWith("mixed.pb: node 'join' (ConcatV2): values[1] is int32 but T is")
        .hasMessageContaining("float32");
  }

  @Test
  void concatWithTheAxisFirstIsRefusedToo() {
    assertThatThrownBy(() -> plan(mixed("Concat", List.of("axis", "i", "f"), DType.INT32)))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageStartingWith("mixed.pb: node 'join' (Concat): values[1] is float32 but T is");
  }

  @Test
  void packIsRefusedWithoutATypeAttributeFromTheInputsAlone() {
    Graph g = new Graph("mixed.pb");
    g.add(placeholder("f", DType.FLOAT32, 2));
    g.add(placeholder("i", DType.INT32, 2));
    g.add(node("join", "Pack", List.of("i", "f"), "N", new AttrValue.Int(2)));
    assertThatThrownBy(() -> plan(g))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageStartingWith(
            "mixed.pb: node 'join' (Pack): values[1] is float32 but values[0] is int32");
  }

  @Test
  void inputsOfOneTypeStillJoin() {
    Graph g = new Graph("same.pb");
    g.add(placeholder("f", DType.FLOAT32, 2));
    g.add(placeholder("i", DType.FLOAT32, 2));
    g.add(
        node(
            "join",
            "Pack",
            List.of("f", "i"),
            "T",
            type(DType.FLOAT32),
            "N",
            new AttrValue.Int(2)));
    Value[] out =
        plan(g)
            .run(
                new Value[] {
                  Value.floats(new long[] {2}, new float[] {1, 2}),
                  Value.floats(new long[] {2}, new float[] {3, 4})
                },
                OpOracle.context(1));
    assertThat(out[0].shape()).containsExactly(2, 2);
    assertThat(out[0].floats()).containsExactly(1, 2, 3, 4);
  }
}
