package org.tfport.server;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.Attributes;

/**
 * Fuzz targets (issue 16) for the server's upload paths. {@code multipart} takes the bytes as a
 * {@code multipart/form-data} body (the boundary {@value #BOUNDARY}), {@code savedModelZip} as an
 * {@code application/zip} body (a zipped SavedModel or Keras 3 file, unzipped and converted on
 * arrival); both call the upload the server runs ({@link Upload#handle}, Jetty's multipart parser
 * included) in this JVM, so a campaign spends its time in the parsers rather than in an HTTP round
 * trip. {@code multipartOverHttp} posts the same bodies to a loopback server, end to end, as a
 * slower extra. Every input must be stored or refused with a 4xx {@link HttpError} (or 507, the
 * store being full), within 10 s; anything else thrown, or a 5xx, is a finding. Regression inputs:
 * {@code UploadFuzzTestInputs/<method>/}; campaigns: {@code bin/fuzz --target uploadMultipart}.
 */
class UploadFuzzTest {
  static final String BOUNDARY = "tfportFuzzBoundary";

  /** One model name, its versions deleted after every input, so nothing piles up in the store. */
  private static final String NAME = "fuzz";

  private static Upload upload;
  private static ModelStore store;
  private static TestServer server;
  private static final AtomicLong NEXT = new AtomicLong();

  @FuzzTest
  void multipart(byte[] data) throws Exception {
    check(data, () -> inProcess(data, "multipart/form-data; boundary=" + BOUNDARY));
  }

  @FuzzTest
  void savedModelZip(byte[] data) throws Exception {
    check(data, () -> inProcess(data, "application/zip"));
  }

  @FuzzTest
  void multipartOverHttp(byte[] data) throws Exception {
    check(data, () -> overHttp(data, "multipart/form-data; boundary=" + BOUNDARY));
  }

  private interface Attempt {
    void run() throws Exception;
  }

  private static void check(byte[] data, Attempt attempt) throws Exception {
    // Over 10 s counts only if a second, warm run is as slow (the first conversion loads and
    // instruments many classes; the machine may be busy).
    if (timed(attempt) > 10_000_000_000L
        && data.length < 1 << 20
        && timed(attempt) > 10_000_000_000L) {
      throw new AssertionError("an upload of " + data.length + " bytes took over 10 s, twice");
    }
  }

  private static long timed(Attempt attempt) throws Exception {
    long start = System.nanoTime();
    attempt.run();
    return System.nanoTime() - start;
  }

  private static void inProcess(byte[] data, String contentType) throws IOException {
    Upload u = upload();
    try {
      u.handle(chunked(data), new Attributes.Mapped(), data.length, contentType, NAME);
    } catch (HttpError e) {
      if (e.status >= 500 && e.status != 507) {
        throw new AssertionError("upload of " + data.length + " bytes: " + e.status + " " + e, e);
      }
      if (e.getMessage() == null || e.getMessage().isBlank() || e.getMessage().contains("\n")) {
        throw new AssertionError("a refusal without a one-line message: " + e.status, e);
      }
    } finally {
      ModelStore.deleteTree(store.root().resolve(NAME));
    }
  }

  /**
   * The body in three pieces, as a network delivers it in reads: the multipart parser must carry a
   * boundary or a header split across two reads.
   */
  private static Content.Source chunked(byte[] data) {
    int a = data.length / 3;
    int b = 2 * data.length / 3;
    return Content.Source.from(
        ByteBuffer.wrap(data, 0, a),
        ByteBuffer.wrap(data, a, b - a),
        ByteBuffer.wrap(data, b, data.length - b));
  }

  private static synchronized Upload upload() throws IOException {
    if (upload == null) {
      Path root = Files.createTempDirectory("tfport-fuzz-upload");
      Runtime.getRuntime().addShutdownHook(new Thread(() -> ModelStore.deleteTree(root)));
      store = new ModelStore(root, Long.MAX_VALUE, false);
      upload = new Upload(ServerConfig.of("127.0.0.1", 0, root, null), store);
    }
    return upload;
  }

  private static void overHttp(byte[] data, String contentType) throws Exception {
    TestServer s = server();
    // Each input its own model name, so versions never pile up under one name; removed after.
    String name = "f" + NEXT.incrementAndGet();
    int port = s.server.uri().getPort();
    HttpResponse<String> r;
    // The one connection this target makes on purpose; Jazzer's SSRF detector refuses any other.
    try (var allowed =
        BugDetectors.allowNetworkConnections(
            (host, p) ->
                p == port
                    && (host.equals("127.0.0.1")
                        || host.equals("localhost")
                        || host.equals("::1")))) {
      r =
          TestServer.CLIENT.send(
              HttpRequest.newBuilder(URI.create(s.base + "/models/" + name))
                  .timeout(Duration.ofSeconds(60))
                  .header("Content-Type", contentType)
                  .POST(HttpRequest.BodyPublishers.ofByteArray(data))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
    }
    ModelStore.deleteTree(s.store.resolve(name));
    if (r.statusCode() >= 500 && r.statusCode() != 507) {
      throw new AssertionError(
          "upload of " + data.length + " bytes answered " + r.statusCode() + ": " + r.body());
    }
    if (r.statusCode() >= 300 && !TensorJson.READER.readTree(r.body()).path("error").isString()) {
      throw new AssertionError(
          "a refusal without a JSON error: " + r.statusCode() + " " + r.body());
    }
  }

  private static synchronized TestServer server() throws IOException {
    if (server == null) {
      Path dir = Files.createTempDirectory("tfport-fuzz-upload-http");
      dir.toFile().deleteOnExit();
      server = new TestServer(dir, null);
      Runtime.getRuntime().addShutdownHook(new Thread(server::close));
    }
    return server;
  }
}
