package org.tfport.runtime.ops;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleUnaryOperator;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.Value;

/**
 * What TensorFlow's grappler and TF.js fuse after a contraction (_FusedConv2D, _FusedMatMul,
 * FusedDepthwiseConv2dNative): {@code fused_ops} = [BiasAdd], [FusedBatchNorm] or TF.js's [NoOp],
 * optionally followed by one activation. The extra operands ({@code num_args} of them) follow the
 * contraction's own inputs: the bias, or scale, offset, mean and variance; PReLU's alpha comes
 * last.
 */
final class FusedEpilogue {
  private enum Affine {
    NONE,
    BIAS,
    BATCH_NORM
  }

  static final double SELU_SCALE = 1.0507009873554804934193349852946;
  static final double SELU_ALPHA = 1.6732632423543772848170429916717;

  private final Affine affine;
  private final boolean add;
  private final DoubleUnaryOperator activation;
  private final boolean prelu;
  private final double epsilon;
  private final int firstArg;
  private final DoubleUnaryOperator round;
  private final String activationName;
  private final float leakyAlpha;

  private FusedEpilogue(
      Affine affine,
      boolean add,
      DoubleUnaryOperator activation,
      boolean prelu,
      double epsilon,
      int firstArg,
      DoubleUnaryOperator round,
      String activationName,
      float leakyAlpha) {
    this.activationName = activationName;
    this.leakyAlpha = leakyAlpha;
    this.affine = affine;
    this.add = add;
    this.activation = activation;
    this.prelu = prelu;
    this.epsilon = epsilon;
    this.firstArg = firstArg;
    this.round = round;
  }

  /** Parses {@code fused_ops}; the fused operands start at data input {@code firstArg}. */
  static FusedEpilogue of(BindContext b, int firstArg, DType type) {
    List<String> ops = b.stringsAttr("fused_ops");
    int args = b.inputCount() - firstArg;
    if (b.hasAttr("num_args") && b.intAttr("num_args") != args) {
      throw new KernelException(
          "num_args is " + b.intAttr("num_args") + " but the node has " + args + " fused operands");
    }
    int at = 0;
    Affine affine = Affine.NONE;
    int need = 0;
    if (!ops.isEmpty()) {
      switch (ops.get(0).toLowerCase(Locale.ROOT)) {
        case "biasadd" -> {
          affine = Affine.BIAS;
          need = 1;
          at = 1;
        }
        case "fusedbatchnorm" -> {
          affine = Affine.BATCH_NORM;
          need = 4;
          at = 1;
        }
        // TF.js spells an activation-only fusion [NoOp, activation].
        case "noop" -> at = 1;
        default -> {}
      }
    }
    boolean add = false;
    if (affine != Affine.NONE && at < ops.size() && ops.get(at).equalsIgnoreCase("add")) {
      add = true;
      need++;
      at++;
    }
    DoubleUnaryOperator act = null;
    boolean prelu = false;
    String activationName = null;
    float leakyAlpha = b.floatAttr("leakyrelu_alpha", 0.2f);
    if (at < ops.size()) {
      String name = ops.get(at++);
      double alpha = leakyAlpha;
      activationName = name.toLowerCase(Locale.ROOT);
      switch (activationName) {
        case "relu" -> act = x -> Math.max(x, 0);
        case "relu6" -> act = x -> Math.min(Math.max(x, 0), 6);
        case "elu" -> act = x -> x < 0 ? Math.expm1(x) : x;
        case "selu" -> act = x -> x < 0 ? SELU_SCALE * SELU_ALPHA * Math.expm1(x) : SELU_SCALE * x;
        case "leakyrelu" -> act = x -> x < 0 ? alpha * x : x;
        case "sigmoid" -> act = x -> 1 / (1 + Math.exp(-x));
        case "tanh" -> act = Math::tanh;
        case "prelu" -> {
          prelu = true;
          need++;
        }
        default ->
            throw new KernelException(
                "fused_ops " + ops + ": '" + name + "' is not a fusable activation");
      }
    }
    if (at != ops.size() || (affine == Affine.NONE && !ops.isEmpty() && act == null && !prelu)) {
      throw new KernelException(
          "fused_ops "
              + ops
              + " is not BiasAdd or FusedBatchNorm followed by Add, an activation or both");
    }
    if (args != need) {
      throw new KernelException("fused_ops " + ops + " takes " + need + " operands, not " + args);
    }
    DoubleUnaryOperator round = type == DType.FLOAT32 ? x -> (float) x : x -> x;
    return new FusedEpilogue(
        affine,
        add,
        act,
        prelu,
        b.floatAttr("epsilon", 1e-4f),
        firstArg,
        round,
        activationName,
        leakyAlpha);
  }

