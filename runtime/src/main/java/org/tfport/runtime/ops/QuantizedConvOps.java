package org.tfport.runtime.ops;

import java.util.Arrays;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.FixedPoint.Multiplier;

/**
 * TFLite's integer convolutions, dense layers and pools on quantized tensors, in TFLite's layouts
 * (NHWC inputs; CONV_2D filters OHWI, DEPTHWISE_CONV_2D [1, H, W, C·M], FULLY_CONNECTED [out, in],
 * TRANSPOSE_CONV OHWI): products of (q − zero point) accumulated exactly, plus the int32 (int64 for
 * 16x8) bias, requantized per output channel by M = s_in·s_w / s_out ({@link FixedPoint}), plus the
 * output zero point, clamped to the fused activation's quantized range. 8-bit models requantize a
 * 32-bit accumulator, 16x8 models (int16 activations) a 64-bit one, each with TFLite's rounding for
 * that width. The quantization parameters are attributes written by the {@code .tflite} importer
 * (see {@code TfliteImporter}).
 */
final class QuantizedConvOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("TfliteQuantizedConv2D", b -> bindConv(b, false));
    r.reference("TfliteQuantizedDepthwiseConv2D", b -> bindConv(b, true));
    r.reference("TfliteQuantizedFullyConnected", QuantizedConvOps::bindFullyConnected);
    r.reference("TfliteQuantizedTransposeConv", QuantizedConvOps::bindTransposeConv);
    r.reference("TfliteQuantizedAvgPool", b -> bindPool(b, false));
    r.reference("TfliteQuantizedMaxPool", b -> bindPool(b, true));
  }

  /**
   * A tensor's quantization, read from attributes {@code <role>_scale} and {@code
   * <role>_zero_point}.
   */
  record Quant(float scale, int zeroPoint) {
    static Quant of(BindContext b, String role) {
      float s = b.floatAttr(role + "_scale", Float.NaN);
      if (!(s > 0) || Float.isInfinite(s)) {
        throw new KernelException(
            "attribute '"
                + role
                + "_scale' is "
                + (Float.isNaN(s) ? "missing" : s)
                + "; a quantized tensor needs a positive finite scale");
      }
      return new Quant(s, (int) b.intAttr(role + "_zero_point", 0));
    }
  }

  /** The activation type {@code T} (int8, uint8 or int16). */
  static DType activationType(BindContext b) {
    DType t = b.typeAttr("T");
    if (t != DType.INT8 && t != DType.UINT8 && t != DType.INT16) {
      throw new KernelException(
          "T is " + t.jsName() + "; quantized kernels take int8, uint8 or int16");
    }
    return t;
  }

  static void checkType(Value v, DType t, String what) {
    if (v.dtype() != t) {
      throw new KernelException(what + " is " + v.dtype().jsName() + ", expected " + t.jsName());
    }
  }

  /** The fused activation's quantized range on the output. */
  static int[] range(BindContext b, DType t, Quant out) {
    return FixedPoint.activationRange(
        b.stringAttr("fused_activation_function", "NONE"), t, out.scale(), out.zeroPoint());
  }

  /**
   * Per output channel multipliers s_in·s_w[c] / s_out (one weight scale for all channels, or one
   * each).
   */
  static Multiplier[] multipliers(BindContext b, Quant in, Quant out, int channels) {
    float[] ws = b.floatsAttr("filter_scales", null);
    if (ws == null || ws.length == 0 || ws.length != 1 && ws.length != channels) {
      throw new KernelException(
          "attribute 'filter_scales' has "
              + (ws == null ? 0 : ws.length)
              + " scales for "
              + channels
              + " output channels");
    }
    // TFLite's scalar multiplier (uint8 convolutions, and FULLY_CONNECTED with one filter scale)
    // rounds the input·filter scale product to float before dividing in double
    // (GetQuantizedConvolutionMultipler); its per-channel multipliers (int8/int16 convolutions,
    // per-channel FULLY_CONNECTED) keep the product in double. The two differ in the
    // significand's last bit for some scales, which moves near-tie outputs by one code.
    boolean legacy =
        activationType(b) == DType.UINT8
            || ws.length == 1 && b.op().equals("TfliteQuantizedFullyConnected");
    Multiplier[] m = new Multiplier[channels];
    for (int c = 0; c < channels; c++) {
      float w = ws[ws.length == 1 ? 0 : c];
      double product = legacy ? (double) (in.scale() * w) : (double) in.scale() * w;
      m[c] = Multiplier.of(product / (double) out.scale());
    }
    return m;
  }

  /** −zero point of each output channel's weights. */
  static int[] filterOffsets(BindContext b, int channels) {
    long[] zp = b.intsAttr("filter_zero_points", new long[0]);
    int[] out = new int[channels];
    for (int c = 0; c < channels; c++) {
      out[c] = zp.length == 0 ? 0 : (int) -zp[zp.length == 1 ? 0 : c];
    }
    return out;
  }

  /** The weights (constant: widened once), or null when they arrive at run time. */
  static int[] constantWeights(BindContext b, int input) {
    Value w = b.constantInput(input);
    return w == null ? null : FixedPoint.widen(w);
  }

  /** {@code [stride_h, stride_w]} from a 4-entry NHWC list attribute (1 when absent). */
  static int[] hw(BindContext b, String attr) {
    long[] v = b.intsAttr(attr, new long[] {1, 1, 1, 1});
    if (v.length != 4 || v[1] < 1 || v[2] < 1) {
      throw new KernelException(
          "attribute '" + attr + "' " + Arrays.toString(v) + " is not [1, h, w, 1] with h, w ≥ 1");
    }
    return new int[] {(int) v[1], (int) v[2]};
  }

  static boolean same(BindContext b) {
    String p = b.stringAttr("padding", "VALID");
    if (!p.equals("SAME") && !p.equals("VALID")) {
      throw new KernelException("padding '" + p + "' is not SAME or VALID");
    }
    return p.equals("SAME");
  }

  /** Output size along one axis, TFLite's rule. */
  static int outSize(boolean same, int in, int filter, int stride, int dilation) {
    int effective = (filter - 1) * dilation + 1;
    int out = same ? (in + stride - 1) / stride : (in + stride - effective) / stride;
    return Math.max(out, 0);
  }

  /** Padding before, TFLite's rule: half of the total, the odd cell after. */
  static int padBefore(boolean same, int in, int out, int filter, int stride, int dilation) {
    if (!same) {
      return 0;
    }
    int effective = (filter - 1) * dilation + 1;
    return Math.max((out - 1) * stride + effective - in, 0) / 2;
  }

  static void checkRank(Value v, int rank, String what) {
    if (v.rank() != rank) {
      throw new KernelException(
          what + " must be " + rank + "-D, got shape " + Arrays.toString(v.shape()));
    }
  }

  // -------------------------------------------------------------------------------------------
  // conv

  static Kernel bindConv(BindContext b, boolean depthwise) {
    DType t = activationType(b);
    Quant in = Quant.of(b, "input");
    Quant out = Quant.of(b, "output");
    int[] act = range(b, t, out);
    int[] stride = hw(b, "strides");
    int[] dilation = hw(b, "dilations");
    boolean same = same(b);
    int[] fixed = constantWeights(b, 1);
    boolean wide = t == DType.INT16;
    int multiplier = (int) b.intAttr("depth_multiplier", 0);
    return (ins, ctx) -> {
      Value x = ins[0];
      Value f = ins[1];
      checkType(x, t, "input");
      checkRank(x, 4, "input");
      checkRank(f, 4, "filter");
      int n = (int) x.dim(0);
      int h = (int) x.dim(1);
      int w = (int) x.dim(2);
      int c = (int) x.dim(3);
      int oc = (int) f.dim(depthwise ? 3 : 0);
      int kh = (int) f.dim(1);
      int kw = (int) f.dim(2);
      int fc = depthwise ? 1 : (int) f.dim(3);
      int m = depthwise ? (multiplier > 0 ? multiplier : oc / Math.max(c, 1)) : 0;
      if (depthwise ? f.dim(0) != 1 || oc != c * m : fc == 0 || c % fc != 0 || oc % (c / fc) != 0) {
        throw new KernelException(
            (depthwise ? "depthwise filter " : "filter ")
                + Arrays.toString(f.shape())
                + " does not fit input "
                + Arrays.toString(x.shape()));
      }
      long[] bias = FixedPoint.bias(ins.length > 2 ? ins[2] : null, oc);
      Multiplier[] mult = multipliers(b, in, out, oc);
      int[] wOff = filterOffsets(b, oc);
      int[] wq = fixed != null ? fixed : FixedPoint.widen(f);
      int[] xq = FixedPoint.widen(x);
      int oh = outSize(same, h, kh, stride[0], dilation[0]);
      int ow = outSize(same, w, kw, stride[1], dilation[1]);
      int pt = padBefore(same, h, oh, kh, stride[0], dilation[0]);
      int pl = padBefore(same, w, ow, kw, stride[1], dilation[1]);
      int groupOut = depthwise ? 0 : oc / (c / fc);
      int[] y = new int[n * oh * ow * oc];
      int inOff = -in.zeroPoint();
      int o = 0;
      for (int b0 = 0; b0 < n; b0++) {
        for (int oy = 0; oy < oh; oy++) {
          for (int ox = 0; ox < ow; ox++) {
            for (int ch = 0; ch < oc; ch++) {
              long acc = 0;
              int wo = wOff[ch];
              for (int ky = 0; ky < kh; ky++) {
                int iy = oy * stride[0] - pt + ky * dilation[0];
                if (iy < 0 || iy >= h) {
                  continue;
                }
                for (int kx = 0; kx < kw; kx++) {
                  int ix = ox * stride[1] - pl + kx * dilation[1];
                  if (ix < 0 || ix >= w) {
                    continue;
                  }
                  int xb = ((b0 * h + iy) * w + ix) * c;
                  if (depthwise) {
                    acc += (long) (xq[xb + ch / m] + inOff) * (wq[(ky * kw + kx) * oc + ch] + wo);
                  } else {
                    int first = ch / groupOut * fc;
                    int wb = ((ch * kh + ky) * kw + kx) * fc;
                    for (int k = 0; k < fc; k++) {
                      acc += (long) (xq[xb + first + k] + inOff) * (wq[wb + k] + wo);
                    }
                  }
                }
              }
              y[o++] = requantize(acc, bias, ch, mult[ch], wide, out.zeroPoint(), act);
            }
          }
        }
      }
      return new Value[] {FixedPoint.narrow(t, new long[] {n, oh, ow, oc}, y)};
    };
  }

  /**
   * acc + bias, times the channel's multiplier (the 32-bit form for 8-bit models, whose
   * accumulators TFLite keeps in int32, the 64-bit form for 16x8), plus the zero point, clamped.
   */
  static int requantize(
      long acc, long[] bias, int ch, Multiplier m, boolean wide, int zeroPoint, int[] act) {
    if (bias != null) {
      acc += bias[ch];
    }
    int v = wide ? m.apply(acc) : m.apply((int) acc);
    v += zeroPoint;
    return Math.min(Math.max(v, act[0]), act[1]);
  }

  // -------------------------------------------------------------------------------------------
  // dense

  static Kernel bindFullyConnected(BindContext b) {
    DType t = activationType(b);
    Quant in = Quant.of(b, "input");
    Quant out = Quant.of(b, "output");
    int[] act = range(b, t, out);
    boolean keepDims = b.boolAttr("keep_num_dims", false);
    int[] fixed = constantWeights(b, 1);
    boolean int16 = t == DType.INT16;
    return (ins, ctx) -> {
      Value x = ins[0];
      Value f = ins[1];
      checkType(x, t, "input");
      checkRank(f, 2, "weights");
      int units = (int) f.dim(0);
      int depth = (int) f.dim(1);
      int size = x.size();
      if (depth == 0 ? size != 0 : size % depth != 0) {
        throw new KernelException(
            "input "
                + Arrays.toString(x.shape())
                + " does not split into rows of "
                + depth
                + " (weights "
                + Arrays.toString(f.shape())
                + ")");
      }
      int rows = depth == 0 ? 0 : size / depth;
      long[] bias = FixedPoint.bias(ins.length > 2 ? ins[2] : null, units);
      Multiplier[] mult = multipliers(b, in, out, units);
      int[] wOff = filterOffsets(b, units);
      // TFLite runs a 16x8 FULLY_CONNECTED on its reference kernel (64-bit accumulator and
      // multiplier) only with an int64 bias or a nonzero zero point; otherwise on its GEMM
      // library, which accumulates in int32 and requantizes as the 8-bit kernels do (measured
      // against TFLite 2.18: TfliteInt16FullyConnectedTest).
      boolean wide =
          int16
              && (in.zeroPoint() != 0
                  || out.zeroPoint() != 0
                  || Arrays.stream(wOff).anyMatch(o -> o != 0)
                  || ins.length > 2 && ins[2].dtype() == DType.INT64);
      int[] wq = fixed != null ? fixed : FixedPoint.widen(f);
      int[] xq = FixedPoint.widen(x);
      int inOff = -in.zeroPoint();
      int[] y = new int[rows * units];
      for (int r = 0; r < rows; r++) {
        for (int u = 0; u < units; u++) {
          long acc = 0;
          int wo = wOff[u];
          int xb = r * depth;
          int wb = u * depth;
          for (int k = 0; k < depth; k++) {
            acc += (long) (xq[xb + k] + inOff) * (wq[wb + k] + wo);
          }
          y[r * units + u] = requantize(acc, bias, u, mult[u], wide, out.zeroPoint(), act);
        }
      }
      long[] shape;
      if (keepDims) {
        shape = x.shape().clone();
        shape[shape.length - 1] = units;
      } else {
        shape = new long[] {rows, units};
      }
      return new Value[] {FixedPoint.narrow(t, shape, y)};
    };
  }

  // -------------------------------------------------------------------------------------------
  // transpose conv

  /**
   * Inputs [output shape, OHWI weights, x, bias?]: each input cell scattered through the filter
   * into an exact accumulator per output cell, then requantized like a convolution.
   */
  private static Kernel bindTransposeConv(BindContext b) {
    DType t = activationType(b);
    Quant in = Quant.of(b, "input");
    Quant out = Quant.of(b, "output");
    int[] act = range(b, t, out);
    int[] stride = hw(b, "strides");
    boolean same = same(b);
    int[] fixed = constantWeights(b, 1);
    boolean wide = t == DType.INT16;
    return (ins, ctx) -> {
      long[] shape = ins[0].toLongArray();
      Value f = ins[1];
      Value x = ins[2];
      checkType(x, t, "input");
      checkRank(x, 4, "input");
      checkRank(f, 4, "filter");
      if (shape.length != 4
          || shape[0] != x.dim(0)
          || shape[3] != f.dim(0)
          || f.dim(3) != x.dim(3)) {
        throw new KernelException(
            "output shape "
                + Arrays.toString(shape)
                + ", filter "
                + Arrays.toString(f.shape())
                + " and input "
                + Arrays.toString(x.shape())
                + " do not fit together");
      }
      int n = (int) x.dim(0);
      int h = (int) x.dim(1);
      int w = (int) x.dim(2);
      int c = (int) x.dim(3);
      int oc = (int) f.dim(0);
      int kh = (int) f.dim(1);
      int kw = (int) f.dim(2);
      int oh = (int) shape[1];
      int ow = (int) shape[2];
      // The padding of the convolution this one is the transpose of: output and input swap roles.
      int pt = padBefore(same, oh, h, kh, stride[0], 1);
      int pl = padBefore(same, ow, w, kw, stride[1], 1);
      long[] bias = FixedPoint.bias(ins.length > 3 ? ins[3] : null, oc);
      Multiplier[] mult = multipliers(b, in, out, oc);
      int[] wOff = filterOffsets(b, oc);
      int[] wq = fixed != null ? fixed : FixedPoint.widen(f);
      int[] xq = FixedPoint.widen(x);
      int inOff = -in.zeroPoint();
      long[] acc = new long[Math.toIntExact(Value.elementCount(shape))];
      for (int b0 = 0; b0 < n; b0++) {
        for (int iy = 0; iy < h; iy++) {
          for (int ix = 0; ix < w; ix++) {
            int xb = ((b0 * h + iy) * w + ix) * c;
            for (int ky = 0; ky < kh; ky++) {
              int oy = iy * stride[0] - pt + ky;
              if (oy < 0 || oy >= oh) {
                continue;
              }
              for (int kx = 0; kx < kw; kx++) {
                int ox = ix * stride[1] - pl + kx;
                if (ox < 0 || ox >= ow) {
                  continue;
                }
                int ob = ((b0 * oh + oy) * ow + ox) * oc;
                for (int o = 0; o < oc; o++) {
                  int wb = ((o * kh + ky) * kw + kx) * c;
                  long sum = 0;
                  for (int k = 0; k < c; k++) {
                    sum += (long) (xq[xb + k] + inOff) * (wq[wb + k] + wOff[o]);
                  }
                  acc[ob + o] += sum;
                }
              }
            }
          }
        }
      }
      int[] y = new int[acc.length];
      for (int i = 0; i < y.length; i++) {
        int ch = i % oc;
        y[i] = requantize(acc[i], bias, ch, mult[ch], wide, out.zeroPoint(), act);
      }
      return new Value[] {FixedPoint.narrow(t, shape, y)};
    };
  }

  // -------------------------------------------------------------------------------------------
  // pools

  /**
   * Pools on the quantized values themselves (input and output share scale and zero point): the
   * maximum, or the sum of the window's cells inside the input divided by their count, rounded half
   * away from zero.
   */
  static Kernel bindPool(BindContext b, boolean max) {
    DType t = activationType(b);
    Quant out = Quant.of(b, "output");
    int[] act = range(b, t, out);
    int[] stride = hw(b, "strides");
    int[] window = hw(b, "ksize");
    boolean same = same(b);
    return (ins, ctx) -> {
      Value x = ins[0];
      checkType(x, t, "input");
      checkRank(x, 4, "input");
      int n = (int) x.dim(0);
      int h = (int) x.dim(1);
      int w = (int) x.dim(2);
      int c = (int) x.dim(3);
      int oh = outSize(same, h, window[0], stride[0], 1);
      int ow = outSize(same, w, window[1], stride[1], 1);
      int pt = padBefore(same, h, oh, window[0], stride[0], 1);
      int pl = padBefore(same, w, ow, window[1], stride[1], 1);
      int[] xq = FixedPoint.widen(x);
      int[] y = new int[n * oh * ow * c];
      int o = 0;
      for (int b0 = 0; b0 < n; b0++) {
        for (int oy = 0; oy < oh; oy++) {
          int y0 = Math.max(oy * stride[0] - pt, 0);
          int y1 = Math.min(oy * stride[0] - pt + window[0], h);
          for (int ox = 0; ox < ow; ox++) {
            int x0 = Math.max(ox * stride[1] - pl, 0);
            int x1 = Math.min(ox * stride[1] - pl + window[1], w);
            for (int ch = 0; ch < c; ch++) {
              int best = Integer.MIN_VALUE;
              int sum = 0;
              int count = 0;
              for (int iy = y0; iy < y1; iy++) {
                for (int ix = x0; ix < x1; ix++) {
                  int v = xq[((b0 * h + iy) * w + ix) * c + ch];
                  best = Math.max(best, v);
                  sum += v;
                  count++;
                }
              }
              int v;
              if (max) {
                v = best;
              } else {
                if (count == 0) {
                  throw new KernelException("an average pooling window holds no input cell");
                }
                v = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
              }
              y[o++] = Math.min(Math.max(v, act[0]), act[1]);
            }
          }
        }
      }
      return new Value[] {FixedPoint.narrow(t, new long[] {n, oh, ow, c}, y)};
    };
  }
}
