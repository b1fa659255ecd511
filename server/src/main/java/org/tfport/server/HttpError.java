package org.tfport.server;

import org.tfport.core.TfportException;

/**
 * A request the server refuses: the status and the one-line reason sent as {@code {"error": ...}}.
 */
final class HttpError extends TfportException {
  private static final long serialVersionUID = 1L;

  final int status;

  HttpError(int status, String message) {
    super(message);
    this.status = status;
  }

  HttpError(int status, String message, Throwable cause) {
    super(message, cause);
    this.status = status;
  }
}
