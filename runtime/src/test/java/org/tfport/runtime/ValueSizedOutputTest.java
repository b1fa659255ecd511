package org.tfport.runtime;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.tfport.runtime.TestGraphs.constant;
import static org.tfport.runtime.TestGraphs.node;
import static org.tfport.runtime.TestGraphs.placeholder;
import static org.tfport.runtime.TestGraphs.type;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.Memory;
import org.tfport.runtime.kernel.Value;

/**
 * Kernels whose output size comes from input values (a size, a count, paddings, a shape tensor),
 * not from input shapes alone: each is given values that ask for 60000 × 60000 elements (13.4 GiB
 * of float32, above the test JVM's heap) and must refuse, before allocating, with the one line
 * {@link HeapLimitTest} checks ("the output float32[...] needs ..., and the JVM's heap is at most
 * ..."). The sizes are fed through a placeholder so that nothing is folded at load.
 */
class ValueSizedOutputTest {
  private static final int SIDE = 60_000;
  private static final String HEAP =
      ", and the JVM's heap is at most " + Memory.human(Memory.heapLimit()) + "; " + Memory.REMEDY;

  /** A case: the graph's nodes (besides placeholder "x"), x's value, and the output type/shape. */
  record Case(String op, List<Node> nodes, Tensor x, String output) {
    @Override
    public String toString() {
      return op;
    }
  }

  private static Node ints(String name, long[] shape, int... v) {
    return constant(name, Value.ints(shape, v));
  }

  private static Tensor side2() {
    return Tensor.ofInts(Shape.of(2), SIDE, SIDE);
  }

  static Stream<Arguments> cases() {
    List<Case> c = new ArrayList<>();
    String square = "float32[60000, 60000] needs 13.4 GiB";
    c.add(
        new Case(
            "Range",
            List.of(
                constant("start", Value.scalar(0f)),
                constant("delta", Value.scalar(1f)),
                node("big", "Range", List.of("start", "x", "delta"), "Tidx", type(DType.FLOAT32))),
            Tensor.ofFloats(Shape.SCALAR, 4e9f),
            "float32[4000000000] needs 14.9 GiB"));
    c.add(
        new Case(
            "BroadcastTo",
            List.of(
                constant("one", Value.scalar(1f)),
                node(
                    "big",
                    "BroadcastTo",
                    List.of("one", "x"),
                    "T",
                    type(DType.FLOAT32),
                    "Tidx",
                    type(DType.INT32))),
            side2(),
            square));
    c.add(
        new Case(
            "Pad",
            List.of(
                constant("v", Value.floats(new long[] {2, 2}, 1, 2, 3, 4)),
                node(
                    "big",
                    "Pad",
                    List.of("v", "x"),
                    "T",
                    type(DType.FLOAT32),
                    "Tpaddings",
                    type(DType.INT32))),
            Tensor.ofInts(Shape.of(2, 2), SIDE / 2 - 1, SIDE / 2 - 1, SIDE / 2 - 1, SIDE / 2 - 1),
            square));
    c.add(
        new Case(
            "SparseToDense",
            List.of(
                ints("indices", new long[] {1, 2}, 0, 0),
                constant("values", Value.scalar(1f)),
                constant("zero", Value.scalar(0f)),
                node(
                    "big",
                    "SparseToDense",
                    List.of("indices", "x", "values", "zero"),
                    "T",
                    type(DType.FLOAT32),
                    "Tindices",
                    type(DType.INT32))),
            side2(),
            square));
    c.add(
        new Case(
            "ScatterNd",
            List.of(
                ints("indices", new long[] {1, 2}, 0, 0),
                constant("updates", Value.floats(new long[] {1}, 1f)),
                node(
                    "big",
                    "ScatterNd",
                    List.of("indices", "updates", "x"),
                    "T",
                    type(DType.FLOAT32),
                    "Tindices",
                    type(DType.INT32))),
            side2(),
            square));
    for (String op : List.of("ResizeBilinear", "ResizeNearestNeighbor")) {
      c.add(
          new Case(
              op,
              List.of(
                  constant("img", Value.floats(new long[] {1, 2, 2, 1}, 1, 2, 3, 4)),
                  node("big", op, List.of("img", "x"), "T", type(DType.FLOAT32))),
              side2(),
              "float32[1, 60000, 60000, 1] needs 13.4 GiB"));
    }
    c.add(
        new Case(
            "OneHot",
            List.of(
                constant("idx", Value.ints(new long[] {SIDE}, new int[SIDE])),
                constant("on", Value.scalar(1f)),
                constant("off", Value.scalar(0f)),
                node(
                    "big",
                    "OneHot",
                    List.of("idx", "x", "on", "off"),
                    "T",
                    type(DType.FLOAT32),
                    "TI",
                    type(DType.INT32))),
            Tensor.ofInts(Shape.SCALAR, SIDE),
            square));
    c.add(
        new Case(
            "RandomUniform",
            List.of(
                node(
                    "big",
                    "RandomUniform",
                    List.of("x"),
                    "dtype",
                    type(DType.FLOAT32),
                    "T",
                    type(DType.INT32))),
            side2(),
            square));
    return c.stream().map(Arguments::of);
  }

