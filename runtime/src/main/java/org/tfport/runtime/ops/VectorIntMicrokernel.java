package org.tfport.runtime.ops;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The integer micro-kernels on the Vector API (loaded only when jdk.incubator.vector is present,
 * see {@link FastKernels}): register tiles of 8, 4 or 1 rows by two int vectors of columns, each
 * step a broadcast of one activation times two weight vectors, added into int32 accumulators;
 * depthwise convolution across channels.
 */
final class VectorIntMicrokernel extends IntMicrokernel {
  private static final VectorSpecies<Integer> S = IntVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  private static final int NR = 2 * L;
  // Longs in the same bits: half the int lanes.
  private static final VectorSpecies<Float> F =
      VectorSpecies.of(float.class, VectorShape.forBitSize(S.vectorBitSize()));
  private static final VectorSpecies<Long> W =
      VectorSpecies.of(long.class, VectorShape.forBitSize(S.vectorBitSize()));
  // Bytes as many as the int lanes, widened by one conversion.
  private static final VectorSpecies<Byte> B =
      VectorSpecies.of(byte.class, VectorShape.forBitSize(S.vectorBitSize() / 4));

  @Override
  int mr() {
    return 8;
  }

  @Override
  int nr() {
    return NR;
  }

  @Override
  int lanes() {
    return L;
  }

  @Override
  void block(
      byte[] a,
      int mask,
      int[] base,
      int rows,
      int[] tapOff,
      int taps,
      int cin,
      int[] packed,
      int panels,
      int[] acc,
      int ldc) {
    int panelSize = taps * cin * NR;
    int i = 0;
    for (; i + 8 <= rows; i += 8) {
      for (int p = 0; p < panels; p++) {
        tile8(
            a,
            mask,
            base[i],
            base[i + 1],
            base[i + 2],
            base[i + 3],
            base[i + 4],
            base[i + 5],
            base[i + 6],
            base[i + 7],
            tapOff,
            taps,
            cin,
            packed,
            p * panelSize,
            acc,
            i * ldc + p * NR,
            ldc);
      }
    }
    for (; i + 4 <= rows; i += 4) {
      for (int p = 0; p < panels; p++) {
        tile4(
            a,
            mask,
            base[i],
            base[i + 1],
            base[i + 2],
            base[i + 3],
            tapOff,
            taps,
            cin,
            packed,
            p * panelSize,
            acc,
            i * ldc + p * NR,
            ldc);
      }
    }
    for (; i < rows; i++) {
      for (int p = 0; p < panels; p++) {
        tile1(a, mask, base[i], tapOff, taps, cin, packed, p * panelSize, acc, i * ldc + p * NR);
      }
    }
  }

  @Override
  void depthwise(
      byte[] x,
      int mask,
      int xOff,
      int xStep,
      int[] xTap,
      int[] fTap,
      int taps,
      int[] f,
      int[] acc,
      int pixels,
      int channels) {
    boolean unsigned = mask == 0xff;
    for (int q = 0; q < pixels; q++) {
      int xq = xOff + q * xStep;
      int out = q * channels;
      for (int ch = 0; ch < channels; ch += L) {
        // The last vector of a pixel reads past its channels (into the next pixel, or the slack
        // the caller leaves after x and f) and stores into the next pixel's accumulators (or
        // acc's slack), which that pixel then overwrites. Masked loads were slower here.
        IntVector s = IntVector.zero(S);
        for (int t = 0; t < taps; t++) {
          // The conversion operator must be a constant for the JIT: one branch per signedness.
          ByteVector b = ByteVector.fromArray(B, x, xq + xTap[t] + ch);
          IntVector v =
              (IntVector)
                  (unsigned
                      ? b.convertShape(VectorOperators.ZERO_EXTEND_B2I, S, 0)
                      : b.convertShape(VectorOperators.B2I, S, 0));
          s = s.add(v.mul(IntVector.fromArray(S, f, fTap[t] + ch)));
        }
        s.intoArray(acc, out + ch);
      }
    }
  }

