package org.tfport.core.graph;

import java.util.ArrayList;
import java.util.List;

/**
 * TensorFlow's {@code ValidateStridedSliceOp}: a strided slice's sparse spec (with ellipsis, new
 * axes and shrunk axes) made dense over the input's axes, with canonical begin and stride per axis,
 * the shape the slice is taken in and the shape it is reshaped to. An unknown input dimension (-1,
 * for shape inference) stays unknown unless the slice shrinks it away.
 */
public record StridedSliceSpec(
    long[] begin, long[] strides, long[] processingShape, long[] finalShape) {
  private static final int NEW_AXIS = -1;
  private static final int SHRINK = -2;

  /**
   * The spec of node {@code n}'s masks ({@code begin_mask}, ...; absent means 0), or null when
   * invalid.
   */
  public static StridedSliceSpec of(Node n, long[] in, long[] begin, long[] end, long[] strides) {
    try {
      return validate(n, in, begin, end, strides);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * Like {@link #of}, but an invalid slice throws IllegalArgumentException saying why in
   * TensorFlow's terms (the runtime's kernel reports it).
   */
  public static StridedSliceSpec validate(
      Node n, long[] in, long[] begin, long[] end, long[] strides) {
    int k = begin.length;
    if (end.length != k || strides.length != k) {
      throw new IllegalArgumentException(
          "begin, end and strides must have the same length, got "
              + k
              + ", "
              + end.length
              + " and "
              + strides.length);
    }
    if (k > 31) {
      throw new IllegalArgumentException("a strided slice has at most 31 indices, got " + k);
    }
    long beginMask = intAttr(n, "begin_mask", 0);
    long endMask = intAttr(n, "end_mask", 0);
    long ellipsisMask = intAttr(n, "ellipsis_mask", 0);
    long newAxisMask = intAttr(n, "new_axis_mask", 0);
    long shrinkMask = intAttr(n, "shrink_axis_mask", 0);
    if (Long.bitCount(ellipsisMask) > 1) {
      throw new IllegalArgumentException("Multiple ellipses in slice spec not allowed");
    }
    int addAfterEllipsis = 0;
    boolean seen = false;
    for (int i = 0; i < k; i++) {
      if (seen && (newAxisMask & (1L << i)) != 0) {
        addAfterEllipsis++;
      }
      if ((ellipsisMask & (1L << i)) != 0) {
        seen = true;
      }
    }
    int sparseDims = k;
    if ((ellipsisMask & ((1L << k) - 1)) == 0) {
      ellipsisMask |= 1L << k;
      sparseDims++;
    }
    int r = in.length;
    long[] db = new long[r];
    long[] de = new long[r];
    long[] ds = new long[r];
    boolean[] bm = new boolean[r];
    boolean[] em = new boolean[r];
    boolean[] sh = new boolean[r];
    List<Integer> gather = new ArrayList<>();
    int full = 0;
    for (int i = 0; i < sparseDims; i++) {
      if ((ellipsisMask & (1L << i)) != 0) {
        int next = Math.min(r - (sparseDims - i) + 1 + addAfterEllipsis, r);
        for (; full < next; full++) {
          ds[full] = 1;
          bm[full] = true;
          em[full] = true;
          gather.add(full);
        }
      } else if ((newAxisMask & (1L << i)) != 0) {
        gather.add(NEW_AXIS);
      } else {
        if (full >= r) {
          throw new IllegalArgumentException(
              "Index out of range using input dim " + full + "; input has only " + r + " dims");
        }
        db[full] = begin[i];
        de[full] = end[i];
        ds[full] = strides[i];
        bm[full] = (beginMask & (1L << i)) != 0;
        em[full] = (endMask & (1L << i)) != 0;
        if ((shrinkMask & (1L << i)) != 0) {
          sh[full] = true;
          gather.add(SHRINK);
        } else {
          gather.add(full);
        }
        full++;
      }
    }
    long[] proc = new long[r];
    for (int i = 0; i < r; i++) {
      long dim = in[i];
      long st = ds[i];
      if (st == 0) {
        throw new IllegalArgumentException("strides[" + i + "] must be non-zero");
      }
      if (sh[i] && st < 0) {
        throw new IllegalArgumentException(
            "only stride 1 allowed on non-range indexing (axis "
                + i
                + " is shrunk "
                + "with stride "
                + st
                + ")");
      }
      if (dim < 0) {
        // Shape inference only: an unknown dimension stays unknown unless the slice shrinks it
        // away.
        proc[i] = sh[i] ? 1 : -1;
        continue;
      }
      if (sh[i]) {
        long x = db[i] < 0 ? dim + db[i] : db[i];
        if (x < 0 || x >= dim) {
          throw new IllegalArgumentException(
              "slice index " + db[i] + " of dimension " + i + " out of bounds");
        }
        db[i] = x;
        de[i] = x + 1;
      } else {
        long lo = st > 0 ? 0 : -1;
        long hi = st > 0 ? dim : dim - 1;
        db[i] = canonical(db[i], bm[i], st > 0 ? lo : hi, lo, hi, dim);
        de[i] = canonical(de[i], em[i], st > 0 ? hi : lo, lo, hi, dim);
      }
      long len = de[i] - db[i];
      proc[i] = len == 0 || (len < 0) != (st < 0) ? 0 : len / st + (len % st != 0 ? 1 : 0);
    }
    List<Long> fin = new ArrayList<>();
    for (int gi : gather) {
      if (gi >= 0) {
        fin.add(proc[gi]);
      } else if (gi == NEW_AXIS) {
        fin.add(1L);
      }
    }
    return new StridedSliceSpec(db, ds, proc, fin.stream().mapToLong(Long::longValue).toArray());
  }

  private static long canonical(
      long x, boolean masked, long maskedValue, long lo, long hi, long dim) {
    if (masked) {
      return maskedValue;
    }
    long fwd = x < 0 ? dim + x : x;
    return fwd < lo ? lo : Math.min(fwd, hi);
  }

  private static long intAttr(Node n, String key, long otherwise) {
    return n.attr(key) instanceof AttrValue.Int i ? i.value() : otherwise;
  }
}
