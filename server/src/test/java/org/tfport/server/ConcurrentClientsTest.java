package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.server.TestServer.Multipart;
import org.tfport.server.TestServer.Reply;
import org.tfport.testkit.IntegrationTest;

/**
 * 200 clients on loopback at once (issue 16): each uploads a model with its own weights and
 * downloads it back while the others do the same. Every byte downloaded must hash to what its
 * client sent, every upload must become exactly one version (numbers 1..n per name, none lost, none
 * twice), and the store on disk must hold exactly those versions with the bytes sent.
 */
@IntegrationTest
class ConcurrentClientsTest {
  private static final int CLIENTS = 200;
  private static final String[] NAMES = {"a", "b", "c", "d", "e", "f", "g", "h"};

  @TempDir Path tmp;

  private record Sent(String name, int version, String weightsSha, String jsonSha) {}

  @Test
  void twoHundredConcurrentUploadsAndDownloads() throws Exception {
    Map<String, Sent> byVersion = new ConcurrentHashMap<>();
    try (TestServer s = new TestServer(tmp.resolve("store"), null)) {
      CountDownLatch start = new CountDownLatch(1);
      ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
      List<Future<Sent>> fs = new ArrayList<>();
      for (int c = 0; c < CLIENTS; c++) {
        int client = c;
        fs.add(
            pool.submit(
                () -> {
                  String name = NAMES[client % NAMES.length];
                  SplittableRandom rnd = new SplittableRandom(client);
                  int floats = 256 + rnd.nextInt(16 * 1024);
                  ByteBuffer b = ByteBuffer.allocate(floats * 4).order(ByteOrder.LITTLE_ENDIAN);
                  for (int i = 0; i < floats; i++) {
                    b.putFloat((float) rnd.nextDouble());
                  }
                  byte[] weights = b.array();
                  byte[] json = LoadTest.modelJson(floats);
                  start.await();
                  Reply up = s.upload(name, Multipart.tfjs(json, weights), null);
                  assertThat(up.status()).as(up.text()).isEqualTo(201);
                  int v = up.json().path("version").asInt();
                  String base = "/models/" + name + "/versions/" + v + "/";
                  Reply w = s.get(base + "model.weights.bin");
                  assertThat(w.status()).as(w.text()).isEqualTo(200);
                  assertThat(Hashes.sha256(w.body()))
                      .as("weights of %s version %d", name, v)
                      .isEqualTo(Hashes.sha256(weights));
                  Reply j = s.get(base + "model.json");
                  assertThat(Hashes.sha256(j.body())).isEqualTo(Hashes.sha256(json));
                  return new Sent(name, v, Hashes.sha256(weights), Hashes.sha256(json));
                }));
      }
      start.countDown();
      for (Future<Sent> f : fs) {
        Sent sent = f.get(120, TimeUnit.SECONDS);
        assertThat(byVersion.put(sent.name() + "/" + sent.version(), sent))
            .as("version %s/%d given to two uploads", sent.name(), sent.version())
            .isNull();
      }
      pool.shutdown();
    }
    assertThat(byVersion).hasSize(CLIENTS);
    Map<String, List<Integer>> onDisk = new TreeMap<>();
    for (String name : NAMES) {
      Path versions = tmp.resolve("store").resolve(name).resolve("versions");
      try (var st = Files.list(versions)) {
        onDisk.put(
            name, st.map(p -> Integer.parseInt(p.getFileName().toString())).sorted().toList());
      }
      int n = CLIENTS / NAMES.length;
      assertThat(onDisk.get(name)).as(name).containsExactlyElementsOf(range(n));
      for (int v = 1; v <= n; v++) {
        Sent sent = byVersion.get(name + "/" + v);
        Path dir = versions.resolve(Integer.toString(v));
        assertThat(Hashes.sha256(Files.readAllBytes(dir.resolve("model.weights.bin"))))
            .isEqualTo(sent.weightsSha());
        assertThat(Hashes.sha256(Files.readAllBytes(dir.resolve("model.json"))))
            .isEqualTo(sent.jsonSha());
      }
    }
    try (var st = Files.list(tmp.resolve("store").resolve(".tmp"))) {
      assertThat(st.toList()).as("staging left behind").isEmpty();
    }
  }

  private static List<Integer> range(int n) {
    List<Integer> out = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      out.add(i);
    }
    return out;
  }
}
