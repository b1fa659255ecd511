package org.tfport.runtime.ops;

import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.Memory;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.FixedPoint.Multiplier;
import org.tfport.runtime.ops.QuantizedConvOps.Quant;

/**
 * TFLite's integer RESIZE_BILINEAR and HARD_SWISH.
 *
 * <p>{@code TfliteQuantizedResizeBilinear} interpolates the codes themselves (input and output
 * share their quantization). uint8 follows TFLite's float reference: source coordinates and weights
 * in float, the sum plus 0.5 truncated. int8 and int16 follow its integer kernel: scales and
 * coordinates in 1/1024ths, the four products summed in int64 and divided by 2^20 rounding halves
 * away from zero.
 *
 * <p>{@code TfliteQuantizedHardSwish} computes x·relu6(x+3)/6 in 16-bit fixed point: the input
 * (minus its zero point) shifted left 7 bits, one path rescaled to the output scale, the other to a
 * "reluish" value in [-1, 1] (3/32768 per unit) mapped onto [0, 1], their doubling high product
 * shifted onto the output; both multipliers are TFLite's 32-bit ones rounded to 16 bits.
 */
final class QuantizedResizeOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("TfliteQuantizedResizeBilinear", QuantizedResizeOps::bindResize);
    r.reference("TfliteQuantizedHardSwish", QuantizedResizeOps::bindHardSwish);
  }

  // ---------------------------------------------------------------------------------------------
  // resize

  private static Kernel bindResize(BindContext b) {
    DType t = QuantizedConvOps.activationType(b);
    boolean align = b.boolAttr("align_corners", false);
    boolean half = b.boolAttr("half_pixel_centers", false);
    if (align && half) {
      throw new KernelException("align_corners and half_pixel_centers cannot both be set");
    }
    return (ins, ctx) -> {
      Value x = ins[0];
      QuantizedConvOps.checkType(x, t, "input");
      long[] size = ins[1].toLongArray();
      if (x.rank() != 4 || size.length != 2) {
        throw new KernelException("RESIZE_BILINEAR takes a 4-D input and 2 sizes");
      }
      if (size[0] <= 0 || size[1] <= 0) {
        throw new KernelException(
            "the output size " + size[0] + "x" + size[1] + " is not positive");
      }
      int n = (int) x.dim(0);
      int ih = (int) x.dim(1);
      int iw = (int) x.dim(2);
      int c = (int) x.dim(3);
      long[] shape = {n, size[0], size[1], c};
      Memory.reserve(t, shape);
      int oh = (int) size[0];
      int ow = (int) size[1];
      int[] in = FixedPoint.widen(x);
      int[] out = new int[Math.toIntExact(Value.elementCount(shape))];
      if (t == DType.UINT8) {
        floatResize(in, out, n, ih, iw, c, oh, ow, align, half);
      } else {
        integerResize(in, out, n, ih, iw, c, oh, ow, align, half);
      }
      return new Value[] {FixedPoint.narrow(t, shape, out)};
    };
  }

  private static void floatResize(
      int[] in,
      int[] out,
      int n,
      int ih,
      int iw,
      int c,
      int oh,
      int ow,
      boolean align,
      boolean half) {
    float hs = align && oh > 1 ? (float) (ih - 1) / (oh - 1) : (float) ih / oh;
    float ws = align && ow > 1 ? (float) (iw - 1) / (ow - 1) : (float) iw / ow;
    for (int b = 0; b < n; b++) {
      for (int y = 0; y < oh; y++) {
        float sy = half ? (y + 0.5f) * hs - 0.5f : y * hs;
        int y0 = Math.max((int) Math.floor(sy), 0);
        int y1 = Math.min((int) Math.ceil(sy), ih - 1);
        for (int x = 0; x < ow; x++) {
          float sx = half ? (x + 0.5f) * ws - 0.5f : x * ws;
          int x0 = Math.max((int) Math.floor(sx), 0);
          int x1 = Math.min((int) Math.ceil(sx), iw - 1);
          for (int k = 0; k < c; k++) {
            float v =
                in[((b * ih + y0) * iw + x0) * c + k] * (1 - (sy - y0)) * (1 - (sx - x0))
                    + in[((b * ih + y1) * iw + x0) * c + k] * (sy - y0) * (1 - (sx - x0))
                    + in[((b * ih + y0) * iw + x1) * c + k] * (1 - (sy - y0)) * (sx - x0)
                    + in[((b * ih + y1) * iw + x1) * c + k] * (sy - y0) * (sx - x0);
            out[((b * oh + y) * ow + x) * c + k] = (int) (v + 0.5f);
          }
        }
      }
    }
  }

  /** Source coordinate of {@code v} in 1/1024ths and its two neighbours, {scaled, lower, upper}. */
  private static int[] coordinate(int v, int scale10, boolean half, int size) {
    int scaled = half ? v * scale10 + scale10 / 2 - (1 << 9) : v * scale10;
    int lower = Math.max(scaled / (1 << 10), 0);
    int upper = Math.min((scaled + (1 << 10) - 1) / (1 << 10), size - 1);
    return new int[] {scaled, lower, upper};
  }

  private static void integerResize(
      int[] in,
      int[] out,
      int n,
      int ih,
      int iw,
      int c,
      int oh,
      int ow,
      boolean align,
      boolean half) {
    int hs = ((1 << 10) * ih + oh / 2) / oh;
    int ws = ((1 << 10) * iw + ow / 2) / ow;
    if (align && oh > 1) {
      hs = ((1 << 10) * (ih - 1) + (oh - 1) / 2) / (oh - 1);
    }
    if (align && ow > 1) {
      ws = ((1 << 10) * (iw - 1) + (ow - 1) / 2) / (ow - 1);
    }
    for (int b = 0; b < n; b++) {
      for (int y = 0; y < oh; y++) {
        int[] cy = coordinate(y, hs, half, ih);
        long dy = cy[0] - (1 << 10) * (long) cy[1];
        for (int x = 0; x < ow; x++) {
          int[] cx = coordinate(x, ws, half, iw);
          long dx = cx[0] - (1 << 10) * (long) cx[1];
          for (int k = 0; k < c; k++) {
            long sum =
                in[((b * ih + cy[1]) * iw + cx[1]) * c + k] * ((1 << 10) - dy) * ((1 << 10) - dx)
                    + in[((b * ih + cy[2]) * iw + cx[1]) * c + k] * dy * ((1 << 10) - dx)
                    + in[((b * ih + cy[1]) * iw + cx[2]) * c + k] * ((1 << 10) - dy) * dx
                    + in[((b * ih + cy[2]) * iw + cx[2]) * c + k] * dy * dx;
            long round = sum > 0 ? 1 << 19 : -(1 << 19);
            out[((b * oh + y) * ow + x) * c + k] = (int) ((sum + round) / (1 << 20));
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // hard swish

  /** A 32-bit multiplier's significand rounded to 16 bits (saturating), as TFLite shortens it. */
  static int toInt16(int significand) {
    if (significand >= Integer.MAX_VALUE - (1 << 15)) {
      return Short.MAX_VALUE;
    }
    return (significand + (1 << 15)) >> 16;
  }

  static int saturate16(int v) {
    return Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, v));
  }

  /** gemmlowp's 16-bit SaturatingRoundingDoublingHighMul. */
  static int roundingHighMul16(int a, int b) {
    if (a == Short.MIN_VALUE && b == Short.MIN_VALUE) {
      return Short.MAX_VALUE;
    }
    int ab = a * b;
    int nudge = ab >= 0 ? 1 << 14 : 1 - (1 << 14);
    return (short) ((ab + nudge) / (1 << 15));
  }

  /** The 16-bit doubling high product truncated toward zero (no rounding nudge). */
  static int highMul16(int a, int b) {
    if (a == Short.MIN_VALUE && b == Short.MIN_VALUE) {
      return Short.MAX_VALUE;
    }
    return (short) ((a * b) / (1 << 15));
  }

  private static Kernel bindHardSwish(BindContext b) {
    DType t = QuantizedConvOps.activationType(b);
    if (t == DType.INT16) {
      throw new KernelException("HARD_SWISH has no int16 kernel in TFLite");
    }
    Quant in = Quant.of(b, "input");
    Quant out = Quant.of(b, "output");
    float hires = (1.0f / 128.0f) * in.scale();
    Multiplier om = Multiplier.of(hires / out.scale());
    Multiplier rm = Multiplier.of(hires / (3.0f / 32768.0f));
    int outputMultiplier = toInt16(om.significand());
    int outputShift = om.shift();
    if (outputShift > 0) {
      throw new KernelException(
          "HARD_SWISH's output scale " + out.scale() + " is below input scale / 128");
    }
    int reluMultiplier = toInt16(rm.significand());
    int reluShift = rm.shift();
    int lo = FixedPoint.min(t);
    int hi = FixedPoint.max(t);
    return (ins, ctx) -> {
      QuantizedConvOps.checkType(ins[0], t, "input");
      int[] q = FixedPoint.widen(ins[0]);
      int[] y = new int[q.length];
      for (int i = 0; i < q.length; i++) {
        int hiresValue = (short) ((q[i] - in.zeroPoint()) * (1 << 7));
        int preshift = roundingHighMul16(hiresValue, outputMultiplier);
        int relu = hiresValue;
        if (reluShift > 0) {
          relu = saturate16(relu * (1 << (reluShift - 1)));
        }
        relu = roundingHighMul16(relu, reluMultiplier);
        if (reluShift > 0) {
          relu = saturate16(relu * 2);
        }
        if (reluShift < 0) {
          relu = FixedPoint.roundingDivideByPOT(relu, -reluShift);
        }
        relu = (relu + (1 << 15)) >> 1;
        int v = highMul16(relu, preshift);
        v = FixedPoint.roundingDivideByPOT(v, -outputShift) + out.zeroPoint();
        y[i] = Math.min(hi, Math.max(lo, v));
      }
      return new Value[] {FixedPoint.narrow(t, ins[0].shape(), y)};
    };
  }
}
