package org.tfport.convert.tflite;

import static org.tfport.convert.tflite.NodeAttrs.boolAttr;
import static org.tfport.convert.tflite.NodeAttrs.floatAttr;
import static org.tfport.convert.tflite.NodeAttrs.ints;
import static org.tfport.formats.tflite.TfliteBuiltin.*;
import static org.tfport.formats.tflite.TfliteOptionsType.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Node;
import org.tfport.formats.tflite.TfliteBuiltin;
import org.tfport.formats.tflite.TfliteType;
import org.tfport.graph.optimize.BatchNormFolding;

/**
 * The lowering of the neural-network layers: convolutions (2-D and depthwise with filters re-laid
 * out, transposed, 3-D), matrix products (FULLY_CONNECTED for a constant 2-D right-hand side, else
 * BATCH_MATMUL), pooling, and the normalizations (inference FusedBatchNorm as MUL and ADD, LRN). A
 * following constant bias and Relu/Relu6 are folded in where TFLite has the fields.
 */
final class LowerNeuralNet {
  private final Lowering core;
  private final ModelBuilder.Sub sub;

  LowerNeuralNet(Lowering core) {
    this.core = core;
    this.sub = core.sub;
  }

  boolean conv(Node n, boolean depthwise) {
    Tensor w = core.constant(n.input(1));
    if (w == null
        || w.dtype() != DType.FLOAT32
        || w.shape().dims().length != 4
        || !core.isFloat(n)
        || n.stringAttr("data_format") != null && !n.stringAttr("data_format").equals("NHWC")) {
      return false;
    }
    long[] d = w.shape().dims();
    int kh = (int) d[0], kw = (int) d[1], ci = (int) d[2], co = (int) d[3];
    float[] src = w.toFloatArray();
    int x = core.in(n, 0);
    String padding = n.stringAttr("padding");
    if ("EXPLICIT".equals(padding)) {
      x = explicitPad(n, x);
      padding = "VALID";
    }
    long[] strides = ints(n, "strides", new long[] {1, 1, 1, 1});
    long[] dil = ints(n, "dilations", new long[] {1, 1, 1, 1});
    int outC = depthwise ? ci * co : co;
    float[] filter = new float[src.length];
    int[] fshape;
    if (depthwise) {
      // [H, W, I, M] read as [1, H, W, I*M]: the same bytes.
      System.arraycopy(src, 0, filter, 0, src.length);
      fshape = new int[] {1, kh, kw, outC};
    } else {
      // HWIO -> OHWI
      for (int h = 0; h < kh; h++) {
        for (int ww = 0; ww < kw; ww++) {
          for (int i = 0; i < ci; i++) {
            for (int o = 0; o < co; o++) {
              filter[((o * kh + h) * kw + ww) * ci + i] = src[((h * kw + ww) * ci + i) * co + o];
            }
          }
        }
      }
      fshape = new int[] {co, kh, kw, ci};
    }
    Node[] last = {n};
    float[] bias = core.foldBias(n, outC, last, 4);
    int wt = sub.constFloats(n.name() + "/filter", fshape, filter);
    int bt =
        sub.constFloats(
            n.name() + "/bias", new int[] {outC}, bias != null ? bias : new float[outC]);
    ModelBuilder.Op o =
        sub.op(
            depthwise ? DEPTHWISE_CONV_2D : CONV_2D,
            depthwise ? DEPTHWISE_CONV_2D_OPTIONS : CONV_2D_OPTIONS,
            List.of(x, wt, bt),
            List.of());
    o.tfName = n.name();
    o.opt("padding", "VALID".equals(padding) ? 1 : 0)
        .opt("stride_w", (int) strides[2])
        .opt("stride_h", (int) strides[1]);
    if (depthwise) {
      o.opt("depth_multiplier", co);
    }
    o.opt("fused_activation_function", 0)
        .opt("dilation_w_factor", (int) dil[2])
        .opt("dilation_h_factor", (int) dil[1]);
    Node end = core.fuseActivation(last[0], o);
    o.outputs.add(core.output(end, 0));
    return true;
  }

