package org.tfport.bench;

import java.nio.file.Path;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.math.Mean;
import org.tensorflow.op.nn.FusedBatchNorm;
import org.tensorflow.op.random.RandomUniform;
import org.tensorflow.types.TFloat32;

/**
 * The networks issue 11 asks TF Java to build for the runtime comparison, exported as SavedModels
 * with {@code VariableV2} weights (a TF1-style graph, as {@code tf.compat.v1} would save it):
 *
 * <ul>
 *   <li>{@link #resNet18}: ResNet-18 at 224×224 (a 7×7/2 stem, conv + batch norm + ReLU, a 3×3/2
 *       max pool, four stages of two basic residual blocks at 64, 128, 256 and 512 channels, 1×1
 *       projections where the shape changes, global average pool, dense 1000 + softmax).
 *   <li>{@link #mobileNetV2}: MobileNetV2 1.0 at 224×224 (inverted residual blocks: 1×1 expansion,
 *       3×3 depthwise, 1×1 linear projection, each with batch norm, ReLU6 after the first two, an
 *       add where stride is 1 and the channels match).
 * </ul>
 *
 * Weights come from TensorFlow's seeded random ops in the init scope (so the graph stays small),
 * scaled as He initialisation so activations keep their magnitude through the depth; batch norms
 * have random statistics, so folding them is not a no-op.
 */
final class BuiltModels {
  private BuiltModels() {}

  /**
   * Exports ResNet-18 to {@code dir}: input {@code image [-1, 224, 224, 3]}, output {@code
   * probabilities}.
   */
  static Path resNet18(Path dir) {
    return export(dir, Net::resNet18);
  }

  /** Exports MobileNetV2 1.0 224 to {@code dir}; same signature as {@link #resNet18}. */
  static Path mobileNetV2(Path dir) {
    return export(dir, Net::mobileNetV2);
  }

  private static Path export(Path dir, java.util.function.Function<Net, Operand<TFloat32>> body) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> image =
          tf.withName("image")
              .placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 224, 224, 3)));
      Net net = new Net(tf, image);
      Operand<TFloat32> probabilities = body.apply(net);
      Signature sig =
          Signature.builder()
              .key(Signature.DEFAULT_KEY)
              .methodName("tensorflow/serving/predict")
              .input("image", image)
              .output("probabilities", probabilities)
              .build();
      try (Session s = new Session(g)) {
        s.initialize();
        SessionFunction fn = SessionFunction.create(sig, s);
        SavedModelBundle.exporter(dir.toString()).withSession(s).withFunction(fn).export();
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot export a SavedModel to " + dir, e);
    }
    return dir;
  }

  /** Layer builders; each variable gets its own seed. */
  private static final class Net {
    private final Ops tf;
    private final Ops init;
    private final Operand<TFloat32> input;
    private long seed;

    Net(Ops tf, Operand<TFloat32> input) {
      this.tf = tf;
      this.init = tf.withInitScope();
      this.input = input;
    }

    /** A variable uniform in [lo, hi). */
    private Operand<TFloat32> variable(float lo, float hi, long... shape) {
      Operand<TFloat32> u =
          init.random.randomUniform(
              init.constant(shape),
              TFloat32.class,
              RandomUniform.seed(11L),
              RandomUniform.seed2(++seed));
      Operand<TFloat32> v =
          init.math.add(init.math.mul(u, init.constant(hi - lo)), init.constant(lo));
      return tf.variable(v);
    }

    private Operand<TFloat32> conv(Operand<TFloat32> x, int k, long in, long out, int stride) {
      float a = (float) Math.sqrt(6.0 / (k * k * in));
      return tf.nn.conv2d(
          x, variable(-a, a, k, k, in, out), List.of(1L, (long) stride, (long) stride, 1L), "SAME");
    }

    private Operand<TFloat32> depthwise(Operand<TFloat32> x, long channels, int stride) {
      float a = (float) Math.sqrt(6.0 / 9);
      return tf.nn.depthwiseConv2dNative(
          x,
          variable(-a, a, 3, 3, channels, 1),
          List.of(1L, (long) stride, (long) stride, 1L),
          "SAME");
    }

    private Operand<TFloat32> batchNorm(Operand<TFloat32> x, long channels) {
      return tf.nn
          .fusedBatchNorm(
              x,
              variable(0.8f, 1.2f, channels),
              variable(-0.1f, 0.1f, channels),
              variable(-0.1f, 0.1f, channels),
              variable(0.8f, 1.2f, channels),
              FusedBatchNorm.epsilon(1e-3f),
              FusedBatchNorm.isTraining(false))
          .y();
    }

    private Operand<TFloat32> head(Operand<TFloat32> x, long channels) {
      Operand<TFloat32> pooled =
          tf.math.mean(x, tf.constant(new int[] {1, 2}), Mean.keepDims(false));
      float a = (float) Math.sqrt(6.0 / channels);
      Operand<TFloat32> logits =
          tf.nn.biasAdd(
              tf.linalg.matMul(pooled, variable(-a, a, channels, 1000)),
              variable(-0.1f, 0.1f, 1000));
      return tf.nn.softmax(logits);
    }

    Operand<TFloat32> resNet18() {
      Operand<TFloat32> x = tf.nn.relu(batchNorm(conv(input, 7, 3, 64, 2), 64));
      x =
          tf.nn.maxPool(
              x, tf.constant(new int[] {1, 3, 3, 1}), tf.constant(new int[] {1, 2, 2, 1}), "SAME");
      long channels = 64;
      for (long width : new long[] {64, 128, 256, 512}) {
        for (int block = 0; block < 2; block++) {
          int stride = block == 0 && width != 64 ? 2 : 1;
          Operand<TFloat32> y = tf.nn.relu(batchNorm(conv(x, 3, channels, width, stride), width));
          y = batchNorm(conv(y, 3, width, width, 1), width);
          Operand<TFloat32> shortcut =
              stride == 1 && channels == width
                  ? x
                  : batchNorm(conv(x, 1, channels, width, stride), width);
          x = tf.nn.relu(tf.math.add(y, shortcut));
          channels = width;
        }
      }
      return head(x, channels);
    }

    Operand<TFloat32> mobileNetV2() {
      Operand<TFloat32> x = tf.nn.relu6(batchNorm(conv(input, 3, 3, 32, 2), 32));
      long channels = 32;
      // expansion t, output channels c, repeats n, first stride s (the paper's table 2)
      int[][] stages = {
        {1, 16, 1, 1},
        {6, 24, 2, 2},
        {6, 32, 3, 2},
        {6, 64, 4, 2},
        {6, 96, 3, 1},
        {6, 160, 3, 2},
        {6, 320, 1, 1}
      };
      for (int[] st : stages) {
        for (int i = 0; i < st[2]; i++) {
          int stride = i == 0 ? st[3] : 1;
          long hidden = channels * st[0];
          Operand<TFloat32> y = x;
          if (st[0] != 1) {
            y = tf.nn.relu6(batchNorm(conv(y, 1, channels, hidden, 1), hidden));
          }
          y = tf.nn.relu6(batchNorm(depthwise(y, hidden, stride), hidden));
          y = batchNorm(conv(y, 1, hidden, st[1], 1), st[1]);
          x = stride == 1 && channels == st[1] ? tf.math.add(x, y) : y;
          channels = st[1];
        }
      }
      x = tf.nn.relu6(batchNorm(conv(x, 1, channels, 1280, 1), 1280));
      return head(x, 1280);
    }
  }
}