  @ParameterizedTest
  @MethodSource("cases")
  void refusedBeforeAllocating(Case c) {
    Graph g = new Graph(c.op() + ".pb");
    DType xt = c.x().dtype();
    g.add(placeholder("x", xt, c.x().shape().dims()));
    c.nodes().forEach(g::add);
    g.inputs().add("x");
    g.outputs().add("big:0");
    try (Model m = Model.fromGraph(g);
        Session s = m.newSession()) {
      assertThatThrownBy(() -> s.run(Map.of("x", c.x())))
          .isInstanceOf(KernelException.class)
          .hasMessage("node 'big' (" + c.op() + "): the output " + c.output() + HEAP);
    }
  }

  /**
   * A TensorList of 2^31 − 1 slots is refused by what its slots alone need, and a Reshape whose
   * dimensions multiply past 2^63 by what it asks, each in one line.
   */
  @org.junit.jupiter.api.Test
  void hugeListsAndShapesAreNamed() {
    Graph g = new Graph("list.pb");
    g.add(placeholder("x", DType.INT32));
    g.add(constant("shape", Value.ints(new long[] {1}, 3)));
    g.add(
        node(
            "big",
            "TensorListReserve",
            List.of("shape", "x"),
            "element_dtype",
            type(DType.FLOAT32),
            "shape_type",
            type(DType.INT32)));
    g.inputs().add("x");
    g.outputs().add("big:0");
    try (Model m = Model.fromGraph(g);
        Session s = m.newSession()) {
      assertThatThrownBy(() -> s.run(Map.of("x", Tensor.ofInts(Shape.SCALAR, Integer.MAX_VALUE))))
          .isInstanceOf(KernelException.class)
          .hasMessage(
              "node 'big' (TensorListReserve): num_elements 2147483647 needs 16.0 GiB for the"
                  + " list's slots"
                  + HEAP);
    }
    Graph r = new Graph("reshape.pb");
    r.add(placeholder("x", DType.INT64, 3));
    r.add(constant("v", Value.floats(new long[] {0})));
    r.add(
        node(
            "big",
            "Reshape",
            List.of("v", "x"),
            "T",
            type(DType.FLOAT32),
            "Tshape",
            type(DType.INT64)));
    r.inputs().add("x");
    r.outputs().add("big:0");
    try (Model m = Model.fromGraph(r);
        Session s = m.newSession()) {
      long big = 1L << 32;
      assertThatThrownBy(
              () ->
                  s.run(
                      Map.of(
                          "x",
                          new Tensor(
                              DType.INT64,
                              Shape.of(3),
                              java.nio.ByteBuffer.allocate(24)
                                  .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                                  .putLong(big)
                                  .putLong(big)
                                  .putLong(0)
                                  .flip()))))
          .isInstanceOf(KernelException.class)
          .hasMessage(
              "node 'big' (Reshape): the shape [4294967296, 4294967296, 0] has more elements"
                  + " than a tensor can hold");
    }
  }
}
