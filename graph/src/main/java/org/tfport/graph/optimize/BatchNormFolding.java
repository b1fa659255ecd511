package org.tfport.graph.optimize;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphPass;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;

/**
 * Folds inference-mode batch normalization into the convolution before it, as the TF.js converter's
 * {@code fold_batch_norms} does: {@code FusedBatchNorm}, {@code FusedBatchNormV2}/{@code V3} and
 * {@code BatchNormWithGlobalNormalization} reading a {@code Conv2D} or {@code
 * DepthwiseConv2dNative}, optionally through a {@code BiasAdd}/{@code Add}/{@code AddV2} with a
 * constant bias (subtracted from the mean). With {@code scale = gamma / sqrt(var + eps)} (no gamma
 * when {@code scale_after_normalization} is false) and {@code offset = beta - mean * scale}, the
 * weights are scaled per output channel into a new constant {@code <conv>_weights}, the offset
 * becomes {@code <conv>_bn_offset}, and the batch norm node becomes a {@code BiasAdd} of the same
 * name. The arithmetic follows upstream's numpy: {@code var + eps} in float32, the scale and offset
 * in float64, each product rounded to float32 once.
 *
 * <p>Also folds the decomposed form ({@code tf.nn.batch_normalization}, Keras with {@code
 * fused=False}, once constants are folded): a {@code Mul} by a per-channel constant after a
 * convolution or {@code MatMul} (optionally through a constant {@code BiasAdd}) scales the weights
 * and bias, and an {@code Add} of a per-channel constant after that bias joins it.
 *
 * <p>Nothing is folded when an intermediate has another reader, or is a graph output.
 */
public final class BatchNormFolding implements GraphPass {
  private static final Set<String> BATCH_NORMS =
      Set.of(
          "FusedBatchNorm",
          "FusedBatchNormV2",
          "FusedBatchNormV3",
          "BatchNormWithGlobalNormalization");
  private static final Set<String> CONVS = Set.of("Conv2D", "DepthwiseConv2dNative");

  private int folded;

  @Override
  public String name() {
    return "fold-batch-norms";
  }

  public int folded() {
    return folded;
  }

  @Override
  public boolean apply(Graph g) {
    boolean changed = false;
    for (Node n : g.nodes()) {
      if (g.node(n.name()) != n) {
        continue;
      }
      if (BATCH_NORMS.contains(n.op()) && foldBatchNorm(g, n)
          || n.op().equals("Mul") && foldScale(g, n)) {
        folded++;
        changed = true;
      }
    }
    return changed;
  }

  // ------------------------------------------------------------------ batch norm ops

