package org.tfport.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.runtime.Model;
import org.tfport.runtime.Signature;
import org.tfport.runtime.TensorSpec;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * TensorFlow Serving's REST API over the same store, answered by tfport's runtime:
 *
 * <pre>
 * GET  /v1/models/NAME[/versions/N]                 version status (model_version_status)
 * GET  /v1/models/NAME[/versions/N]/metadata        model_spec and signature_def
 * POST /v1/models/NAME[/versions/N]:predict         {"instances": ...} or {"inputs": ...}
 * POST /v1/models/NAME[/versions/N]:classify|regress  refused: only predict is served
 * </pre>
 *
 * Without a version the newest is used, so a version that lands is served from its first call.
 */
final class ServingApi {
  private final ModelStore store;
  private final ServingConfig config;
  private final Servables servables;
  private final Predictor predictor;
  private final Metrics metrics;

  ServingApi(ModelStore store, ServingConfig config, Metrics metrics) {
    this.store = store;
    this.config = config;
    this.metrics = metrics;
    this.servables = new Servables(store, config.cacheBytes());
    this.predictor = new Predictor(config, metrics);
  }

  Servables servables() {
    return servables;
  }

  /** {@code seg} is the decoded path, starting with "v1". */
  void handle(List<String> seg, Request request, Response response, Callback cb) {
    long start = System.nanoTime();
    String method = request.getMethod();
    String malformed = "Malformed request: " + method + " " + request.getHttpURI().getPath();
    if (seg.size() < 3 || !seg.get(1).equals("models")) {
      throw new HttpError(
          seg.size() == 2 && seg.get(1).equals("models") ? 400 : 404,
          seg.size() == 2 ? "Missing model name in request." : malformed);
    }
    List<String> rest = new ArrayList<>(seg.subList(2, seg.size()));
    String verb = null;
    String last = rest.get(rest.size() - 1);
    int colon = last.lastIndexOf(':');
    if (colon >= 0) {
      verb = last.substring(colon + 1);
      rest.set(rest.size() - 1, last.substring(0, colon));
    }
    String name = Names.model(rest.get(0));
    int i = 1;
    Integer version = null;
    if (rest.size() > i && rest.get(i).equals("labels")) {
      throw new HttpError(
          400, "version labels are not supported by tfport serve; use /versions/N instead");
    }
    if (rest.size() > i && rest.get(i).equals("versions")) {
      if (rest.size() == i + 1) {
        throw new HttpError(400, malformed);
      }
      String v = rest.get(i + 1);
      if (!v.matches("[0-9]{1,9}")) {
        throw new HttpError(
            400, "Failed to convert version: " + Names.printable(v) + " to numeric.");
      }
      version = Integer.parseInt(v);
      i += 2;
    }
    boolean metadata = false;
    if (verb == null && rest.size() == i + 1 && rest.get(i).equals("metadata")) {
      metadata = true;
      i++;
    }
    if (rest.size() != i) {
      throw new HttpError(404, malformed);
    }
    boolean get = method.equals("GET") || method.equals("HEAD");
    if (verb != null) {
      if (!method.equals("POST")) {
        throw new HttpError(400, malformed);
      }
      switch (verb) {
        case "predict" -> predict(name, version, request, response, cb, start);
        case "classify", "regress" ->
            throw new HttpError(
                501,
                ":"
                    + verb
                    + " is not supported by tfport serve: it answers :predict only; call"
                    + " POST /v1/models/"
                    + name
                    + ":predict with the signature's inputs");
        default -> throw new HttpError(400, malformed);
      }
      return;
    }
    if (!get) {
      throw new HttpError(400, malformed);
    }
    if (metadata) {
      Api.json(request, response, cb, 200, metadata(name, resolve(name, version)));
    } else {
      Api.json(request, response, cb, 200, status(name, version));
    }
  }

  /** The version asked for, or the newest; 404 as TF Serving words it when there is none. */
  private int resolve(String name, Integer version) {
    if (version == null) {
      int v = store.latest(name);
      if (v < 0) {
        throw new HttpError(404, "Servable not found for request: Latest(" + name + ")");
      }
      return v;
    }
    if (!store.versions(name).contains(version)) {
      throw new HttpError(
          404, "Servable not found for request: Specific(" + name + ", " + version + ")");
    }
    return version;
  }

  private ObjectNode status(String name, Integer version) {
    List<Integer> versions = store.versions(name);
    if (versions.isEmpty()) {
      throw new HttpError(404, "Could not find any versions of model " + name);
    }
    if (version != null) {
      if (!versions.contains(version)) {
        throw new HttpError(404, "Could not find version " + version + " of model " + name);
      }
      versions = List.of(version);
    }
    ObjectNode o = Json.MAPPER.createObjectNode();
    ArrayNode list = o.putArray("model_version_status");
    for (int v : versions.reversed()) {
      Servables.Failure f = servables.failure(name, v);
      ObjectNode s = list.addObject();
      s.put("version", Integer.toString(v));
      // Versions load on first use, so one on disk that has not failed is available to calls.
      s.put("state", f == null ? "AVAILABLE" : "END");
      ObjectNode st = s.putObject("status");
      st.put("error_code", f == null ? "OK" : f.status() == 501 ? "UNIMPLEMENTED" : "INTERNAL");
      st.put("error_message", f == null ? "" : f.message());
    }
    return o;
  }

