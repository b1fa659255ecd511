package org.tfport.server;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.tfport.core.Json;
import tools.jackson.databind.node.ObjectNode;

/**
 * Errors Jetty raises itself (a malformed request line, a bad header) as {@code {"error": ...}}
 * too.
 */
final class JsonErrors extends ErrorHandler {
  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    Object status = request.getAttribute(ERROR_STATUS);
    Object message = request.getAttribute(ERROR_MESSAGE);
    int code = status instanceof Integer i ? i : response.getStatus();
    Api.error(
        request,
        response,
        callback,
        code < 400 ? 500 : code,
        message == null ? "request refused (HTTP " + code + ")" : message.toString());
    return true;
  }

  @Override
  public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("error", "bad request: " + (reason == null ? "HTTP " + status : reason));
    fields.put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
    fields.put("Access-Control-Allow-Origin", "*");
    return ByteBuffer.wrap(Json.MAPPER.writeValueAsString(o).getBytes(StandardCharsets.UTF_8));
  }
}
