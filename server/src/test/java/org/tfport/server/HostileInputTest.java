package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tfport.server.TestServer.Multipart;
import org.tfport.server.TestServer.Reply;

/**
 * Every kind of bad upload gets a 4xx with {"error": ...} and leaves the store exactly as it was.
 */
class HostileInputTest {
  @TempDir Path tmp;
  TestServer s;

  @BeforeEach
  void start() {
    s =
        new TestServer(
            ServerConfig.of("127.0.0.1", 0, tmp.resolve("store"), null)
                .withLimits(1 << 20, 64 * 1024, 8));
  }

  @AfterEach
  void stop() {
    s.close();
  }

  private static byte[] validBody() {
    return Multipart.tfjs(
            TestServer.denseModelJson("./model.weights.bin"), TestServer.denseWeights(1))
        .body();
  }

  private String rawPost(String path, byte[] body, String contentType) {
    return "POST "
        + path
        + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
        + contentType
        + "\r\nContent-Length: "
        + body.length
        + "\r\nConnection: close\r\n\r\n"
        + new String(body, StandardCharsets.ISO_8859_1);
  }

  @ParameterizedTest(name = "name {0}")
  @ValueSource(
      strings = {
        "..",
        "%2e%2e",
        "%2E%2E",
        ".%2e",
        "a%2Fb",
        "a%2fb%2f..",
        "a%5Cb",
        "a%00b",
        "a%0ab",
        "a%7fb",
        ".hidden",
        "a..b",
        "%ff%fe",
        "a%zz",
        "-lead"
      })
  void badNamesAreRefused(String name) {
    Multipart m =
        Multipart.tfjs(
            TestServer.denseModelJson("./model.weights.bin"), TestServer.denseWeights(1));
    Reply r = s.raw(rawPost("/models/" + name, m.body(), m.contentType()));
    assertThat(r.status()).as(r.text()).isBetween(400, 499);
    r.assertJsonError(r.status());
    s.assertNothingStored();
  }

