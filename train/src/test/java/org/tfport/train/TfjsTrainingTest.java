package org.tfport.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.Converter;
import org.tfport.core.Tensor;
import org.tfport.formats.ModelFormat;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfjsFit;
import org.tfport.testkit.TfjsOracle;
import tools.jackson.databind.JsonNode;

/**
 * tfport's fit against TF.js 4.22's, from the same initial weights (the model file), the same data,
 * unshuffled: loss per epoch and final weights agree within 1e-4 relative after 3 epochs.
 */
@OracleTest
class TfjsTrainingTest {
  static final int N = 20;
  static final int BATCH = 8;
  static final int EPOCHS = 3;

  @TempDir Path dir;

  record Case(String optimizer, double lr, Loss loss, String tfjsLoss) {}

  @Test
  void denseClassifierTrainsAsInTfjs() {
    Path h5 =
        new TestModels(11, 4)
            .dense("dense", 4, 8, "relu")
            .dense("dense_1", 8, 3, "softmax")
            .write(dir.resolve("dense.h5"));
    Path json = dir.resolve("tfjs");
    Converter.from(h5).to(ModelFormat.TFJS_LAYERS_MODEL).convert(json);
    Tensor x = TestModels.uniform(21, N, 4);
    List<Case> cases = new ArrayList<>();
    for (String opt : List.of("sgd", "adam", "rmsprop")) {
      double lr = opt.equals("sgd") ? 0.1 : 0.01;
      cases.add(new Case(opt, lr, Loss.CATEGORICAL_CROSSENTROPY, "categoricalCrossentropy"));
      cases.add(
          new Case(opt, lr, Loss.SPARSE_CATEGORICAL_CROSSENTROPY, "sparseCategoricalCrossentropy"));
      cases.add(new Case(opt, lr, Loss.MEAN_SQUARED_ERROR, "meanSquaredError"));
    }
    compare(h5, json.resolve("model.json"), x, cases);
  }

  @Test
  void otherLossesAndOptimizersTrainAsInTfjs() {
    Path h5 =
        new TestModels(17, 4)
            .dense("dense", 4, 6, "tanh")
            .dense("dense_1", 6, 3, "softmax")
            .write(dir.resolve("more.h5"));
    Path json = dir.resolve("more");
    Converter.from(h5).to(ModelFormat.TFJS_LAYERS_MODEL).convert(json);
    compare(
        h5,
        json.resolve("model.json"),
        TestModels.uniform(18, N, 4),
        List.of(
            new Case("momentum", 0.05, Loss.BINARY_CROSSENTROPY, "binaryCrossentropy"),
            new Case("adagrad", 0.05, Loss.HINGE, "hinge"),
            new Case("adadelta", 1.0, Loss.KL_DIVERGENCE, "kullbackLeiblerDivergence"),
            new Case("adamax", 0.02, Loss.MEAN_ABSOLUTE_ERROR, "meanAbsoluteError"),
            new Case("adam", 0.02, Loss.HUBER, "huber")));
  }

  @Test
  void smallCnnWithBatchNormTrainsAsInTfjs() {
    Path h5 =
        new TestModels(31, 8, 8, 2)
            .conv("conv", 2, 4, 3, 1, "same", "relu")
            .batchNorm("bn", 4)
            .pool("MaxPooling2D", "pool")
            .conv("conv_1", 4, 3, 3, 2, "valid", "relu")
            .flatten()
            .dense("dense", 3, 3, "softmax")
            .write(dir.resolve("cnn.h5"));
    Path json = dir.resolve("cnn");
    Converter.from(h5).to(ModelFormat.TFJS_LAYERS_MODEL).convert(json);
    compare(h5, json.resolve("model.json"), TestModels.uniform(32, N, 8, 8, 2), threeOptimizers());
  }

  @Test
  void cnnWithOverlappingPaddedMaxPoolingTrainsAsInTfjs() {
    Path h5 =
        new TestModels(33, 9, 9, 2)
            .conv("conv", 2, 4, 3, 1, "same", "tanh")
            .pool("MaxPooling2D", "pool", 3, 2, "same")
            .conv("conv_1", 4, 3, 2, 1, "valid", "relu")
            .pool("MaxPooling2D", "pool_1", 2, 1, "same")
            .flatten()
            .dense("dense", 48, 3, "softmax")
            .write(dir.resolve("maxpool.h5"));
    Path json = dir.resolve("maxpool");
    Converter.from(h5).to(ModelFormat.TFJS_LAYERS_MODEL).convert(json);
    compare(h5, json.resolve("model.json"), TestModels.uniform(34, N, 9, 9, 2), threeOptimizers());
  }

