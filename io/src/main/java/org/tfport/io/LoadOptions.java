package org.tfport.io;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.DoubleConsumer;
import java.util.function.UnaryOperator;
import org.tfport.core.TfportException.UsageException;

/**
 * Options of a load or save, as TF.js's {@code LoadOptions} with its {@code requestInit}: the HTTP
 * method and headers of requests, where the weights are, progress, and limits that keep a hostile
 * or broken server from filling memory or hanging the caller. Handlers ignore what does not apply
 * to them.
 *
 * @param method the HTTP method of a save ({@code POST} by default, or {@code PUT})
 * @param headers sent with every request (an {@code Authorization} header, say); may not set {@code
 *     Content-Type}, which the multipart body fixes
 * @param onProgress called with a fraction from 0 to 1 as a load goes on: up to 0.5 as responses
 *     arrive, then up to 1 as their bodies are read, as TF.js does; null for none
 * @param weightPathPrefix fetch shards from here instead of beside model.json; used as given, so it
 *     should end with {@code /}
 * @param weightUrlConverter maps each manifest path to the URL to fetch, replacing the prefix rule
 * @param timeout how long one request (response and body) may take
 * @param maxModelJsonBytes the largest model.json accepted
 * @param maxWeightBytes the most weight bytes accepted, all shards together
 * @param parallelism how many shards are fetched at once
 * @param httpClient the client to use; null for one shared default
 */
public record LoadOptions(
    String method,
    Map<String, String> headers,
    DoubleConsumer onProgress,
    String weightPathPrefix,
    UnaryOperator<String> weightUrlConverter,
    Duration timeout,
    long maxModelJsonBytes,
    long maxWeightBytes,
    int parallelism,
    HttpClient httpClient) {
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);
  public static final long DEFAULT_MAX_MODEL_JSON_BYTES = 256L << 20;
  public static final long DEFAULT_MAX_WEIGHT_BYTES = 4L << 30;

  public LoadOptions {
    method = method == null ? "POST" : method.toUpperCase(Locale.ROOT);
    if (!method.matches("[A-Z]+")) {
      throw new UsageException("HTTP method '" + method + "' is not a method name");
    }
    headers = headers == null ? Map.of() : Map.copyOf(headers);
    for (String h : headers.keySet()) {
      if (h.equalsIgnoreCase("content-type") || h.equalsIgnoreCase("content-length")) {
        throw new UsageException(
            "header " + h + " is set by the handler from the body; leave it out");
      }
    }
    timeout = timeout == null ? DEFAULT_TIMEOUT : timeout;
    if (timeout.isNegative() || timeout.isZero()) {
      throw new UsageException("timeout must be positive, got " + timeout);
    }
    if (maxModelJsonBytes <= 0 || maxWeightBytes < 0) {
      throw new UsageException("size limits must be positive");
    }
    if (parallelism <= 0) {
      throw new UsageException("parallelism must be at least 1, got " + parallelism);
    }
  }

  public static LoadOptions defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.method = method;
    b.headers.putAll(headers);
    b.onProgress = onProgress;
    b.weightPathPrefix = weightPathPrefix;
    b.weightUrlConverter = weightUrlConverter;
    b.timeout = timeout;
    b.maxModelJsonBytes = maxModelJsonBytes;
    b.maxWeightBytes = maxWeightBytes;
    b.parallelism = parallelism;
    b.httpClient = httpClient;
    return b;
  }

  /** Builds {@link LoadOptions}; everything is optional. */
  public static final class Builder {
    private String method = "POST";
    private final Map<String, String> headers = new LinkedHashMap<>();
    private DoubleConsumer onProgress;
    private String weightPathPrefix;
    private UnaryOperator<String> weightUrlConverter;
    private Duration timeout = DEFAULT_TIMEOUT;
    private long maxModelJsonBytes = DEFAULT_MAX_MODEL_JSON_BYTES;
    private long maxWeightBytes = DEFAULT_MAX_WEIGHT_BYTES;
    private int parallelism = 6;
    private HttpClient httpClient;

    private Builder() {}

    public Builder method(String m) {
      this.method = Objects.requireNonNull(m, "method");
      return this;
    }

    public Builder header(String name, String value) {
      headers.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** Sends {@code Authorization: Bearer TOKEN}. */
    public Builder bearerToken(String token) {
      return header("Authorization", "Bearer " + token);
    }

    public Builder onProgress(DoubleConsumer p) {
      this.onProgress = p;
      return this;
    }

    public Builder weightPathPrefix(String prefix) {
      this.weightPathPrefix = prefix;
      return this;
    }

    public Builder weightUrlConverter(UnaryOperator<String> converter) {
      this.weightUrlConverter = converter;
      return this;
    }

    public Builder timeout(Duration t) {
      this.timeout = t;
      return this;
    }

    public Builder maxModelJsonBytes(long n) {
      this.maxModelJsonBytes = n;
      return this;
    }

    public Builder maxWeightBytes(long n) {
      this.maxWeightBytes = n;
      return this;
    }

    public Builder parallelism(int n) {
      this.parallelism = n;
      return this;
    }

    public Builder httpClient(HttpClient c) {
      this.httpClient = c;
      return this;
    }

    public LoadOptions build() {
      return new LoadOptions(
          method,
          headers,
          onProgress,
          weightPathPrefix,
          weightUrlConverter,
          timeout,
          maxModelJsonBytes,
          maxWeightBytes,
          parallelism,
          httpClient);
    }
  }
}
