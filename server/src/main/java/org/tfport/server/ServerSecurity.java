package org.tfport.server;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.tfport.core.TfportException.UsageException;

/**
 * What {@code tfport serve} does against strangers: TLS, a read token, allowed origins, quotas and
 * timeouts, and where access log lines go.
 *
 * @param tls the certificate to serve HTTPS with, or null for plain HTTP
 * @param readToken when set, every read of the store (and predictions, metrics) needs {@code
 *     Authorization: Bearer} this or the write token; the page's own files stay open
 * @param corsOrigins origins (like {@code https://app.example}) allowed to read and upload from a
 *     browser; empty allows any origin to read and only the server's own to upload; {@code *}
 *     allows any origin both
 * @param maxStoreBytes the most bytes all stored versions together may take
 * @param idleTimeoutMillis a connection silent this long is closed
 * @param headerTimeoutMillis a request whose headers have not all arrived this long after they
 *     began is cut off (slow clients sending a byte now and then)
 * @param minBodyBytesPerSecond a request body arriving slower than this on average (counted from
 *     its first byte, once it has had {@link #BODY_RATE_GRACE_MILLIS} to go) is cut off; neither
 *     the idle timeout nor the header deadline stops a client trickling a body byte by byte
 * @param maxHeaderBytes the largest request line plus headers; larger is answered 431 and closed
 * @param accessLog receives one JSON line per request, or null for none
 */
public record ServerSecurity(
    Tls tls,
    String readToken,
    List<String> corsOrigins,
    long maxStoreBytes,
    long idleTimeoutMillis,
    long headerTimeoutMillis,
    long minBodyBytesPerSecond,
    int maxHeaderBytes,
    Consumer<String> accessLog) {
  public static final long DEFAULT_IDLE_TIMEOUT_MILLIS = 30_000;
  public static final long DEFAULT_HEADER_TIMEOUT_MILLIS = 10_000;
  public static final int DEFAULT_MAX_HEADER_BYTES = 16 * 1024;

  /** 1 KiB/s: far below any real network, far above a client holding a connection on purpose. */
  public static final long DEFAULT_MIN_BODY_BYTES_PER_SECOND = 1024;

  /** How long a body may arrive before its rate is judged (a connection's slow start). */
  public static final long BODY_RATE_GRACE_MILLIS = 1_000;

  /**
   * A server certificate: PEM files (an X.509 chain and a PKCS#8 or PKCS#1 key) or a PKCS#12
   * keystore with its password.
   */
  public record Tls(Path certPem, Path keyPem, Path keystore, String keystorePassword) {
    public Tls {
      if ((certPem == null) != (keyPem == null)) {
        throw new UsageException(
            "ServerSecurity.Tls certPem and keyPem go together; give both PEM files");
      }
      if ((certPem == null) == (keystore == null)) {
        throw new UsageException(
            "give either ServerSecurity.Tls certPem and keyPem or ServerSecurity.Tls keystore, not both");
      }
    }

    public static Tls pem(Path cert, Path key) {
      return new Tls(cert, key, null, null);
    }

    public static Tls keystore(Path file, String password) {
      return new Tls(null, null, file, password == null ? "" : password);
    }
  }

  public ServerSecurity {
    corsOrigins = corsOrigins == null ? List.of() : List.copyOf(corsOrigins);
    if (readToken != null && !readToken.matches("[\\x21-\\x7e]+")) {
      throw new UsageException(
          "ServerSecurity.readToken must be non-empty printable ASCII without spaces; give a secret or leave it"
              + " out");
    }
    for (String o : corsOrigins) {
      if (!o.equals("*") && !o.matches("https?://[A-Za-z0-9.\\-\\[\\]:]+")) {
        throw new UsageException(
            "ServerSecurity.corsOrigins entry '"
                + o
                + "' is not an origin; give scheme://host[:port] like https://app.example,"
                + " or *");
      }
    }
    if (maxStoreBytes <= 0 || idleTimeoutMillis <= 0 || headerTimeoutMillis <= 0) {
      throw new UsageException(
          "ServerSecurity.maxStoreBytes, idleTimeoutMillis and headerTimeoutMillis must be positive");
    }
    if (minBodyBytesPerSecond <= 0) {
      throw new UsageException(
          "the minimum request body rate must be positive, got " + minBodyBytesPerSecond);
    }
    if (maxHeaderBytes < 1024) {
      throw new UsageException(
          "ServerSecurity.maxHeaderBytes must be at least 1024, got " + maxHeaderBytes);
    }
  }

  /** Plain HTTP, no read token, the usual timeouts, no store quota, no access log. */
  public static ServerSecurity defaults() {
    return new ServerSecurity(
        null,
        null,
        List.of(),
        Long.MAX_VALUE,
        DEFAULT_IDLE_TIMEOUT_MILLIS,
        DEFAULT_HEADER_TIMEOUT_MILLIS,
        DEFAULT_MIN_BODY_BYTES_PER_SECOND,
        DEFAULT_MAX_HEADER_BYTES,
        null);
  }

  public ServerSecurity withTls(Tls t) {
    return new ServerSecurity(
        t,
        readToken,
        corsOrigins,
        maxStoreBytes,
        idleTimeoutMillis,
        headerTimeoutMillis,
        minBodyBytesPerSecond,
        maxHeaderBytes,
        accessLog);
  }

  public ServerSecurity withReadToken(String t) {
    return new ServerSecurity(
        tls,
        t,
        corsOrigins,
        maxStoreBytes,
        idleTimeoutMillis,
        headerTimeoutMillis,
        minBodyBytesPerSecond,
        maxHeaderBytes,
        accessLog);
  }

  public ServerSecurity withCorsOrigins(List<String> origins) {
    return new ServerSecurity(
        tls,
        readToken,
        origins,
        maxStoreBytes,
        idleTimeoutMillis,
        headerTimeoutMillis,
        minBodyBytesPerSecond,
        maxHeaderBytes,
        accessLog);
  }

  public ServerSecurity withMaxStoreBytes(long bytes) {
    return new ServerSecurity(
        tls,
        readToken,
        corsOrigins,
        bytes,
        idleTimeoutMillis,
        headerTimeoutMillis,
        minBodyBytesPerSecond,
        maxHeaderBytes,
        accessLog);
  }

  public ServerSecurity withTimeouts(long idleMillis, long headerMillis, int headerBytes) {
    return new ServerSecurity(
        tls,
        readToken,
        corsOrigins,
        maxStoreBytes,
        idleMillis,
        headerMillis,
        minBodyBytesPerSecond,
        headerBytes,
        accessLog);
  }

  public ServerSecurity withAccessLog(Consumer<String> log) {
    return new ServerSecurity(
        tls,
        readToken,
        corsOrigins,
        maxStoreBytes,
        idleTimeoutMillis,
        headerTimeoutMillis,
        minBodyBytesPerSecond,
        maxHeaderBytes,
        log);
  }

  /** {@code bytesPerSecond}: see {@link #minBodyBytesPerSecond()}. */
  public ServerSecurity withMinBodyRate(long bytesPerSecond) {
    return new ServerSecurity(
        tls,
        readToken,
        corsOrigins,
        maxStoreBytes,
        idleTimeoutMillis,
        headerTimeoutMillis,
        bytesPerSecond,
        maxHeaderBytes,
        accessLog);
  }
}