  @Test
  void depthwiseSeparableAndTransposedConvolutionsTrainAsInTfjs() {
    Path h5 =
        new TestModels(35, 7, 7, 2)
            .depthwise("dw", 2, 2, 3, 2, "same", "relu")
            .separable("sep", 4, 2, 3, 2, 1, "valid", "tanh")
            .convTranspose("up", 3, 2, 3, 2, "valid", "relu")
            .pool("MaxPooling2D", "pool", 3, 3, "valid")
            .flatten()
            .dense("dense", 8, 3, "softmax")
            .write(dir.resolve("convs.h5"));
    Path json = dir.resolve("convs");
    Converter.from(h5).to(ModelFormat.TFJS_LAYERS_MODEL).convert(json);
    compare(h5, json.resolve("model.json"), TestModels.uniform(36, N, 7, 7, 2), threeOptimizers());
  }

  @Test
  void lstmTrainsAsInTfjs() {
    Path h5 =
        new TestModels(41, 5, 3)
            .lstm("lstm", 3, 6)
            .dense("dense", 6, 3, "softmax")
            .write(dir.resolve("lstm.h5"));
    Path json = dir.resolve("lstm");
    Converter.from(h5).to(ModelFormat.TFJS_LAYERS_MODEL).convert(json);
    compare(h5, json.resolve("model.json"), TestModels.uniform(42, N, 5, 3), threeOptimizers());
  }

  @Test
  void gruAndBidirectionalTrainAsInTfjs() {
    Path h5 =
        new TestModels(43, 4, 3)
            .gru("gru", 3, 4, true, false)
            .bidirectional("bi", "LSTM", 4, 3, true, "concat")
            .bidirectional("bi_1", "GRU", 6, 3, false, "ave")
            .dense("dense", 3, 3, "softmax")
            .write(dir.resolve("gru.h5"));
    Path json = dir.resolve("gru");
    Converter.from(h5).to(ModelFormat.TFJS_LAYERS_MODEL).convert(json);
    compare(h5, json.resolve("model.json"), TestModels.uniform(44, N, 4, 3), threeOptimizers());
  }

  /** TF.js has ConvLSTM2D (no LocallyConnected: GradientCheckTest covers those). */
  @Test
  void convLstm2dTrainsAsInTfjs() {
    Path h5 =
        new TestModels(47, 3, 5, 5, 2)
            .convLstm("clstm", 2, 3, 3, 1, "same", true)
            .convLstm("clstm_1", 3, 2, 2, 2, "valid", false)
            .flatten()
            .dense("dense", 8, 3, "softmax")
            .write(dir.resolve("clstm.h5"));
    Path json = dir.resolve("clstm");
    Converter.from(h5).to(ModelFormat.TFJS_LAYERS_MODEL).convert(json);
    compare(
        h5, json.resolve("model.json"), TestModels.uniform(48, N, 3, 5, 5, 2), threeOptimizers());
  }

  /** TF.js 4.22 ignores loss weights (a TODO in its compile): TrainerTest checks them. */
  @Test
  void twoOutputModelTrainsAsInTfjs() {
    Path h5 =
        new TestModels(45, 4)
            .dense("shared", 4, 6, "tanh")
            .dense("out_a", 6, 3, "softmax")
            .dense("out_b", 6, 2, "linear")
            .from("shared")
            .writeFunctional(dir.resolve("two.h5"), "out_a", "out_b");
    Path json = dir.resolve("two");
    Converter.from(h5).to(ModelFormat.TFJS_LAYERS_MODEL).convert(json);
    Tensor x = TestModels.uniform(46, N, 4);
    Tensor ya = TestModels.oneHot(N, 3, 2);
    Tensor yb = TestModels.uniform(47, N, 2);
    for (String opt : List.of("sgd", "adam")) {
      double lr = opt.equals("sgd") ? 0.1 : 0.01;
      TfjsFit.Result want =
          TfjsFit.fit(
                  List.of(
                      new TfjsFit.Job(
                          json.resolve("model.json"),
                          List.of(input(x)),
                          List.of(input(ya), input(yb)),
                          List.of("categoricalCrossentropy", "meanSquaredError"),
                          null,
                          opt,
                          lr,
                          0,
                          false,
                          EPOCHS,
                          BATCH,
                          List.of())))
              .get(0)
              .orThrow();
      Trainer.Settings s =
          Trainer.Settings.of(opt, null)
              .withLearningRate(lr)
              .withOutputLosses(Map.of("out_a", "categorical_crossentropy", "out_b", "mse"), null);
      try (Trainer t = Trainer.open(h5, s)) {
        assertThat(t.outputs()).containsExactly("out_a", "out_b");
        History h =
            t.fit(
                Map.of("x", x),
                Map.of("out_a", ya, "out_b", yb),
                Trainer.FitOptions.of(EPOCHS, BATCH));
        for (String key : List.of("loss", "out_a_loss", "out_b_loss")) {
          JsonNode wantLoss = want.history().path(key);
          assertThat(wantLoss.size()).as("tfjs history %s", key).isEqualTo(EPOCHS);
          for (int e = 0; e < EPOCHS; e++) {
            double b = wantLoss.get(e).asDouble();
            assertThat(h.get(key).get(e))
                .as("%s %s epoch %d", opt, key, e + 1)
                .isCloseTo(b, org.assertj.core.data.Offset.offset(1e-4 * Math.abs(b)));
          }
        }
        assertWeights(opt, t.weights(), want);
      }
    }
  }