  // What the optimized kernels (RowEpilogue) need to apply the same stages in their output loops.
  boolean biasAdd() {
    return affine == Affine.BIAS;
  }

  boolean batchNorm() {
    return affine == Affine.BATCH_NORM;
  }

  /** Whether a residual is added after the bias or batch norm. */
  boolean add() {
    return add;
  }

  /** The data input of the residual (when {@link #add()}). */
  int addArg() {
    return firstArg + (affine == Affine.BATCH_NORM ? 4 : 1);
  }

  /** The activation's name in lower case ("relu", "prelu", ...), or null for none. */
  String activationName() {
    return activationName;
  }

  float leakyAlpha() {
    return leakyAlpha;
  }

  double epsilon() {
    return epsilon;
  }

  int firstArg() {
    return firstArg;
  }

  /**
   * The fused ops applied to {@code y} (the contraction's result, channels along {@code
   * channelAxis}); stages round to the result type in between, as the unfused ops would. The result
   * is larger than {@code y} only when the addend broadcasts it, as the unfused Add would.
   */
  Value apply(Value y, int channelAxis, Value[] inputs) {
    DType type = y.dtype();
    long[] shape = y.shape();
    double[] out = Reals.read(y);
    affine(out, shape, channelAxis, inputs);
    if (add) {
      Value addend = inputs[addArg()];
      long[] wide = Broadcast.of(shape, addend.shape()).shape().clone();
      if (!Arrays.equals(wide, shape)) {
        out = Reals.broadcast(Reals.write(type, shape, out), wide, "output");
        shape = wide;
      }
      double[] a = Reals.broadcast(addend, shape, "addend");
      for (int i = 0; i < out.length; i++) {
        out[i] = round.applyAsDouble(out[i] + a[i]);
      }
    }
    if (prelu) {
      double[] alpha = Reals.broadcast(inputs[inputs.length - 1], shape, "prelu alpha");
      for (int i = 0; i < out.length; i++) {
        out[i] = out[i] < 0 ? alpha[i] * out[i] : out[i];
      }
    } else if (activation != null) {
      for (int i = 0; i < out.length; i++) {
        out[i] = activation.applyAsDouble(out[i]);
      }
    }
    return Reals.write(type, shape, out);
  }

  private void affine(double[] out, long[] shape, int channelAxis, Value[] inputs) {
    int channels = (int) shape[channelAxis];
    int inner = 1;
    for (int a = channelAxis + 1; a < shape.length; a++) {
      inner *= (int) shape[a];
    }
    switch (affine) {
      case NONE -> {}
      case BIAS -> {
        Value bias = inputs[firstArg];
        if (bias.rank() == 1 && bias.size() == channels) {
          double[] b = Reals.read(bias);
          for (int i = 0; i < out.length; i++) {
            out[i] = round.applyAsDouble(out[i] + b[(i / inner) % channels]);
          }
        } else {
          double[] b = Reals.broadcast(bias, shape, "bias");
          for (int i = 0; i < out.length; i++) {
            out[i] = round.applyAsDouble(out[i] + b[i]);
          }
        }
      }
      case BATCH_NORM -> {
        double[] scale = perChannel(inputs[firstArg], channels, "scale");
        double[] offset = perChannel(inputs[firstArg + 1], channels, "offset");
        double[] mean = perChannel(inputs[firstArg + 2], channels, "mean");
        double[] variance = perChannel(inputs[firstArg + 3], channels, "variance");
        double[] factor = new double[channels];
        for (int c = 0; c < channels; c++) {
          factor[c] = scale[c] / Math.sqrt(variance[c] + epsilon);
        }
        for (int i = 0; i < out.length; i++) {
          int c = (i / inner) % channels;
          out[i] = round.applyAsDouble((out[i] - mean[c]) * factor[c] + offset[c]);
        }
      }
    }
  }

  private static double[] perChannel(Value v, int channels, String what) {
    if (v.rank() != 1 || v.size() != channels) {
      throw new KernelException(
          "fused batch norm " + what + " " + v + " is not a vector of " + channels);
    }
    return Reals.read(v);
  }
}
