package org.tfport.runtime.ops;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link VectorIntMicrokernel}'s tiles for panels one vector wide ({@link
 * IntMicrokernel#narrowNr()}): 8 rows or 1 row by one int vector of columns, each step one weight
 * vector times the rows' broadcast codes, added into int32 accumulators.
 */
final class VectorIntNarrowTiles {
  private static final VectorSpecies<Integer> S = IntVector.SPECIES_PREFERRED;
  private static final int L = S.length();

  private VectorIntNarrowTiles() {}

  /** {@link IntMicrokernel#blockNarrow} on panels of one int vector. */
  static void block(
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
    int panelSize = taps * cin * L;
    int i = 0;
    for (; i + 8 <= rows; i += 8) {
      for (int p = 0; p < panels; p++) {
        narrow8(
            a, mask, base, i, tapOff, taps, cin, packed, p * panelSize, acc, i * ldc + p * L, ldc);
      }
    }
    for (; i < rows; i++) {
      for (int p = 0; p < panels; p++) {
        narrow1(a, mask, base[i], tapOff, taps, cin, packed, p * panelSize, acc, i * ldc + p * L);
      }
    }
  }

  // 8 rows × 1 vector: the weight vector of a step shared by every row.
  private static void narrow8(
      byte[] a,
      int mask,
      int[] base,
      int i,
      int[] tapOff,
      int taps,
      int cin,
      int[] packed,
      int w,
      int[] acc,
      int out,
      int ldc) {
    IntVector c0 = IntVector.zero(S);
    IntVector c1 = IntVector.zero(S);
    IntVector c2 = IntVector.zero(S);
    IntVector c3 = IntVector.zero(S);
    IntVector c4 = IntVector.zero(S);
    IntVector c5 = IntVector.zero(S);
    IntVector c6 = IntVector.zero(S);
    IntVector c7 = IntVector.zero(S);
    for (int t = 0; t < taps; t++) {
      int o = tapOff[t];
      int i0 = base[i] + o;
      int i1 = base[i + 1] + o;
      int i2 = base[i + 2] + o;
      int i3 = base[i + 3] + o;
      int i4 = base[i + 4] + o;
      int i5 = base[i + 5] + o;
      int i6 = base[i + 6] + o;
      int i7 = base[i + 7] + o;
      for (int ic = 0; ic < cin; ic++, w += L) {
        IntVector wv = IntVector.fromArray(S, packed, w);
        c0 = c0.add(wv.mul(a[i0 + ic] & mask));
        c1 = c1.add(wv.mul(a[i1 + ic] & mask));
        c2 = c2.add(wv.mul(a[i2 + ic] & mask));
        c3 = c3.add(wv.mul(a[i3 + ic] & mask));
        c4 = c4.add(wv.mul(a[i4 + ic] & mask));
        c5 = c5.add(wv.mul(a[i5 + ic] & mask));
        c6 = c6.add(wv.mul(a[i6 + ic] & mask));
        c7 = c7.add(wv.mul(a[i7 + ic] & mask));
      }
    }
    c0.intoArray(acc, out);
    c1.intoArray(acc, out + ldc);
    c2.intoArray(acc, out + 2 * ldc);
    c3.intoArray(acc, out + 3 * ldc);
    c4.intoArray(acc, out + 4 * ldc);
    c5.intoArray(acc, out + 5 * ldc);
    c6.intoArray(acc, out + 6 * ldc);
    c7.intoArray(acc, out + 7 * ldc);
  }

  // 1 row × 1 vector.
  private static void narrow1(
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
    IntVector c = IntVector.zero(S);
    for (int t = 0; t < taps; t++) {
      int i0 = b0 + tapOff[t];
      for (int ic = 0; ic < cin; ic++, w += L) {
        c = c.add(IntVector.fromArray(S, packed, w).mul(a[i0 + ic] & mask));
      }
    }
    c.intoArray(acc, out);
  }
}
