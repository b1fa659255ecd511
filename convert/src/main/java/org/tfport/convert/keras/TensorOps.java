package org.tfport.convert.keras;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;

/**
 * Layout changes on dense tensors, done on raw element bytes so they work for any fixed-width dtype and
 * never round values: weight conversion must reproduce the stored numbers exactly.
 */
final class TensorOps {
  private TensorOps() {}

  /** Axis {@code i} of the result is axis {@code perm[i]} of {@code t} (numpy's {@code transpose}). */
  static Tensor permute(Tensor t, int... perm) {
    long[] d = t.shape().dims();
    if (perm.length != d.length) {
      throw new IllegalArgumentException("permutation of rank " + perm.length + " for a tensor of shape "
          + t.shape());
    }
    int rank = d.length;
    long[] srcStride = new long[rank];
    long s = 1;
    for (int i = rank - 1; i >= 0; i--) {
      srcStride[i] = s;
      s *= d[i];
    }
    long[] outDims = new long[rank];
    long[] stride = new long[rank];
    for (int i = 0; i < rank; i++) {
      outDims[i] = d[perm[i]];
      stride[i] = srcStride[perm[i]];
    }
    int width = t.dtype().byteSize();
    ByteBuffer src = t.bytes();
    ByteBuffer dst = ByteBuffer.allocate(src.remaining()).order(ByteOrder.LITTLE_ENDIAN);
    byte[] elem = new byte[width];
    long[] idx = new long[rank];
    long n = t.shape().size();
    long offset = 0;
    for (long k = 0; k < n; k++) {
      if (width == 4) {
        dst.putInt(Math.toIntExact(k * 4), src.getInt(Math.toIntExact(offset * 4)));
      } else {
        src.get(Math.toIntExact(offset * width), elem);
        dst.put(Math.toIntExact(k * width), elem);
      }
      // Odometer over the output index; the source offset follows without any division.
      for (int i = rank - 1; i >= 0; i--) {
        idx[i]++;
        offset += stride[i];
        if (idx[i] < outDims[i]) {
          break;
        }
        offset -= stride[i] * outDims[i];
        idx[i] = 0;
      }
    }
    return new Tensor(t.dtype(), Shape.of(outDims), dst);
  }

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
        throw new IllegalArgumentException("cannot join " + p.dtype().jsName() + p.shape() + " to "
            + first.dtype().jsName() + first.shape() + " along the last axis");
      }
      last += pd[rank - 1];
    }
    int width = first.dtype().byteSize();
    long[] outDims = d.clone();
    outDims[rank - 1] = last;
    ByteBuffer dst = ByteBuffer.allocate(Math.toIntExact(rows * last * width)).order(ByteOrder.LITTLE_ENDIAN);
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
