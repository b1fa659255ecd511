package org.tfport.runtime.ops;

import java.util.Arrays;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.Value;

/**
 * A {@link FusedEpilogue} prepared for one run of an optimized kernel, applied to each finished
 * tile while it is still in cache: per-channel bias or batch norm, a residual of the output's own
 * shape or of one value per channel (a folded batch norm's offset added after the bias, as tfport's
 * .tflite files spell it), then the activation, with the reference's rounding (each stage rounds to
 * float; the transcendental activations are computed in double). Only per-channel operands are
 * taken; {@link #of} returns null for anything else and the kernel then applies the FusedEpilogue
 * to the whole output. PReLU and LeakyReLU run in the micro-kernel's branch-free loops.
 */
final class RowEpilogue {
  private enum Activation {
    NONE,
    RELU,
    RELU6,
    LEAKY_RELU,
    PRELU,
    ELU,
    SELU,
    SIGMOID,
    TANH
  }

  private final float[] bias;
  private final double[] mean;
  private final double[] factor;
  private final double[] offset;
  private final float[] addend;
  private final float[] channelAddend;
  private final Activation activation;
  private final float leakyAlpha;
  private final float[] preluAlpha;
  private final Microkernel mk;

  /** The micro-kernel's activation code when it can apply every stage in one pass, else −1. */
  private final int onePass;

  private RowEpilogue(
      float[] bias,
      double[] mean,
      double[] factor,
      double[] offset,
      float[] addend,
      float[] channelAddend,
      Activation activation,
      float leakyAlpha,
      float[] preluAlpha,
      Microkernel mk) {
    this.addend = addend;
    this.channelAddend = channelAddend;
    this.mk = mk;
    this.onePass =
        switch (activation) {
          case NONE -> Microkernel.NONE;
          case RELU -> Microkernel.RELU;
          case RELU6 -> Microkernel.RELU6;
          case LEAKY_RELU -> Microkernel.LEAKY_RELU;
          case PRELU -> Microkernel.PRELU;
          default -> -1;
        };
    this.bias = bias;
    this.mean = mean;
    this.factor = factor;
    this.offset = offset;
    this.activation = activation;
    this.leakyAlpha = leakyAlpha;
    this.preluAlpha = preluAlpha;
  }

  /**
   * The epilogue over an output of rank {@code rank} with {@code channels} channels last, or null
   * when an operand is not one float per channel (or the fused ops are ones this class does not
   * know). A residual must have the output's shape {@code outShape}: {@link #apply} reads it at the
   * output's own offsets.
   */
  static RowEpilogue of(
      FusedEpilogue e, Value[] inputs, long[] outShape, int channels, Microkernel mk) {
    int rank = outShape.length;
    float[] bias = null;
    double[] mean = null;
    double[] factor = null;
    double[] offset = null;
    int first = e.firstArg();
    if (e.biasAdd()) {
      bias = perChannel(inputs[first], rank, channels);
      if (bias == null) {
        return null;
      }
    } else if (e.batchNorm()) {
      for (int i = 0; i < 4; i++) {
        Value v = inputs[first + i];
        if (v.dtype() != DType.FLOAT32 || v.rank() != 1 || v.size() != channels) {
          return null;
        }
      }
      double[] scale = Reals.read(inputs[first]);
      offset = Reals.read(inputs[first + 1]);
      mean = Reals.read(inputs[first + 2]);
      double[] variance = Reals.read(inputs[first + 3]);
      factor = new double[channels];
      for (int c = 0; c < channels; c++) {
        factor[c] = scale[c] / Math.sqrt(variance[c] + e.epsilon());
      }
    }
    float[] addend = null;
    float[] channelAddend = null;
    if (e.add()) {
      Value a = inputs[e.addArg()];
      if (a.dtype() == DType.FLOAT32 && Arrays.equals(a.shape(), outShape)) {
        addend = a.floats();
      } else {
        channelAddend = perChannel(a, rank, channels);
        if (channelAddend == null) {
          return null;
        }
      }
    }
    String name = e.activationName();
    Activation act =
        name == null
            ? Activation.NONE
            : switch (name) {
              case "relu" -> Activation.RELU;
              case "relu6" -> Activation.RELU6;
              case "leakyrelu" -> Activation.LEAKY_RELU;
              case "prelu" -> Activation.PRELU;
              case "elu" -> Activation.ELU;
              case "selu" -> Activation.SELU;
              case "sigmoid" -> Activation.SIGMOID;
              case "tanh" -> Activation.TANH;
              default -> null;
            };
    if (act == null) {
      return null;
    }
    float[] alpha = null;
    if (act == Activation.PRELU) {
      alpha = perChannel(inputs[inputs.length - 1], rank, channels);
      if (alpha == null) {
        return null;
      }
    }
    return new RowEpilogue(
        bias, mean, factor, offset, addend, channelAddend, act, e.leakyAlpha(), alpha, mk);
  }