  /**
   * {@link Requantizer#row} on L channels at a time: {@link Requantizer.FloatForm} where it is
   * provably exact, else the long arithmetic ({@link #exact}). The last vector of a row reads past
   * it (the callers leave slack after acc and bias, {@link Requantizer}'s arrays are padded) and
   * stores only the row's lanes.
   */
  @Override
  void requantize(
      Requantizer rq, int channels, int[] acc, int accOff, int[] bias, byte[] y, int yOff) {
    requantize(rq, channels, 1, acc, accOff, 0, bias, y, yOff);
  }

  @Override
  void requantizeRows(
      Requantizer rq,
      int rows,
      int[] acc,
      int accOff,
      int accStride,
      int[] bias,
      byte[] y,
      int yOff) {
    requantize(rq, rq.channels(), rows, acc, accOff, accStride, bias, y, yOff);
  }

  /**
   * Rows of {@code n} channels. A row's last partial vector is stored whole when the lanes past it
   * belong to rows of the call, which then overwrite them.
   */
  private static void requantize(
      Requantizer rq,
      int n,
      int rows,
      int[] acc,
      int accOff,
      int accStride,
      int[] bias,
      byte[] y,
      int yOff) {
    Requantizer.FloatForm form = rq.floatForm();
    int end = yOff + rows * n;
    for (int row = 0; row < rows; row++) {
      int a0 = accOff + row * accStride;
      int y0 = yOff + row * n;
      for (int ch = 0; ch < n; ch += L) {
        if (form == null) {
          IntVector v = IntVector.fromArray(S, acc, a0 + ch).add(IntVector.fromArray(S, bias, ch));
          store(exact(rq, shifted(rq, v, ch), ch), y, y0 + ch, n - ch, end);
          continue;
        }
        long risky = floatForm(rq, form, acc, a0, bias, ch, y, y0, n, end);
        if (risky != 0) {
          exactLanes(rq, risky, acc, a0, bias, ch, y, y0, n);
        }
      }
    }
  }

  private static IntVector shifted(Requantizer rq, IntVector v, int ch) {
    return rq.anyLeft()
        ? v.lanewise(VectorOperators.LSHL, IntVector.fromArray(S, rq.left(), ch))
        : v;
  }

  /**
   * Stores the codes' bytes at y[at..]: all L when they stay before {@code end} or inside the row
   * ({@code left} ≥ L channels left in it), else only the row's {@code left}.
   */
  private static void store(IntVector r, byte[] y, int at, int left, int end) {
    ByteVector out = r.convertShape(VectorOperators.I2B, B, 0).reinterpretAsBytes();
    if (left >= L || at + L <= end) {
      out.intoArray(y, at);
    } else {
      // The lanes past the call's rows belong to the next row, perhaps another thread's, so
      // only the row's are copied. A masked store did the same but ran C2's slow path
      // (Byte128Mask.firstTrue was the second-hottest frame of MobileNet V2 uint8).
      byte[] tail = new byte[L];
      out.intoArray(tail, 0);
      System.arraycopy(tail, 0, y, at, left);
    }
  }

