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
 * The web page (plain HTML and JavaScript from the jar, no build step) and TF.js's browser bundle,
 * {@code tf.min.js}, which is not in the jar: it is taken from {@code --tfjs FILE}, the environment
 * variable {@code TFPORT_TFJS}, or an npm install of {@code @tensorflow/tfjs} found near the
 * working folder or the jar (the repository's {@code testkit/node} has one once its tests have
 * run).
 */
final class Web {
  static final String TFJS_VERSION = "4.22.0";
  private static final String BUNDLE = "node_modules/@tensorflow/tfjs/dist/tf.min.js";
  private static final Map<String, String> ASSETS =
      Map.of(
          "index.html", "text/html; charset=utf-8",
          "app.js", "text/javascript; charset=utf-8",
          "app.css", "text/css; charset=utf-8");

  private final Map<String, byte[]> assets = new java.util.HashMap<>();
  private final Path tfjs;

  Web(Path configured) {
    for (String a : ASSETS.keySet()) {
      try (InputStream in = Web.class.getResourceAsStream("web/" + a)) {
        if (in == null) {
          throw new IllegalStateException("web asset " + a + " is missing from the jar");
        }
        assets.put(a, in.readAllBytes());
      } catch (IOException e) {
        throw new IllegalStateException("cannot read web asset " + a, e);
      }
    }
    this.tfjs = locate(configured);
  }

  /** Where tf.min.js is served from, or null when it was not found. */
  Path tfjs() {
    return tfjs;
  }

  static Path locate(Path configured) {
    if (configured != null) {
      return Files.isRegularFile(configured) ? configured.toAbsolutePath() : null;
    }
    String env = System.getenv("TFPORT_TFJS");
    if (env != null && !env.isBlank() && Files.isRegularFile(Path.of(env))) {
      return Path.of(env).toAbsolutePath();
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
    if (path.equals("vendor/tf.min.js")) {
      if (tfjs == null) {
        throw new HttpError(
            404,
            "TF.js's tf.min.js was not found: run 'npm install @tensorflow/tfjs@"
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
    Api.send(request, response, cb, body, ASSETS.get(path), null, "no-cache");
  }
}
