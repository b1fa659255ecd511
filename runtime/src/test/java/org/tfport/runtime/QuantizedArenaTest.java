package org.tfport.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.tfport.core.Tensor;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.Values;
import org.tfport.testkit.Corpus;

/**
 * TFLite's 8-bit kernels take their output codes and padded input copies from the session's arena:
 * every run of one session gives the bits of a fresh session, an output already returned is never
 * written again, and after a run the arena holds the dead activations' bytes.
 */
class QuantizedArenaTest {
  private static final String MODEL = "tflite/tflite-support/mobilenet_v1_0.25_224_quant.tflite";

  @Test
  void reusedByteBuffersGiveTheBitsOfAFreshSession() throws Exception {
    Path file = Corpus.require(MODEL);
    try (Model m = Model.load(file)) {
      Signature sig = m.defaultSignature();
      Map<String, Tensor> a = RandomInputs.of(sig, 1);
      Map<String, Tensor> b = RandomInputs.of(sig, 2);
      String out = sig.outputs().get(0).name();
      for (int threads = 1; threads <= 2; threads++) {
        SessionOptions options = new SessionOptions(threads, KernelRegistry.Mode.OPTIMIZED);
        Object freshA = run(m, options, a, out);
        Object freshB = run(m, options, b, out);
        assertThat(Objects.deepEquals(freshA, freshB))
            .as("the two inputs differ in output")
            .isFalse();
        try (Session s = m.newSession(options)) {
          assertThat(m.bound(KernelRegistry.Mode.OPTIMIZED, sig.key()).plan().recycles())
              .as("the 8-bit plan recycles")
              .isTrue();
          Object first = data(s.run(a).get(out));
          Object kept = clone(first);
          assertThat(s.arena().freeBytes()).as("activation bytes back in the arena").isPositive();
          for (int r = 0; r < 4; r++) {
            boolean even = r % 2 == 0;
            Object got = data(s.run(even ? b : a).get(out));
            assertThat(Objects.deepEquals(got, even ? freshB : freshA))
                .as(threads + " threads, run " + (r + 2) + " matches a fresh session")
                .isTrue();
          }
          assertThat(Objects.deepEquals(first, kept))
              .as("the first run's output is untouched by later runs")
              .isTrue();
          assertThat(Objects.deepEquals(first, freshA)).isTrue();
        }
      }
    }
  }

  private static Object run(Model m, SessionOptions o, Map<String, Tensor> in, String out) {
    try (Session s = m.newSession(o)) {
      return data(s.run(in).get(out));
    }
  }

  private static Object data(Tensor t) {
    return Values.fromTensor(t).data();
  }

  private static Object clone(Object a) {
    return switch (a) {
      case byte[] x -> x.clone();
      case int[] x -> x.clone();
      case float[] x -> x.clone();
      default -> throw new AssertionError("unexpected output storage " + a.getClass());
    };
  }
}
