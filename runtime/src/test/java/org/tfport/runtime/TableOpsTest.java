package org.tfport.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.tfport.runtime.TestGraphs.REGISTRY;
import static org.tfport.runtime.TestGraphs.constant;
import static org.tfport.runtime.TestGraphs.node;
import static org.tfport.runtime.TestGraphs.placeholder;
import static org.tfport.runtime.TestGraphs.type;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.RunContext;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.OpOracle;
import org.tfport.testkit.OracleTest;

@OracleTest
class TableOpsTest {
  private static Graph graph(Value keys, Value values) {
    Graph g = new Graph("table");
    g.add(
        node(
            "table",
            "HashTableV2",
            List.of(),
            "key_dtype",
            type(DType.INT64),
            "value_dtype",
            type(DType.FLOAT32),
            "shared_name",
            AttrValue.Str.of("t"),
            "container",
            AttrValue.Str.of(""),
            "use_node_name_sharing",
            new AttrValue.Bool(false)));
    g.add(constant("keys", keys));
    g.add(constant("values", values));
    g.add(
        node(
            "init",
            "InitializeTableV2",
            List.of("table", "keys", "values"),
            "Tkey",
            type(DType.INT64),
            "Tval",
            type(DType.FLOAT32)));
    g.add(placeholder("q", DType.INT64, 5));
    g.add(constant("default", Value.floats(new long[0], -0.5f)));
    g.add(
        node(
            "find",
            "LookupTableFindV2",
            List.of("table", "q", "default", "^init"),
            "Tin",
            type(DType.INT64),
            "Tout",
            type(DType.FLOAT32)));
    g.add(node("size", "LookupTableSizeV2", List.of("table", "^init")));
    return g;
  }

  @Test
  void initializedTableMatchesTensorFlow() {
    Graph g =
        graph(
            Value.longs(new long[] {4}, 3, -8, 1L << 40, 0),
            Value.floats(new long[] {4}, 1.25f, -2, 7, 0.5f));
    List<Value> out =
        ControlFlowTest.runBoth(
            g,
            Map.of("q", Value.longs(new long[] {5}, 0, 5, -8, 1L << 40, 3)),
            List.of("find", "size"));
    assertThat(out.get(0).floats()).containsExactly(0.5f, -0.5f, -2f, 7f, 1.25f);
  }

  @Test
  void conflictingInitializationsAreRefused() {
    Graph g = graph(Value.longs(new long[] {2}, 1, 1), Value.floats(new long[] {2}, 1, 2));
    Plan p =
        Planner.plan(g, List.of("q"), List.of("find"), REGISTRY, KernelRegistry.Mode.REFERENCE);
    Value q = Value.longs(new long[] {5}, 1, 2, 3, 4, 5);
    assertThatThrownBy(() -> p.run(new Value[] {q}, OpOracle.context(1)))
        .isInstanceOf(KernelException.class)
        .hasMessage("node 'init' (InitializeTableV2): key 1 is given two values, 1.0 and 2.0");

    // One session's table is filled once: the same data again is fine, other data is refused.
    RunContext session = OpOracle.context(1);
    Graph a = graph(Value.longs(new long[] {1}, 1), Value.floats(new long[] {1}, 1));
    Graph b = graph(Value.longs(new long[] {1}, 1), Value.floats(new long[] {1}, 3));
    Plan pa =
        Planner.plan(a, List.of("q"), List.of("find"), REGISTRY, KernelRegistry.Mode.REFERENCE);
    Plan pb =
        Planner.plan(b, List.of("q"), List.of("find"), REGISTRY, KernelRegistry.Mode.REFERENCE);
    assertThat(pa.run(new Value[] {q}, session)[0].floats())
        .containsExactly(1, -0.5f, -0.5f, -0.5f, -0.5f);
    assertThat(pa.run(new Value[] {q}, session)[0].floats())
        .containsExactly(1, -0.5f, -0.5f, -0.5f, -0.5f);
    assertThatThrownBy(() -> pb.run(new Value[] {q}, session))
        .isInstanceOf(KernelException.class)
        .hasMessage(
            "node 'init' (InitializeTableV2): the table was already initialized with different data");
  }
}
