package org.tfport.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.runtime.TestGraphs.REGISTRY;
import static org.tfport.runtime.TestGraphs.arg;
import static org.tfport.runtime.TestGraphs.binary;
import static org.tfport.runtime.TestGraphs.constant;
import static org.tfport.runtime.TestGraphs.func;
import static org.tfport.runtime.TestGraphs.function;
import static org.tfport.runtime.TestGraphs.ifNode;
import static org.tfport.runtime.TestGraphs.noShapes;
import static org.tfport.runtime.TestGraphs.node;
import static org.tfport.runtime.TestGraphs.placeholder;
import static org.tfport.runtime.TestGraphs.type;
import static org.tfport.runtime.TestGraphs.types;
import static org.tfport.runtime.TestGraphs.whileNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.FuncRef;
import org.tfport.core.graph.Graph;
import org.tfport.formats.graphdef.GraphDefWriter;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.kernel.Values;
import org.tfport.runtime.ops.OpOracle;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;

/**
 * TF2 functional control flow on hand-built graphs, each compared with TensorFlow 2.18 running the
 * same GraphDef.
 */
@OracleTest
class ControlFlowTest {
  private static final DType F = DType.FLOAT32;
  private static final DType I = DType.INT32;
  private static final Value X = Value.floats(new long[] {3}, 1.5f, -2f, 0.25f);

  /** Runs the graph in tfport and in TensorFlow and asserts identical outputs; returns tfport's. */
  static List<Value> runBoth(Graph g, Map<String, Value> feeds, List<String> fetches) {
    Plan p =
        Planner.plan(
            g, new ArrayList<>(feeds.keySet()), fetches, REGISTRY, KernelRegistry.Mode.REFERENCE);
    Value[] ours = p.run(feeds.values().toArray(new Value[0]), OpOracle.context(1));
    Map<String, Tensor> tfFeeds = new LinkedHashMap<>();
    feeds.forEach((k, v) -> tfFeeds.put(k, Values.toTensor(v)));
    List<Tensor> theirs = TensorFlowOracle.run(GraphDefWriter.write(g), tfFeeds, fetches);
    for (int i = 0; i < fetches.size(); i++) {
      // Loops, branches and lists move values without arithmetic of their own; the test kernels are
      // exact.
      OpOracle.assertClose(
          fetches.get(i) + " " + feeds, ours[i], Values.fromTensor(theirs.get(i)), 0, 0);
    }
    return List.of(ours);
  }

  /** cond(i, n, acc, x) = i < n. */
  static void addLoopFunctions(Graph g) {
    List<org.tfport.core.graph.ArgDef> vars =
        List.of(arg("i", I), arg("n", I), arg("acc", F), arg("x", F));
    g.functions()
        .put(
            "cond",
            function(
                "cond",
                vars,
                List.of(arg("more", DType.BOOL)),
                List.of(binary("less", "Less", I, "i", "n")),
                Map.of("more", "less:z:0")));
    // body: i + 1, n, acc * 0.5 + x, x
    g.functions()
        .put(
            "body",
            function(
                "body",
                vars,
                List.of(arg("i_next", I), arg("n_next", I), arg("acc_next", F), arg("x_next", F)),
                List.of(
                    constant("one", Value.scalar(1)),
                    binary("i1", "AddV2", I, "i", "one:output:0"),
                    constant("half", Value.scalar(0.5f)),
                    binary("m", "Mul", F, "acc", "half:output:0"),
                    binary("acc1", "AddV2", F, "m:z:0", "x"),
                    node("n1", "Identity", List.of("n"), "T", type(I)),
                    node("x1", "Identity", List.of("x"), "T", type(F))),
                Map.of(
                    "i_next",
                    "i1:z:0",
                    "n_next",
                    "n1:output:0",
                    "acc_next",
                    "acc1:z:0",
                    "x_next",
                    "x1:output:0")));
  }

  @Test
  void whileLoopCountsAndAccumulates() {
    Graph g = new Graph("while");
    addLoopFunctions(g);
    g.add(placeholder("x", F, 3));
    g.add(placeholder("n", I));
    g.add(constant("zero", Value.scalar(0)));
    g.add(whileNode("loop", "cond", "body", List.of("zero", "n", "x", "x"), I, I, F, F));
    for (int n : new int[] {0, 1, 5}) {
      List<Value> out =
          runBoth(g, Map.of("x", X, "n", Value.scalar(n)), List.of("loop:0", "loop:2"));
      assertThat(out.get(0).ints()).containsExactly(n);
    }
  }

  static void addBranches(Graph g) {
    List<org.tfport.core.graph.ArgDef> args = List.of(arg("x", F), arg("n", I));
    g.functions()
        .put(
            "square",
            function(
                "square",
                args,
                List.of(arg("y", F)),
                List.of(binary("sq", "Mul", F, "x", "x")),
                Map.of("y", "sq:z:0")));
    g.functions()
        .put(
            "minus_one",
            function(
                "minus_one",
                args,
                List.of(arg("y", F)),
                List.of(
                    constant("one", Value.scalar(1f)), binary("d", "Sub", F, "x", "one:output:0")),
                Map.of("y", "d:z:0")));
    // A branch running the loop: starts from acc = x and repeats n times.
    g.functions()
        .put(
            "looping",
            function(
                "looping",
                args,
                List.of(arg("y", F)),
                List.of(
                    constant("zero", Value.scalar(0)),
                    whileNode(
                        "w", "cond", "body", List.of("zero:output:0", "n", "x", "x"), I, I, F, F)),
                Map.of("y", "w:output:2")));
  }

