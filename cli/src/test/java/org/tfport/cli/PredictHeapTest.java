package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;
import org.tfport.runtime.kernel.Memory;

/**
 * {@code tfport predict} on models whose tensors would need more than the JVM's heap (the test JVM
 * has -Xmx4g; these need 13.4 GiB): one line saying how much is needed and how much there is, exit
 * 1, no stack trace, no output folder.
 */
class PredictHeapTest {
  private static final int SIDE = 60_000;
  private static final String HEAP =
      "and the JVM's heap is at most " + Memory.human(Memory.heapLimit());

  @TempDir Path tmp;

  private static AttrValue type(DataType t) {
    return AttrValue.newBuilder().setType(t).build();
  }

  private static TensorShapeProto shape(long... dims) {
    TensorShapeProto.Builder b = TensorShapeProto.newBuilder();
    for (long d : dims) {
      b.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    return b.build();
  }

  private static NodeDef placeholder(String name, long... dims) {
    return NodeDef.newBuilder()
        .setName(name)
        .setOp("Placeholder")
        .putAttr("dtype", type(DataType.DT_FLOAT))
        .putAttr("shape", AttrValue.newBuilder().setShape(shape(dims)).build())
        .build();
  }

  private Path graph(String name, NodeDef... nodes) throws IOException {
    return Files.write(
        tmp.resolve(name), GraphDef.newBuilder().addAllNode(List.of(nodes)).build().toByteArray());
  }

  private static void refusedInOneLine(CliRunner r, String expected) {
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    assertThat(r.errLines()).hasSize(1);
    assertThat(r.err()).doesNotContain("\tat ", "Exception", "internal error");
    assertThat(r.errLines()[0]).isEqualTo(expected);
  }

  @Test
  void aFillLargerThanTheHeapIsRefusedBeforeAllocating() throws IOException {
    NodeDef dims =
        NodeDef.newBuilder()
            .setName("dims")
            .setOp("Const")
            .putAttr("dtype", type(DataType.DT_INT32))
            .putAttr(
                "value",
                AttrValue.newBuilder()
                    .setTensor(
                        TensorProto.newBuilder()
                            .setDtype(DataType.DT_INT32)
                            .setTensorShape(shape(2))
                            .addIntVal(SIDE)
                            .addIntVal(SIDE))
                    .build())
            .build();
    NodeDef fill =
        NodeDef.newBuilder()
            .setName("big")
            .setOp("Fill")
            .addInput("dims")
            .addInput("x")
            .putAttr("T", type(DataType.DT_FLOAT))
            .putAttr("index_type", type(DataType.DT_INT32))
            .build();
    Path pb = graph("fill.pb", placeholder("x"), dims, fill);
    Path out = tmp.resolve("out");
    CliRunner r =
        CliRunner.run(
            "predict", pb.toString(), "--output_node_names", "big", "--output_dir", out.toString());
    refusedInOneLine(
        r,
        "tfport: error: "
            + pb
            + ": node 'big' (Fill): the output float32[60000, 60000] needs 13.4 GiB, "
            + HEAP
            + "; "
            + Memory.REMEDY);
    assertThat(out).doesNotExist();
  }

  /** Refused when loaded, from the input's declared shape (RandomInputs would refuse it too). */
  @Test
  void anInputLargerThanTheHeapIsRefused() throws IOException {
    NodeDef y =
        NodeDef.newBuilder()
            .setName("y")
            .setOp("Identity")
            .addInput("x")
            .putAttr("T", type(DataType.DT_FLOAT))
            .build();
    Path pb = graph("wide.pb", placeholder("x", SIDE, SIDE), y);
    refusedInOneLine(
        CliRunner.run("predict", pb.toString(), "--output_node_names", "y"),
        "tfport: error: "
            + pb
            + ": running the model needs at least 13.4 GiB for its inputs (from their static"
            + " shapes), "
            + HEAP
            + "; "
            + Memory.REMEDY);
  }
}
