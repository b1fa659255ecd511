package org.tfport.formats.mlir;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A type decoded from MLIR bytecode, in builtin/StableHLO terms: VHLO's versioned types are mapped
 * to the builtin ones they stand for ({@code !vhlo.f32_v1} is {@code f32}). {@link #toString()} is
 * the MLIR text form.
 */
public sealed interface MlirType {
  /** {@link Integer#MIN_VALUE}-like marker MLIR uses for a dynamic dimension (int64 min). */
  long DYNAMIC = Long.MIN_VALUE;

  /** A scalar element type by its MLIR spelling: f32, bf16, i1, ui8, index, none, f8E4M3FN... */
  record Scalar(String name) implements MlirType {
    @Override
    public String toString() {
      return name;
    }
  }

  record Complex(MlirType element) implements MlirType {
    @Override
    public String toString() {
      return "complex<" + element + ">";
    }
  }

  /** A ranked tensor; {@link #DYNAMIC} marks a dimension of unknown size. */
  record Tensor(List<Long> shape, MlirType element, MlirAttr encoding) implements MlirType {
    public long elementCount() {
      long n = 1;
      for (long d : shape) {
        if (d < 0) {
          return -1;
        }
        n = Math.multiplyExact(n, d);
      }
      return n;
    }

    @Override
    public String toString() {
      StringBuilder b = new StringBuilder("tensor<");
      for (long d : shape) {
        b.append(d == DYNAMIC ? "?" : Long.toString(d)).append('x');
      }
      b.append(element);
      if (encoding != null) {
        b.append(", ").append(encoding);
      }
      return b.append('>').toString();
    }
  }

  record Unranked(MlirType element) implements MlirType {
    @Override
    public String toString() {
      return "tensor<*x" + element + ">";
    }
  }

  record Function(List<MlirType> inputs, List<MlirType> results) implements MlirType {
    @Override
    public String toString() {
      String in = inputs.stream().map(String::valueOf).collect(Collectors.joining(", "));
      String out = results.stream().map(String::valueOf).collect(Collectors.joining(", "));
      boolean bare = results.size() == 1 && !(results.get(0) instanceof Function);
      return "(" + in + ") -> " + (bare ? out : "(" + out + ")");
    }
  }

  record Tuple(List<MlirType> elements) implements MlirType {
    @Override
    public String toString() {
      return "tuple<"
          + elements.stream().map(String::valueOf).collect(Collectors.joining(", "))
          + ">";
    }
  }

  /** A type known only by its text (a dialect type without a structural decoding here). */
  record Opaque(String text) implements MlirType {
    @Override
    public String toString() {
      return text;
    }
  }
}
