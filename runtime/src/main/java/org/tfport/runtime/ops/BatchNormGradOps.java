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
 * FusedBatchNormGrad (V1, V2, V3): inputs y_backprop, x, scale, then the mean and variance the
 * forward op saved in its reserve spaces (the batch mean and biased variance in training, the
 * population ones in inference); outputs x_backprop, scale_backprop, offset_backprop and two empty
 * placeholders. With r = 1/√(variance + ε) per channel, in training x_backprop = scale·r·(dy −
 * mean(dy) − (x − mean)·mean(dy·(x − mean))·r²), in inference scale·r·dy; scale_backprop = Σ dy·(x
 * − mean)·r, offset_backprop = Σ dy. Computed in double, rounded once.
 */
final class BatchNormGradOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference(
        BatchNormGradOps::bind,
        "FusedBatchNormGrad",
        "FusedBatchNormGradV2",
        "FusedBatchNormGradV3");
  }

  private static Kernel bind(BindContext b) {
    DType t = Reals.type(b, "T", Set.of(DType.FLOAT32));
    double epsilon = b.floatAttr("epsilon", 1e-4f);
    boolean training = b.boolAttr("is_training", true);
    String format = b.stringAttr("data_format", "NHWC");
    boolean channelsFirst =
        switch (format) {
          case "NHWC", "NDHWC" -> false;
          case "NCHW", "NCDHW" -> true;
          default -> throw new KernelException("data_format '" + format + "' is not supported");
        };
    int rank = format.length();
    return (in, ctx) -> {
      Value dy = in[0];
      Value x = in[1];
      ConvOps.checkType(dy, t, "y_backprop");
      ConvOps.checkType(x, t, "x");
      if (x.rank() != rank || !java.util.Arrays.equals(x.shape(), dy.shape())) {
        throw new KernelException(
            "x " + x + " and y_backprop " + dy + " must be one shape of rank " + rank);
      }
      int axis = channelsFirst ? 1 : rank - 1;
      int channels = (int) x.dim(axis);
      int inner = 1;
      for (int a = axis + 1; a < rank; a++) {
        inner *= (int) x.dim(a);
      }
      double[] scale = NormalizationOps.channelVector(in[2], channels, "scale");
      double[] mean = NormalizationOps.channelVector(in[3], channels, "reserve_space_1");
      double[] variance = NormalizationOps.channelVector(in[4], channels, "reserve_space_2");
      double[] g = Reals.read(dy);
      double[] v = Reals.read(x);
      int count = channels == 0 ? 0 : v.length / channels;
      double[] sumG = new double[channels];
      double[] sumGx = new double[channels];
      for (int i = 0; i < v.length; i++) {
        int c = (i / inner) % channels;
        sumG[c] += g[i];
        sumGx[c] += g[i] * (v[i] - mean[c]);
      }
      double[] r = new double[channels];
      for (int c = 0; c < channels; c++) {
        r[c] = 1 / Math.sqrt(variance[c] + epsilon);
      }
      double[] dx = new double[v.length];
      for (int i = 0; i < v.length; i++) {
        int c = (i / inner) % channels;
        dx[i] =
            training
                ? scale[c]
                    * r[c]
                    * (g[i] - sumG[c] / count - (v[i] - mean[c]) * (sumGx[c] / count) * r[c] * r[c])
                : scale[c] * r[c] * g[i];
      }
      double[] dScale = new double[channels];
      for (int c = 0; c < channels; c++) {
        dScale[c] = sumGx[c] * r[c];
      }
      long[] channelShape = {channels};
      return new Value[] {
        Reals.write(t, x.shape(), dx),
        Reals.write(DType.FLOAT32, channelShape, dScale),
        Reals.write(DType.FLOAT32, channelShape, sumG),
        Value.zeros(DType.FLOAT32, new long[] {0}),
        Value.zeros(DType.FLOAT32, new long[] {0})
      };
    };
  }
}
