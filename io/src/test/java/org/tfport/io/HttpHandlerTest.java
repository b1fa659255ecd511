package org.tfport.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.tfport.core.Json;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UsageException;
import tools.jackson.databind.JsonNode;

/**
 * The http:// handler against a JDK HttpServer that records what it is sent and serves what a test
 * sets.
 */
class HttpHandlerTest {
  HttpServer server;
  String base;
  final Map<String, byte[]> files = new ConcurrentHashMap<>();
  final List<String> requests = new CopyOnWriteArrayList<>();
  volatile HttpExchangeRecord last;
  volatile int delayMillis;

  record HttpExchangeRecord(
      String method, String path, Map<String, List<String>> headers, byte[] body) {}

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext("/", this::handle);
    server.start();
    base = "http://127.0.0.1:" + server.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private void handle(HttpExchange ex) throws IOException {
    byte[] body = ex.getRequestBody().readAllBytes();
    String uri = ex.getRequestURI().toString();
    requests.add(ex.getRequestMethod() + " " + uri);
    last =
        new HttpExchangeRecord(
            ex.getRequestMethod(), uri, Map.copyOf(ex.getRequestHeaders()), body);
    if (uri.startsWith("/slow/") && delayMillis > 0) {
      try {
        Thread.sleep(delayMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (uri.startsWith("/fail")) {
      reply(ex, 500, "{\"error\":\"boom\"}".getBytes(StandardCharsets.UTF_8));
      return;
    }
    if (ex.getRequestMethod().equals("POST") || ex.getRequestMethod().equals("PUT")) {
      reply(ex, 201, "{\"ok\":true}".getBytes(StandardCharsets.UTF_8));
      return;
    }
    byte[] f = files.get(uri);
    if (f == null) {
      reply(ex, 404, "{\"error\":\"no such file\"}".getBytes(StandardCharsets.UTF_8));
      return;
    }
    if (uri.startsWith("/chunked/")) {
      ex.sendResponseHeaders(200, 0);
      try (OutputStream o = ex.getResponseBody()) {
        o.write(f);
      }
      return;
    }
    reply(ex, 200, f);
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] a = new byte[b.remaining()];
    b.duplicate().get(a);
    return a;
  }

  private static void reply(HttpExchange ex, int status, byte[] body) throws IOException {
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    try (OutputStream o = ex.getResponseBody()) {
      o.write(body);
    }
  }

  /**
   * A model.json whose one group lists {@code shards} files of 8 bytes each (one float32[2] per
   * shard).
   */
  private static byte[] manifest(int shards, String prefix) {
    StringBuilder paths = new StringBuilder();
    StringBuilder weights = new StringBuilder();
    for (int i = 0; i < shards; i++) {
      paths
          .append(i == 0 ? "" : ",")
          .append("\"")
          .append(prefix)
          .append("s")
          .append(i)
          .append(".bin\"");
      weights
          .append(i == 0 ? "" : ",")
          .append("{\"name\":\"w")
          .append(i)
          .append("\",\"shape\":[2],\"dtype\":\"float32\"}");
    }
    return ("{\"modelTopology\":{\"node\":[]},\"format\":\"graph-model\",\"weightsManifest\":[{\"paths\":["
            + paths
            + "],\"weights\":["
            + weights
            + "]}]}")
        .getBytes(StandardCharsets.UTF_8);
  }

  private void serveShards(String dir, int shards) {
    for (int i = 0; i < shards; i++) {
      files.put(dir + "s" + i + ".bin", ByteBuffer.allocate(8).putInt(i).putInt(-i).array());
    }
  }

  @Test
  void saveSendsTfjsMultipartExactly() {
    ModelArtifacts a = FileHandlerTest.small();
    SaveResult r =
        Models.save(
            a,
            base + "/upload/x",
            LoadOptions.builder().method("PUT").header("X-Test", "1").build());
    assertThat(r.responses().get(0).status()).isEqualTo(201);
    assertThat(last.method()).isEqualTo("PUT");
    assertThat(last.headers().get("X-test")).containsExactly("1");
    String ct = last.headers().get("Content-type").get(0);
    assertThat(ct).startsWith("multipart/form-data; boundary=");
    String boundary = ct.substring(ct.indexOf('=') + 1);
    String body = new String(last.body(), StandardCharsets.ISO_8859_1);
    byte[] json = ModelJson.write(a, "./model.weights.bin", ModelJson.Style.BROWSER);
    String expected =
        "--"
            + boundary
            + "\r\n"
            + "Content-Disposition: form-data; name=\"model.json\"; filename=\"model.json\"\r\n"
            + "Content-Type: application/json\r\n\r\n"
            + new String(json, StandardCharsets.ISO_8859_1)
            + "\r\n"
            + "--"
            + boundary
            + "\r\n"
            + "Content-Disposition: form-data; name=\"model.weights.bin\"; filename=\"model.weights.bin\"\r\n"
            + "Content-Type: application/octet-stream\r\n\r\n"
            + new String(
                bytes(FileHandlerTest.small().joinedWeightData()), StandardCharsets.ISO_8859_1)
            + "\r\n"
            + "--"
            + boundary
            + "--\r\n";
    assertThat(body).isEqualTo(expected);
    JsonNode sent = Json.MAPPER.readTree(json);
    assertThat(sent.properties().stream().map(Map.Entry::getKey).toList())
        .containsExactly(
            "modelTopology",
            "format",
            "generatedBy",
            "convertedBy",
            "weightsManifest",
            "userDefinedMetadata");
    assertThat(last.headers().get("Content-length"))
        .containsExactly(String.valueOf(last.body().length));
  }

  @Test
  void failedSaveNamesStatusAndServerError() {
    assertThatThrownBy(() -> Models.save(FileHandlerTest.small(), base + "/fail"))
        .isInstanceOfSatisfying(ModelIOException.class, e -> assertThat(e.status()).isEqualTo(500))
        .hasMessageContaining("status 500")
        .hasMessageContaining("boom");
  }

  @Test
  void loadKeepsQueryStringAndFetchesInParallelWithProgress() {
    files.put("/m/model.json?sig=abc", manifest(6, ""));
    for (int i = 0; i < 6; i++) {
      files.put("/m/s" + i + ".bin?sig=abc", ByteBuffer.allocate(8).putInt(i).putInt(-i).array());
    }
    List<Double> progress = new CopyOnWriteArrayList<>();
    ModelArtifacts a =
        Models.load(
            base + "/m/model.json?sig=abc",
            LoadOptions.builder().onProgress(progress::add).parallelism(3).build());
    assertThat(a.weightData()).hasSize(6);
    assertThat(a.weightData().get(5).order(java.nio.ByteOrder.BIG_ENDIAN).getInt(0)).isEqualTo(5);
    assertThat(a.weightSpecs()).hasSize(6);
    assertThat(progress).hasSize(12).isSorted();
    assertThat(progress.get(11)).isEqualTo(1.0);
    assertThat(requests).allMatch(r -> r.endsWith("?sig=abc"));
  }

  @Test
  void weightPathPrefixAndUrlConverter() {
    files.put("/a/model.json", manifest(2, "./"));
    files.put("/cdn/s0.bin", new byte[8]);
    files.put("/cdn/s1.bin", new byte[8]);
    assertThat(
            Models.load(
                    base + "/a/model.json",
                    LoadOptions.builder().weightPathPrefix(base + "/cdn/").build())
                .weightDataBytes())
        .isEqualTo(16);
    files.put("/conv/s0.bin", new byte[8]);
    files.put("/conv/s1.bin", new byte[8]);
    assertThat(
            Models.load(
                    base + "/a/model.json",
                    LoadOptions.builder()
                        .weightUrlConverter(p -> base + "/conv/" + p.substring(2))
                        .build())
                .weightDataBytes())
        .isEqualTo(16);
  }

  @Test
  void limitsAndMismatches() {
    files.put("/m/model.json", manifest(2, ""));
    serveShards("/m/", 2);
    int before = requests.size();
    assertThatThrownBy(
            () ->
                Models.load(
                    base + "/m/model.json", LoadOptions.builder().maxWeightBytes(15).build()))
        .isInstanceOf(ModelIOException.class)
        .hasMessageContaining("limit");
    assertThat(requests.size() - before).as("no shard fetched").isEqualTo(1);
    assertThatThrownBy(
            () ->
                Models.load(
                    base + "/m/model.json", LoadOptions.builder().maxModelJsonBytes(10).build()))
        .isInstanceOf(ModelIOException.class)
        .hasMessageContaining("over the limit");
    files.put("/chunked/model.json", manifest(1, ""));
    files.put("/chunked/s0.bin", new byte[8]);
    assertThatThrownBy(
            () ->
                Models.load(
                    base + "/chunked/model.json",
                    LoadOptions.builder().maxModelJsonBytes(50).build()))
        .isInstanceOf(ModelIOException.class)
        .hasMessageContaining("limit");
    assertThat(Models.load(base + "/chunked/model.json").weightDataBytes()).isEqualTo(8);
    files.put("/short/model.json", manifest(1, ""));
    files.put("/short/s0.bin", new byte[7]);
    assertThatThrownBy(() -> Models.load(base + "/short/model.json"))
        .isInstanceOf(CorruptModelException.class)
        .hasMessageContaining("w0");
    files.put("/bad/model.json", "<html>".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> Models.load(base + "/bad/model.json"))
        .isInstanceOf(CorruptModelException.class);
    files.put("/bad/graph.pb", new byte[] {8, 1, 2});
    assertThatThrownBy(() -> Models.load(base + "/bad/graph.pb")).hasMessageContaining(".pb");
    assertThatThrownBy(() -> Models.load(base + "/none/model.json"))
        .isInstanceOf(ModelIOException.class)
        .hasMessageContaining("404");
  }

  @Test
  void slowServerTimesOut() {
    files.put("/slow/model.json", manifest(1, ""));
    files.put("/slow/s0.bin", new byte[8]);
    delayMillis = 5000;
    long t0 = System.nanoTime();
    assertThatThrownBy(
            () ->
                Models.load(
                    base + "/slow/model.json",
                    LoadOptions.builder().timeout(Duration.ofMillis(400)).build()))
        .isInstanceOf(ModelIOException.class);
    assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(3000);
  }

  @Test
  void routersNeedExactlyOneMatch() {
    assertThatThrownBy(() -> Models.load("foo://bar"))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("file, http");
    IORouter dup =
        new IORouter() {
          @Override
          public String name() {
            return "dup";
          }

          @Override
          public IOHandler loadHandler(String url, LoadOptions options) {
            return url.startsWith("http://") ? new IOHandler() {} : null;
          }
        };
    Models.registerRouter(dup);
    try {
      assertThatThrownBy(() -> Models.load(base + "/m/model.json"))
          .isInstanceOf(UsageException.class)
          .hasMessageContaining("more than one (2)")
          .hasMessageContaining("http (")
          .hasMessageContaining("dup (");
      assertThat(Models.loadHandlers(base + "/x", LoadOptions.defaults())).hasSize(2);
      assertThat(Models.saveHandlers(base + "/x", LoadOptions.defaults())).hasSize(1);
    } finally {
      Models.unregisterRouter(dup);
    }
  }
}
