package org.tfport.convert.keras;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.tfport.core.Tensor;

/**
 * Theano's convolution flips its kernel (true convolution); TensorFlow's does not. Keras weights
 * saved under Theano therefore load into TensorFlow-style runtimes only with every spatial axis
 * reversed, which is what Keras' own {@code convert_kernel} does: all axes but the last two (input
 * and output channels).
 */
final class TheanoKernels {
  private TheanoKernels() {}

  static Tensor flip(Tensor t) {
    long[] d = t.shape().dims();
    if (d.length < 3) {
      return t;
    }
    int width = t.dtype().byteSize();
    int inner = Math.toIntExact(d[d.length - 1] * d[d.length - 2]) * width;
    int spatialRank = d.length - 2;
    long spatialCount = 1;
    for (int i = 0; i < spatialRank; i++) {
      spatialCount *= d[i];
    }
    ByteBuffer src = t.bytes();
    ByteBuffer dst = ByteBuffer.allocate(src.remaining()).order(ByteOrder.LITTLE_ENDIAN);
    byte[] block = new byte[inner];
    int[] idx = new int[spatialRank];
    for (long s = 0; s < spatialCount; s++) {
      // Position s in row-major spatial order; its flipped counterpart reverses every coordinate.
      long rem = s;
      for (int i = spatialRank - 1; i >= 0; i--) {
        idx[i] = (int) (rem % d[i]);
        rem /= d[i];
      }
      long flipped = 0;
      for (int i = 0; i < spatialRank; i++) {
        flipped = flipped * d[i] + (d[i] - 1 - idx[i]);
      }
      src.get(Math.toIntExact(flipped * inner), block);
      dst.put(Math.toIntExact(s * inner), block);
    }
    return new Tensor(t.dtype(), t.shape(), dst);
  }
}
