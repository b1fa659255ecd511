package org.tfport.convert.tflite;

import static org.tfport.convert.tflite.CalibrationInterpreter.*;
import static org.tfport.formats.tflite.TfliteBuiltin.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tfport.convert.tflite.CalibrationInterpreter.V;
import org.tfport.formats.tflite.TfliteBuiltin;
import org.tfport.formats.tflite.TfliteType;

/**
 * The float reference kernels of {@link CalibrationInterpreter} for the ops {@link Lowering} emits beyond the
 * common CNN set: data movement (space/batch/depth rearrangements, mirror padding, reversal, broadcasting, dynamic
 * update), resizing, transposed and 3-D convolution, selection and comparisons. Semantics follow TFLite's float kernels;
 * integer and bool tensors are held as floats like everywhere in the evaluator (1/0 for bool).
 */
final class CalibrationKernels {
  private CalibrationKernels() {}

  private static boolean flag(ModelBuilder.Op o, String k) {
    return Boolean.TRUE.equals(o.options.get(k));
  }

  private static float real(ModelBuilder.Op o, String k, float dflt) {
    return o.options.get(k) instanceof Number n ? n.floatValue() : dflt;
  }

  static V[] eval(ModelBuilder.Op o, V[] in, ModelBuilder.Sub s) {
    TfliteBuiltin c = o.builtin;
    if (c == TRANSPOSE_CONV) {
      return one(transposeConv(o, ints(in[0]), in[1], in[2], in.length > 3 ? in[3] : null));
    } else if (c == SPACE_TO_BATCH_ND) {
      return one(spaceToBatch(in[0], ints(in[1]), ints(in[2])));
    } else if (c == BATCH_TO_SPACE_ND) {
      return one(batchToSpace(in[0], ints(in[1]), ints(in[2])));
    } else if (c == RESIZE_BILINEAR || c == RESIZE_NEAREST_NEIGHBOR) {
      return one(resize(in[0], ints(in[1]), c == RESIZE_BILINEAR, flag(o, "align_corners"),
          flag(o, "half_pixel_centers")));
    } else if (c == ADD_N) {
      V acc = in[0];
      for (int k = 1; k < in.length; k++) {
        acc = binary(ADD, acc, in[k]);
      }
      return one(acc);
    } else if (c == SPLIT_V) {
      return splitV(in[0], ints(in[1]), (int) in[2].d()[0]);
    } else if (c == SELECT) {
      return one(selectV1(in[0], in[1], in[2]));
    } else if (c == GATHER_ND) {
      return one(gatherNd(in[0], in[1]));
    } else if (c == MIRROR_PAD) {
      return one(mirrorPad(in[0], ints(in[1]), o.i("mode") == 1));
    } else if (c == DEPTH_TO_SPACE || c == SPACE_TO_DEPTH) {
      return one(depthSpace(in[0], o.i("block_size"), c == DEPTH_TO_SPACE));
    } else if (c == ONE_HOT) {
      return one(oneHot(in[0], (int) in[1].d()[0], in[2].d()[0], in[3].d()[0], o.i("axis")));
    } else if (c == TOPK_V2) {
      return topK(in[0], (int) in[1].d()[0]);
    } else if (c == CUMSUM) {
      return one(cumsum(in[0], (int) in[1].d()[0], flag(o, "exclusive"), flag(o, "reverse")));
    } else if (c == LOCAL_RESPONSE_NORMALIZATION) {
      return one(lrn(in[0], o.i("radius"), real(o, "bias", 1f), real(o, "alpha", 1f), real(o, "beta", 0.5f)));
    } else if (c == CONV_3D) {
      return one(act(conv3d(o, in[0], in[1], in.length > 2 ? in[2] : null), o.i("fused_activation_function")));
    } else if (c == REVERSE_V2) {
      return one(reverse(in[0], ints(in[1])));
    } else if (c == RANGE) {
      return one(range(in[0].d()[0], in[1].d()[0], in[2].d()[0], s.t(o.outputs.get(0)).type));
    } else if (c == BROADCAST_TO) {
      int[] shape = ints(in[1]);
      return one(binary(ADD, in[0], new V(shape, new float[size(shape)])));
    } else if (c == DYNAMIC_UPDATE_SLICE) {
      return one(dynamicUpdateSlice(in[0], in[1], ints(in[2])));
    } else if (c == WHERE) {
      return one(where(in[0]));
    } else if (c == ARG_MIN) {
      V neg = new V(in[0].shape(), in[0].d().clone());
      for (int i = 0; i < neg.d().length; i++) {
        neg.d()[i] = -neg.d()[i];
      }
      // First minimum = first maximum of the negation.
      return one(argMax(neg, (int) in[1].d()[0]));
    } else if (c == RANK) {
      return one(V.scalar(in[0].shape().length));
    } else if (c == LESS || c == LESS_EQUAL || c == GREATER || c == GREATER_EQUAL || c == EQUAL || c == NOT_EQUAL
        || c == LOGICAL_AND || c == LOGICAL_OR || c == FLOOR_DIV || c == FLOOR_MOD) {
      return one(elementwise2(c, in[0], in[1], isInt(s, o.outputs.get(0))));
    } else if (c == LOGICAL_NOT || c == ZEROS_LIKE || c == SIN || c == COS || c == CEIL
        || c == ROUND || c == SIGN || c == GELU) {
      return one(elementwise1(o, in[0]));
    }
    throw new IllegalStateException("no float kernel");
  }

