package org.tfport.runtime.ops;

import java.util.Arrays;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.KernelException;

/**
 * Sliding-window geometry shared by convolution and pooling: TensorFlow's data formats and padding
 * rules. Two- and three-dimensional windows are handled alike; a 2-D tensor is seen with a depth of
 * 1.
 */
final class Windows {
  private Windows() {}

  enum Padding {
    VALID,
    SAME,
    EXPLICIT;

    static Padding of(BindContext b, boolean explicitAllowed) {
      String p = b.stringAttr("padding", null);
      if (p == null) {
        throw new KernelException("attribute 'padding' is missing");
      }
      return switch (p) {
        case "VALID" -> VALID;
        case "SAME" -> SAME;
        case "EXPLICIT" -> {
          if (!explicitAllowed) {
            throw new KernelException(b.op() + " does not take padding EXPLICIT");
          }
          yield EXPLICIT;
        }
        default -> throw new KernelException("padding '" + p + "' is not VALID, SAME or EXPLICIT");
      };
    }
  }

  /**
   * The {@code data_format} attribute: where the channels sit, and how many spatial dimensions
   * there are.
   */
  record Format(String name, boolean channelsLast, int spatialRank) {
    static Format of(BindContext b, int spatialRank) {
      String def = spatialRank == 2 ? "NHWC" : "NDHWC";
      String f = b.stringAttr("data_format", def);
      boolean last =
          switch (f) {
            case "NHWC", "NDHWC" -> true;
            case "NCHW", "NCDHW" -> false;
            default -> throw new KernelException("data_format '" + f + "' is not supported");
          };
      if (f.length() != spatialRank + 2) {
        throw new KernelException(
            "data_format '" + f + "' does not have " + spatialRank + " spatial dimensions");
      }
      return new Format(f, last, spatialRank);
    }

    int rank() {
      return spatialRank + 2;
    }

    int channelAxis() {
      return channelsLast ? spatialRank + 1 : 1;
    }

    int spatialAxis(int i) {
      return channelsLast ? 1 + i : 2 + i;
    }

    /**
     * The spatial entries of a per-dimension list ({@code strides}, {@code dilations}, {@code
     * ksize}) padded to three with leading 1s; the batch and channel entries must be 1.
     */
    int[] spatial(String attr, long[] values) {
      if (values.length != rank()) {
        throw new KernelException(
            attr + " " + Arrays.toString(values) + " does not have " + rank() + " entries");
      }
      if (values[0] != 1 || values[channelAxis()] != 1) {
        throw new KernelException(
            attr + " " + Arrays.toString(values) + " is not 1 in the batch and channel dimensions");
      }
      int[] out = {1, 1, 1};
      for (int i = 0; i < spatialRank; i++) {
        long v = values[spatialAxis(i)];
        if (v < 1) {
          throw new KernelException(attr + " " + Arrays.toString(values) + " has an entry below 1");
        }
        out[3 - spatialRank + i] = Math.toIntExact(v);
      }
      return out;
    }

    /**
     * {@code explicit_paddings} (before, after pairs per dimension in data_format order) as [3][2],
     * spatial only.
     */
    int[][] explicitPads(long[] pairs) {
      int[][] out = new int[3][2];
      if (pairs.length != 2 * rank()) {
        throw new KernelException(
            "explicit_paddings "
                + Arrays.toString(pairs)
                + " does not have "
                + 2 * rank()
                + " entries");
      }
      for (long p : pairs) {
        if (p < 0) {
          throw new KernelException(
              "explicit_paddings " + Arrays.toString(pairs) + " has a negative entry");
        }
      }
      int c = channelAxis();
      if (pairs[0] != 0 || pairs[1] != 0 || pairs[2 * c] != 0 || pairs[2 * c + 1] != 0) {
        throw new KernelException(
            "explicit_paddings " + Arrays.toString(pairs) + " pads the batch or channels");
      }
      for (int i = 0; i < spatialRank; i++) {
        int a = spatialAxis(i);
        out[3 - spatialRank + i][0] = Math.toIntExact(pairs[2 * a]);
        out[3 - spatialRank + i][1] = Math.toIntExact(pairs[2 * a + 1]);
      }
      return out;
    }
  }

