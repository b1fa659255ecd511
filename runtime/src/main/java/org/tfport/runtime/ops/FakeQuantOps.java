package org.tfport.runtime.ops;

import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * Fake quantization (quantization-aware training graphs): float32 in, float32 out, each value
 * snapped to the grid of {@code 2^num_bits} levels over [min, max] after TensorFlow's nudging makes
 * zero exactly representable. The arithmetic is float32 in the order that matches TensorFlow bit
 * for bit.
 */
final class FakeQuantOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("FakeQuantWithMinMaxArgs", FakeQuantOps::args);
    r.reference("FakeQuantWithMinMaxVars", b -> vars(b, false));
    r.reference("FakeQuantWithMinMaxVarsPerChannel", b -> vars(b, true));
  }

  /** The nudged grid: {nudged_min, nudged_max, scale, inv_scale, zero_point}. */
  static float[] nudge(float min, float max, int quantMin, int quantMax) {
    float qmin = quantMin;
    float qmax = quantMax;
    float scale = (max - min) / (qmax - qmin);
    float invScale = (qmax - qmin) / (max - min);
    float zeroPointFromMin = qmin - min / scale;
    float zeroPoint =
        zeroPointFromMin < qmin
            ? quantMin
            : zeroPointFromMin > qmax ? quantMax : roundHalfAway(zeroPointFromMin);
    return new float[] {
      (qmin - zeroPoint) * scale, (qmax - zeroPoint) * scale, scale, invScale, zeroPoint
    };
  }

  private static float roundHalfAway(float x) {
    return (float) (Math.signum(x) * Math.floor(Math.abs(x) + 0.5));
  }

  private static int[] range(BindContext b) {
    long bits = b.intAttr("num_bits", 8);
    if (bits < 2 || bits > 16) {
      throw new KernelException(
          "num_bits is out of range, expected between 2 and 16, was: " + bits);
    }
    boolean narrow = b.boolAttr("narrow_range", false);
    return new int[] {narrow ? 1 : 0, (1 << bits) - 1};
  }

  /**
   * One grid over {@code x[from], x[from + step], ...}: the clamped value divided by the scale,
   * rounded half up, times the scale. Rounding relative to zero (not to nudged_min) is what keeps
   * zero exact. TensorFlow 2.18 divides in the Vars kernels and multiplies by the inverse scale in
   * the Args one; this reproduces both bit for bit (measured over 4, 8 and 16 bits, narrow and full
   * ranges).
   */
  private static void quantize(
      float[] x, float[] out, int from, int to, int step, float[] grid, boolean divide) {
    float lo = grid[0];
    float hi = grid[1];
    float scale = grid[2];
    float inv = grid[3];
    for (int i = from; i < to; i += step) {
      float clamped = Math.max(Math.min(x[i], hi), lo);
      out[i] = (float) Math.floor((divide ? clamped / scale : clamped * inv) + 0.5f) * scale;
    }
  }

  private static Kernel args(BindContext b) {
    int[] q = range(b);
    float min = b.floatAttr("min", -6f);
    float max = b.floatAttr("max", 6f);
    if (!(min < max)) {
      throw new KernelException("min has to be smaller than max, was: " + min + " >= " + max);
    }
    float[] grid = nudge(min, max, q[0], q[1]);
    return (in, ctx) -> {
      Elements.check(in[0], DType.FLOAT32, "inputs");
      float[] x = in[0].floats();
      float[] out = new float[x.length];
      quantize(x, out, 0, x.length, 1, grid, false);
      return new Value[] {Value.floats(in[0].shape(), out)};
    };
  }

  private static Kernel vars(BindContext b, boolean perChannel) {
    int[] q = range(b);
    return (in, ctx) -> {
      Value x = in[0];
      Elements.check(x, DType.FLOAT32, "inputs");
      Elements.check(in[1], DType.FLOAT32, "min");
      Elements.check(in[2], DType.FLOAT32, "max");
      int channels = perChannel ? (x.rank() == 0 ? -1 : (int) x.dim(x.rank() - 1)) : 1;
      if (perChannel
          && (channels < 0
              || in[1].rank() != 1
              || in[1].size() != channels
              || in[2].size() != channels)) {
        throw new KernelException(
            "min and max must be vectors of the inputs' last dimension, got inputs "
                + x
                + ", min "
                + in[1]
                + ", max "
                + in[2]);
      }
      if (!perChannel && (in[1].size() != 1 || in[2].size() != 1)) {
        throw new KernelException("min and max must be scalars, got " + in[1] + " and " + in[2]);
      }
      float[] xs = x.floats();
      float[] out = new float[xs.length];
      for (int c = 0; c < channels; c++) {
        float min = in[1].floats()[c];
        float max = in[2].floats()[c];
        if (min > max) {
          throw new KernelException("min must be <= max, got min " + min + " and max " + max);
        }
        if (min == 0f && max == 0f) {
          continue; // TensorFlow outputs zeros for an empty range rather than dividing by zero.
        }
        quantize(xs, out, c, xs.length, channels, nudge(min, max, q[0], q[1]), true);
      }
      return new Value[] {Value.floats(x.shape(), out)};
    };
  }
}
