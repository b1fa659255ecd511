package org.tfport.runtime.ops;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/** Ops whose answer is positions: TopKV2, Where, Unique, UniqueWithCounts, InvertPermutation. */
final class IndexOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("TopKV2", IndexOps::topK);
    r.reference("Where", b -> (in, ctx) -> new Value[] {where(in[0])});
    r.reference("Unique", b -> unique(b, false));
    r.reference("UniqueWithCounts", b -> unique(b, true));
    r.reference("InvertPermutation", b -> (in, ctx) -> new Value[] {invertPermutation(in[0])});
  }

  /**
   * Per element a long whose signed order is the elements' numeric order (-0 and +0 equal), so
   * sorting and hashing need one primitive path for every real dtype.
   */
  static long[] orderKeys(Value x) {
    int n = x.size();
    long[] keys = new long[n];
    switch (x.dtype()) {
      case FLOAT32, FLOAT64, FLOAT16, BFLOAT16 -> {
        for (int i = 0; i < n; i++) {
          long bits = Double.doubleToLongBits(x.doubleAt(i) + 0.0);
          keys[i] = bits >= 0 ? bits : bits ^ Long.MAX_VALUE;
        }
      }
      case STRING, COMPLEX64 ->
          throw new KernelException("elements of " + x.dtype().jsName() + " have no order");
      default -> {
        for (int i = 0; i < n; i++) {
          keys[i] = x.longAt(i);
        }
      }
    }
    return keys;
  }

  /**
   * With {@code sorted=false} TensorFlow leaves the order of the k results unspecified; this kernel
   * sorts anyway.
   */
  private static Kernel topK(BindContext b) {
    DType indexType = b.typeAttr("index_type", DType.INT32);
    return (in, ctx) -> {
      Value x = in[0];
      long k = Layout.scalar(in[1], "k");
      if (k < 0) {
        throw new KernelException("Need k >= 0, got " + k);
      }
      if (x.rank() < 1) {
        throw new KernelException("input must be >= 1-D, got shape " + Layout.shape(x.shape()));
      }
      int cols = (int) x.dim(x.rank() - 1);
      if (cols < k) {
        throw new KernelException(
            "input must have at least k columns. Had " + cols + ", needed " + k);
      }
      int kk = (int) k;
      int rows = cols == 0 ? Layout.product(x.shape(), 0, x.rank() - 1) : x.size() / cols;
      long[] keys = orderKeys(x);
      long[] shape = x.shape().clone();
      shape[shape.length - 1] = k;
      int[] from = new int[rows * kk];
      long[] positions = new long[rows * kk];
      int[] order = new int[cols];
      int[] scratch = new int[cols];
      for (int row = 0; row < rows; row++) {
        int base = row * cols;
        for (int j = 0; j < cols; j++) {
          order[j] = j;
        }
        sortDescending(keys, base, order, scratch, 0, cols);
        for (int j = 0; j < kk; j++) {
          from[row * kk + j] = base + order[j];
          positions[row * kk + j] = order[j];
        }
      }
      Value indices =
          indexType == DType.INT64
              ? Value.longs(shape, positions)
              : Value.ints(shape, Arrays.stream(positions).mapToInt(p -> (int) p).toArray());
      return new Value[] {Layout.take(x, shape, from, null), indices};
    };
  }

  /**
   * Stable merge sort of order[lo, hi) by keys[base + order[i]], largest first (ties keep the lower
   * index).
   */
  private static void sortDescending(
      long[] keys, int base, int[] order, int[] scratch, int lo, int hi) {
    if (hi - lo < 2) {
      return;
    }
    int mid = (lo + hi) >>> 1;
    sortDescending(keys, base, order, scratch, lo, mid);
    sortDescending(keys, base, order, scratch, mid, hi);
    int i = lo;
    int j = mid;
    int o = lo;
    while (i < mid && j < hi) {
      scratch[o++] = keys[base + order[j]] > keys[base + order[i]] ? order[j++] : order[i++];
    }
    while (i < mid) {
      scratch[o++] = order[i++];
    }
    while (j < hi) {
      scratch[o++] = order[j++];
    }
    System.arraycopy(scratch, lo, order, lo, hi - lo);
  }

  /** Whether each element is true / non-zero (NaN counts as non-zero). */
  private static boolean[] truth(Value x) {
    int n = x.size();
    boolean[] t = new boolean[n];
    switch (x.data()) {
      case float[] a when x.dtype() == DType.COMPLEX64 -> {
        for (int i = 0; i < n; i++) {
          t[i] = a[2 * i] != 0 || a[2 * i + 1] != 0;
        }
      }
      case float[] a -> {
        for (int i = 0; i < n; i++) {
          t[i] = a[i] != 0;
        }
      }
      case double[] a -> {
        for (int i = 0; i < n; i++) {
          t[i] = a[i] != 0;
        }
      }
      case short[] a when x.dtype() == DType.FLOAT16 || x.dtype() == DType.BFLOAT16 -> {
        for (int i = 0; i < n; i++) {
          t[i] = (a[i] & 0x7fff) != 0;
        }
      }
      case byte[][] a -> throw new KernelException("Where is not defined for string tensors");
      default -> {
        for (int i = 0; i < n; i++) {
          t[i] = x.longAt(i) != 0;
        }
      }
    }
    return t;
  }

  static Value where(Value x) {
    boolean[] t = truth(x);
    int r = x.rank();
    int count = 0;
    for (boolean b : t) {
      count += b ? 1 : 0;
    }
    long[] out = new long[count * r];
    int[] strides = Layout.strides(x.shape());
    int pos = 0;
    for (int i = 0; i < t.length; i++) {
      if (t[i]) {
        for (int d = 0; d < r; d++) {
          out[pos++] = i / strides[d] % x.dim(d);
        }
      }
    }
    return Value.longs(new long[] {count, r}, out);
  }

  private static Kernel unique(BindContext b, boolean counts) {
    DType idxType = b.typeAttr("out_idx", DType.INT32);
    return (in, ctx) -> {
      Value x = in[0];
      if (x.rank() != 1) {
        throw new KernelException(
            "unique expects a 1D vector, got shape " + Layout.shape(x.shape()));
      }
      int n = x.size();
      int[] ids = x.dtype() == DType.STRING ? stringIds(x.strings()) : numericIds(x);
      int distinct = 0;
      for (int id : ids) {
        distinct = Math.max(distinct, id + 1);
      }
      int[] first = new int[distinct];
      long[] count = new long[distinct];
      Arrays.fill(first, -1);
      for (int i = 0; i < n; i++) {
        if (first[ids[i]] < 0) {
          first[ids[i]] = i;
        }
        count[ids[i]]++;
      }
      Value y = Layout.take(x, new long[] {distinct}, first, null);
      long[] idx = new long[n];
      for (int i = 0; i < n; i++) {
        idx[i] = ids[i];
      }
      Value idxValue = indexVector(idx, idxType);
      return counts
          ? new Value[] {y, idxValue, indexVector(count, idxType)}
          : new Value[] {y, idxValue};
    };
  }

  private static Value indexVector(long[] v, DType t) {
    return t == DType.INT64
        ? Value.longs(new long[] {v.length}, v)
        : Value.ints(new long[] {v.length}, Arrays.stream(v).mapToInt(p -> (int) p).toArray());
  }

  /**
   * Dense ids in order of first appearance. Floats compare by value, so -0 and +0 share an id and
   * every NaN gets its own, as with TensorFlow's hash map.
   */
  private static int[] numericIds(Value x) {
    int n = x.size();
    boolean floating = x.dtype().isFloating();
    long[] keys;
    if (x.dtype() == DType.COMPLEX64) {
      throw new KernelException("Unique is not defined for complex64 in tfport");
    }
    keys = orderKeys(x);
    int cap = Integer.highestOneBit(Math.max(4, n * 2)) * 2;
    long[] table = new long[cap];
    int[] slot = new int[cap];
    Arrays.fill(slot, -1);
    int[] ids = new int[n];
    int next = 0;
    for (int i = 0; i < n; i++) {
      if (floating && Double.isNaN(x.doubleAt(i))) {
        ids[i] = next++;
        continue;
      }
      long key = keys[i];
      int h = (int) (key ^ key >>> 32) * 0x9E3779B9 & cap - 1;
      while (slot[h] >= 0 && table[h] != key) {
        h = h + 1 & cap - 1;
      }
      if (slot[h] < 0) {
        table[h] = key;
        slot[h] = next++;
      }
      ids[i] = slot[h];
    }
    return ids;
  }

  private static int[] stringIds(byte[][] s) {
    Map<ByteBuffer, Integer> seen = new HashMap<>();
    int[] ids = new int[s.length];
    for (int i = 0; i < s.length; i++) {
      ids[i] = seen.computeIfAbsent(ByteBuffer.wrap(s[i]), k -> seen.size());
    }
    return ids;
  }

  static Value invertPermutation(Value x) {
    if (x.rank() != 1) {
      throw new KernelException(
          "invert_permutation expects a 1D vector, got shape " + Layout.shape(x.shape()));
    }
    int n = x.size();
    long[] inv = new long[n];
    Arrays.fill(inv, -1);
    for (int i = 0; i < n; i++) {
      long d = x.longAt(i);
      if (d < 0 || d >= n) {
        throw new KernelException("x[" + i + "] = " + d + " is not in [0, " + n + ")");
      }
      if (inv[(int) d] >= 0) {
        throw new KernelException(d + " is duplicated in the input.");
      }
      inv[(int) d] = i;
    }
    return x.dtype() == DType.INT64
        ? Value.longs(x.shape(), inv)
        : Value.ints(x.shape(), Arrays.stream(inv).mapToInt(p -> (int) p).toArray());
  }
}