  /**
   * One spatial axis: input size, window taps, stride, dilation, padding before; and the output
   * size.
   */
  record Axis(int in, int window, int stride, int dilation, int padBefore, int out) {
    /**
     * The input coordinate of tap {@code k} for output position {@code o}; may fall in the padding.
     */
    int input(int o, int k) {
      return o * stride - padBefore + k * dilation;
    }
  }

  /**
   * TensorFlow's windowed output size and leading padding; SAME puts the odd padding element at the
   * end.
   */
  static Axis axis(
      int in,
      int window,
      int stride,
      int dilation,
      Padding padding,
      int explicitBefore,
      int explicitAfter) {
    int effective = (window - 1) * dilation + 1;
    return switch (padding) {
      case VALID -> {
        int out = (in - effective + stride) / stride;
        if (in - effective + stride < 0) {
          throw new KernelException(
              "a window of "
                  + effective
                  + " does not fit an input of "
                  + in
                  + " with padding VALID");
        }
        yield new Axis(in, window, stride, dilation, 0, out);
      }
      case SAME -> {
        int out = (in + stride - 1) / stride;
        int total = Math.max((out - 1) * stride + effective - in, 0);
        yield new Axis(in, window, stride, dilation, total / 2, out);
      }
      case EXPLICIT -> {
        int padded = in + explicitBefore + explicitAfter - effective;
        if (padded < 0) {
          throw new KernelException(
              "a window of "
                  + effective
                  + " does not fit an input of "
                  + in
                  + " padded by "
                  + explicitBefore
                  + " and "
                  + explicitAfter);
        }
        yield new Axis(in, window, stride, dilation, explicitBefore, padded / stride + 1);
      }
    };
  }

  /** The three axes (depth, height, width) of a window over {@code in}. */
  static Axis[] axes(
      Grid in, int[] window, int[] strides, int[] dilations, Padding padding, int[][] pads) {
    int[] sizes = {in.depth(), in.height(), in.width()};
    Axis[] out = new Axis[3];
    for (int i = 0; i < 3; i++) {
      out[i] =
          axis(
              sizes[i],
              window[i],
              strides[i],
              dilations[i],
              padding,
              pads == null ? 0 : pads[i][0],
              pads == null ? 0 : pads[i][1]);
    }
    return out;
  }

  /**
   * A batch of channels over depth × height × width in one layout. Elements sit at {@code n *
   * batchStride + c * channelStride + p * positionStride} with {@code p} the row-major spatial
   * position.
   */
  record Grid(int batch, int channels, int depth, int height, int width, boolean channelsLast) {
    static Grid of(long[] shape, Format f, String what) {
      if (shape.length != f.rank()) {
        throw new KernelException(
            what
                + " "
                + Arrays.toString(shape)
                + " is not of rank "
                + f.rank()
                + " ("
                + f.name()
                + ")");
      }
      int[] s = {1, 1, 1};
      for (int i = 0; i < f.spatialRank(); i++) {
        s[3 - f.spatialRank() + i] = Math.toIntExact(shape[f.spatialAxis(i)]);
      }
      return new Grid(
          Math.toIntExact(shape[0]),
          Math.toIntExact(shape[f.channelAxis()]),
          s[0],
          s[1],
          s[2],
          f.channelsLast());
    }

    /** The output grid of a window with these axes. */
    Grid windowed(Axis[] axes, int outChannels) {
      return new Grid(
          batch, outChannels, axes[0].out(), axes[1].out(), axes[2].out(), channelsLast);
    }

    int positions() {
      return depth * height * width;
    }

    int size() {
      return Math.multiplyExact(Math.multiplyExact(batch, channels), positions());
    }

    int batchStride() {
      return channels * positions();
    }

    int channelStride() {
      return channelsLast ? 1 : positions();
    }

    int positionStride() {
      return channelsLast ? channels : 1;
    }

    /** The offset of channel 0 at position (d, h, w) of batch element n. */
    int offset(int n, int d, int h, int w) {
      return n * batchStride() + ((d * height + h) * width + w) * positionStride();
    }

    long[] shape(Format f) {
      long[] s = new long[f.rank()];
      s[0] = batch;
      s[f.channelAxis()] = channels;
      long[] spatial = {depth, height, width};
      for (int i = 0; i < f.spatialRank(); i++) {
        s[f.spatialAxis(i)] = spatial[3 - f.spatialRank() + i];
      }
      return s;
    }
  }

