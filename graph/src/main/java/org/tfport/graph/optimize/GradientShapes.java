package org.tfport.graph.optimize;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Shape rules of the gradient ops backward graphs use (ShapeInference's switch is full): the
 * gradient ops whose output has their first input's shape, and the rest computed from input shapes
 * and constant size vectors. Dimensions are -1 where unknown; null means unknown rank.
 */
final class GradientShapes {
  private GradientShapes() {}

  /** Ops whose only output has the shape of input 0. */
  static final Set<String> SAME_AS_FIRST =
      Set.of(
          "ReluGrad",
          "Relu6Grad",
          "EluGrad",
          "SeluGrad",
          "SoftplusGrad",
          "SoftsignGrad",
          "LeakyReluGrad",
          "SigmoidGrad",
          "TanhGrad",
          "RsqrtGrad",
          "SqrtGrad",
          "ReciprocalGrad",
          "InvGrad",
          "MaxPoolGrad",
          "MaxPoolGradV2");

  /** BiasAddGrad: one value per channel (axis 1 for NCHW, else the last). */
  static long[] biasAddGrad(long[] x, String format) {
    if (x == null || x.length < 2) {
      return new long[] {-1};
    }
    return new long[] {"NCHW".equals(format) ? x[1] : x[x.length - 1]};
  }

  /** The cross-entropies: loss [batch] and backprop [batch, classes]. */
  static List<long[]> crossEntropy(long[] logits) {
    List<long[]> out = new ArrayList<>();
    if (logits == null || logits.length != 2) {
      out.add(new long[] {-1});
      out.add(new long[] {-1, -1});
    } else {
      out.add(new long[] {logits[0]});
      out.add(logits.clone());
    }
    return out;
  }

  /** A shape given by a constant size vector (filter_sizes, input_sizes), if known. */
  static long[] fromSizes(long[] sizes, long[] sizesShape) {
    if (sizes != null) {
      return sizes.clone();
    }
    if (sizesShape != null && sizesShape.length == 1 && sizesShape[0] >= 0) {
      long[] out = new long[(int) sizesShape[0]];
      Arrays.fill(out, -1);
      return out;
    }
    return null;
  }

  /** FusedBatchNormGrad*: x_backprop, scale_backprop, offset_backprop and two empty outputs. */
  static List<long[]> batchNormGrad(long[] x, String format) {
    long c = -1;
    if (x != null && x.length >= 2) {
      c = format != null && format.startsWith("NC") ? x[1] : x[x.length - 1];
    }
    List<long[]> out = new ArrayList<>();
    out.add(x);
    out.add(new long[] {c});
    out.add(new long[] {c});
    out.add(new long[] {0});
    out.add(new long[] {0});
    return out;
  }

  /** UnsortedSegmentSum: [num_segments] followed by data's dimensions after the ids'. */
  static long[] segmentSum(long[] data, long[] ids, long[] numSegments) {
    if (data == null || ids == null || ids.length > data.length) {
      return null;
    }
    long[] out = new long[data.length - ids.length + 1];
    out[0] = numSegments != null && numSegments.length == 1 ? numSegments[0] : -1;
    System.arraycopy(data, ids.length, out, 1, out.length - 1);
    return out;
  }
}
