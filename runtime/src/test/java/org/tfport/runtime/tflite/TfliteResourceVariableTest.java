package org.tfport.runtime.tflite;

import static org.assertj.core.api.Assertions.assertThat;

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
import org.tfport.core.Tensor;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfliteOracle;

/**
 * Resource variables and CALL_ONCE against TFLite 2.18 on litert's {@code call_once_mul}: its
 * CALL_ONCE subgraph assigns a constant to a variable; each invocation outputs the variable times
 * the input, then assigns the input to it. So each output depends on the previous invocation of
 * the same interpreter. tfport's sessions stand for interpreters: several consecutive runs of one
 * session equal TFLite's consecutive invocations of one interpreter, and sessions run in turn or
 * on two threads at once do not see each other's assignments.
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
}
