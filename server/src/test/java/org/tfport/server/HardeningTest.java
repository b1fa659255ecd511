package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Json;
import org.tfport.server.TestServer.Multipart;
import org.tfport.server.TestServer.Reply;
import tools.jackson.databind.JsonNode;

/**
 * The read token, CORS origins, the store quota, slow and oversized clients, and the access log.
 */
class HardeningTest {
  @TempDir Path tmp;

  private TestServer server(String writeToken, ServerSecurity sec) {
    return new TestServer(
        ServerConfig.of("127.0.0.1", 0, tmp.resolve("store"), writeToken).withSecurity(sec));
  }

  private static Multipart model(float seed) {
    return Multipart.tfjs(
        TestServer.denseModelJson("./model.weights.bin"), TestServer.denseWeights(seed));
  }

  private static Reply get(TestServer s, String path, String token, String origin) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.base + path));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (origin != null) {
      b.header("Origin", origin);
    }
    return s.send(b.build());
  }

  private static Reply upload(TestServer s, String token, String origin, float seed) {
    Multipart m = model(seed);
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(s.base + "/models/m"))
            .header("Content-Type", m.contentType())
            .POST(HttpRequest.BodyPublishers.ofByteArray(m.body()));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (origin != null) {
      b.header("Origin", origin);
    }
    return s.send(b.build());
  }

  @Test
  void readTokenIsEnforcedOnEveryRead() {
    try (TestServer s = server("writer", ServerSecurity.defaults().withReadToken("reader"))) {
      assertThat(upload(s, "reader", null, 1).assertJsonError(403)).contains("read token");
      s.assertNothingStored();
      assertThat(upload(s, "writer", null, 1).status()).isEqualTo(201);
      for (String path :
          List.of(
              "/models",
              "/models/m",
              "/models/m/model.json",
              "/models/m/versions/1/model.weights.bin",
              "/v1/models/m",
              "/metrics")) {
        assertThat(get(s, path, null, null).assertJsonError(401)).as(path).contains("--read-token");
        assertThat(get(s, path, "nope", null).assertJsonError(401)).as(path).contains("wrong");
        // A token that differs only in length, or is a prefix, is just as wrong.
        assertThat(get(s, path, "reade", null).status()).as(path).isEqualTo(401);
        assertThat(get(s, path, "reader", null).status()).as(path).isEqualTo(200);
        assertThat(get(s, path, "writer", null).status()).as(path).isEqualTo(200);
      }
      assertThat(get(s, "/models/m/versions/1/model.weights.bin", "reader", null).body())
          .isEqualTo(TestServer.denseWeights(1));
      assertThat(get(s, "/", null, null).status()).as("the page itself stays open").isEqualTo(200);
      Reply predict =
          s.send(
              HttpRequest.newBuilder(URI.create(s.base + "/v1/models/m:predict"))
                  .POST(HttpRequest.BodyPublishers.ofString("{\"instances\": [[1, 2, 3]]}"))
                  .build());
      assertThat(predict.assertJsonError(401)).contains("--read-token");
    }
  }

  @Test
  void defaultCorsLetsAnyOriginReadButOnlyThisServerUpload() {
    try (TestServer s = server(null, ServerSecurity.defaults())) {
      assertThat(upload(s, null, "http://evil.test", 1).assertJsonError(403))
          .contains("--cors-origin http://evil.test");
      s.assertNothingStored();
      String self = s.base;
      Reply own = upload(s, null, self, 1);
      assertThat(own.status()).isEqualTo(201);
      assertThat(own.header("access-control-allow-origin")).isEqualTo(self);
      assertThat(upload(s, null, null, 2).status()).as("non-browser clients").isEqualTo(201);
      Reply read = get(s, "/models/m/model.json", null, "http://evil.test");
      assertThat(read.status()).isEqualTo(200);
      assertThat(read.header("access-control-allow-origin")).isEqualTo("*");
      Reply pre = preflight(s, "http://evil.test", "POST");
      assertThat(pre.status()).isEqualTo(204);
      assertThat(pre.header("access-control-allow-origin")).isNull();
      assertThat(preflight(s, "http://evil.test", "GET").header("access-control-allow-origin"))
          .isEqualTo("*");
    }
  }

  @Test
  void listedOriginsAreTheOnlyOnesAllowed() {
    ServerSecurity sec = ServerSecurity.defaults().withCorsOrigins(List.of("https://app.test"));
    try (TestServer s = server(null, sec)) {
      assertThat(preflight(s, "https://app.test", "POST").header("access-control-allow-origin"))
          .isEqualTo("https://app.test");
      assertThat(upload(s, null, "https://app.test", 1).status()).isEqualTo(201);
      assertThat(upload(s, null, "https://other.test", 2).status()).isEqualTo(403);
      Reply listed = get(s, "/models", null, "https://app.test");
      assertThat(listed.header("access-control-allow-origin")).isEqualTo("https://app.test");
      assertThat(listed.header("vary")).contains("Origin");
      assertThat(
              get(s, "/models", null, "https://other.test").header("access-control-allow-origin"))
          .isNull();
      assertThat(s.get("/models").json().path("models").get(0).path("latest").asInt()).isEqualTo(1);
    }
  }

  private static Reply preflight(TestServer s, String origin, String method) {
    return s.send(
        HttpRequest.newBuilder(URI.create(s.base + "/models/m"))
            .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
            .header("Origin", origin)
            .header("Access-Control-Request-Method", method)
            .build());
  }

  @Test
  void storeQuotaRefusesWhatDoesNotFitAndCountsWhatIsThereAtStart() {
    // One version is model.json, 32 bytes of weights and .version.json: about 1 KB.
    ServerSecurity sec = ServerSecurity.defaults().withMaxStoreBytes(5_000);
    int stored = 0;
    try (TestServer s = server(null, sec)) {
      Reply r;
      while ((r = upload(s, null, null, stored)).status() == 201) {
        stored++;
        assertThat(stored).isLessThan(10);
      }
      assertThat(r.assertJsonError(507)).contains("--max-store-bytes");
      assertThat(stored).isBetween(1, 6);
    }
    try (TestServer again = server(null, sec)) {
      assertThat(upload(again, null, null, 9).assertJsonError(507)).contains("quota");
      assertThat(again.get("/models/m").json().path("versions").size()).isEqualTo(stored);
    }
  }

  @Test
  void slowAndOversizedHeadersAreCutOffWhileOthersAreServed() throws Exception {
    ServerSecurity sec = ServerSecurity.defaults().withTimeouts(30_000, 1_500, 4096);
    try (TestServer s = server(null, sec)) {
      assertThat(upload(s, null, null, 1).status()).isEqualTo(201);
      Socket loris = new Socket("127.0.0.1", s.server.port());
      loris.setSoTimeout(50);
      OutputStream lo = loris.getOutputStream();
      byte[] line =
          "GET /models HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes(StandardCharsets.US_ASCII);
      long t0 = System.nanoTime();
      boolean cut = false;
      int sent = 0;
      int served = 0;
      // A byte every 100 ms keeps the connection from ever being idle; headers never end.
      while (System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(8)) {
        try {
          lo.write(sent < line.length ? line[sent] : (byte) 'x');
          lo.flush();
          sent++;
          if (loris.getInputStream().read() == -1) {
            cut = true;
            break;
          }
        } catch (java.net.SocketTimeoutException e) {
          // Nothing to read yet: the server is still waiting for the headers.
        } catch (SocketException e) {
          cut = true;
          break;
        }
        {
          assertThat(s.get("/models/m/versions/1/model.weights.bin").body())
              .isEqualTo(TestServer.denseWeights(1));
          served++;
        }
        Thread.sleep(100);
      }
      double secs = (System.nanoTime() - t0) / 1e9;
      loris.close();
      assertThat(cut).as("slow client cut off (after %.1f s, %d bytes)", secs, sent).isTrue();
      assertThat(secs).isBetween(1.4, 5.0);
      assertThat(served).isPositive();

      String big = "X-Filler: " + "a".repeat(8000) + "\r\n";
      Reply oversized = s.raw("GET /models HTTP/1.1\r\nHost: 127.0.0.1\r\n" + big + "\r\n");
      assertThat(oversized.status()).isEqualTo(431);
      assertThat(s.get("/models").status()).isEqualTo(200);
    }
  }

  @Test
  void uploadBodyTrickledIsCutOffWhileOthersUploadAndNothingIsStored() throws Exception {
    ServerSecurity sec = ServerSecurity.defaults().withMinBodyRate(1024);
    try (TestServer s = server(null, sec)) {
      Multipart m = model(1);
      Socket slow = new Socket("127.0.0.1", s.server.port());
      slow.setSoTimeout(50);
      OutputStream out = slow.getOutputStream();
      out.write(
          ("POST /models/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                  + m.contentType()
                  + "\r\nContent-Length: "
                  + m.body().length
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      long t0 = System.nanoTime();
      boolean cut = false;
      int sent = 0;
      int stored = 0;
      String answer = "";
      // Five bytes a second: never idle, headers long done, the body 200 times below the minimum.
      while (System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(8) && sent < m.body().length) {
        try {
          out.write(m.body()[sent]);
          out.flush();
          sent++;
          byte[] b = new byte[512];
          int n = slow.getInputStream().read(b);
          if (n == -1) {
            cut = true;
            break;
          }
          answer = new String(b, 0, n, StandardCharsets.US_ASCII);
          cut = true;
          break;
        } catch (java.net.SocketTimeoutException e) {
          // Nothing to read yet: the server is still waiting for the body.
        } catch (SocketException e) {
          cut = true;
          break;
        }
        assertThat(s.upload("fast", model(2 + stored), null).status()).isEqualTo(201);
        stored++;
        Thread.sleep(200);
      }
      double secs = (System.nanoTime() - t0) / 1e9;
      slow.close();
      assertThat(cut)
          .as("slow body cut off (after %.1f s, %d of %d bytes)", secs, sent, m.body().length)
          .isTrue();
      // Judged after a second of body, at the next sweep (every 250 ms); a busy machine may add.
      assertThat(secs).isBetween(1.0, 5.0);
      if (!answer.isEmpty()) {
        assertThat(answer).startsWith("HTTP/1.1 4");
      }
      assertThat(stored).isPositive();
      assertThat(s.get("/models/fast").json().path("versions").size()).isEqualTo(stored);
      // The upload's handler fails with the connection: no version, and its staging is removed.
      assertThat(s.get("/models/slow").status()).isEqualTo(404);
      assertThat(java.nio.file.Files.exists(tmp.resolve("store/slow/versions"))).isFalse();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (System.nanoTime() < deadline && !stagingEmpty(tmp.resolve("store/.tmp"))) {
        Thread.sleep(20);
      }
      assertThat(stagingEmpty(tmp.resolve("store/.tmp"))).as("staging left over").isTrue();
      assertThat(s.upload("slow", model(9), null).status()).isEqualTo(201);
    }
  }

  private static boolean stagingEmpty(Path dir) throws java.io.IOException {
    try (var files = java.nio.file.Files.list(dir)) {
      return files.findAny().isEmpty();
    }
  }

  @Test
  void accessLogHasOneStructuredLinePerRequestAndNoSecrets() throws Exception {
    List<String> lines = new CopyOnWriteArrayList<>();
    ServerSecurity sec =
        ServerSecurity.defaults().withReadToken("r3ad-s3cret").withAccessLog(lines::add);
    try (TestServer s = server("wr1te-s3cret", sec)) {
      assertThat(upload(s, "wr1te-s3cret", null, 1).status()).isEqualTo(201);
      assertThat(get(s, "/models/m/model.weights.bin?key=q-s3cret", "r3ad-s3cret", null).status())
          .isEqualTo(200);
      assertThat(get(s, "/models", null, null).status()).isEqualTo(401);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (lines.size() < 3 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(lines).hasSize(3);
      for (String l : lines) {
        assertThat(l).doesNotContain("s3cret").doesNotContain("\n");
      }
      JsonNode up = Json.MAPPER.readTree(lines.get(0));
      assertThat(up.path("method").asString()).isEqualTo("POST");
      assertThat(up.path("path").asString()).isEqualTo("/models/m");
      assertThat(up.path("status").asInt()).isEqualTo(201);
      assertThat(up.path("remote").asString()).isEqualTo("127.0.0.1");
      assertThat(up.path("time").asString()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
      assertThat(up.has("ms")).isTrue();
      JsonNode down = Json.MAPPER.readTree(lines.get(1));
      assertThat(down.path("path").asString()).isEqualTo("/models/m/model.weights.bin");
      assertThat(down.path("bytes").asLong()).isEqualTo(32);
      assertThat(Json.MAPPER.readTree(lines.get(2)).path("status").asInt()).isEqualTo(401);
    }
  }
}
