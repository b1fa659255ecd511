package org.tfport.runtime.ops;

import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * Sparse helpers of embedding and feature-column graphs: SparseSegmentSum/Mean, SparseReshape and
 * SparseFillEmptyRows.
 */
final class SparseOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("SparseSegmentSum", b -> segment(b, false));
    r.reference("SparseSegmentMean", b -> segment(b, true));
    r.reference("SparseReshape", b -> (in, ctx) -> reshape(in[0], in[1], in[2]));
    r.reference("SparseFillEmptyRows", b -> (in, ctx) -> fillEmptyRows(in[0], in[1], in[2], in[3]));
  }

  /**
   * Row {@code s} of the output sums (or averages) rows {@code data[indices[i]]} for every i with
   * {@code segment_ids[i] == s}; ids are sorted, and the output has {@code last id + 1} rows (empty
   * ones zero). Sums run in float32 in index order and means multiply by 1/count, as TensorFlow's
   * CPU kernel does.
   */
  private static Kernel segment(BindContext b, boolean mean) {
    return (in, ctx) -> {
      Value data = in[0];
      if (data.dtype() != DType.FLOAT32 && data.dtype() != DType.FLOAT64) {
        throw new KernelException(
            "sparse segment reductions compute float32 and float64, not " + data);
      }
      long[] idx = Layout.vector(in[1], "indices");
      long[] ids = Layout.vector(in[2], "segment_ids");
      if (idx.length != ids.length) {
        throw new KernelException(
            "segment_ids and indices should have same size, got "
                + ids.length
                + " and "
                + idx.length);
      }
      if (data.rank() < 1) {
        throw new KernelException("data must be at least 1-D, got " + data);
      }
      int rows = ids.length == 0 ? 0 : (int) ids[ids.length - 1] + 1;
      int width = Layout.product(data.shape(), 1, data.rank());
      long[] shape = data.shape().clone();
      shape[0] = rows;
      double[] acc = new double[rows * width];
      float[] facc = new float[rows * width];
      int[] count = new int[rows];
      boolean single = data.dtype() == DType.FLOAT32;
      long previous = 0;
      for (int i = 0; i < ids.length; i++) {
        if (ids[i] < previous || ids[i] >= rows) {
          throw new KernelException(
              "segment ids are not increasing: segment_ids[" + i + "] = " + ids[i]);
        }
        previous = ids[i];
        if (idx[i] < 0 || idx[i] >= data.dim(0)) {
          throw new KernelException(
              "indices[" + i + "] = " + idx[i] + " is not in [0, " + data.dim(0) + ")");
        }
        int to = (int) ids[i] * width;
        int from = (int) idx[i] * width;
        count[(int) ids[i]]++;
        for (int k = 0; k < width; k++) {
          if (single) {
            facc[to + k] += data.floats()[from + k];
          } else {
            acc[to + k] += data.doubles()[from + k];
          }
        }
      }
      if (mean) {
        for (int s = 0; s < rows; s++) {
          for (int k = 0; k < width && count[s] > 1; k++) {
            facc[s * width + k] *= 1f / count[s];
            acc[s * width + k] *= 1.0 / count[s];
          }
        }
      }
      return new Value[] {single ? Value.floats(shape, facc) : Value.doubles(shape, acc)};
    };
  }

  /**
   * New indices and dense shape for a sparse tensor's entries under a new dense shape (one -1
   * inferred).
   */
  private static Value[] reshape(Value indices, Value shapeValue, Value newShapeValue) {
    long[] shape = Layout.vector(shapeValue, "input_shape");
    long[] wanted = Layout.vector(newShapeValue, "new_shape");
    if (indices.rank() != 2 || indices.dim(1) != shape.length) {
      throw new KernelException("input_indices must be [N, " + shape.length + "], got " + indices);
    }
    long total = 1;
    for (long d : shape) {
      total *= d;
    }
    int unknown = -1;
    long known = 1;
    for (int i = 0; i < wanted.length; i++) {
      if (wanted[i] == -1) {
        if (unknown >= 0) {
          throw new KernelException(
              "only one output dimension may be -1, not both " + unknown + " and " + i);
        }
        unknown = i;
      } else if (wanted[i] < 0) {
        throw new KernelException("size " + i + " must be non-negative, not " + wanted[i]);
      } else {
        known *= wanted[i];
      }
    }
    long[] out = wanted.clone();
    if (unknown >= 0) {
      if (known == 0 || total % known != 0) {
        throw new KernelException(
            "Input to reshape is a SparseTensor with "
                + total
                + " dense values, but the requested shape requires a multiple of "
                + known);
      }
      out[unknown] = total / known;
    }
    long outTotal = 1;
    for (long d : out) {
      outTotal *= d;
    }
    if (outTotal != total) {
      throw new KernelException(
          "Input to reshape is a tensor with "
              + total
              + " dense values, but the requested shape has "
              + outTotal);
    }
    int n = (int) indices.dim(0);
    long[] in = indices.toLongArray();
    long[] res = new long[n * out.length];
    for (int e = 0; e < n; e++) {
      long flat = 0;
      for (int d = 0; d < shape.length; d++) {
        flat = flat * shape[d] + in[e * shape.length + d];
      }
      for (int d = out.length - 1; d >= 0; d--) {
        res[e * out.length + d] = out[d] == 0 ? 0 : flat % out[d];
        flat = out[d] == 0 ? 0 : flat / out[d];
      }
    }
    return new Value[] {
      Value.longs(new long[] {n, out.length}, res), Value.longs(new long[] {out.length}, out)
    };
  }

  /**
   * Adds {@code [row, 0, ...]} holding the default value for every row without an entry. Entries
   * are grouped by row, rows ascending, each row's entries in input order (TensorFlow's CPU kernel
   * places them the same way); the reverse map gives each input entry's output position.
   */
  private static Value[] fillEmptyRows(
      Value indices, Value values, Value denseShape, Value defaultValue) {
    long[] ishape = indices.shape();
    if (indices.dtype() != DType.INT64 || ishape.length != 2) {
      throw new KernelException("indices must be an int64 matrix, got " + indices);
    }
    long[] dense = Layout.vector(denseShape, "dense_shape");
    int n = Math.toIntExact(ishape[0]);
    int rank = Math.toIntExact(ishape[1]);
    if (dense.length != rank || rank < 1) {
      throw new KernelException(
          "dense_shape has " + dense.length + " dimensions but indices have " + rank);
    }
    if (values.shape().length != 1 || values.shape()[0] != n) {
      throw new KernelException("values must be a vector of " + n + ", got " + values);
    }
    if (defaultValue.shape().length != 0 || defaultValue.dtype() != values.dtype()) {
      throw new KernelException(
          "default_value must be a scalar " + values.dtype().jsName() + ", got " + defaultValue);
    }
    long[] idx = (long[]) indices.data();
    int rows = Math.toIntExact(dense[0]);
    if (rows < 0 || (rows == 0 && n > 0)) {
      throw new KernelException("dense_shape[0] is " + rows + " but there are " + n + " entries");
    }
    int[] count = new int[rows];
    for (int i = 0; i < n; i++) {
      long row = idx[i * rank];
      if (row < 0 || row >= rows) {
        throw new KernelException(
            "indices(" + i + ", 0) is invalid: " + row + " is not in [0, " + rows + ")");
      }
      count[(int) row]++;
    }
    int[] start = new int[rows + 1];
    byte[] empty = new byte[rows];
    for (int r = 0; r < rows; r++) {
      empty[r] = (byte) (count[r] == 0 ? 1 : 0);
      start[r + 1] = start[r] + Math.max(count[r], 1);
    }
    int total = start[rows];
    long[] outIdx = new long[total * rank];
    int[] from = new int[total];
    java.util.Arrays.fill(from, -1);
    long[] reverse = new long[n];
    int[] next = java.util.Arrays.copyOf(start, rows);
    for (int i = 0; i < n; i++) {
      int o = next[(int) idx[i * rank]]++;
      System.arraycopy(idx, i * rank, outIdx, o * rank, rank);
      from[o] = i;
      reverse[i] = o;
    }
    for (int r = 0; r < rows; r++) {
      if (empty[r] != 0) {
        outIdx[start[r] * rank] = r;
      }
    }
    return new Value[] {
      Value.longs(new long[] {total, rank}, outIdx),
      Layout.take(values, new long[] {total}, from, defaultValue.data()),
      Value.bools(new long[] {rows}, empty),
      Value.longs(new long[] {n}, reverse)
    };
  }
}