  /**
   * {@code Conv2DBackpropInput(input_sizes, filter, out_backprop)}, Keras' Conv2DTranspose, as
   * TRANSPOSE_CONV {@code (output_shape, weights, input)}: the filter is the forward convolution's
   * [H, W, C_result, C_in], TFLite wants [C_result, H, W, C_in].
   */
  boolean transposeConv(Node n) {
    Tensor w = core.constant(n.input(1));
    long[] dil = ints(n, "dilations", new long[] {1, 1, 1, 1});
    String padding = n.stringAttr("padding");
    if (w == null
        || w.dtype() != DType.FLOAT32
        || w.shape().dims().length != 4
        || !core.isFloat(n)
        || n.stringAttr("data_format") != null && !n.stringAttr("data_format").equals("NHWC")
        || dil[1] != 1
        || dil[2] != 1
        || !("SAME".equals(padding) || "VALID".equals(padding))) {
      return false;
    }
    Integer outShape = core.int32(n, n.input(0), 0);
    if (outShape == null) {
      return false;
    }
    long[] d = w.shape().dims();
    int kh = (int) d[0], kw = (int) d[1], cr = (int) d[2], ci = (int) d[3];
    float[] src = w.toFloatArray();
    float[] filter = new float[src.length];
    for (int h = 0; h < kh; h++) {
      for (int ww = 0; ww < kw; ww++) {
        for (int r = 0; r < cr; r++) {
          for (int i = 0; i < ci; i++) {
            filter[((r * kh + h) * kw + ww) * ci + i] = src[((h * kw + ww) * cr + r) * ci + i];
          }
        }
      }
    }
    int wt = sub.constFloats(n.name() + "/filter", new int[] {cr, kh, kw, ci}, filter);
    long[] strides = ints(n, "strides", new long[] {1, 1, 1, 1});
    ModelBuilder.Op o =
        sub.op(
            TRANSPOSE_CONV,
            TRANSPOSE_CONV_OPTIONS,
            List.of(outShape, wt, core.in(n, 2)),
            List.of(core.output(n, 0)));
    o.tfName = n.name();
    o.opt("padding", "VALID".equals(padding) ? 1 : 0)
        .opt("stride_w", (int) strides[2])
        .opt("stride_h", (int) strides[1]);
    return true;
  }

  private int explicitPad(Node n, int x) {
    long[] p = ints(n, "explicit_paddings", new long[8]);
    int[] pads = new int[p.length];
    for (int i = 0; i < p.length; i++) {
      pads[i] = (int) p[i];
    }
    ByteBuffer b = ByteBuffer.allocate(4 * pads.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : pads) {
      b.putInt(v);
    }
    int pt = sub.constant(n.name() + "/paddings", TfliteType.INT32, new int[] {4, 2}, b.array());
    int[] xs = sub.t(x).shape.clone();
    int[] sig = sub.t(x).signature == null ? null : sub.t(x).signature.clone();
    for (int i = 0; i < 4 && i < xs.length; i++) {
      xs[i] += pads[2 * i] + pads[2 * i + 1];
    }
    int out = sub.add(new ModelBuilder.T(n.name() + "/pad", sub.t(x).type, xs, sig));
    sub.op(PAD, PAD_OPTIONS, List.of(x, pt), List.of(out)).tfName = n.name();
    return out;
  }

  /**
   * {@code Conv3D} (NDHWC) to CONV_3D: TFLite keeps TF's DHWIO filter layout, so the constant
   * filter is used as is; a following constant BiasAdd becomes the bias and a Relu/Relu6 the fused
   * activation, as for Conv2D. TFLite has no grouped 3-D convolution.
   */
  boolean conv3d(Node n) {
    Tensor w = core.constant(n.input(1));
    String df = n.stringAttr("data_format");
    String padding = n.stringAttr("padding");
    long[] strides = ints(n, "strides", new long[] {1, 1, 1, 1, 1});
    long[] dil = ints(n, "dilations", new long[] {1, 1, 1, 1, 1});
    if (w == null
        || w.dtype() != DType.FLOAT32
        || w.shape().dims().length != 5
        || !core.isFloat(n)
        || df != null && !df.equals("NDHWC")
        || !("SAME".equals(padding) || "VALID".equals(padding))
        || strides.length != 5
        || strides[0] != 1
        || strides[4] != 1
        || dil.length != 5
        || dil[0] != 1
        || dil[4] != 1) {
      return false;
    }
    long[] d = w.shape().dims();
    int x = core.in(n, 0);
    ModelBuilder.T xt = sub.t(x);
    if (xt.hasRank
        && (xt.shape.length != 5
            || (xt.signature == null || xt.signature[4] >= 0) && xt.shape[4] != d[3])) {
      return false;
    }
    int co = (int) d[4];
    Node[] last = {n};
    float[] bias = core.foldBias(n, co, last, 5);
    int bt =
        sub.constFloats(n.name() + "/bias", new int[] {co}, bias != null ? bias : new float[co]);
    ModelBuilder.Op o =
        sub.op(CONV_3D, CONV_3D_OPTIONS, List.of(x, core.tensor(n.input(1)), bt), List.of());
    o.tfName = n.name();
    o.opt("padding", "VALID".equals(padding) ? 1 : 0)
        .opt("stride_d", (int) strides[1])
        .opt("stride_w", (int) strides[3])
        .opt("stride_h", (int) strides[2])
        .opt("fused_activation_function", 0)
        .opt("dilation_d_factor", (int) dil[1])
        .opt("dilation_w_factor", (int) dil[3])
        .opt("dilation_h_factor", (int) dil[2]);
    Node end = core.fuseActivation(last[0], o);
    o.outputs.add(core.output(end, 0));
    return true;
  }

