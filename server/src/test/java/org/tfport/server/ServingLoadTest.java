package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.testkit.IntegrationTest;

/**
 * 64 concurrent clients calling {@code :predict} on a small CNN over loopback, without and with
 * request batching: no call fails and every answer is byte for byte the one a single call gets. The
 * test makes {@value #TEST_CALLS} calls per setting; {@link #main} makes 20,000 and prints
 * throughput and latency beside the same calls run in-process, as {@code tfport predict} runs them.
 */
@IntegrationTest
class ServingLoadTest {
  static final int CLIENTS = 64;
  static final int TEST_CALLS = 1_280;
  static final int DISTINCT = 32;

  @TempDir Path tmp;

  @Test
  void concurrentCallsAnswerAsSingleCalls() throws Exception {
    Path cnn = SmallCnn.write(tmp.resolve("cnn"));
    for (int batch : new int[] {1, 16}) {
      Result r = run(tmp.resolve("store" + batch), cnn, batch, TEST_CALLS);
      assertThat(r.errors).as("failed calls, max batch " + batch + ": " + r.firstError).isZero();
      assertThat(r.mismatches).as("answers unlike the single call's, max batch " + batch).isZero();
      assertThat(r.latencies).hasSize(TEST_CALLS);
      // Model runs: one per call unbatched (plus the single calls); fewer when calls were merged.
      if (batch == 1) {
        assertThat(r.runs).isEqualTo(TEST_CALLS + DISTINCT);
      } else {
        assertThat(r.runs).isLessThan(TEST_CALLS);
      }
    }
  }

  /** What one load run measured. */
  record Result(
      int errors, int mismatches, String firstError, long[] latencies, long nanos, long runs) {
    double throughput() {
      return latencies.length / (nanos / 1e9);
    }

    String line(String what) {
      long[] l = latencies.clone();
      Arrays.sort(l);
      return String.format(
          "%-22s %6d calls  %8.0f calls/s  p50 %7.2f ms  p99 %7.2f ms  errors %d  mismatches %d"
              + "  model runs %d",
          what,
          l.length,
          throughput(),
          l[l.length / 2] / 1e6,
          l[(int) (l.length * 0.99)] / 1e6,
          errors,
          mismatches,
          runs);
    }
  }

  static Result run(Path store, Path cnn, int maxBatch, int calls) throws Exception {
    ServerConfig config =
        ServerConfig.of("127.0.0.1", 0, store, null)
            .withServing(ServingConfig.defaults().withBatching(maxBatch, 1_000));
    List<String> bodies = new ArrayList<>();
    Random rnd = new Random(5);
    for (int i = 0; i < DISTINCT; i++) {
      bodies.add("{\"instances\": [" + SmallCnn.instance(rnd) + "]}");
    }
    try (TestServer s = new TestServer(config)) {
      ServingFixtures.uploadTfjs(s, "cnn", cnn, null);
      String url = s.base + "/v1/models/cnn:predict";
      List<String> single = new ArrayList<>();
      for (String b : bodies) {
        TestServer.Reply r = ServingFixtures.predict(s, "/v1/models/cnn:predict", b);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        single.add(r.text());
      }
      ExecutorService io = Executors.newFixedThreadPool(8);
      HttpClient client =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(Duration.ofSeconds(10))
              .executor(io)
              .build();
      AtomicInteger next = new AtomicInteger();
      AtomicInteger errors = new AtomicInteger();
      AtomicInteger mismatches = new AtomicInteger();
      ConcurrentLinkedQueue<String> firstError = new ConcurrentLinkedQueue<>();
      long[] latencies = new long[calls];
      ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
      long start = System.nanoTime();
      List<Future<?>> done = new ArrayList<>();
      for (int c = 0; c < CLIENTS; c++) {
        done.add(
            pool.submit(
                () -> {
                  int i;
                  while ((i = next.getAndIncrement()) < calls) {
                    int k = i % DISTINCT;
                    HttpRequest req =
                        HttpRequest.newBuilder(URI.create(url))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(bodies.get(k)))
                            .timeout(Duration.ofSeconds(60))
                            .build();
                    long t0 = System.nanoTime();
                    try {
                      HttpResponse<String> resp =
                          client.send(req, HttpResponse.BodyHandlers.ofString());
                      latencies[i] = System.nanoTime() - t0;
                      if (resp.statusCode() != 200) {
                        errors.incrementAndGet();
                        firstError.add(resp.statusCode() + " " + resp.body());
                      } else if (!resp.body().equals(single.get(k))) {
                        mismatches.incrementAndGet();
                      }
                    } catch (Exception e) {
                      latencies[i] = System.nanoTime() - t0;
                      errors.incrementAndGet();
                      firstError.add(e.toString());
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
      long nanos = System.nanoTime() - start;
      String metrics = s.get("/metrics").text();
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile("tfport_batch_size_count (\\d+)").matcher(metrics);
      long runs = m.find() ? Long.parseLong(m.group(1)) : -1;
      pool.shutdown();
      client.close();
      io.shutdown();
      return new Result(errors.get(), mismatches.get(), firstError.peek(), latencies, nanos, runs);
    }
  }

  /** The same calls run in-process on one session, as {@code tfport predict} runs a model. */
  static Result inProcess(Path cnn, int calls) {
    Random rnd = new Random(5);
    List<Tensor> inputs = new ArrayList<>();
    for (int i = 0; i < DISTINCT; i++) {
      float[] v = new float[SmallCnn.SIDE * SmallCnn.SIDE];
      for (int j = 0; j < v.length; j++) {
        v[j] = rnd.nextFloat() * 2 - 1;
      }
      inputs.add(Tensor.ofFloats(Shape.of(1, SmallCnn.SIDE, SmallCnn.SIDE, 1), v));
    }
    long[] latencies = new long[calls];
    try (Model m = Model.load(cnn);
        Session s = m.newSession()) {
      long start = System.nanoTime();
      for (int i = 0; i < calls; i++) {
        long t0 = System.nanoTime();
        Map<String, Tensor> out =
            s.run(Map.of(m.defaultSignature().inputNames().get(0), inputs.get(i % DISTINCT)));
        latencies[i] = System.nanoTime() - t0;
        if (out.isEmpty()) {
          throw new AssertionError("no output");
        }
      }
      return new Result(0, 0, null, latencies, System.nanoTime() - start, calls);
    }
  }

  /** The full load: {@code 20000} calls (or the first argument) per setting. */
  public static void main(String[] args) throws Exception {
    int calls = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    Path tmp = Files.createTempDirectory("tfport-serving-bench");
    try {
      Path cnn = SmallCnn.write(tmp.resolve("cnn"));
      System.out.println(inProcess(cnn, calls).line("in-process (1 thread)"));
      System.out.println(run(tmp.resolve("s1"), cnn, 1, calls).line("serve, no batching"));
      System.out.println(run(tmp.resolve("s16"), cnn, 16, calls).line("serve, batch <= 16"));
    } finally {
      ModelStore.deleteTree(tmp);
    }
  }
}
