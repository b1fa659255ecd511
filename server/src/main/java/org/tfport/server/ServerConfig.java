package org.tfport.server;

import java.nio.file.Path;
import java.util.Objects;
import org.tfport.core.TfportException.UsageException;

/**
 * How {@code tfport serve} runs.
 *
 * @param host the address to listen on ({@code 127.0.0.1} keeps it local)
 * @param port the port, 0 for any free one
 * @param store the folder holding the models, created when missing
 * @param token when set, uploads need {@code Authorization: Bearer TOKEN}; reads stay open
 * @param maxUploadBytes the largest request body accepted
 * @param maxModelJsonBytes the largest model.json accepted
 * @param maxParts the most multipart parts (model.json plus shards) in one upload
 * @param tfjsBundle TF.js's {@code tf.min.js} for the web page, or null to look for it in the usual
 *     places
 * @param serving how predictions run (cache, limits, workers, batching)
 * @param security TLS, read token, origins, quotas, timeouts and the access log
 */
public record ServerConfig(
    String host,
    int port,
    Path store,
    String token,
    long maxUploadBytes,
    long maxModelJsonBytes,
    int maxParts,
    Path tfjsBundle,
    ServingConfig serving,
    ServerSecurity security) {
  public static final long DEFAULT_MAX_UPLOAD_BYTES = 2L << 30;
  public static final long DEFAULT_MAX_MODEL_JSON_BYTES = 128L << 20;
  public static final int DEFAULT_MAX_PARTS = 1024;

  public ServerConfig {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(store, "store");
    if (port < 0 || port > 65535) {
      throw new UsageException("ServerConfig.port must be 0..65535, got " + port);
    }
    if (token != null && token.isBlank()) {
      throw new UsageException(
          "ServerConfig.token is empty; give a secret or leave the option out");
    }
    if (token != null && !token.matches("[\\x21-\\x7e]+")) {
      throw new UsageException("ServerConfig.token may hold only printable ASCII without spaces");
    }
    if (maxUploadBytes <= 0 || maxModelJsonBytes <= 0 || maxParts < 2) {
      throw new UsageException("size limits must be positive and at least 2 parts allowed");
    }
    if (serving == null) {
      serving = ServingConfig.defaults();
    }
    if (security == null) {
      security = ServerSecurity.defaults();
    }
    if (token != null && token.equals(security.readToken())) {
      throw new UsageException(
          "ServerSecurity.readToken must differ from ServerConfig.token (the write token)");
    }
  }

  public ServerConfig(
      String host,
      int port,
      Path store,
      String token,
      long maxUploadBytes,
      long maxModelJsonBytes,
      int maxParts,
      Path tfjsBundle) {
    this(
        host,
        port,
        store,
        token,
        maxUploadBytes,
        maxModelJsonBytes,
        maxParts,
        tfjsBundle,
        null,
        null);
  }

  /** Defaults for everything but where to listen and store. */
  public static ServerConfig of(String host, int port, Path store, String token) {
    return new ServerConfig(
        host,
        port,
        store,
        token,
        DEFAULT_MAX_UPLOAD_BYTES,
        DEFAULT_MAX_MODEL_JSON_BYTES,
        DEFAULT_MAX_PARTS,
        null);
  }

  public ServerConfig withLimits(long maxUploadBytes, long maxModelJsonBytes, int maxParts) {
    return new ServerConfig(
        host,
        port,
        store,
        token,
        maxUploadBytes,
        maxModelJsonBytes,
        maxParts,
        tfjsBundle,
        serving,
        security);
  }

  public ServerConfig withTfjsBundle(Path bundle) {
    return new ServerConfig(
        host,
        port,
        store,
        token,
        maxUploadBytes,
        maxModelJsonBytes,
        maxParts,
        bundle,
        serving,
        security);
  }

  public ServerConfig withServing(ServingConfig s) {
    return new ServerConfig(
        host,
        port,
        store,
        token,
        maxUploadBytes,
        maxModelJsonBytes,
        maxParts,
        tfjsBundle,
        s,
        security);
  }

  public ServerConfig withSecurity(ServerSecurity s) {
    return new ServerConfig(
        host,
        port,
        store,
        token,
        maxUploadBytes,
        maxModelJsonBytes,
        maxParts,
        tfjsBundle,
        serving,
        s);
  }
}
