package org.tfport.graph.optimize;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tfport.core.Permutation;

/**
 * Output shapes of the ops whose shape is plain arithmetic on input shapes and constant arguments
 * (products, windows, reshapes, slices, gathers, reductions). Dimensions are -1 where unknown;
 * {@link ShapeInference} decides which rule a node takes and feeds it.
 */
final class ShapeArithmetic {
  private ShapeArithmetic() {}

  static long[] matMul(long[] a, long[] b, boolean ta, boolean tb) {
    if (a == null || b == null || a.length != 2 || b.length != 2) {
      return null;
    }
    return new long[] {ta ? a[1] : a[0], tb ? b[0] : b[1]};
  }

  static long[] batchMatMul(long[] a, long[] b, boolean adjX, boolean adjY) {
    if (a == null || b == null || a.length < 2 || b.length < 2) {
      return null;
    }
    long[] batch =
        ShapeInference.broadcast(Arrays.copyOf(a, a.length - 2), Arrays.copyOf(b, b.length - 2));
    if (batch == null) {
      return null;
    }
    long[] out = Arrays.copyOf(batch, batch.length + 2);
    out[batch.length] = adjX ? a[a.length - 1] : a[a.length - 2];
    out[batch.length + 1] = adjY ? b[b.length - 2] : b[b.length - 1];
    return out;
  }

  /** Output size of one spatial dimension, as TensorFlow's {@code GetWindowedOutputSize}. */
  /** A shape of {@code rank} dimensions, none known. */
  static long[] unknown(int rank) {
    long[] out = new long[rank];
    java.util.Arrays.fill(out, -1);
    return out;
  }

  static long windowed(long in, long k, long stride, long dilation, String padding) {
    if (in < 0 || k < 0 || stride <= 0) {
      return -1;
    }
    long effective = (k - 1) * dilation + 1;
    return switch (padding) {
      case "SAME" -> (in + stride - 1) / stride;
      case "VALID" -> in < effective ? -1 : (in - effective + stride) / stride;
      default -> -1;
    };
  }

  static long[] reshape(long[] x, long[] target, long[] targetShape) {
    if (target == null) {
      if (targetShape != null && targetShape.length == 1 && targetShape[0] >= 0) {
        long[] out = new long[(int) targetShape[0]];
        Arrays.fill(out, -1);
        return out;
      }
      return null;
    }
    long[] out = target.clone();
    int unknown = -1;
    long product = 1;
    for (int i = 0; i < out.length; i++) {
      if (out[i] < 0) {
        if (unknown >= 0) {
          return null;
        }
        unknown = i;
      } else {
        product *= out[i];
      }
    }
    if (unknown >= 0 && ShapeInference.known(x) && product > 0) {
      long total = 1;
      for (long d : x) {
        total *= d;
      }
      out[unknown] = total % product == 0 ? total / product : -1;
    }
    return out;
  }

  static long[] transpose(long[] x, long[] perm) {
    if (x == null) {
      return perm == null ? null : filled(perm.length);
    }
    if (perm == null) {
      return filled(x.length);
    }
    return Permutation.apply(x, perm);
  }

  static long[] filled(int rank) {
    long[] out = new long[rank];
    Arrays.fill(out, -1);
    return out;
  }

  static long[] expandDims(long[] x, long[] axis) {
    if (x == null || axis == null || axis.length != 1) {
      return null;
    }
    long a = axis[0] < 0 ? axis[0] + x.length + 1 : axis[0];
    if (a < 0 || a > x.length) {
      return null;
    }
    long[] out = new long[x.length + 1];
    for (int i = 0, j = 0; i < out.length; i++) {
      out[i] = i == a ? 1 : x[j++];
    }
    return out;
  }

  static long[] fill(long[] dims, long[] dimsShape) {
    if (dims != null) {
      return dims;
    }
    return dimsShape != null && dimsShape.length == 1 && dimsShape[0] >= 0
        ? filled((int) dimsShape[0])
        : null;
  }

  static long[] slice(long[] x, long[] begin, long[] size) {
    if (size == null) {
      return x == null ? null : filled(x.length);
    }
    long[] out = size.clone();
    for (int i = 0; i < out.length; i++) {
      if (out[i] == -1) {
        out[i] = x != null && i < x.length && x[i] >= 0 && begin != null ? x[i] - begin[i] : -1;
      }
    }
    return out;
  }

  static long[] gather(long[] params, long[] indices, long[] axisArg) {
    if (params == null || indices == null || axisArg == null || axisArg.length != 1) {
      return null;
    }
    long a = axisArg[0] < 0 ? axisArg[0] + params.length : axisArg[0];
    if (a < 0 || a >= params.length) {
      return null;
    }
    long[] out = new long[params.length - 1 + indices.length];
    int o = 0;
    for (int i = 0; i < a; i++) {
      out[o++] = params[i];
    }
    for (long d : indices) {
      out[o++] = d;
    }
    for (int i = (int) a + 1; i < params.length; i++) {
      out[o++] = params[i];
    }
    return out;
  }

  static long[] tile(long[] x, long[] multiples) {
    if (x == null || multiples == null || multiples.length != x.length) {
      return x == null ? null : filled(x.length);
    }
    long[] out = new long[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = x[i] < 0 ? -1 : x[i] * multiples[i];
    }
    return out;
  }

  /** An NHWC image resized to {@code size} [height, width]; batch and channels kept. */
  static long[] resize(long[] x, long[] size) {
    if (x == null || x.length != 4) {
      return x == null ? null : filled(x.length);
    }
    boolean known = size != null && size.length == 2;
    return new long[] {x[0], known ? size[0] : -1, known ? size[1] : -1, x[3]};
  }

  static long[] pad(long[] x, long[] paddings) {
    if (x == null || paddings == null || paddings.length != 2 * x.length) {
      return x == null ? null : filled(x.length);
    }
    long[] out = new long[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = x[i] < 0 ? -1 : x[i] + paddings[2 * i] + paddings[2 * i + 1];
    }
    return out;
  }

  static long[] reduce(long[] x, long[] axes, boolean keep) {
    if (x == null || axes == null) {
      return null;
    }
    boolean[] reduced = new boolean[x.length];
    for (long a : axes) {
      long ax = a < 0 ? a + x.length : a;
      if (ax < 0 || ax >= x.length) {
        return null;
      }
      reduced[(int) ax] = true;
    }
    List<Long> out = new ArrayList<>();
    for (int i = 0; i < x.length; i++) {
      if (!reduced[i]) {
        out.add(x[i]);
      } else if (keep) {
        out.add(1L);
      }
    }
    return out.stream().mapToLong(Long::longValue).toArray();
  }

  /**
   * Squeeze's result: the given axes dropped, or with none given every dim of 1 (null when a dim is
   * unknown then, or an axis is out of range).
   */
  static long[] squeeze(long[] x, long[] axes) {
    if (x == null) {
      return null;
    }
    boolean[] drop = new boolean[x.length];
    if (axes == null || axes.length == 0) {
      for (int i = 0; i < x.length; i++) {
        if (x[i] < 0) {
          return null;
        }
        drop[i] = x[i] == 1;
      }
    } else {
      for (long a : axes) {
        long ax = a < 0 ? a + x.length : a;
        if (ax < 0 || ax >= x.length) {
          return null;
        }
        drop[(int) ax] = true;
      }
    }
    int kept = 0;
    for (boolean d : drop) {
      kept += d ? 0 : 1;
    }
    long[] out = new long[kept];
    for (int i = 0, k = 0; i < x.length; i++) {
      if (!drop[i]) {
        out[k++] = x[i];
      }
    }
    return out;
  }
}
