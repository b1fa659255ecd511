package org.tfport.runtime.optimize;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.formats.graphdef.GraphDefWriter;
import org.tfport.graph.optimize.Consts;
import org.tfport.testkit.TensorFlowOracle;

/** Building small graphs for pass tests, and checking a pass keeps their results. */
public final class TestGraphs {
  public static final AttrValue F32 = new AttrValue.Type(DType.FLOAT32.tfEnum());
  public static final AttrValue I32 = new AttrValue.Type(DType.INT32.tfEnum());

  private final Graph g = new Graph("test");

  public Graph graph() {
    return g;
  }

  public TestGraphs placeholder(String name, long... dims) {
    g.add(
        new Node(
            name,
            "Placeholder",
            List.of(),
            "",
            Map.of("dtype", F32, "shape", new AttrValue.Shape(TensorShape.of(dims)))));
    g.inputs().add(name);
    return this;
  }

  public TestGraphs constant(String name, Tensor t) {
    Node c = new Node(name, "Const", List.of());
    Consts.become(c, t);
    g.add(c);
    return this;
  }

  /** A node; attributes as alternating keys and values. */
  public TestGraphs op(String name, String op, List<String> inputs, Object... attrs) {
    Map<String, AttrValue> a = new LinkedHashMap<>();
    for (int i = 0; i < attrs.length; i += 2) {
      a.put((String) attrs[i], (AttrValue) attrs[i + 1]);
    }
    g.add(new Node(name, op, inputs, "", a));
    return this;
  }

  /** A float op with attribute T. */
  public TestGraphs f(String name, String op, String... inputs) {
    return op(name, op, List.of(inputs), "T", F32);
  }

  public TestGraphs output(String... refs) {
    g.outputs().addAll(List.of(refs));
    return this;
  }

  public static AttrValue ints(long... v) {
    List<Long> l = new ArrayList<>();
    for (long x : v) {
      l.add(x);
    }
    return AttrValue.ListAttr.ofInts(l);
  }

  /** Attributes of an NHWC convolution. */
  public static Object[] conv(String padding, long stride) {
    return new Object[] {
      "T",
      F32,
      "strides",
      ints(1, stride, stride, 1),
      "padding",
      AttrValue.Str.of(padding),
      "data_format",
      AttrValue.Str.of("NHWC"),
      "dilations",
      ints(1, 1, 1, 1)
    };
  }

  public static List<String> ops(Graph g) {
    return g.topologicalOrder().stream().map(Node::op).toList();
  }

  /**
   * Runs {@code pass} on a fresh copy of the graph and checks the outputs agree with the
   * original's, by the reference evaluator; returns the rewritten graph.
   */
  public static Graph checkSame(
      Supplier<Graph> build, Consumer<Graph> pass, Map<String, Tensor> feeds) {
    List<Tensor> before = RefEval.run(build.get(), feeds);
    Graph after = build.get();
    pass.accept(after);
    after.validate();
    List<Tensor> now = RefEval.run(after, feeds);
    assertThat(now).hasSameSizeAs(before);
    for (int i = 0; i < now.size(); i++) {
      assertThat(RefEval.close(now.get(i), before.get(i)))
          .as(
              "output %d: %s vs %s",
              i,
              java.util.Arrays.toString(now.get(i).toFloatArray()),
              java.util.Arrays.toString(before.get(i).toFloatArray()))
          .isTrue();
    }
    return after;
  }

  /** As {@link #checkSame}, but against real TensorFlow: both graphs must be TensorFlow graphs. */
  public static Graph checkSameInTf(
      Supplier<Graph> build, Consumer<Graph> pass, Map<String, Tensor> feeds) {
    Graph original = build.get();
    List<String> fetches = original.outputs();
    List<Tensor> before = TensorFlowOracle.run(GraphDefWriter.write(original), feeds, fetches);
    Graph after = build.get();
    pass.accept(after);
    after.validate();
    List<Tensor> now = TensorFlowOracle.run(GraphDefWriter.write(after), feeds, after.outputs());
    for (int i = 0; i < now.size(); i++) {
      assertThat(RefEval.close(now.get(i), before.get(i)))
          .as("output %d in TensorFlow", i)
          .isTrue();
    }
    return after;
  }

  private TestGraphs() {}

  public static TestGraphs create() {
    return new TestGraphs();
  }
}
