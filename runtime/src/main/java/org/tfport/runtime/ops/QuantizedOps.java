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
import org.tfport.runtime.ops.QuantizedConvOps.Quant;

/**
 * TFLite's integer kernels for conversions and elementwise math on quantized tensors: QUANTIZE
 * (float to integer, or integer to integer with another scale), DEQUANTIZE, ADD, SUB, MUL
 * (broadcasting), RELU/RELU6/RELU_N1_TO_1, LEAKY_RELU, PRELU and MEAN, each with TFLite's
 * multipliers and rounding. Quantization parameters are attributes ({@code input_scale}, {@code
 * input_zero_point}, {@code input2_*}, {@code output_*}) written by the {@code .tflite} importer;
 * lookup-table activations are in {@link QuantizedActivationOps}.
 */
final class QuantizedOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("TfliteQuantize", QuantizedOps::bindQuantize);
    r.reference("TfliteDequantize", QuantizedOps::bindDequantize);
    r.reference("TfliteQuantizedAdd", b -> bindAddSub(b, false));
    r.reference("TfliteQuantizedSub", b -> bindAddSub(b, true));
    r.reference("TfliteQuantizedMul", QuantizedOps::bindMul);
    r.reference("TfliteQuantizedRelu", QuantizedOps::bindRelu);
    r.reference("TfliteQuantizedLeakyRelu", QuantizedOps::bindLeakyRelu);
    r.reference("TfliteQuantizedPrelu", QuantizedOps::bindPrelu);
    r.reference("TfliteQuantizedMean", QuantizedOps::bindMean);
  }

  static DType outType(BindContext b) {
    DType t = b.typeAttr("out_type");
    FixedPoint.min(t); // refuses types without a quantized range
    return t;
  }

  static int clamp(int v, int lo, int hi) {
    return Math.min(Math.max(v, lo), hi);
  }

  // -------------------------------------------------------------------------------------------
  // conversions

  /**
   * Float input: zero point + round(x / scale) in float, halves away from zero, clamped. Integer
   * input (a requantization): (q − zp_in)·(s_in / s_out) with TFLite's multiplier, + zp_out,
   * clamped.
   */
  private static Kernel bindQuantize(BindContext b) {
    DType out = outType(b);
    Quant o = Quant.of(b, "output");
    int lo = FixedPoint.min(out);
    int hi = FixedPoint.max(out);
    boolean fromInt = b.hasAttr("input_scale");
    Quant in = fromInt ? Quant.of(b, "input") : null;
    Multiplier m = fromInt ? Multiplier.of((double) in.scale() / (double) o.scale()) : null;
    return (ins, ctx) -> {
      Value x = ins[0];
      int n = x.size();
      int[] y = new int[n];
      if (fromInt) {
        int[] q = FixedPoint.widen(x);
        for (int i = 0; i < n; i++) {
          y[i] = clamp(m.apply(q[i] - in.zeroPoint()) + o.zeroPoint(), lo, hi);
        }
      } else {
        if (x.dtype() != DType.FLOAT32) {
          throw new KernelException(
              "QUANTIZE takes float32 or a quantized integer tensor, got " + x.dtype().jsName());
        }
        float[] f = x.floats();
        float s = o.scale();
        // TFLite's int16 QUANTIZE divides by the scale in double; its optimized 8-bit one in
        // float.
        boolean wide = out == DType.INT16;
        for (int i = 0; i < n; i++) {
          double r = FixedPoint.roundHalfAway(wide ? f[i] / (double) s : f[i] / s);
          // Clamped in double first: NaN and huge values must not wrap when narrowed to int.
          y[i] = clamp((int) Math.max(Math.min(r, 1e9), -1e9) + o.zeroPoint(), lo, hi);
        }
      }
      return new Value[] {FixedPoint.narrow(out, x.shape(), y)};
    };
  }

  /** scale · (q − zero point), rounded once to float. */
  private static Kernel bindDequantize(BindContext b) {
    Quant in = Quant.of(b, "input");
    double s = in.scale();
    return (ins, ctx) -> {
      int[] q = FixedPoint.widen(ins[0]);
      float[] y = new float[q.length];
      for (int i = 0; i < q.length; i++) {
        y[i] = (float) (s * (q[i] - in.zeroPoint()));
      }
      return new Value[] {Value.floats(ins[0].shape(), y)};
    };
  }

  // -------------------------------------------------------------------------------------------
  // broadcasting

  /**
   * The two inputs widened and broadcast against each other: index maps into each (null: same
   * shape).
   */
  record Pair(long[] shape, int[] a, int[] b, int[] mapA, int[] mapB) {
    static Pair of(Value x, Value y, DType t) {
      QuantizedConvOps.checkType(x, t, "input 0");
      QuantizedConvOps.checkType(y, t, "input 1");
      long[] shape = Layout.broadcast(x.shape(), y.shape());
      if (shape == null) {
        throw new KernelException(
            "Incompatible shapes: "
                + Arrays.toString(x.shape())
                + " vs. "
                + Arrays.toString(y.shape()));
      }
      int[] ma = Arrays.equals(shape, x.shape()) ? null : Layout.broadcastMap(x.shape(), shape);
      int[] mb = Arrays.equals(shape, y.shape()) ? null : Layout.broadcastMap(y.shape(), shape);
      return new Pair(shape, FixedPoint.widen(x), FixedPoint.widen(y), ma, mb);
    }

    int size() {
      return (int) Value.elementCount(shape);
    }

    int a(int i) {
      return a[mapA == null ? i : mapA[i]];
    }

    int b(int i) {
      return b[mapB == null ? i : mapB[i]];
    }
  }

  // -------------------------------------------------------------------------------------------
  // add, sub

  /**
   * TFLite's general rescaling: both inputs shifted left (20 bits for 8-bit types, 15 for int16)
   * and scaled by s_k / (2·max(s_1, s_2)), summed, scaled by 2·max(s_1, s_2) / (2^shift · s_out).
   * int16 with {@code pot_scale_int16} and power-of-two scales takes TFLite's shift-only path
   * instead.
   */
  static Kernel bindAddSub(BindContext b, boolean sub) {
    DType t = QuantizedConvOps.activationType(b);
    Quant q1 = Quant.of(b, "input");
    Quant q2 = Quant.of(b, "input2");
    Quant qo = Quant.of(b, "output");
    int[] act = QuantizedConvOps.range(b, t, qo);
    if (t == DType.INT16 && b.boolAttr("pot_scale_int16", true)) {
      Kernel pot = powerOfTwoAddSub(q1, q2, qo, act, sub);
      if (pot != null) {
        return pot;
      }
    }
    int leftShift = t == DType.INT16 ? 15 : 20;
    double twiceMax = 2 * (double) Math.max(q1.scale(), q2.scale());
    Multiplier m1 = Multiplier.of(q1.scale() / twiceMax);
    Multiplier m2 = Multiplier.of(q2.scale() / twiceMax);
    Multiplier mo = Multiplier.of(twiceMax / ((double) (1 << leftShift) * qo.scale()));
    return (ins, ctx) -> {
      Pair p = Pair.of(ins[0], ins[1], t);
      int[] y = new int[p.size()];
      for (int i = 0; i < y.length; i++) {
        int a = m1.apply((p.a(i) - q1.zeroPoint()) * (1 << leftShift));
        int c = m2.apply((p.b(i) - q2.zeroPoint()) * (1 << leftShift));
        int raw = mo.apply(sub ? a - c : a + c) + qo.zeroPoint();
        y[i] = clamp(raw, act[0], act[1]);
      }
      return new Value[] {FixedPoint.narrow(t, p.shape(), y)};
    };
  }

  /**
   * int16 with power-of-two scales and zero points 0: the input whose scale differs from the
   * output's is shifted right (rounding) to it, then the two are added or subtracted saturating to
   * int16. Null when the scales are not all powers of two (TFLite then takes the general path).
   */
  private static Kernel powerOfTwoAddSub(Quant q1, Quant q2, Quant qo, int[] act, boolean sub) {
    Integer l1 = log2(q1.scale());
    Integer l2 = log2(q2.scale());
    Integer lo = log2(qo.scale());
    if (l1 == null || l2 == null || lo == null) {
      return null;
    }
    int s1 = l1 - lo;
    int s2 = l2 - lo;
    if (s1 > 0 || s2 > 0 || s1 != 0 && s2 != 0) {
      throw new KernelException(
          "int16 "
              + (sub ? "SUB" : "ADD")
              + " with power-of-two scales needs one input at"
              + " the output's scale and the other at most as fine; input scales 2^"
              + l1
              + " and 2^"
              + l2
              + ", output 2^"
              + lo);
    }
    if (q1.zeroPoint() != 0 || q2.zeroPoint() != 0 || qo.zeroPoint() != 0) {
      throw new KernelException("int16 quantized tensors must have zero point 0");
    }
    return (ins, ctx) -> {
      Pair p = Pair.of(ins[0], ins[1], DType.INT16);
      int[] y = new int[p.size()];
      for (int i = 0; i < y.length; i++) {
        int a = FixedPoint.roundingDivideByPOT(p.a(i), -s1);
        int c = FixedPoint.roundingDivideByPOT(p.b(i), -s2);
        int raw = clamp(sub ? a - c : a + c, Short.MIN_VALUE, Short.MAX_VALUE);
        y[i] = clamp(raw, act[0], act[1]);
      }
      return new Value[] {FixedPoint.narrow(DType.INT16, p.shape(), y)};
    };
  }

  /**
   * The rounded log2 of {@code scale} when it is a power of two (within 1e-3 in the exponent), else
   * null.
   */
  static Integer log2(float scale) {
    float l = (float) (Math.log(scale) * (1.0f / (float) Math.log(2.0)));
    float rounded = (float) FixedPoint.roundHalfAway(l);
    return Math.abs(l - rounded) < 1e-3f ? (int) rounded : null;
  }

  // ------------------------------------------------------------------------------------------- mul

  /** (q1 − zp1)·(q2 − zp2) times s1·s2 / s_out, + zp_out, clamped. */
  private static Kernel bindMul(BindContext b) {
    DType t = QuantizedConvOps.activationType(b);
    Quant q1 = Quant.of(b, "input");
    Quant q2 = Quant.of(b, "input2");
    Quant qo = Quant.of(b, "output");
    int[] act = QuantizedConvOps.range(b, t, qo);
    Multiplier m = Multiplier.of((double) q1.scale() * (double) q2.scale() / (double) qo.scale());
    return (ins, ctx) -> {
      Pair p = Pair.of(ins[0], ins[1], t);
      int[] y = new int[p.size()];
      for (int i = 0; i < y.length; i++) {
        int prod = (p.a(i) - q1.zeroPoint()) * (p.b(i) - q2.zeroPoint());
        y[i] = clamp(m.apply(prod) + qo.zeroPoint(), act[0], act[1]);
      }
      return new Value[] {FixedPoint.narrow(t, p.shape(), y)};
    };
  }

  // -------------------------------------------------------------------------------------------
  // activations

  /**
   * RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1 ({@code activation}): the input rescaled to the output's
   * scale, then clamped to the activation's bounds quantized on the output.
   */
  private static Kernel bindRelu(BindContext b) {
    DType t = QuantizedConvOps.activationType(b);
    Quant in = Quant.of(b, "input");
    Quant qo = Quant.of(b, "output");
    String a = b.stringAttr("activation", "RELU");
    float[] bounds =
        switch (a) {
          case "RELU" -> new float[] {0, Float.POSITIVE_INFINITY};
          case "RELU6" -> new float[] {0, 6};
          case "RELU_N1_TO_1" -> new float[] {-1, 1};
          case "RELU_0_TO_1" -> new float[] {0, 1};
          default -> throw new KernelException("activation '" + a + "' is not a RELU variant");
        };
    int lo =
        Math.max(
            FixedPoint.min(t),
            qo.zeroPoint() + (int) FixedPoint.roundHalfAway(bounds[0] / qo.scale()));
    int hi =
        Float.isInfinite(bounds[1])
            ? FixedPoint.max(t)
            : Math.min(
                FixedPoint.max(t),
                qo.zeroPoint() + (int) FixedPoint.roundHalfAway(bounds[1] / qo.scale()));
    Multiplier m = Multiplier.of((double) in.scale() / (double) qo.scale());
    return (ins, ctx) -> {
      QuantizedConvOps.checkType(ins[0], t, "input");
      int[] q = FixedPoint.widen(ins[0]);
      int[] y = new int[q.length];
      for (int i = 0; i < q.length; i++) {
        y[i] = clamp(qo.zeroPoint() + m.apply(q[i] - in.zeroPoint()), lo, hi);
      }
      return new Value[] {FixedPoint.narrow(t, ins[0].shape(), y)};
    };
  }

  /**
   * Non-negative inputs rescaled by s_in / s_out, negative ones by s_in·alpha / s_out; TFLite forms
   * both factors in float before widening them, which is kept here.
   */
  private static Kernel bindLeakyRelu(BindContext b) {
    DType t = QuantizedConvOps.activationType(b);
    Quant in = Quant.of(b, "input");
    Quant qo = Quant.of(b, "output");
    float alpha = b.floatAttr("alpha", 0.2f);
    Multiplier identity = Multiplier.of(in.scale() / qo.scale());
    Multiplier negative = Multiplier.of(in.scale() * alpha / qo.scale());
    int lo = FixedPoint.min(t);
    int hi = FixedPoint.max(t);
    return (ins, ctx) -> {
      QuantizedConvOps.checkType(ins[0], t, "input");
      int[] q = FixedPoint.widen(ins[0]);
      int[] y = new int[q.length];
      for (int i = 0; i < q.length; i++) {
        int v = q[i] - in.zeroPoint();
        y[i] = clamp(qo.zeroPoint() + (v >= 0 ? identity.apply(v) : negative.apply(v)), lo, hi);
      }
      return new Value[] {FixedPoint.narrow(t, ins[0].shape(), y)};
    };
  }

  /** x ≥ 0: x·s_in / s_out; x < 0: x·alpha·s_in·s_alpha / s_out, alpha broadcast against x. */
  private static Kernel bindPrelu(BindContext b) {
    DType t = QuantizedConvOps.activationType(b);
    Quant in = Quant.of(b, "input");
    Quant qa = Quant.of(b, "input2");
    Quant qo = Quant.of(b, "output");
    Multiplier positive = Multiplier.of((double) in.scale() / (double) qo.scale());
    Multiplier negative =
        Multiplier.of((double) in.scale() * (double) qa.scale() / (double) qo.scale());
    int lo = FixedPoint.min(t);
    int hi = FixedPoint.max(t);
    return (ins, ctx) -> {
      Pair p = Pair.of(ins[0], ins[1], t);
      int[] y = new int[p.size()];
      for (int i = 0; i < y.length; i++) {
        int v = p.a(i) - in.zeroPoint();
        int r = v >= 0 ? positive.apply(v) : negative.apply(v * (p.b(i) - qa.zeroPoint()));
        y[i] = clamp(r + qo.zeroPoint(), lo, hi);
      }
      return new Value[] {FixedPoint.narrow(t, p.shape(), y)};
    };
  }

  // -------------------------------------------------------------------------------------------
  // mean

  /**
   * The exact int32 sum over the axes (input 1), minus zp_in per element, times (s_in / s_out) /
   * count, formed as TFLite does: the count folded into the multiplier with up to 32 extra bits of
   * precision.
   */
  private static Kernel bindMean(BindContext b) {
    DType t = QuantizedConvOps.activationType(b);
    Quant in = Quant.of(b, "input");
    Quant qo = Quant.of(b, "output");
    boolean keepDims = b.boolAttr("keep_dims", false);
    Multiplier base = Multiplier.of((double) in.scale() / (double) qo.scale());
    int lo = FixedPoint.min(t);
    int hi = FixedPoint.max(t);
    return (ins, ctx) -> {
      Value x = ins[0];
      QuantizedConvOps.checkType(x, t, "input");
      int r = x.rank();
      boolean[] reduced = new boolean[r];
      for (long a : ins[1].toLongArray()) {
        if (a < -r || a >= r) {
          throw new KernelException("axis " + a + " is out of range for a rank-" + r + " input");
        }
        reduced[(int) (a < 0 ? a + r : a)] = true;
      }
      long count = 1;
      int kept = 0;
      for (int d = 0; d < r; d++) {
        if (reduced[d]) {
          count *= x.dim(d);
        } else {
          kept++;
        }
      }
      long[] outShape = new long[keepDims ? r : kept];
      long[] flatOut = new long[r];
      for (int d = 0, k = 0; d < r; d++) {
        flatOut[d] = reduced[d] ? 1 : x.dim(d);
        if (keepDims || !reduced[d]) {
          outShape[k++] = flatOut[d];
        }
      }
      int n = (int) Value.elementCount(flatOut);
      int[] map = Layout.broadcastMap(flatOut, x.shape());
      int[] q = FixedPoint.widen(x);
      int[] sum = new int[n];
      for (int i = 0; i < q.length; i++) {
        sum[map[i]] += q[i];
      }
      int[] y = new int[n];
      if (count > 0) {
        int shift = 63 - Long.numberOfLeadingZeros(count);
        shift = Math.min(shift, 32);
        shift = Math.min(shift, 31 + base.shift());
        int significand = (int) (((long) base.significand() << shift) / count);
        int outShift = base.shift() - shift;
        for (int i = 0; i < n; i++) {
          int centred = (int) (sum[i] - (long) in.zeroPoint() * count);
          y[i] =
              clamp(FixedPoint.multiply(centred, significand, outShift) + qo.zeroPoint(), lo, hi);
        }
      }
      return new Value[] {FixedPoint.narrow(t, outShape, y)};
    };
  }
}
