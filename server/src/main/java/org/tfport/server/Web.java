package org.tfport.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The web page (plain HTML and JavaScript from the jar) and TF.js's browser bundle, {@code
 * tf.min.js}. The build copies the bundle into the jar (server/pom.xml, with its Apache-2.0 notice
 * at {@code /vendor/NOTICE.txt}); {@code --tfjs FILE} or the environment variable {@code
 * TFPORT_TFJS} serve another file instead, and a jar built without it falls back to an npm install
 * of {@code @tensorflow/tfjs} near the working folder or the jar.
 */
final class Web {
  static final String TFJS_VERSION = "4.22.0";
  private static final String BUNDLE = "node_modules/@tensorflow/tfjs/dist/tf.min.js";
  private static final String JS = "text/javascript; charset=utf-8";
  private static final String TEXT = "text/plain; charset=utf-8";
  private static final Map<String, String> ASSETS =
      Map.of(
          "index.html", "text/html; charset=utf-8",
          "app.js", JS,
          "app.css", "text/css; charset=utf-8");
  private static final Map<String, String> VENDOR =
      Map.of("vendor/NOTICE.txt", TEXT, "vendor/LICENSE-2.0.txt", TEXT);

  private final Map<String, byte[]> assets = new java.util.HashMap<>();
  private final Path tfjs;
  private final byte[] bundled;

  Web(Path configured) {
    for (String a : ASSETS.keySet()) {
      assets.put(a, resource(a, true));
    }
    for (String a : VENDOR.keySet()) {
      byte[] b = resource(a, false);
      if (b != null) {
        assets.put(a, b);
      }
    }
    Path file = locate(configured);
    // The jar's copy wins over an npm install found by searching, not over an explicit choice.
    boolean explicit = configured != null || file != null && fromEnvironment() != null;
    byte[] inJar = explicit ? null : resource("vendor/tf.min.js", false);
    this.bundled = inJar;
    this.tfjs = inJar != null ? null : file;
  }

  private static byte[] resource(String name, boolean required) {
    try (InputStream in = Web.class.getResourceAsStream("web/" + name)) {
      if (in == null) {
        if (required) {
          throw new IllegalStateException("web asset " + name + " is missing from the jar");
        }
        return null;
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read web asset " + name, e);
    }
  }

  /**
   * Where tf.min.js is served from (a file, or the copy in the jar), or null when there is none.
   */
  String tfjs() {
    if (bundled != null) {
      return "TF.js " + TFJS_VERSION + " bundled in the server";
    }
    return tfjs == null ? null : tfjs.toString();
  }

  private static Path fromEnvironment() {
    String env = System.getenv("TFPORT_TFJS");
    if (env != null && !env.isBlank() && Files.isRegularFile(Path.of(env))) {
      return Path.of(env).toAbsolutePath();
    }
    return null;
  }

  static Path locate(Path configured) {
    if (configured != null) {
      return Files.isRegularFile(configured) ? configured.toAbsolutePath() : null;
    }
    Path env = fromEnvironment();
    if (env != null) {
      return env;
    }
    List<Path> starts = new ArrayList<>();
    starts.add(Path.of("").toAbsolutePath());
    try {
      starts.add(Path.of(Web.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
    } catch (Exception e) {
      // No code source (an unusual class loader): search from the working folder only.
    }
    for (Path start : starts) {
      for (Path p = start; p != null; p = p.getParent()) {
        for (String sub : List.of(BUNDLE, "testkit/node/" + BUNDLE, "server/node/" + BUNDLE)) {
          Path c = p.resolve(sub);
          if (Files.isRegularFile(c)) {
            return c;
          }
        }
      }
    }
    return null;
  }

  void serve(List<String> seg, Request request, Response response, Callback cb) {
    String path = String.join("/", seg);
    if (path.isEmpty()) {
      path = "index.html";
    }
    if (path.equals("vendor/tf.min.js") && bundled != null) {
      Api.send(request, response, cb, bundled, JS, null, "public, max-age=3600");
      return;
    }
    if (path.equals("vendor/tf.min.js")) {
      if (tfjs == null) {
        throw new HttpError(
            404,
            "TF.js's tf.min.js is not in this server (its jar was built without it): run 'npm"
                + " install @tensorflow/tfjs@"
                + TFJS_VERSION
                + "' and start tfport serve with --tfjs node_modules/@tensorflow/tfjs/dist/tf.min.js");
      }
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/javascript; charset=utf-8");
      response.getHeaders().put(HttpHeader.CACHE_CONTROL, "public, max-age=3600");
      try {
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, Files.size(tfjs));
      } catch (IOException e) {
        throw new HttpError(500, "cannot read " + tfjs);
      }
      if (request.getMethod().equals("HEAD")) {
        cb.succeeded();
        return;
      }
      Content.copy(Content.Source.from(tfjs), response, cb);
      return;
    }
    if (path.equals("favicon.ico")) {
      response.setStatus(204);
      cb.succeeded();
      return;
    }
    byte[] body = assets.get(path);
    if (body == null) {
      throw new HttpError(404, "no such page: /" + Names.printable(path));
    }
    String type = ASSETS.containsKey(path) ? ASSETS.get(path) : VENDOR.get(path);
    Api.send(request, response, cb, body, type, null, "no-cache");
  }
}
