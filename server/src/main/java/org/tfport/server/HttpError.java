package org.tfport.server;

import org.tfport.core.TfportException;

/**
 * A request the server refuses: the status and the one-line reason sent as {@code {"error": ...}}.
 */
final class HttpError extends TfportException {
  private static final long serialVersionUID = 1L;

  final int status;

  HttpError(int status, String message) {
    super(oneLine(status, message));
    this.status = status;
  }

  HttpError(int status, String message, Throwable cause) {
    super(oneLine(status, message), cause);
    this.status = status;
  }

  /**
   * The reason as one line: a reader's message may quote bytes from the upload (a node name with a
   * line break in a damaged saved_model.pb), and the client gets one JSON line whatever it holds.
   */
  private static String oneLine(int status, String message) {
    String m = message == null ? "" : message.replaceAll("[\\r\\n]+", " ").strip();
    return m.isEmpty() ? "request refused (HTTP " + status + ")" : m;
  }
}
