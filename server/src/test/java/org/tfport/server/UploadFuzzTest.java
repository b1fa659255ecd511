package org.tfport.server;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.Attributes;
import org.tfport.core.TfportException;
import org.tfport.formats.ModelFormat;
import org.tfport.formats.savedmodel.SavedModelReader;
import org.tfport.graph.GraphLoader;

/**
 * Fuzz targets (issue 16) for the server's upload paths. {@code multipart} takes the bytes as a
 * {@code multipart/form-data} body (the boundary {@value #BOUNDARY}), {@code savedModelZip} as an
 * {@code application/zip} body (a zipped SavedModel or Keras 3 file, unzipped and converted on
 * arrival); both call the upload the server runs ({@link Upload#handle}, Jetty's multipart parser
 * included) in this JVM, so a campaign spends its time in the parsers rather than in an HTTP round
 * trip, and the store they write to does not flush to disk ({@code bin/fuzz} puts it in memory).
 * {@code multipartOverHttp} posts the same bodies to a loopback server, end to end, as a slower
 * extra. Every input must be stored or refused with a 4xx {@link HttpError} (or 507, the store
 * being full), within 10 s; anything else thrown, or a 5xx, is a finding. Regression inputs: {@code
 * UploadFuzzTestInputs/<method>/}; campaigns: {@code bin/fuzz --target uploadMultipart}.
 */
class UploadFuzzTest {
  static final String BOUNDARY = "tfportFuzzBoundary";

  /** One model name, its versions deleted after every input, so nothing piles up in the store. */
  private static final String NAME = "fuzz";

  private static Upload upload;
  private static ServerConfig config;
  private static ModelStore store;
  private static TestServer server;
  private static final AtomicLong NEXT = new AtomicLong();

  @FuzzTest
  void multipart(byte[] data) throws Exception {
    check(data, () -> inProcess(data, "multipart/form-data; boundary=" + BOUNDARY));
  }

  /**
   * A converted SavedModel costs tens of milliseconds, most of them spent on a graph the fuzzer did
   * not change: a mutated zip mostly differs in its headers, or fails to inflate. So every input
   * goes through the stages that read its bytes, as the upload runs them: the zip's listing, the
   * one-SavedModel check and the extraction (entry paths, the inflation budget), then the first
   * step of the conversion, {@link SavedModelReader#read} of the extracted folder (saved_model.pb,
   * its graph and function library into the IR, the checkpoint's index). The whole upload
   * (conversion to TF.js, the version's checks, the commit) then runs for an input whose SavedModel
   * reads and whose extracted files this JVM has not converted before (the same files convert the
   * same way, so this skips only repeats), for a Keras 3 zip, and for a body that is not a zip (the
   * upload's other branches). A refusal in the stages is what the upload would answer, as the
   * conversion begins with the same read; {@link #CONVERTED} is empty in a fresh JVM, so an input
   * that fails in a conversion fails again when replayed alone.
   */
  @FuzzTest
  void savedModelZip(byte[] data) throws Exception {
    check(
        data,
        () -> {
          if (needsWholeUpload(data)) {
            inProcess(data, "application/zip");
          }
        });
  }

  /** Digests of the extracted files of the SavedModels converted so far in this JVM. */
  private static final Set<String> CONVERTED = ConcurrentHashMap.newKeySet();

  private static boolean needsWholeUpload(byte[] data) throws IOException {
    upload();
    if (ModelFormat.ofSignature(data, Math.min(8, data.length)).orElse(null)
        != ModelFormat.KERAS_KERAS) {
      return true;
    }
    Path staging = store.newStaging();
    try {
      Path body = Files.write(staging.resolve("body"), data);
      UploadZip.Contents zip = UploadZip.list(body);
      if (zip.keras3()) {
        return true;
      }
      Path root = staging.resolve("savedmodel");
      Path dir = UploadZip.extractSavedModel(body, zip, root, config);
      SavedModelReader.read(dir, Set.of("serve"), GraphLoader.DEFAULT_SIGNATURE);
      if (CONVERTED.size() > 1_000_000) {
        CONVERTED.clear(); // a bound on the memory a long campaign gives this
      }
      return CONVERTED.add(digest(root, dir));
    } catch (HttpError e) {
      refused(e, data.length);
      return false;
    } catch (TfportException | IOException e) {
      return false; // the upload answers both with a 4xx (the conversion starts with this read)
    } finally {
      ModelStore.deleteTree(staging);
    }
  }

  /** Every extracted file's path and bytes, and which folder is the SavedModel. */
  private static String digest(Path root, Path dir) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
    md.update(root.relativize(dir).toString().getBytes(StandardCharsets.UTF_8));
    List<Path> files;
    try (Stream<Path> s = Files.walk(root)) {
      files = s.filter(Files::isRegularFile).sorted().toList();
    }
    for (Path f : files) {
      md.update((byte) 0);
      md.update(root.relativize(f).toString().getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
      md.update(Files.readAllBytes(f));
    }
    return HexFormat.of().formatHex(md.digest());
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
      refused(e, data.length);
    } finally {
      ModelStore.deleteTree(store.root().resolve(NAME));
    }
  }

  /** A refusal must be a 4xx (or 507, the store full) with a one-line message. */
  private static void refused(HttpError e, int length) {
    if (e.status >= 500 && e.status != 507) {
      throw new AssertionError("upload of " + length + " bytes: " + e.status + " " + e, e);
    }
    if (e.getMessage() == null || e.getMessage().isBlank() || e.getMessage().contains("\n")) {
      throw new AssertionError("a refusal without a one-line message: " + e.status, e);
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
      config = ServerConfig.of("127.0.0.1", 0, root, null);
      upload = new Upload(config, store);
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
      HttpRequest post =
          HttpRequest.newBuilder(URI.create(s.base + "/models/" + name))
              .timeout(Duration.ofSeconds(60))
              .header("Content-Type", contentType)
              .POST(HttpRequest.BodyPublishers.ofByteArray(data))
              .build();
      r = TestServer.sendOnce(post, HttpResponse.BodyHandlers.ofString());
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
