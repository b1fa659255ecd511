package org.tfport.formats.savedmodel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;

/**
 * Copies between row-major blocks of a tensor: assembling a partitioned variable from its stored
 * slices.
 */
final class SliceCopy {
  private SliceCopy() {}

  /** The block {start[], length[]} of a whole tensor. */
  static Tensor extract(Tensor whole, long[][] want) {
    long[] dims = whole.shape().dims();
    long[][] all = {new long[dims.length], dims};
    return assemble(whole.dtype(), want, List.of(whole), List.<long[][]>of(all));
  }

  /**
   * The block {@code want} built from {@code parts}, each the block {@code where[i]} of the same
   * tensor, or null when the parts leave some of it uncovered. Stored slices of a variable never
   * overlap.
   */
  static Tensor assemble(DType dt, long[][] want, List<Tensor> parts, List<long[][]> where) {
    int rank = want[0].length;
    long volume = Shape.of(want[1]).size();
    int elem = dt.byteSize();
    ByteBuffer out =
        ByteBuffer.allocate(Math.toIntExact(volume * elem)).order(ByteOrder.LITTLE_ENDIAN);
    long covered = 0;
    for (int p = 0; p < parts.size(); p++) {
      long[] ps = where.get(p)[0];
      long[] pl = where.get(p)[1];
      long[] lo = new long[rank];
      long[] hi = new long[rank];
      long count = 1;
      for (int d = 0; d < rank; d++) {
        lo[d] = Math.max(ps[d], want[0][d]);
        hi[d] = Math.min(ps[d] + pl[d], want[0][d] + want[1][d]);
        count *= Math.max(0, hi[d] - lo[d]);
      }
      if (count == 0) {
        continue;
      }
      covered += count;
      ByteBuffer src = parts.get(p).bytes();
      if (rank == 0) {
        out.put(0, src, src.position(), elem);
        continue;
      }
      long run = (hi[rank - 1] - lo[rank - 1]) * elem;
      long[] idx = lo.clone();
      while (true) {
        long srcOff = 0;
        long dstOff = 0;
        for (int d = 0; d < rank; d++) {
          srcOff = srcOff * pl[d] + (idx[d] - ps[d]);
          dstOff = dstOff * want[1][d] + (idx[d] - want[0][d]);
        }
        out.put((int) (dstOff * elem), src, (int) (src.position() + srcOff * elem), (int) run);
        int d = rank - 2;
        while (d >= 0 && ++idx[d] == hi[d]) {
          idx[d] = lo[d];
          d--;
        }
        if (d < 0) {
          break;
        }
      }
    }
    return covered == volume ? new Tensor(dt, Shape.of(want[1]), out) : null;
  }
}
