package org.tfport.server;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fuzz targets (issue 16) for the server's upload paths, through HTTP on loopback to one server
 * started per JVM: {@code multipart} sends the bytes as a {@code multipart/form-data} body (the
 * boundary {@value #BOUNDARY}), {@code savedModelZip} as an {@code application/zip} body (a zipped
 * SavedModel or Keras 3 file, unzipped and converted on arrival). Every input must be answered with
 * a 2xx or 4xx status and a JSON error, within 10 s; a 5xx (an exception the upload did not expect)
 * or a server that stops answering is a finding. Regression inputs: {@code
 * UploadFuzzTestInputs/<method>/}; campaigns: {@code bin/fuzz --target uploadMultipart}.
 */
class UploadFuzzTest {
  static final String BOUNDARY = "tfportFuzzBoundary";

  private static TestServer server;
  private static final AtomicLong NEXT = new AtomicLong();

  @FuzzTest
  void multipart(byte[] data) throws Exception {
    check(data, "multipart/form-data; boundary=" + BOUNDARY);
  }

  @FuzzTest
  void savedModelZip(byte[] data) throws Exception {
    check(data, "application/zip");
  }

  private static void check(byte[] data, String contentType) throws Exception {
    // Over 10 s counts only if a second, warm run is as slow (the first conversion loads and
    // instruments many classes; the machine may be busy).
    if (timed(data, contentType) > 10_000_000_000L
        && data.length < 1 << 20
        && timed(data, contentType) > 10_000_000_000L) {
      throw new AssertionError("an upload of " + data.length + " bytes took over 10 s, twice");
    }
  }

  private static long timed(byte[] data, String contentType) throws Exception {
    TestServer s = server();
    // Each input its own model name, so versions never pile up under one name; removed after.
    String name = "f" + NEXT.incrementAndGet();
    long start = System.nanoTime();
    int port = s.server.uri().getPort();
    HttpResponse<String> r;
    // The one connection these targets make on purpose; Jazzer's SSRF detector refuses any other.
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
    long nanos = System.nanoTime() - start;
    ModelStore.deleteTree(s.store.resolve(name));
    if (r.statusCode() >= 500 && r.statusCode() != 507) {
      throw new AssertionError(
          "upload of " + data.length + " bytes answered " + r.statusCode() + ": " + r.body());
    }
    if (r.statusCode() >= 300 && !TensorJson.READER.readTree(r.body()).path("error").isString()) {
      throw new AssertionError(
          "a refusal without a JSON error: " + r.statusCode() + " " + r.body());
    }
    return nanos;
  }

  private static synchronized TestServer server() throws IOException {
    if (server == null) {
      Path store = Files.createTempDirectory("tfport-fuzz-upload");
      store.toFile().deleteOnExit();
      server = new TestServer(store, null);
      Runtime.getRuntime().addShutdownHook(new Thread(server::close));
    }
    return server;
  }
}
