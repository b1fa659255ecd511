package org.tfport.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.tfport.core.Json;
import org.tfport.formats.tfjs.ModelJsonParser;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The HTTP API and the web page, on Jetty core:
 *
 * <pre>
 * GET  /                                     the web page (and /app.js, /app.css, /vendor/tf.min.js)
 * GET  /models                               every model with its latest version's summary
 * POST /models/NAME  (or PUT)                upload: TF.js model.save(url), a model.json, .h5 or .keras
 * GET  /models/NAME                          the model: versions and latest summary
 * GET  /models/NAME/model.json               the latest version, its weight paths pointing into it
 * GET  /models/NAME/graph.svg                a picture of the latest version's layers or graph
 * GET  /models/NAME/versions/N/FILE          one version's files (immutable; model.json, shards, graph.svg)
 *                                            (409 for a version kept as a .tflite alone, which has none)
 * GET  /models/NAME/FILE                     a file of the latest version
 * GET  /metrics                              Prometheus metrics of the predictions
 * /v1/models/...                             TensorFlow Serving's REST API (see ServingApi)
 * </pre>
 *
 * Reads allow any origin unless {@code --cors-origin} lists some; uploads from a browser need this
 * server's origin or a listed one ({@link Access}). Errors are {@code {"error": "..."}}.
 */
final class Api extends Handler.Abstract {
  private static final String ALLOW_METHODS = "GET, HEAD, POST, PUT, OPTIONS";
  private static final String ALLOW_HEADERS =
      "Authorization, Content-Type, If-None-Match, Cache-Control";

  private final ServerConfig config;
  private final ModelStore store;
  private final Upload upload;
  private final Web web;
  private final ServingApi serving;
  private final Metrics metrics;
  private final Access access;

  /**
   * Latest-path model.json bodies by (name, version): they are rewritten once, then served from
   * here.
   */
  private final Map<String, byte[]> rewritten = new ConcurrentHashMap<>();

  Api(ServerConfig config, ModelStore store, Web web, ServingApi serving, Metrics metrics) {
    this.config = config;
    this.store = store;
    this.upload = new Upload(config, store);
    this.web = web;
    this.serving = serving;
    this.metrics = metrics;
    this.access =
        new Access(config.token(), config.security().readToken(), config.security().corsOrigins());
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    HttpFields.Mutable h = response.getHeaders();
    h.put("Access-Control-Expose-Headers", "ETag, Location, Content-Length");
    h.put("X-Content-Type-Options", "nosniff");
    try {
      String raw = request.getHttpURI().getPath();
      if (raw == null || !raw.startsWith("/")) {
        throw new HttpError(400, "bad request path");
      }
      String method = request.getMethod();
      String preflight = request.getHeaders().get("Access-Control-Request-Method");
      boolean options = method.equals("OPTIONS");
      Access.Kind kind =
          Access.kind(options && preflight != null ? preflight : method, Names.segments(raw));
      access.cors(request, response, kind);
      if (!options) {
        access.authorize(request, kind);
      }
      route(request, response, callback);
    } catch (HttpError e) {
      error(request, response, callback, e.status, e.getMessage());
    } catch (RuntimeException e) {
      error(request, response, callback, 500, "internal error: " + e);
    }
    return true;
  }

