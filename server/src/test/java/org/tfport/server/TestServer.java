package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.tfport.core.Json;
import tools.jackson.databind.JsonNode;

/** A server on a free loopback port over a fresh store, and the HTTP plumbing the tests share. */
final class TestServer implements AutoCloseable {
  static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  final ModelServer server;
  final Path store;
  final String base;

  TestServer(Path store, String token) {
    this(ServerConfig.of("127.0.0.1", 0, store, token));
  }

  TestServer(ServerConfig config) {
    this.store = config.store();
    this.server = ModelServer.start(config);
    this.base = server.uri().toString();
  }

  @Override
  public void close() {
    server.close();
  }

  /** One response: status, headers, body. */
  record Reply(int status, Map<String, List<String>> headers, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    JsonNode json() {
      return Json.MAPPER.readTree(body);
    }

    String header(String name) {
      for (var e : headers.entrySet()) {
        if (e.getKey() != null && e.getKey().equalsIgnoreCase(name)) {
          return e.getValue().get(0);
        }
      }
      return null;
    }

    /** Asserts a 4xx with a JSON {"error": "..."} body, and returns the message. */
    String assertJsonError(int expected) {
      assertThat(status).as("status of %s", text()).isEqualTo(expected);
      assertThat(header("content-type")).startsWith("application/json");
      JsonNode n = json();
      assertThat(n.path("error").isString()).as(text()).isTrue();
      String msg = n.get("error").stringValue();
      assertThat(msg).doesNotContain("\n").isNotBlank();
      return msg;
    }
  }

