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
import org.tfport.core.graph.Graph;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.OpOracle;
import org.tfport.testkit.OracleTest;

/**
 * Every TensorList op on one graph, compared with TensorFlow 2.18 (element values are moved, never
 * computed: exact).
 */
@OracleTest
class TensorListOpsTest {
  private static final DType F = DType.FLOAT32;
  private static final DType I = DType.INT32;

  private static Object[] listAttrs(Object... more) {
    Object[] a = new Object[4 + more.length];
    a[0] = "element_dtype";
    a[1] = type(F);
    a[2] = "shape_type";
    a[3] = type(I);
    System.arraycopy(more, 0, a, 4, more.length);
    return a;
  }

  private static Graph graph() {
    Graph g = new Graph("lists");
    g.add(placeholder("t", F, 4, 2));
    g.add(constant("any_row", Value.ints(new long[] {1}, -1)));
    g.add(constant("row", Value.ints(new long[] {1}, 2)));
    g.add(constant("rows", Value.ints(new long[] {2}, -1, 2)));
    g.add(constant("unknown", Value.scalar(-1)));
    g.add(constant("two", Value.scalar(2)));
    g.add(constant("six", Value.scalar(6)));
    g.add(constant("item", Value.floats(new long[] {2}, 7f, -8f)));
    g.add(node("fl", "TensorListFromTensor", List.of("t", "any_row"), listAttrs()));
    g.add(node("len", "TensorListLength", List.of("fl")));
    g.add(node("eshape", "TensorListElementShape", List.of("fl"), "shape_type", type(I)));
    g.add(node("get", "TensorListGetItem", List.of("fl", "two", "row"), "element_dtype", type(F)));
    g.add(constant("gidx", Value.ints(new long[] {3}, 3, 0, 3)));
    g.add(
        node("gather", "TensorListGather", List.of("fl", "gidx", "row"), "element_dtype", type(F)));
    g.add(node("push", "TensorListPushBack", List.of("fl", "item"), "element_dtype", type(F)));
    g.add(node("stack_push", "TensorListStack", List.of("push", "row"), "element_dtype", type(F)));
    g.add(node("pop", "TensorListPopBack", List.of("push", "row"), "element_dtype", type(F)));
    g.add(node("len_pop", "TensorListLength", List.of("pop")));
    g.add(constant("no_leading", Value.longs(new long[] {0})));
    g.add(
        node("concat", "TensorListConcatV2", List.of("fl", "any_row", "no_leading"), listAttrs()));
    g.add(constant("lengths", Value.longs(new long[] {2}, 1, 3)));
    g.add(node("split", "TensorListSplit", List.of("t", "rows", "lengths"), listAttrs()));
    g.add(
        node(
            "concat_split",
            "TensorListConcatV2",
            List.of("split", "rows", "no_leading"),
            listAttrs()));
    g.add(constant("sidx", Value.ints(new long[] {4}, 4, 1, 0, 2)));
    g.add(node("scatter", "TensorListScatterV2", List.of("t", "sidx", "row", "six"), listAttrs()));
    g.add(
        node(
            "stack_scatter",
            "TensorListStack",
            List.of("scatter", "row"),
            "element_dtype",
            type(F)));
    g.add(node("grow", "TensorListResize", List.of("fl", "six")));
    g.add(node("stack_grow", "TensorListStack", List.of("grow", "row"), "element_dtype", type(F)));
    g.add(node("shrink", "TensorListResize", List.of("fl", "two")));
    g.add(
        node(
            "stack_shrink", "TensorListStack", List.of("shrink", "row"), "element_dtype", type(F)));
    g.add(constant("into_idx", Value.ints(new long[] {2}, 3, 0)));
    g.add(constant("into_rows", Value.floats(new long[] {2, 2}, 10, 11, 12, 13)));
    g.add(
        node(
            "into",
            "TensorListScatterIntoExistingList",
            List.of("fl", "into_rows", "into_idx"),
            "element_dtype",
            type(F)));
    g.add(node("stack_into", "TensorListStack", List.of("into", "row"), "element_dtype", type(F)));
    g.add(node("reserve", "TensorListReserve", List.of("row", "two"), listAttrs()));
    g.add(constant("one", Value.scalar(1)));
    g.add(
        node(
            "unset",
            "TensorListGetItem",
            List.of("reserve", "one", "row"),
            "element_dtype",
            type(F)));
    g.add(
        node(
            "set",
            "TensorListSetItem",
            List.of("reserve", "one", "item"),
            "element_dtype",
            type(F)));
    g.add(node("stack_set", "TensorListStack", List.of("set", "row"), "element_dtype", type(F)));
    g.add(node("empty", "EmptyTensorList", List.of("unknown", "six"), listAttrs()));
    g.add(node("push1", "TensorListPushBack", List.of("empty", "item"), "element_dtype", type(F)));
    g.add(node("push2", "TensorListPushBack", List.of("push1", "get"), "element_dtype", type(F)));
    g.add(
        node("stack_pushed", "TensorListStack", List.of("push2", "row"), "element_dtype", type(F)));
    g.add(node("eshape_empty", "TensorListElementShape", List.of("empty"), "shape_type", type(I)));
    return g;
  }

  @Test
  void everyOpMatchesTensorFlow() {
    Value t = Value.floats(new long[] {4, 2}, 1, 2, 3, 4, 5, 6, 7, 8);
    List<String> fetches =
        List.of(
            "len",
            "eshape",
            "get",
            "gather",
            "stack_push",
            "pop:1",
            "len_pop",
            "concat:0",
            "concat:1",
            "concat_split:0",
            "concat_split:1",
            "stack_scatter",
            "stack_grow",
            "stack_shrink",
            "stack_into",
            "unset",
            "stack_set",
            "stack_pushed",
            "eshape_empty");
    List<Value> out = ControlFlowTest.runBoth(graph(), Map.of("t", t), fetches);
    assertThat(out.get(fetches.indexOf("stack_scatter")).floats())
        .containsExactly(5, 6, 3, 4, 7, 8, 0, 0, 1, 2, 0, 0);
  }

  @Test
  void errorsSayWhatIsWrong() {
    Graph g = graph();
    g.add(constant("nine", Value.scalar(9)));
    g.add(
        node(
            "bad_get",
            "TensorListGetItem",
            List.of("fl", "nine", "row"),
            "element_dtype",
            type(F)));
    Plan p =
        Planner.plan(g, List.of("t"), List.of("bad_get"), REGISTRY, KernelRegistry.Mode.REFERENCE);
    assertThatThrownBy(
            () -> p.run(new Value[] {Value.zeros(F, new long[] {4, 2})}, OpOracle.context(1)))
        .isInstanceOf(KernelException.class)
        .hasMessage("node 'bad_get' (TensorListGetItem): index 9 is not in [0, 4)");
  }
}