  private void route(Request request, Response response, Callback cb) {
    String method = request.getMethod();
    String raw = request.getHttpURI().getPath();
    List<String> seg = Names.segments(raw);
    if (method.equals("OPTIONS")) {
      HttpFields.Mutable h = response.getHeaders();
      h.put("Access-Control-Allow-Methods", ALLOW_METHODS);
      String asked = request.getHeaders().get("Access-Control-Request-Headers");
      h.put(
          "Access-Control-Allow-Headers",
          asked != null && asked.matches("[A-Za-z0-9 ,_-]{1,500}") ? asked : ALLOW_HEADERS);
      h.put("Access-Control-Max-Age", "600");
      h.put(HttpHeader.ALLOW, ALLOW_METHODS);
      response.setStatus(204);
      cb.succeeded();
      return;
    }
    boolean get = method.equals("GET") || method.equals("HEAD");
    if (!seg.isEmpty() && seg.get(0).equals("v1")) {
      serving.handle(seg, request, response, cb);
      return;
    }
    if (seg.size() == 1 && seg.get(0).equals("metrics")) {
      requireGet(method, "GET /metrics reads the server's metrics");
      send(
          request,
          response,
          cb,
          metrics.render(serving.servables()).getBytes(StandardCharsets.UTF_8),
          "text/plain; version=0.0.4; charset=utf-8",
          null,
          "no-store");
      return;
    }
    if (seg.isEmpty() || !seg.get(0).equals("models")) {
      if (!get) {
        throw new HttpError(405, method + " is not allowed here; upload with POST /models/NAME");
      }
      web.serve(seg, request, response, cb);
      return;
    }
    if (seg.size() == 1) {
      requireGet(method, "GET /models lists models; upload with POST /models/NAME");
      json(request, response, cb, 200, list());
      return;
    }
    String name = Names.model(seg.get(1));
    if (seg.size() == 2) {
      if (method.equals("POST") || method.equals("PUT")) {
        ObjectNode result = upload.handle(request, name);
        int v = result.path("version").asInt();
        String base = "/models/" + name;
        String location = base + "/versions/" + v;
        if (tfjsForm(result, result)) {
          result.put("modelUrl", base + "/model.json");
          result.put("versionUrl", base + "/versions/" + v + "/model.json");
          location += "/model.json";
        }
        response.getHeaders().put(HttpHeader.LOCATION, location);
        json(request, response, cb, 201, result);
        return;
      }
      requireGet(method, "use GET to read a model or POST/PUT to upload one");
      json(request, response, cb, 200, details(name));
      return;
    }
    requireGet(method, "versions are immutable; upload a new one with POST /models/" + name);
    if (seg.get(2).equals("versions")) {
      if (seg.size() == 3) {
        json(request, response, cb, 200, details(name));
        return;
      }
      int v = version(name, seg.get(3));
      if (seg.size() == 4) {
        json(request, response, cb, 200, versionInfo(name, v));
        return;
      }
      if (seg.size() == 5) {
        file(request, response, cb, name, v, seg.get(4), false);
        return;
      }
      throw new HttpError(404, "no such path");
    }
    if (seg.size() == 3) {
      int v = store.latest(name);
      if (v < 0) {
        throw new HttpError(404, "no model named '" + name + "'");
      }
      file(request, response, cb, name, v, seg.get(2), true);
      return;
    }
    throw new HttpError(404, "no such path");
  }

  private static void requireGet(String method, String hint) {
    if (!method.equals("GET") && !method.equals("HEAD")) {
      throw new HttpError(405, method + " is not allowed here; " + hint);
    }
  }

  private int version(String name, String s) {
    if (!s.matches("[1-9][0-9]{0,8}")) {
      throw new HttpError(400, "version '" + Names.printable(s) + "' is not a positive number");
    }
    int v = Integer.parseInt(s);
    if (!Files.isDirectory(store.dir(name, v))) {
      throw new HttpError(404, "model '" + name + "' has no version " + v);
    }
    return v;
  }

  // ------------------------------------------------------------------ JSON views

  private ObjectNode list() {
    ObjectNode o = Json.MAPPER.createObjectNode();
    ArrayNode models = o.putArray("models");
    for (String n : store.names()) {
      List<Integer> vs = store.versions(n);
      int latest = vs.get(vs.size() - 1);
      ObjectNode m = models.addObject();
      JsonNode meta;
      try {
        meta = store.meta(n, latest);
      } catch (HttpError e) {
        // One damaged folder (copied in by hand, say) must not hide the other models.
        m.put("name", n);
        m.put("latest", latest);
        m.put("error", e.getMessage());
        continue;
      }
      m.put("name", n);
      m.put("latest", latest);
      m.put("versions", vs.size());
      m.put("created", meta.path("created").asString(""));
      m.put("source", meta.path("source").asString(""));
      if (tfjsForm(m, meta)) {
        m.put("modelUrl", "/models/" + n + "/model.json");
        m.put("graphUrl", "/models/" + n + "/versions/" + latest + "/graph.svg");
      }
      m.set("summary", meta.path("summary"));
    }
    return o;
  }

  private ObjectNode details(String name) {
    List<Integer> vs = store.versions(name);
    if (vs.isEmpty()) {
      throw new HttpError(404, "no model named '" + name + "'");
    }
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("name", name);
    o.put("latest", vs.get(vs.size() - 1));
    if (tfjsForm(o, store.meta(name, vs.get(vs.size() - 1)))) {
      o.put("modelUrl", "/models/" + name + "/model.json");
    }
    ArrayNode versions = o.putArray("versions");
    for (int v : vs) {
      versions.add(versionInfo(name, v));
    }
    return o;
  }

