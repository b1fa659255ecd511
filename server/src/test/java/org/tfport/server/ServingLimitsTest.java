package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.runtime.Model;

/** Request body size, tensor elements, the per-call timeout and overload, each refused clearly. */
class ServingLimitsTest {
  @TempDir Path tmp;

  @Test
  void bodySizeAndElementCountAreBounded() throws Exception {
    Path cnn = SmallCnn.write(tmp.resolve("cnn"));
    ServerConfig config =
        ServerConfig.of("127.0.0.1", 0, tmp.resolve("store"), null)
            .withServing(ServingConfig.defaults().withLimits(4_000, 128, 30_000));
    try (TestServer s = new TestServer(config)) {
      ServingFixtures.uploadTfjs(s, "cnn", cnn, null);
      java.util.Random rnd = new java.util.Random(1);
      String one = "{\"instances\": [" + SmallCnn.instance(rnd) + "]}";
      assertThat(ServingFixtures.predict(s, "/v1/models/cnn:predict", one).status()).isEqualTo(200);
      String three =
          "{\"instances\": ["
              + SmallCnn.instance(rnd)
              + ", "
              + SmallCnn.instance(rnd)
              + ", "
              + SmallCnn.instance(rnd)
              + "]}";
      assertThat(three.length()).isLessThan(4_000);
      assertThat(ServingFixtures.predict(s, "/v1/models/cnn:predict", three).assertJsonError(400))
          .contains("192 elements", "--max-tensor-elements");
      String big = "{\"instances\": [" + " ".repeat(5_000) + SmallCnn.instance(rnd) + "]}";
      assertThat(ServingFixtures.predict(s, "/v1/models/cnn:predict", big).assertJsonError(413))
          .contains("4000 bytes", "--max-request-bytes");
      // The server still answers after refusing.
      assertThat(ServingFixtures.predict(s, "/v1/models/cnn:predict", one).status()).isEqualTo(200);
    }
  }

  @Test
  void overloadIs503AtOnceAndASlowCallIs504() throws Exception {
    Path cnn = SmallCnn.write(tmp.resolve("cnn"));
    Metrics metrics = new Metrics();
    ServingConfig config =
        ServingConfig.defaults().withWorkers(1, 1).withLimits(1 << 20, 1 << 20, 300);
    CountDownLatch release = new CountDownLatch(1);
    try (Model model = Model.load(cnn);
        Predictor p = new Predictor(config, metrics)) {
      Servables.Loaded loaded = new Servables.Loaded("cnn/1", model, 1, true, null);
      var sig = model.defaultSignature();
      Map<String, Tensor> in =
          Map.of(sig.inputNames().get(0), Tensor.ofFloats(Shape.of(1, 8, 8, 1), new float[64]));
      assertThat(p.run(loaded, sig, in, System.nanoTime())).containsKey(sig.outputNames().get(0));
      // The only worker is held; the one queue place is taken by the next call, which times out.
      p.workers.execute(
          () -> {
            try {
              release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          });
      while (!p.workers.getQueue().isEmpty() || p.workers.getActiveCount() < 1) {
        Thread.sleep(5);
      }
      long t0 = System.nanoTime();
      HttpError slow =
          catchThrowableOfType(HttpError.class, () -> p.run(loaded, sig, in, System.nanoTime()));
      assertThat(slow.status).isEqualTo(504);
      assertThat(slow.getMessage()).contains("300 ms", "--predict-timeout-ms");
      assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(250_000_000L);
      // Its task still holds the queue place: the next call is refused at once.
      long t1 = System.nanoTime();
      HttpError busy =
          catchThrowableOfType(HttpError.class, () -> p.run(loaded, sig, in, System.nanoTime()));
      assertThat(busy.status).isEqualTo(503);
      assertThat(busy.getMessage()).contains("overloaded", "--predict-queue");
      assertThat(System.nanoTime() - t1).isLessThan(200_000_000L);
      assertThat(metrics.render(new Servables(null, 1)))
          .contains("tfport_predict_rejected_total 1\n");
      release.countDown();
    }
  }
}
