package org.tfport.io;

import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.tfjs.WeightSpec;
import tools.jackson.databind.JsonNode;

/**
 * TF.js's {@code http()} handler ({@code BrowserHTTPRequest}). Save sends one {@code
 * multipart/form-data} request with the parts {@code model.json} and {@code model.weights.bin},
 * byte for byte as a browser's {@code FormData} does. Load fetches model.json, then every shard in
 * parallel from beside it (the query string kept), or from {@code weightPathPrefix}, or where
 * {@code weightUrlConverter} says.
 */
final class HttpHandler implements IOHandler {
  /**
   * Well past any real model's shard count, low enough that a hostile manifest cannot fan out
   * forever.
   */
  static final int MAX_SHARDS = 100_000;

  private static final String CRLF = "\r\n";
  private static final SecureRandom RANDOM = new SecureRandom();
  private static volatile HttpClient defaultClient;

  private final String url;
  private final LoadOptions options;

  HttpHandler(String url, LoadOptions options) {
    this.url = url;
    this.options = options;
  }

  private HttpClient client() {
    if (options.httpClient() != null) {
      return options.httpClient();
    }
    HttpClient c = defaultClient;
    if (c == null) {
      synchronized (HttpHandler.class) {
        c = defaultClient;
        if (c == null) {
          c =
              HttpClient.newBuilder()
                  .connectTimeout(Duration.ofSeconds(30))
                  .followRedirects(HttpClient.Redirect.NORMAL)
                  .build();
          defaultClient = c;
        }
      }
    }
    return c;
  }

  // ------------------------------------------------------------------ save

  @Override
  public SaveResult save(ModelArtifacts a) {
    byte[] json = ModelJson.write(a, "./model.weights.bin", ModelJson.Style.BROWSER);
    String boundary = boundary();
    List<ByteBuffer> weights = a.weightData();
    List<ByteBuffer> body = new ArrayList<>();
    body.add(
        ascii(
            "--"
                + boundary
                + CRLF
                + "Content-Disposition: form-data; name=\"model.json\"; filename=\"model.json\""
                + CRLF
                + "Content-Type: application/json"
                + CRLF
                + CRLF));
    body.add(ByteBuffer.wrap(json));
    if (weights != null) {
      body.add(
          ascii(
              CRLF
                  + "--"
                  + boundary
                  + CRLF
                  + "Content-Disposition: form-data; name=\"model.weights.bin\"; filename=\"model.weights.bin\""
                  + CRLF
                  + "Content-Type: application/octet-stream"
                  + CRLF
                  + CRLF));
      body.addAll(weights);
    }
    body.add(ascii(CRLF + "--" + boundary + "--" + CRLF));
    long length = body.stream().mapToLong(ByteBuffer::remaining).sum();
    HttpRequest.BodyPublisher publisher =
        HttpRequest.BodyPublishers.fromPublisher(
            HttpRequest.BodyPublishers.ofByteArrays(() -> chunks(body)), length);
    HttpRequest.Builder rb =
        request(uri(url))
            .method(options.method(), publisher)
            .header("Content-Type", "multipart/form-data; boundary=" + boundary);
    HttpResponse<ByteBuffer> r = send(rb.build(), 1 << 20, null, null, "the upload to " + url);
    String text = StandardCharsets.UTF_8.decode(r.body()).toString();
    if (r.statusCode() / 100 != 2) {
      throw new ModelIOException(
          "BrowserHTTPRequest.save() failed due to HTTP response status "
              + r.statusCode()
              + " from "
              + url
              + errorDetail(text),
          r.statusCode(),
          null);
    }
    return new SaveResult(a.info(), List.of(new SaveResult.Response(r.statusCode(), text)));
  }

  /**
   * Like a browser's: dashes, then random letters and digits that cannot occur in the JSON by
   * chance.
   */
  private static String boundary() {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    StringBuilder sb = new StringBuilder("----tfportFormBoundary");
    for (int i = 0; i < 24; i++) {
      sb.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
    }
    return sb.toString();
  }

  private static ByteBuffer ascii(String s) {
    return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
  }

