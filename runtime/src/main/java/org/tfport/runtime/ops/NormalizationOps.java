package org.tfport.runtime.ops;

import java.util.Set;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * BiasAdd/BiasAddV1, FusedBatchNorm/V2/V3 (inference and training), TF1's
 * BatchNormWithGlobalNormalization, LRN and L2Loss. Apart from the exact integer bias additions,
 * computed in double and rounded once to the output type.
 */
final class NormalizationOps implements OpFamily {
  private static final Set<DType> BIAS_TYPES =
      Set.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64);

  @Override
  public void register(KernelRegistry r) {
    r.reference("BiasAdd", b -> bindBiasAdd(b, b.stringAttr("data_format", "NHWC")));
    r.reference("BiasAddV1", b -> bindBiasAdd(b, "NHWC"));
    r.reference("FusedBatchNorm", b -> bindBatchNorm(b, 5));
    r.reference("FusedBatchNormV2", b -> bindBatchNorm(b, 5));
    r.reference("FusedBatchNormV3", b -> bindBatchNorm(b, 6));
    r.reference("BatchNormWithGlobalNormalization", NormalizationOps::bindGlobalNormalization);
    r.reference("LRN", NormalizationOps::bindLrn);
    r.reference("L2Loss", NormalizationOps::bindL2Loss);
  }

  private static final String[] GLOBAL_NORMALIZATION_INPUTS = {"t", "m", "v", "beta", "gamma"};

  /**
   * TF1's batch norm (inference only, deprecated from GraphDef version 9): y = (t − m)/√(v + ε)·γ +
   * β over the last axis of a 4-D input, γ only with {@code scale_after_normalization}.
   */
  private static Kernel bindGlobalNormalization(BindContext b) {
    DType t = Reals.type(b, "T", Reals.FLOATS);
    double epsilon = b.floatAttr("variance_epsilon", 0f);
    boolean scale = b.boolAttr("scale_after_normalization", false);
    return (in, ctx) -> {
      Value x = in[0];
      if (x.rank() != 4) {
        throw new KernelException("input t " + x + " must be 4-dimensional");
      }
      int channels = (int) x.dim(3);
      for (int i = 0; i < 5; i++) {
        ConvOps.checkType(in[i], t, GLOBAL_NORMALIZATION_INPUTS[i]);
        if (i > 0 && (in[i].rank() != 1 || in[i].size() != channels)) {
          throw new KernelException(
              GLOBAL_NORMALIZATION_INPUTS[i]
                  + " "
                  + in[i]
                  + " is not a vector of the "
                  + channels
                  + " channels of "
                  + x);
        }
      }
      double[] mean = Reals.read(in[1]);
      double[] factor = Reals.read(in[2]);
      double[] beta = Reals.read(in[3]);
      double[] gamma = Reals.read(in[4]);
      for (int c = 0; c < channels; c++) {
        factor[c] = (scale ? gamma[c] : 1) / Math.sqrt(factor[c] + epsilon);
      }
      double[] y = Reals.read(x);
      for (int i = 0; i < y.length; i++) {
        int c = i % channels;
        y[i] = (y[i] - mean[c]) * factor[c] + beta[c];
      }
      return new Value[] {Reals.write(t, x.shape(), y)};
    };
  }

  private static Kernel bindBiasAdd(BindContext b, String format) {
    DType t = Reals.type(b, "T", BIAS_TYPES);
    boolean channelsFirst =
        switch (format) {
          case "NHWC" -> false;
          case "NCHW" -> true;
          default -> throw new KernelException("data_format '" + format + "' is not NHWC or NCHW");
        };
    return (in, ctx) -> {
      Value x = in[0];
      Value bias = in[1];
      ConvOps.checkType(x, t, "value");
      ConvOps.checkType(bias, t, "bias");
      if (x.rank() < 2) {
        throw new KernelException("value " + x + " is not of rank 2 or more");
      }
      // NCHW puts the channels second only from rank 3 on; a matrix keeps them last.
      int axis = channelsFirst && x.rank() >= 3 ? 1 : x.rank() - 1;
      int channels = (int) x.dim(axis);
      if (bias.rank() != 1 || bias.size() != channels) {
        throw new KernelException(
            "bias " + bias + " is not a vector of the " + channels + " channels of " + x);
      }
      int inner = 1;
      for (int a = axis + 1; a < x.rank(); a++) {
        inner *= (int) x.dim(a);
      }
      int n = x.size();
      Object out =
          switch (t) {
            case FLOAT32 -> {
              float[] v = x.floats();
              float[] c = bias.floats();
              float[] y = new float[n];
              for (int i = 0; i < n; i++) {
                y[i] = v[i] + c[(i / inner) % channels];
              }
              yield y;
            }
            case FLOAT64 -> {
              double[] v = x.doubles();
              double[] c = bias.doubles();
              double[] y = new double[n];
              for (int i = 0; i < n; i++) {
                y[i] = v[i] + c[(i / inner) % channels];
              }
              yield y;
            }
            case INT32 -> {
              int[] v = x.ints();
              int[] c = bias.ints();
              int[] y = new int[n];
              for (int i = 0; i < n; i++) {
                y[i] = v[i] + c[(i / inner) % channels];
              }
              yield y;
            }
            default -> {
              long[] v = x.longs();
              long[] c = bias.longs();
              long[] y = new long[n];
              for (int i = 0; i < n; i++) {
                y[i] = v[i] + c[(i / inner) % channels];
              }
              yield y;
            }
          };
      return new Value[] {Value.of(t, x.shape(), out)};
    };
  }

  /**
   * FusedBatchNorm: y = (x − mean)·scale/√(variance + ε) + offset per channel. In inference the
   * mean and variance are the inputs, passed through as batch_mean and batch_variance. In training
   * they are the batch's own (the variance biased for y, Bessel-corrected in the batch_variance
   * output, which with {@code exponential_avg_factor} below 1 become running averages with the
   * inputs); the reserve spaces hold the batch mean and biased variance.
   */
  private static Kernel bindBatchNorm(BindContext b, int outputs) {
    DType t = Reals.type(b, "T", Set.of(DType.FLOAT32));
    Reals.type(b, "U", Set.of(DType.FLOAT32));
    double epsilon = b.floatAttr("epsilon", 1e-4f);
    boolean training = b.boolAttr("is_training", true);
    double factor = b.floatAttr("exponential_avg_factor", 1f);
    String format = b.stringAttr("data_format", "NHWC");
    boolean channelsFirst =
        switch (format) {
          case "NHWC", "NDHWC" -> false;
          case "NCHW", "NCDHW" -> true;
          default -> throw new KernelException("data_format '" + format + "' is not supported");
        };
    int rank = format.length();
    return (in, ctx) -> {
      Value x = in[0];
      ConvOps.checkType(x, t, "x");
      if (x.rank() != rank) {
        throw new KernelException("x " + x + " is not of rank " + rank + " (" + format + ")");
      }
      int axis = channelsFirst ? 1 : rank - 1;
      int channels = (int) x.dim(axis);
      int inner = 1;
      for (int a = axis + 1; a < rank; a++) {
        inner *= (int) x.dim(a);
      }
      double[] scale = channelVector(in[1], channels, "scale");
      double[] offset = channelVector(in[2], channels, "offset");
      boolean runningInputs = !training || factor != 1;
      double[] mean = runningInputs ? channelVector(in[3], channels, "mean") : null;
      double[] variance = runningInputs ? channelVector(in[4], channels, "variance") : null;
      double[] v = Reals.read(x);
      long[] channelShape = {channels};
      double[] useMean;
      double[] useVariance;
      double[] outMean;
      double[] outVariance;
      if (training) {
        int count = channels == 0 ? 0 : v.length / channels;
        useMean = new double[channels];
        useVariance = new double[channels];
        for (int i = 0; i < v.length; i++) {
          useMean[(i / inner) % channels] += v[i];
        }
        for (int c = 0; c < channels; c++) {
          useMean[c] /= count;
        }
        for (int i = 0; i < v.length; i++) {
          double d = v[i] - useMean[(i / inner) % channels];
          useVariance[(i / inner) % channels] += d * d;
        }
        outMean = new double[channels];
        outVariance = new double[channels];
        double bessel = count > 1 ? (double) count / (count - 1) : 1;
        for (int c = 0; c < channels; c++) {
          useVariance[c] /= count;
          outMean[c] = factor == 1 ? useMean[c] : (1 - factor) * mean[c] + factor * useMean[c];
          outVariance[c] =
              factor == 1
                  ? useVariance[c] * bessel
                  : (1 - factor) * variance[c] + factor * useVariance[c] * bessel;
        }
      } else {
        useMean = mean;
        useVariance = variance;
        outMean = mean;
        outVariance = variance;
      }
      double[] y = new double[v.length];
      for (int i = 0; i < v.length; i++) {
        int c = (i / inner) % channels;
        y[i] = (v[i] - useMean[c]) * scale[c] / Math.sqrt(useVariance[c] + epsilon) + offset[c];
      }
      Value[] out = new Value[outputs];
      out[0] = Reals.write(t, x.shape(), y);
      out[1] = Reals.write(DType.FLOAT32, channelShape, outMean);
      out[2] = Reals.write(DType.FLOAT32, channelShape, outVariance);
      out[3] = Reals.write(DType.FLOAT32, channelShape, useMean);
      out[4] = Reals.write(DType.FLOAT32, channelShape, useVariance);
      if (outputs == 6) {
        out[5] = Value.zeros(DType.FLOAT32, new long[] {0});
      }
      return out;
    };
  }

  static double[] channelVector(Value v, int channels, String what) {
    if (v.rank() != 1 || v.size() != channels) {
      throw new KernelException(what + " " + v + " is not a vector of " + channels + " channels");
    }
    return Reals.read(v);
  }

  /**
   * LRN over the last axis: x / (bias + alpha · Σ x² over depth_radius neighbours either
   * side)^beta.
   */
  private static Kernel bindLrn(BindContext b) {
    DType t = Reals.type(b, "T", Set.of(DType.FLOAT32));
    int radius = Math.toIntExact(b.intAttr("depth_radius", 5));
    double bias = b.floatAttr("bias", 1f);
    double alpha = b.floatAttr("alpha", 1f);
    double beta = b.floatAttr("beta", 0.5f);
    return (in, ctx) -> {
      Value x = in[0];
      ConvOps.checkType(x, t, "input");
      if (x.rank() != 4) {
        throw new KernelException("input " + x + " is not of rank 4");
      }
      int depth = (int) x.dim(3);
      double[] v = Reals.read(x);
      double[] y = new double[v.length];
      for (int base = 0; base < v.length; base += depth) {
        for (int c = 0; c < depth; c++) {
          double sum = 0;
          for (int j = Math.max(0, c - radius); j <= Math.min(depth - 1, c + radius); j++) {
            sum += v[base + j] * v[base + j];
          }
          y[base + c] = v[base + c] / Math.pow(bias + alpha * sum, beta);
        }
      }
      return new Value[] {Reals.write(t, x.shape(), y)};
    };
  }

  private static Kernel bindL2Loss(BindContext b) {
    DType t = Reals.type(b, "T", Reals.FLOATS);
    return (in, ctx) -> {
      ConvOps.checkType(in[0], t, "t");
      double sum = 0;
      for (double v : Reals.read(in[0])) {
        sum += v * v;
      }
      return new Value[] {Reals.write(t, new long[0], new double[] {sum / 2})};
    };
  }
}
