package org.tfport.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.tfport.core.Tensor;
import org.tfport.graph.keras.KerasTraining;

/**
 * The backward graph's gradients of every trainable weight against central finite differences of
 * the loss the same graph computes, for every loss, and through batch-statistics normalization.
 */
class GradientCheckTest {
  @TempDir Path dir;

  private static final int N = 6;

  @ParameterizedTest
  @EnumSource(Loss.class)
  void denseModelGradientsMatchFiniteDifferences(Loss loss) {
    boolean binary = loss == Loss.BINARY_CROSSENTROPY || loss == Loss.HINGE;
    Path h5 =
        new TestModels(3, 4)
            .dense("dense", 4, 5, "tanh")
            .dense(
                "dense_1",
                5,
                3,
                binary ? "sigmoid" : loss == Loss.MEAN_SQUARED_ERROR ? "linear" : "softmax")
            .write(dir.resolve("m.h5"));
    Tensor x = TestModels.uniform(1, N, 4);
    Tensor y =
        loss.sparse()
            ? TestModels.classIds(N, 3, 1)
            : loss == Loss.HUBER || loss == Loss.MEAN_ABSOLUTE_ERROR
                ? TestModels.uniform(2, N, 3)
                : TestModels.oneHot(N, 3, 1);
    check(h5, loss, x, y, KerasTraining.Options.defaults());
  }

  @Test
  void batchNormalizationInTrainingModeGradientsMatchFiniteDifferences() {
    Path h5 =
        new TestModels(5, 4)
            .dense("dense", 4, 6, "linear")
            .layer(
                "BatchNormalization",
                "bn",
                "\"axis\": -1, \"momentum\": 0.9, \"epsilon\": 0.001, \"center\": true, \"scale\": true",
                "gamma",
                new long[] {6},
                "beta",
                new long[] {6},
                "moving_mean",
                new long[] {6},
                "moving_variance",
                new long[] {6})
            .layer("Activation", "act", "\"activation\": \"tanh\"")
            .dense("dense_1", 6, 3, "softmax")
            .write(dir.resolve("bn.h5"));
    check(
        h5,
        Loss.CATEGORICAL_CROSSENTROPY,
        TestModels.uniform(4, N, 4),
        TestModels.oneHot(N, 3, 2),
        KerasTraining.Options.defaults());
  }

  @Test
  void smallCnnGradientsMatchFiniteDifferences() {
    Path h5 =
        new TestModels(8, 9, 9, 2)
            .conv("conv", 2, 3, 3, 1, "valid", "tanh")
            .batchNorm("bn", 3)
            .pool("MaxPooling2D", "pool")
            .conv("conv_1", 3, 2, 2, 2, "same", "tanh")
            .pool("AveragePooling2D", "avg")
            .flatten()
            .dense("dense", 2, 3, "softmax")
            .write(dir.resolve("cnn.h5"));
    check(
        h5,
        Loss.CATEGORICAL_CROSSENTROPY,
        TestModels.uniform(9, N, 9, 9, 2),
        TestModels.oneHot(N, 3, 0),
        KerasTraining.Options.defaults());
  }

  @Test
  void overlappingAndPaddedAveragePoolingGradientsMatchFiniteDifferences() {
    Path h5 =
        new TestModels(8, 7, 7, 2)
            .conv("conv", 2, 3, 2, 2, "same", "tanh")
            .pool("AveragePooling2D", "pool", 3, 2, "same")
            .pool("AveragePooling2D", "avg", 2, 1, "same")
            .flatten()
            .dense("dense", 12, 3, "softmax")
            .write(dir.resolve("pools.h5"));
    check(
        h5,
        Loss.CATEGORICAL_CROSSENTROPY,
        TestModels.uniform(12, N, 7, 7, 2),
        TestModels.oneHot(N, 3, 1),
        KerasTraining.Options.defaults());
  }

  @Test
  void overlappingAndPaddedMaxPoolingGradientsMatchFiniteDifferences() {
    Path h5 =
        new TestModels(8, 9, 9, 2)
            .conv("conv", 2, 3, 2, 2, "same", "tanh")
            .pool("MaxPooling2D", "pool", 3, 2, "same")
            .pool("MaxPooling2D", "max", 2, 1, "same")
            .flatten()
            .dense("dense", 27, 3, "softmax")
            .write(dir.resolve("maxpools.h5"));
    // 5x5 → 3x3 pads a row and column on both sides; 2x2 at stride 1 pads after only.
    check(
        h5,
        Loss.CATEGORICAL_CROSSENTROPY,
        TestModels.uniform(12, N, 9, 9, 2),
        TestModels.oneHot(N, 3, 1),
        KerasTraining.Options.defaults(),
        1e-3f,
        true);
  }