  private ObjectNode metadata(String name, int version) {
    Servables.Loaded l = servables.acquire(name, version);
    try {
      ObjectNode o = Json.MAPPER.createObjectNode();
      ObjectNode spec = o.putObject("model_spec");
      spec.put("name", name);
      spec.put("signature_name", "");
      spec.put("version", Integer.toString(version));
      ObjectNode defs =
          o.putObject("metadata").putObject("signature_def").putObject("signature_def");
      for (Signature s : l.model.signatures()) {
        ObjectNode d = defs.putObject(s.key());
        tensorInfos(d.putObject("inputs"), s.inputs());
        tensorInfos(d.putObject("outputs"), s.outputs());
        d.put("method_name", "tensorflow/serving/predict");
        d.putObject("defaults");
      }
      return o;
    } finally {
      l.release();
    }
  }

  private static void tensorInfos(ObjectNode into, List<TensorSpec> specs) {
    for (TensorSpec t : specs) {
      ObjectNode i = into.putObject(t.name());
      i.put("dtype", t.dtype() == null ? "DT_INVALID" : dtypeName(t.dtype()));
      ObjectNode shape = i.putObject("tensor_shape");
      ArrayNode dims = shape.putArray("dim");
      long[] s = t.shape();
      if (s != null) {
        for (long d : s) {
          dims.addObject().put("size", Long.toString(d)).put("name", "");
        }
      }
      shape.put("unknown_rank", s == null);
      i.put("name", t.tensor());
    }
  }

  private static String dtypeName(DType t) {
    return t == DType.BFLOAT16 ? "DT_BFLOAT16" : t.tfName();
  }

  // ------------------------------------------------------------------ predict

  private void predict(
      String name, Integer version, Request request, Response response, Callback cb, long start) {
    int status = 500;
    try {
      byte[] body = body(request);
      JsonNode doc = TensorJson.parse(body);
      String sigName = TensorJson.signatureName(doc);
      int v = resolve(name, version);
      Servables.Loaded l = servables.acquire(name, v);
      byte[] answer;
      try {
        Signature sig = signature(l.model, sigName);
        TensorJson.Request r = TensorJson.inputs(doc, sig, config.maxTensorElements());
        Map<String, Tensor> out;
        try {
          out = predictor.run(l, sig, r.inputs(), start);
        } catch (HttpError e) {
          // The runtime names the model by its path in the store, which means nothing to a client.
          String m = Servables.clean(e.getMessage(), store.dir(name, v));
          throw m.equals(e.getMessage()) ? e : new HttpError(e.status, m, e);
        }
        answer = TensorAnswer.of(out, r.row());
      } finally {
        l.release();
      }
      status = 200;
      HttpFields.Mutable h = response.getHeaders();
      h.put(HttpHeader.CONTENT_TYPE, "application/json");
      h.put(HttpHeader.CACHE_CONTROL, "no-store");
      h.put(HttpHeader.CONTENT_LENGTH, answer.length);
      response.setStatus(200);
      response.write(true, ByteBuffer.wrap(answer), cb);
    } catch (HttpError e) {
      status = e.status;
      throw e;
    } finally {
      metrics.request(name, status, System.nanoTime() - start);
    }
  }

  private byte[] body(Request request) {
    long limit = config.maxRequestBytes();
    String over =
        "the request body is over this server's limit of "
            + limit
            + " bytes (tfport serve --max-request-bytes)";
    if (request.getLength() > limit) {
      throw new HttpError(413, over);
    }
    try (InputStream in = Request.asInputStream(request)) {
      byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
      if (b.length > limit) {
        throw new HttpError(413, over);
      }
      return b;
    } catch (IOException e) {
      throw new HttpError(400, "the request body could not be read (" + e.getMessage() + ")", e);
    }
  }

  /** The signature a body names; without a name {@code serving_default}, else the only one. */
  private static Signature signature(Model model, String key) {
    try {
      if (key.isEmpty()) {
        boolean hasDefault =
            model.signatures().stream().anyMatch(s -> s.key().equals(Signature.DEFAULT_KEY));
        return hasDefault ? model.signature(Signature.DEFAULT_KEY) : model.defaultSignature();
      }
      if (model.signatures().stream().noneMatch(s -> s.key().equals(key))) {
        throw new HttpError(
            400,
            "Serving signature name: \""
                + Names.printable(key)
                + "\" not found in signature def; the model has "
                + model.signatures().stream().map(Signature::key).toList());
      }
      return model.signature(key);
    } catch (UnsupportedModelException e) {
      throw new HttpError(501, e.getMessage().lines().findFirst().orElse(""), e);
    } catch (HttpError e) {
      throw e;
    } catch (TfportException e) {
      throw new HttpError(400, e.getMessage().lines().findFirst().orElse(""), e);
    }
  }

  void close() {
    predictor.close();
    servables.close();
  }
}
