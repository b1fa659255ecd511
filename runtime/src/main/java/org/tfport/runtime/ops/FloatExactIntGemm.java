package org.tfport.runtime.ops;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The integer GEMM of the 8-bit convolutions and dense layers computed with float fused
 * multiply-adds, exactly: the Vector API has no 8-bit dot product, and an int32 lane multiply plus
 * an add cost two instructions where a float FMA costs one. Every product of an 8-bit code and a
 * zero-point-shifted weight is an integer below 2^16 in magnitude, and every partial sum of a chunk
 * is an integer below 2^24 ({@link #chunk} picks chunks short enough from the weights at bind
 * time), so the float sums are exact; each chunk's sum is converted to int32 and added, which gives
 * the int32 accumulator's value (modulo 2^32, as TFLite's wraps). Activations are read from a float
 * copy of the (padded) input codes; weights are packed in panels of {@link #NR} columns as {@link
 * IntMicrokernel#pack} does. Vector API only: without it the integer micro-kernels run.
 */
final class FloatExactIntGemm {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  // Bytes as many as the float lanes, widened by one conversion.
  private static final VectorSpecies<Byte> BYTES =
      VectorSpecies.of(byte.class, VectorShape.forBitSize(S.vectorBitSize() / 4));

  /** Columns of a packed panel. */
  static final int NR = 2 * L;

  /** Rows of a full tile. */
  static final int MR = 8;

  /** Integers up to this magnitude are exact in float. */
  private static final long EXACT = 1L << 24;

  private FloatExactIntGemm() {}

  /** The weights ({@code w[j·k + kk]}, zero points subtracted) in float panels of NR columns. */
  static float[] pack(int[] w, int n, int k) {
    int[] packed = IntMicrokernel.pack(w, n, k, NR);
    float[] f = new float[packed.length];
    for (int i = 0; i < f.length; i++) {
      f[i] = packed[i];
    }
    return f;
  }

  /**
   * The most reduction steps a float accumulator may take: all k when every column's Σ|w| times the
   * largest code magnitude stays within 2^24, else as many as the largest |w| allows.
   */
  static int chunk(int[] w, int n, int k, int maxCode) {
    long worstColumn = 0;
    long maxAbs = 1;
    for (int j = 0; j < n; j++) {
      long sum = 0;
      for (int kk = 0; kk < k; kk++) {
        int a = Math.abs(w[j * k + kk]);
        sum += a;
        maxAbs = Math.max(maxAbs, a);
      }
      worstColumn = Math.max(worstColumn, sum);
    }
    if (worstColumn * maxCode <= EXACT) {
      return Math.max(k, 1);
    }
    return (int) Math.max(1, EXACT / (maxAbs * maxCode));
  }

  /**
   * The input codes as floats ({@code & mask}: 0xff for uint8, −1 for int8), into {@code f} (at
   * least {@code a.length} long).
   */
  static void widen(byte[] a, int mask, float[] f) {
    int i = 0;
    int end = a.length - BYTES.length();
    // The conversion operator must be a constant for the JIT: one loop per signedness.
    if (mask == 0xff) {
      for (; i <= end; i += BYTES.length()) {
        ByteVector b = ByteVector.fromArray(BYTES, a, i);
        ((IntVector) b.convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0))
            .convert(VectorOperators.I2F, 0)
            .reinterpretAsFloats()
            .intoArray(f, i);
      }
      for (; i < a.length; i++) {
        f[i] = a[i] & 0xff;
      }
    } else {
      for (; i <= end; i += BYTES.length()) {
        ByteVector b = ByteVector.fromArray(BYTES, a, i);
        b.convertShape(VectorOperators.B2F, S, 0).reinterpretAsFloats().intoArray(f, i);
      }
      for (; i < a.length; i++) {
        f[i] = a[i];
      }
    }
  }

  /**
   * {@link IntMicrokernel#block}'s contract on a float input and float panels: rows {@code i <
   * rows}, {@code acc[i·ldc + j] = Σ_t Σ_ic a[base[i] + tapOff[t] + ic] · B[t·cin + ic, j]} for
   * columns j < panels·NR, the reduction in float runs of at most {@code chunk} steps.
   */
  static void block(
      float[] a,
      int[] base,
      int rows,
      int[] tapOff,
      int taps,
      int cin,
      float[] packed,
      int panels,
      int chunk,
      int[] acc,
      int ldc) {
    int k = taps * cin;
    int panelSize = k * NR;
    for (int k0 = 0; k0 < k; ) {
      // A run stays inside one tap when a tap is longer than a chunk, else takes whole taps.
      int t0 = k0 / cin;
      int ic0 = k0 % cin;
      int t1;
      int ic1;
      if (cin >= chunk || ic0 != 0) {
        t1 = t0 + 1;
        ic1 = Math.min(cin, ic0 + chunk);
      } else {
        t1 = Math.min(taps, t0 + chunk / cin);
        ic1 = cin;
      }
      boolean add = k0 > 0;
      int i = 0;
      for (; i + 8 <= rows; i += 8) {
        for (int p = 0; p < panels; p++) {
          int w = p * panelSize + (t0 * cin + ic0) * NR;
          int out = i * ldc + p * NR;
          tile8(a, base, i, tapOff, t0, t1, ic0, ic1, cin, packed, w, acc, out, ldc, add);
        }
      }
      for (; i < rows; i++) {
        for (int p = 0; p < panels; p++) {
          int w = p * panelSize + (t0 * cin + ic0) * NR;
          tile1(a, base[i], tapOff, t0, t1, ic0, ic1, cin, packed, w, acc, i * ldc + p * NR, add);
        }
      }
      k0 = (t1 - 1) * cin + ic1;
    }
  }

  // 8 rows × 2 vectors: 16 accumulators, the two weight vectors of a step shared by every row.
  private static void tile8(
      float[] a,
      int[] base,
      int i,
      int[] tapOff,
      int t0,
      int t1,
      int ic0,
      int ic1,
      int cin,
      float[] packed,
      int w,
      int[] acc,
      int out,
      int ldc,
      boolean add) {
    FloatVector c00 = FloatVector.zero(S);
    FloatVector c01 = FloatVector.zero(S);
    FloatVector c10 = FloatVector.zero(S);
    FloatVector c11 = FloatVector.zero(S);
    FloatVector c20 = FloatVector.zero(S);
    FloatVector c21 = FloatVector.zero(S);
    FloatVector c30 = FloatVector.zero(S);
    FloatVector c31 = FloatVector.zero(S);
    FloatVector c40 = FloatVector.zero(S);
    FloatVector c41 = FloatVector.zero(S);
    FloatVector c50 = FloatVector.zero(S);
    FloatVector c51 = FloatVector.zero(S);
    FloatVector c60 = FloatVector.zero(S);
    FloatVector c61 = FloatVector.zero(S);
    FloatVector c70 = FloatVector.zero(S);
    FloatVector c71 = FloatVector.zero(S);
    int skip = (cin - (ic1 - ic0)) * NR;
    for (int t = t0; t < t1; t++, w += skip) {
      int o = tapOff[t];
      int i0 = base[i] + o;
      int i1 = base[i + 1] + o;
      int i2 = base[i + 2] + o;
      int i3 = base[i + 3] + o;
      int i4 = base[i + 4] + o;
      int i5 = base[i + 5] + o;
      int i6 = base[i + 6] + o;
      int i7 = base[i + 7] + o;
      for (int ic = ic0; ic < ic1; ic++, w += NR) {
        FloatVector w0 = FloatVector.fromArray(S, packed, w);
        FloatVector w1 = FloatVector.fromArray(S, packed, w + L);
        FloatVector x0 = FloatVector.broadcast(S, a[i0 + ic]);
        c00 = x0.fma(w0, c00);
        c01 = x0.fma(w1, c01);
        FloatVector x1 = FloatVector.broadcast(S, a[i1 + ic]);
        c10 = x1.fma(w0, c10);
        c11 = x1.fma(w1, c11);
        FloatVector x2 = FloatVector.broadcast(S, a[i2 + ic]);
        c20 = x2.fma(w0, c20);
        c21 = x2.fma(w1, c21);
        FloatVector x3 = FloatVector.broadcast(S, a[i3 + ic]);
        c30 = x3.fma(w0, c30);
        c31 = x3.fma(w1, c31);
        FloatVector x4 = FloatVector.broadcast(S, a[i4 + ic]);
        c40 = x4.fma(w0, c40);
        c41 = x4.fma(w1, c41);
        FloatVector x5 = FloatVector.broadcast(S, a[i5 + ic]);
        c50 = x5.fma(w0, c50);
        c51 = x5.fma(w1, c51);
        FloatVector x6 = FloatVector.broadcast(S, a[i6 + ic]);
        c60 = x6.fma(w0, c60);
        c61 = x6.fma(w1, c61);
        FloatVector x7 = FloatVector.broadcast(S, a[i7 + ic]);
        c70 = x7.fma(w0, c70);
        c71 = x7.fma(w1, c71);
      }
    }
    // acc (+)= each accumulator as int32, the chunk's exact integer sums. Written out, not a helper
    // taking the vector: C2 stops inlining into this large method at its node-count cutoff, and a
    // vector handed to a call that is not inlined is boxed, 16 allocations per tile.
    IntVector zero = IntVector.zero(I);
    ((IntVector) c00.convertShape(VectorOperators.F2I, I, 0))
        .add(add ? IntVector.fromArray(I, acc, out) : zero)
        .intoArray(acc, out);
    ((IntVector) c01.convertShape(VectorOperators.F2I, I, 0))
        .add(add ? IntVector.fromArray(I, acc, out + L) : zero)
        .intoArray(acc, out + L);
    ((IntVector) c10.convertShape(VectorOperators.F2I, I, 0))
        .add(add ? IntVector.fromArray(I, acc, out + ldc) : zero)
        .intoArray(acc, out + ldc);
    ((IntVector) c11.convertShape(VectorOperators.F2I, I, 0))
        .add(add ? IntVector.fromArray(I, acc, out + ldc + L) : zero)
        .intoArray(acc, out + ldc + L);
    ((IntVector) c20.convertShape(VectorOperators.F2I, I, 0))
        .add(add ? IntVector.fromArray(I, acc, out + 2 * ldc) : zero)
        .intoArray(acc, out + 2 * ldc);
    ((IntVector) c21.convertShape(VectorOperators.F2I, I, 0))
        .add(add ? IntVector.fromArray(I, acc, out + 2 * ldc + L) : zero)
        .intoArray(acc, out + 2 * ldc + L);
    ((IntVector) c30.convertShape(VectorOperators.F2I, I, 0))
        .add(add ? IntVector.fromArray(I, acc, out + 3 * ldc) : zero)
        .intoArray(acc, out + 3 * ldc);
    ((IntVector) c31.convertShape(VectorOperators.F2I, I, 0))
        .add(add ? IntVector.fromArray(I, acc, out + 3 * ldc + L) : zero)
        .intoArray(acc, out + 3 * ldc + L);
    ((IntVector) c40.convertShape(VectorOperators.F2I, I, 0))
        .add(add ? IntVector.fromArray(I, acc, out + 4 * ldc) : zero)
        .intoArray(acc, out + 4 * ldc);
    ((IntVector) c41.convertShape(VectorOperators.F2I, I, 0))
        .add(add ? IntVector.fromArray(I, acc, out + 4 * ldc + L) : zero)
        .intoArray(acc, out + 4 * ldc + L);
    ((IntVector) c50.convertShape(VectorOperators.F2I, I, 0))
        .add(add ? IntVector.fromArray(I, acc, out + 5 * ldc) : zero)
        .intoArray(acc, out + 5 * ldc);
    ((IntVector) c51.convertShape(VectorOperators.F2I, I, 0))
        .add(add ? IntVector.fromArray(I, acc, out + 5 * ldc + L) : zero)
        .intoArray(acc, out + 5 * ldc + L);
    ((IntVector) c60.convertShape(VectorOperators.F2I, I, 0))
        .add(add ? IntVector.fromArray(I, acc, out + 6 * ldc) : zero)
        .intoArray(acc, out + 6 * ldc);
    ((IntVector) c61.convertShape(VectorOperators.F2I, I, 0))
        .add(add ? IntVector.fromArray(I, acc, out + 6 * ldc + L) : zero)
        .intoArray(acc, out + 6 * ldc + L);
    ((IntVector) c70.convertShape(VectorOperators.F2I, I, 0))
        .add(add ? IntVector.fromArray(I, acc, out + 7 * ldc) : zero)
        .intoArray(acc, out + 7 * ldc);
    ((IntVector) c71.convertShape(VectorOperators.F2I, I, 0))
        .add(add ? IntVector.fromArray(I, acc, out + 7 * ldc + L) : zero)
        .intoArray(acc, out + 7 * ldc + L);
  }

  // 1 row × 2 vectors.
  private static void tile1(
      float[] a,
      int b0,
      int[] tapOff,
      int t0,
      int t1,
      int ic0,
      int ic1,
      int cin,
      float[] packed,
      int w,
      int[] acc,
      int out,
      boolean add) {
    FloatVector c0 = FloatVector.zero(S);
    FloatVector c1 = FloatVector.zero(S);
    int skip = (cin - (ic1 - ic0)) * NR;
    for (int t = t0; t < t1; t++, w += skip) {
      int i0 = b0 + tapOff[t];
      for (int ic = ic0; ic < ic1; ic++, w += NR) {
        FloatVector x = FloatVector.broadcast(S, a[i0 + ic]);
        c0 = x.fma(FloatVector.fromArray(S, packed, w), c0);
        c1 = x.fma(FloatVector.fromArray(S, packed, w + L), c1);
      }
    }
    IntVector zero = IntVector.zero(I);
    ((IntVector) c0.convertShape(VectorOperators.F2I, I, 0))
        .add(add ? IntVector.fromArray(I, acc, out) : zero)
        .intoArray(acc, out);
    ((IntVector) c1.convertShape(VectorOperators.F2I, I, 0))
        .add(add ? IntVector.fromArray(I, acc, out + L) : zero)
        .intoArray(acc, out + L);
  }
}
