package org.tfport.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;

/** fit's options: validation split, early stopping, seeded dropout, frozen layers, bad data. */
class TrainerTest {
  static final int N = 20;

  @TempDir Path dir;

  private Path model(boolean dropout) {
    TestModels m = new TestModels(5, 4).dense("dense", 4, 6, "tanh");
    if (dropout) {
      m.layer("Dropout", "drop", "\"rate\": 0.5");
    }
    return m.dense("dense_1", 6, 3, "softmax").write(dir.resolve(dropout ? "d.h5" : "m.h5"));
  }

  private static final Tensor X = TestModels.uniform(3, N, 4);
  private static final Tensor Y = TestModels.oneHot(N, 3, 1);

  @Test
  void validationHoldsOutTheLastSamplesAndIsEvaluatedInInferenceMode() {
    try (Trainer t =
        Trainer.open(
            model(false),
            Trainer.Settings.of("adam", "categorical_crossentropy")
                .withMetrics(List.of("accuracy")))) {
      History h = t.fit(Map.of("x", X), Y, new Trainer.FitOptions(2, 4, true, 9, 0.25, List.of()));
      assertThat(h.values().keySet())
          .containsExactly("loss", "categorical_accuracy", "val_loss", "val_categorical_accuracy");
      int[] rows = new int[N];
      for (int i = 0; i < N; i++) {
        rows[i] = i;
      }
      Map<String, Double> e =
          t.evaluate(Map.of("x", Data.rows(X, rows, 15, 20)), Data.rows(Y, rows, 15, 20), 4);
      assertThat(h.get("val_loss").get(1))
          .isCloseTo(e.get("loss"), org.assertj.core.data.Offset.offset(1e-9));
    }
  }

  /**
   * Evaluation runs the inference form of batch normalization: it must read the trained gamma, beta
   * and moving statistics, as a fresh load of the saved model does, not the file's initial ones.
   */
  @Test
  void evaluationUsesTrainedBatchNormalizationWeights() {
    Path m =
        new TestModels(51, 4)
            .dense("dense", 4, 6, "linear")
            .layer(
                "BatchNormalization",
                "bn",
                "\"axis\": -1, \"momentum\": 0.5, \"epsilon\": 0.001, \"center\": true,"
                    + " \"scale\": true",
                "gamma",
                new long[] {6},
                "beta",
                new long[] {6},
                "moving_mean",
                new long[] {6},
                "moving_variance",
                new long[] {6})
            .dense("dense_1", 6, 3, "softmax")
            .write(dir.resolve("bn.h5"));
    Path saved = dir.resolve("bn-trained.h5");
    Map<String, Double> afterTraining;
    try (Trainer t = Trainer.open(m, Trainer.Settings.of("sgd", "categorical_crossentropy"))) {
      t.fit(Map.of("x", X), Y, new Trainer.FitOptions(2, 4, false, 0, 0.25, List.of()));
      afterTraining = t.evaluate(Map.of("x", X), Y, 4);
      t.saveH5(saved);
    }
    try (Trainer t = Trainer.open(saved, Trainer.Settings.of("sgd", "categorical_crossentropy"))) {
      assertThat(t.evaluate(Map.of("x", X), Y, 4).get("loss"))
          .isCloseTo(afterTraining.get("loss"), org.assertj.core.data.Offset.offset(1e-6));
    }
  }

  /**
   * LocallyConnected layers train (their gradients: GradientCheckTest); frozen, they keep their
   * weights while the layers after them train.
   */
  @Test
  void locallyConnectedTrainsAndKeepsItsWeightsWhenFrozen() {
    Path m =
        new TestModels(52, 5, 2)
            .locallyConnected("local", new long[] {5}, 2, 2, 3, 1, "channels_last")
            .layer("Flatten", "flat", "\"data_format\": \"channels_last\"")
            .dense("out", 6, 1, "linear")
            .write(dir.resolve("local.h5"));
    Tensor x = TestModels.uniform(53, 8, 5, 2);
    Tensor y = TestModels.uniform(54, 8, 1);
    try (Trainer t = Trainer.open(m, Trainer.Settings.of("sgd", "mse"))) {
      Map<String, Tensor> before = t.weights();
      t.fit(Map.of("x", x), y, Trainer.FitOptions.of(1, 4));
      assertThat(t.weights().get("local/kernel").toFloatArray())
          .isNotEqualTo(before.get("local/kernel").toFloatArray());
    }
    try (Trainer t =
        Trainer.open(m, Trainer.Settings.of("sgd", "mse").withFrozenLayers(Set.of("local")))) {
      Map<String, Tensor> before = t.weights();
      t.fit(Map.of("x", x), y, Trainer.FitOptions.of(1, 4));
      assertThat(t.weights().get("local/kernel").toFloatArray())
          .isEqualTo(before.get("local/kernel").toFloatArray());
      assertThat(t.weights().get("out/kernel").toFloatArray())
          .isNotEqualTo(before.get("out/kernel").toFloatArray());
    }
  }