  boolean matmul(Node n) {
    if (!core.isFloat(n)) {
      return false;
    }
    boolean ta = boolAttr(n, "transpose_a");
    boolean tb = boolAttr(n, "transpose_b");
    Tensor b = core.constant(n.input(1));
    int x = core.in(n, 0);
    if (ta) {
      x = transpose2d(n, x);
    }
    if (b == null || b.shape().dims().length != 2) {
      int y = core.in(n, 1);
      ModelBuilder.Op o = core.simple(n, BATCH_MATMUL, BATCH_MATMUL_OPTIONS, List.of(x, y));
      o.opt("adj_x", false).opt("adj_y", tb);
      return true;
    }
    long[] d = b.shape().dims();
    float[] v = b.toFloatArray();
    int k = (int) (tb ? d[1] : d[0]);
    int nOut = (int) (tb ? d[0] : d[1]);
    float[] w = new float[v.length];
    if (tb) {
      System.arraycopy(v, 0, w, 0, v.length);
    } else {
      for (int i = 0; i < k; i++) {
        for (int j = 0; j < nOut; j++) {
          w[j * k + i] = v[i * nOut + j];
        }
      }
    }
    Node[] last = {n};
    float[] bias = core.foldBias(n, nOut, last, 2);
    int wt = sub.constFloats(n.name() + "/weights", new int[] {nOut, k}, w);
    int bt = bias == null ? -1 : sub.constFloats(n.name() + "/bias", new int[] {nOut}, bias);
    ModelBuilder.Op o =
        sub.op(FULLY_CONNECTED, FULLY_CONNECTED_OPTIONS, List.of(x, wt, bt), List.of());
    o.tfName = n.name();
    o.opt("fused_activation_function", 0).opt("weights_format", 0).opt("keep_num_dims", false);
    Node end = core.fuseActivation(last[0], o);
    o.outputs.add(core.output(end, 0));
    return true;
  }

  private int transpose2d(Node n, int x) {
    int perm = sub.constInts(n.name() + "/perm", 1, 0);
    ModelBuilder.T t = sub.t(x);
    int[] s = t.shape.length == 2 ? new int[] {t.shape[1], t.shape[0]} : t.shape;
    int[] sig =
        t.signature == null || t.signature.length != 2
            ? null
            : new int[] {t.signature[1], t.signature[0]};
    int out = sub.add(new ModelBuilder.T(n.name() + "/transpose_a", t.type, s, sig));
    sub.op(TRANSPOSE, NONE, List.of(x, perm), List.of(out)).tfName = n.name();
    return out;
  }

  boolean batchMatmul(Node n) {
    if (!core.isFloat(n)) {
      return false;
    }
    boolean ax = boolAttr(n, "adj_x");
    boolean ay = boolAttr(n, "adj_y");
    core.simple(n, BATCH_MATMUL, BATCH_MATMUL_OPTIONS, List.of(core.in(n, 0), core.in(n, 1)))
        .opt("adj_x", ax)
        .opt("adj_y", ay);
    return true;
  }

