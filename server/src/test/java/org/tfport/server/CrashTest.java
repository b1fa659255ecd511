package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.server.TestServer.Multipart;
import org.tfport.testkit.IntegrationTest;

/**
 * A server killed (SIGKILL, in a child JVM) or stopped abruptly while a slow client streams an
 * upload leaves no partial version: after a restart the previous version is intact and served,
 * staging is empty, and version numbers go on from the last complete one.
 */
@IntegrationTest
class CrashTest {
  @TempDir Path tmp;

  private static Process startChild(Path store) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    String cp =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Process p =
        new ProcessBuilder(java, "-cp", cp, ServerMain.class.getName(), store.toString())
            .redirectErrorStream(true)
            .start();
    return p;
  }

  private static int port(Process p) throws Exception {
    BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    List<String> seen = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    String line;
    while (System.nanoTime() < deadline && (line = r.readLine()) != null) {
      if (line.startsWith("PORT ")) {
        return Integer.parseInt(line.substring(5).trim());
      }
      seen.add(line);
    }
    p.destroyForcibly();
    throw new AssertionError("child server did not start: " + seen);
  }

  private static byte[] bigModelJson(int floats) {
    return ("{\"modelTopology\":{\"class_name\":\"Sequential\",\"config\":{\"name\":\"s\",\"layers\":[]}},"
            + "\"format\":\"layers-model\",\"weightsManifest\":[{\"paths\":[\"./model.weights.bin\"],\"weights\":["
            + "{\"name\":\"w\",\"shape\":["
            + floats
            + "],\"dtype\":\"float32\"}]}]}")
        .getBytes(StandardCharsets.UTF_8);
  }

  /** Starts a slow upload and returns the open socket once the server has begun staging it. */
  private static Socket slowUpload(int port, Path store) throws Exception {
    int floats = 1 << 20;
    Multipart m = Multipart.tfjs(bigModelJson(floats), new byte[floats * 4]);
    byte[] body = m.body();
    Socket s = new Socket("127.0.0.1", port);
    OutputStream out = s.getOutputStream();
    out.write(
        ("POST /models/m HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                + m.contentType()
                + "\r\nContent-Length: "
                + body.length
                + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
    int sent = 0;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      out.write(body, sent, 64 * 1024);
      out.flush();
      sent += 64 * 1024;
      Thread.sleep(20);
      if (sent > body.length / 3 && staged(store)) {
        return s;
      }
    }
    throw new AssertionError("the server never started staging the upload");
  }

  private static boolean staged(Path store) throws Exception {
    try (Stream<Path> st = Files.list(store.resolve(".tmp"))) {
      return st.anyMatch(p -> p.getFileName().toString().startsWith("upload-"));
    }
  }

  private static List<String> versions(Path store) throws Exception {
    try (Stream<Path> st = Files.list(store.resolve("m/versions"))) {
      return st.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void killedMidUploadLeavesNoPartialVersion() throws Exception {
    Path store = tmp.resolve("store");
    byte[] v1Json = TestServer.denseModelJson("./model.weights.bin");
    byte[] v1Weights = TestServer.denseWeights(3);
    Process child = startChild(store);
    try {
      int port = port(child);
      String base = "http://127.0.0.1:" + port;
      var resp =
          TestServer.CLIENT.send(
              java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/models/m"))
                  .header("Content-Type", Multipart.tfjs(v1Json, v1Weights).contentType())
                  .POST(
                      java.net.http.HttpRequest.BodyPublishers.ofByteArray(
                          Multipart.tfjs(v1Json, v1Weights).body()))
                  .build(),
              java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(resp.statusCode()).as(resp.body()).isEqualTo(201);
      Socket slow = slowUpload(port, store);
      child.destroyForcibly();
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
      slow.close();
      assertThat(versions(store)).containsExactly("1");
    } finally {
      child.destroyForcibly();
    }

    try (TestServer again = new TestServer(store, null)) {
      try (Stream<Path> st = Files.list(store.resolve(".tmp"))) {
        assertThat(st.toList()).as("staging cleaned at start").isEmpty();
      }
      assertThat(again.get("/models/m/model.weights.bin").body()).isEqualTo(v1Weights);
      assertThat(again.get("/models").json().path("models").get(0).path("latest").asInt())
          .isEqualTo(1);
      assertThat(
              again
                  .upload("m", Multipart.tfjs(v1Json, TestServer.denseWeights(4)), null)
                  .json()
                  .path("version")
                  .asInt())
          .isEqualTo(2);
      assertThat(versions(store)).containsExactly("1", "2");
    }
  }

  @Test
  void jettyStoppedMidUploadLeavesNoPartialVersion() throws Exception {
    Path store = tmp.resolve("store2");
    TestServer s = new TestServer(store, null);
    assertThat(
            s.upload(
                    "m",
                    Multipart.tfjs(
                        TestServer.denseModelJson("./model.weights.bin"),
                        TestServer.denseWeights(1)),
                    null)
                .status())
        .isEqualTo(201);
    Socket slow = slowUpload(s.server.port(), store);
    s.close();
    slow.close();
    assertThat(versions(store)).containsExactly("1");
    try (TestServer again = new TestServer(store, null)) {
      assertThat(again.get("/models/m/model.weights.bin").body())
          .isEqualTo(TestServer.denseWeights(1));
      assertThat(again.storedFiles())
          .allMatch(f -> f.startsWith("m/.lock") || f.startsWith("m/versions/1/"));
    }
  }
}