  /**
   * {@link Requantizer.FloatForm} on channels ch..ch + L − 1 of the row of n channels at acc[a0..]
   * (bias added here), stored at y[y0 + ch..] as {@link #store} does; returns the lanes (bit i for
   * channel ch + i) whose float result was too close to a rounding point to be trusted, which the
   * caller recomputes exactly.
   */
  static long floatForm(
      Requantizer rq,
      Requantizer.FloatForm form,
      int[] acc,
      int a0,
      int[] bias,
      int ch,
      byte[] y,
      int y0,
      int n,
      int end) {
    // No vector crosses a call here (shifted and store are written out): when C2 compiles this
    // from a profile taken while the compile queue was long (tier 2 code keeps no call counts), it
    // judged their call sites cold and did not inline them, and the boxed vectors and the fallback
    // they run made MobileNet V2 uint8 3x slower in some JVMs.
    IntVector v = IntVector.fromArray(S, acc, a0 + ch).add(IntVector.fromArray(S, bias, ch));
    if (rq.anyLeft()) {
      v = v.lanewise(VectorOperators.LSHL, IntVector.fromArray(S, rq.left(), ch));
    }
    FloatVector offset =
        FloatVector.fromArray(F, form.offsetPositive(), ch)
            .blend(
                FloatVector.fromArray(F, form.offsetNegative(), ch),
                v.compare(VectorOperators.LT, 0).cast(F));
    FloatVector s =
        ((FloatVector) v.convert(VectorOperators.I2F, 0))
            .fma(FloatVector.fromArray(F, form.scale(), ch), offset)
            .max(Requantizer.FloatForm.BOTTOM)
            .min(form.top());
    IntVector i = (IntVector) s.convert(VectorOperators.F2I, 0);
    ByteVector out =
        i.lanewise(VectorOperators.ASHR, Requantizer.FloatForm.BITS)
            .add(rq.lo())
            .convertShape(VectorOperators.I2B, B, 0)
            .reinterpretAsBytes();
    int at = y0 + ch;
    if (n - ch >= L || at + L <= end) {
      out.intoArray(y, at);
    } else {
      byte[] tail = new byte[L];
      out.intoArray(tail, 0);
      System.arraycopy(tail, 0, y, at, n - ch);
    }
    return i.and((1 << Requantizer.FloatForm.BITS) - 1).compare(VectorOperators.LT, 2).toLong();
  }

  // The lanes of channels ch.. flagged in `risky` (within the row) by TFLite's arithmetic.
  private static void exactLanes(
      Requantizer rq, long risky, int[] acc, int a0, int[] bias, int ch, byte[] y, int y0, int n) {
    for (long bits = risky; bits != 0; bits &= bits - 1) {
      int c = ch + Long.numberOfTrailingZeros(bits);
      if (c < n) {
        rq.rowFrom(c, c + 1, acc, a0, bias, y, y0);
      }
    }
  }

  /**
   * {@link Requantizer#row} on L channels in two long vectors: the 32×32-bit product p, TFLite's
   * doubling high multiply as (p + 2^30) >> 31, its rounding right shift by e as (h + 2^(e−1) − 1 +
   * [h ≥ 0]) >> e (no term when e = 0), the zero point, the clamp. Both are TFLite's roundings
   * exactly: for p &lt; 0 its nudge 1 − 2^30 and division truncating toward zero give ceil((p + 1 −
   * 2^30) / 2^31) = floor((p + 2^30) / 2^31), the same as for p ≥ 0; its remainder test rounds
   * halves away from zero, which the [h ≥ 0] term does. In longs nothing overflows. The saturating
   * case of the high multiply (both factors −2^31) cannot occur: the significand is never negative.
   */
  static IntVector exact(Requantizer rq, IntVector v, int ch) {
    long[] q = rq.wideSignificand();
    long[] e = rq.wideRight();
    long[] half = rq.wideHalf();
    long[] unit = rq.wideUnit();
    IntVector r0 =
        multiply((LongVector) v.convertShape(VectorOperators.I2L, W, 0), ch, q, e, half, unit)
            .convertShape(VectorOperators.L2I, S, 0)
            .reinterpretAsInts();
    IntVector r1 =
        multiply(
                (LongVector) v.convertShape(VectorOperators.I2L, W, 1),
                ch + L / 2,
                q,
                e,
                half,
                unit)
            .convertShape(VectorOperators.L2I, S, -1)
            .reinterpretAsInts();
    return r0.or(r1).add(rq.zeroPoint()).max(rq.lo()).min(rq.hi());
  }

