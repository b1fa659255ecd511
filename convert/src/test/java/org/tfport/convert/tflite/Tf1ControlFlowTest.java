package org.tfport.convert.tflite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
import org.tensorflow.proto.GraphDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
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
 * TF1 control flow built by hand with TF Java, as {@code tf.cond} and {@code tf.while_loop} write
 * it (Switch/Merge, Enter/Merge/Switch/NextIteration/Exit/LoopCond), converted to TFLite through
 * the If/While rewrite and run in TFLite 2.18 against TensorFlow 2.18 on random inputs: both
 * directions of every predicate, several iteration counts. Within 1e-5 + 1e-4 |b|.
 */
@OracleTest
class Tf1ControlFlowTest {
  @TempDir Path tmp;
  final Random rnd = new Random(11);

  private Operand<TFloat32> weights(Ops tf, long... shape) {
    return BuiltModelsTest.randomConstant(tf, rnd, 1f, shape);
  }

  /**
   * tf.cond(sum(x) < 0, then: (x @ w * 2, -x), else: (tanh(x) - 1, |x|)): two Merges of one
   * predicate, so one If with two outputs; the branch constants hang on the switch_t/switch_f
   * pivots as TF1 places them.
   */
  Path cond() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 3)));
      var pred =
          tf.withName("cond__pred")
              .math
              .less(tf.sum(x, tf.constant(new int[] {0, 1})), tf.constant(0f));
      var predId = tf.withName("cond__pred_id").identity(pred);
      var sp = tf.withName("cond__Switch").switchCond(pred, pred);
      var switchT = tf.withName("cond__switch_t").identity(sp.outputTrue());
      var switchF = tf.withName("cond__switch_f").identity(sp.outputFalse());
      var sx = tf.withName("cond__Switch_1").switchCond(x, predId);
      var w = weights(tf, 3, 3);
      var two = tf.withControlDependencies(List.of(switchT)).withName("cond__two").constant(2f);
      var thenA = tf.withName("cond__then_a").math.mul(tf.linalg.matMul(sx.outputTrue(), w), two);
      var thenB = tf.withName("cond__then_b").math.neg(sx.outputTrue());
      var one = tf.withControlDependencies(List.of(switchF)).withName("cond__one").constant(1f);
      var elseA = tf.withName("cond__else_a").math.sub(tf.math.tanh(sx.outputFalse()), one);
      var elseB = tf.withName("cond__else_b").math.abs(sx.outputFalse());
      var m1 = tf.withName("cond__Merge").merge(List.of(elseA, thenA));
      var m2 = tf.withName("cond__Merge_1").merge(List.of(elseB, thenB));
      tf.withName("y").math.add(m1.output(), tf.constant(0.5f));
      tf.withName("z").identity(m2.output());
      return write(g.toGraphDef(), "cond.pb");
    }
  }

  /**
   * A conditional inside the then branch of another (sum(x) < 0), on a predicate computed inside
   * that branch (min(x) > -1).
   */
  Path nestedCond() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 3)));
      var pred =
          tf.withName("outer__pred")
              .math
              .less(tf.sum(x, tf.constant(new int[] {0, 1})), tf.constant(0f));
      var sx = tf.withName("outer__Switch").switchCond(x, pred);
      var inT = tf.withName("outer__in_t").math.mul(sx.outputTrue(), weights(tf, 3));
      var pred2 =
          tf.withName("outer__inner__pred")
              .math
              .greater(tf.min(sx.outputTrue(), tf.constant(new int[] {0, 1})), tf.constant(-1f));
      var si = tf.withName("outer__inner__Switch").switchCond(inT, pred2);
      var innerT = tf.withName("outer__inner__t").math.mul(si.outputTrue(), tf.constant(3f));
      var innerF = tf.withName("outer__inner__f").math.sub(si.outputFalse(), tf.constant(3f));
      var im = tf.withName("outer__inner__Merge").merge(List.of(innerF, innerT));
      var outT = tf.withName("outer__t").math.tanh(im.output());
      var outF = tf.withName("outer__f").math.square(sx.outputFalse());
      var om = tf.withName("outer__Merge").merge(List.of(outF, outT));
      tf.withName("y").identity(om.output());
      return write(g.toGraphDef(), "nested_cond.pb");
    }
  }

  /**
   * i = 0; a = x; while i < n: a = tanh(a @ w) * 0.9 + a * 0.1; i += 1. {@code n} and {@code w}
   * enter as loop invariants (is_constant); outputs a and i.
   */
  Path loop() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4)));
      var n = tf.withName("n").placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
      String frame = "while/while_context";
      var eI = tf.withName("while__Enter").enter(tf.constant(0), frame);
      var eA = tf.withName("while__Enter_1").enter(x, frame);
      var eN = tf.withName("while__Less__Enter").enter(n, frame, Enter.isConstant(true));
      var eW =
          tf.withName("while__MatMul__Enter")
              .enter(weights(tf, 4, 4), frame, Enter.isConstant(true));
      var mI = tf.withName("while__Merge").merge(List.of(eI, eI));
      var mA = tf.withName("while__Merge_1").merge(List.of(eA, eA));
      var lc =
          tf.withName("while__LoopCond")
              .loopCond(tf.withName("while__Less").math.less(mI.output(), eN));
      var sI = tf.withName("while__Switch").switchCond(mI.output(), lc);
      var sA = tf.withName("while__Switch_1").switchCond(mA.output(), lc);
      var idI = tf.withName("while__Identity").identity(sI.outputTrue());
      var idA = tf.withName("while__Identity_1").identity(sA.outputTrue());
      var body = tf.withControlDependencies(List.of(idI));
      var nextI =
          tf.withName("while__NextIteration")
              .nextIteration(tf.math.add(idI, body.withName("while__add__y").constant(1)));
      var newA =
          tf.math.add(
              tf.math.mul(
                  tf.math.tanh(tf.linalg.matMul(idA, eW)),
                  body.withName("while__mul__y").constant(0.9f)),
              tf.math.mul(idA, body.withName("while__mul_1__y").constant(0.1f)));
      var nextA = tf.withName("while__NextIteration_1").nextIteration(newA);
      var xI = tf.withName("while__Exit").exit(sI.outputFalse());
      var xA = tf.withName("while__Exit_1").exit(sA.outputFalse());
      tf.withName("y").identity(xA);
      tf.withName("count").identity(xI);
      return write(
          backEdges(
              g.toGraphDef(),
              Map.of(
                  "while/Merge", "while/NextIteration", "while/Merge_1", "while/NextIteration_1")),
          "loop.pb");
    }
  }

  /**
   * A loop whose body holds a conditional (i even: a + 1, else a * 0.5) and an inner loop (two
   * rounds of a = a * 0.8 + 0.1); the outer bound is fed.
   */
  Path loopWithCondAndInnerLoop() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 2)));
      var n = tf.withName("n").placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
      String frame = "w/while_context";
      var eI = tf.withName("w__Enter").enter(tf.constant(0), frame);
      var eA = tf.withName("w__Enter_1").enter(x, frame);
      var eN = tf.withName("w__Less__Enter").enter(n, frame, Enter.isConstant(true));
      var mI = tf.withName("w__Merge").merge(List.of(eI, eI));
      var mA = tf.withName("w__Merge_1").merge(List.of(eA, eA));
      var lc =
          tf.withName("w__LoopCond").loopCond(tf.withName("w__Less").math.less(mI.output(), eN));
      var sI = tf.withName("w__Switch").switchCond(mI.output(), lc);
      var sA = tf.withName("w__Switch_1").switchCond(mA.output(), lc);
      var idI = tf.withName("w__Identity").identity(sI.outputTrue());
      var idA = tf.withName("w__Identity_1").identity(sA.outputTrue());
      var body = tf.withControlDependencies(List.of(idI));
      // The conditional: pred = i % 2 == 0.
      var even =
          tf.withName("w__cond__pred")
              .math
              .equal(
                  tf.math.floorMod(idI, body.withName("w__two").constant(2)),
                  body.withName("w__zero").constant(0));
      var cs = tf.withName("w__cond__Switch").switchCond(idA, even);
      var ct = tf.withName("w__cond__Switch_t").switchCond(even, even);
      var switchT = tf.withName("w__cond__switch_t").identity(ct.outputTrue());
      var switchF = tf.withName("w__cond__switch_f").identity(ct.outputFalse());
      var thenV =
          tf.withName("w__cond__add")
              .math
              .add(
                  cs.outputTrue(),
                  tf.withControlDependencies(List.of(switchT))
                      .withName("w__cond__one")
                      .constant(1f));
      var elseV =
          tf.withName("w__cond__mul")
              .math
              .mul(
                  cs.outputFalse(),
                  tf.withControlDependencies(List.of(switchF))
                      .withName("w__cond__half")
                      .constant(0.5f));
      var cm = tf.withName("w__cond__Merge").merge(List.of(elseV, thenV));
      // The inner loop: j = 0; b = cond result; while j < 2: b = b * 0.8 + 0.1; j += 1.
      String inner = "w/inner/while_context";
      var fJ =
          tf.withName("w__inner__Enter").enter(body.withName("w__inner__j0").constant(0), inner);
      var fB = tf.withName("w__inner__Enter_1").enter(cm.output(), inner);
      var fLimit =
          tf.withName("w__inner__Less__Enter")
              .enter(body.withName("w__inner__limit").constant(2), inner, Enter.isConstant(true));
      var mJ = tf.withName("w__inner__Merge").merge(List.of(fJ, fJ));
      var mB = tf.withName("w__inner__Merge_1").merge(List.of(fB, fB));
      var lc2 =
          tf.withName("w__inner__LoopCond")
              .loopCond(tf.withName("w__inner__Less").math.less(mJ.output(), fLimit));
      var sJ = tf.withName("w__inner__Switch").switchCond(mJ.output(), lc2);
      var sB = tf.withName("w__inner__Switch_1").switchCond(mB.output(), lc2);
      var idJ = tf.withName("w__inner__Identity").identity(sJ.outputTrue());
      var idB = tf.withName("w__inner__Identity_1").identity(sB.outputTrue());
      var ib = tf.withControlDependencies(List.of(idJ));
      tf.withName("w__inner__NextIteration")
          .nextIteration(tf.math.add(idJ, ib.withName("w__inner__one").constant(1)));
      tf.withName("w__inner__NextIteration_1")
          .nextIteration(
              tf.math.add(
                  tf.math.mul(idB, ib.withName("w__inner__k").constant(0.8f)),
                  ib.withName("w__inner__c").constant(0.1f)));
      tf.withName("w__inner__Exit").exit(sJ.outputFalse());
      var innerOut = tf.withName("w__inner__Exit_1").exit(sB.outputFalse());
      tf.withName("w__NextIteration")
          .nextIteration(tf.math.add(idI, body.withName("w__add__y").constant(1)));
      tf.withName("w__NextIteration_1").nextIteration(innerOut);
      tf.withName("w__Exit").exit(sI.outputFalse());
      var xA = tf.withName("w__Exit_1").exit(sA.outputFalse());
      tf.withName("y").identity(xA);
      return write(
          backEdges(
              g.toGraphDef(),
              Map.of(
                  "w/Merge",
                  "w/NextIteration",
                  "w/Merge_1",
                  "w/NextIteration_1",
                  "w/inner/Merge",
                  "w/inner/NextIteration",
                  "w/inner/Merge_1",
                  "w/inner/NextIteration_1")),
          "nested.pb");
    }
  }

  /**
   * TF Java adds ops only after their inputs, so each loop Merge was built reading its Enter twice;
   * its second input becomes the NextIteration, the back edge, in the GraphDef.
   */
  static GraphDef backEdges(GraphDef def, Map<String, String> mergeToNext) {
    GraphDef.Builder b = def.toBuilder();
    for (var n : b.getNodeBuilderList()) {
      String next = mergeToNext.get(n.getName().replace("__", "/"));
      if (next != null) {
        n.setInput(1, next.replace("/", "__"));
      }
    }
    return b.build();
  }

  private Path write(GraphDef def, String name) throws Exception {
    return writeScoped(def, tmp.resolve(name));
  }

  /**
   * Writes the GraphDef with TF1 scoped names: TF Java's {@code withName} takes no '/', so the
   * builders write {@code while__Merge} for {@code while/Merge}.
   */
  static Path writeScoped(GraphDef def, Path p) throws Exception {
    GraphDef.Builder b = def.toBuilder();
    for (var n : b.getNodeBuilderList()) {
      n.setName(n.getName().replace("__", "/"));
      for (int i = 0; i < n.getInputCount(); i++) {
        n.setInput(i, n.getInput(i).replace("__", "/"));
      }
    }
    Files.write(p, b.build().toByteArray());
    return p;
  }

  /**
   * One run: x of shape [rows, cols] (shifted by {@code shift}) and, when {@code n >= 0}, the bound
   * n.
   */
  record Case(float shift, int n) {}

  /**
   * Converts, checks the file has the expected control-flow builtin, then runs each case in TFLite
   * and TensorFlow.
   *
   * @return the report line
   */
  private String check(
      Path pb,
      List<String> inputs,
      List<String> outputs,
      int cols,
      String builtin,
      List<Case> cases)
      throws Exception {
    Path out = tmp.resolve(pb.getFileName() + ".tflite");
    TfliteConverter.convertFrozen(
        pb,
        out,
        GraphOptions.defaults().withOutputNodeNames(outputs),
        inputs,
        Map.of(),
        TfliteOptions.defaults());
    TfliteModel model = TfliteReader.read(out);
    assertThat(model.operatorCodes().stream().map(c -> c.name()).toList())
        .as(pb.getFileName() + " ops")
        .contains(builtin);
    assertThat(TfliteOracle.load(out).accepted()).isTrue();
    var sub = model.mainSubgraph();
    StringBuilder line =
        new StringBuilder(
            String.format("%-16s %d subgraphs;", pb.getFileName(), model.subgraphs().size()));
    for (Case c : cases) {
      int rows = 2;
      float[] v = new float[rows * cols];
      for (int i = 0; i < v.length; i++) {
        v[i] = rnd.nextFloat() - 0.5f + c.shift();
      }
      Map<String, TensorFlowOracle.Feed> feeds = new LinkedHashMap<>();
      List<TfliteOracle.Tensor> ins = new ArrayList<>();
      for (int t : sub.inputs()) {
        String name = sub.tensors().get(t).name();
        if (name.equals("x")) {
          feeds.put(
              "x",
              new TensorFlowOracle.Feed(TfjsOracle.Input.f32("x", new long[] {rows, cols}, v), 1));
          ins.add(TfliteOracle.Tensor.f32(new int[] {rows, cols}, v));
        } else if (name.equals("n")) {
          feeds.put(
              "n",
              new TensorFlowOracle.Feed(
                  TfjsOracle.Input.i32("n", new long[0], new int[] {c.n()}), 3));
          ins.add(TfliteOracle.Tensor.i32(new int[0], c.n()));
        } else {
          throw new AssertionError("unexpected input " + name);
        }
      }
      List<float[]> want = TensorFlowOracle.runGraphDef(pb, feeds, outputs);
      List<TfliteOracle.Tensor> got = TfliteOracle.run(out, ins);
      line.append(String.format(" [shift %+.1f%s]", c.shift(), c.n() >= 0 ? " n " + c.n() : ""));
      for (int k = 0; k < outputs.size(); k++) {
        Comparison cmp = Comparison.of(want.get(k), got.get(k).floats(), 1e-5, 1e-4);
        line.append(String.format(" %s max|d|=%.2g", outputs.get(k), cmp.maxAbs()));
        assertThat(cmp.ok())
            .as(pb.getFileName() + " " + c + " " + outputs.get(k) + ": " + cmp)
            .isTrue();
      }
    }
    return line.toString();
  }

  @Test
  void conditionalsBecomeIfAndMatchTensorFlow() throws Exception {
    List<String> report = new ArrayList<>();
    // Sum of 6 values in [-0.5, 0.5) shifted by +-1: the predicate is certainly false, then true.
    List<Case> both =
        List.of(new Case(1f, -1), new Case(-1f, -1), new Case(1f, -1), new Case(-1f, -1));
    report.add(check(cond(), List.of("x"), List.of("y", "z"), 3, "IF", both));
    // x in [-0.9, 0.1): outer then, min(x) > -1 so inner then; x in [-2, -1): outer then, inner
    // else.
    List<Case> three =
        List.of(
            new Case(1f, -1),
            new Case(-0.4f, -1),
            new Case(-1.5f, -1),
            new Case(-0.4f, -1),
            new Case(-1.5f, -1));
    report.add(check(nestedCond(), List.of("x"), List.of("y"), 3, "IF", three));
    System.out.println("TF1 conditionals -> TFLite IF:\n  " + String.join("\n  ", report));
  }

  @Test
  void whileLoopsBecomeWhileAndMatchTensorFlow() throws Exception {
    List<String> report = new ArrayList<>();
    List<Case> counts =
        List.of(new Case(0f, 0), new Case(0f, 1), new Case(0.3f, 3), new Case(-0.3f, 7));
    report.add(check(loop(), List.of("x", "n"), List.of("y", "count"), 4, "WHILE", counts));
    report.add(
        check(loopWithCondAndInnerLoop(), List.of("x", "n"), List.of("y"), 2, "WHILE", counts));
    System.out.println("TF1 while loops -> TFLite WHILE:\n  " + String.join("\n  ", report));
  }

  /** A graph output inside a branch has no functional form: refused in one line naming the node. */
  @Test
  void outputInsideABranchIsRefused() throws Exception {
    Path pb;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 3)));
      var pred =
          tf.withName("p").math.less(tf.sum(x, tf.constant(new int[] {0, 1})), tf.constant(0f));
      var sx = tf.withName("s").switchCond(x, pred);
      var t = tf.withName("t").math.neg(sx.outputTrue());
      tf.withName("m").merge(List.of(sx.outputFalse(), t));
      pb = write(g.toGraphDef(), "leak.pb");
    }
    assertThatThrownBy(
            () ->
                TfliteConverter.convertFrozen(
                    pb,
                    tmp.resolve("leak.tflite"),
                    GraphOptions.defaults().withOutputNodeNames(List.of("m", "t")),
                    List.of("x"),
                    Map.of(),
                    TfliteOptions.defaults()))
        .isInstanceOf(TfportException.class)
        .hasMessageContaining("'t'")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }
}
