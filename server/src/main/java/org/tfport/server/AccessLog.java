package org.tfport.server;

import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.RequestLog;
import org.eclipse.jetty.server.Response;
import org.tfport.core.Json;
import tools.jackson.databind.node.ObjectNode;

/**
 * One JSON line per request: time, remote address, method, path, status, body bytes sent and
 * milliseconds. The query string and every header are left out, so tokens (and secrets a client
 * puts in a query) never reach the log.
 */
final class AccessLog implements RequestLog {
  private final Consumer<String> sink;

  AccessLog(Consumer<String> sink) {
    this.sink = sink;
  }

  @Override
  public void log(Request request, Response response) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - request.getBeginNanoTime());
    o.put("time", Instant.ofEpochMilli(Request.getTimeStamp(request)).toString());
    o.put("remote", Request.getRemoteAddr(request));
    o.put("method", request.getMethod());
    String path = request.getHttpURI().getPath();
    o.put("path", path == null ? "" : Names.printable(path));
    o.put("status", response.getStatus());
    o.put("bytes", Response.getContentBytesWritten(response));
    o.put("ms", ms);
    sink.accept(Json.MAPPER.writeValueAsString(o));
  }
}