  // The fixed-point multiply of channels ch.. on x widened to long (see exact).
  private static LongVector multiply(
      LongVector x, int ch, long[] q, long[] e, long[] half, long[] unit) {
    // Shifts by a vector of counts: C2 failed to intrinsify the long shift by a scalar count.
    LongVector h =
        x.mul(LongVector.fromArray(W, q, ch))
            .add(1L << 30)
            .lanewise(VectorOperators.ASHR, LongVector.broadcast(W, 31));
    return h.add(LongVector.fromArray(W, half, ch))
        .add(LongVector.fromArray(W, unit, ch), h.compare(VectorOperators.GE, 0))
        .lanewise(VectorOperators.ASHR, LongVector.fromArray(W, e, ch));
  }

  // 8 rows × 2 vectors: 16 accumulators, the two weight vectors of a step shared by every row.
  private static void tile8(
      byte[] a,
      int mask,
      int b0,
      int b1,
      int b2,
      int b3,
      int b4,
      int b5,
      int b6,
      int b7,
      int[] tapOff,
      int taps,
      int cin,
      int[] packed,
      int w,
      int[] acc,
      int out,
      int ldc) {
    IntVector c00 = IntVector.zero(S);
    IntVector c01 = IntVector.zero(S);
    IntVector c10 = IntVector.zero(S);
    IntVector c11 = IntVector.zero(S);
    IntVector c20 = IntVector.zero(S);
    IntVector c21 = IntVector.zero(S);
    IntVector c30 = IntVector.zero(S);
    IntVector c31 = IntVector.zero(S);
    IntVector c40 = IntVector.zero(S);
    IntVector c41 = IntVector.zero(S);
    IntVector c50 = IntVector.zero(S);
    IntVector c51 = IntVector.zero(S);
    IntVector c60 = IntVector.zero(S);
    IntVector c61 = IntVector.zero(S);
    IntVector c70 = IntVector.zero(S);
    IntVector c71 = IntVector.zero(S);
    for (int t = 0; t < taps; t++) {
      int o = tapOff[t];
      int i0 = b0 + o;
      int i1 = b1 + o;
      int i2 = b2 + o;
      int i3 = b3 + o;
      int i4 = b4 + o;
      int i5 = b5 + o;
      int i6 = b6 + o;
      int i7 = b7 + o;
      for (int ic = 0; ic < cin; ic++, w += NR) {
        IntVector w0 = IntVector.fromArray(S, packed, w);
        IntVector w1 = IntVector.fromArray(S, packed, w + L);
        IntVector x0 = IntVector.broadcast(S, a[i0 + ic] & mask);
        c00 = c00.add(x0.mul(w0));
        c01 = c01.add(x0.mul(w1));
        IntVector x1 = IntVector.broadcast(S, a[i1 + ic] & mask);
        c10 = c10.add(x1.mul(w0));
        c11 = c11.add(x1.mul(w1));
        IntVector x2 = IntVector.broadcast(S, a[i2 + ic] & mask);
        c20 = c20.add(x2.mul(w0));
        c21 = c21.add(x2.mul(w1));
        IntVector x3 = IntVector.broadcast(S, a[i3 + ic] & mask);
        c30 = c30.add(x3.mul(w0));
        c31 = c31.add(x3.mul(w1));
        IntVector x4 = IntVector.broadcast(S, a[i4 + ic] & mask);
        c40 = c40.add(x4.mul(w0));
        c41 = c41.add(x4.mul(w1));
        IntVector x5 = IntVector.broadcast(S, a[i5 + ic] & mask);
        c50 = c50.add(x5.mul(w0));
        c51 = c51.add(x5.mul(w1));
        IntVector x6 = IntVector.broadcast(S, a[i6 + ic] & mask);
        c60 = c60.add(x6.mul(w0));
        c61 = c61.add(x6.mul(w1));
        IntVector x7 = IntVector.broadcast(S, a[i7 + ic] & mask);
        c70 = c70.add(x7.mul(w0));
        c71 = c71.add(x7.mul(w1));
      }
    }
    c00.intoArray(acc, out);
    c01.intoArray(acc, out + L);
    c10.intoArray(acc, out + ldc);
    c11.intoArray(acc, out + ldc + L);
    c20.intoArray(acc, out + 2 * ldc);
    c21.intoArray(acc, out + 2 * ldc + L);
    c30.intoArray(acc, out + 3 * ldc);
    c31.intoArray(acc, out + 3 * ldc + L);
    c40.intoArray(acc, out + 4 * ldc);
    c41.intoArray(acc, out + 4 * ldc + L);
    c50.intoArray(acc, out + 5 * ldc);
    c51.intoArray(acc, out + 5 * ldc + L);
    c60.intoArray(acc, out + 6 * ldc);
    c61.intoArray(acc, out + 6 * ldc + L);
    c70.intoArray(acc, out + 7 * ldc);
    c71.intoArray(acc, out + 7 * ldc + L);
  }

