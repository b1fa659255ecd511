package org.tfport.graph.optimize;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;

/**
 * A small reference interpreter for the ops the optimizer rewrites, to compare a graph before and after a
 * pass: {@link Kernels} for what constant folding knows, plus NHWC convolutions, matmul, batch norm,
 * activations, {@code Prelu} and the fused ops TF.js runs. Sums are taken in double, so it checks meaning,
 * not rounding.
 */
public final class RefEval {
  private RefEval() {}

  /** Evaluates the graph's outputs, feeding placeholders by node name. */
  public static List<Tensor> run(Graph g, Map<String, Tensor> feeds) {
    Map<String, Tensor> values = new HashMap<>();
    for (Node n : g.topologicalOrder()) {
      List<Tensor> in = new ArrayList<>();
      for (String ref : n.dataInputs()) {
        TensorRef r = TensorRef.parse(ref);
        if (r.index() != 0) {
          throw new IllegalArgumentException("only output 0 is evaluated: " + ref);
        }
        in.add(values.get(r.node()));
      }
      values.put(n.name(), eval(n, in, feeds));
    }
    List<Tensor> out = new ArrayList<>();
    for (String o : g.outputs()) {
      out.add(values.get(TensorRef.nodeOf(o)));
    }
    return out;
  }

  private static Tensor eval(Node n, List<Tensor> in, Map<String, Tensor> feeds) {
    switch (n.op()) {
      case "Placeholder" -> {
        Tensor t = feeds.get(n.name());
        if (t == null) {
          throw new IllegalArgumentException("no feed for " + n.name());
        }
        return t;
      }
      case "Const" -> {
        return Consts.value(n);
      }
      case "Conv2D", "DepthwiseConv2dNative" -> {
        return conv(n, in.get(0), in.get(1));
      }
      case "MatMul" -> {
        return matMul(n, in.get(0), in.get(1));
      }
      case "_FusedConv2D", "FusedDepthwiseConv2dNative" -> {
        return fused(n, conv(n, in.get(0), in.get(1)), in.subList(2, in.size()));
      }
      case "_FusedMatMul" -> {
        return fused(n, matMul(n, in.get(0), in.get(1)), in.subList(2, in.size()));
      }
      case "BiasAdd" -> {
        return map2(in.get(0), in.get(1), Double::sum);
      }
      case "Relu", "Relu6", "Elu", "LeakyRelu", "Sigmoid", "Tanh" -> {
        float alpha = n.attr("alpha") instanceof AttrValue.Float f ? f.value() : 0.2f;
        return activation(n.op(), in.get(0), null, alpha);
      }
      case "Prelu" -> {
        return activation("Prelu", in.get(0), in.get(1), 0);
      }
      case "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3", "BatchNormWithGlobalNormalization" -> {
        boolean global = n.op().equals("BatchNormWithGlobalNormalization");
        Tensor mean = in.get(global ? 1 : 3);
        Tensor var = in.get(global ? 2 : 4);
        Tensor beta = in.get(global ? 3 : 2);
        Tensor gamma = in.get(global ? 4 : 1);
        float eps = n.attr(global ? "variance_epsilon" : "epsilon") instanceof AttrValue.Float f ? f.value() : 1e-4f;
        boolean scale = !global || n.attr("scale_after_normalization") instanceof AttrValue.Bool b && b.value();
        float[] x = in.get(0).toFloatArray();
        float[] m = mean.toFloatArray();
        float[] v = var.toFloatArray();
        float[] be = beta.toFloatArray();
        float[] ga = gamma.toFloatArray();
        int c = m.length;
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
          int k = i % c;
          y[i] = (float) ((x[i] - m[k]) / Math.sqrt(v[k] + eps) * (scale ? ga[k] : 1) + be[k]);
        }
        return Tensor.ofFloats(in.get(0).shape(), y);
      }
      default -> {
        Tensor t = Kernels.evaluate(n, in);
        if (t == null) {
          throw new IllegalArgumentException("the reference evaluator cannot run " + n);
        }
        return t;
      }
    }
  }

  private static Tensor fused(Node n, Tensor y, List<Tensor> args) {
    List<String> ops = ((AttrValue.ListAttr) n.attr("fused_ops")).s().stream()
        .map(b -> new String(b, StandardCharsets.UTF_8)).toList();
    int next = 0;
    if (ops.get(0).equals("BiasAdd")) {
      y = map2(y, args.get(next++), Double::sum);
    }
    if (ops.size() > 1) {
      float alpha = n.attr("leakyrelu_alpha") instanceof AttrValue.Float f ? f.value() : 0.2f;
      y = activation(ops.get(1), y, ops.get(1).equals("Prelu") ? args.get(next) : null, alpha);
    }
    return y;
  }

  static Tensor activation(String op, Tensor x, Tensor alpha, float leaky) {
    if (op.equals("Prelu")) {
      return map2(x, alpha, (v, a) -> v < 0 ? a * v : v);
    }
    float[] v = x.toFloatArray();
    for (int i = 0; i < v.length; i++) {
      double z = v[i];
      v[i] = (float) switch (op) {
        case "Relu" -> Math.max(z, 0);
        case "Relu6" -> Math.min(Math.max(z, 0), 6);
        case "Elu" -> z < 0 ? Math.expm1(z) : z;
        case "LeakyRelu" -> z < 0 ? leaky * z : z;
        case "Sigmoid" -> 1 / (1 + Math.exp(-z));
        case "Tanh" -> Math.tanh(z);
        default -> throw new IllegalArgumentException(op);
      };
    }
    return Tensor.ofFloats(x.shape(), v);
  }

  /** Elementwise with numpy broadcasting, in double. */
  static Tensor map2(Tensor a, Tensor b, java.util.function.DoubleBinaryOperator f) {
    long[] s = Kernels.broadcastShape(a.shape().dims(), b.shape().dims());
    float[] x = a.toFloatArray();
    float[] y = b.toFloatArray();
    int n = (int) Shape.of(s).size();
    float[] out = new float[n];
    long[] as = a.shape().dims();
    long[] bs = b.shape().dims();
    int[] idx = new int[s.length];
    for (int i = 0; i < n; i++) {
      out[i] = (float) f.applyAsDouble(x[index(idx, as, s)], y[index(idx, bs, s)]);
      for (int k = s.length - 1; k >= 0; k--) {
        if (++idx[k] < s[k]) {
          break;
        }
        idx[k] = 0;
      }
    }
    return Tensor.ofFloats(Shape.of(s), out);
  }

  private static int index(int[] idx, long[] shape, long[] out) {
    int off = out.length - shape.length;
    int at = 0;
    for (int d = 0; d < shape.length; d++) {
      at = at * (int) shape[d] + (shape[d] == 1 ? 0 : idx[off + d]);
    }
    return at;
  }

  static Tensor matMul(Node n, Tensor a, Tensor b) {
    boolean ta = n.attr("transpose_a") instanceof AttrValue.Bool x && x.value();
    boolean tb = n.attr("transpose_b") instanceof AttrValue.Bool x && x.value();
    long[] ad = a.shape().dims();
    long[] bd = b.shape().dims();
    int m = (int) (ta ? ad[1] : ad[0]);
    int k = (int) (ta ? ad[0] : ad[1]);
    int nn = (int) (tb ? bd[0] : bd[1]);
    float[] x = a.toFloatArray();
    float[] y = b.toFloatArray();
    float[] out = new float[m * nn];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < nn; j++) {
        double s = 0;
        for (int p = 0; p < k; p++) {
          s += (double) x[ta ? p * m + i : i * k + p] * y[tb ? j * k + p : p * nn + j];
        }
        out[i * nn + j] = (float) s;
      }
    }
    return Tensor.ofFloats(Shape.of(m, nn), out);
  }

  /** NHWC convolution (or depthwise: filter [h, w, in, multiplier]) with SAME/VALID padding. */
  static Tensor conv(Node n, Tensor x, Tensor f) {
    boolean depthwise = n.op().contains("Depthwise");
    long[] xd = x.shape().dims();
    long[] fd = f.shape().dims();
    List<Long> st = ((AttrValue.ListAttr) n.attr("strides")).i();
    List<Long> dl = n.attr("dilations") instanceof AttrValue.ListAttr l ? l.i() : List.of(1L, 1L, 1L, 1L);
    boolean same = n.stringAttr("padding").equals("SAME");
    int batch = (int) xd[0];
    int ih = (int) xd[1];
    int iw = (int) xd[2];
    int ic = (int) xd[3];
    int kh = (int) fd[0];
    int kw = (int) fd[1];
    int sh = st.get(1).intValue();
    int sw = st.get(2).intValue();
    int dh = dl.get(1).intValue();
    int dw = dl.get(2).intValue();
    int ekh = (kh - 1) * dh + 1;
    int ekw = (kw - 1) * dw + 1;
    int oh = same ? (ih + sh - 1) / sh : (ih - ekh + sh) / sh;
    int ow = same ? (iw + sw - 1) / sw : (iw - ekw + sw) / sw;
    int padT = same ? Math.max((oh - 1) * sh + ekh - ih, 0) / 2 : 0;
    int padL = same ? Math.max((ow - 1) * sw + ekw - iw, 0) / 2 : 0;
    int oc = depthwise ? (int) (fd[2] * fd[3]) : (int) fd[3];
    int mult = (int) fd[3];
    float[] in = x.toFloatArray();
    float[] w = f.toFloatArray();
    float[] out = new float[batch * oh * ow * oc];
    for (int b = 0; b < batch; b++) {
      for (int i = 0; i < oh; i++) {
        for (int j = 0; j < ow; j++) {
          for (int o = 0; o < oc; o++) {
            double s = 0;
            for (int p = 0; p < kh; p++) {
              for (int q = 0; q < kw; q++) {
                int y = i * sh + p * dh - padT;
                int z = j * sw + q * dw - padL;
                if (y < 0 || y >= ih || z < 0 || z >= iw) {
                  continue;
                }
                int base = ((b * ih + y) * iw + z) * ic;
                if (depthwise) {
                  int c = o / mult;
                  s += (double) in[base + c] * w[((p * kw + q) * ic + c) * mult + o % mult];
                } else {
                  for (int c = 0; c < ic; c++) {
                    s += (double) in[base + c] * w[((p * kw + q) * ic + c) * oc + o];
                  }
                }
              }
            }
            out[((b * oh + i) * ow + j) * oc + o] = (float) s;
          }
        }
      }
    }
    return Tensor.ofFloats(Shape.of(batch, oh, ow, oc), out);
  }

  /** Random floats in [-1, 1) of a shape, for feeds and weights. */
  public static Tensor random(java.util.Random rnd, long... shape) {
    float[] v = new float[(int) Shape.of(shape).size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = rnd.nextFloat() * 2 - 1;
    }
    return Tensor.ofFloats(Shape.of(shape), v);
  }

  /** Random floats in [0.5, 1.5): variances and scales. */
  public static Tensor positive(java.util.Random rnd, long... shape) {
    float[] v = new float[(int) Shape.of(shape).size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = 0.5f + rnd.nextFloat();
    }
    return Tensor.ofFloats(Shape.of(shape), v);
  }

  /** Whether two tensors agree within the end-to-end tolerance |a - b| <= 1e-5 + 1e-4 |b|. */
  public static boolean close(Tensor a, Tensor b) {
    if (!a.shape().equals(b.shape()) || a.dtype() != b.dtype() && a.dtype() != DType.FLOAT32) {
      return false;
    }
    float[] x = a.toFloatArray();
    float[] y = b.toFloatArray();
    for (int i = 0; i < x.length; i++) {
      if (!(Math.abs(x[i] - y[i]) <= 1e-5 + 1e-4 * Math.abs(y[i]))) {
        return false;
      }
    }
    return true;
  }
}