  /** An op with no gradient rule on the path to a trainable weight is refused by node and op. */
  @Test
  void opsWithoutGradientsAreRefusedUnlessTheLayersBeforeThemAreFrozen() {
    Path m =
        new TestModels(55, 2, 2, 2)
            .dense("dense", 2, 3, "tanh")
            // A raw TensorFlow Cos (TensorFlowOpLayer), which has no gradient rule.
            .layer(
                "TensorFlowOpLayer",
                "cos",
                "\"node_def\": {\"name\": \"cos\", \"op\": \"Cos\", \"input\": [\"dense/Tanh\"],"
                    + " \"attr\": {\"T\": {\"type\": \"DT_FLOAT\"}}}, \"constants\": {}")
            .flatten()
            .dense("out", 12, 1, "linear")
            .write(dir.resolve("cos.h5"));
    Tensor x = TestModels.uniform(56, 8, 2, 2, 2);
    Tensor y = TestModels.uniform(57, 8, 1);
    assertThatThrownBy(
            () -> {
              try (Trainer t = Trainer.open(m, Trainer.Settings.of("sgd", "mse"))) {
                t.fit(Map.of("x", x), y, Trainer.FitOptions.of(1, 4));
              }
            })
        .isInstanceOf(TfportException.class)
        .hasMessageContaining("cannot train through node")
        .hasMessageContaining("(Cos)");
    try (Trainer t =
        Trainer.open(m, Trainer.Settings.of("sgd", "mse").withFrozenLayers(Set.of("dense")))) {
      Map<String, Tensor> before = t.weights();
      t.fit(Map.of("x", x), y, Trainer.FitOptions.of(1, 4));
      assertThat(t.weights().get("out/kernel").toFloatArray())
          .isNotEqualTo(before.get("out/kernel").toFloatArray());
    }
  }

  @Test
  void earlyStoppingEndsTrainingWhenTheLossStopsImproving() {
    try (Trainer t = Trainer.open(model(false), Trainer.Settings.of("sgd", "mse"))) {
      EarlyStopping stop = new EarlyStopping("loss", 1.0, 1);
      History h =
          t.fit(Map.of("x", X), Y, new Trainer.FitOptions(10, 4, false, 0, 0, List.of(stop)));
      assertThat(h.epochs()).isEqualTo(2);
      assertThat(stop.stoppedEpoch()).isEqualTo(1);
    }
  }

  @Test
  void dropoutIsSeededAndCanBeTurnedOff() {
    Map<String, Tensor> a = trained(true, 1);
    Map<String, Tensor> b = trained(true, 1);
    Map<String, Tensor> c = trained(true, 2);
    Map<String, Tensor> off = trained(false, 1);
    float[] ka = a.get("dense/kernel").toFloatArray();
    assertThat(b.get("dense/kernel").toFloatArray()).containsExactly(ka);
    assertThat(c.get("dense/kernel").toFloatArray()).isNotEqualTo(ka);
    assertThat(off.get("dense/kernel").toFloatArray()).isNotEqualTo(ka);
  }

  private Map<String, Tensor> trained(boolean dropout, long seed) {
    try (Trainer t =
        Trainer.open(model(true), Trainer.Settings.of("sgd", "mse").withDropout(dropout))) {
      t.fit(Map.of("x", X), Y, new Trainer.FitOptions(1, 5, false, seed, 0, List.of()));
      return t.weights();
    }
  }

  @Test
  void frozenLayersKeepTheirWeights() {
    Path m = model(false);
    try (Trainer t =
        Trainer.open(m, Trainer.Settings.of("adam", "mse").withFrozenLayers(Set.of("dense")))) {
      Map<String, Tensor> before = t.weights();
      t.fit(Map.of("x", X), Y, Trainer.FitOptions.of(1, 4));
      Map<String, Tensor> after = t.weights();
      assertThat(after.get("dense/kernel").toFloatArray())
          .containsExactly(before.get("dense/kernel").toFloatArray());
      assertThat(after.get("dense_1/kernel").toFloatArray())
          .isNotEqualTo(before.get("dense_1/kernel").toFloatArray());
    }
  }