  boolean pool(Node n) {
    if (n.stringAttr("data_format") != null && !n.stringAttr("data_format").equals("NHWC")) {
      return false;
    }
    long[] k = ints(n, "ksize", null);
    long[] s = ints(n, "strides", null);
    if (k == null || s == null || k.length != 4 || k[0] != 1 || k[3] != 1) {
      return false;
    }
    ModelBuilder.Op o =
        sub.op(
            n.op().equals("MaxPool") ? MAX_POOL_2D : AVERAGE_POOL_2D,
            POOL_2D_OPTIONS,
            List.of(core.in(n, 0)),
            List.of());
    o.tfName = n.name();
    o.opt("padding", "VALID".equals(n.stringAttr("padding")) ? 1 : 0)
        .opt("stride_w", (int) s[2])
        .opt("stride_h", (int) s[1])
        .opt("filter_width", (int) k[2])
        .opt("filter_height", (int) k[1])
        .opt("fused_activation_function", 0);
    Node end = core.fuseActivation(n, o);
    o.outputs.add(core.output(end, 0));
    return true;
  }

  /**
   * {@code MaxPool3D}/{@code AvgPool3D} (NDHWC), which TFLite has no builtin for, as two 2-D pools:
   * a box's max is the max over depth of the max over height and width, and its mean (over the
   * cells inside the input, as both TensorFlow and TFLite count them under SAME padding) the mean
   * over depth of the mean over height and width, since the cells inside form a box too. So [N, D,
   * H, W, C] is pooled over (H, W) as [N·D, H, W, C], then over D as [N, D, H'·W', C] with a window
   * of one column.
   */
  boolean pool3d(Node n) {
    if (!core.isFloat(n)
        || n.stringAttr("data_format") != null && !n.stringAttr("data_format").equals("NDHWC")) {
      return false;
    }
    String padding = n.stringAttr("padding");
    long[] k = ints(n, "ksize", null);
    long[] s = ints(n, "strides", null);
    if (k == null
        || s == null
        || k.length != 5
        || s.length != 5
        || k[0] != 1
        || k[4] != 1
        || s[0] != 1
        || s[4] != 1
        || !("SAME".equals(padding) || "VALID".equals(padding))) {
      return false;
    }
    int x = core.in(n, 0);
    ModelBuilder.T xt = sub.t(x);
    if (!xt.hasRank || xt.shape.length != 5) {
      return false;
    }
    for (int i = 1; i < 5; i++) {
      if (xt.signature != null && xt.signature[i] < 0) {
        return false; // depth, height, width and channels must be known to reshape
      }
    }
    boolean valid = "VALID".equals(padding);
    int d = xt.shape[1];
    int h = xt.shape[2];
    int w = xt.shape[3];
    int c = xt.shape[4];
    int od = pooled(d, (int) k[1], (int) s[1], valid);
    int oh = pooled(h, (int) k[2], (int) s[2], valid);
    int ow = pooled(w, (int) k[3], (int) s[3], valid);
    if (od <= 0 || oh <= 0 || ow <= 0) {
      return false;
    }
    boolean dynamic = xt.signature != null && xt.signature[0] < 0;
    int batch = xt.shape[0];
    TfliteBuiltin kind = n.op().equals("MaxPool3D") ? MAX_POOL_2D : AVERAGE_POOL_2D;
    TfliteType type = xt.type;
    int planes = reshape(n, "planes", x, type, new int[] {batch * d, h, w, c}, dynamic);
    int pooledPlanes =
        sub.add(
            new ModelBuilder.T(
                n.name() + "/hw_pool",
                type,
                new int[] {batch * d, oh, ow, c},
                dynamic ? new int[] {-1, oh, ow, c} : null));
    pool2d(n, kind, planes, pooledPlanes, (int) k[2], (int) k[3], (int) s[2], (int) s[3], valid);
    int columns =
        reshape(n, "columns", pooledPlanes, type, new int[] {batch, d, oh * ow, c}, dynamic);
    int pooledColumns =
        sub.add(
            new ModelBuilder.T(
                n.name() + "/d_pool",
                type,
                new int[] {batch, od, oh * ow, c},
                dynamic ? new int[] {-1, od, oh * ow, c} : null));
    pool2d(n, kind, columns, pooledColumns, (int) k[1], 1, (int) s[1], 1, valid);
    int out = core.output(n, 0);
    sub.op(
                RESHAPE,
                NONE,
                List.of(pooledColumns, sub.constInts(n.name() + "/out_shape", -1, od, oh, ow, c)),
                List.of(out))
            .tfName =
        n.name();
    return true;
  }

  private static int pooled(int in, int k, int s, boolean valid) {
    return valid ? (in - k) / s + 1 : (in + s - 1) / s;
  }

