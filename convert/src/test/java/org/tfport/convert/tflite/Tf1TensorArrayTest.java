package org.tfport.convert.tflite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Enter;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.StridedSlice;
import org.tensorflow.op.core.TensorArray;
import org.tensorflow.op.core.TensorArrayGather;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TType;
import org.tfport.core.TfportException;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.graph.GraphOptions;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfliteOracle;

/**
 * TF1 loops over TensorArrays built by hand with TF Java, as {@code tf.nn.dynamic_rnn} writes them:
 * the input unstacked into one array (Scatter over range(T)), one Read per step, the step's result
 * Written into another array whose flow is the loop variable, then Stack (Gather over range(Size)),
 * every other step (Gather over range(0, T, 2)) and the last step (Read) after the loop. Converted
 * to TFLite and run in TFLite 2.18 against TensorFlow 2.18 for several sequence lengths (and batch
 * sizes), within 1e-5 + 1e-4 |b|.
 */
@OracleTest
class Tf1TensorArrayTest {
  @TempDir Path tmp;
  final Random rnd = new Random(5);

  private Operand<TFloat32> weights(Ops tf, long... shape) {
    return BuiltModelsTest.randomConstant(tf, rnd, 1f, shape);
  }

  private static Operand<TInt32> dim(Ops tf, Operand<TInt32> shape, int i) {
    return tf.stridedSlice(
        shape,
        tf.constant(new int[] {i}),
        tf.constant(new int[] {i + 1}),
        tf.constant(new int[] {1}),
        StridedSlice.shrinkAxisMask(1L));
  }

  @SuppressWarnings("unchecked")
  private static Operand<TType> handle(TensorArray ta) {
    return (Operand<TType>) (Operand<?>) ta.handle();
  }

