package org.tfport.graph.stablehlo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.formats.stablehlo.Attr;
import org.tfport.formats.stablehlo.Attrs;
import org.tfport.formats.stablehlo.Op;
import org.tfport.graph.stablehlo.Lowerer.Refusal;
import org.tfport.graph.stablehlo.Lowerer.V;

/**
 * {@code dot_general} (any batch and contracting dimensions: transposes and reshapes around one
 * matrix product) and {@code convolution} (any dimension numbers, padding, dilations, reversal and
 * feature groups: a transposed, padded Conv2D/Conv3D).
 */
final class DotConv {
  private DotConv() {}

  static final Set<String> NAMES =
      Set.of("stablehlo.dot_general", "stablehlo.dot", "stablehlo.convolution");

  static V lower(Lowerer l, Op op, List<V> ins) {
    V out = l.resultLike(op, 0);
    boolean dynamic =
        !Lowerer.isStatic(out.shape())
            || !Lowerer.isStatic(ins.get(0).shape())
            || !Lowerer.isStatic(ins.get(1).shape());
    if (dynamic
        && op.name().equals("stablehlo.convolution")
        && !Lowerer.isStatic(ins.get(1).shape())) {
      throw new Refusal("a kernel of dynamic shape");
    }
    return switch (op.name()) {
      case "stablehlo.dot" ->
          dot(
              l,
              ins.get(0),
              ins.get(1),
              new long[0],
              new long[0],
              new long[] {ins.get(0).rank() - 1},
              new long[] {0},
              out);
      case "stablehlo.dot_general" -> {
        if (!(op.attr("dot_dimension_numbers") instanceof Attr.DictAttr d)) {
          throw new Refusal("dot_general without dot_dimension_numbers");
        }
        var e = d.entries();
        yield dot(
            l,
            ins.get(0),
            ins.get(1),
            Attrs.longs(e.get("lhs_batching_dimensions")),
            Attrs.longs(e.get("rhs_batching_dimensions")),
            Attrs.longs(e.get("lhs_contracting_dimensions")),
            Attrs.longs(e.get("rhs_contracting_dimensions")),
            out);
      }
      default -> Convolution.lower(l, op, ins, out);
    };
  }

  /** The type the product is computed in: float32 for float32, else float64. */
  static DType computeType(DType t) {
    return t == DType.FLOAT32 ? DType.FLOAT32 : DType.FLOAT64;
  }

  static V dot(Lowerer l, V lhs, V rhs, long[] lb, long[] rb, long[] lc, long[] rc, V out) {
    long[] lf = free(lhs.rank(), lb, lc);
    long[] rf = free(rhs.rank(), rb, rc);
    DType ct = computeType(lhs.dtype());
    V a = l.cast(lhs, ct);
    V b = l.cast(rhs, ct);
    a = l.transpose(a, Lowerer.toInts(concat(lb, lf, lc)));
    b = l.transpose(b, Lowerer.toInts(concat(rb, rc, rf)));
    long m = product(lhs, lf);
    long k = product(lhs, lc);
    long n = product(rhs, rf);
    long[] batch = new long[lb.length];
    for (int i = 0; i < lb.length; i++) {
      batch[i] = Math.max(lhs.dim((int) lb[i]), rhs.dim((int) rb[i]));
    }
    // A ? dimension (a symbolic batch) stays -1 in the reshapes around the product, which
    // TensorFlow infers; one per reshape at most, and the contracted size must be known.
    if (k < 0) {
      throw new Refusal("a contracting dimension of dynamic size");
    }
    long[] outShape = out.shape();
    for (long[] shape :
        List.of(append(batch, m, k), append(batch, k, n), append(batch, m, n), outShape)) {
      if (Arrays.stream(shape).filter(d -> d < 0).count() > 1) {
        throw new Refusal(
            "more than one dimension of dynamic size around its product "
                + Arrays.toString(shape).replace("-1", "?"));
      }
    }
    a = l.reshape(a, append(batch, m, k));
    b = l.reshape(b, append(batch, k, n));
    V prod =
        batch.length == 0
            ? l.op(
                "MatMul",
                ct,
                new long[] {m, n},
                List.of(a, b),
                "transpose_a",
                Lowerer.b(false),
                "transpose_b",
                Lowerer.b(false))
            : l.op(
                "BatchMatMulV2",
                ct,
                append(batch, m, n),
                List.of(a, b),
                "adj_x",
                Lowerer.b(false),
                "adj_y",
                Lowerer.b(false));
    V shaped = l.reshape(prod, outShape);
    return l.cast(shaped, out.dtype());
  }

  static long[] free(int rank, long[] batch, long[] contracting) {
    List<Long> out = new ArrayList<>();
    for (long d = 0; d < rank; d++) {
      final long dd = d;
      if (Arrays.stream(batch).noneMatch(x -> x == dd)
          && Arrays.stream(contracting).noneMatch(x -> x == dd)) {
        out.add(d);
      }
    }
    return out.stream().mapToLong(Long::longValue).toArray();
  }

  static long[] concat(long[]... parts) {
    return Arrays.stream(parts).flatMapToLong(Arrays::stream).toArray();
  }

  static long[] append(long[] head, long... tail) {
    return concat(head, tail);
  }

  /** The product of {@code x}'s sizes along {@code dims}; -1 when one of them is {@code ?}. */
  private static long product(V x, long[] dims) {
    long p = 1;
    for (long d : dims) {
      if (x.dim((int) d) < 0) {
        return -1;
      }
      p *= x.dim((int) d);
    }
    return p;
  }
}
