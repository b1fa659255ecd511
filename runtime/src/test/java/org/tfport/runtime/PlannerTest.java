package org.tfport.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.tfport.runtime.TestGraphs.REGISTRY;
import static org.tfport.runtime.TestGraphs.arg;
import static org.tfport.runtime.TestGraphs.binary;
import static org.tfport.runtime.TestGraphs.constant;
import static org.tfport.runtime.TestGraphs.func;
import static org.tfport.runtime.TestGraphs.node;
import static org.tfport.runtime.TestGraphs.placeholder;
import static org.tfport.runtime.TestGraphs.type;
import static org.tfport.runtime.TestGraphs.types;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.kernel.Values;
import org.tfport.runtime.ops.OpOracle;
import org.tfport.testkit.OracleTest;

@OracleTest
class PlannerTest {
  private static final KernelRegistry.Mode REF = KernelRegistry.Mode.REFERENCE;
  private static final float[] X = {1.5f, -2f, 0.25f};

  private static Value x() {
    return Value.floats(new long[] {3}, X.clone());
  }

  private static Value[] run(Plan p, Value... inputs) {
    return p.run(inputs, OpOracle.context(1));
  }

  @Test
  void chainRunsOnlyWhatTheOutputNeeds() {
    Graph g = new Graph("chain");
    g.add(placeholder("x", DType.FLOAT32, 3));
    g.add(constant("two", Value.scalar(2f)));
    g.add(constant("one", Value.scalar(1f)));
    g.add(binary("unused", "Sub", DType.FLOAT32, "x", "one"));
    g.add(binary("m", "Mul", DType.FLOAT32, "x", "two"));
    g.add(binary("y", "AddV2", DType.FLOAT32, "m", "one"));
    Plan p = Planner.plan(g, List.of("x"), List.of("y:0"), REGISTRY, REF);
    assertThat(p.steps()).extracting(Plan.Step::node).containsExactly("m", "y");
    float[] y = run(p, x())[0].floats();
    for (int i = 0; i < X.length; i++) {
      assertThat(y[i]).isEqualTo(X[i] * 2 + 1);
    }
  }

  @Test
  void diamondReleasesEachValueAfterItsLastReader() {
    // a = x*x; b = a+x; c = a*two; d = b+c: a dies after c, x after b, b and c after d.
    Graph g = new Graph("diamond");
    g.add(placeholder("x", DType.FLOAT32, 3));
    g.add(constant("two", Value.scalar(2f)));
    g.add(binary("a", "Mul", DType.FLOAT32, "x", "x"));
    g.add(binary("b", "AddV2", DType.FLOAT32, "a", "x"));
    g.add(binary("c", "Mul", DType.FLOAT32, "a", "two"));
    g.add(binary("d", "AddV2", DType.FLOAT32, "b", "c"));
    Plan p = Planner.plan(g, List.of("x"), List.of("d"), REGISTRY, REF);
    assertThat(p.steps()).extracting(Plan.Step::node).containsExactly("a", "b", "c", "d");
    Map<String, Integer> slot = new HashMap<>();
    p.steps().forEach(s -> slot.put(s.node(), s.outputBase()));
    int xSlot = p.steps().get(0).inputs()[0];
    List<String> live = new ArrayList<>();
    Value[] out =
        p.run(
            new Value[] {x()},
            OpOracle.context(1),
            (step, slots) -> {
              List<String> names = new ArrayList<>();
              if (slots[xSlot] != null) {
                names.add("x");
              }
              for (String n : List.of("a", "b", "c", "d")) {
                if (slots[slot.get(n)] != null) {
                  names.add(n);
                }
              }
              live.add(step.node() + ":" + names);
            });
    assertThat(live).containsExactly("a:[x, a]", "b:[a, b]", "c:[b, c]", "d:[d]");
    for (int i = 0; i < X.length; i++) {
      assertThat(out[0].floats()[i]).isEqualTo((X[i] * X[i] + X[i]) + X[i] * X[i] * 2);
    }
  }

  @Test
  void controlDependenciesRunFirstAndPullInNodes() {
    // find reads the table after insert ran, only because of ^insert; insert is needed through that
    // edge alone.
    Graph g = new Graph("control");
    g.add(
        node(
            "table",
            "MutableHashTableV2",
            List.of(),
            "key_dtype",
            type(DType.INT64),
            "value_dtype",
            type(DType.FLOAT32),
            "shared_name",
            AttrValue.Str.of("t")));
    g.add(constant("keys", Value.longs(new long[] {2}, 7, 9)));
    g.add(constant("values", Value.floats(new long[] {2}, 0.5f, 4f)));
    g.add(constant("default", Value.scalar(-1f)));
    g.add(placeholder("q", DType.INT64, 3));
    g.add(node("find", "LookupTableFindV2", List.of("table", "q", "default", "^insert")));
    g.add(node("insert", "LookupTableInsertV2", List.of("table", "keys", "values")));
    Plan p = Planner.plan(g, List.of("q"), List.of("find"), REGISTRY, REF);
    assertThat(p.steps()).extracting(Plan.Step::node).containsExactly("table", "insert", "find");
    Value[] out = run(p, Value.longs(new long[] {3}, 9, 1, 7));
    assertThat(out[0].floats()).containsExactly(4f, -1f, 0.5f);
  }

