package org.tfport.graph.keras;

import java.util.Map;

/**
 * The layers whose training-mode call differs from inference: BatchNormalization normalizes with
 * the batch's mean and (biased) variance and moves its statistics toward them by {@code 1 −
 * momentum}, as Keras and TF.js do; Dropout keeps an element where the fed noise is at least the
 * rate and scales the kept ones by {@code 1/(1 − rate)}.
 */
final class TrainingLayers {
  private TrainingLayers() {}

  static void register(Map<String, LayerBuilder> r) {
    r.put("BatchNormalization", (LayerBuilder.Single) TrainingLayers::batchNorm);
    r.put("BatchNormalizationV1", (LayerBuilder.Single) TrainingLayers::batchNorm);
    r.put("Dropout", (LayerBuilder.Single) TrainingLayers::dropout);
  }

  private static KT batchNorm(Call c, KT x) {
    TrainingState t = c.training();
    if (!t.trains(c)) {
      // A frozen BatchNormalization runs in inference mode (Keras 2.1.3+ and TF.js alike).
      return KerasGraphBuilder.LAYERS.get(c.cls).call(c, java.util.List.of(x)).get(0);
    }
    long[] axes = c.intList("axis");
    if (axes == null) {
      axes = new long[] {-1};
    }
    if (axes.length != 1) {
      throw c.unsupported("normalizes over several axes in training");
    }
    int axis = (int) (axes[0] < 0 ? axes[0] + x.rank() : axes[0]);
    long channels = x.dim(axis);
    if (channels < 0) {
      throw c.unsupported("normalizes over an axis of unknown size");
    }
    long[] bshape = new long[x.rank()];
    java.util.Arrays.fill(bshape, 1);
    bshape[axis] = channels;
    long[] reduce = new long[x.rank() - 1];
    for (int i = 0, k = 0; i < x.rank(); i++) {
      if (i != axis) {
        reduce[k++] = i;
      }
    }
    Emit e = c.e;
    float eps = (float) c.number("epsilon", 1e-3);
    float decay = 1f - (float) c.number("momentum", 0.99);
    int pos = 0;
    String gamma = c.bool("scale", true) ? c.weightAs("gamma", pos++, bshape) : null;
    String beta = c.bool("center", true) ? c.weightAs("beta", pos++, bshape) : null;
    String movingMean = c.weight("moving_mean", pos++);
    String movingVar = c.weight("moving_variance", pos);
    String mean = e.reduce("Mean", x.ref(), reduce, true);
    String var = e.reduce("Mean", e.binary("SquaredDifference", x.ref(), mean), reduce, true);
    String inv = e.unary("Rsqrt", e.binary("AddV2", var, e.scalar(eps)));
    String y = e.binary("Mul", e.binary("Sub", x.ref(), mean), inv);
    if (gamma != null) {
      y = e.binary("Mul", y, gamma);
    }
    if (beta != null) {
      y = e.binary("AddV2", y, beta);
    }
    for (String[] mv : new String[][] {{movingMean, mean}, {movingVar, var}}) {
      String batch = e.reshape(mv[1], channels);
      String delta = e.binary("Mul", e.binary("Sub", mv[0], batch), e.scalar(decay));
      t.update(mv[0], e.binary("Sub", mv[0], delta));
    }
    return x.with(y, x.shape());
  }

  private static KT dropout(Call c, KT x) {
    TrainingState t = c.training();
    double rate = c.number("rate", 0);
    if (!t.options().dropout() || rate <= 0) {
      return x;
    }
    if (rate >= 1) {
      throw c.unsupported("has a dropout rate of " + rate + "; it must be below 1");
    }
    Emit e = c.e;
    String noise = t.noise(c, x.shape(), rate);
    String keep =
        e.cast(e.binary("GreaterEqual", noise, e.scalar((float) rate)), KT.BOOL, KT.FLOAT);
    String y = e.binary("Mul", e.binary("Mul", x.ref(), keep), e.scalar((float) (1 / (1 - rate))));
    return x.with(y, x.shape());
  }

  /** A recurrent layer's kernel, recurrent kernel and bias (null without one) as variables. */
  static String[] recurrentVariables(Call c, org.tfport.core.Tensor[] w) {
    return new String[] {
      c.weight("kernel", 0),
      c.weight("recurrent_kernel", 1),
      w[2] == null ? null : c.weight("bias", 2)
    };
  }
}
