package org.tfport.core;

/**
 * The root of every error tfport reports. Messages are written for the person running the tool:
 * they name the file, the place in it (layer, node, op or byte offset) and what to do, on one line.
 */
public class TfportException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public TfportException(String message) {
    super(message);
  }

  public TfportException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * The input is damaged or not what it claims to be (bad magic, truncated, malformed JSON, bad
   * offsets).
   */
  public static class CorruptModelException extends TfportException {
    private static final long serialVersionUID = 1L;

    public CorruptModelException(String message) {
      super(message);
    }

    public CorruptModelException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * The input is valid but uses something tfport (or the target) cannot express: a layer class, an
   * op.
   */
  public static class UnsupportedModelException extends TfportException {
    private static final long serialVersionUID = 1L;

    public UnsupportedModelException(String message) {
      super(message);
    }
  }

  /** The command line or options are wrong; the CLI exits with 2 for these. */
  public static class UsageException extends TfportException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
      super(message);
    }
  }

  /** The output could not be written (a path that is a file, a full disk, no permission). */
  public static class OutputException extends TfportException {
    private static final long serialVersionUID = 1L;

    public OutputException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
