package org.tfport.formats.stablehlo;

import java.util.Arrays;

/**
 * A type as MLIR prints it. For a ranked tensor {@code dims} holds the dimensions ({@code -1} for a
 * dynamic {@code ?}) and {@code element} the element type ({@code f32}, {@code i1}, {@code
 * complex<f32>}, ...); a scalar type written alone ({@code i32}) is a rank-0 tensor of it. Other
 * types (tokens, tuples, unranked tensors) keep only their text, with {@code element} null.
 */
public record MlirType(String text, String element, long[] dims) {

  public boolean isTensor() {
    return element != null && dims != null;
  }

  public int rank() {
    return dims == null ? -1 : dims.length;
  }

  /** Whether every dimension is known. */
  public boolean isStatic() {
    return dims != null && Arrays.stream(dims).allMatch(d -> d >= 0);
  }

  public long elementCount() {
    long n = 1;
    for (long d : dims) {
      n *= d;
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MlirType t && t.text.equals(text);
  }

  @Override
  public int hashCode() {
    return text.hashCode();
  }

  @Override
  public String toString() {
    return text;
  }
}
