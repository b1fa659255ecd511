package org.tfport.runtime.ops;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * Set-like and counting ops: ListDiff, UniqueV2 (unique slices along an axis),
 * LowerBound/UpperBound (sorted search per row), Bincount and DenseBincount.
 */
final class SetOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("ListDiff", SetOps::listDiff);
    r.reference("UniqueV2", SetOps::uniqueV2);
    r.reference("LowerBound", b -> bound(b, false));
    r.reference("UpperBound", b -> bound(b, true));
    r.reference("Bincount", SetOps::bincount);
    r.reference("DenseBincount", SetOps::denseBincount);
  }

  private static Value indexVector(long[] v, DType t) {
    return t == DType.INT64
        ? Value.longs(new long[] {v.length}, v)
        : Value.ints(new long[] {v.length}, Arrays.stream(v).mapToInt(p -> (int) p).toArray());
  }

  /**
   * Hashable per-element keys: value bits with -0 folded into +0 and each NaN distinct, as ==
   * compares.
   */
  private static Object[] keys(Value x) {
    int n = x.size();
    Object[] k = new Object[n];
    if (x.dtype() == DType.STRING) {
      for (int i = 0; i < n; i++) {
        k[i] = ByteBuffer.wrap(x.strings()[i]);
      }
      return k;
    }
    long[] order = IndexOps.orderKeys(x);
    boolean floating = x.dtype().isFloating();
    for (int i = 0; i < n; i++) {
      k[i] = floating && Double.isNaN(x.doubleAt(i)) ? new Object() : (Object) order[i];
    }
    return k;
  }

  private static Kernel listDiff(BindContext b) {
    DType idxType = b.typeAttr("out_idx", DType.INT32);
    return (in, ctx) -> {
      Value x = in[0];
      Value y = in[1];
      if (x.rank() != 1 || y.rank() != 1) {
        throw new KernelException("x and y must be vectors, got " + x + " and " + y);
      }
      if (x.dtype() != y.dtype()) {
        throw new KernelException("x and y must have one dtype, got " + x + " and " + y);
      }
      Set<Object> drop = new HashSet<>(Arrays.asList(keys(y)));
      Object[] xk = keys(x);
      int[] keep = new int[xk.length];
      int n = 0;
      for (int i = 0; i < xk.length; i++) {
        if (!drop.contains(xk[i])) {
          keep[n++] = i;
        }
      }
      keep = Arrays.copyOf(keep, n);
      return new Value[] {
        Layout.take(x, new long[] {n}, keep, null),
        indexVector(Arrays.stream(keep).asLongStream().toArray(), idxType)
      };
    };
  }

  /** Unique slices along {@code axis}, in order of first appearance, with each slice's id. */
  private static Kernel uniqueV2(BindContext b) {
    DType idxType = b.typeAttr("out_idx", DType.INT32);
    return (in, ctx) -> {
      Value x = in[0];
      long[] axes = in[1].toLongArray();
      if (axes.length > 1) {
        throw new KernelException(
            "axis expects a 1D vector with 1 element: " + Layout.shape(in[1].shape()));
      }
      if (axes.length == 0 && x.rank() != 1) {
        throw new KernelException(
            "unique expects a 1D vector, got shape " + Layout.shape(x.shape()));
      }
      int axis = axes.length == 0 ? 0 : Layout.axis(axes[0], x.rank(), "axis");
      int outer = Layout.product(x.shape(), 0, axis);
      int count = (int) x.dim(axis);
      int inner = Layout.product(x.shape(), axis + 1, x.rank());
      Object[] k = keys(x);
      Map<java.util.List<Object>, Integer> seen = new HashMap<>();
      long[] ids = new long[count];
      int[] firstOf = new int[count];
      for (int j = 0; j < count; j++) {
        Object[] slice = new Object[outer * inner];
        for (int o = 0; o < outer; o++) {
          System.arraycopy(k, (o * count + j) * inner, slice, o * inner, inner);
        }
        java.util.List<Object> key = Arrays.asList(slice);
        Integer id = seen.get(key);
        if (id == null) {
          id = seen.size();
          seen.put(key, id);
          firstOf[id] = j;
        }
        ids[j] = id;
      }
      int distinct = seen.size();
      long[] shape = x.shape().clone();
      shape[axis] = distinct;
      int[] from = new int[outer * distinct * inner];
      int p = 0;
      for (int o = 0; o < outer; o++) {
        for (int d = 0; d < distinct; d++) {
          for (int i = 0; i < inner; i++) {
            from[p++] = (o * count + firstOf[d]) * inner + i;
          }
        }
      }
      return new Value[] {Layout.take(x, shape, from, null), indexVector(ids, idxType)};
    };
  }

  /**
   * Per row, the first position in the sorted row whose element is ≥ (lower) or > (upper) the
   * value.
   */
  private static Kernel bound(BindContext b, boolean upper) {
    DType outType = b.typeAttr("out_type", DType.INT32);
    return (in, ctx) -> {
      Value sorted = in[0];
      Value values = in[1];
      if (sorted.rank() != 2 || values.rank() != 2 || sorted.dim(0) != values.dim(0)) {
        throw new KernelException(
            "sorted_inputs and values must be matrices with the same number of rows, got "
                + sorted
                + " and "
                + values);
      }
      if (sorted.dtype() != values.dtype()) {
        throw new KernelException(
            "sorted_inputs and values must have one dtype, got " + sorted + " and " + values);
      }
      int rows = (int) sorted.dim(0);
      int n = (int) sorted.dim(1);
      int m = (int) values.dim(1);
      long[] s = IndexOps.orderKeys(sorted);
      long[] v = IndexOps.orderKeys(values);
      boolean floating = sorted.dtype().isFloating();
      long[] out = new long[rows * m];
      for (int r = 0; r < rows; r++) {
        for (int j = 0; j < m; j++) {
          int q = r * m + j;
          boolean nan = floating && Double.isNaN(values.doubleAt(q));
          int lo = 0;
          int hi = n;
          while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            int at = r * n + mid;
            // NaN compares false both ways: lower_bound's "elem < value" and upper_bound's "!(value
            // < elem)".
            boolean before =
                floating && (nan || Double.isNaN(sorted.doubleAt(at)))
                    ? upper
                    : upper ? s[at] <= v[q] : s[at] < v[q];
            if (before) {
              lo = mid + 1;
            } else {
              hi = mid;
            }
          }
          out[q] = lo;
        }
      }
      if (outType == DType.INT64) {
        return new Value[] {Value.longs(values.shape(), out)};
      }
      return new Value[] {
        Value.ints(values.shape(), Arrays.stream(out).mapToInt(p -> (int) p).toArray())
      };
    };
  }

  private static Kernel bincount(BindContext b) {
    DType t = b.typeAttr("T");
    return (in, ctx) -> {
      Value arr = in[0];
      long size = Layout.scalar(in[1], "size");
      if (size < 0) {
        throw new KernelException("size (" + size + ") must be non-negative");
      }
      Value weights = in[2];
      if (weights.size() != 0 && !Arrays.equals(weights.shape(), arr.shape())) {
        throw new KernelException(
            "weights must be the same shape as arr or a length-0 Tensor: "
                + Layout.shape(weights.shape())
                + " vs "
                + Layout.shape(arr.shape()));
      }
      return new Value[] {
        counts(arr, weights, t, 1, (int) size, false).reshaped(new long[] {size})
      };
    };
  }

  private static Kernel denseBincount(BindContext b) {
    DType t = b.typeAttr("T");
    boolean binary = b.boolAttr("binary_output", false);
    return (in, ctx) -> {
      Value input = in[0];
      long size = Layout.scalar(in[1], "size");
      if (size < 0) {
        throw new KernelException("size (" + size + ") must be non-negative");
      }
      Value weights = in[2];
      if (input.rank() > 2) {
        throw new KernelException("Shape must be at most rank 2 but is rank " + input.rank());
      }
      if (weights.size() != 0 && !Arrays.equals(weights.shape(), input.shape())) {
        throw new KernelException(
            "Input indices and weights must have the same shape: "
                + Layout.shape(input.shape())
                + " vs "
                + Layout.shape(weights.shape()));
      }
      int rows = input.rank() == 2 ? (int) input.dim(0) : 1;
      Value out = counts(input, weights, t, rows, (int) size, binary);
      return new Value[] {input.rank() == 2 ? out : out.reshaped(new long[] {size})};
    };
  }

  /**
   * Per row, out[row][v] sums the weights (or counts) of the row's elements equal to v; v ≥ size is
   * dropped.
   */
  private static Value counts(
      Value arr, Value weights, DType t, int rows, int size, boolean binary) {
    int n = arr.size();
    int perRow = rows == 0 ? 0 : n / rows;
    double[] acc = new double[rows * size];
    long[] iacc = new long[rows * size];
    // float32 weights sum in float32, in element order, as TensorFlow's CPU kernel does.
    float[] facc = new float[rows * size];
    boolean weighted = weights.size() != 0;
    for (int i = 0; i < n; i++) {
      long v = arr.longAt(i);
      if (v < 0) {
        throw new KernelException("Input arr must be non-negative!");
      }
      if (v >= size) {
        continue;
      }
      int at = (i / perRow) * size + (int) v;
      if (binary) {
        acc[at] = 1;
        iacc[at] = 1;
        facc[at] = 1;
      } else if (weighted) {
        if (t == DType.INT32 || t == DType.INT64) {
          iacc[at] += weights.longAt(i);
        } else if (t == DType.FLOAT32) {
          facc[at] += weights.floats()[i];
        } else {
          acc[at] += weights.doubleAt(i);
        }
      } else {
        acc[at] += 1;
        iacc[at] += 1;
        facc[at] += 1;
      }
    }
    long[] shape = {rows, size};
    return switch (t) {
      case INT32 -> Value.ints(shape, Arrays.stream(iacc).mapToInt(x -> (int) x).toArray());
      case INT64 -> Value.longs(shape, iacc);
      case FLOAT64 -> Value.doubles(shape, acc);
      case FLOAT32 -> Value.floats(shape, facc);
      default ->
          throw new KernelException(
              "bincount computes int32, int64, float32 or float64, not " + t.jsName());
    };
  }
}