  private int reshape(Node n, String what, int x, TfliteType type, int[] shape, boolean dynamic) {
    int[] sig = null;
    if (dynamic) {
      sig = shape.clone();
      sig[0] = -1;
    }
    int[] target = shape.clone();
    target[0] = -1;
    int out = sub.add(new ModelBuilder.T(n.name() + "/" + what, type, shape, sig));
    sub.op(
                RESHAPE,
                NONE,
                List.of(x, sub.constInts(n.name() + "/" + what + "_shape", target)),
                List.of(out))
            .tfName =
        n.name();
    return out;
  }

  private void pool2d(
      Node n, TfliteBuiltin kind, int in, int out, int kh, int kw, int sh, int sw, boolean valid) {
    ModelBuilder.Op o = sub.op(kind, POOL_2D_OPTIONS, List.of(in), List.of(out));
    o.tfName = n.name();
    o.opt("padding", valid ? 1 : 0)
        .opt("stride_w", sw)
        .opt("stride_h", sh)
        .opt("filter_width", kw)
        .opt("filter_height", kh)
        .opt("fused_activation_function", 0);
  }

  /**
   * Inference-mode {@code FusedBatchNorm*} with constant parameters that no convolution absorbed: y
   * = x·m + b per channel (last axis), m = scale / sqrt(variance + epsilon) and b = offset −
   * mean·m, as MUL then ADD (a following Relu/Relu6 fused into the ADD). Training mode,
   * channels-first layouts and reads of the batch statistics are left unsupported.
   */
  boolean batchNorm(Node n) {
    String df = n.stringAttr("data_format");
    if (n.dataInputs().size() != 5
        || !(n.attr("is_training") instanceof AttrValue.Bool b && !b.value())
        || df != null && !df.equals("NHWC") && !df.equals("NDHWC")
        || !core.isFloat(n)
        || BatchNormFolding.readsBeyondOutputZero(core.g, n)) {
      return false;
    }
    float[][] p = new float[4][];
    for (int i = 0; i < 4; i++) {
      Tensor t = core.constant(n.input(i + 1));
      if (t == null || t.dtype() != DType.FLOAT32 || t.shape().dims().length != 1) {
        return false;
      }
      p[i] = t.toFloatArray();
      if (p[i].length != p[0].length) {
        return false;
      }
    }
    int c = p[0].length;
    int x = core.in(n, 0);
    ModelBuilder.T xt = sub.t(x);
    if (xt.hasRank
        && (xt.shape.length == 0
            || (xt.signature == null || xt.signature[xt.shape.length - 1] >= 0)
                && xt.shape[xt.shape.length - 1] != c)) {
      return false;
    }
    float eps = floatAttr(n, "epsilon", 1e-4f);
    float[] m = new float[c];
    float[] bias = new float[c];
    for (int k = 0; k < c; k++) {
      // TF: rsqrt(variance + epsilon) * scale in float.
      m[k] = (float) (1.0 / Math.sqrt(p[3][k] + eps)) * p[0][k];
      bias[k] = p[1][k] - p[2][k] * m[k];
    }
    int scaled =
        core.intermediate(
            n,
            "/scaled",
            MUL,
            MUL_OPTIONS,
            x,
            sub.constFloats(n.name() + "/multiplier", new int[] {c}, m));
    ModelBuilder.Op add =
        sub.op(
            ADD,
            ADD_OPTIONS,
            List.of(scaled, sub.constFloats(n.name() + "/offset", new int[] {c}, bias)),
            List.of());
    add.tfName = n.name();
    add.opt("fused_activation_function", 0);
    Node end = core.fuseActivation(n, add);
    add.outputs.add(core.output(end, 0));
    return true;
  }

  /**
   * {@code LRN} to LOCAL_RESPONSE_NORMALIZATION: both compute x / (bias + alpha * sum of squares
   * over depth_radius channels each side)^beta, alpha not divided by the window size.
   */
  boolean lrn(Node n) {
    if (!core.isFloat(n)) {
      return false;
    }
    int radius = n.attr("depth_radius") instanceof AttrValue.Int r ? (int) r.value() : 5;
    core.simple(
            n,
            LOCAL_RESPONSE_NORMALIZATION,
            LOCAL_RESPONSE_NORMALIZATION_OPTIONS,
            List.of(core.in(n, 0)))
        .opt("radius", radius)
        .opt("bias", floatAttr(n, "bias", 1f))
        .opt("alpha", floatAttr(n, "alpha", 1f))
        .opt("beta", floatAttr(n, "beta", 0.5f));
    return true;
  }
}
