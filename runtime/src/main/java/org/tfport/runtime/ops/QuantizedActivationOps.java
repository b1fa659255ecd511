package org.tfport.runtime.ops;

import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.FixedPoint.Multiplier;
import org.tfport.runtime.ops.QuantizedConvOps.Quant;

/**
 * TFLite's quantized SOFTMAX, LOGISTIC and TANH, which compute through tables rather than
 * rescaling.
 *
 * <p>8-bit inputs: LOGISTIC and TANH map each of the 256 input codes through the float function
 * once at bind time (dequantize, apply, round half away from zero onto the output); SOFTMAX keeps a
 * table of exp(−s_in·β·d) for the 256 possible distances d below the row maximum, sums it in float
 * and rounds each probability onto the output (int8, uint8 or int16).
 *
 * <p>int16 inputs (16x8 models, zero points 0): LOGISTIC and TANH rescale the input onto a grid of
 * 1/(3·4096) and interpolate linearly in a 256-entry table of sigmoid(i/24) in 0.16 fixed point;
 * SOFTMAX looks exp and 1/(1+x) up in 513-entry int16 tables with 7-bit interpolation and
 * normalizes in fixed point.
 */
final class QuantizedActivationOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("TfliteQuantizedSoftmax", QuantizedActivationOps::bindSoftmax);
    r.reference("TfliteQuantizedLogistic", b -> bindSigmoidTanh(b, false));
    r.reference("TfliteQuantizedTanh", b -> bindSigmoidTanh(b, true));
  }

  // -------------------------------------------------------------------------------------------
  // 8-bit tables

  /** out[code − min] for every input code of an 8-bit type. */
  private static int[] table8(DType t, Quant in, Quant out, DType outType, boolean tanh) {
    int lo = FixedPoint.min(t);
    int olo = FixedPoint.min(outType);
    int ohi = FixedPoint.max(outType);
    float inverse = 1 / out.scale();
    int[] table = new int[256];
    for (int v = lo; v < lo + 256; v++) {
      float x = in.scale() * (float) (v - in.zeroPoint());
      float f = tanh ? (float) Math.tanh(x) : 1.0f / (1.0f + (float) Math.exp(-x));
      float rescaled = (float) FixedPoint.roundHalfAway(f * inverse);
      int q = (int) (rescaled + out.zeroPoint());
      table[v - lo] = Math.min(Math.max(q, olo), ohi);
    }
    return table;
  }

  // -------------------------------------------------------------------------------------------
  // logistic, tanh

  private static Kernel bindSigmoidTanh(BindContext b, boolean tanh) {
    DType t = QuantizedConvOps.activationType(b);
    Quant in = Quant.of(b, "input");
    Quant out = Quant.of(b, "output");
    if (t != DType.INT16) {
      int[] table = table8(t, in, out, t, tanh);
      int lo = FixedPoint.min(t);
      return (ins, ctx) -> {
        QuantizedConvOps.checkType(ins[0], t, "input");
        int[] q = FixedPoint.widen(ins[0]);
        int[] y = new int[q.length];
        for (int i = 0; i < q.length; i++) {
          y[i] = table[q[i] - lo];
        }
        return new Value[] {FixedPoint.narrow(t, ins[0].shape(), y)};
      };
    }
    if (in.zeroPoint() != 0 || out.zeroPoint() != 0) {
      throw new KernelException("int16 " + (tanh ? "TANH" : "LOGISTIC") + " needs zero points 0");
    }
    Integer outLog2 = QuantizedOps.log2(out.scale());
    if (outLog2 == null || outLog2 != -15) {
      throw new KernelException(
          "int16 "
              + (tanh ? "TANH" : "LOGISTIC")
              + " needs an output scale of 2^-15, got "
              + out.scale());
    }
    int[] grid = int16Grid(in.scale());
    int multiplier = grid[0];
    int shift = grid[1];
    int round = shift > 0 ? 1 << (shift - 1) : 0;
    return (ins, ctx) -> {
      QuantizedConvOps.checkType(ins[0], t, "input");
      int[] q = FixedPoint.widen(ins[0]);
      int[] y = new int[q.length];
      for (int i = 0; i < q.length; i++) {
        int x = (q[i] * multiplier + round) >> shift;
        y[i] = tanh ? tanh16(x) : sigmoid16(x);
      }
      return new Value[] {FixedPoint.narrow(t, ins[0].shape(), y)};
    };
  }

  /**
   * The input rescaling onto the table's grid (3·4096 per unit) as {multiplier, right shift}: exact
   * for input scales 2^-12 and 2^-11, else a multiplier in (2^13, 2^14] and the shift that brings
   * it there.
   */
  static int[] int16Grid(float inputScale) {
    Integer log2 = QuantizedOps.log2(inputScale);
    if (log2 != null) {
      int left = 12 + log2;
      if (left == 0 || left == 1) {
        return new int[] {3 << left, 0};
      }
    }
    double m = (double) inputScale * 4096.0 * 3.0;
    int shift = 0;
    while (m <= 32767.0 / 2.0 && shift <= 30) {
      shift++;
      m *= 2.0;
    }
    return new int[] {(int) m, shift};
  }

  /**
   * sigmoid(i/24) in 0.16 fixed point, each entry nudged so that linear interpolation errs least;
   * last 65535.
   */
  static final int[] SIGMOID_TABLE = sigmoidTable();

  private static int[] sigmoidTable() {
    int[] t = new int[256];
    double step = 1 / 24.0;
    for (int i = 0; i < 255; i++) {
      double x = i / 24.0;
      double v = 65536 * sigmoid(x);
      double next = 65536 * sigmoid(x + step);
      double mid = 65536 * sigmoid(x + step / 2);
      // Half the midpoint error of the chord, moved into the sample.
      t[i] = (int) Math.min(65535, FixedPoint.roundHalfAway(v - ((v + next) / 2 - mid) / 2));
    }
    t[255] = 65535;
    return t;
  }

  private static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }

  /** x on the 1/(3·4096) grid → sigmoid(x) in Q0.15. */
  static int sigmoid16(int x) {
    int a = Math.abs(x);
    int hi = a >>> 9;
    int r;
    if (hi >= 255) {
      r = 0x7FFF << 10;
    } else {
      int ua = SIGMOID_TABLE[hi];
      int ub = SIGMOID_TABLE[hi + 1];
      r = (ua << 9) + (a & 0x1ff) * (ub - ua);
    }
    r = x >= 0 ? r + (1 << 9) : (1 << 25) - r + (1 << 9) - 1;
    return r >> 10;
  }

  /** x on the 1/(3·4096) grid → tanh(x) = 2·sigmoid(2x) − 1 in Q0.15. */
  static int tanh16(int x) {
    int a = Math.abs(x);
    int hi = a >>> 8;
    int r;
    if (hi >= 255) {
      r = 0xFFFF << 8;
    } else {
      int ua = SIGMOID_TABLE[hi];
      int ub = SIGMOID_TABLE[hi + 1];
      r = (ua << 8) + (a & 0xff) * (ub - ua);
    }
    r = x >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    return r >> 8;
  }

  // -------------------------------------------------------------------------------------------
  // softmax

  private static Kernel bindSoftmax(BindContext b) {
    DType t = QuantizedConvOps.activationType(b);
    DType outType = QuantizedOps.outType(b);
    Quant in = Quant.of(b, "input");
    Quant out = Quant.of(b, "output");
    float beta = b.floatAttr("beta", 1f);
    if (t == DType.INT16) {
      if (outType != DType.INT16) {
        throw new KernelException("int16 SOFTMAX writes int16, not " + outType.jsName());
      }
      return softmax16(in, beta);
    }
    // exp(−s·β·d) for d = 255 − index.
    float[] table = new float[256];
    float s = -in.scale() * beta;
    for (int v = 0; v <= 255; v++) {
      table[255 - v] = (float) Math.exp(s * v);
    }
    int lo = FixedPoint.min(outType);
    int hi = FixedPoint.max(outType);
    boolean truncating = outType == DType.UINT8;
    return (ins, ctx) -> {
      Value x = ins[0];
      QuantizedConvOps.checkType(x, t, "input");
      if (x.rank() == 0) {
        throw new KernelException("softmax needs an input of rank ≥ 1");
      }
      int depth = (int) x.dim(x.rank() - 1);
      int[] q = FixedPoint.widen(x);
      int[] y = new int[q.length];
      for (int row = 0; row + depth <= q.length && depth > 0; row += depth) {
        int max = Integer.MIN_VALUE;
        for (int j = 0; j < depth; j++) {
          max = Math.max(max, q[row + j]);
        }
        int offset = 255 - max;
        float sum = 0f;
        for (int j = 0; j < depth; j++) {
          sum += table[offset + q[row + j]];
        }
        float inv = 1.0f / (sum * out.scale());
        for (int j = 0; j < depth; j++) {
          float p = table[offset + q[row + j]] * inv;
          int v =
              truncating ? (int) (p + 0.5f) : (int) FixedPoint.roundHalfAway(p) + out.zeroPoint();
          y[row + j] = Math.min(Math.max(v, lo), hi);
        }
      }
      return new Value[] {FixedPoint.narrow(outType, x.shape(), y)};
    };
  }

  /** int16 → int16 softmax (output scale 2^-15, zero point 0), all in fixed point. */
  private static Kernel softmax16(Quant in, float beta) {
    float range = 65535f;
    short[] expLut = lut16(10.0f / range, 32767, 2.0f / range, 0, true);
    short[] reciprocalLut = lut16(1.0f / range, -32768, 2.0f / range, 0, false);
    Multiplier m = Multiplier.of(in.scale() * beta / (10.0 / 65535.0));
    return (ins, ctx) -> {
      Value x = ins[0];
      QuantizedConvOps.checkType(x, DType.INT16, "input");
      if (x.rank() == 0) {
        throw new KernelException("softmax needs an input of rank ≥ 1");
      }
      int depth = (int) x.dim(x.rank() - 1);
      short[] q = x.shorts();
      short[] y = new short[q.length];
      int[] e = new int[depth];
      for (int row = 0; row + depth <= q.length && depth > 0; row += depth) {
        int max = Short.MIN_VALUE;
        for (int j = 0; j < depth; j++) {
          max = Math.max(max, q[row + j]);
        }
        int sum = 0;
        for (int j = 0; j < depth; j++) {
          // [-65535, 0] on the table's [-10, 0], recentred on [-32768, 32767].
          int scaled = m.apply(q[row + j] - max) + 32767;
          e[j] = lookup(expLut, (short) Math.min(Math.max(scaled, -32768), 32767));
          sum += e[j];
        }
        int headroomPlusOne = Integer.numberOfLeadingZeros(sum);
        int shiftedSum = (int) ((((long) sum << (headroomPlusOne - 1)) + (1 << 13)) >> 14);
        // 1/(1 + x) for x = sum − 1, recentred from [0, 65535] to [-32768, 32767].
        int centred = shiftedSum - ((1 << 15) + (1 << 16));
        int reciprocal = lookup(reciprocalLut, (short) Math.min(Math.max(centred, -32768), 32767));
        int rightShift = 31 - headroomPlusOne;
        long round = 1L << (rightShift - 1);
        for (int j = 0; j < depth; j++) {
          int r = (int) (((long) e[j] * reciprocal + round) >> rightShift);
          y[row + j] = (short) Math.min(Math.max(r, 0), 32767);
        }
      }
      return new Value[] {Value.of(DType.INT16, x.shape(), y)};
    };
  }

  /**
   * A 513-entry int16 table of exp (or 1/(1 + x)) over the real range of the int16 input codes: 512
   * samples, each moved by half the error of the interpolated midpoint, and the end point. All in
   * float, as TFLite builds it.
   */
  static short[] lut16(float inScale, int inZero, float outScale, int outZero, boolean exp) {
    float inMin = inScale * (float) (-32768 - inZero);
    float inMax = inScale * (float) (32767 - inZero);
    float outMin = outScale * (float) (-32768 - outZero);
    float outMax = outScale * (float) (32767 - outZero);
    int steps = 512;
    float step = (inMax - inMin) / steps;
    float half = step / 2;
    float inv = 65536f / (outMax - outMin);
    short[] lut = new short[steps + 1];
    for (int i = 0; i < steps; i++) {
      float v = f16(inMin + i * step, exp);
      float mid = f16(inMin + i * step + half, exp);
      float next = f16(inMin + (i + 1) * step, exp);
      float sample = round(v * inv);
      float interpolated = round((next * inv + round(v * inv)) / 2);
      float midSample = round(mid * inv);
      float bias = round((interpolated - midSample) / 2);
      lut[i] = (short) Math.min(Math.max(sample - bias, -32768f), 32767f);
    }
    lut[steps] = (short) Math.min(Math.max(round(f16(inMax, exp) * inv), -32768f), 32767f);
    return lut;
  }

  private static float f16(float x, boolean exp) {
    return exp ? (float) Math.exp(x) : 1.0f / (1.0f + x);
  }

  private static float round(float x) {
    return (float) FixedPoint.roundHalfAway(x);
  }

  /** Table entry for the top 9 bits of {@code v}, plus the slope times its low 7 bits, rounded. */
  static int lookup(short[] lut, short v) {
    int index = 256 + (v >> 7);
    int offset = v & 0x7f;
    int base = lut[index];
    int slope = lut[index + 1] - base;
    return (short) (base + ((slope * offset + 64) >> 7));
  }
}
