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
}