  /** The body as 1 MiB arrays, copied lazily, so a large model is never duplicated whole. */
  private static Iterator<byte[]> chunks(List<ByteBuffer> parts) {
    return new Iterator<>() {
      private int i;
      private ByteBuffer cur = parts.isEmpty() ? null : parts.get(0).duplicate();

      @Override
      public boolean hasNext() {
        while (cur != null && !cur.hasRemaining()) {
          i++;
          cur = i < parts.size() ? parts.get(i).duplicate() : null;
        }
        return cur != null;
      }

      @Override
      public byte[] next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        byte[] b = new byte[Math.min(cur.remaining(), 1 << 20)];
        cur.get(b);
        return b;
      }
    };
  }

  /** The server's {@code {"error": "..."}} if it sent one, else the start of its body. */
  private static String errorDetail(String body) {
    if (body == null || body.isBlank()) {
      return "";
    }
    try {
      JsonNode n = Json.MAPPER.readTree(body);
      if (n != null && n.path("error").isString()) {
        return ": " + n.get("error").stringValue();
      }
    } catch (RuntimeException e) {
      // Not JSON: show the text itself.
    }
    String line = body.strip().lines().findFirst().orElse("");
    return ": " + (line.length() > 200 ? line.substring(0, 197) + "..." : line);
  }

  // ------------------------------------------------------------------ load

  @Override
  public ModelArtifacts load() {
    HttpResponse<ByteBuffer> r =
        send(
            request(uri(url)).GET().build(),
            options.maxModelJsonBytes(),
            null,
            null,
            "model.json at " + url);
    if (r.statusCode() / 100 != 2) {
      throw new ModelIOException(
          "request to "
              + url
              + " failed with status code "
              + r.statusCode()
              + "; check the URL points to the model JSON of the model to load"
              + errorDetail(StandardCharsets.UTF_8.decode(r.body()).toString()),
          r.statusCode(),
          null);
    }
    ByteBuffer jb = r.body();
    byte[] bytes = new byte[jb.remaining()];
    jb.get(bytes);
    ModelJson.Parsed p = ModelJson.parse(bytes, url);
    if (p.artifacts().weightSpecs() == null) {
      return p.artifacts();
    }
    List<String> urls = weightUrls(p.paths());
    long known = 0;
    for (WeightSpec s : p.artifacts().weightSpecs()) {
      if (s.dtype() != DType.STRING || s.quantization() != null) {
        known += s.storedByteLength();
      }
      if (known > options.maxWeightBytes()) {
        throw new ModelIOException(
            url
                + ": the manifest needs at least "
                + known
                + " bytes of weights, over the"
                + " limit of "
                + options.maxWeightBytes()
                + " (raise maxWeightBytes to load it)");
      }
    }
    List<ByteBuffer> data = fetchAll(urls);
    return ModelJson.withData(p.artifacts(), data).checkWeights(url);
  }

  private List<String> weightUrls(List<List<String>> paths) {
    int lastSlash = url.lastIndexOf('/');
    int lastQuery = url.lastIndexOf('?');
    String prefix = url.substring(0, lastSlash) + "/";
    String suffix = lastQuery > lastSlash ? url.substring(lastQuery) : "";
    String base = options.weightPathPrefix() != null ? options.weightPathPrefix() : prefix;
    List<String> out = new ArrayList<>();
    for (List<String> group : paths) {
      for (String p : group) {
        if (out.size() >= MAX_SHARDS) {
          throw new ModelIOException(
              url + ": the manifest lists more than " + MAX_SHARDS + " weight files");
        }
        out.add(
            options.weightUrlConverter() != null
                ? options.weightUrlConverter().apply(p)
                : base + p + suffix);
      }
    }
    return out;
  }

  private List<ByteBuffer> fetchAll(List<String> urls) {
    int n = urls.size();
    Progress progress = new Progress(n);
    AtomicLong budget = new AtomicLong(options.maxWeightBytes());
    Semaphore permits = new Semaphore(options.parallelism());
    List<Future<ByteBuffer>> futures = new ArrayList<>(n);
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (String u : urls) {
        URI target = uri(u);
        futures.add(
            pool.submit(
                () -> {
                  permits.acquire();
                  try {
                    HttpResponse<ByteBuffer> r =
                        send(
                            request(target).GET().build(),
                            options.maxWeightBytes(),
                            budget,
                            progress::headers,
                            "weight file " + u);
                    if (r.statusCode() / 100 != 2) {
                      throw new ModelIOException(
                          "request for weight file "
                              + u
                              + " failed with status code "
                              + r.statusCode(),
                          r.statusCode(),
                          null);
                    }
                    progress.body();
                    return r.body();
                  } finally {
                    permits.release();
                  }
                }));
      }
      List<ByteBuffer> out = new ArrayList<>(n);
      for (Future<ByteBuffer> f : futures) {
        try {
          out.add(f.get());
        } catch (ExecutionException e) {
          futures.forEach(x -> x.cancel(true));
          throw e.getCause() instanceof TfportException t
              ? t
              : new ModelIOException(
                  "loading weights from " + url + " failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
          futures.forEach(x -> x.cancel(true));
          Thread.currentThread().interrupt();
          throw new ModelIOException("interrupted while loading " + url, e);
        }
      }
      return out;
    }
  }

  /** TF.js's two phases at once: responses count for the first half, bodies for the second. */
  private final class Progress {
    private final int total;
    private int headers;
    private int bodies;

    Progress(int total) {
      this.total = total;
    }

    synchronized void headers() {
      headers++;
      report();
    }

    synchronized void body() {
      bodies++;
      report();
    }

    private void report() {
      if (options.onProgress() != null && total > 0) {
        options.onProgress().accept(0.5 * headers / total + 0.5 * bodies / total);
      }
    }
  }

  // ------------------------------------------------------------------ plumbing

  private HttpRequest.Builder request(URI target) {
    HttpRequest.Builder b = HttpRequest.newBuilder(target).timeout(options.timeout());
    options.headers().forEach(b::header);
    return b;
  }

  private static URI uri(String s) {
    try {
      URI u = new URI(s).normalize();
      if (u.getScheme() == null || !u.getScheme().matches("(?i)https?") || u.getHost() == null) {
        throw new UsageException("'" + s + "' is not an http:// or https:// URL with a host");
      }
      return u;
    } catch (URISyntaxException e) {
      throw new UsageException("'" + s + "' is not a valid URL: " + e.getMessage());
    }
  }

  /**
   * Sends and waits at most the timeout for the whole exchange, body included (the client's own
   * timeout stops at the headers), cancelling the request when it runs out.
   */
  private HttpResponse<ByteBuffer> send(
      HttpRequest req, long limit, AtomicLong budget, Runnable onHeaders, String what) {
    CompletableFuture<HttpResponse<ByteBuffer>> f =
        client().sendAsync(req, LimitedBody.handler(limit, budget, what, onHeaders));
    try {
      return f.get(options.timeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new ModelIOException(
          what
              + " took longer than "
              + options.timeout().toSeconds()
              + " s; the server is"
              + " slow or stuck (raise the timeout if it is just slow)",
          e);
    } catch (InterruptedException e) {
      f.cancel(true);
      Thread.currentThread().interrupt();
      throw new ModelIOException("interrupted during " + what, e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      for (Throwable t = c; t != null; t = t.getCause()) {
        if (t instanceof LimitedBody.TooLarge tl) {
          throw new ModelIOException(tl.getMessage(), 413, tl);
        }
        if (t instanceof HttpTimeoutException) {
          throw new ModelIOException(
              what + " got no response within " + options.timeout().toSeconds() + " s", t);
        }
        if (t instanceof ConnectException) {
          throw new ModelIOException(
              "cannot connect to "
                  + req.uri().getHost()
                  + ":"
                  + req.uri().getPort()
                  + " for "
                  + what
                  + " ("
                  + t
                  + "); is the server running?",
              t);
        }
      }
      throw new ModelIOException(what + " failed: " + c, c);
    }
  }

  @Override
  public String toString() {
    return "http handler for " + url;
  }
}