  /**
   * A tanh RNN over x [T, batch, 3] (time-major; batch fixed at {@code batch}, or fed when -1), 4
   * units. With {@code reverse} the input is reversed in time first and the stacked outputs after
   * (a backward RNN, as tf.nn.bidirectional_dynamic_rnn builds it). Outputs: y (all steps), z
   * (every other step), last (the last step, read after the loop) and h (the final state).
   */
  Path rnn(String name, int batch, boolean reverse, boolean unknownElement) throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x =
          tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, batch, 3)));
      Operand<TFloat32> in = reverse ? tf.reverse(x, tf.constant(new int[] {0})) : x;
      var shape = tf.shape(in);
      var steps = dim(tf, shape, 0);
      var b = dim(tf, shape, 1);
      long e = unknownElement ? -1 : batch;
      var taIn =
          tf.withName("rnn__input_ta")
              .tensorArray(
                  steps,
                  TFloat32.class,
                  TensorArray.elementShape(Shape.of(e, 3)),
                  TensorArray.identicalElementShapes(true));
      var taOut =
          tf.withName("rnn__output_ta")
              .tensorArray(
                  steps,
                  TFloat32.class,
                  TensorArray.elementShape(Shape.of(e, 4)),
                  TensorArray.identicalElementShapes(true),
                  TensorArray.clearAfterRead(false));
      var unstack =
          tf.withName("rnn__unstack")
              .tensorArrayScatter(
                  handle(taIn), tf.range(tf.constant(0), steps, tf.constant(1)), in, taIn.flow());
      var h0 = tf.fill(tf.stack(List.of(b, tf.constant(4))), tf.constant(0f));

      String frame = "rnn/while/while_context";
      var eI = tf.withName("rnn__while__Enter").enter(tf.constant(0), frame);
      var eH = tf.withName("rnn__while__Enter_1").enter(h0, frame);
      var eFlow = tf.withName("rnn__while__Enter_2").enter(taOut.flow(), frame);
      var eSteps =
          tf.withName("rnn__while__Less__Enter").enter(steps, frame, Enter.isConstant(true));
      var eInTa =
          tf.withName("rnn__while__Read__Enter").enter(handle(taIn), frame, Enter.isConstant(true));
      var eInFlow =
          tf.withName("rnn__while__Read__Enter_1")
              .enter(unstack.flowOut(), frame, Enter.isConstant(true));
      var eOutTa =
          tf.withName("rnn__while__Write__Enter")
              .enter(handle(taOut), frame, Enter.isConstant(true));
      var eWx =
          tf.withName("rnn__while__Wx__Enter")
              .enter(weights(tf, 3, 4), frame, Enter.isConstant(true));
      var eWh =
          tf.withName("rnn__while__Wh__Enter")
              .enter(weights(tf, 4, 4), frame, Enter.isConstant(true));
      var eB =
          tf.withName("rnn__while__b__Enter").enter(weights(tf, 4), frame, Enter.isConstant(true));
      var mI = tf.withName("rnn__while__Merge").merge(List.of(eI, eI));
      var mH = tf.withName("rnn__while__Merge_1").merge(List.of(eH, eH));
      var mFlow = tf.withName("rnn__while__Merge_2").merge(List.of(eFlow, eFlow));
      var lc =
          tf.withName("rnn__while__LoopCond")
              .loopCond(tf.withName("rnn__while__Less").math.less(mI.output(), eSteps));
      var sI = tf.withName("rnn__while__Switch").switchCond(mI.output(), lc);
      var sH = tf.withName("rnn__while__Switch_1").switchCond(mH.output(), lc);
      var sFlow = tf.withName("rnn__while__Switch_2").switchCond(mFlow.output(), lc);
      var idI = tf.withName("rnn__while__Identity").identity(sI.outputTrue());
      var idH = tf.withName("rnn__while__Identity_1").identity(sH.outputTrue());
      var idFlow = tf.withName("rnn__while__Identity_2").identity(sFlow.outputTrue());
      var xt = tf.withName("rnn__while__Read").tensorArrayRead(eInTa, idI, eInFlow, TFloat32.class);
      var hNew =
          tf.math.tanh(
              tf.math.add(tf.math.add(tf.linalg.matMul(xt, eWx), tf.linalg.matMul(idH, eWh)), eB));
      var write = tf.withName("rnn__while__Write").tensorArrayWrite(eOutTa, idI, hNew, idFlow);
      var one = tf.withControlDependencies(List.of(idI)).withName("rnn__while__one").constant(1);
      tf.withName("rnn__while__NextIteration").nextIteration(tf.math.add(idI, one));
      tf.withName("rnn__while__NextIteration_1").nextIteration(hNew);
      tf.withName("rnn__while__NextIteration_2").nextIteration(write.flowOut());
      var xH = tf.withName("rnn__while__Exit_1").exit(sH.outputFalse());
      var xFlow = tf.withName("rnn__while__Exit_2").exit(sFlow.outputFalse());

      var size = tf.withName("rnn__stack__Size").tensorArraySize(handle(taOut), xFlow);
      Operand<TFloat32> stacked =
          tf.withName("rnn__stack__Gather")
              .tensorArrayGather(
                  handle(taOut),
                  tf.range(tf.constant(0), size, tf.constant(1)),
                  xFlow,
                  TFloat32.class,
                  TensorArrayGather.elementShape(Shape.of(e, 4)));
      if (reverse) {
        stacked = tf.reverse(stacked, tf.constant(new int[] {0}));
      }
      tf.withName("y").identity(stacked);
      tf.withName("z")
          .tensorArrayGather(
              handle(taOut),
              tf.range(tf.constant(0), steps, tf.constant(2)),
              xFlow,
              TFloat32.class);
      tf.withName("last")
          .tensorArrayRead(
              handle(taOut), tf.math.sub(steps, tf.constant(1)), xFlow, TFloat32.class);
      tf.withName("h").identity(xH);
      GraphDef def =
          Tf1ControlFlowTest.backEdges(
              g.toGraphDef(),
              Map.of(
                  "rnn/while/Merge",
                  "rnn/while/NextIteration",
                  "rnn/while/Merge_1",
                  "rnn/while/NextIteration_1",
                  "rnn/while/Merge_2",
                  "rnn/while/NextIteration_2"));
      return write(def, name);
    }
  }

  /**
   * Writes the GraphDef with TF1 scoped names ({@code rnn__while__Merge} for {@code
   * rnn/while/Merge}).
   */
  private Path write(GraphDef def, String name) throws Exception {
    return Tf1ControlFlowTest.writeScoped(def, tmp.resolve(name));
  }

  /** One run: {@code steps} time steps of a batch of {@code batch}. */
  record Case(int steps, int batch) {}

  /**
   * Converts, checks the file runs TensorArrays without resources, then compares each case with
   * TensorFlow.
   */
  private String check(Path pb, List<String> expectedOps, List<Case> cases) throws Exception {
    List<String> outputs = List.of("y", "z", "last", "h");
    Path out = tmp.resolve(pb.getFileName() + ".tflite");
    TfliteConverter.convertFrozen(
        pb,
        out,
        GraphOptions.defaults().withOutputNodeNames(outputs),
        List.of("x"),
        Map.of(),
        TfliteOptions.defaults());
    TfliteModel model = TfliteReader.read(out);
    List<String> ops = model.operatorCodes().stream().map(c -> c.name()).toList();
    // RANGE: every other step, range(0, T, 2), with T fed.
    assertThat(ops)
        .as(pb.getFileName() + " ops")
        .contains("WHILE", "GATHER", "DYNAMIC_UPDATE_SLICE", "RANGE")
        .containsAll(expectedOps)
        .doesNotContain("CUSTOM");
    assertThat(TfliteOracle.load(out).accepted()).isTrue();
    StringBuilder line =
        new StringBuilder(
            String.format("%-14s %d subgraphs;", pb.getFileName(), model.subgraphs().size()));
    for (Case c : cases) {
      float[] v = new float[c.steps() * c.batch() * 3];
      for (int i = 0; i < v.length; i++) {
        v[i] = rnd.nextFloat() * 2 - 1;
      }
      long[] shape = {c.steps(), c.batch(), 3};
      var feeds = Map.of("x", new TensorFlowOracle.Feed(TfjsOracle.Input.f32("x", shape, v), 1));
      List<float[]> want = TensorFlowOracle.runGraphDef(pb, feeds, outputs);
      List<TfliteOracle.Tensor> got =
          TfliteOracle.run(
              out, List.of(TfliteOracle.Tensor.f32(new int[] {c.steps(), c.batch(), 3}, v)));
      line.append(String.format(" [T %d, batch %d]", c.steps(), c.batch()));
      for (int k = 0; k < outputs.size(); k++) {
        Comparison cmp = Comparison.of(want.get(k), got.get(k).floats(), 1e-5, 1e-4);
        line.append(String.format(" %s max|d|=%.2g", outputs.get(k), cmp.maxAbs()));
        assertThat(got.get(k).floats())
            .as(pb.getFileName() + " " + c + " " + outputs.get(k) + " size")
            .hasSize(want.get(k).length);
        assertThat(cmp.ok())
            .as(pb.getFileName() + " " + c + " " + outputs.get(k) + ": " + cmp)
            .isTrue();
      }
    }
    return line.toString();
  }

  @Test
  void tensorArrayLoopsMatchTensorFlow() throws Exception {
    List<String> report = new ArrayList<>();
    // Batch fixed in the graph, element shapes known: the arrays are plain zeros of [T, 2, n].
    report.add(
        check(
            rnn("rnn_fixed.pb", 2, false, false),
            List.of(),
            List.of(new Case(1, 2), new Case(3, 2), new Case(6, 2))));
    // Backward in time (ReverseV2 before and after), as bidirectional_dynamic_rnn's bw half.
    report.add(
        check(
            rnn("rnn_reverse.pb", 2, true, false),
            List.of("REVERSE_V2"),
            List.of(new Case(1, 2), new Case(4, 2), new Case(7, 2))));
    // Batch fed: element shapes [-1, n], the arrays take the batch from what is written into them.
    report.add(
        check(
            rnn("rnn_batch.pb", -1, false, true),
            List.of("BROADCAST_TO"),
            List.of(new Case(1, 1), new Case(3, 2), new Case(5, 3), new Case(2, 1))));
    System.out.println("TF1 TensorArray loops -> TFLite:\n  " + String.join("\n  ", report));
  }

  private Path refusedGraph(String name, boolean dynamicSize) throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(3, 2)));
      var ta =
          tf.withName("ta")
              .tensorArray(
                  tf.constant(3),
                  TFloat32.class,
                  TensorArray.elementShape(Shape.of(2)),
                  TensorArray.dynamicSize(dynamicSize));
      // Scatter to rows 2, 0, 1: not a Range of consecutive indices.
      Operand<TInt32> indices =
          dynamicSize
              ? tf.range(tf.constant(0), tf.constant(3), tf.constant(1))
              : tf.constant(new int[] {2, 0, 1});
      var sc = tf.withName("scatter").tensorArrayScatter(handle(ta), indices, x, ta.flow());
      tf.withName("y")
          .tensorArrayGather(
              handle(ta), tf.constant(new int[] {0, 1, 2}), sc.flowOut(), TFloat32.class);
      return write(g.toGraphDef(), name);
    }
  }

  /** What the rewrite cannot express is refused in one line naming the node. */
  @Test
  void growingArraysAndShuffledScattersAreRefused() throws Exception {
    for (boolean dynamic : new boolean[] {true, false}) {
      Path pb = refusedGraph(dynamic ? "dynamic.pb" : "shuffled.pb", dynamic);
      assertThatThrownBy(
              () ->
                  TfliteConverter.convertFrozen(
                      pb,
                      tmp.resolve("refused.tflite"),
                      GraphOptions.defaults().withOutputNodeNames(List.of("y")),
                      List.of("x"),
                      Map.of(),
                      TfliteOptions.defaults()))
          .isInstanceOf(TfportException.class)
          .hasMessageContaining(dynamic ? "'ta'" : "'scatter'")
          .hasMessageContaining(dynamic ? "dynamic_size" : "consecutive")
          .satisfies(ex -> assertThat(ex.getMessage()).doesNotContain("\n"));
    }
  }
}