  // A float operand that broadcasts to one value per channel along the last of `rank` axes.
  private static float[] perChannel(Value v, int rank, int channels) {
    if (v.dtype() != DType.FLOAT32
        || v.size() != channels
        || v.rank() > rank
        || (v.rank() == 0 && channels != 1)) {
      return null;
    }
    for (int a = 0; a < v.rank() - 1; a++) {
      if (v.dim(a) != 1) {
        return null;
      }
    }
    return v.floats();
  }

  /**
   * Applies the stages to {@code rows} rows {@code ldc} apart from {@code off}, each as {@link
   * #apply}: one call per tile or output row, not per pixel (the calls cost more than the work in
   * layers of 8 to 32 channels).
   */
  void applyRows(float[] y, int off, int ldc, int rows, int c0, int n) {
    if (mean == null && onePass >= 0 && channelAddend == null) {
      mk.epilogueRows(y, off, ldc, rows, n, bias, c0, addend, onePass, preluAlpha, leakyAlpha);
      return;
    }
    for (int r = 0; r < rows; r++) {
      apply(y, off + r * ldc, c0, n);
    }
  }

  /** Applies the stages to {@code y[off ... off+n)}, whose channels are {@code c0 ... c0+n−1}. */
  void apply(float[] y, int off, int c0, int n) {
    if (mean == null && onePass >= 0) {
      if (channelAddend != null) {
        // Two passes keep the reference's rounding: (y + bias) rounds to float before the addend.
        mk.epilogue(y, off, n, bias, c0, null, Microkernel.NONE, null, 0f);
        mk.epilogue(y, off, n, channelAddend, c0, null, onePass, preluAlpha, leakyAlpha);
      } else {
        mk.epilogue(y, off, n, bias, c0, addend, onePass, preluAlpha, leakyAlpha);
      }
      return;
    }
    if (bias != null) {
      for (int i = 0; i < n; i++) {
        y[off + i] += bias[c0 + i];
      }
    } else if (mean != null) {
      for (int i = 0; i < n; i++) {
        int c = c0 + i;
        y[off + i] = (float) ((y[off + i] - mean[c]) * factor[c] + offset[c]);
      }
    }
    if (addend != null) {
      for (int i = off; i < off + n; i++) {
        y[i] += addend[i];
      }
    } else if (channelAddend != null) {
      for (int i = 0; i < n; i++) {
        y[off + i] += channelAddend[c0 + i];
      }
    }
    switch (activation) {
      case NONE -> {}
      case RELU -> {
        for (int i = off; i < off + n; i++) {
          y[i] = Math.max(y[i], 0f);
        }
      }
      case RELU6 -> {
        for (int i = off; i < off + n; i++) {
          y[i] = Math.min(Math.max(y[i], 0f), 6f);
        }
      }
      case LEAKY_RELU -> mk.leakyRelu(y, off, leakyAlpha, y, off, n);
      case PRELU -> mk.prelu(y, off, preluAlpha, c0, y, off, n);
      case ELU -> {
        for (int i = off; i < off + n; i++) {
          y[i] = y[i] < 0 ? (float) Math.expm1(y[i]) : y[i];
        }
      }
      case SELU -> {
        for (int i = off; i < off + n; i++) {
          double v = y[i];
          y[i] =
              (float)
                  (v < 0
                      ? FusedEpilogue.SELU_SCALE * FusedEpilogue.SELU_ALPHA * Math.expm1(v)
                      : FusedEpilogue.SELU_SCALE * v);
        }
      }
      case SIGMOID -> {
        for (int i = off; i < off + n; i++) {
          y[i] = (float) (1 / (1 + Math.exp(-(double) y[i])));
        }
      }
      case TANH -> {
        for (int i = off; i < off + n; i++) {
          y[i] = (float) Math.tanh(y[i]);
        }
      }
    }
  }
}
