package org.tfport.runtime.ops;

import java.util.Arrays;
import java.util.List;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * Ragged tensors as row partitions plus flat values: RaggedRange, RaggedGather and
 * RaggedTensorToTensor.
 */
final class RaggedOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("RaggedRange", RaggedOps::range);
    r.reference("RaggedGather", RaggedOps::gather);
    r.reference("RaggedTensorToTensor", RaggedOps::toTensor);
  }

  /** Splits in {@code Tsplits} (int64 unless int32). */
  static Value splits(DType type, long[] s) {
    if (type == DType.INT32) {
      return Value.ints(
          new long[] {s.length}, Arrays.stream(s).mapToInt(Math::toIntExact).toArray());
    }
    return Value.longs(new long[] {s.length}, s);
  }

  static DType splitsType(BindContext b) {
    DType t = b.typeAttr("Tsplits", DType.INT64);
    if (t != DType.INT64 && t != DType.INT32) {
      throw new KernelException("Tsplits " + t.jsName() + " is not int32 or int64");
    }
    return t;
  }

  /**
   * One range per row, scalars broadcast to every row. Values accumulate by repeated addition in
   * the value type, and a row's length is ceil(|limit − start| / |delta|) (in the value type for
   * floats), as in TensorFlow's kernel.
   */
  private static Kernel range(BindContext b) {
    DType splitsType = splitsType(b);
    return (in, ctx) -> {
      DType t = in[0].dtype();
      if (t != DType.INT32 && t != DType.INT64 && t != DType.FLOAT32 && t != DType.FLOAT64) {
        throw new KernelException("RaggedRange of " + t.jsName() + " is not supported");
      }
      String[] names = {"starts", "limits", "deltas"};
      int rows = 1;
      boolean anyVector = false;
      for (int k = 0; k < 3; k++) {
        Value v = in[k];
        if (v.dtype() != t) {
          throw new KernelException(names[k] + " is " + v + ", not " + t.jsName());
        }
        if (v.shape().length > 1) {
          throw new KernelException(names[k] + " must be a scalar or vector, got " + v);
        }
        if (v.shape().length == 1) {
          int n = Math.toIntExact(v.shape()[0]);
          if (anyVector && n != rows) {
            throw new KernelException("starts, limits, and deltas must have the same shape");
          }
          rows = n;
          anyVector = true;
        }
      }
      boolean integral = t == DType.INT32 || t == DType.INT64;
      long[] split = new long[rows + 1];
      for (int r = 0; r < rows; r++) {
        long size =
            integral
                ? intSize(
                    at(in[0], r).longValue(), at(in[1], r).longValue(), at(in[2], r).longValue())
                : realSize(
                    t,
                    at(in[0], r).doubleValue(),
                    at(in[1], r).doubleValue(),
                    at(in[2], r).doubleValue());
        split[r + 1] = split[r] + size;
        if (split[r + 1] > Integer.MAX_VALUE - 8) {
          throw new KernelException("RaggedRange would produce more than 2^31 values");
        }
      }
      int total = (int) split[rows];
      Object values;
      switch (t) {
        case INT32 -> {
          int[] o = new int[total];
          for (int r = 0; r < rows; r++) {
            int v = at(in[0], r).intValue();
            int d = at(in[2], r).intValue();
            for (int j = (int) split[r]; j < split[r + 1]; j++, v += d) {
              o[j] = v;
            }
          }
          values = o;
        }
        case INT64 -> {
          long[] o = new long[total];
          for (int r = 0; r < rows; r++) {
            long v = at(in[0], r).longValue();
            long d = at(in[2], r).longValue();
            for (int j = (int) split[r]; j < split[r + 1]; j++, v += d) {
              o[j] = v;
            }
          }
          values = o;
        }
        case FLOAT32 -> {
          float[] o = new float[total];
          for (int r = 0; r < rows; r++) {
            float v = at(in[0], r).floatValue();
            float d = at(in[2], r).floatValue();
            for (int j = (int) split[r]; j < split[r + 1]; j++, v += d) {
              o[j] = v;
            }
          }
          values = o;
        }
        default -> {
          double[] o = new double[total];
          for (int r = 0; r < rows; r++) {
            double v = at(in[0], r).doubleValue();
            double d = at(in[2], r).doubleValue();
            for (int j = (int) split[r]; j < split[r + 1]; j++, v += d) {
              o[j] = v;
            }
          }
          values = o;
        }
      }
      return new Value[] {splits(splitsType, split), Value.of(t, new long[] {total}, values)};
    };
  }

  /** Element {@code row} of a vector, or the scalar itself. */
  private static Number at(Value v, int row) {
    int i = v.shape().length == 0 ? 0 : row;
    return switch (v.dtype()) {
      case FLOAT32 -> (Number) v.floats()[i];
      case FLOAT64 -> (Number) v.doubleAt(i);
      default -> (Number) v.longAt(i);
    };
  }

  private static long intSize(long start, long limit, long delta) {
    if (delta == 0) {
      throw new KernelException("Requires delta != 0");
    }
    if ((delta > 0 && limit < start) || (delta < 0 && limit > start)) {
      return 0;
    }
    return (Math.abs(limit - start) + Math.abs(delta) - 1) / Math.abs(delta);
  }

  private static long realSize(DType t, double start, double limit, double delta) {
    if (delta == 0) {
      throw new KernelException("Requires delta != 0");
    }
    if ((delta > 0 && limit < start) || (delta < 0 && limit > start)) {
      return 0;
    }
    double q =
        t == DType.FLOAT32
            ? Math.abs((float) ((float) ((float) limit - (float) start) / (float) delta))
            : Math.abs((limit - start) / delta);
    double size = Math.ceil(q);
    if (!(size < Integer.MAX_VALUE)) {
      throw new KernelException("RaggedRange row of " + size + " values is too large");
    }
    return (long) size;
  }

  /**
   * Gathers rows of a ragged tensor. The indices' own outer dimensions become uniform ragged
   * dimensions; then each index's row is followed down the params' splits, one contiguous range of
   * rows per level, and the values of the final ranges are copied.
   */
  private static Kernel gather(BindContext b) {
    int paramsRank = Math.toIntExact(b.intAttr("PARAMS_RAGGED_RANK", 1));
    int outputRank = Math.toIntExact(b.intAttr("OUTPUT_RAGGED_RANK", paramsRank));
    DType splitsType = splitsType(b);
    if (paramsRank < 1) {
      throw new KernelException("PARAMS_RAGGED_RANK " + paramsRank + " is not positive");
    }
    return (in, ctx) -> {
      if (in.length != paramsRank + 2) {
        throw new KernelException(
            "RaggedGather takes " + (paramsRank + 2) + " inputs, got " + in.length);
      }
      Value values = in[paramsRank];
      Value indices = in[paramsRank + 1];
      long[] ishape = indices.shape();
      if (ishape.length < 1 || ishape.length - 1 + paramsRank != outputRank) {
        throw new KernelException(
            "indices "
                + Layout.shape(ishape)
                + " with PARAMS_RAGGED_RANK "
                + paramsRank
                + " do not give OUTPUT_RAGGED_RANK "
                + outputRank);
      }
      long[][] levels = new long[paramsRank][];
      for (int l = 0; l < paramsRank; l++) {
        levels[l] = Layout.vector(in[l], "params_nested_splits[" + l + "]");
        if (levels[l].length < 1 || levels[l][0] != 0) {
          throw new KernelException("params_nested_splits[" + l + "] does not start at 0");
        }
      }
      if (values.shape().length == 0) {
        throw new KernelException("params_dense_values must have at least one dimension");
      }
      long valueRows = values.shape()[0];
      for (int l = 0; l < paramsRank; l++) {
        long inner = l + 1 < paramsRank ? levels[l + 1].length - 1 : valueRows;
        long[] s = levels[l];
        for (int k = 1; k < s.length; k++) {
          if (s[k] < s[k - 1] || s[k] > inner) {
            throw new KernelException(
                "params_nested_splits[" + l + "] is not ascending within [0, " + inner + "]");
          }
        }
      }
      long[] idx = indices.toLongArray();
      Value[] out = new Value[outputRank + 1];
      int o = 0;
      long outer = 1;
      for (int d = 0; d + 1 < ishape.length; d++) {
        outer *= ishape[d];
        long[] s = new long[Math.toIntExact(outer + 1)];
        for (int k = 0; k < s.length; k++) {
          s[k] = k * ishape[d + 1];
        }
        out[o++] = splits(splitsType, s);
      }
      long rows = levels[0].length - 1;
      long[] start = new long[idx.length];
      long[] limit = new long[idx.length];
      for (int i = 0; i < idx.length; i++) {
        if (idx[i] < 0 || idx[i] >= rows) {
          throw new KernelException(
              "indices[" + i + "] = " + idx[i] + " is not in [0, " + rows + ")");
        }
        start[i] = idx[i];
        limit[i] = idx[i] + 1;
      }
      for (int l = 0; l < paramsRank; l++) {
        long[] s = levels[l];
        long total = 0;
        for (int i = 0; i < idx.length; i++) {
          total += limit[i] - start[i];
        }
        long[] split = new long[Math.toIntExact(total + 1)];
        int at = 0;
        for (int i = 0; i < idx.length; i++) {
          for (long r = start[i]; r < limit[i]; r++) {
            split[at + 1] = split[at] + s[(int) r + 1] - s[(int) r];
            at++;
          }
          start[i] = s[(int) start[i]];
          limit[i] = s[(int) limit[i]];
        }
        out[o++] = splits(splitsType, split);
      }
      long[] vshape = values.shape().clone();
      int rowSize = Layout.product(vshape, 1, vshape.length);
      long total = 0;
      for (int i = 0; i < idx.length; i++) {
        total += limit[i] - start[i];
      }
      int[] from = new int[Math.toIntExact(total * rowSize)];
      int at = 0;
      for (int i = 0; i < idx.length; i++) {
        for (long e = start[i] * rowSize; e < limit[i] * rowSize; e++) {
          from[at++] = (int) e;
        }
      }
      vshape[0] = total;
      out[o] = Layout.take(values, vshape, from, null);
      return out;
    };
  }

  /**
   * Pads a ragged tensor to a dense one. Partitions are all ROW_SPLITS, or FIRST_DIM_SIZE followed
   * by VALUE_ROWIDS. Each level maps its rows to a flat position in the dense prefix (−1 when a
   * dimension of {@code shape} cuts it off); values land at their rows' positions, the rest is the
   * default value broadcast to a value row. A −1 (or a scalar shape) asks for the natural size: the
   * row count, then the longest row at each level.
   */
  private static Kernel toTensor(BindContext b) {
    List<String> types = b.stringsAttr("row_partition_types");
    if (types == null || types.isEmpty()) {
      throw new KernelException("attribute 'row_partition_types' is missing");
    }
    boolean rowIds = types.get(0).equals("FIRST_DIM_SIZE");
    for (int k = 0; k < types.size(); k++) {
      String want = rowIds ? (k == 0 ? "FIRST_DIM_SIZE" : "VALUE_ROWIDS") : "ROW_SPLITS";
      if (!types.get(k).equals(want)) {
        throw new KernelException(
            "row_partition_types "
                + types
                + " are not all ROW_SPLITS nor FIRST_DIM_SIZE then VALUE_ROWIDS");
      }
    }
    int raggedRank = rowIds ? types.size() - 1 : types.size();
    if (raggedRank < 1) {
      throw new KernelException("row_partition_types " + types + " give no ragged dimension");
    }
    return (in, ctx) -> {
      if (in.length != 3 + types.size()) {
        throw new KernelException(
            "RaggedTensorToTensor takes " + (3 + types.size()) + " inputs, got " + in.length);
      }
      Value values = in[1];
      Value fill = in[2];
      long[] vshape = values.shape();
      if (vshape.length < 1) {
        throw new KernelException("values must have at least one dimension, got " + values);
      }
      if (fill.dtype() != values.dtype()) {
        throw new KernelException("default_value is " + fill + ", not " + values.dtype().jsName());
      }
      long[][] parts = new long[types.size()][];
      for (int k = 0; k < parts.length; k++) {
        parts[k] =
            in[3 + k].shape().length == 0
                ? new long[] {Layout.scalar(in[3 + k], "row_partition_tensors[" + k + "]")}
                : Layout.vector(in[3 + k], "row_partition_tensors[" + k + "]");
      }
      int outRank = raggedRank + vshape.length;
      long[] shape = new long[outRank];
      Arrays.fill(shape, -1);
      if (in[0].shape().length == 1) {
        long[] given = Layout.vector(in[0], "shape");
        if (given.length != outRank) {
          throw new KernelException(
              "shape " + Arrays.toString(given) + " is not of rank " + outRank);
        }
        shape = given;
      } else if (in[0].shape().length != 0 || Layout.scalar(in[0], "shape") != -1) {
        throw new KernelException("shape must be a vector or the scalar -1, got " + in[0]);
      }
      for (int d = 1; d < vshape.length; d++) {
        long want = shape[raggedRank + d];
        if (want != -1 && want != vshape[d]) {
          throw new KernelException(
              "shape dimension "
                  + (raggedRank + d)
                  + " is "
                  + want
                  + " but values have "
                  + vshape[d]);
        }
        shape[raggedRank + d] = vshape[d];
      }
      // Per level: each row's parent and its place among its siblings.
      long rows = rowIds ? parts[0][0] : parts[0].length - 1;
      if (rows < 0) {
        throw new KernelException("the row count " + rows + " is negative");
      }
      int[][] parent = new int[raggedRank][];
      int[][] place = new int[raggedRank][];
      long count = rows;
      for (int l = 0; l < raggedRank; l++) {
        long[] p = parts[rowIds ? l + 1 : l];
        long children = rowIds ? p.length : (p.length == 0 ? -1 : p[p.length - 1]);
        long expected = l + 1 < raggedRank ? -2 : vshape[0];
        if (rowIds ? false : (p.length != count + 1 || p[0] != 0)) {
          throw new KernelException(
              "row_splits[" + l + "] has " + p.length + " entries for " + count + " rows");
        }
        int n = Math.toIntExact(children);
        parent[l] = new int[n];
        place[l] = new int[n];
        long longest = 0;
        if (rowIds) {
          for (int c = 0; c < n; c++) {
            if (p[c] < 0 || p[c] >= count || (c > 0 && p[c] < p[c - 1])) {
              throw new KernelException(
                  "value_rowids[" + l + "] is not sorted within [0, " + count + ")");
            }
            parent[l][c] = (int) p[c];
            place[l][c] = c > 0 && p[c] == p[c - 1] ? place[l][c - 1] + 1 : 0;
            longest = Math.max(longest, place[l][c] + 1);
          }
        } else {
          for (int r = 0; r < count; r++) {
            if (p[r + 1] < p[r]) {
              throw new KernelException("row_splits[" + l + "] are not ascending");
            }
            for (long c = p[r]; c < p[r + 1]; c++) {
              parent[l][(int) c] = r;
              place[l][(int) c] = (int) (c - p[r]);
            }
            longest = Math.max(longest, p[r + 1] - p[r]);
          }
        }
        if (expected >= 0 && n != expected) {
          throw new KernelException(
              "the last row partition describes " + n + " values but there are " + expected);
        }
        if (shape[l + 1] == -1) {
          shape[l + 1] = longest;
        }
        count = n;
      }
      if (shape[0] == -1) {
        shape[0] = rows;
      }
      long[] at = new long[Math.toIntExact(rows)];
      for (int r = 0; r < rows; r++) {
        at[r] = r < shape[0] ? r : -1;
      }
      for (int l = 0; l < raggedRank; l++) {
        long[] next = new long[parent[l].length];
        long width = shape[l + 1];
        for (int c = 0; c < next.length; c++) {
          long pp = at[parent[l][c]];
          next[c] = pp < 0 || place[l][c] >= width ? -1 : pp * width + place[l][c];
        }
        at = next;
      }
      long[] inner = Arrays.copyOfRange(vshape, 1, vshape.length);
      int rowSize = Layout.product(inner, 0, inner.length);
      if (Layout.broadcast(fill.shape(), inner) == null
          || !Arrays.equals(Layout.broadcast(fill.shape(), inner), inner)) {
        throw new KernelException(
            "default_value "
                + Layout.shape(fill.shape())
                + " does not broadcast to "
                + Layout.shape(inner));
      }
      int[] fillMap = Layout.broadcastMap(fill.shape(), inner);
      int total = Layout.product(shape, 0, shape.length);
      int slots = rowSize == 0 ? 0 : total / rowSize;
      // Sources index values then the default value, stacked: -1 never occurs.
      int[] from = new int[total];
      int valueCount = values.size();
      for (int s = 0; s < slots; s++) {
        for (int e = 0; e < rowSize; e++) {
          from[s * rowSize + e] = valueCount + fillMap[e];
        }
      }
      for (int v = 0; v < at.length; v++) {
        if (at[v] >= 0) {
          for (int e = 0; e < rowSize; e++) {
            from[(int) at[v] * rowSize + e] = v * rowSize + e;
          }
        }
      }
      Object both = Layout.allocate(values.dtype(), valueCount + fill.size());
      Layout.copy(values.dtype(), values.data(), 0, both, 0, valueCount);
      Layout.copy(values.dtype(), fill.data(), 0, both, valueCount, fill.size());
      return new Value[] {
        Value.of(values.dtype(), shape, Layout.take(values.dtype(), both, from, null))
      };
    };
  }
}
