package org.tfport.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.tfport.runtime.TestGraphs.constant;
import static org.tfport.runtime.TestGraphs.node;
import static org.tfport.runtime.TestGraphs.placeholder;
import static org.tfport.runtime.TestGraphs.type;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.graph.ArgDef;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.OpSignature;
import org.tfport.core.graph.TensorShape;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.Memory;
import org.tfport.runtime.kernel.Value;

/**
 * Shapes that would need more memory than the JVM has are refused before anything is allocated,
 * with one line saying how much is needed and how much there is. The sizes here (13.4 GiB) are
 * above the test JVM's heap (-Xmx4g) and far above what would be allocated were the checks missing
 * (the JVM would throw OutOfMemoryError or the int casts would overflow).
 */
class HeapLimitTest {
  private static final long SIDE = 60_000;
  private static final String HEAP =
      "the JVM's heap is at most " + Memory.human(Memory.heapLimit());

  @Test
  void bytesAreWrittenForReaders() {
    assertThat(Memory.human(812)).isEqualTo("812 bytes");
    assertThat(Memory.human(3 * 1024 * 1024 + 512 * 1024)).isEqualTo("3.5 MiB");
    assertThat(Memory.human(SIDE * SIDE * 4)).isEqualTo("13.4 GiB");
    assertThat(Memory.bytes(DType.FLOAT32, new long[] {SIDE, SIDE})).isEqualTo(SIDE * SIDE * 4);
    assertThat(Memory.bytes(DType.INT64, new long[] {1L << 40, 1L << 40}))
        .isEqualTo(Long.MAX_VALUE);
    assertThat(Memory.bytes(DType.FLOAT32, new long[] {-1, 3})).isEqualTo(-1);
    assertThat(Memory.shortfall(DType.FLOAT32, new long[] {2, 3})).isNull();
  }

  @Test
  void aFillTooLargeForTheHeapIsRefusedBeforeAllocating() {
    Graph g = new Graph("fill.pb");
    g.add(placeholder("x", DType.FLOAT32));
    g.add(constant("dims", Value.ints(new long[] {2}, (int) SIDE, (int) SIDE)));
    g.add(node("big", "Fill", List.of("dims", "x"), "T", type(DType.FLOAT32)));
    g.inputs().add("x");
    g.outputs().add("big:0");
    try (Model m = Model.fromGraph(g);
        Session s = m.newSession()) {
      assertThatThrownBy(() -> s.run(Map.of("x", Tensor.ofFloats(Shape.SCALAR, 1f))))
          .isInstanceOf(KernelException.class)
          .hasMessage(
              "node 'big' (Fill): the output float32[60000, 60000] needs 13.4 GiB, and "
                  + HEAP
                  + "; "
                  + Memory.REMEDY);
    }
  }

  @Test
  void aTileTooLargeIsRefusedToo() {
    Graph g = new Graph("tile.pb");
    g.add(placeholder("x", DType.FLOAT32, 2, 2));
    g.add(constant("m", Value.ints(new long[] {2}, (int) SIDE / 2, (int) SIDE / 2)));
    g.add(
        node(
            "tiled",
            "Tile",
            List.of("x", "m"),
            "T",
            type(DType.FLOAT32),
            "Tmultiples",
            type(DType.INT32)));
    g.inputs().add("x");
    g.outputs().add("tiled:0");
    try (Model m = Model.fromGraph(g);
        Session s = m.newSession()) {
      assertThatThrownBy(() -> s.run(Map.of("x", Tensor.ofFloats(Shape.of(2, 2), 1f, 2f, 3f, 4f))))
          .isInstanceOf(KernelException.class)
          .hasMessageStartingWith(
              "node 'tiled' (Tile): the output float32[60000, 60000] needs 13.4 GiB")
          .hasMessageNotContaining("\n");
    }
  }

  @Test
  void staticShapesTooLargeAreRefusedAtLoad() {
    Graph g = new Graph("static.pb");
    g.add(placeholder("x", DType.FLOAT32, SIDE));
    g.add(
        node(
            "outer",
            "MatMul",
            List.of("col", "row"),
            "T",
            type(DType.FLOAT32),
            "_output_shapes",
            new AttrValue.ListAttr(
                List.of(),
                List.of(),
                List.of(),
                List.of(),
                List.of(),
                List.of(TensorShape.of(SIDE, SIDE)),
                List.of(),
                List.of())));
    g.add(
        node(
            "col",
            "ExpandDims",
            List.of("x", "one"),
            "T",
            type(DType.FLOAT32),
            "Tdim",
            type(DType.INT32)));
    g.add(
        node(
            "row",
            "ExpandDims",
            List.of("x", "zero"),
            "T",
            type(DType.FLOAT32),
            "Tdim",
            type(DType.INT32)));
    g.add(constant("one", Value.scalar(1)));
    g.add(constant("zero", Value.scalar(0)));
    g.inputs().add("x");
    g.outputs().add("outer:0");
    // The op list a GraphDef carries gives MatMul's output type (without it a value counts one
    // byte per element).
    g.ops()
        .put(
            "MatMul",
            new OpSignature(
                "MatMul",
                List.of(ArgDef.single("a"), ArgDef.single("b")),
                List.of(ArgDef.single("product")),
                Map.of()));
    assertThatThrownBy(() -> Model.fromGraph(g))
        .isInstanceOf(TfportException.class)
        .hasMessage(
            "static.pb: running the model needs at least 13.4 GiB for the tensors live after node"
                + " 'outer' (from their static shapes), and "
                + HEAP
                + "; "
                + Memory.REMEDY);
  }

  @Test
  void exampleInputsTooLargeAreRefused() {
    Signature sig =
        new Signature(
            "serving_default",
            List.of(new TensorSpec("x", "x:0", DType.FLOAT32, new long[] {-1, SIDE, SIDE})),
            List.of(new TensorSpec("y", "y:0", DType.FLOAT32, new long[] {-1})));
    assertThatThrownBy(() -> RandomInputs.of(sig, 1))
        .isInstanceOf(TfportException.class)
        .hasMessage(
            "example values for input 'x': float32[1, 60000, 60000] needs 13.4 GiB, and "
                + HEAP
                + "; "
                + Memory.REMEDY);
  }
}