  private static boolean foldBatchNorm(Graph g, Node bn) {
    boolean global = bn.op().equals("BatchNormWithGlobalNormalization");
    if (bn.dataInputs().size() != 5
        || !global && !(bn.attr("is_training") instanceof AttrValue.Bool b && !b.value())
        || !nhwc(bn)
        || readsBeyondOutputZero(g, bn)) {
      return false;
    }
    Map<String, List<Node>> consumers = g.consumers();
    Node conv = GraphEdits.producer(g, bn.input(0));
    Node add = null;
    float[] bias = null;
    if (conv != null
        && Set.of("BiasAdd", "Add", "AddV2").contains(conv.op())
        && conv.dataInputs().size() == 2) {
      add = conv;
      int biasSide =
          Consts.isConst(g, add.input(1))
              ? 1
              : !add.op().equals("BiasAdd") && Consts.isConst(g, add.input(0)) ? 0 : -1;
      if (biasSide < 0 || !GraphEdits.soleReader(g, consumers, add, bn)) {
        return false;
      }
      Tensor b = Consts.value(g, add.input(biasSide));
      conv = GraphEdits.producer(g, add.input(1 - biasSide));
      if (b.dtype() != DType.FLOAT32 || !perChannel(b.shape().dims(), 4)) {
        return false;
      }
      bias = Tensors.floats(b);
    }
    if (conv == null
        || !CONVS.contains(conv.op())
        || !nhwc(conv)
        || conv.dataInputs().size() != 2
        || !GraphEdits.soleReader(g, consumers, conv, add != null ? add : bn)) {
      return false;
    }
    Tensor weights = Consts.value(g, conv.input(1));
    if (weights == null || weights.dtype() != DType.FLOAT32 || weights.shape().rank() != 4) {
      return false;
    }
    long[] wd = weights.shape().dims();
    int channels = (int) (conv.op().equals("Conv2D") ? wd[3] : wd[2] * wd[3]);
    int[] order = global ? new int[] {1, 2, 3, 4} : new int[] {3, 4, 2, 1};
    float[][] params = new float[4][];
    for (int i = 0; i < 4; i++) {
      Tensor t = Consts.value(g, bn.input(order[i]));
      if (t == null
          || t.dtype() != DType.FLOAT32
          || t.shape().rank() != 1
          || t.size() != channels) {
        return false;
      }
      params[i] = Tensors.floats(t);
    }
    if (bias != null && bias.length != 1 && bias.length != channels) {
      return false;
    }
    float[] mean = params[0];
    float[] var = params[1];
    float[] beta = params[2];
    float[] gamma = params[3];
    float eps =
        bn.attr(global ? "variance_epsilon" : "epsilon") instanceof AttrValue.Float f
            ? f.value()
            : global ? 0f : 1e-4f;
    boolean scaleAfter =
        !global || bn.attr("scale_after_normalization") instanceof AttrValue.Bool b && b.value();
    double[] scale = new double[channels];
    float[] offset = new float[channels];
    for (int c = 0; c < channels; c++) {
      float m = bias == null ? mean[c] : mean[c] - bias[bias.length == 1 ? 0 : c];
      scale[c] = 1.0 / Math.sqrt(var[c] + eps);
      if (scaleAfter) {
        scale[c] *= gamma[c];
      }
      offset[c] = (float) (-m * scale[c] + beta[c]);
    }
    float[] w = Tensors.floats(weights);
    for (int i = 0; i < w.length; i++) {
      // Weights are [h, w, in, out], or depthwise [h, w, in, multiplier] with channel in *
      // multiplier + m:
      // either way the channel is the index modulo the channel count.
      w[i] = (float) (w[i] * scale[i % channels]);
    }
    String newWeights = Consts.add(g, conv.name() + "_weights", Tensors.of(wd, w));
    String offsetName =
        Consts.add(g, conv.name() + "_bn_offset", Tensors.of(new long[] {channels}, offset));
    replaceInput(conv, 1, newWeights);
    List<String> ins = new ArrayList<>(List.of(conv.name(), offsetName));
    ins.addAll(bn.controlInputs());
    if (add != null) {
      ins.addAll(add.controlInputs());
      g.remove(add.name());
    }
    AttrValue t = conv.attr("T");
    bn.op("BiasAdd");
    bn.attrs().clear();
    if (t != null) {
      bn.attr("T", t);
    }
    bn.attr("data_format", AttrValue.Str.of("NHWC"));
    bn.setInputs(ins);
    return true;
  }

  private static boolean nhwc(Node n) {
    String f = n.stringAttr("data_format");
    return f == null || f.equals("NHWC");
  }