  private ObjectNode versionInfo(String name, int v) {
    JsonNode meta = store.meta(name, v);
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("version", v);
    o.put("created", meta.path("created").asString(""));
    o.put("source", meta.path("source").asString(""));
    if (tfjsForm(o, meta)) {
      o.put("modelUrl", "/models/" + name + "/versions/" + v + "/model.json");
      o.put("graphUrl", "/models/" + name + "/versions/" + v + "/graph.svg");
    }
    o.set("files", meta.path("files"));
    o.set("summary", meta.path("summary"));
    return o;
  }

  /**
   * Says in {@code into} whether the version has a TF.js form ({@code tfjs}) and, when not, why
   * ({@code noTfjs}); returns whether it has.
   */
  private static boolean tfjsForm(ObjectNode into, JsonNode meta) {
    String why = VersionMeta.noTfjs(meta);
    into.put("tfjs", why == null);
    if (why != null) {
      into.put(VersionMeta.NO_TFJS, why);
    }
    return why == null;
  }

  // ------------------------------------------------------------------ files

  private void file(
      Request request,
      Response response,
      Callback cb,
      String name,
      int v,
      String file,
      boolean latest) {
    Path dir = store.dir(name, v);
    JsonNode meta = store.meta(name, v);
    String cache = latest ? "no-cache" : "public, max-age=31536000, immutable";
    String noTfjs = VersionMeta.noTfjs(meta);
    if (noTfjs != null && (file.equals("model.json") || file.equals("graph.svg"))) {
      // A TF.js client (or the picture, drawn from model.json) asks for what the upload could not
      // be made into: the state of the version, not a missing file, so 409 with the reason.
      throw new HttpError(409, "this version has no TF.js form: " + noTfjs);
    }
    if (file.equals("graph.svg")) {
      byte[] svg = graphSvg(name, v, dir);
      send(
          request,
          response,
          cb,
          svg,
          "image/svg+xml; charset=utf-8",
          etag(Hashes.sha256(svg), v, "svg"),
          cache);
      return;
    }
    if (!Names.servable(file) || !meta.path("files").has(file)) {
      throw new HttpError(
          404,
          "model '" + name + "' version " + v + " has no file '" + Names.printable(file) + "'");
    }
    String sha = meta.path("files").path(file).path("sha256").asString("");
    if (file.equals("model.json") && latest) {
      // The plain URL serves the newest version, so its weight paths are pinned to that version: a
      // client
      // that fetched this model.json gets these weights even if a new version lands meanwhile.
      byte[] body =
          rewritten.computeIfAbsent(name + "/" + v, k -> pinned(dir.resolve("model.json"), v));
      if (rewritten.size() > 256) {
        rewritten.clear();
      }
      send(
          request,
          response,
          cb,
          body,
          "application/json; charset=utf-8",
          etag(sha, v, "latest"),
          cache);
      return;
    }
    String type =
        file.equals("model.json") ? "application/json; charset=utf-8" : "application/octet-stream";
    String etag = etag(sha, v, "");
    if (notModified(request, response, cb, etag, cache)) {
      return;
    }
    Path p = dir.resolve(file);
    long size;
    try {
      size = Files.size(p);
    } catch (IOException e) {
      throw new HttpError(500, "cannot read " + file + " of " + name + " version " + v);
    }
    HttpFields.Mutable h = response.getHeaders();
    h.put(HttpHeader.CONTENT_TYPE, type);
    h.put(HttpHeader.CONTENT_LENGTH, size);
    h.put(HttpHeader.ETAG, etag);
    h.put(HttpHeader.CACHE_CONTROL, cache);
    response.setStatus(200);
    if (request.getMethod().equals("HEAD")) {
      cb.succeeded();
      return;
    }
    Content.copy(Content.Source.from(p), response, cb);
  }

  private byte[] graphSvg(String name, int v, Path dir) {
    try {
      Topology t = Topology.of(ModelJsonParser.read(dir.resolve("model.json")).envelope());
      Set<String> outputs = new HashSet<>();
      for (JsonNode o : store.meta(name, v).path("summary").path("outputs")) {
        String n = o.path("name").asString("");
        outputs.add(n.contains(":") ? n.substring(0, n.indexOf(':')) : n);
      }
      String title =
          name
              + " v"
              + v
              + " — "
              + (t.graph
                  ? "graph model, " + t.nodes.size() + " nodes"
                  : t.modelClass + ", " + t.nodes.size() + " layers");
      return GraphSvg.render(t, title, outputs).getBytes(StandardCharsets.UTF_8);
    } catch (RuntimeException e) {
      throw new HttpError(500, "cannot draw " + name + " version " + v + ": " + e.getMessage(), e);
    }
  }