  // 4 rows × 2 vectors: 8 accumulators, the two weight vectors of a step shared by every row.
  private static void tile4(
      byte[] a,
      int mask,
      int b0,
      int b1,
      int b2,
      int b3,
      int[] tapOff,
      int taps,
      int cin,
      int[] packed,
      int w,
      int[] acc,
      int out,
      int ldc) {
    IntVector c00 = IntVector.zero(S);
    IntVector c01 = IntVector.zero(S);
    IntVector c10 = IntVector.zero(S);
    IntVector c11 = IntVector.zero(S);
    IntVector c20 = IntVector.zero(S);
    IntVector c21 = IntVector.zero(S);
    IntVector c30 = IntVector.zero(S);
    IntVector c31 = IntVector.zero(S);
    for (int t = 0; t < taps; t++) {
      int o = tapOff[t];
      int i0 = b0 + o;
      int i1 = b1 + o;
      int i2 = b2 + o;
      int i3 = b3 + o;
      for (int ic = 0; ic < cin; ic++, w += NR) {
        IntVector w0 = IntVector.fromArray(S, packed, w);
        IntVector w1 = IntVector.fromArray(S, packed, w + L);
        IntVector x0 = IntVector.broadcast(S, a[i0 + ic] & mask);
        c00 = c00.add(x0.mul(w0));
        c01 = c01.add(x0.mul(w1));
        IntVector x1 = IntVector.broadcast(S, a[i1 + ic] & mask);
        c10 = c10.add(x1.mul(w0));
        c11 = c11.add(x1.mul(w1));
        IntVector x2 = IntVector.broadcast(S, a[i2 + ic] & mask);
        c20 = c20.add(x2.mul(w0));
        c21 = c21.add(x2.mul(w1));
        IntVector x3 = IntVector.broadcast(S, a[i3 + ic] & mask);
        c30 = c30.add(x3.mul(w0));
        c31 = c31.add(x3.mul(w1));
      }
    }
    c00.intoArray(acc, out);
    c01.intoArray(acc, out + L);
    c10.intoArray(acc, out + ldc);
    c11.intoArray(acc, out + ldc + L);
    c20.intoArray(acc, out + 2 * ldc);
    c21.intoArray(acc, out + 2 * ldc + L);
    c30.intoArray(acc, out + 3 * ldc);
    c31.intoArray(acc, out + 3 * ldc + L);
  }

  // 1 row × 2 vectors: 2 accumulators, the two weight vectors of a step shared by every row.
  private static void tile1(
      byte[] a,
      int mask,
      int b0,
      int[] tapOff,
      int taps,
      int cin,
      int[] packed,
      int w,
      int[] acc,
      int out) {
    IntVector c00 = IntVector.zero(S);
    IntVector c01 = IntVector.zero(S);
    for (int t = 0; t < taps; t++) {
      int o = tapOff[t];
      int i0 = b0 + o;
      for (int ic = 0; ic < cin; ic++, w += NR) {
        IntVector w0 = IntVector.fromArray(S, packed, w);
        IntVector w1 = IntVector.fromArray(S, packed, w + L);
        IntVector x0 = IntVector.broadcast(S, a[i0 + ic] & mask);
        c00 = c00.add(x0.mul(w0));
        c01 = c01.add(x0.mul(w1));
      }
    }
    c00.intoArray(acc, out);
    c01.intoArray(acc, out + L);
  }
}