  @Test
  void parentSegmentsAndLongNamesAreRefused() {
    Multipart m =
        Multipart.tfjs(
            TestServer.denseModelJson("./model.weights.bin"), TestServer.denseWeights(1));
    for (String path :
        new String[] {
          "/models/../models/x",
          "/models/x/..",
          "/models/" + "a".repeat(200),
          "/models/%2e%2e/%2e%2e/etc"
        }) {
      Reply r = s.raw(rawPost(path, m.body(), m.contentType()));
      assertThat(r.status()).as(path + " " + r.text()).isBetween(400, 499);
      r.assertJsonError(r.status());
    }
    Reply g =
        s.raw(
            "GET /models/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    g.assertJsonError(400);
    s.assertNothingStored();
  }

  @Test
  void controlCharacterInRequestLineIsJsonError() {
    Reply r =
        s.raw(
            "POST /models/a\u0001b HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    assertThat(r.status()).isBetween(400, 499);
    r.assertJsonError(r.status());
    s.assertNothingStored();
  }

  @Test
  void malformedMultipart() {
    Multipart m =
        Multipart.tfjs(
            TestServer.denseModelJson("./model.weights.bin"), TestServer.denseWeights(1));
    assertThat(s.post("/models/m", m.contentType(), m.unterminated(), null).assertJsonError(400))
        .contains("multipart");
    assertThat(s.post("/models/m", "multipart/form-data", validBody(), null).assertJsonError(400))
        .contains("multipart");
    assertThat(
            s.post("/models/m", "multipart/form-data; boundary=nothere", validBody(), null)
                .status())
        .isBetween(400, 499);
    Multipart noHeaders = new Multipart().raw("--" + new Multipart().boundary + "\r\n\r\nxx\r\n");
    assertThat(s.post("/models/m", noHeaders.contentType(), noHeaders.body(), null).status())
        .isBetween(400, 499);
    s.assertNothingStored();
  }

  @Test
  void missingParts() {
    byte[] json = TestServer.denseModelJson("./model.weights.bin");
    assertThat(s.upload("m", Multipart.tfjs(json, null), null).assertJsonError(400))
        .contains("no part for weight file 'model.weights.bin'");
    Multipart noJson =
        new Multipart()
            .part("weights", "a.bin", null, new byte[4])
            .part("other", "b.bin", null, new byte[4]);
    assertThat(s.upload("m", noJson, null).assertJsonError(400)).contains("no 'model.json' part");
    Multipart extra =
        Multipart.tfjs(json, TestServer.denseWeights(1)).part("x", "x.bin", null, new byte[3]);
    assertThat(s.upload("m", extra, null).assertJsonError(400)).contains("does not list");
    Multipart twice =
        Multipart.tfjs(json, TestServer.denseWeights(1))
            .part("model.json", "model.json", null, json);
    assertThat(s.upload("m", twice, null).assertJsonError(400)).contains("two 'model.json'");
    s.assertNothingStored();
  }

  @ParameterizedTest(name = "model.json {0}")
  @ValueSource(
      strings = {
        "not json",
        "[1,2]",
        "{\"format\":\"layers-model\"}",
        "{\"modelTopology\":{},\"format\":7}",
        "{\"modelTopology\":{},\"format\":\"other\"}",
        "{\"modelTopology\":{},\"weightsManifest\":{}}",
        "{\"modelTopology\":{},\"weightsManifest\":[{\"paths\":[\"../../etc/passwd\"],\"weights\":[]}]}",
        "{\"modelTopology\":{},\"weightsManifest\":[{\"paths\":[\"/abs.bin\"],\"weights\":[]}]}",
        "{\"modelTopology\":{},\"weightsManifest\":[{\"paths\":[\"model.weights.bin\"],\"weights\":[{\"name\":\"w\","
            + "\"shape\":[2],\"dtype\":\"float99\"}]}]}",
        "{\"modelTopology\":{},\"weightsManifest\":[{\"paths\":[\"model.weights.bin\"],\"weights\":[{\"name\":\"w\","
            + "\"shape\":[-4],\"dtype\":\"float32\"}]}]}",
        "{\"modelTopology\":{},\"weightsManifest\":[{\"paths\":[\"model.weights.bin\"],\"weights\":[{\"name\":\"w\","
            + "\"shape\":[99999999999,99999999999],\"dtype\":\"float32\"}]}]}",
        "{\"modelTopology\":{},\"weightsManifest\":[{\"paths\":[\"model.weights.bin\",\"model.weights.bin\"],"
            + "\"weights\":[]}]}",
        "{\"modelTopology\":{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
      })
  void invalidModelJson(String json) {
    Reply r =
        s.upload(
            "m",
            Multipart.tfjs(json.getBytes(StandardCharsets.UTF_8), TestServer.denseWeights(1)),
            null);
    r.assertJsonError(400);
    s.assertNothingStored();
  }

  @Test
  void weightsWhoseSizeDisagreesWithTheManifest() {
    byte[] json = TestServer.denseModelJson("./model.weights.bin");
    assertThat(s.upload("m", Multipart.tfjs(json, new byte[31]), null).assertJsonError(400))
        .contains("32");
    assertThat(s.upload("m", Multipart.tfjs(json, new byte[33]), null).assertJsonError(400))
        .contains("33");
    assertThat(s.upload("m", Multipart.tfjs(json, new byte[0]), null).assertJsonError(400))
        .isNotBlank();
    s.assertNothingStored();
  }

  @Test
  void oversizedUploads() {
    byte[] json = TestServer.denseModelJson("./model.weights.bin");
    Multipart big = Multipart.tfjs(json, new byte[2 << 20]);
    Reply r =
        s.send(
            java.net.http.HttpRequest.newBuilder(java.net.URI.create(s.base + "/models/m"))
                .header("Content-Type", big.contentType())
                .expectContinue(true)
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(big.body()))
                .build());
    assertThat(r.assertJsonError(413)).contains("limit");
    // Without a Content-Length (chunked), the limit is enforced while the body streams in.
    Reply chunked =
        s.send(
            java.net.http.HttpRequest.newBuilder(java.net.URI.create(s.base + "/models/m"))
                .header("Content-Type", big.contentType())
                .POST(
                    java.net.http.HttpRequest.BodyPublishers.ofInputStream(
                        () -> new java.io.ByteArrayInputStream(big.body())))
                .build());
    assertThat(chunked.assertJsonError(413)).contains("limit");
    Reply rawChunked =
        s.send(
            java.net.http.HttpRequest.newBuilder(java.net.URI.create(s.base + "/models/m"))
                .header("Content-Type", "application/octet-stream")
                .POST(
                    java.net.http.HttpRequest.BodyPublishers.ofInputStream(
                        () -> new java.io.ByteArrayInputStream(new byte[3 << 20])))
                .build());
    assertThat(rawChunked.assertJsonError(413)).contains("limit");
    StringBuilder hugeJson = new StringBuilder("{\"modelTopology\":{\"pad\":\"");
    hugeJson.append("x".repeat(100_000)).append("\"}}");
    Reply j =
        s.upload(
            "m", Multipart.tfjs(hugeJson.toString().getBytes(StandardCharsets.UTF_8), null), null);
    assertThat(j.assertJsonError(413)).contains("model.json");
    Multipart many = Multipart.tfjs(json, TestServer.denseWeights(1));
    for (int i = 0; i < 10; i++) {
      many.part("p" + i, "p" + i + ".bin", null, new byte[1]);
    }
    assertThat(s.upload("m", many, null).status()).isBetween(400, 499);
    s.assertNothingStored();
  }

  @Test
  void unsupportedBodies() throws Exception {
    s.post(
            "/models/m",
            "application/octet-stream",
            "just some bytes".getBytes(StandardCharsets.UTF_8),
            null)
        .assertJsonError(415);
    s.post("/models/m", "application/octet-stream", new byte[0], null).assertJsonError(400);
    byte[] brokenZip = {'P', 'K', 3, 4, 1, 2, 3, 4, 5, 6, 7, 8};
    s.post("/models/m", "application/zip", brokenZip, null).assertJsonError(400);
    ByteArrayOutputStream zip = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(zip)) {
      z.putNextEntry(new ZipEntry("my_model/saved_model.pb"));
      z.write(new byte[] {1, 2, 3});
      z.closeEntry();
    }
    TestServer.Reply bad = s.post("/models/m", "application/zip", zip.toByteArray(), null);
    assertThat(bad.status()).isBetween(400, 499);
    assertThat(bad.assertJsonError(bad.status())).contains("SavedModel");
    ByteArrayOutputStream slip = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(slip)) {
      z.putNextEntry(new ZipEntry("../../evil/saved_model.pb"));
      z.write(new byte[] {1, 2, 3});
      z.closeEntry();
    }
    assertThat(
            s.post("/models/m", "application/zip", slip.toByteArray(), null).assertJsonError(400))
        .contains("outside");
    assertThat(tmp.resolve("evil")).doesNotExist();
    ByteArrayOutputStream neither = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(neither)) {
      z.putNextEntry(new ZipEntry("readme.txt"));
      z.write(new byte[] {1});
      z.closeEntry();
    }
    s.post("/models/m", "application/zip", neither.toByteArray(), null).assertJsonError(415);
    byte[] badH5 = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n', 0, 0, 0};
    s.post("/models/m", "application/x-hdf5", badH5, null).assertJsonError(400);
    assertThat(
            s.send(
                    java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create(s.base + "/models/m/versions/1"))
                        .DELETE()
                        .build())
                .status())
        .isEqualTo(405);
    s.assertNothingStored();
  }

  @Test
  void tokenIsRequiredForWritesOnly(@TempDir Path other) {
    try (TestServer t = new TestServer(other.resolve("store"), "s3cret")) {
      byte[] body = validBody();
      String ct = Multipart.tfjs(new byte[0], null).contentType();
      assertThat(t.post("/models/m", ct, body, null).assertJsonError(401))
          .contains("Authorization");
      assertThat(t.post("/models/m", ct, body, "wrong").assertJsonError(401)).contains("wrong");
      t.assertNothingStored();
      assertThat(t.post("/models/m", ct, body, "s3cret").status()).isEqualTo(201);
      assertThat(t.get("/models/m/model.json").status()).isEqualTo(200);
      assertThat(t.get("/models").json().path("models").size()).isEqualTo(1);
    }
  }
}