  @Test
  void depthwiseSeparableAndTransposedConvolutionGradientsMatchFiniteDifferences() {
    // 7x7 → depthwise 3x3/2 SAME (padding both sides) 4x4x4 → separable 2x2 VALID 3x3x3 →
    // transposed 3x3/2 VALID 7x7x2 → transposed 2x2/1 SAME 7x7x2.
    Path h5 =
        new TestModels(21, 7, 7, 2)
            .depthwise("dw", 2, 2, 3, 2, "same", "tanh")
            .separable("sep", 4, 2, 3, 2, 1, "valid", "tanh")
            .convTranspose("up", 3, 2, 3, 2, "valid", "tanh")
            .convTranspose("up_1", 2, 2, 2, 1, "same", "linear")
            .pool("AveragePooling2D", "avg", 3, 3, "valid")
            .flatten()
            .dense("dense", 8, 3, "softmax")
            .write(dir.resolve("convs.h5"));
    check(
        h5,
        Loss.CATEGORICAL_CROSSENTROPY,
        TestModels.uniform(22, N, 7, 7, 2),
        TestModels.oneHot(N, 3, 2),
        KerasTraining.Options.defaults());
  }

  @Test
  void lstmGradientsMatchFiniteDifferences() {
    Path h5 =
        new TestModels(12, 4, 3)
            .lstm("lstm", 3, 5)
            .dense("dense", 5, 3, "softmax")
            .write(dir.resolve("lstm.h5"));
    check(
        h5,
        Loss.SPARSE_CATEGORICAL_CROSSENTROPY,
        TestModels.uniform(13, N, 4, 3),
        TestModels.classIds(N, 3, 2),
        KerasTraining.Options.defaults());
  }

  @Test
  void gruAndBidirectionalGradientsMatchFiniteDifferences() {
    Path h5 =
        new TestModels(15, 4, 3)
            .gru("gru", 3, 3, true, true)
            .gru("gru_1", 3, 3, true, false)
            .bidirectional("bi", "LSTM", 3, 2, true, "concat")
            .bidirectional("bi_1", "GRU", 4, 2, false, "sum")
            .dense("dense", 2, 3, "softmax")
            .write(dir.resolve("gru.h5"));
    check(
        h5,
        Loss.SPARSE_CATEGORICAL_CROSSENTROPY,
        TestModels.uniform(16, N, 4, 3),
        TestModels.classIds(N, 3, 1),
        KerasTraining.Options.defaults());
  }

  /** A CuDNN LSTM's bias holds input and recurrent halves [8·units] that add up: both train. */
  @Test
  void cudnnLstmGradientsMatchFiniteDifferences() {
    Path h5 =
        new TestModels(17, 4, 3)
            .layer(
                "CuDNNLSTM",
                "cudnn",
                "\"units\": 2, \"return_sequences\": false, \"return_state\": false,"
                    + " \"go_backwards\": false, \"stateful\": false",
                "kernel",
                new long[] {3, 8},
                "recurrent_kernel",
                new long[] {2, 8},
                "bias",
                new long[] {16})
            .dense("dense", 2, 3, "softmax")
            .write(dir.resolve("cudnn.h5"));
    check(
        h5,
        Loss.SPARSE_CATEGORICAL_CROSSENTROPY,
        TestModels.uniform(18, N, 4, 3),
        TestModels.classIds(N, 3, 0),
        KerasTraining.Options.defaults());
  }

  /**
   * Convolutions, batch norm (axis 1) and pooling on channels_first data (tanh: ReLU's kink at 0
   * after batch norm would add to max pooling's).
   */
  @Test
  void channelsFirstCnnGradientsMatchFiniteDifferences() {
    Path h5 =
        ChannelsFirstTrainingTest.cnn(
            new TestModels(27, 2, 8, 8).channelsFirst(), dir, "cf", "tanh");
    check(
        h5,
        Loss.CATEGORICAL_CROSSENTROPY,
        ChannelsFirstTrainingTest.toChannelsFirst(TestModels.uniform(28, N, 8, 8, 2)),
        TestModels.oneHot(N, 3, 0),
        KerasTraining.Options.defaults(),
        1e-3f,
        true);
  }

  @Test
  void locallyConnectedGradientsMatchFiniteDifferences() {
    // 1D: 7 steps of 2 channels, window 3 stride 2 → 3 positions; 2D: 5x5x2, window 2 stride 1
    // → 4x4 positions, each with its own kernel and bias.
    Path h5 =
        new TestModels(23, 7, 2)
            .locallyConnected("local", new long[] {7}, 2, 3, 3, 2, "channels_last")
            .layer("Reshape", "rs", "\"target_shape\": [3, 3, 1]")
            .locallyConnected("local_1", new long[] {3, 3}, 1, 2, 2, 1, "channels_last")
            .flatten()
            .dense("dense", 8, 3, "softmax")
            .write(dir.resolve("local.h5"));
    check(
        h5,
        Loss.CATEGORICAL_CROSSENTROPY,
        TestModels.uniform(24, N, 7, 2),
        TestModels.oneHot(N, 3, 1),
        KerasTraining.Options.defaults());
  }