  private static byte[] pinned(Path modelJson, int v) {
    JsonNode root = Json.MAPPER.readTree(modelJson.toFile());
    for (JsonNode g : root.path("weightsManifest")) {
      ArrayNode paths = (ArrayNode) g.get("paths");
      for (int i = 0; i < paths.size(); i++) {
        paths.set(i, "versions/" + v + "/" + Names.weightFile(paths.get(i).stringValue()));
      }
    }
    return Json.MAPPER.writeValueAsBytes(root);
  }

  private static String etag(String sha, int v, String variant) {
    return "\""
        + sha.substring(0, Math.min(32, sha.length()))
        + (variant.isEmpty() ? "" : "-v" + v + variant)
        + "\"";
  }

  private static boolean notModified(
      Request request, Response response, Callback cb, String etag, String cache) {
    String inm = request.getHeaders().get(HttpHeader.IF_NONE_MATCH);
    if (inm == null) {
      return false;
    }
    for (String t : inm.split(",")) {
      String s = t.trim();
      if (s.startsWith("W/")) {
        s = s.substring(2);
      }
      if (s.equals(etag) || s.equals("*")) {
        response.setStatus(HttpStatus.NOT_MODIFIED_304);
        response.getHeaders().put(HttpHeader.ETAG, etag);
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, cache);
        cb.succeeded();
        return true;
      }
    }
    return false;
  }

  static void send(
      Request request,
      Response response,
      Callback cb,
      byte[] body,
      String type,
      String etag,
      String cache) {
    if (etag != null && notModified(request, response, cb, etag, cache)) {
      return;
    }
    HttpFields.Mutable h = response.getHeaders();
    h.put(HttpHeader.CONTENT_TYPE, type);
    if (etag != null) {
      h.put(HttpHeader.ETAG, etag);
    }
    if (cache != null) {
      h.put(HttpHeader.CACHE_CONTROL, cache);
    }
    h.put(HttpHeader.CONTENT_LENGTH, body.length);
    response.setStatus(200);
    if (request.getMethod().equals("HEAD")) {
      cb.succeeded();
      return;
    }
    response.write(true, ByteBuffer.wrap(body), cb);
  }

  static void json(Request request, Response response, Callback cb, int status, JsonNode body) {
    byte[] b = Json.MAPPER.writeValueAsBytes(body);
    HttpFields.Mutable h = response.getHeaders();
    h.put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
    h.put(HttpHeader.CACHE_CONTROL, "no-store");
    h.put(HttpHeader.CONTENT_LENGTH, b.length);
    response.setStatus(status);
    if (request.getMethod().equals("HEAD")) {
      cb.succeeded();
      return;
    }
    response.write(true, ByteBuffer.wrap(b), cb);
  }

  static void error(Request request, Response response, Callback cb, int status, String message) {
    if (response.isCommitted()) {
      cb.failed(new IOException(message));
      return;
    }
    response.reset();
    HttpFields.Mutable h = response.getHeaders();
    if (request.getAttribute(Access.ALLOW_ORIGIN) instanceof String allow) {
      h.put(HttpHeader.ACCESS_CONTROL_ALLOW_ORIGIN, allow);
    }
    if (status == 401) {
      h.put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
    }
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("error", message == null ? "error" : message.lines().findFirst().orElse(""));
    String m = request.getMethod();
    if (m.equals("POST") || m.equals("PUT")) {
      long length = request.getLength();
      if (length >= 0 && length <= DRAINED_BODY_BYTES) {
        // A client still sending a small refused body (an upload without its token, say) would
        // see its connection reset instead of this answer: read the rest of the body first.
        Content.Source.consumeAll(
            request, Callback.from(() -> json(request, response, cb, status, o), cb::failed));
        return;
      }
      // A large or unsized body stays unread; closing says so, where reusing the connection
      // would race.
      h.put(new HttpField(HttpHeader.CONNECTION, "close"));
    }
    json(request, response, cb, status, o);
  }

  /** Refused request bodies up to this size are read to the end before the error is sent. */
  static final long DRAINED_BODY_BYTES = 4L << 20;
}