  private static TfjsOracle.Input input(Tensor t) {
    return TfjsOracle.Input.f32(null, t.shape().dims(), t.toFloatArray());
  }

  private static double assertWeights(String what, Map<String, Tensor> got, TfjsFit.Result want) {
    assertThat(want.weights()).hasSameSizeAs(got.values());
    double worst = 0;
    for (TfjsOracle.Output w : want.weights()) {
      float[] a = got.get(w.name()).toFloatArray();
      float[] b = w.data();
      for (int k = 0; k < b.length; k++) {
        assertThat((double) a[k])
            .as("%s weight %s[%d]", what, w.name(), k)
            .isCloseTo(b[k], org.assertj.core.data.Offset.offset(1e-6 + 1e-4 * Math.abs(b[k])));
        worst = Math.max(worst, Math.abs(a[k] - b[k]) / Math.max(1e-3, Math.abs(b[k])));
      }
    }
    return worst;
  }

  private static List<Case> threeOptimizers() {
    return List.of(
        new Case("sgd", 0.1, Loss.CATEGORICAL_CROSSENTROPY, "categoricalCrossentropy"),
        new Case(
            "adam", 0.01, Loss.SPARSE_CATEGORICAL_CROSSENTROPY, "sparseCategoricalCrossentropy"),
        new Case("rmsprop", 0.01, Loss.MEAN_SQUARED_ERROR, "meanSquaredError"));
  }

  static Tensor targets(Loss loss) {
    if (loss == Loss.HUBER) {
      // Regression targets beyond ±1 from the softmax outputs, so both Huber branches are met.
      float[] v = TestModels.uniform(19, N, 3).toFloatArray();
      for (int i = 0; i < v.length; i++) {
        v[i] *= 3;
      }
      return Tensor.ofFloats(org.tfport.core.Shape.of(N, 3), v);
    }
    return loss.sparse()
        ? Tensor.ofFloats(
            org.tfport.core.Shape.of(N, 1), TestModels.classIds(N, 3, 1).toFloatArray())
        : TestModels.oneHot(N, 3, 1);
  }

  static void compare(Path h5, Path modelJson, Tensor x, List<Case> cases) {
    List<TfjsFit.Job> jobs = new ArrayList<>();
    for (Case c : cases) {
      Tensor y = targets(c.loss());
      jobs.add(
          TfjsFit.Job.of(
              modelJson,
              List.of(TfjsOracle.Input.f32(null, x.shape().dims(), x.toFloatArray())),
              TfjsOracle.Input.f32(null, y.shape().dims(), y.toFloatArray()),
              c.tfjsLoss(),
              c.optimizer(),
              c.lr(),
              c.optimizer().equals("momentum") ? 0.9 : 0,
              EPOCHS,
              BATCH));
    }
    List<TfjsFit.Result> expected = TfjsFit.fit(jobs);
    for (int i = 0; i < cases.size(); i++) {
      Case c = cases.get(i);
      TfjsFit.Result want = expected.get(i).orThrow();
      try (Trainer t =
          Trainer.open(
              h5, Trainer.Settings.of(c.optimizer(), c.loss().name()).withLearningRate(c.lr()))) {
        History h = t.fit(Map.of("x", x), targets(c.loss()), Trainer.FitOptions.of(EPOCHS, BATCH));
        JsonNode wantLoss = want.history().path("loss");
        assertThat(h.get("loss")).hasSize(EPOCHS);
        for (int e = 0; e < EPOCHS; e++) {
          assertThat(h.get("loss").get(e))
              .as("%s %s epoch %d loss", c.optimizer(), c.loss(), e + 1)
              .isCloseTo(
                  wantLoss.get(e).asDouble(),
                  org.assertj.core.data.Offset.offset(1e-4 * Math.abs(wantLoss.get(e).asDouble())));
        }
        assertThat(h.get("loss").get(EPOCHS - 1)).isLessThan(h.get("loss").get(0));
        double worst = assertWeights(c.optimizer() + " " + c.loss(), t.weights(), want);
        if (Boolean.getBoolean("tfport.train.report")) {
          System.err.printf(
              "%s %s losses %s (tfjs %s), worst weight rel. diff %.2e%n",
              c.optimizer(), c.loss(), h.get("loss"), wantLoss, worst);
        }
      }
    }
  }
}
