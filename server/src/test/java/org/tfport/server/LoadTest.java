package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Json;
import org.tfport.server.TestServer.Multipart;
import org.tfport.testkit.IntegrationTest;
import tools.jackson.databind.JsonNode;

/**
 * A bounded loopback load: many concurrent uploads and downloads of a few models. Every upload must
 * become exactly one version whose files hash to what was sent; every download must match the
 * version its model.json names. Prints counts and p50/p99 latencies.
 */
@IntegrationTest
class LoadTest {
  static final int WORKERS = 16;
  static final int OPERATIONS = 1200;
  static final String[] NAMES = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta"};

  @TempDir Path tmp;

  record Sent(String name, int version, String jsonSha, String weightsSha) {}

  static byte[] modelJson(int floats) {
    return ("{\"modelTopology\":{\"class_name\":\"Sequential\",\"config\":{\"name\":\"s\",\"layers\":[]}},"
            + "\"format\":\"layers-model\",\"generatedBy\":\"load test\",\"convertedBy\":null,\"weightsManifest\":["
            + "{\"paths\":[\"./model.weights.bin\"],\"weights\":[{\"name\":\"w\",\"shape\":["
            + floats
            + "],\"dtype\":\"float32\"}]}]}")
        .getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void concurrentUploadsAndDownloads() throws Exception {
    try (TestServer s = new TestServer(tmp.resolve("store"), null)) {
      List<Sent> sent = new CopyOnWriteArrayList<>();
      List<Long> upNanos = Collections.synchronizedList(new ArrayList<>());
      List<Long> downNanos = Collections.synchronizedList(new ArrayList<>());
      Map<String, String> weightsByVersion = new ConcurrentHashMap<>();
      AtomicInteger downloads = new AtomicInteger();
      AtomicInteger next = new AtomicInteger();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      long t0 = System.nanoTime();
      ExecutorService pool = Executors.newFixedThreadPool(WORKERS);
      List<Future<?>> fs = new ArrayList<>();
      for (int w = 0; w < WORKERS; w++) {
        int seed = w;
        fs.add(
            pool.submit(
                () -> {
                  SplittableRandom rnd = new SplittableRandom(seed);
                  while (next.getAndIncrement() < OPERATIONS && System.nanoTime() < deadline) {
                    String name = NAMES[rnd.nextInt(NAMES.length)];
                    if (rnd.nextInt(5) == 0) {
                      int floats = 1024 + rnd.nextInt(64 * 1024);
                      ByteBuffer b = ByteBuffer.allocate(floats * 4).order(ByteOrder.LITTLE_ENDIAN);
                      for (int i = 0; i < floats; i++) {
                        b.putFloat((float) rnd.nextGaussian());
                      }
                      byte[] weights = b.array();
                      byte[] json = modelJson(floats);
                      long a = System.nanoTime();
                      TestServer.Reply r = s.upload(name, Multipart.tfjs(json, weights), null);
                      upNanos.add(System.nanoTime() - a);
                      assertThat(r.status()).as(r.text()).isEqualTo(201);
                      int v = r.json().path("version").asInt();
                      String ws = Hashes.sha256(weights);
                      assertThat(
                              r.json()
                                  .path("files")
                                  .path("model.weights.bin")
                                  .path("sha256")
                                  .asString(""))
                          .isEqualTo(ws);
                      sent.add(new Sent(name, v, Hashes.sha256(json), ws));
                      weightsByVersion.put(name + "/" + v, ws);
                    } else {
                      long a = System.nanoTime();
                      TestServer.Reply j = s.get("/models/" + name + "/model.json");
                      if (j.status() == 404) {
                        continue;
                      }
                      assertThat(j.status()).isEqualTo(200);
                      String path =
                          j.json()
                              .path("weightsManifest")
                              .get(0)
                              .path("paths")
                              .get(0)
                              .stringValue();
                      TestServer.Reply wr = s.get("/models/" + name + "/" + path);
                      downNanos.add(System.nanoTime() - a);
                      assertThat(wr.status()).isEqualTo(200);
                      int v = Integer.parseInt(path.split("/")[1]);
                      String got = Hashes.sha256(wr.body());
                      // The upload's response may not have been recorded yet; the store's own
                      // record must agree.
                      String expected =
                          weightsByVersion.getOrDefault(
                              name + "/" + v,
                              s.get("/models/" + name + "/versions/" + v)
                                  .json()
                                  .path("files")
                                  .path("model.weights.bin")
                                  .path("sha256")
                                  .asString(""));
                      assertThat(got).as(name + " v" + v).isEqualTo(expected);
                      downloads.incrementAndGet();
                    }
                  }
                  return null;
                }));
      }
      pool.shutdown();
      for (Future<?> f : fs) {
        f.get(180, TimeUnit.SECONDS);
      }
      double seconds = (System.nanoTime() - t0) / 1e9;

      int checked = 0;
      for (String name : NAMES) {
        List<Sent> mine = sent.stream().filter(x -> x.name().equals(name)).toList();
        List<Integer> versions =
            new ArrayList<>(mine.stream().map(Sent::version).sorted().toList());
        for (int i = 0; i < versions.size(); i++) {
          assertThat(versions.get(i))
              .as(name + " versions are 1..n with no gaps or repeats")
              .isEqualTo(i + 1);
        }
        for (Sent x : mine) {
          Path dir = s.store.resolve(name + "/versions/" + x.version());
          assertThat(Hashes.sha256(dir.resolve("model.weights.bin"))).isEqualTo(x.weightsSha());
          assertThat(Hashes.sha256(dir.resolve("model.json"))).isEqualTo(x.jsonSha());
          JsonNode meta = Json.MAPPER.readTree(dir.resolve(ModelStore.META));
          assertThat(meta.path("files").size()).isEqualTo(2);
          checked += 2;
        }
        if (Files.isDirectory(s.store.resolve(name + "/versions"))) {
          try (var st = Files.list(s.store.resolve(name + "/versions"))) {
            assertThat(st.count()).isEqualTo(mine.size());
          }
        }
      }
      try (var st = Files.list(s.store.resolve(".tmp"))) {
        assertThat(st.toList()).isEmpty();
      }
      assertThat(sent).isNotEmpty();
      assertThat(downloads.get()).isGreaterThan(0);
      System.out.printf(
          Locale.ROOT,
          "[load test] %d workers, %.1f s: %d uploads (p50 %.1f ms, p99 %.1f ms), %d downloads"
              + " of model.json+weights (p50 %.1f ms, p99 %.1f ms), %d stored files hash-checked%n",
          WORKERS,
          seconds,
          sent.size(),
          pct(upNanos, 50),
          pct(upNanos, 99),
          downloads.get(),
          pct(downNanos, 50),
          pct(downNanos, 99),
          checked);
    }
  }

  private static double pct(List<Long> nanos, int p) {
    List<Long> s = new ArrayList<>(nanos);
    Collections.sort(s);
    if (s.isEmpty()) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(p / 100.0 * s.size()) - 1;
    return s.get(Math.max(0, Math.min(s.size() - 1, i))) / 1e6;
  }
}
