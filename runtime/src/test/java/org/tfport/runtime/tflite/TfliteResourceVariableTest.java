package org.tfport.runtime.tflite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.tfport.formats.tflite.TfliteBuiltin.ADD;
import static org.tfport.formats.tflite.TfliteBuiltin.CALL_ONCE;
import static org.tfport.formats.tflite.TfliteBuiltin.READ_VARIABLE;
import static org.tfport.formats.tflite.TfliteBuiltin.VAR_HANDLE;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.formats.tflite.TfliteOptionsType;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.formats.tflite.TfliteType;
import org.tfport.formats.tflite.TfliteWriter;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfliteOracle;

/**
 * Resource variables and CALL_ONCE against TFLite 2.18 on litert's {@code call_once_mul}: its
 * CALL_ONCE subgraph assigns a constant to a variable; each invocation outputs the variable times
 * the input, then assigns the input to it. So each output depends on the previous invocation of the
 * same interpreter. tfport's sessions stand for interpreters: several consecutive runs of one
 * session equal TFLite's consecutive invocations of one interpreter, and sessions run in turn or on
 * two threads at once do not see each other's assignments.
 */
@OracleTest
class TfliteResourceVariableTest {
  private static final int STEPS = 6;

  private static List<List<TfliteOracle.Tensor>> inputs(long seed) {
    Random r = new Random(seed);
    List<List<TfliteOracle.Tensor>> steps = new ArrayList<>();
    for (int k = 0; k < STEPS; k++) {
      steps.add(List.of(TfliteOracle.Tensor.f32(new int[0], r.nextFloat() * 4 - 2)));
    }
    return steps;
  }

  private static float run(Session s, TfliteRuns.Binding b, TfliteOracle.Tensor x) {
    Map<String, Tensor> feed = new LinkedHashMap<>();
    feed.put(b.inputs().get(0), TfliteRuns.tensor(x));
    return s.run(b.key(), feed).get(b.outputs().get(0)).toFloatArray()[0];
  }

  private static float[] expected(List<List<TfliteOracle.Tensor>> outputs) {
    float[] e = new float[outputs.size()];
    for (int k = 0; k < e.length; k++) {
      e[k] = outputs.get(k).get(0).floats()[0];
    }
    return e;
  }

  @Test
  void stateCarriesAcrossRunsOfOneSessionOnly() throws Exception {
    Path p = Corpus.require("tflite/litert/tflite__call_once_mul.bin");
    var m = TfliteReader.read(p);
    TfliteImporter.ImportedModel imported = TfliteImporter.importModel(m, p.toString());
    TfliteRuns.Binding b = TfliteRuns.binding(m, imported);
    List<List<TfliteOracle.Tensor>> a = inputs(1);
    List<List<TfliteOracle.Tensor>> c = inputs(2);
    float[] wantA = expected(TfliteOracle.runSequence(p, a));
    float[] wantC = expected(TfliteOracle.runSequence(p, c));
    // The first output is the initializer's constant times the input; later ones the previous
    // input times this one: TFLite must show both, or the model tests nothing.
    float x0 = a.get(0).get(0).floats()[0];
    float x1 = a.get(1).get(0).floats()[0];
    assertThat(wantA[1]).isEqualTo(x0 * x1);
    assertThat(wantA[0]).isNotEqualTo(x0 * x0);

    try (Model model = imported.toModel()) {
      // Two sessions run in turn: each follows its own interpreter's sequence.
      float[] gotA = new float[STEPS];
      float[] gotC = new float[STEPS];
      try (Session sa = model.newSession();
          Session sc = model.newSession()) {
        for (int k = 0; k < STEPS; k++) {
          gotA[k] = run(sa, b, a.get(k).get(0));
          gotC[k] = run(sc, b, c.get(k).get(0));
        }
      }
      System.out.printf(
          "call_once_mul, %d runs per session: TFLite %s, tfport %s%n",
          STEPS, java.util.Arrays.toString(wantA), java.util.Arrays.toString(gotA));
      assertThat(gotA).containsExactly(wantA);
      assertThat(gotC).containsExactly(wantC);

      // A new session starts from the initializer again, however many runs came before.
      try (Session fresh = model.newSession()) {
        assertThat(run(fresh, b, a.get(0).get(0))).isEqualTo(wantA[0]);
      }

      // Two sessions on two threads at once.
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try {
        List<Future<float[]>> results = new ArrayList<>();
        for (List<List<TfliteOracle.Tensor>> seq : List.of(a, c)) {
          results.add(
              pool.submit(
                  () -> {
                    float[] got = new float[STEPS];
                    try (Session s = model.newSession()) {
                      for (int k = 0; k < STEPS; k++) {
                        got[k] = run(s, b, seq.get(k).get(0));
                      }
                    }
                    return got;
                  }));
        }
        assertThat(results.get(0).get()).containsExactly(wantA);
        assertThat(results.get(1).get()).containsExactly(wantC);
      } finally {
        pool.shutdown();
      }
    }
  }

