package org.tfport.convert.keras;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;

/**
 * Layout changes on dense tensors, done on raw element bytes so they work for any fixed-width dtype
 * and never round values: weight conversion must reproduce the stored numbers exactly.
 */
final class TensorOps {
  private TensorOps() {}

  /** Joins tensors that agree on every axis but the last along the last axis (numpy's axis=-1). */
  static Tensor concatLast(List<Tensor> parts) {
    Tensor first = parts.getFirst();
    long[] d = first.shape().dims();
    int rank = d.length;
    long rows = 1;
    for (int i = 0; i < rank - 1; i++) {
      rows *= d[i];
    }
    long last = 0;
    for (Tensor p : parts) {
      long[] pd = p.shape().dims();
      boolean same = pd.length == rank && p.dtype() == first.dtype();
      for (int i = 0; same && i < rank - 1; i++) {
        same = pd[i] == d[i];
      }
      if (!same) {
        throw new IllegalArgumentException(
            "cannot join "
                + p.dtype().jsName()
                + p.shape()
                + " to "
                + first.dtype().jsName()
                + first.shape()
                + " along the last axis");
      }
      last += pd[rank - 1];
    }
    int width = first.dtype().byteSize();
    long[] outDims = d.clone();
    outDims[rank - 1] = last;
    ByteBuffer dst =
        ByteBuffer.allocate(Math.toIntExact(rows * last * width)).order(ByteOrder.LITTLE_ENDIAN);
    for (long r = 0; r < rows; r++) {
      for (Tensor p : parts) {
        int run = Math.toIntExact(p.shape().dims()[rank - 1] * width);
        ByteBuffer src = p.bytes();
        src.position(Math.toIntExact(r * run)).limit(Math.toIntExact(r * run + run));
        dst.put(src);
      }
    }
    return new Tensor(first.dtype(), Shape.of(outDims), dst.flip());
  }

  /** The same elements in the same order under another shape of equal size. */
  static Tensor reshape(Tensor t, long... dims) {
    return new Tensor(t.dtype(), Shape.of(dims), t.bytes());
  }
}
