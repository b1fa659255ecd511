package org.tfport.runtime.ops;

import java.util.Arrays;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.Memory;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.RunContext;
import org.tfport.runtime.kernel.Value;

/**
 * Optimized float32 Pad and PadV2: the output is filled with the constant once and each innermost
 * row of the input is copied in one {@code System.arraycopy}, where the reference kernel looks up
 * every output element through per-axis tables (BlazeFace/FaceMesh pad channels of every residual
 * shortcut this way). Copies are exact, so the results are the reference's bits; other types run
 * the reference kernel.
 */
final class FastPadOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.optimized("Pad", b -> FastPadOps::pad);
    r.optimized("PadV2", b -> FastPadOps::pad);
  }

  private static Value[] pad(Value[] in, RunContext ctx) {
    Value x = in[0];
    Value constant = in.length > 2 ? in[2] : null;
    if (x.dtype() != DType.FLOAT32
        || x.rank() == 0
        || (constant != null && (constant.dtype() != DType.FLOAT32 || constant.size() != 1))) {
      return new Value[] {ArrayOps.pad(x, in[1], constant)};
    }
    int rank = x.rank();
    long[][] p = ArrayOps.paddings(in[1], rank, "paddings");
    long[] shape = new long[rank];
    for (int d = 0; d < rank; d++) {
      shape[d] = p[d][0] + x.dim(d) + p[d][1];
    }
    Memory.reserve(DType.FLOAT32, shape);
    // An arena buffer holds old values: fill it all (only the padding needs it, but one pass over
    // the output is cheap next to the copies).
    float[] y = FastKernels.floats(ctx, Math.toIntExact(Value.elementCount(shape)));
    Arrays.fill(y, constant == null ? 0f : constant.floats()[0]);
    float[] xs = x.floats();
    if (xs.length == 0) {
      return new Value[] {Value.of(DType.FLOAT32, shape, y)};
    }
    int[] outStrides = Layout.strides(shape);
    int row = Math.toIntExact(x.dim(rank - 1));
    int[] index = new int[rank - 1];
    int out = 0;
    for (int d = 0; d < rank; d++) {
      out += (int) p[d][0] * outStrides[d];
    }
    for (int src = 0; src < xs.length; src += row) {
      System.arraycopy(xs, src, y, out, row);
      // Next input row: carry the index like an odometer, moving the output offset along.
      for (int d = rank - 2; d >= 0; d--) {
        if (++index[d] < x.dim(d)) {
          out += outStrides[d];
          break;
        }
        out -= (index[d] - 1) * outStrides[d];
        index[d] = 0;
      }
    }
    return new Value[] {Value.of(DType.FLOAT32, shape, y)};
  }
}
