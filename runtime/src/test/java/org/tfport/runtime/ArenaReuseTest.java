package org.tfport.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.runtime.TestGraphs.node;
import static org.tfport.runtime.TestGraphs.placeholder;
import static org.tfport.runtime.TestGraphs.type;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.graph.Graph;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.kernel.Values;
import org.tfport.testkit.Corpus;

/**
 * A session's runs after the first make no float buffer but their outputs: a float input's copy is
 * lent by the arena and taken back when its slot dies (a copy per run was promoted during warm-up
 * and grew the old generation), an input that is itself an output leaves the arena for good, and on
 * a real network every buffer a run took comes back but the output's.
 */
class ArenaReuseTest {
  private static final int N = 1000;

  private static Tensor ramp(float from) {
    float[] v = new float[N];
    for (int i = 0; i < N; i++) {
      v[i] = from + i - N / 2f;
    }
    return Values.toTensor(Value.floats(new long[] {N}, v));
  }

  private static Model model(String op) {
    Graph g = new Graph("g");
    g.add(placeholder("x", DType.FLOAT32, N));
    g.add(node("y", op, List.of("x"), "T", type(DType.FLOAT32)));
    Signature sig =
        new Signature(
            Signature.DEFAULT_KEY,
            List.of(new TensorSpec("x", "x:0", DType.FLOAT32, new long[] {N})),
            List.of(new TensorSpec("y", "y:0", DType.FLOAT32, new long[] {N})));
    return Model.fromGraph(g, List.of(sig));
  }

  private static float[] y(Session s, Tensor x) {
    return Values.fromTensor(s.run(Map.of("x", x)).get("y")).floats();
  }

  @Test
  void theInputsCopyGoesBackToTheArenaOnceItsReaderRan() {
    try (Model m = model("Relu");
        Session s = m.newSession(new SessionOptions(1, KernelRegistry.Mode.OPTIMIZED))) {
      float[] first = y(s, ramp(0));
      assertThat(s.arena().freeBytes()).as("the input's copy, back in the arena").isEqualTo(4L * N);
      long made = s.arena().madeBytes();
      float[] second = y(s, ramp(7));
      assertThat(s.arena().madeBytes()).as("no new buffer on the second run").isEqualTo(made);
      for (int i = 0; i < N; i++) {
        assertThat(first[i]).isEqualTo(Math.max(0f, i - N / 2f));
        assertThat(second[i]).isEqualTo(Math.max(0f, 7 + i - N / 2f));
      }
    }
  }

  @Test
  void anInputThatIsAnOutputIsNeverLentAgain() {
    try (Model m = model("Identity");
        Session s = m.newSession(new SessionOptions(1, KernelRegistry.Mode.OPTIMIZED))) {
      Tensor a = ramp(0);
      Map<String, Tensor> out = s.run(Map.of("x", a));
      y(s, ramp(9));
      assertThat(s.arena().freeBytes()).as("nothing came back").isZero();
      assertThat(Values.fromTensor(out.get("y")).floats())
          .as("the first output, after a second run")
          .containsExactly(Values.fromTensor(a).floats());
    }
  }

  @Test
  void aCorpusNetworksRunsAfterTheFirstMakeOnlyTheirOutput() {
    Path file = Corpus.require("tflite/tflite-support/mobilenet_v1_0.25_224_1_default_1.tflite");
    for (int threads = 1; threads <= 2; threads++) {
      try (Model m = Model.load(file);
          Session s = m.newSession(new SessionOptions(threads, KernelRegistry.Mode.OPTIMIZED))) {
        Map<String, Tensor> in = RandomInputs.of(m.defaultSignature(), 5);
        Tensor out = s.run(in).values().iterator().next();
        long outputBytes = 4L * out.size();
        long made = s.arena().madeBytes();
        long free = s.arena().freeBytes();
        // The output's buffer leaves with it when its kernel took it from the arena.
        long kept = made - free;
        assertThat(kept).as("every buffer but the output's came back").isIn(0L, outputBytes);
        assertThat(s.arena().peakLentBytes())
            .as("lent at once: the input's copy at least, at most what was made")
            .isBetween(4L * 224 * 224 * 3, made);
        for (int r = 0; r < 3; r++) {
          s.run(in);
          assertThat(s.arena().madeBytes())
              .as(threads + " threads, run " + (r + 2) + ": no new buffer but the output's")
              .isEqualTo(made + (r + 1) * kept);
          assertThat(s.arena().freeBytes()).isEqualTo(free);
        }
      }
    }
  }
}
