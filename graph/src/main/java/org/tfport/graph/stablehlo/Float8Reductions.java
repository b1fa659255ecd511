package org.tfport.graph.stablehlo;

import org.tfport.formats.stablehlo.Float8;
import org.tfport.graph.stablehlo.Lowerer.Refusal;
import org.tfport.graph.stablehlo.Lowerer.V;

/**
 * A sum or product reduce over 8-bit floats, rounded to the format after every step, because that
 * is what XLA's CPU backend computes. In {@code xla/service/cpu/cpu_compiler.cc} every 8-bit type
 * gets a {@code FloatNormalization} pass with {@code FloatSupport(F8..., F16)}. That pass ({@code
 * xla/hlo/transforms/simplifiers/float_normalization.cc}, formerly {@code
 * xla/service/float_normalization.cc}) visits called computations before their callers:
 *
 * <ol>
 *   <li>the reducer's f8 add becomes convert to f16, add, convert to f8;
 *   <li>the reduce itself then runs in f16, and {@code ConvertCalledComputations} wraps that
 *       reducer so it takes f16 parameters, converts them to f8, and converts its f8 root back to
 *       f16.
 * </ol>
 *
 * The f16-to-f8 converts are narrowing, so {@code AlgebraicSimplifier} keeps them ({@code
 * IsConvertPairNoOp} in {@code algebraic_simplifier.cc} drops a convert pair only when the first
 * convert preserves values). The accumulator is thus an f8 value after each step, from the init
 * value through the reduced elements in row-major order (the elemental reduce loop; the reducer is
 * no plain add, so it is not vectorized). The f16 step is left out here: f32 holds a sum or product
 * of two f8 values exactly, and rounding it through f16 first gives the same f8 value for formats
 * of at most 4 significant bits (double rounding is harmless when the middle precision is at least
 * 2p + 2 bits).
 */
final class Float8Reductions {
  private Float8Reductions() {}

  /** Steps unrolled per result element; a longer reduce is refused rather than rounded once. */
  static final int MAX_STEPS = 256;

  static V reduce(
      Lowerer l, Reductions.Kind k, V x, V init, long[] dims, long[] outShape, Float8 f) {
    int rank = x.rank();
    int[] perm = new int[rank];
    int at = 0;
    long n = 1;
    for (int d = 0; d < rank; d++) {
      if (!contains(dims, d)) {
        perm[at++] = d;
      }
    }
    for (long d : dims) {
      perm[at++] = (int) d;
      n *= x.dim((int) d);
    }
    if (n > MAX_STEPS) {
      throw new Refusal(
          "an 8-bit float "
              + (k == Reductions.Kind.ADD ? "sum" : "product")
              + " of "
              + n
              + " elements per result: XLA rounds it to the format after every step, which"
              + " tfport unrolls up to "
              + MAX_STEPS
              + " steps; convert to f16 or f32 before reducing");
    }
    long[] flat = new long[outShape.length + 1];
    System.arraycopy(outShape, 0, flat, 0, outShape.length);
    flat[outShape.length] = n;
    V rows = l.reshape(l.transpose(x, perm), flat);
    V acc = l.broadcastTo(init, outShape);
    long[] begin = new long[flat.length];
    long[] end = flat.clone();
    long[] strides = new long[flat.length];
    java.util.Arrays.fill(strides, 1);
    for (long j = 0; j < n; j++) {
      begin[outShape.length] = j;
      end[outShape.length] = j + 1;
      V step = l.reshape(l.stridedSlice(rows, begin.clone(), end.clone(), strides), outShape);
      acc = Float8Rounding.round(l, l.binary(k.binaryOp, acc, step, x.dtype()), f);
    }
    return n == 0 ? l.identity(acc) : acc;
  }

  private static boolean contains(long[] dims, int d) {
    for (long x : dims) {
      if (x == d) {
        return true;
      }
    }
    return false;
  }

  /** Whether a reduce of {@code k} into {@code f} rounds differently per step than once. */
  static boolean roundsPerStep(Reductions.Kind k, Float8 f) {
    return f != null && (k == Reductions.Kind.ADD || k == Reductions.Kind.MUL);
  }
}
