package org.tfport.server;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;

/**
 * Who may do what: the write token (uploads), the optional read token (everything that reads the
 * store), and which browser origins may read or upload (CORS). Tokens are kept only as SHA-256
 * digests and compared with {@link MessageDigest#isEqual}, so neither their bytes nor their length
 * can be learned from response times.
 */
final class Access {
  /** What a request does, for tokens and origins. */
  enum Kind {
    /** The page's own files: no model data, so open like a login page. */
    PAGE,
    READ,
    WRITE
  }

  /** Request attribute holding the Access-Control-Allow-Origin chosen, for error answers. */
  static final String ALLOW_ORIGIN = "tfport.allowOrigin";

  private final byte[] write;
  private final byte[] read;
  private final List<String> origins;
  private final boolean anyOrigin;

  Access(String writeToken, String readToken, List<String> origins) {
    this.write = writeToken == null ? null : digest("Bearer " + writeToken);
    this.read = readToken == null ? null : digest("Bearer " + readToken);
    this.origins = origins;
    this.anyOrigin = origins.contains("*");
  }

  static Kind kind(String method, List<String> seg) {
    if (seg.isEmpty()) {
      return Kind.PAGE;
    }
    String first = seg.get(0);
    if (first.equals("models")) {
      boolean upload = seg.size() == 2 && (method.equals("POST") || method.equals("PUT"));
      return upload ? Kind.WRITE : Kind.READ;
    }
    return first.equals("v1") || first.equals("metrics") ? Kind.READ : Kind.PAGE;
  }

  /**
   * Sets Access-Control-Allow-Origin for this request's origin; refuses an upload a browser sends
   * from an origin that is neither this server's nor listed.
   */
  void cors(Request request, Response response, Kind kind) {
    String origin = request.getHeaders().get(HttpHeader.ORIGIN);
    String allow = allowOrigin(request, origin, kind);
    if (allow != null) {
      response.getHeaders().put(HttpHeader.ACCESS_CONTROL_ALLOW_ORIGIN, allow);
      request.setAttribute(ALLOW_ORIGIN, allow);
    }
    if (!anyOrigin && !origins.isEmpty() || kind == Kind.WRITE) {
      response.getHeaders().add(HttpHeader.VARY, "Origin");
    }
    if (kind == Kind.WRITE
        && origin != null
        && allow == null
        && !request.getMethod().equals("OPTIONS")) {
      throw new HttpError(
          403,
          "uploads from origin '"
              + Names.printable(origin)
              + "' are not allowed; start the server with --cors-origin "
              + Names.printable(origin));
    }
  }

  private String allowOrigin(Request request, String origin, Kind kind) {
    if (origin == null) {
      return kind == Kind.WRITE || !(origins.isEmpty() || anyOrigin) ? null : "*";
    }
    if (anyOrigin || origins.contains(origin) || sameOrigin(request, origin)) {
      return origin;
    }
    return kind != Kind.WRITE && origins.isEmpty() ? "*" : null;
  }

  private static boolean sameOrigin(Request request, String origin) {
    String host = request.getHeaders().get(HttpHeader.HOST);
    return host != null && origin.equals((request.isSecure() ? "https://" : "http://") + host);
  }

  /** Throws 401 (no or wrong token) or 403 (the read token used to upload) when not allowed. */
  void authorize(Request request, Kind kind) {
    byte[] need = kind == Kind.WRITE ? write : kind == Kind.READ ? read : null;
    if (need == null) {
      return;
    }
    String got = request.getHeaders().get(HttpHeader.AUTHORIZATION);
    if (got == null) {
      throw new HttpError(
          401,
          kind == Kind.WRITE
              ? "uploads need 'Authorization: Bearer TOKEN' (the server was started with --token)"
              : "reads need 'Authorization: Bearer TOKEN' (the server was started with"
                  + " --read-token)");
    }
    byte[] d = digest(got);
    // Both compared every time, so which one matched does not show in the timing either.
    boolean isWrite = write != null & MessageDigest.isEqual(d, write);
    boolean isRead = read != null & MessageDigest.isEqual(d, read);
    if (kind == Kind.READ ? isRead | isWrite : isWrite) {
      return;
    }
    if (isRead) {
      throw new HttpError(403, "the read token cannot upload; use the write token (--token)");
    }
    throw new HttpError(401, "the bearer token is wrong");
  }

  private static byte[] digest(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