  @Test
  void badDataIsNamed() {
    try (Trainer t = Trainer.open(model(false), Trainer.Settings.of("sgd", "mse"))) {
      assertThatThrownBy(
              () -> t.fit(Map.of("x", TestModels.uniform(1, N, 5)), Y, Trainer.FitOptions.of(1, 4)))
          .isInstanceOf(TfportException.class)
          .hasMessageContaining("input 'input' expects shape (None, 4) but the data has (20, 5)");
      assertThatThrownBy(
              () ->
                  t.fit(
                      Map.of("x", X), TestModels.oneHot(N - 1, 3, 0), Trainer.FitOptions.of(1, 4)))
          .hasMessageContaining("targets");
      float[] nan = X.toFloatArray();
      nan[4 * 9] = Float.NaN;
      assertThatThrownBy(
              () ->
                  t.fit(
                      Map.of("x", Tensor.ofFloats(Shape.of(N, 4), nan)),
                      Y,
                      Trainer.FitOptions.of(2, 4)))
          .hasMessageContaining("NaN at epoch 1, batch 3");
    }
  }

  private Path twoOutputs() {
    return new TestModels(45, 4)
        .dense("shared", 4, 6, "tanh")
        .dense("out_a", 6, 3, "softmax")
        .dense("out_b", 6, 2, "linear")
        .from("shared")
        .writeFunctional(dir.resolve("two.h5"), "out_a", "out_b");
  }

  /**
   * Keras' rule, total = Σ weight·loss of each output (TF.js 4.22 ignores loss weights, so no
   * oracle): the logged total is the weighted sum of the logged output losses, and one SGD step on
   * the whole data moves the weights by the same weighted sum of each output's own step.
   */
  @Test
  void lossWeightsScaleEachOutputsLossAndGradient() {
    Path m = twoOutputs();
    Tensor yb = TestModels.uniform(47, N, 2);
    Map<String, Tensor> y = Map.of("out_a", Y, "out_b", yb);
    Map<String, String> losses = Map.of("out_a", "categorical_crossentropy", "out_b", "mse");
    Map<String, float[]> before = null;
    Map<String, float[]>[] after = new Map[3];
    double[][] w = {{1, 0}, {0, 1}, {0.7, 0.4}};
    for (int r = 0; r < 3; r++) {
      Trainer.Settings s =
          Trainer.Settings.of("sgd", null)
              .withLearningRate(0.1)
              .withOutputLosses(losses, Map.of("out_a", w[r][0], "out_b", w[r][1]));
      try (Trainer t = Trainer.open(m, s)) {
        if (before == null) {
          before = arrays(t.weights());
        }
        History h = t.fit(Map.of("x", X), y, Trainer.FitOptions.of(1, N));
        assertThat(h.get("loss").get(0))
            .isCloseTo(
                w[r][0] * h.get("out_a_loss").get(0) + w[r][1] * h.get("out_b_loss").get(0),
                org.assertj.core.data.Offset.offset(1e-6));
        after[r] = arrays(t.weights());
      }
    }
    int checked = 0;
    for (String name : before.keySet()) {
      float[] b = before.get(name);
      for (int k = 0; k < b.length; k++) {
        double da = after[0].get(name)[k] - b[k];
        double db = after[1].get(name)[k] - b[k];
        assertThat((double) after[2].get(name)[k] - b[k])
            .as("%s[%d]", name, k)
            .isCloseTo(0.7 * da + 0.4 * db, org.assertj.core.data.Offset.offset(1e-6));
        checked++;
      }
    }
    assertThat(checked).isEqualTo(4 * 6 + 6 + 6 * 3 + 3 + 6 * 2 + 2);
  }

  @Test
  void targetsOfSeveralOutputsAreMatchedByName() {
    try (Trainer t =
        Trainer.open(
            twoOutputs(),
            Trainer.Settings.of("sgd", "mse").withOutputLosses(Map.of("out_c", "mse"), null))) {
      throw new AssertionError("an unknown output's loss was accepted");
    } catch (TfportException e) {
      assertThat(e).hasMessageContaining("no output 'out_c'; its outputs are [out_a, out_b]");
    }
    try (Trainer t = Trainer.open(twoOutputs(), Trainer.Settings.of("sgd", "mse"))) {
      assertThatThrownBy(() -> t.fit(Map.of("x", X), Y, Trainer.FitOptions.of(1, 4)))
          .hasMessageContaining("the model has 2 outputs; name the data of each: [out_a, out_b]");
      assertThatThrownBy(
              () ->
                  t.fit(
                      Map.of("x", X), Map.of("out_a", Y, "out_b", Y), Trainer.FitOptions.of(1, 4)))
          .hasMessageContaining(
              "the targets of output 'out_b' have shape (20, 3) but the model's output is (None, 2)");
    }
  }

  private static Map<String, float[]> arrays(Map<String, Tensor> w) {
    Map<String, float[]> out = new java.util.LinkedHashMap<>();
    w.forEach((k, v) -> out.put(k, v.toFloatArray()));
    return out;
  }
}
