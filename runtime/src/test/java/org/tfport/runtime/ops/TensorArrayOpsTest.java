package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.TensorArray;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.family.TType;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.formats.graphdef.GraphDefReader;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.runtime.Signature;
import org.tfport.runtime.TensorSpec;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.kernel.Values;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;

/**
 * TF1 TensorArrays run as they are (handle and flow) on a graph built with TF Java: scatter, read,
 * gather, size, writes into a growing array, concat and split, compared exactly with TensorFlow for
 * several inputs.
 */
@OracleTest
class TensorArrayOpsTest {
  @TempDir Path tmp;
  private final Random rnd = new Random(3);

  @SuppressWarnings("unchecked")
  private static Operand<TType> handle(TensorArray ta) {
    return (Operand<TType>) (Operand<?>) ta.handle();
  }

  private static final List<String> OUTPUTS =
      List.of(
          "read2",
          "gather",
          "size",
          "grown",
          "grown_lengths",
          "split_back",
          "split_lengths",
          "piece");

  private org.tensorflow.Graph build() {
    org.tensorflow.Graph g = new org.tensorflow.Graph();
    Ops tf = Ops.create(g);
    var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(4, 3)));
    var ta =
        tf.tensorArray(
            tf.constant(4),
            TFloat32.class,
            TensorArray.elementShape(Shape.of(3)),
            TensorArray.clearAfterRead(false));
    var sc =
        tf.tensorArrayScatter(
            handle(ta), tf.range(tf.constant(0), tf.constant(4), tf.constant(1)), x, ta.flow());
    var r2 =
        tf.withName("read2")
            .tensorArrayRead(handle(ta), tf.constant(2), sc.flowOut(), TFloat32.class);
    var gathered =
        tf.withName("gather")
            .tensorArrayGather(
                handle(ta), tf.constant(new int[] {3, 1, 0, 3}), sc.flowOut(), TFloat32.class);
    tf.withName("size").tensorArraySize(handle(ta), sc.flowOut());

    var tb = tf.tensorArray(tf.constant(0), TFloat32.class, TensorArray.dynamicSize(true));
    var w0 =
        tf.tensorArrayWrite(
            handle(tb), tf.constant(0), tf.math.mul(gathered, tf.constant(2f)), tb.flow());
    var w1 =
        tf.tensorArrayWrite(
            handle(tb), tf.constant(1), tf.expandDims(r2, tf.constant(0)), w0.flowOut());
    var grown = tf.withName("grown").tensorArrayConcat(handle(tb), w1.flowOut(), TFloat32.class);
    tf.withName("grown_lengths").identity(grown.lengths());

    var tc = tf.tensorArray(tf.constant(3), TFloat32.class, TensorArray.clearAfterRead(false));
    var sp = tf.tensorArraySplit(handle(tc), x, tf.constant(new long[] {1, 0, 3}), tc.flow());
    var back =
        tf.withName("split_back").tensorArrayConcat(handle(tc), sp.flowOut(), TFloat32.class);
    tf.withName("split_lengths").identity(back.lengths());
    tf.withName("piece").tensorArrayRead(handle(tc), tf.constant(2), sp.flowOut(), TFloat32.class);
    return g;
  }

  @Test
  void straightLineArraysMatchTensorFlow() throws Exception {
    try (org.tensorflow.Graph g = build();
        org.tensorflow.Session tf = new org.tensorflow.Session(g)) {
      Path pb = tmp.resolve("ta.pb");
      Files.write(pb, g.toGraphDef().toByteArray());
      org.tfport.core.graph.Graph ir = GraphDefReader.read(pb);
      List<TensorSpec> outs = new ArrayList<>();
      for (String o : OUTPUTS) {
        outs.add(new TensorSpec(o, o + ":0", null, null));
      }
      Signature sig =
          new Signature(
              Signature.DEFAULT_KEY,
              List.of(new TensorSpec("x", "x:0", DType.FLOAT32, new long[] {4, 3})),
              outs);
      try (Model m = Model.fromGraph(ir, List.of(sig));
          Session s = m.newSession()) {
        for (int run = 0; run < 3; run++) {
          Value x = OpOracle.randomFloats(rnd, 4, 3);
          Map<String, Tensor> ours = s.run(Map.of("x", Values.toTensor(x)));
          var runner = tf.runner();
          OUTPUTS.forEach(o -> runner.fetch(o));
          try (org.tensorflow.Tensor xt = TensorFlowOracle.toTf(Values.toTensor(x))) {
            runner.feed("x", xt);
            try (var r = runner.run()) {
              for (int i = 0; i < OUTPUTS.size(); i++) {
                Value theirs = Values.fromTensor(TensorFlowOracle.fromTf(r.get(i)));
                ExactOracle.assertSame(
                    OUTPUTS.get(i), Values.fromTensor(ours.get(OUTPUTS.get(i))), theirs);
              }
            }
          }
        }
      }
    }
  }

  @Test
  void writeOnceAndBoundsAreChecked() {
    TensorArrayOps.TensorArray arr =
        new TensorArrayOps.TensorArray(DType.FLOAT32, new long[] {2}, 2, false, true, false);
    arr.write(0, Value.floats(new long[] {2}, 1, 2));
    assertThatThrownBy(() -> arr.write(0, Value.floats(new long[] {2}, 1, 2)))
        .hasMessageContaining("has already been written to");
    assertThatThrownBy(() -> arr.write(2, Value.floats(new long[] {2}, 1, 2)))
        .hasMessageContaining("not resizeable");
    assertThatThrownBy(() -> arr.write(1, Value.floats(new long[] {3}, 1, 2, 3)))
        .hasMessageContaining("incompatible");
    arr.read(0, null);
    assertThatThrownBy(() -> arr.read(0, null))
        .hasMessageContaining("cleared after a previous read");
    org.assertj.core.api.Assertions.assertThat(arr.read(1, null).floats()).containsExactly(0f, 0f);
  }
}
