package org.tfport.runtime;

import java.util.Arrays;
import java.util.Objects;
import org.tfport.core.DType;
import org.tfport.core.graph.TensorRef;

/**
 * One input or output of a {@link Signature}: the name callers use, the graph tensor behind it, and
 * what it holds.
 *
 * @param name the key in the maps {@link Session#run(java.util.Map)} takes and returns
 * @param tensor the graph tensor ({@code x}, {@code x:0}, {@code model/dense/BiasAdd:0})
 * @param dtype the element type, or null when not known (outputs, mostly)
 * @param shape the dimensions, -1 for one of any size; null for an unknown rank
 */
public record TensorSpec(String name, String tensor, DType dtype, long[] shape) {
  public TensorSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(tensor, "tensor");
    shape = shape == null ? null : shape.clone();
  }

  /** A spec named after its tensor's node ({@code x:0} is called {@code x}). */
  public static TensorSpec of(String tensor, DType dtype, long... shape) {
    return new TensorSpec(TensorRef.nodeOf(tensor), tensor, dtype, shape);
  }

  @Override
  public long[] shape() {
    return shape == null ? null : shape.clone();
  }

  /**
   * Whether a tensor of {@code dims} fits: same rank, equal wherever this spec knows the dimension.
   */
  public boolean accepts(long[] dims) {
    if (shape == null) {
      return true;
    }
    if (dims.length != shape.length) {
      return false;
    }
    for (int i = 0; i < dims.length; i++) {
      if (shape[i] >= 0 && shape[i] != dims[i]) {
        return false;
      }
    }
    return true;
  }

  /** {@code float32[-1, 4]}, {@code ?[?]} when nothing is known. */
  public String describe() {
    return (dtype == null ? "?" : dtype.jsName())
        + (shape == null ? "[?]" : Arrays.toString(shape));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorSpec s
        && s.name.equals(name)
        && s.tensor.equals(tensor)
        && s.dtype == dtype
        && Arrays.equals(s.shape, shape);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, tensor, dtype) * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + " (" + tensor + "): " + describe();
  }
}