  @Test
  void placeholderWithDefaultReadsItsInputUnlessFed() {
    Graph g = new Graph("default");
    g.add(constant("dflt", Value.floats(new long[] {3}, 1, 2, 3)));
    g.add(node("p", "PlaceholderWithDefault", List.of("dflt"), "dtype", type(DType.FLOAT32)));
    g.add(constant("one", Value.scalar(1f)));
    g.add(binary("y", "AddV2", DType.FLOAT32, "p", "one"));
    assertThat(run(Planner.plan(g, List.of(), List.of("y"), REGISTRY, REF))[0].floats())
        .containsExactly(2, 3, 4);
    assertThat(run(Planner.plan(g, List.of("p"), List.of("y"), REGISTRY, REF), x())[0].floats())
        .containsExactly(X[0] + 1, X[1] + 1, X[2] + 1);
  }

  @Test
  void missingKernelsAreAllNamedInOneMessage() {
    Graph g = new Graph("model.pb");
    g.add(placeholder("x", DType.FLOAT32, 3));
    g.add(node("a", "Foo", List.of("x")));
    g.add(node("b", "Foo", List.of("a")));
    g.add(node("c", "Bar", List.of("b")));
    g.functions()
        .put(
            "f",
            TestGraphs.function(
                "f",
                List.of(arg("v", DType.FLOAT32)),
                List.of(arg("w", DType.FLOAT32)),
                List.of(node("d", "Foo", List.of("v"))),
                Map.of("w", "d:y:0")));
    g.add(
        node(
            "call",
            "PartitionedCall",
            List.of("c"),
            "Tin",
            types(DType.FLOAT32),
            "Tout",
            types(DType.FLOAT32),
            "f",
            func("f")));
    g.add(node("e", "Baz", List.of("x")));
    assertThatThrownBy(() -> Planner.plan(g, List.of("x"), List.of("call"), REGISTRY, REF))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessage(
            "model.pb: no kernel for op 'Foo' (nodes a, b, f/d); no kernel for op 'Bar' (node c)");
  }

  @Test
  void kernelErrorsNameTheNode() {
    Graph g = new Graph("assert");
    g.add(placeholder("x", DType.FLOAT32, 3));
    g.add(placeholder("ok", DType.BOOL));
    g.add(constant("msg", Values.strings(new long[0], List.of("x must be positive"))));
    g.add(
        node(
            "check", "Assert", List.of("ok", "msg", "x"), "T", types(DType.STRING, DType.FLOAT32)));
    g.add(node("y", "Identity", List.of("x", "^check"), "T", type(DType.FLOAT32)));
    Plan p = Planner.plan(g, List.of("x", "ok"), List.of("y"), REGISTRY, REF);
    assertThat(run(p, x(), Value.bools(new long[0], (byte) 1))[0].floats()).containsExactly(X);
    assertThatThrownBy(() -> run(p, x(), Value.bools(new long[0], (byte) 0)))
        .isInstanceOf(KernelException.class)
        .hasMessage("node 'check' (Assert): assertion failed: x must be positive [1.5 -2.0 0.25]");
  }

  @Test
  void statefulOpsInAFunctionRunEvenWhenNoResultNeedsThem() {
    Graph g = new Graph("fn");
    g.functions()
        .put(
            "checked",
            TestGraphs.function(
                "checked",
                List.of(arg("v", DType.FLOAT32), arg("ok", DType.BOOL)),
                List.of(arg("w", DType.FLOAT32)),
                List.of(
                    node("check", "Assert", List.of("ok", "v"), "T", types(DType.FLOAT32)),
                    node("same", "Identity", List.of("v"), "T", type(DType.FLOAT32))),
                Map.of("w", "same:output:0")));
    g.add(placeholder("x", DType.FLOAT32, 3));
    g.add(placeholder("ok", DType.BOOL));
    g.add(
        node(
            "call",
            "PartitionedCall",
            List.of("x", "ok"),
            "Tin",
            types(DType.FLOAT32, DType.BOOL),
            "Tout",
            types(DType.FLOAT32),
            "f",
            func("checked")));
    Plan p = Planner.plan(g, List.of("x", "ok"), List.of("call"), REGISTRY, REF);
    assertThat(run(p, x(), Value.bools(new long[0], (byte) 1))[0].floats()).containsExactly(X);
    assertThatThrownBy(() -> run(p, x(), Value.bools(new long[0], (byte) 0)))
        .isInstanceOf(KernelException.class)
        .hasMessage(
            "node 'call' (PartitionedCall): in function 'checked': node 'check' (Assert): assertion failed:"
                + " [1.5 -2.0 0.25]");
  }

  @Test
  void bindErrorsNameTheNode() {
    Graph g = new Graph("bind.pb");
    g.add(node("list", "EmptyTensorList", List.of(), "element_dtype", new AttrValue.Type(20)));
    assertThatThrownBy(() -> Planner.plan(g, List.of(), List.of("list"), REGISTRY, REF))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageStartingWith(
            "bind.pb: node 'list' (EmptyTensorList): attribute 'element_dtype' is DT_RESOURCE");
  }

  @Test
  void unfedPlaceholdersAndUnknownNamesAreRefused() {
    Graph g = new Graph("g");
    g.add(placeholder("x", DType.FLOAT32, 3));
    g.add(node("y", "Identity", List.of("x"), "T", type(DType.FLOAT32)));
    assertThatThrownBy(() -> Planner.plan(g, List.of(), List.of("y"), REGISTRY, REF))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("placeholder 'x' is needed");
    assertThatThrownBy(() -> Planner.plan(g, List.of("x"), List.of("z"), REGISTRY, REF))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("output 'z' names no tensor");
  }
}