  /** x + the variable v, read without any assignment before it (no CALL_ONCE). */
  private static TinyTflite readWithoutInitializer() {
    TinyTflite m = new TinyTflite();
    int x = m.input("x", TfliteType.FLOAT32, new int[] {2}, null);
    int h = m.tensor("v_handle", TfliteType.RESOURCE, new int[0], null);
    int r = m.tensor("v_value", TfliteType.FLOAT32, new int[] {2}, null);
    int y = m.output("y", TfliteType.FLOAT32, new int[] {2}, null);
    m.op(
        VAR_HANDLE,
        1,
        TfliteOptionsType.VAR_HANDLE_OPTIONS,
        Map.of("container", "", "shared_name", "v"),
        new int[0],
        h);
    m.op(READ_VARIABLE, 1, null, null, new int[] {h}, r);
    m.op(ADD, 1, TfliteOptionsType.ADD_OPTIONS, Map.of(), new int[] {r, x}, y);
    return m;
  }

  @Test
  void readBeforeAnyAssignmentFailsInOneLineNamingTheVariable(@TempDir Path tmp) throws Exception {
    Path p = tmp.resolve("read_unassigned.tflite");
    TfliteWriter.write(readWithoutInitializer().model(), p);
    // TFLite fails the same invocation (its READ_VARIABLE finds no resource).
    assertThatThrownBy(
            () -> TfliteOracle.run(p, List.of(TfliteOracle.Tensor.f32(new int[] {2}, 1, 2))))
        .isInstanceOf(IllegalStateException.class);
    try (Model model = TfliteImporter.load(p);
        Session s = model.newSession()) {
      Map<String, Tensor> feed = Map.of("x", Tensor.ofFloats(Shape.of(2), 1f, 2f));
      assertThatThrownBy(() -> s.run(feed))
          .isInstanceOf(KernelException.class)
          .hasMessageContaining("node 'v_value' (ReadVariableOp)")
          .hasMessageContaining("variable 'v' is read before it is assigned")
          .hasMessageNotContaining("\n");
    }
  }

  @Test
  void callOnceOfAMissingSubgraphIsRefusedAtLoad(@TempDir Path tmp) throws Exception {
    TinyTflite m = readWithoutInitializer();
    m.op(
        CALL_ONCE,
        1,
        TfliteOptionsType.CALL_ONCE_OPTIONS,
        Map.of("init_subgraph_index", 3),
        new int[0]);
    Path p = tmp.resolve("call_once_missing.tflite");
    TfliteWriter.write(m.model(), p);
    assertThatThrownBy(() -> TfliteImporter.load(p))
        .isInstanceOf(TfportException.UnsupportedModelException.class)
        .hasMessageContaining("operator 3 CALL_ONCE")
        .hasMessageContaining("names subgraph 3, but the model has 1");
  }
}