  private static boolean isInt(ModelBuilder.Sub s, int t) {
    TfliteType ty = s.t(t).type;
    return ty != TfliteType.FLOAT32 && ty != TfliteType.FLOAT16 && ty != TfliteType.FLOAT64;
  }

  // ------------------------------------------------------------------------------------ convolutions

  /**
   * TRANSPOSE_CONV [output_shape, weights OHWI, x NHWI, bias]: the gradient of a convolution, i.e. every input
   * pixel scatters w[o, ky, kx, i]·x into out[y·stride − pad + ky, x·stride − pad + kx, o]; the padding is the one
   * a forward convolution of the output's size would use (SAME: half the excess, smaller half first).
   */
  static V transposeConv(ModelBuilder.Op o, int[] outShape, V w, V x, V bias) {
    int n = x.shape()[0], h = x.shape()[1], wd = x.shape()[2], ci = x.shape()[3];
    int oc = w.shape()[0], kh = w.shape()[1], kw = w.shape()[2];
    int oh = outShape[1], ow = outShape[2];
    int sh = Math.max(1, o.i("stride_h")), sw = Math.max(1, o.i("stride_w"));
    boolean same = o.i("padding") == 0;
    int py = window(oh, kh, sh, 1, same)[1], px = window(ow, kw, sw, 1, same)[1];
    double[] acc = new double[n * oh * ow * oc];
    for (int b = 0; b < n; b++) {
      for (int y = 0; y < h; y++) {
        for (int xx = 0; xx < wd; xx++) {
          int src = ((b * h + y) * wd + xx) * ci;
          for (int ky = 0; ky < kh; ky++) {
            int oy = y * sh - py + ky;
            if (oy < 0 || oy >= oh) {
              continue;
            }
            for (int kx = 0; kx < kw; kx++) {
              int ox = xx * sw - px + kx;
              if (ox < 0 || ox >= ow) {
                continue;
              }
              int dst = ((b * oh + oy) * ow + ox) * oc;
              for (int f = 0; f < oc; f++) {
                int wb = ((f * kh + ky) * kw + kx) * ci;
                double sum = 0;
                for (int i = 0; i < ci; i++) {
                  sum += x.d()[src + i] * w.d()[wb + i];
                }
                acc[dst + f] += sum;
              }
            }
          }
        }
      }
    }
    float[] out = new float[acc.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) (acc[i] + (bias == null ? 0 : bias.d()[i % oc]));
    }
    return act(new V(new int[] {n, oh, ow, oc}, out), o.i("fused_activation_function"));
  }

  /** CONV_3D: x NDHWC, filter [kd, kh, kw, C, O] (TF's DHWIO), SAME/VALID per spatial dim with dilations. */
  static V conv3d(ModelBuilder.Op o, V x, V w, V bias) {
    int n = x.shape()[0], c = x.shape()[4];
    int[] in = {x.shape()[1], x.shape()[2], x.shape()[3]};
    int[] k = {w.shape()[0], w.shape()[1], w.shape()[2]};
    int oc = w.shape()[4];
    int[] st = {Math.max(1, o.i("stride_d")), Math.max(1, o.i("stride_h")), Math.max(1, o.i("stride_w"))};
    int[] dl = {Math.max(1, o.i("dilation_d_factor")), Math.max(1, o.i("dilation_h_factor")),
        Math.max(1, o.i("dilation_w_factor"))};
    boolean same = o.i("padding") == 0;
    int[] out = new int[3], pad = new int[3];
    for (int i = 0; i < 3; i++) {
      int[] r = window(in[i], k[i], st[i], dl[i], same);
      out[i] = r[0];
      pad[i] = r[1];
    }
    float[] res = new float[n * out[0] * out[1] * out[2] * oc];
    int p = 0;
    for (int b = 0; b < n; b++) {
      for (int z = 0; z < out[0]; z++) {
        for (int y = 0; y < out[1]; y++) {
          for (int xx = 0; xx < out[2]; xx++) {
            for (int f = 0; f < oc; f++) {
              double acc = bias == null ? 0 : bias.d()[f];
              for (int kz = 0; kz < k[0]; kz++) {
                int iz = z * st[0] - pad[0] + kz * dl[0];
                if (iz < 0 || iz >= in[0]) {
                  continue;
                }
                for (int ky = 0; ky < k[1]; ky++) {
                  int iy = y * st[1] - pad[1] + ky * dl[1];
                  if (iy < 0 || iy >= in[1]) {
                    continue;
                  }
                  for (int kx = 0; kx < k[2]; kx++) {
                    int ix = xx * st[2] - pad[2] + kx * dl[2];
                    if (ix < 0 || ix >= in[2]) {
                      continue;
                    }
                    int xb = (((b * in[0] + iz) * in[1] + iy) * in[2] + ix) * c;
                    int wb = ((kz * k[1] + ky) * k[2] + kx) * c * oc;
                    for (int i = 0; i < c; i++) {
                      acc += x.d()[xb + i] * w.d()[wb + i * oc + f];
                    }
                  }
                }
              }
              res[p++] = (float) acc;
            }
          }
        }
      }
    }
    return new V(new int[] {n, out[0], out[1], out[2], oc}, res);
  }

  // -------------------------------------------------------------------------------------- data movement

  /**
   * SPACE_TO_BATCH_ND: pad the M spatial dims, then output batch (offsets row-major over the block) · B + b takes
   * padded[b, i_j·block_j + offset_j, ..., rest].
   */
  static V spaceToBatch(V x, int[] block, int[] pads) {
    int m = block.length, r = x.shape().length;
    int[] padAll = new int[2 * r];
    System.arraycopy(pads, 0, padAll, 2, 2 * m);
    V p = pad(x, padAll, 0f);
    int b = x.shape()[0];
    int[] shape = p.shape().clone();
    int blocks = 1;
    for (int j = 0; j < m; j++) {
      blocks *= block[j];
      shape[1 + j] = p.shape()[1 + j] / block[j];
    }
    shape[0] = b * blocks;
    float[] out = new float[size(shape)];
    int[] ps = strides(p.shape());
    int[] idx = new int[r];
    for (int i = 0; i < out.length; i++) {
      int off = idx[0] / b;
      int src = (idx[0] % b) * ps[0];
      for (int j = m - 1; j >= 0; j--) {
        int o = off % block[j];
        off /= block[j];
        src += (idx[1 + j] * block[j] + o) * ps[1 + j];
      }
      for (int k = 1 + m; k < r; k++) {
        src += idx[k] * ps[k];
      }
      out[i] = p.d()[src];
      increment(idx, shape);
    }
    return new V(shape, out);
  }

  /** BATCH_TO_SPACE_ND: the inverse of {@link #spaceToBatch}, then the crops cut from each spatial dim. */
  static V batchToSpace(V x, int[] block, int[] crops) {
    int m = block.length, r = x.shape().length;
    int blocks = 1;
    for (int bs : block) {
      blocks *= bs;
    }
    int b = x.shape()[0] / blocks;
    int[] shape = x.shape().clone();
    shape[0] = b;
    for (int j = 0; j < m; j++) {
      shape[1 + j] = x.shape()[1 + j] * block[j] - crops[2 * j] - crops[2 * j + 1];
    }
    float[] out = new float[size(shape)];
    int[] xs = strides(x.shape());
    int[] idx = new int[r];
    for (int i = 0; i < out.length; i++) {
      int off = 0;
      int src = 0;
      for (int j = 0; j < m; j++) {
        int full = idx[1 + j] + crops[2 * j];
        off = off * block[j] + full % block[j];
        src += (full / block[j]) * xs[1 + j];
      }
      src += (off * b + idx[0]) * xs[0];
      for (int k = 1 + m; k < r; k++) {
        src += idx[k] * xs[k];
      }
      out[i] = x.d()[src];
      increment(idx, shape);
    }
    return new V(shape, out);
  }

  /**
   * RESIZE_BILINEAR / RESIZE_NEAREST_NEIGHBOR on NHWC. Source coordinate of output index i: i·scale, or
   * (i + 0.5)·scale − 0.5 with half-pixel centers (nearest: (i + 0.5)·scale), scale = (in − 1)/(out − 1) with
   * align_corners (out > 1) else in/out. Bilinear blends floor/ceil neighbours clamped into the image; nearest
   * floors (rounds with align_corners), clamped.
   */
  static V resize(V x, int[] size, boolean bilinear, boolean align, boolean half) {
    int n = x.shape()[0], h = x.shape()[1], w = x.shape()[2], c = x.shape()[3];
    int oh = size[0], ow = size[1];
    float sy = scale(h, oh, align), sx = scale(w, ow, align);
    float[] out = new float[n * oh * ow * c];
    for (int b = 0; b < n; b++) {
      for (int y = 0; y < oh; y++) {
        for (int xx = 0; xx < ow; xx++) {
          int dst = ((b * oh + y) * ow + xx) * c;
          if (bilinear) {
            float fy = half ? (y + 0.5f) * sy - 0.5f : y * sy;
            float fx = half ? (xx + 0.5f) * sx - 0.5f : xx * sx;
            int y0 = Math.max((int) Math.floor(fy), 0), y1 = Math.min((int) Math.ceil(fy), h - 1);
            int x0 = Math.max((int) Math.floor(fx), 0), x1 = Math.min((int) Math.ceil(fx), w - 1);
            float dy = fy - y0, dx = fx - x0;
            for (int ch = 0; ch < c; ch++) {
              float a = x.d()[((b * h + y0) * w + x0) * c + ch], bb = x.d()[((b * h + y1) * w + x0) * c + ch];
              float cc = x.d()[((b * h + y0) * w + x1) * c + ch], d = x.d()[((b * h + y1) * w + x1) * c + ch];
              out[dst + ch] = a * (1 - dy) * (1 - dx) + bb * dy * (1 - dx) + cc * (1 - dy) * dx + d * dy * dx;
            }
          } else {
            int iy = nearest(y, h, sy, align, half), ix = nearest(xx, w, sx, align, half);
            System.arraycopy(x.d(), ((b * h + iy) * w + ix) * c, out, dst, c);
          }
        }
      }
    }
    return new V(new int[] {n, oh, ow, c}, out);
  }

  private static float scale(int in, int out, boolean align) {
    return align && out > 1 ? (in - 1) / (float) (out - 1) : in / (float) out;
  }

  private static int nearest(int i, int in, float scale, boolean align, boolean half) {
    float f = (i + (half ? 0.5f : 0f)) * scale;
    // Rounding half away from zero, as TFLite's round.
    int v = Math.min(align ? (int) Math.signum(f) * (int) Math.floor(Math.abs(f) + 0.5f) : (int) Math.floor(f),
        in - 1);
    return half ? Math.max(0, v) : v;
  }

  static V[] splitV(V x, int[] sizes, int axis) {
    int r = x.shape().length;
    int a = axis < 0 ? axis + r : axis;
    int[] sz = sizes.clone();
    int known = 0, unknown = -1;
    for (int i = 0; i < sz.length; i++) {
      if (sz[i] < 0) {
        unknown = i;
      } else {
        known += sz[i];
      }
    }
    if (unknown >= 0) {
      sz[unknown] = x.shape()[a] - known;
    }
    V[] out = new V[sz.length];
    int start = 0;
    for (int k = 0; k < sz.length; k++) {
      int[] begin = new int[r];
      int[] count = x.shape().clone();
      begin[a] = start;
      count[a] = sz[k];
      out[k] = slice(x, begin, count);
      start += sz[k];
    }
    return out;
  }

  /** SELECT (v1): a condition of x's shape, or a vector choosing whole rows of x along dim 0. */
  static V selectV1(V c, V x, V y) {
    if (c.shape().length == 1 && x.shape().length > 1) {
      int[] shape = new int[x.shape().length];
      Arrays.fill(shape, 1);
      shape[0] = c.shape()[0];
      c = new V(shape, c.d());
    }
    return select(c, x, y);
  }

  /** GATHER_ND: indices [..., k] address the first k dims of params; each gathers the remaining slice. */
  static V gatherNd(V params, V indices) {
    int ir = indices.shape().length;
    int k = indices.shape()[ir - 1];
    int pr = params.shape().length;
    int[] ps = strides(params.shape());
    int inner = 1;
    for (int i = k; i < pr; i++) {
      inner *= params.shape()[i];
    }
    int n = indices.d().length / Math.max(k, 1);
    if (k == 0) {
      n = size(Arrays.copyOf(indices.shape(), ir - 1));
    }
    float[] out = new float[n * inner];
    for (int j = 0; j < n; j++) {
      int src = 0;
      for (int q = 0; q < k; q++) {
        int ix = (int) indices.d()[j * k + q];
        if (ix < 0 || ix >= params.shape()[q]) {
          throw new IllegalStateException("gather_nd index " + ix + " out of range [0, " + params.shape()[q] + ")");
        }
        src += ix * ps[q];
      }
      System.arraycopy(params.d(), src, out, j * inner, inner);
    }
    int[] shape = new int[ir - 1 + pr - k];
    System.arraycopy(indices.shape(), 0, shape, 0, ir - 1);
    System.arraycopy(params.shape(), k, shape, ir - 1, pr - k);
    return new V(shape, out);
  }

  /** MIRROR_PAD: REFLECT mirrors about the edge element (excluded), SYMMETRIC about the edge (included). */
  static V mirrorPad(V x, int[] pads, boolean symmetric) {
    int r = x.shape().length;
    int[] shape = new int[r];
    for (int i = 0; i < r; i++) {
      shape[i] = x.shape()[i] + pads[2 * i] + pads[2 * i + 1];
    }
    int[] xs = strides(x.shape());
    float[] out = new float[size(shape)];
    int[] idx = new int[r];
    for (int i = 0; i < out.length; i++) {
      int src = 0;
      for (int k = 0; k < r; k++) {
        int n = x.shape()[k];
        int v = idx[k] - pads[2 * k];
        if (v < 0) {
          v = symmetric ? -v - 1 : -v;
        } else if (v >= n) {
          v = symmetric ? 2 * n - 1 - v : 2 * n - 2 - v;
        }
        src += v * xs[k];
      }
      out[i] = x.d()[src];
      increment(idx, shape);
    }
    return new V(shape, out);
  }

  /** DEPTH_TO_SPACE out[n, y, x, c] = in[n, y/b, x/b, ((y%b)·b + x%b)·C_out + c]; SPACE_TO_DEPTH its inverse. */
  static V depthSpace(V x, int block, boolean toSpace) {
    int n = x.shape()[0], h = x.shape()[1], w = x.shape()[2], c = x.shape()[3];
    int[] shape = toSpace ? new int[] {n, h * block, w * block, c / (block * block)}
        : new int[] {n, h / block, w / block, c * block * block};
    float[] out = new float[size(shape)];
    int oh = shape[1], ow = shape[2], oc = shape[3];
    int p = 0;
    for (int b = 0; b < n; b++) {
      for (int y = 0; y < oh; y++) {
        for (int xx = 0; xx < ow; xx++) {
          for (int ch = 0; ch < oc; ch++) {
            int src;
            if (toSpace) {
              int d = ((y % block) * block + xx % block) * oc + ch;
              src = ((b * h + y / block) * w + xx / block) * c + d;
            } else {
              int off = ch / c, cc = ch % c;
              src = ((b * h + y * block + off / block) * w + xx * block + off % block) * c + cc;
            }
            out[p++] = x.d()[src];
          }
        }
      }
    }
    return new V(shape, out);
  }

  /** ONE_HOT: a new dim of size depth at {@code axis}; on where the index equals the position, else off. */
  static V oneHot(V indices, int depth, float on, float off, int axis) {
    int r = indices.shape().length;
    int a = axis < 0 ? r : axis;
    int outer = 1, inner = 1;
    for (int i = 0; i < a; i++) {
      outer *= indices.shape()[i];
    }
    for (int i = a; i < r; i++) {
      inner *= indices.shape()[i];
    }
    float[] out = new float[outer * depth * inner];
    for (int o = 0; o < outer; o++) {
      for (int d = 0; d < depth; d++) {
        for (int i = 0; i < inner; i++) {
          out[(o * depth + d) * inner + i] = (int) indices.d()[o * inner + i] == d ? on : off;
        }
      }
    }
    int[] shape = new int[r + 1];
    for (int i = 0, j = 0; i <= r; i++) {
      shape[i] = i == a ? depth : indices.shape()[j++];
    }
    return new V(shape, out);
  }

  /** TOPK_V2 along the last dim: values descending, ties to the lower index; indices as the second output. */
  static V[] topK(V x, int k) {
    int r = x.shape().length;
    int last = x.shape()[r - 1];
    int rows = last == 0 ? 0 : x.d().length / last;
    float[] vals = new float[rows * k];
    float[] idx = new float[rows * k];
    for (int row = 0; row < rows; row++) {
      Integer[] order = new Integer[last];
      for (int i = 0; i < last; i++) {
        order[i] = i;
      }
      final int base = row * last;
      Arrays.sort(order, (p, q) -> {
        int cmp = Float.compare(x.d()[base + q], x.d()[base + p]);
        return cmp != 0 ? cmp : Integer.compare(p, q);
      });
      for (int j = 0; j < k; j++) {
        vals[row * k + j] = x.d()[base + order[j]];
        idx[row * k + j] = order[j];
      }
    }
    int[] shape = x.shape().clone();
    shape[r - 1] = k;
    return new V[] {new V(shape, vals), new V(shape.clone(), idx)};
  }

  static V cumsum(V x, int axis, boolean exclusive, boolean reverse) {
    int r = x.shape().length;
    int a = axis < 0 ? axis + r : axis;
    int outer = 1, inner = 1, n = x.shape()[a];
    for (int i = 0; i < a; i++) {
      outer *= x.shape()[i];
    }
    for (int i = a + 1; i < r; i++) {
      inner *= x.shape()[i];
    }
    float[] out = new float[x.d().length];
    for (int o = 0; o < outer; o++) {
      for (int i = 0; i < inner; i++) {
        double acc = 0;
        for (int s = 0; s < n; s++) {
          int j = reverse ? n - 1 - s : s;
          int p = (o * n + j) * inner + i;
          if (exclusive) {
            out[p] = (float) acc;
            acc += x.d()[p];
          } else {
            acc += x.d()[p];
            out[p] = (float) acc;
          }
        }
      }
    }
    return new V(x.shape().clone(), out);
  }

  /** LOCAL_RESPONSE_NORMALIZATION over the last dim: x / (bias + alpha · Σ_{|d| ≤ radius} x²)^beta. */
  static V lrn(V x, int radius, float bias, float alpha, float beta) {
    int c = x.shape()[x.shape().length - 1];
    float[] out = new float[x.d().length];
    for (int row = 0; row < x.d().length / c; row++) {
      for (int ch = 0; ch < c; ch++) {
        double sum = 0;
        for (int d = Math.max(0, ch - radius); d <= Math.min(c - 1, ch + radius); d++) {
          float v = x.d()[row * c + d];
          sum += v * v;
        }
        out[row * c + ch] = (float) (x.d()[row * c + ch] / Math.pow(bias + alpha * sum, beta));
      }
    }
    return new V(x.shape().clone(), out);
  }

  static V reverse(V x, int[] axes) {
    int r = x.shape().length;
    boolean[] rev = new boolean[r];
    for (int a : axes) {
      rev[a < 0 ? a + r : a] = true;
    }
    int[] xs = strides(x.shape());
    float[] out = new float[x.d().length];
    int[] idx = new int[r];
    for (int i = 0; i < out.length; i++) {
      int src = 0;
      for (int k = 0; k < r; k++) {
        src += (rev[k] ? x.shape()[k] - 1 - idx[k] : idx[k]) * xs[k];
      }
      out[i] = x.d()[src];
      increment(idx, x.shape());
    }
    return new V(x.shape().clone(), out);
  }

  /** RANGE: ceil((limit − start) / delta) values start + i·delta (integer division rounding up for ints). */
  static V range(float start, float limit, float delta, TfliteType type) {
    if (delta == 0) {
      throw new IllegalStateException("range delta is 0");
    }
    long n = type == TfliteType.FLOAT32
        ? (long) Math.ceil(Math.abs((limit - (double) start) / delta))
        : (long) Math.ceil(Math.abs(((long) limit - (long) start) / (double) delta));
    if ((limit - start) * delta < 0) {
      n = 0;
    }
    float[] out = new float[(int) n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) (start + i * (double) delta);
    }
    return new V(new int[] {(int) n}, out);
  }

  /** DYNAMIC_UPDATE_SLICE: x with {@code update} written at {@code start}, clamped so the update fits. */
  static V dynamicUpdateSlice(V x, V update, int[] start) {
    int r = x.shape().length;
    int[] s = new int[r];
    for (int i = 0; i < r; i++) {
      s[i] = Math.max(0, Math.min(x.shape()[i] - update.shape()[i], start[i]));
    }
    float[] out = x.d().clone();
    int[] xs = strides(x.shape());
    int[] idx = new int[r];
    for (int i = 0; i < update.d().length; i++) {
      int dst = 0;
      for (int k = 0; k < r; k++) {
        dst += (s[k] + idx[k]) * xs[k];
      }
      out[dst] = update.d()[i];
      increment(idx, update.shape());
    }
    return new V(x.shape().clone(), out);
  }

  /** WHERE (one input): the coordinates [count, rank] of the non-zero elements, row-major. */
  static V where(V c) {
    int r = c.shape().length;
    List<int[]> hits = new ArrayList<>();
    int[] idx = new int[r];
    for (int i = 0; i < c.d().length; i++) {
      if (c.d()[i] != 0) {
        hits.add(idx.clone());
      }
      increment(idx, c.shape());
    }
    float[] out = new float[hits.size() * r];
    for (int i = 0; i < hits.size(); i++) {
      for (int k = 0; k < r; k++) {
        out[i * r + k] = hits.get(i)[k];
      }
    }
    return new V(new int[] {hits.size(), r}, out);
  }

  // -------------------------------------------------------------------------------------- elementwise

  static V elementwise2(TfliteBuiltin code, V a, V b, boolean intOut) {
    int[] shape = broadcastShape(a.shape(), b.shape());
    int[] ia = broadcastIndex(a.shape(), shape), ib = broadcastIndex(b.shape(), shape);
    float[] out = new float[ia.length];
    for (int i = 0; i < out.length; i++) {
      float x = a.d()[ia[i]], y = b.d()[ib[i]];
      float v;
      if (code == LESS) {
        v = x < y ? 1 : 0;
      } else if (code == LESS_EQUAL) {
        v = x <= y ? 1 : 0;
      } else if (code == GREATER) {
        v = x > y ? 1 : 0;
      } else if (code == GREATER_EQUAL) {
        v = x >= y ? 1 : 0;
      } else if (code == EQUAL) {
        v = x == y ? 1 : 0;
      } else if (code == NOT_EQUAL) {
        v = x != y ? 1 : 0;
      } else if (code == LOGICAL_AND) {
        v = x != 0 && y != 0 ? 1 : 0;
      } else if (code == LOGICAL_OR) {
        v = x != 0 || y != 0 ? 1 : 0;
      } else if (code == FLOOR_DIV) {
        if (intOut && y == 0) {
          throw new IllegalStateException("integer division by zero");
        }
        v = (float) Math.floor(x / (double) y);
      } else {
        // FLOOR_MOD: the remainder with the divisor's sign, x − floor(x / y)·y.
        if (intOut) {
          if (y == 0) {
            throw new IllegalStateException("integer division by zero");
          }
          v = Math.floorMod((long) x, (long) y);
        } else {
          double m = x % (double) y;
          v = (float) (m != 0 && (m < 0) != (y < 0) ? m + y : m);
        }
      }
      out[i] = v;
    }
    return new V(shape, out);
  }

  static V elementwise1(ModelBuilder.Op o, V x) {
    TfliteBuiltin c = o.builtin;
    boolean approximate = flag(o, "approximate");
    float[] out = new float[x.d().length];
    for (int i = 0; i < out.length; i++) {
      float v = x.d()[i];
      if (c == LOGICAL_NOT) {
        out[i] = v == 0 ? 1 : 0;
      } else if (c == ZEROS_LIKE) {
        out[i] = 0;
      } else if (c == SIN) {
        out[i] = (float) Math.sin(v);
      } else if (c == COS) {
        out[i] = (float) Math.cos(v);
      } else if (c == CEIL) {
        out[i] = (float) Math.ceil(v);
      } else if (c == ROUND) {
        // Half to even, as TFLite's ROUND (TF's round).
        out[i] = (float) Math.rint(v);
      } else if (c == SIGN) {
        out[i] = Math.signum(v);
      } else {
        // GELU: exact x·Φ(x), or the tanh approximation.
        out[i] = approximate
            ? (float) (0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))))
            : (float) (0.5 * v * (1 + erf(v / Math.sqrt(2))));
      }
    }
    return new V(x.shape().clone(), out);
  }

  /** erf to ~1e-7 (Abramowitz–Stegun 7.1.26 is too coarse; this is the series/continued-fraction split). */
  static double erf(double z) {
    double a = Math.abs(z);
    double r;
    if (a < 2.5) {
      // Maclaurin series: erf z = 2/√π Σ (−1)^n z^(2n+1) / (n! (2n+1)).
      double term = a, sum = a;
      for (int n = 1; n < 60; n++) {
        term *= -a * a / n;
        sum += term / (2 * n + 1);
      }
      r = 2 / Math.sqrt(Math.PI) * sum;
    } else {
      // Continued fraction for erfc, evaluated backwards.
      double f = 0;
      for (int n = 60; n >= 1; n--) {
        f = n / 2.0 / (a + f);
      }
      r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f);
    }
    return z < 0 ? -r : r;
  }
}
