package org.tfport.runtime.ops;

import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.Memory;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * Writing slices into a tensor by index: ScatterNd and the TensorScatter ops (update, add, sub,
 * min, max; applied in index order, as TensorFlow's CPU kernels do), SparseToDense and
 * DynamicStitch.
 */
final class ScatterOps implements OpFamily {
  /** How an update slice meets what is already there. */
  enum Mode {
    UPDATE,
    ADD,
    SUB,
    MIN,
    MAX
  }

  /** Combines {@code n} elements of {@code upd} into {@code out}, positions in elements. */
  @FunctionalInterface
  interface Combine {
    void apply(Object out, int outPos, Object upd, int updPos, int n);
  }

  @Override
  public void register(KernelRegistry r) {
    r.reference(
        "ScatterNd",
        b -> {
          Combine c = combine(b, Mode.ADD);
          return (in, ctx) -> {
            long[] shape = Layout.vector(in[2], "shape");
            for (long d : shape) {
              if (d < 0) {
                throw new KernelException("shape must be non-negative, got " + Layout.shape(shape));
              }
            }
            return new Value[] {scatter(Value.zeros(in[1].dtype(), shape), in[0], in[1], c)};
          };
        });
    r.reference("TensorScatterUpdate", b -> tensorScatter(b, Mode.UPDATE));
    r.reference("TensorScatterAdd", b -> tensorScatter(b, Mode.ADD));
    r.reference("TensorScatterSub", b -> tensorScatter(b, Mode.SUB));
    r.reference("TensorScatterMin", b -> tensorScatter(b, Mode.MIN));
    r.reference("TensorScatterMax", b -> tensorScatter(b, Mode.MAX));
    r.reference("SparseToDense", ScatterOps::sparseToDense);
    r.reference(
        b -> (in, ctx) -> new Value[] {dynamicStitch(in)},
        "DynamicStitch",
        "ParallelDynamicStitch");
  }

  private static Kernel tensorScatter(BindContext b, Mode mode) {
    Combine c = combine(b, mode);
    return (in, ctx) -> {
      Value tensor = in[0];
      Object copy = Layout.allocate(tensor.dtype(), tensor.size());
      Layout.copy(tensor.dtype(), tensor.data(), 0, copy, 0, tensor.size());
      return new Value[] {scatter(Value.of(tensor.dtype(), tensor.shape(), copy), in[1], in[2], c)};
    };
  }

  private static Combine combine(BindContext b, Mode mode) {
    DType t = b.typeAttr("T", b.inputType(b.op().equals("ScatterNd") ? 1 : 0));
    if (t == null) {
      throw new KernelException(b.op() + " needs its element type T");
    }
    if (mode == Mode.UPDATE) {
      return (out, op, upd, up, n) -> Layout.copy(t, upd, up, out, op, n);
    }
    Combine c =
        switch (t) {
          case FLOAT32 ->
              switch (mode) {
                case ADD ->
                    (out, op, upd, up, n) -> {
                      for (int i = 0; i < n; i++) {
                        ((float[]) out)[op + i] += ((float[]) upd)[up + i];
                      }
                    };
                case SUB ->
                    (out, op, upd, up, n) -> {
                      for (int i = 0; i < n; i++) {
                        ((float[]) out)[op + i] -= ((float[]) upd)[up + i];
                      }
                    };
                case MIN ->
                    (out, op, upd, up, n) -> {
                      for (int i = 0; i < n; i++) {
                        ((float[]) out)[op + i] =
                            Math.min(((float[]) out)[op + i], ((float[]) upd)[up + i]);
                      }
                    };
                case MAX ->
                    (out, op, upd, up, n) -> {
                      for (int i = 0; i < n; i++) {
                        ((float[]) out)[op + i] =
                            Math.max(((float[]) out)[op + i], ((float[]) upd)[up + i]);
                      }
                    };
                case UPDATE -> null;
              };
          case FLOAT64 ->
              switch (mode) {
                case ADD ->
                    (out, op, upd, up, n) -> {
                      for (int i = 0; i < n; i++) {
                        ((double[]) out)[op + i] += ((double[]) upd)[up + i];
                      }
                    };
                case SUB ->
                    (out, op, upd, up, n) -> {
                      for (int i = 0; i < n; i++) {
                        ((double[]) out)[op + i] -= ((double[]) upd)[up + i];
                      }
                    };
                case MIN ->
                    (out, op, upd, up, n) -> {
                      for (int i = 0; i < n; i++) {
                        ((double[]) out)[op + i] =
                            Math.min(((double[]) out)[op + i], ((double[]) upd)[up + i]);
                      }
                    };
                case MAX ->
                    (out, op, upd, up, n) -> {
                      for (int i = 0; i < n; i++) {
                        ((double[]) out)[op + i] =
                            Math.max(((double[]) out)[op + i], ((double[]) upd)[up + i]);
                      }
                    };
                case UPDATE -> null;
              };
          case INT32 ->
              switch (mode) {
                case ADD ->
                    (out, op, upd, up, n) -> {
                      for (int i = 0; i < n; i++) {
                        ((int[]) out)[op + i] += ((int[]) upd)[up + i];
                      }
                    };
                case SUB ->
                    (out, op, upd, up, n) -> {
                      for (int i = 0; i < n; i++) {
                        ((int[]) out)[op + i] -= ((int[]) upd)[up + i];
                      }
                    };
                case MIN ->
                    (out, op, upd, up, n) -> {
                      for (int i = 0; i < n; i++) {
                        ((int[]) out)[op + i] =
                            Math.min(((int[]) out)[op + i], ((int[]) upd)[up + i]);
                      }
                    };
                case MAX ->
                    (out, op, upd, up, n) -> {
                      for (int i = 0; i < n; i++) {
                        ((int[]) out)[op + i] =
                            Math.max(((int[]) out)[op + i], ((int[]) upd)[up + i]);
                      }
                    };
                case UPDATE -> null;
              };
          case INT64 ->
              switch (mode) {
                case ADD ->
                    (out, op, upd, up, n) -> {
                      for (int i = 0; i < n; i++) {
                        ((long[]) out)[op + i] += ((long[]) upd)[up + i];
                      }
                    };
                case SUB ->
                    (out, op, upd, up, n) -> {
                      for (int i = 0; i < n; i++) {
                        ((long[]) out)[op + i] -= ((long[]) upd)[up + i];
                      }
                    };
                case MIN ->
                    (out, op, upd, up, n) -> {
                      for (int i = 0; i < n; i++) {
                        ((long[]) out)[op + i] =
                            Math.min(((long[]) out)[op + i], ((long[]) upd)[up + i]);
                      }
                    };
                case MAX ->
                    (out, op, upd, up, n) -> {
                      for (int i = 0; i < n; i++) {
                        ((long[]) out)[op + i] =
                            Math.max(((long[]) out)[op + i], ((long[]) upd)[up + i]);
                      }
                    };
                case UPDATE -> null;
              };
          default -> null;
        };
    if (c == null) {
      throw new KernelException(
          b.op()
              + " is not supported for "
              + t.jsName()
              + " (float32, float64, int32 and "
              + "int64 are)");
    }
    return c;
  }

  /**
   * Combines each slice of {@code updates} into {@code target} (which it then returns) at its index
   * tuple.
   */
  static Value scatter(Value target, Value indices, Value updates, Combine combine) {
    long[] shape = target.shape();
    int[] offsets = SliceOps.tupleOffsets(indices, shape, "output");
    int k = (int) indices.dim(indices.rank() - 1);
    int slice = Layout.product(shape, k, shape.length);
    long[] want = new long[indices.rank() - 1 + shape.length - k];
    System.arraycopy(indices.shape(), 0, want, 0, indices.rank() - 1);
    System.arraycopy(shape, k, want, indices.rank() - 1, shape.length - k);
    if (!java.util.Arrays.equals(updates.shape(), want)) {
      throw new KernelException(
          "updates must have shape indices.shape[:-1] + shape["
              + k
              + ":] = "
              + Layout.shape(want)
              + ", got "
              + Layout.shape(updates.shape()));
    }
    if (updates.dtype() != target.dtype()) {
      throw new KernelException(
          "updates are " + updates.dtype().jsName() + ", the tensor is " + target.dtype().jsName());
    }
    for (int i = 0; i < offsets.length; i++) {
      combine.apply(target.data(), offsets[i] * slice, updates.data(), i * slice, slice);
    }
    return target;
  }

  private static Kernel sparseToDense(BindContext b) {
    boolean validate = b.boolAttr("validate_indices", true);
    return (in, ctx) -> {
      Value indices = in[0];
      long[] shape = Layout.vector(in[1], "output_shape");
      Value values = in[2];
      Memory.reserve(values.dtype(), shape);
      Value dflt = in[3];
      if (indices.rank() > 2) {
        throw new KernelException(
            "sparse_indices should be a scalar, vector, or matrix, got shape "
                + Layout.shape(indices.shape()));
      }
      int n = indices.rank() == 0 ? 1 : (int) indices.dim(0);
      int r = indices.rank() < 2 ? 1 : (int) indices.dim(1);
      if (r != shape.length) {
        throw new KernelException(
            "output_shape has "
                + shape.length
                + " elements, but sparse_indices index "
                + r
                + " dimensions");
      }
      if (values.rank() > 1 || values.rank() == 1 && values.dim(0) != n) {
        throw new KernelException(
            "sparse_values has shape "
                + Layout.shape(values.shape())
                + ", should be [] or ["
                + n
                + "]");
      }
      if (dflt.rank() != 0) {
        throw new KernelException(
            "default_value should be a scalar, got shape " + Layout.shape(dflt.shape()));
      }
      for (long d : shape) {
        if (d < 0) {
          throw new KernelException(
              "output_shape must be non-negative, got " + Layout.shape(shape));
        }
      }
      DType t = values.dtype();
      int size = (int) Value.elementCount(shape);
      Object out = Layout.repeat(t, dflt.data(), 0, size);
      long[] previous = null;
      for (int i = 0; i < n; i++) {
        long[] idx = new long[r];
        long off = 0;
        for (int j = 0; j < r; j++) {
          idx[j] = indices.longAt(i * r + j);
          if (idx[j] < 0 || idx[j] >= shape[j]) {
            throw new KernelException(
                "indices["
                    + i
                    + "] = "
                    + Layout.shape(idx)
                    + " is out of bounds: need 0 <= "
                    + "index < "
                    + Layout.shape(shape));
          }
          off = off * shape[j] + idx[j];
        }
        if (validate && previous != null) {
          int cmp = java.util.Arrays.compare(previous, idx);
          if (cmp >= 0) {
            throw new KernelException(
                "indices["
                    + i
                    + "] = "
                    + Layout.shape(idx)
                    + " is "
                    + (cmp == 0 ? "repeated" : "out of order")
                    + " (validate_indices needs sorted, unique indices)");
          }
        }
        previous = idx;
        Layout.copy(t, values.data(), values.rank() == 0 ? 0 : i, out, (int) off, 1);
      }
      return new Value[] {Value.of(t, shape, out)};
    };
  }

  /** merged[indices[m][i], ...] = data[m][i, ...]; later inputs win on repeated indices. */
  static Value dynamicStitch(Value[] in) {
    int n = in.length / 2;
    long max = -1;
    for (int m = 0; m < n; m++) {
      Value idx = in[m];
      Value data = in[n + m];
      long[] ds = data.shape();
      long[] is = idx.shape();
      if (ds.length < is.length
          || !java.util.Arrays.equals(java.util.Arrays.copyOf(ds, is.length), is)) {
        throw new KernelException(
            "data["
                + m
                + "].shape = "
                + Layout.shape(ds)
                + " does not start with indices["
                + m
                + "].shape = "
                + Layout.shape(is));
      }
      for (int i = 0; i < idx.size(); i++) {
        long v = idx.longAt(i);
        if (v < 0) {
          throw new KernelException("indices[" + m + "][" + i + "] = " + v + " is negative");
        }
        max = Math.max(max, v);
      }
    }
    Value d0 = in[n];
    int ir0 = in[0].rank();
    long[] sliceShape = java.util.Arrays.copyOfRange(d0.shape(), ir0, d0.rank());
    long[] shape = new long[sliceShape.length + 1];
    shape[0] = max + 1;
    System.arraycopy(sliceShape, 0, shape, 1, sliceShape.length);
    int slice = (int) Value.elementCount(sliceShape);
    DType t = d0.dtype();
    Value out = Value.zeros(t, shape);
    for (int m = 0; m < n; m++) {
      Value idx = in[m];
      Value data = in[n + m];
      long[] rest = java.util.Arrays.copyOfRange(data.shape(), idx.rank(), data.rank());
      if (!java.util.Arrays.equals(rest, sliceShape)) {
        throw new KernelException(
            "data["
                + m
                + "].shape = "
                + Layout.shape(data.shape())
                + " does not match "
                + "indices["
                + m
                + "].shape + "
                + Layout.shape(sliceShape));
      }
      for (int i = 0; i < idx.size(); i++) {
        Layout.copy(t, data.data(), i * slice, out.data(), (int) idx.longAt(i) * slice, slice);
      }
    }
    return out;
  }
}
