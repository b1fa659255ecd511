package org.tfport.io;

import org.tfport.core.TfportException;

/**
 * A model could not be moved to or from where a URL points: an HTTP status that is not 2xx, a
 * timeout, a refused connection, a body over a size limit, or a file that cannot be written.
 */
public class ModelIOException extends TfportException {
  private static final long serialVersionUID = 1L;

  private final int status;

  public ModelIOException(String message) {
    this(message, -1, null);
  }

  public ModelIOException(String message, Throwable cause) {
    this(message, -1, cause);
  }

  public ModelIOException(String message, int status, Throwable cause) {
    super(message, cause);
    this.status = status;
  }

  /** The HTTP status that caused this, or -1 when there was none. */
  public int status() {
    return status;
  }
}