  @Test
  void convLstm2dGradientsMatchFiniteDifferences() {
    // 3 frames of 5x5x2; the input convolution at stride 2 (same), the recurrent one at stride 1.
    Path h5 =
        new TestModels(25, 3, 5, 5, 2)
            .convLstm("clstm", 2, 2, 3, 2, "same", true)
            .convLstm("clstm_1", 2, 2, 2, 1, "valid", false)
            .flatten()
            .dense("dense", 8, 3, "softmax")
            .write(dir.resolve("clstm.h5"));
    check(
        h5,
        Loss.SPARSE_CATEGORICAL_CROSSENTROPY,
        TestModels.uniform(26, N, 3, 5, 5, 2),
        TestModels.classIds(N, 3, 2),
        KerasTraining.Options.defaults());
  }

  @Test
  void embeddingGradientsMatchFiniteDifferences() {
    Path h5 =
        new TestModels(14, 3)
            .layer(
                "Embedding",
                "emb",
                "\"input_dim\": 5, \"output_dim\": 2",
                "embeddings",
                new long[] {5, 2})
            .flatten()
            .dense("dense", 6, 3, "softmax")
            .write(dir.resolve("emb.h5"));
    // Ids repeat within and across samples, so rows collect several gradients.
    float[] ids = new float[N * 3];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = (i * 3) % 5;
    }
    check(
        h5,
        Loss.CATEGORICAL_CROSSENTROPY,
        Tensor.ofFloats(org.tfport.core.Shape.of(N, 3), ids),
        TestModels.oneHot(N, 3, 1),
        KerasTraining.Options.defaults());
  }

  static void check(Path h5, Loss loss, Tensor x, Tensor y, KerasTraining.Options o) {
    check(h5, loss, x, y, o, 1e-2f, false);
  }

  /**
   * Central differences with step {@code eps}. With {@code kinks} (max pooling, whose loss is only
   * piecewise smooth: a step that changes a window's maximum bends the curve), a weight whose two
   * one-sided slopes disagree has a kink within the step, where a finite difference is no
   * derivative; it is skipped, and at most a quarter of the weights may be.
   */
  static void check(
      Path h5, Loss loss, Tensor x, Tensor y, KerasTraining.Options o, float eps, boolean kinks) {
    try (ModelSource src = ModelSource.open(h5);
        StepGraph g = new StepGraph(src.build(o), List.of(loss), null, true, 1)) {
      var vars = g.built.variables();
      float[][] w = new float[vars.size()][];
      for (int i = 0; i < w.length; i++) {
        w[i] = vars.get(i).initial().toFloatArray();
      }
      Map<String, Tensor> out = g.session.run(feeds(g, x, y, w));
      double center = kinks ? loss(g, x, y, w) : 0;
      int checked = 0;
      int skipped = 0;
      for (var e : g.grads.entrySet()) {
        int i = e.getKey();
        float[] grad = out.get(e.getValue()).toFloatArray();
        assertThat(grad).hasSize(w[i].length);
        for (int k = 0; k < w[i].length; k++) {
          float keep = w[i][k];
          w[i][k] = keep + eps;
          double up = loss(g, x, y, w);
          w[i][k] = keep - eps;
          double down = loss(g, x, y, w);
          w[i][k] = keep;
          double numeric = (up - down) / (2 * eps);
          double tol = 2e-3 + 2e-2 * Math.abs(numeric);
          if (kinks && Math.abs((up - center) - (center - down)) / eps > tol) {
            skipped++;
            continue;
          }
          assertThat((double) grad[k])
              .as("%s d loss / d %s[%d]", loss, vars.get(i).name(), k)
              .isCloseTo(numeric, org.assertj.core.data.Offset.offset(tol));
          checked++;
        }
      }
      assertThat(checked).isGreaterThan(20);
      assertThat(skipped).as("weights at a kink").isLessThanOrEqualTo((checked + skipped) / 4);
    }
  }

  private static double loss(StepGraph g, Tensor x, Tensor y, float[][] w) {
    return g.session.run(feeds(g, x, y, w)).get(StepGraph.LOSS).toFloatArray()[0];
  }

  private static Map<String, Tensor> feeds(StepGraph g, Tensor x, Tensor y, float[][] w) {
    Map<String, Tensor> f = new LinkedHashMap<>();
    f.put(g.inputs.get(0), x);
    f.put(StepGraph.Y, y);
    for (int i = 0; i < w.length; i++) {
      var v = g.built.variables().get(i);
      f.put(v.node(), Tensor.ofFloats(v.initial().shape(), w[i].clone()));
    }
    return f;
  }
}
