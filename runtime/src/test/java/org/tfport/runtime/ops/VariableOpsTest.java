package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.VarHandleOp;
import org.tensorflow.types.TFloat32;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.graph.Graph;
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
 * Variables written at run time, resource (VarHandleOp) and TF1 reference (VariableV2) ones: a
 * graph with init, increment and read signatures run as a sequence of session runs in tfport and in
 * TensorFlow; every value exact. Sessions keep their own variables.
 */
@OracleTest
class VariableOpsTest {
  @TempDir Path tmp;

  /** One step: a signature run with the delta fed (or nothing), its output compared. */
  private record Step(String signature, float delta) {}

  private Graph graph(org.tensorflow.Graph g) throws Exception {
    Path pb = tmp.resolve("vars.pb");
    Files.write(pb, g.toGraphDef().toByteArray());
    return GraphDefReader.read(pb);
  }

  private static Signature sig(String key, boolean withDelta, String output) {
    List<TensorSpec> in =
        withDelta
            ? List.of(new TensorSpec("delta", "delta:0", DType.FLOAT32, new long[] {2}))
            : List.of();
    return new Signature(
        key, in, List.of(new TensorSpec("out", output, DType.FLOAT32, new long[] {2})));
  }

  /**
   * Runs the steps in TensorFlow (one session) and tfport (two sessions interleaved), comparing
   * each output.
   */
  private void compare(
      org.tensorflow.Graph g, Map<String, String> outputs, List<Step> steps, String unset)
      throws Exception {
    Graph ir = graph(g);
    List<Signature> sigs = new ArrayList<>();
    outputs.forEach((k, v) -> sigs.add(sig(k, !k.equals("init"), v)));
    try (Model m = Model.fromGraph(ir, sigs);
        Session a = m.newSession();
        Session b = m.newSession();
        org.tensorflow.Session tf = new org.tensorflow.Session(g)) {
      for (Step s : steps) {
        Value delta = Value.floats(new long[] {2}, s.delta(), -s.delta() / 2);
        Map<String, Tensor> feed =
            s.signature().equals("init") ? Map.of() : Map.of("delta", Values.toTensor(delta));
        Value ours = Values.fromTensor(a.run(s.signature(), feed).get("out"));
        var runner = tf.runner().fetch(outputs.get(s.signature()));
        try (org.tensorflow.Tensor d = TensorFlowOracle.toTf(Values.toTensor(delta))) {
          if (!feed.isEmpty()) {
            runner.feed("delta", d);
          }
          try (var r = runner.run()) {
            Value theirs = Values.fromTensor(TensorFlowOracle.fromTf(r.get(0)));
            ExactOracle.assertSame(s.toString(), ours, theirs);
          }
        }
      }
      // The second session never ran init: its variable is unset, and reading says so.
      assertThatThrownBy(
              () ->
                  b.run(
                      "read", Map.of("delta", Values.toTensor(Value.floats(new long[] {2}, 0, 0)))))
          .hasMessageContaining(unset);
    }
  }

  private static final List<Step> STEPS =
      List.of(
          new Step("init", 0),
          new Step("add", 1.5f),
          new Step("add", 2f),
          new Step("sub", 0.25f),
          new Step("read", 0),
          new Step("init", 0),
          new Step("add", -3f));

  @Test
  void resourceVariables() throws Exception {
    try (org.tensorflow.Graph g = new org.tensorflow.Graph()) {
      Ops tf = Ops.create(g);
      var delta = tf.withName("delta").placeholder(TFloat32.class);
      var v =
          tf.withName("v")
              .varHandleOp(TFloat32.class, Shape.of(2), VarHandleOp.sharedName("counter"));
      var init = tf.withName("assign").assignVariableOp(v, tf.constant(new float[] {10f, -1f}));
      tf.withControlDependencies(List.of(init))
          .withName("init_out")
          .readVariableOp(v, TFloat32.class);
      var add = tf.withName("add").assignAddVariableOp(v, delta);
      tf.withControlDependencies(List.of(add))
          .withName("add_out")
          .readVariableOp(v, TFloat32.class);
      var sub = tf.withName("sub").assignSubVariableOp(v, delta);
      tf.withControlDependencies(List.of(sub))
          .withName("sub_out")
          .readVariableOp(v, TFloat32.class);
      Operand<TFloat32> read = tf.withName("read_out").readVariableOp(v, TFloat32.class);
      tf.withName("read_plus").math.add(read, delta);
      compare(
          g,
          Map.of(
              "init", "init_out:0", "add", "add_out:0", "sub", "sub_out:0", "read", "read_plus:0"),
          STEPS,
          "'counter' is read before it is assigned");
    }
  }

  @Test
  void referenceVariables() throws Exception {
    try (org.tensorflow.Graph g = new org.tensorflow.Graph()) {
      Ops tf = Ops.create(g);
      var delta = tf.withName("delta").placeholder(TFloat32.class);
      var v = tf.withName("v").variable(Shape.of(2), TFloat32.class);
      tf.withName("init_out").assign(v, tf.constant(new float[] {10f, -1f}));
      tf.withName("add_out").assignAdd(v, delta);
      tf.withName("sub_out").assignSub(v, delta);
      tf.withName("read_plus").math.add(tf.identity(v), delta);
      compare(
          g,
          Map.of(
              "init", "init_out:0", "add", "add_out:0", "sub", "sub_out:0", "read", "read_plus:0"),
          STEPS,
          "UninitializedVariable");
    }
  }

  /**
   * The corpus TF1 counter SavedModel (TensorFlow Serving's test data): its signatures change one
   * variable.
   */
  @Test
  void servingCounterModel() {
    Path dir =
        org.tfport.testkit.Corpus.require("savedmodel").resolve("serving_saved_model_counter");
    try (Model m = Model.load(dir);
        Session s = m.newSession()) {
      List<Float> seen = new ArrayList<>();
      for (String sig :
          List.of(
              "get_counter",
              "incr_counter",
              "incr_counter",
              "get_counter",
              "reset_counter",
              "incr_counter")) {
        Map<String, Tensor> out = s.run(sig, Map.of());
        seen.add(Values.fromTensor(out.values().iterator().next()).floats()[0]);
      }
      Map<String, Tensor> by =
          s.run(
              "incr_counter_by", Map.of("delta", Values.toTensor(Value.floats(new long[0], 2.5f))));
      seen.add(Values.fromTensor(by.values().iterator().next()).floats()[0]);
      assertThat(seen).containsExactly(0f, 1f, 2f, 2f, 0f, 1f, 3.5f);
    }
  }
}