  /**
   * The kernel's work at one output (or, for transposed convolutions, input) position: {@code taps}
   * contributing positions at offsets {@code tapIn} of the source tensor, each with its filter tap
   * index {@code tapFilter}.
   */
  @FunctionalInterface
  interface PositionKernel {
    void run(int[] tapIn, int[] tapFilter, int taps, int outBase);
  }

  /** Visits every output position with the input positions its window covers (padding skipped). */
  static void forEachOutput(Grid in, Grid out, Axis[] axes, PositionKernel k) {
    Axis ad = axes[0];
    Axis ah = axes[1];
    Axis aw = axes[2];
    int[] tapIn = new int[ad.window() * ah.window() * aw.window()];
    int[] tapFilter = new int[tapIn.length];
    for (int n = 0; n < out.batch(); n++) {
      for (int od = 0; od < out.depth(); od++) {
        for (int oh = 0; oh < out.height(); oh++) {
          for (int ow = 0; ow < out.width(); ow++) {
            int taps = 0;
            for (int kd = 0; kd < ad.window(); kd++) {
              int id = ad.input(od, kd);
              if (id < 0 || id >= ad.in()) {
                continue;
              }
              for (int kh = 0; kh < ah.window(); kh++) {
                int ih = ah.input(oh, kh);
                if (ih < 0 || ih >= ah.in()) {
                  continue;
                }
                for (int kw = 0; kw < aw.window(); kw++) {
                  int iw = aw.input(ow, kw);
                  if (iw < 0 || iw >= aw.in()) {
                    continue;
                  }
                  tapIn[taps] = in.offset(n, id, ih, iw);
                  tapFilter[taps++] = (kd * ah.window() + kh) * aw.window() + kw;
                }
              }
            }
            k.run(tapIn, tapFilter, taps, out.offset(n, od, oh, ow));
          }
        }
      }
    }
  }

  /**
   * Visits every input position with the output positions (and filter taps) whose window covered
   * it.
   */
  static void forEachInput(Grid in, Grid out, Axis[] axes, PositionKernel k) {
    Axis ad = axes[0];
    Axis ah = axes[1];
    Axis aw = axes[2];
    int[] tapOut = new int[ad.window() * ah.window() * aw.window()];
    int[] tapFilter = new int[tapOut.length];
    for (int n = 0; n < in.batch(); n++) {
      for (int id = 0; id < in.depth(); id++) {
        for (int ih = 0; ih < in.height(); ih++) {
          for (int iw = 0; iw < in.width(); iw++) {
            int taps = 0;
            for (int kd = 0; kd < ad.window(); kd++) {
              int od = output(ad, id, kd);
              if (od < 0) {
                continue;
              }
              for (int kh = 0; kh < ah.window(); kh++) {
                int oh = output(ah, ih, kh);
                if (oh < 0) {
                  continue;
                }
                for (int kw = 0; kw < aw.window(); kw++) {
                  int ow = output(aw, iw, kw);
                  if (ow < 0) {
                    continue;
                  }
                  tapOut[taps] = out.offset(n, od, oh, ow);
                  tapFilter[taps++] = (kd * ah.window() + kh) * aw.window() + kw;
                }
              }
            }
            k.run(tapOut, tapFilter, taps, in.offset(n, id, ih, iw));
          }
        }
      }
    }
  }

  /** The output position whose tap {@code k} reads input {@code i}, or -1 when none does. */
  private static int output(Axis a, int i, int k) {
    int scaled = i + a.padBefore() - k * a.dilation();
    if (scaled < 0 || scaled % a.stride() != 0) {
      return -1;
    }
    int o = scaled / a.stride();
    return o < a.out() ? o : -1;
  }

  /** Refuses an {@code out_backprop} whose shape is not the forward output of these windows. */
  static void checkForwardOutput(Grid in, Axis[] axes, Grid out, Object outBackprop, Format f) {
    Grid expected = in.windowed(axes, out.channels());
    if (!expected.equals(out)) {
      throw new KernelException(
          "out_backprop "
              + outBackprop
              + " is not the forward output shape "
              + Arrays.toString(expected.shape(f)));
    }
  }
}
