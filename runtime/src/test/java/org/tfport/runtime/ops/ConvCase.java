package org.tfport.runtime.ops;

import static org.tfport.runtime.ops.NnTesting.ints;
import static org.tfport.runtime.ops.NnTesting.str;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.Value;

/**
 * One random window configuration (convolution or pooling) over 2 or 3 spatial dims, in either data
 * format, and the attributes and shapes it gives a node. TensorFlow's CPU kernels take only
 * channels-last, so channels-first cases are checked in TensorFlow between two Transposes ({@link
 * #toChannelsLast}).
 */
record ConvCase(
    int batch,
    int[] spatial,
    int channels,
    int[] window,
    int[] strides,
    int[] dilations,
    String padding,
    int[][] pads,
    boolean channelsFirst) {

  /**
   * A random case: windows up to {@code maxWindow}, strides 1–3, dilations 1–{@code maxDilation}.
   */
  static ConvCase random(
      Random rnd,
      int rank,
      int maxWindow,
      int maxDilation,
      String[] paddings,
      boolean channelsFirst) {
    int[] spatial = new int[rank];
    int[] window = new int[rank];
    int[] strides = new int[rank];
    int[] dilations = new int[rank];
    int[][] pads = new int[rank][2];
    String padding = paddings[rnd.nextInt(paddings.length)];
    for (int a = 0; a < rank; a++) {
      window[a] = 1 + rnd.nextInt(maxWindow);
      strides[a] = 1 + rnd.nextInt(3);
      dilations[a] = 1 + rnd.nextInt(maxDilation);
      int effective = (window[a] - 1) * dilations[a] + 1;
      spatial[a] = 1 + rnd.nextInt(rank == 3 ? 6 : 9);
      if (padding.equals("EXPLICIT")) {
        pads[a][0] = rnd.nextInt(3);
        pads[a][1] = rnd.nextInt(3);
        spatial[a] = Math.max(spatial[a], effective - pads[a][0] - pads[a][1]);
      } else if (padding.equals("VALID")) {
        spatial[a] = Math.max(spatial[a], effective);
      }
    }
    return new ConvCase(
        1 + rnd.nextInt(2),
        spatial,
        1 + rnd.nextInt(4),
        window,
        strides,
        dilations,
        padding,
        pads,
        channelsFirst);
  }

  int rank() {
    return spatial.length;
  }

  String format() {
    String s = rank() == 2 ? "HW" : "DHW";
    return channelsFirst ? "NC" + s : "N" + s + "C";
  }

  /** The input shape in this case's format. */
  long[] inputShape() {
    return shape(batch, channels);
  }

  long[] shape(long n, long c) {
    long[] s = new long[rank() + 2];
    s[0] = n;
    s[channelsFirst ? 1 : rank() + 1] = c;
    for (int a = 0; a < rank(); a++) {
      s[(channelsFirst ? 2 : 1) + a] = spatial[a];
    }
    return s;
  }

  /** A per-dimension attribute with 1 in the batch and channel dims. */
  AttrValue perDim(int[] spatialValues) {
    long[] v = new long[rank() + 2];
    Arrays.fill(v, 1);
    for (int a = 0; a < rank(); a++) {
      v[(channelsFirst ? 2 : 1) + a] = spatialValues[a];
    }
    return ints(v);
  }

  /** The window attributes of a convolution node (strides, dilations, padding, data_format). */
  Map<String, AttrValue> convAttrs(DType t) {
    Map<String, AttrValue> m = new LinkedHashMap<>();
    m.put("T", OpOracle.type(t));
    m.put("strides", perDim(strides));
    m.put("dilations", perDim(dilations));
    m.put("padding", str(padding));
    m.put("data_format", str(format()));
    if (padding.equals("EXPLICIT")) {
      long[] p = new long[2 * (rank() + 2)];
      for (int a = 0; a < rank(); a++) {
        int d = (channelsFirst ? 2 : 1) + a;
        p[2 * d] = pads[a][0];
        p[2 * d + 1] = pads[a][1];
      }
      m.put("explicit_paddings", ints(p));
    }
    return m;
  }

  /**
   * The output size along spatial axis {@code a}, by TensorFlow's rules (computed here
   * independently).
   */
  int outSize(int a) {
    int effective = (window[a] - 1) * dilations[a] + 1;
    return switch (padding) {
      case "VALID" -> (spatial[a] - effective) / strides[a] + 1;
      case "SAME" -> (spatial[a] + strides[a] - 1) / strides[a];
      default -> (spatial[a] + pads[a][0] + pads[a][1] - effective) / strides[a] + 1;
    };
  }

  long[] outputShape(long channelsOut) {
    long[] s = shape(batch, channelsOut);
    for (int a = 0; a < rank(); a++) {
      s[(channelsFirst ? 2 : 1) + a] = outSize(a);
    }
    return s;
  }

  /** The same case with each explicit padding below the window size, as pooling requires. */
  ConvCase withPadsBelowWindow() {
    int[][] p = new int[rank()][2];
    int[] s = spatial.clone();
    for (int a = 0; a < rank(); a++) {
      p[a][0] = Math.min(pads[a][0], window[a] - 1);
      p[a][1] = Math.min(pads[a][1], window[a] - 1);
      s[a] = Math.max(s[a], window[a] - p[a][0] - p[a][1]);
    }
    return new ConvCase(batch, s, channels, window, strides, dilations, padding, p, channelsFirst);
  }

  /** The same case with dilations 1 and the dilated window sizes (for a zero-stuffed filter). */
  ConvCase undilated() {
    int[] w = new int[rank()];
    int[] ones = new int[rank()];
    for (int a = 0; a < rank(); a++) {
      w[a] = (window[a] - 1) * dilations[a] + 1;
      ones[a] = 1;
    }
    return new ConvCase(batch, spatial, channels, w, strides, ones, padding, pads, channelsFirst);
  }

  /** The same case in channels-last layout. */
  ConvCase toChannelsLast() {
    return new ConvCase(batch, spatial, channels, window, strides, dilations, padding, pads, false);
  }

  /** The permutation from this (channels-first) layout to channels-last, and back. */
  long[] toLastPerm() {
    return rank() == 2 ? new long[] {0, 2, 3, 1} : new long[] {0, 2, 3, 4, 1};
  }

  long[] toFirstPerm() {
    return rank() == 2 ? new long[] {0, 3, 1, 2} : new long[] {0, 4, 1, 2, 3};
  }

  long[] filterShape(long in, long out) {
    long[] s = new long[rank() + 2];
    for (int a = 0; a < rank(); a++) {
      s[a] = window[a];
    }
    s[rank()] = in;
    s[rank() + 1] = out;
    return s;
  }

  static Map<String, AttrValue> transposeAttrs(DType t) {
    return OpOracle.attrs("T", OpOracle.type(t), "Tperm", OpOracle.type(DType.INT32));
  }

  /** A node input in this case's layout, as the channels-last tensor name TF's CPU kernels take. */
  String channelsLast(NnTesting.TfGraph g, String input, DType t) {
    if (!channelsFirst) {
      return input;
    }
    return g.op("Transpose", transposeAttrs(t), input, g.input(NnTesting.intVector(toLastPerm())));
  }

  /** A channels-last result back in this case's layout. */
  String fromChannelsLast(NnTesting.TfGraph g, String output, DType t) {
    if (!channelsFirst) {
      return output;
    }
    return g.op(
        "Transpose", transposeAttrs(t), output, g.input(NnTesting.intVector(toFirstPerm())));
  }

  @Override
  public String toString() {
    return format()
        + " n="
        + batch
        + " in="
        + Arrays.toString(spatial)
        + " c="
        + channels
        + " window="
        + Arrays.toString(window)
        + " strides="
        + Arrays.toString(strides)
        + " dilations="
        + Arrays.toString(dilations)
        + " "
        + padding
        + (padding.equals("EXPLICIT") ? Arrays.deepToString(pads) : "");
  }

  static Value zeroStuffed(Value filter, int rank, int[] dilations) {
    // A dilated filter as the undilated one with zeros between taps, for oracles whose CPU kernel
    // lacks dilations.
    long[] s = filter.shape().clone();
    for (int a = 0; a < rank; a++) {
      s[a] = (s[a] - 1) * dilations[a] + 1;
    }
    int inner = (int) (filter.shape()[rank] * filter.shape()[rank + 1]);
    double[] src = Reals.read(filter);
    double[] out = new double[(int) Value.elementCount(s)];
    int taps = src.length / inner;
    for (int t = 0; t < taps; t++) {
      int rest = t;
      int dst = 0;
      int mul = 1;
      for (int a = rank - 1; a >= 0; a--) {
        int k = (int) (rest % filter.shape()[a]);
        rest /= (int) filter.shape()[a];
        dst += k * dilations[a] * mul;
        mul *= (int) s[a];
      }
      System.arraycopy(src, t * inner, out, dst * inner, inner);
    }
    return Reals.write(filter.dtype(), s, out);
  }
}