  Reply get(String path) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).GET().build());
  }

  Reply send(HttpRequest r) {
    try {
      HttpResponse<byte[]> resp = sendOnce(r, HttpResponse.BodyHandlers.ofByteArray());
      return new Reply(resp.statusCode(), resp.headers().map(), resp.body());
    } catch (IOException e) {
      throw new AssertionError("request " + r.uri() + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /**
   * Sends {@code r} with the shared client, and once more on a new connection when it failed before
   * any answer. The shared client sends on a kept-alive connection, which the server may have
   * closed since the previous request (CI saw "Broken pipe" and "header parser received no bytes",
   * 27-57 ms in, after a refused upload; not reproduced in reruns), and the JDK client retries no
   * POST. A server that cannot answer on a new connection either still fails the test.
   */
  static <T> HttpResponse<T> sendOnce(HttpRequest r, HttpResponse.BodyHandler<T> body)
      throws IOException, InterruptedException {
    try {
      return CLIENT.send(r, body);
    } catch (IOException reused) {
      try (HttpClient fresh =
          HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()) {
        return fresh.send(r, body);
      }
    }
  }

  Reply post(String path, String contentType, byte[] body, String token) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .timeout(Duration.ofSeconds(60));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return send(b.build());
  }

  Reply upload(String name, Multipart m, String token) {
    return post("/models/" + name, m.contentType(), m.body(), token);
  }

  /** Sends exact bytes over a socket (paths no client would send) and reads the response. */
  Reply raw(String request) {
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(20_000);
      OutputStream out = s.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      in.transferTo(all);
      String text = all.toString(StandardCharsets.ISO_8859_1);
      int end = text.indexOf("\r\n\r\n");
      String[] lines = text.substring(0, end).split("\r\n");
      int status = Integer.parseInt(lines[0].split(" ")[1]);
      Map<String, List<String>> headers = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
      for (int i = 1; i < lines.length; i++) {
        int c = lines[i].indexOf(':');
        headers
            .computeIfAbsent(lines[i].substring(0, c).trim(), k -> new ArrayList<>())
            .add(lines[i].substring(c + 1).trim());
      }
      byte[] body = text.substring(end + 4).getBytes(StandardCharsets.ISO_8859_1);
      return new Reply(status, headers, body);
    } catch (IOException e) {
      throw new AssertionError("raw request failed: " + e, e);
    }
  }

  /** Every file under the store except staging, as relative paths. */
  List<String> storedFiles() {
    // Staging is not walked at all: an upload a stopped server cut short may still be deleting its
    // staging folder while a test looks, and a walk into it would fail on the vanished files.
    List<String> files = new ArrayList<>();
    try {
      Files.walkFileTree(
          store,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
              return dir.equals(store.resolve(".tmp"))
                  ? FileVisitResult.SKIP_SUBTREE
                  : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
              if (attrs.isRegularFile()) {
                files.add(store.relativize(file).toString());
              }
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    files.sort(null);
    return files;
  }

  /** Asserts no version exists anywhere and staging is empty: a refused upload left nothing. */
  void assertNothingStored() {
    assertThat(storedFiles().stream().filter(f -> f.contains("versions")).toList()).isEmpty();
    try (Stream<Path> s = Files.list(store.resolve(".tmp"))) {
      assertThat(s.toList()).isEmpty();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /** A multipart/form-data body built by hand, so tests can also build broken ones. */
  static final class Multipart {
    final String boundary = "----tfportTestBoundary7MA4YWxkTrZu0gW";
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Multipart part(String name, String filename, String type, byte[] content) {
      write(
          "--"
              + boundary
              + "\r\nContent-Disposition: form-data; name=\""
              + name
              + "\""
              + (filename == null ? "" : "; filename=\"" + filename + "\"")
              + "\r\n"
              + (type == null ? "" : "Content-Type: " + type + "\r\n")
              + "\r\n");
      out.writeBytes(content);
      write("\r\n");
      return this;
    }

    /** The two parts TF.js's model.save(url) sends. */
    static Multipart tfjs(byte[] modelJson, byte[] weights) {
      Multipart m = new Multipart().part("model.json", "model.json", "application/json", modelJson);
      if (weights != null) {
        m.part("model.weights.bin", "model.weights.bin", "application/octet-stream", weights);
      }
      return m;
    }

    Multipart raw(String s) {
      write(s);
      return this;
    }

    String contentType() {
      return "multipart/form-data; boundary=" + boundary;
    }

    byte[] body() {
      ByteArrayOutputStream copy = new ByteArrayOutputStream();
      copy.writeBytes(out.toByteArray());
      copy.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
      return copy.toByteArray();
    }

    /** The body without the closing boundary: a truncated upload. */
    byte[] unterminated() {
      return out.toByteArray();
    }

    private void write(String s) {
      out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** A small layers model.json (Dense 3 -> 2) with its 32 bytes of float32 weights. */
  static byte[] denseModelJson(String weightsPath) {
    return ("{\"modelTopology\":{\"class_name\":\"Sequential\",\"config\":{\"name\":\"s\",\"layers\":[{\"class_name\":"
            + "\"Dense\",\"config\":{\"name\":\"d\",\"units\":2,\"activation\":\"linear\",\"use_bias\":true,"
            + "\"batch_input_shape\":[null,3],\"dtype\":\"float32\"}}]},\"keras_version\":\"tfjs-layers 4.22.0\","
            + "\"backend\":\"tensor_flow.js\"},\"format\":\"layers-model\",\"generatedBy\":\"TensorFlow.js tfjs-layers"
            + " v4.22.0\",\"convertedBy\":null,\"weightsManifest\":[{\"paths\":[\""
            + weightsPath
            + "\"],\"weights\":["
            + "{\"name\":\"d/kernel\",\"shape\":[3,2],\"dtype\":\"float32\"},{\"name\":\"d/bias\",\"shape\":[2],"
            + "\"dtype\":\"float32\"}]}]}")
        .getBytes(StandardCharsets.UTF_8);
  }

  static byte[] denseWeights(float seed) {
    java.nio.ByteBuffer b =
        java.nio.ByteBuffer.allocate(32).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 8; i++) {
      b.putFloat(seed + i * 0.25f);
    }
    return b.array();
  }
}