  /**
   * Whether anything reads an output of {@code n} beyond output 0, such as a batch norm's batch
   * statistics or reserve outputs, which folding (and the TF.js rewrites) do not produce.
   */
  public static boolean readsBeyondOutputZero(Graph g, Node n) {
    for (Node r : g.nodes()) {
      for (String in : r.dataInputs()) {
        TensorRef ref = TensorRef.parse(in);
        if (ref.node().equals(n.name()) && ref.index() > 0) {
          return true;
        }
      }
    }
    for (String o : g.outputs()) {
      TensorRef ref = TensorRef.parse(o);
      if (ref.node().equals(n.name()) && ref.index() > 0) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether a constant of this shape adds or multiplies per channel (the last axis) without
   * changing the shape of a rank-{@code rank} result: every dimension but the last is 1.
   */
  private static boolean perChannel(long[] d, int rank) {
    if (d.length > rank) {
      return false;
    }
    for (int i = 0; i < d.length - 1; i++) {
      if (d[i] != 1) {
        return false;
      }
    }
    return true;
  }

  private static void replaceInput(Node n, int dataIndex, String ref) {
    List<String> ins = new ArrayList<>(n.inputs());
    ins.set(dataIndex, ref);
    n.setInputs(ins);
  }

  // ------------------------------------------------------------------ decomposed form

  /** {@code Mul(contraction [+ bias], scale)} into the weights (and bias). */
  private static boolean foldScale(Graph g, Node mul) {
    if (mul.dataInputs().size() != 2
        || !Consts.isConst(g, mul.input(0)) && !Consts.isConst(g, mul.input(1))) {
      return false;
    }
    Node before = GraphEdits.producer(g, mul.input(Consts.isConst(g, mul.input(0)) ? 1 : 0));
    if (before == null
        || !before.op().equals("BiasAdd")
            && !before.op().equals("MatMul")
            && !CONVS.contains(before.op())) {
      return false;
    }
    Map<String, List<Node>> consumers = g.consumers();
    for (int side = 0; side < 2; side++) {
      Tensor s = Consts.value(g, mul.input(side));
      Node tail = GraphEdits.producer(g, mul.input(1 - side));
      if (s == null
          || s.dtype() != DType.FLOAT32
          || tail == null
          || !GraphEdits.soleReader(g, consumers, tail, mul)) {
        continue;
      }
      Node biasAdd = null;
      Node contraction = tail;
      if (tail.op().equals("BiasAdd") && nhwc(tail) && Consts.isConst(g, tail.input(1))) {
        biasAdd = tail;
        contraction = GraphEdits.producer(g, tail.input(0));
        if (contraction == null || !GraphEdits.soleReader(g, consumers, contraction, biasAdd)) {
          continue;
        }
      }
      Tensor w =
          contraction.dataInputs().size() == 2 ? Consts.value(g, contraction.input(1)) : null;
      if (w == null || w.dtype() != DType.FLOAT32) {
        continue;
      }
      long[] wd = w.shape().dims();
      boolean matMul = contraction.op().equals("MatMul");
      if (!(CONVS.contains(contraction.op()) && nhwc(contraction) && wd.length == 4
          || matMul && wd.length == 2)) {
        continue;
      }
      boolean transposed =
          matMul && contraction.attr("transpose_b") instanceof AttrValue.Bool b && b.value();
      int channels =
          (int)
              (matMul
                  ? wd[transposed ? 0 : 1]
                  : contraction.op().equals("Conv2D") ? wd[3] : wd[2] * wd[3]);
      if (!perChannel(s.shape().dims(), matMul ? 2 : 4) || s.size() != 1 && s.size() != channels) {
        continue;
      }
      float[] scale = Tensors.floats(s);
      float[] bias = null;
      if (biasAdd != null) {
        Tensor b = Consts.value(g, biasAdd.input(1));
        if (b.dtype() != DType.FLOAT32 || b.shape().rank() != 1 || b.size() != channels) {
          continue;
        }
        bias = Tensors.floats(b);
      }
      float[] v = Tensors.floats(w);
      int inner = transposed ? (int) wd[1] : 1;
      for (int i = 0; i < v.length; i++) {
        int c = transposed ? i / inner : i % channels;
        v[i] *= scale[scale.length == 1 ? 0 : c];
      }
      replaceInput(
          contraction, 1, Consts.add(g, contraction.name() + "_weights", Tensors.of(wd, v)));
      if (bias != null) {
        for (int c = 0; c < channels; c++) {
          bias[c] *= scale[scale.length == 1 ? 0 : c];
        }
        replaceInput(
            biasAdd,
            1,
            Consts.add(g, biasAdd.name() + "_scaled", Tensors.of(new long[] {channels}, bias)));
      }
      ArithmeticSimplification.bypass(g, mul, tail.name());
      if (biasAdd != null) {
        joinOffset(g, biasAdd, channels);
      }
      return true;
    }
    return false;
  }

  /** {@code Add(BiasAdd(x, b), o)} with {@code o} per channel: {@code BiasAdd(x, b + o)}. */
  private static void joinOffset(Graph g, Node biasAdd, int channels) {
    Map<String, List<Node>> consumers = g.consumers();
    List<Node> readers = consumers.getOrDefault(biasAdd.name(), List.of());
    if (readers.size() != 1) {
      return;
    }
    Node add = readers.get(0);
    if (!add.op().equals("Add") && !add.op().equals("AddV2")
        || add.dataInputs().size() != 2
        || !GraphEdits.soleReader(g, consumers, biasAdd, add)) {
      return;
    }
    int side = TensorRef.nodeOf(add.input(0)).equals(biasAdd.name()) ? 1 : 0;
    Tensor o = Consts.value(g, add.input(side));
    if (o == null
        || o.dtype() != DType.FLOAT32
        || !perChannel(o.shape().dims(), 4)
        || o.size() != channels && o.size() != 1) {
      return;
    }
    long[] shapes = o.shape().dims();
    ShapeInference si = ShapeInference.of(g);
    long[] out = si.dims(biasAdd.name());
    if (out == null || shapes.length > out.length) {
      return;
    }
    float[] b = Tensors.floats(Consts.value(g, biasAdd.input(1)));
    float[] off = Tensors.floats(o);
    for (int c = 0; c < channels; c++) {
      b[c] += off[off.length == 1 ? 0 : c];
    }
    replaceInput(
        biasAdd,
        1,
        Consts.add(g, biasAdd.name() + "_offset", Tensor.ofFloats(Shape.of(channels), b)));
    ArithmeticSimplification.bypass(g, add, biasAdd.name());
  }
}
