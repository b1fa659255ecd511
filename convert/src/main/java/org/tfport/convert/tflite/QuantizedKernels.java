package org.tfport.convert.tflite;

import static org.tfport.formats.tflite.TfliteBuiltin.*;

import java.util.Map;
import java.util.Set;
import org.tfport.formats.tflite.TfliteBuiltin;
import org.tfport.formats.tflite.TfliteType;

/**
 * What TFLite's integer kernels require of the tensors around each op (spec 3.2): which ops have
 * weights, which rescale, which fix or share their output parameters, which have no
 * int16-activation kernel; and the affine parameters (int8 asymmetric, int16 symmetric) {@link
 * FullIntegerQuantizer} gives an activation for its range. Throughout, {@code real = scale · (q −
 * zero_point)}.
 */
final class QuantizedKernels {
  private QuantizedKernels() {}

  /** Affine parameters of one quantized activation tensor. */
  record QP(float scale, int zp) {}

  /**
   * Activation width: the type of activations and of biases, and the integer range of activations.
   */
  enum Precision {
    INT8(TfliteType.INT8, -128, 127, TfliteType.INT32),
    INT16(TfliteType.INT16, -32768, 32767, TfliteType.INT64);

    final TfliteType type;
    final int qmin;
    final int qmax;
    final TfliteType bias;

    Precision(TfliteType type, int qmin, int qmax, TfliteType bias) {
      this.type = type;
      this.qmin = qmin;
      this.qmax = qmax;
      this.bias = bias;
    }

    /** The inference I/O type name that keeps this precision's tensors at the model's edges. */
    String ioName() {
      return this == INT8 ? "int8" : "int16";
    }

    /** Parameters of an activation whose values lie in [min, max]. */
    QP params(float min, float max) {
      return this == INT8 ? int8Params(min, max) : int16Params(min, max);
    }

    /** Output parameters the integer kernel fixes (spec 3.2), or null when the op has none. */
    QP fixed(TfliteBuiltin code) {
      return (this == INT8 ? FIXED : FIXED_INT16).get(code);
    }
  }

  /** Weighted ops: input 0 activation, input 1 constant weights (per channel), 2 bias. */
  static final Set<TfliteBuiltin> WEIGHTED = Set.of(CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED);

  /** Elementwise arithmetic with requantizing int8 kernels: any input/output parameters. */
  static final Set<TfliteBuiltin> ARITH = Set.of(ADD, SUB, MUL);

  /** Output parameters from the output's own range; the kernel rescales. */
  static final Set<TfliteBuiltin> OWN_RANGE =
      Set.of(RELU, RELU6, LEAKY_RELU, MEAN, SUM, HARD_SWISH);

  /** Output parameters fixed by the int8 kernel (spec 3.2). */
  static final Map<TfliteBuiltin, QP> FIXED =
      Map.of(
          SOFTMAX,
          new QP(1f / 256, -128),
          LOGISTIC,
          new QP(1f / 256, -128),
          TANH,
          new QP(1f / 128, 0));

  /**
   * Output parameters fixed by the int16 kernels: all three produce values in [-1, 1] (softmax and
   * logistic in [0, 1]) on the symmetric grid 1/32768, zero point 0.
   */
  static final Map<TfliteBuiltin, QP> FIXED_INT16 =
      Map.of(
          SOFTMAX,
          new QP(1f / 32768, 0),
          LOGISTIC,
          new QP(1f / 32768, 0),
          TANH,
          new QP(1f / 32768, 0));

  /**
   * Kernels that move or select int8 values without rescaling: the output takes the data input's
   * parameters.
   */
  static final Set<TfliteBuiltin> SAME_AS_INPUT =
      Set.of(
          AVERAGE_POOL_2D,
          MAX_POOL_2D,
          RESHAPE,
          SQUEEZE,
          EXPAND_DIMS,
          TRANSPOSE,
          PAD,
          PADV2,
          STRIDED_SLICE,
          SLICE,
          GATHER,
          SPLIT,
          UNPACK,
          TILE,
          REDUCE_MAX,
          REDUCE_MIN,
          // Rearrangements and resizing: the int8 kernels copy (or, bilinear, blend with weights
          // summing to 1) values
          // of the input's grid, and TFLite requires the output to share the input's parameters.
          SPACE_TO_BATCH_ND,
          BATCH_TO_SPACE_ND,
          DEPTH_TO_SPACE,
          SPACE_TO_DEPTH,
          RESIZE_BILINEAR,
          RESIZE_NEAREST_NEIGHBOR,
          MIRROR_PAD,
          REVERSE_V2);

  /**
   * Kernels that need every input and the output to share one set of parameters. Taken from the
   * output's range: exact for CONCATENATION and PACK (the output holds every input value) and for
   * MAXIMUM/MINIMUM (clamping the inputs to the output's range does not change max(a, b) or min(a,
   * b) when every result lies in that range). Inputs with other parameters get a requantizing
   * QUANTIZE (int8 to int8) in front.
   */
  static final Set<TfliteBuiltin> SHARED = Set.of(CONCATENATION, PACK, MAXIMUM, MINIMUM);

  /** Read int8 activations, write integer results with no parameters. */
  static final Set<TfliteBuiltin> INT_OUT = Set.of(SHAPE, ARG_MAX);

  /**
   * Ops of the sets above that TFLite 2.18 has no int16-activation kernel for (op_version.cc gives
   * them no int16 version): in 16x8 mode they stay float, or are refused when only integer ops are
   * allowed.
   */
  static final Set<TfliteBuiltin> NO_INT16 =
      Set.of(
          HARD_SWISH,
          SUM,
          ARG_MAX,
          TILE,
          SPACE_TO_BATCH_ND,
          BATCH_TO_SPACE_ND,
          DEPTH_TO_SPACE,
          SPACE_TO_DEPTH,
          MIRROR_PAD,
          REVERSE_V2);

  /**
   * Asymmetric int8 parameters for the range [min, max], first widened to include 0 so that 0
   * (padding, ReLU floor) is exact: scale = (max − min) / 255; the zero point is solved from
   * whichever end (min ↦ −128 or max ↦ 127) has the smaller rounding error, then rounded and
   * clamped to [−128, 127]. A range narrower than 1e-9 (a tensor that is always 0) gets scale 1,
   * zero point −128.
   */
  static QP int8Params(float min, float max) {
    double lo = Math.min(0, Float.isFinite(min) ? min : 0);
    double hi = Math.max(0, Float.isFinite(max) ? max : 0);
    if (hi - lo < 1e-9) {
      return new QP(1f, -128);
    }
    double scale = (hi - lo) / 255.0;
    double fromMin = -128 - lo / scale;
    double fromMax = 127 - hi / scale;
    double errMin = 128 + Math.abs(lo / scale);
    double errMax = 127 + Math.abs(hi / scale);
    double zp = errMin < errMax ? fromMin : fromMax;
    return new QP((float) scale, (int) Math.max(-128, Math.min(127, Math.round(zp))));
  }

  /**
   * Symmetric int16 parameters for [min, max]: m = max(|min|, |max|), scale = m / 32767, zero point
   * 0, so ±m map to ±32767 and 0 is exact; the grid step is about 256 times finer than int8's over
   * the same range. A range narrower than 1e-9 (a tensor that is always 0) gets scale 1.
   */
  static QP int16Params(float min, float max) {
    double m =
        Math.max(Float.isFinite(min) ? Math.abs(min) : 0, Float.isFinite(max) ? Math.abs(max) : 0);
    if (m < 1e-9) {
      return new QP(1f, 0);
    }
    return new QP((float) (m / 32767.0), 0);
  }
}
