package org.tfport.runtime.ops;

import org.tfport.core.DType;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.StridedSliceSpec;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.Memory;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/** Reading parts of a tensor: Slice, StridedSlice, Gather (by index and by index tuple), OneHot. */
final class SliceOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("Slice", b -> (in, ctx) -> new Value[] {slice(in[0], in[1], in[2])});
    r.reference("StridedSlice", SliceOps::stridedSlice);
    r.reference("Gather", b -> (in, ctx) -> new Value[] {gather(in[0], in[1], 0, 0)});
    r.reference("GatherV2", SliceOps::gatherV2);
    r.reference("GatherNd", b -> (in, ctx) -> new Value[] {gatherNd(in[0], in[1])});
    r.reference("OneHot", SliceOps::oneHot);
    r.reference(
        "XlaDynamicUpdateSlice",
        b ->
            (in, ctx) ->
                new Value[] {
                  in[0].isHandle()
                      ? TensorListOps.updateRows(in[0], in[1], in[2])
                      : dynamicUpdateSlice(in[0], in[1], in[2])
                });
  }

  static Value slice(Value x, Value beginInput, Value sizeInput) {
    int r = x.rank();
    if (beginInput.rank() != 1
        || sizeInput.rank() != 1
        || beginInput.size() != r
        || sizeInput.size() != r) {
      throw new KernelException(
          "Expected begin and size arguments to be 1-D tensors of size "
              + r
              + ", but got shapes "
              + Layout.shape(beginInput.shape())
              + " and "
              + Layout.shape(sizeInput.shape())
              + " instead.");
    }
    long[] begin = beginInput.toLongArray();
    long[] size = sizeInput.toLongArray();
    int[] strides = Layout.strides(x.shape());
    long[] shape = new long[r];
    int[][] tables = new int[r][];
    for (int i = 0; i < r; i++) {
      long dim = x.dim(i);
      if (begin[i] < 0 || begin[i] > dim) {
        throw new KernelException(
            "Expected begin[" + i + "] in [0, " + dim + "], but got " + begin[i]);
      }
      shape[i] = size[i] == -1 ? dim - begin[i] : size[i];
      if (shape[i] < 0 || shape[i] > dim - begin[i]) {
        throw new KernelException(
            "Expected size[" + i + "] in [0, " + (dim - begin[i]) + "], but got " + size[i]);
      }
      tables[i] = Layout.affine(shape[i], begin[i] * strides[i], strides[i]);
    }
    return Layout.take(x, shape, Layout.walk(tables), null);
  }

  private static Kernel stridedSlice(BindContext b) {
    Node node = b.node();
    return (in, ctx) -> {
      Value x = in[0];
      StridedSliceSpec spec;
      try {
        spec =
            StridedSliceSpec.validate(
                node,
                x.shape(),
                Layout.vector(in[1], "begin"),
                Layout.vector(in[2], "end"),
                Layout.vector(in[3], "strides"));
      } catch (IllegalArgumentException e) {
        throw new KernelException(e.getMessage());
      }
      int[] strides = Layout.strides(x.shape());
      int[][] tables = new int[x.rank()][];
      for (int i = 0; i < tables.length; i++) {
        tables[i] =
            Layout.affine(
                spec.processingShape()[i],
                spec.begin()[i] * strides[i],
                spec.strides()[i] * strides[i]);
      }
      return new Value[] {Layout.take(x, spec.finalShape(), Layout.walk(tables), null)};
    };
  }

  private static Kernel gatherV2(BindContext b) {
    long batchDims = b.intAttr("batch_dims", 0);
    return (in, ctx) -> new Value[] {gather(in[0], in[1], Layout.scalar(in[2], "axis"), batchDims)};
  }

  /** GatherV2: params[batch..., outer..., indices[batch..., j...], inner...]. */
  static Value gather(Value params, Value indices, long axisValue, long batchDimsValue) {
    int pr = params.rank();
    int ir = indices.rank();
    if (batchDimsValue < -ir || batchDimsValue > ir) {
      throw new KernelException(
          "Expected batch_dims in the range [" + -ir + ", " + ir + "], but got " + batchDimsValue);
    }
    int batchDims = (int) (batchDimsValue < 0 ? batchDimsValue + ir : batchDimsValue);
    if (pr < 1) {
      throw new KernelException("params must be at least 1 dimensional");
    }
    if (axisValue < -pr || axisValue >= pr) {
      throw new KernelException(
          "Expected axis in the range [" + -pr + ", " + pr + "), but got " + axisValue);
    }
    int axis = (int) (axisValue < 0 ? axisValue + pr : axisValue);
    if (batchDims > axis) {
      throw new KernelException(
          "batch_dims (" + batchDims + ") must be less than or equal to axis (" + axis + ")");
    }
    for (int i = 0; i < batchDims; i++) {
      if (params.dim(i) != indices.dim(i)) {
        throw new KernelException(
            "params.shape["
                + i
                + "]: "
                + params.dim(i)
                + " should be equal to indices.shape["
                + i
                + "]: "
                + indices.dim(i));
      }
    }
    long[] ps = params.shape();
    long[] is = indices.shape();
    long[] shape = new long[axis + (ir - batchDims) + (pr - axis - 1)];
    int d = 0;
    for (int i = 0; i < axis; i++) {
      shape[d++] = ps[i];
    }
    for (int i = batchDims; i < ir; i++) {
      shape[d++] = is[i];
    }
    for (int i = axis + 1; i < pr; i++) {
      shape[d++] = ps[i];
    }
    int batch = Layout.product(ps, 0, batchDims);
    int outer = Layout.product(ps, batchDims, axis);
    int limit = (int) ps[axis];
    int inner = Layout.product(ps, axis + 1, pr);
    int per = Layout.product(is, batchDims, ir);
    DType t = params.dtype();
    Object out = Layout.allocate(t, (int) Value.elementCount(shape));
    int pos = 0;
    for (int bi = 0; bi < batch; bi++) {
      for (int o = 0; o < outer; o++) {
        for (int j = 0; j < per; j++) {
          long idx = indices.longAt(bi * per + j);
          if (idx < 0 || idx >= limit) {
            throw new KernelException(
                "indices["
                    + Layout.coords(bi * per + j, is)
                    + "] = "
                    + idx
                    + " is not in [0, "
                    + limit
                    + ")");
          }
          Layout.copy(
              t, params.data(), ((bi * outer + o) * limit + (int) idx) * inner, out, pos, inner);
          pos += inner;
        }
      }
    }
    return Value.of(t, shape, out);
  }

  /**
   * The flat offsets (in slices of {@code shape[k:]}) that the index tuples in the last axis of
   * {@code indices} point at, checked against {@code shape}; {@code what} names the indexed tensor
   * in the error.
   */
  static int[] tupleOffsets(Value indices, long[] shape, String what) {
    if (indices.rank() < 1) {
      throw new KernelException(
          "indices must be at least a vector, got shape " + Layout.shape(indices.shape()));
    }
    int k = (int) indices.dim(indices.rank() - 1);
    if (k > shape.length) {
      throw new KernelException(
          "index innermost dimension length must be <= "
              + what
              + " rank; saw: "
              + k
              + " vs. "
              + shape.length);
    }
    int n = k == 0 ? Layout.product(indices.shape(), 0, indices.rank() - 1) : indices.size() / k;
    long[] batchShape = java.util.Arrays.copyOf(indices.shape(), indices.rank() - 1);
    int[] offsets = new int[n];
    for (int t = 0; t < n; t++) {
      long off = 0;
      for (int j = 0; j < k; j++) {
        long idx = indices.longAt(t * k + j);
        if (idx < 0 || idx >= shape[j]) {
          long[] tuple = new long[k];
          for (int q = 0; q < k; q++) {
            tuple[q] = indices.longAt(t * k + q);
          }
          throw new KernelException(
              "indices["
                  + Layout.coords(t, batchShape)
                  + "] = "
                  + java.util.Arrays.toString(tuple)
                  + " does not index into "
                  + what
                  + " shape "
                  + Layout.shape(shape));
        }
        off = off * shape[j] + idx;
      }
      offsets[t] = (int) off;
    }
    return offsets;
  }

  static Value gatherNd(Value params, Value indices) {
    long[] ps = params.shape();
    int[] offsets = tupleOffsets(indices, ps, "param");
    int k = (int) indices.dim(indices.rank() - 1);
    int slice = Layout.product(ps, k, ps.length);
    long[] shape = new long[indices.rank() - 1 + ps.length - k];
    System.arraycopy(indices.shape(), 0, shape, 0, indices.rank() - 1);
    System.arraycopy(ps, k, shape, indices.rank() - 1, ps.length - k);
    DType t = params.dtype();
    Object out = Layout.allocate(t, (int) Value.elementCount(shape));
    for (int i = 0; i < offsets.length; i++) {
      Layout.copy(t, params.data(), offsets[i] * slice, out, i * slice, slice);
    }
    return Value.of(t, shape, out);
  }

  private static Kernel oneHot(BindContext b) {
    long axisAttr = b.intAttr("axis", -1);
    return (in, ctx) -> {
      Value indices = in[0];
      long depth = Layout.scalar(in[1], "depth");
      Value on = in[2];
      Value off = in[3];
      if (on.rank() != 0 || off.rank() != 0) {
        throw new KernelException(
            "on_value and off_value must be scalars, got shapes "
                + Layout.shape(on.shape())
                + " and "
                + Layout.shape(off.shape()));
      }
      if (depth < 0) {
        throw new KernelException("depth must be non-negative, got: " + depth);
      }
      int r = indices.rank();
      if (axisAttr != -1 && (axisAttr < 0 || axisAttr > r)) {
        throw new KernelException(
            "Expected axis to be -1 or between [0, " + (r + 1) + ").  But received: " + axisAttr);
      }
      int axis = (int) (axisAttr == -1 ? r : axisAttr);
      long[] shape = new long[r + 1];
      for (int i = 0, j = 0; i <= r; i++) {
        shape[i] = i == axis ? depth : indices.dim(j++);
      }
      Memory.reserve(on.dtype(), shape);
      int outer = Layout.product(indices.shape(), 0, axis);
      int inner = Layout.product(indices.shape(), axis, r);
      int[] from = new int[(int) Value.elementCount(shape)];
      int pos = 0;
      for (int o = 0; o < outer; o++) {
        for (int d = 0; d < depth; d++) {
          for (int i = 0; i < inner; i++) {
            from[pos++] = indices.longAt(o * inner + i) == d ? 1 : 0;
          }
        }
      }
      DType t = on.dtype();
      Object pair = Layout.allocate(t, 2);
      Layout.copy(t, off.data(), 0, pair, 0, 1);
      Layout.copy(t, on.data(), 0, pair, 1, 1);
      return new Value[] {Value.of(t, shape, Layout.take(t, pair, from, null))};
    };
  }

  /**
   * XLA's DynamicUpdateSlice: {@code update} written into a copy of {@code x} at {@code indices},
   * each start clamped to [0, x.dim - update.dim] so the block always fits (XLA clamps rather than
   * fails).
   */
  static Value dynamicUpdateSlice(Value x, Value update, Value indices) {
    int r = x.rank();
    long[] start = Layout.vector(indices, "indices");
    if (update.rank() != r || start.length != r || update.dtype() != x.dtype()) {
      throw new KernelException(
          "XlaDynamicUpdateSlice needs an update of the input's rank and dtype and one index"
              + " per dimension, got input "
              + x
              + ", update "
              + update
              + ", "
              + start.length
              + " indices");
    }
    for (int d = 0; d < r; d++) {
      if (update.dim(d) > x.dim(d)) {
        throw new KernelException(
            "update "
                + Layout.shape(update.shape())
                + " does not fit in input "
                + Layout.shape(x.shape()));
      }
      start[d] = Math.max(0, Math.min(start[d], x.dim(d) - update.dim(d)));
    }
    Value out = Value.zeros(x.dtype(), x.shape());
    Layout.copy(x.dtype(), x.data(), 0, out.data(), 0, x.size());
    if (update.size() == 0) {
      return out;
    }
    int[] xs = Layout.strides(x.shape());
    int row = r == 0 ? 1 : (int) update.dim(r - 1);
    int rows = update.size() / row;
    int[] us = Layout.strides(update.shape());
    for (int k = 0; k < rows; k++) {
      int flat = k * row;
      int at = 0;
      for (int d = 0; d < r; d++) {
        at += (int) (flat / us[d] % update.dim(d) + start[d]) * xs[d];
      }
      Layout.copy(x.dtype(), update.data(), flat, out.data(), at, row);
    }
    return out;
  }
}