  @Test
  void ifTakesEitherBranch() {
    Graph g = new Graph("if");
    addLoopFunctions(g);
    addBranches(g);
    g.add(placeholder("x", F, 3));
    g.add(placeholder("n", I));
    g.add(placeholder("p", DType.BOOL));
    g.add(
        ifNode(
            "branch",
            "square",
            "minus_one",
            "p",
            List.of("x", "n"),
            new DType[] {F, I},
            new DType[] {F}));
    for (byte p : new byte[] {0, 1}) {
      runBoth(
          g,
          Map.of("x", X, "n", Value.scalar(2), "p", Value.bools(new long[0], p)),
          List.of("branch"));
    }
  }

  @Test
  void whileNestedInIf() {
    Graph g = new Graph("nested");
    addLoopFunctions(g);
    addBranches(g);
    g.add(placeholder("x", F, 3));
    g.add(placeholder("n", I));
    g.add(placeholder("p", DType.BOOL));
    g.add(
        ifNode(
            "branch",
            "looping",
            "minus_one",
            "p",
            List.of("x", "n"),
            new DType[] {F, I},
            new DType[] {F}));
    for (byte p : new byte[] {0, 1}) {
      for (int n : new int[] {0, 3}) {
        runBoth(
            g,
            Map.of("x", X, "n", Value.scalar(n), "p", Value.bools(new long[0], p)),
            List.of("branch"));
      }
    }
  }

  @Test
  void caseRunsTheIndexedBranchAndTheLastOutOfRange() {
    Graph g = new Graph("case");
    addLoopFunctions(g);
    addBranches(g);
    g.add(placeholder("x", F, 3));
    g.add(placeholder("n", I));
    g.add(placeholder("k", I));
    AttrValue branches =
        new AttrValue.ListAttr(
            List.of(),
            List.of(),
            List.of(),
            List.of(),
            List.of(),
            List.of(),
            List.of(),
            List.of(FuncRef.of("square"), FuncRef.of("minus_one"), FuncRef.of("looping")));
    g.add(
        node(
            "case",
            "StatelessCase",
            List.of("k", "x", "n"),
            "Tin",
            types(F, I),
            "Tout",
            types(F),
            "branches",
            branches,
            "output_shapes",
            noShapes()));
    for (int k : new int[] {0, 1, 2, 7, -1}) {
      runBoth(g, Map.of("x", X, "n", Value.scalar(2), "k", Value.scalar(k)), List.of("case"));
    }
  }

  @Test
  void partitionedCallRunsItsFunction() {
    Graph g = new Graph("call");
    addLoopFunctions(g);
    addBranches(g);
    g.add(placeholder("x", F, 3));
    g.add(placeholder("n", I));
    g.add(
        node(
            "call",
            "StatefulPartitionedCall",
            List.of("x", "n"),
            "Tin",
            types(F, I),
            "Tout",
            types(F),
            "f",
            func("looping"),
            "config",
            AttrValue.Str.of(""),
            "config_proto",
            AttrValue.Str.of(""),
            "executor_type",
            AttrValue.Str.of("")));
    // A node whose op is the function's name calls it directly.
    g.add(node("direct", "looping", List.of("x", "n")));
    runBoth(g, Map.of("x", X, "n", Value.scalar(4)), List.of("call", "direct"));
  }

  @Test
  void tensorListFilledInALoopThenStacked() {
    Graph g = new Graph("list-loop");
    List<org.tfport.core.graph.ArgDef> vars = List.of(arg("i", I), arg("list", null), arg("y", F));
    g.functions()
        .put(
            "lcond",
            function(
                "lcond",
                vars,
                List.of(arg("more", DType.BOOL)),
                List.of(
                    constant("three", Value.scalar(3)),
                    binary("less", "Less", I, "i", "three:output:0")),
                Map.of("more", "less:z:0")));
    // body: y <- y * -2; list[i] = y; i <- i + 1
    g.functions()
        .put(
            "lbody",
            function(
                "lbody",
                vars,
                List.of(arg("i_next", I), arg("list_next", null), arg("y_next", F)),
                List.of(
                    constant("one", Value.scalar(1)),
                    binary("i1", "AddV2", I, "i", "one:output:0"),
                    constant("k", Value.scalar(-2f)),
                    binary("y1", "Mul", F, "y", "k:output:0"),
                    node(
                        "set",
                        "TensorListSetItem",
                        List.of("list", "i", "y1:z:0"),
                        "element_dtype",
                        type(F))),
                Map.of(
                    "i_next", "i1:z:0", "list_next", "set:output_handle:0", "y_next", "y1:z:0")));
    g.add(placeholder("y", F, 2));
    g.add(constant("eshape", Value.ints(new long[] {1}, 2)));
    g.add(constant("size", Value.scalar(3)));
    g.add(constant("zero", Value.scalar(0)));
    g.add(
        node(
            "reserve",
            "TensorListReserve",
            List.of("eshape", "size"),
            "element_dtype",
            type(F),
            "shape_type",
            type(I)));
    g.add(
        node(
            "loop",
            "StatelessWhile",
            List.of("zero", "reserve", "y"),
            "T",
            types(I, null, F),
            "cond",
            func("lcond"),
            "body",
            func("lbody"),
            "output_shapes",
            noShapes(),
            "parallel_iterations",
            new AttrValue.Int(10)));
    g.add(
        node(
            "stack",
            "TensorListStack",
            List.of("loop:1", "eshape"),
            "element_dtype",
            type(F),
            "num_elements",
            new AttrValue.Int(3)));
    List<Value> out =
        runBoth(
            g, Map.of("y", Value.floats(new long[] {2}, 0.75f, -3f)), List.of("stack", "loop:2"));
    assertThat(out.get(0).shape()).containsExactly(3, 2);
    assertThat(out.get(0).floats()).containsExactly(-1.5f, 6f, 3f, -12f, -6f, 24f);
  }
}
