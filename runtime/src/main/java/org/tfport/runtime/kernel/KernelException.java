package org.tfport.runtime.kernel;

/**
 * An op cannot be bound or rejects its inputs. The message says what is wrong in the op's terms
 * ("indices[3] = 7 is not in [0, 5)"); the runtime adds the node name and model file before it
 * reaches the user.
 */
public class KernelException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public KernelException(String message) {
    super(message);
  }

  /**
   * The same failure seen from further out: {@code message} adds where it happened (node,
   * function).
   */
  public KernelException(String message, Throwable cause) {
    super(message, cause);
  }
}
