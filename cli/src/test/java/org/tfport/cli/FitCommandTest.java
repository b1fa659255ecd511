package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Json;
import org.tfport.core.Tensor;
import org.tfport.formats.keras.KerasModel;
import org.tfport.formats.npy.Npy;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfjsOracle;
import tools.jackson.databind.JsonNode;

/** {@code tfport fit}: training, both output formats, and refusals that write nothing. */
class FitCommandTest {
  static final int N = 12;

  @TempDir Path dir;

  private Path model;
  private Path xFile;
  private Path yFile;
  private float[] x;

  private void data(float scaleX) throws Exception {
    model = DemoModel.write(dir.resolve("m.h5"), "Dense");
    SplittableRandom r = new SplittableRandom(7);
    x = new float[N * DemoModel.IN];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (r.nextDouble() * 2 - 1) * scaleX;
    }
    float[] y = new float[N * DemoModel.OUT];
    for (int i = 0; i < N; i++) {
      y[i * DemoModel.OUT + i % DemoModel.OUT] = 1;
    }
    xFile = dir.resolve("x.npy");
    yFile = dir.resolve("y.npy");
    Npy.writeFloat32(xFile, new int[] {N, DemoModel.IN}, x);
    Npy.writeFloat32(yFile, new int[] {N, DemoModel.OUT}, y);
  }

  @Test
  @OracleTest
  void trainsAndTheTfjsModelPredictsAsTfportPredict() throws Exception {
    data(1);
    Path out = dir.resolve("trained");
    CliRunner r =
        CliRunner.run(
            "fit",
            model.toString(),
            "--x",
            xFile.toString(),
            "--y",
            yFile.toString(),
            "--epochs",
            "3",
            "--batch_size",
            "5",
            "--optimizer",
            "adam",
            "--learning_rate",
            "0.05",
            "--loss",
            "categorical_crossentropy",
            "--metrics",
            "accuracy",
            "--no_shuffle",
            "--output_format",
            "tfjs_layers_model",
            "--output",
            out.toString(),
            "--json");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.errLines())
        .hasSize(3)
        .allMatch(l -> l.matches("Epoch \\d/3 - .*loss: .*accuracy: .*"));
    JsonNode h = Json.MAPPER.readTree(r.out()).path("history");
    assertThat(h.path("loss")).hasSize(3);
    assertThat(h.path("loss").get(2).asDouble()).isLessThan(h.path("loss").get(0).asDouble());
    assertThat(h.path("categorical_accuracy")).hasSize(3);

    Path preds = dir.resolve("preds");
    CliRunner p =
        CliRunner.run(
            "predict",
            out.resolve("model.json").toString(),
            "--input",
            xFile.toString(),
            "--output_dir",
            preds.toString());
    assertThat(p.code()).as(p.err()).isZero();
    Path predFile;
    try (var s = Files.list(preds)) {
      predFile = s.findFirst().orElseThrow();
    }
    float[] ours = Npy.readTensor(predFile).toFloatArray();
    TfjsOracle.Output theirs =
        TfjsOracle.run(
                TfjsOracle.Job.layers(
                    out.resolve("model.json"),
                    TfjsOracle.Input.f32(null, new long[] {N, DemoModel.IN}, x)))
            .orThrow()
            .output(0);
    assertThat(ours).hasSize(theirs.data().length);
    for (int i = 0; i < ours.length; i++) {
      assertThat(ours[i]).isCloseTo(theirs.data()[i], org.assertj.core.data.Offset.offset(1e-5f));
    }
    // Trained, so no longer the file's predictions.
    double[] before = DemoModel.predict(x, N);
    double moved = 0;
    for (int i = 0; i < ours.length; i++) {
      moved = Math.max(moved, Math.abs(ours[i] - before[i]));
    }
    assertThat(moved).isGreaterThan(1e-3);
  }

  @Test
  void writesKerasH5WithTrainedWeights() throws Exception {
    data(1);
    Path out = dir.resolve("trained.h5");
    CliRunner r =
        CliRunner.run(
            "fit",
            model.toString(),
            "--x",
            "input=" + xFile,
            "--y",
            yFile.toString(),
            "--epochs",
            "2",
            "--batch_size",
            "4",
            "--optimizer",
            "sgd",
            "--loss",
            "mse",
            "--seed",
            "3",
            "--output",
            out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("Epoch 1/2").contains("Epoch 2/2").contains("wrote " + out);
    try (KerasModel m = KerasModel.open(out)) {
      Tensor k =
          m.layers().stream()
              .filter(l -> l.layerName().equals("dense_1"))
              .findFirst()
              .orElseThrow()
              .weights()
              .get(0)
              .data()
              .get();
      float[] was = DemoModel.values("dense_1/kernel", DemoModel.HIDDEN * DemoModel.OUT);
      assertThat(k.toFloatArray()).hasSize(was.length).isNotEqualTo(was);
      assertThat(m.modelConfig().path("class_name").asString()).isEqualTo("Sequential");
    }
  }

  @Test
  void writesKeras3WithTrainedWeights() throws Exception {
    data(1);
    Path out = dir.resolve("trained.keras");
    CliRunner r =
        CliRunner.run(
            "fit",
            model.toString(),
            "--x",
            xFile.toString(),
            "--y",
            yFile.toString(),
            "--epochs",
            "1",
            "--batch_size",
            "4",
            "--optimizer",
            "adam",
            "--loss",
            "mse",
            "--output_format",
            "keras_keras",
            "--output",
            out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    try (KerasModel m = KerasModel.open(out)) {
      Tensor k =
          m.layers().stream()
              .filter(l -> l.layerName().equals("dense_1"))
              .findFirst()
              .orElseThrow()
              .weights()
              .get(0)
              .data()
              .get();
      float[] was = DemoModel.values("dense_1/kernel", DemoModel.HIDDEN * DemoModel.OUT);
      assertThat(k.toFloatArray()).hasSize(was.length).isNotEqualTo(was);
    }
  }

  @Test
  void aShapeMismatchNamesTheInputAndWritesNothing() throws Exception {
    data(1);
    Path bad = dir.resolve("bad.npy");
    Npy.writeFloat32(bad, new int[] {N, 5}, new float[N * 5]);
    Path out = dir.resolve("never");
    CliRunner r =
        CliRunner.run(
            "fit",
            model.toString(),
            "--x",
            bad.toString(),
            "--y",
            yFile.toString(),
            "--loss",
            "mse",
            "--output",
            out.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.errLines()).hasSize(1);
    assertThat(r.err()).contains("input 'input'").contains("(None, 4)").contains("(12, 5)");
    assertThat(out).doesNotExist();
    try (var s = Files.list(dir)) {
      assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(".never"));
    }
  }

  @Test
  void aNanLossNamesTheEpochAndBatchAndWritesNothing() throws Exception {
    data(Float.NaN);
    Path out = dir.resolve("never.h5");
    CliRunner r =
        CliRunner.run(
            "fit",
            model.toString(),
            "--x",
            xFile.toString(),
            "--y",
            yFile.toString(),
            "--loss",
            "categorical_crossentropy",
            "--batch_size",
            "4",
            "--no_shuffle",
            "--output",
            out.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.errLines()).hasSize(1);
    assertThat(r.err()).contains("epoch 1, batch 1").contains("NaN");
    assertThat(out).doesNotExist();
  }

  @Test
  void usageErrorsExitTwo() throws Exception {
    data(1);
    assertThat(
            CliRunner.run("fit", model.toString(), "--x", xFile.toString(), "--output", "o").code())
        .isEqualTo(2);
    assertThat(
            CliRunner.run(
                    "fit",
                    model.toString(),
                    "--x",
                    xFile.toString(),
                    "--y",
                    yFile.toString(),
                    "--loss",
                    "nope",
                    "--output",
                    dir.resolve("o").toString())
                .code())
        .isEqualTo(2);
    assertThat(
            CliRunner.run(
                    "fit",
                    model.toString(),
                    "--x",
                    xFile.toString(),
                    "--y",
                    yFile.toString(),
                    "--loss",
                    "mse",
                    "--output_format",
                    "tfjs_graph_model",
                    "--output",
                    "o")
                .code())
        .isEqualTo(2);
  }

  /** Targets per output by name; the history logs each output's loss, the total their sum. */
  @Test
  void trainsAModelOfTwoOutputsFromNamedTargets() throws Exception {
    data(1);
    Path two = DemoModel.writeTwoOutputs(dir.resolve("two.h5"));
    Path yb = dir.resolve("yb.npy");
    float[] v = new float[N * 2];
    for (int i = 0; i < v.length; i++) {
      v[i] = (i % 5) * 0.25f - 0.5f;
    }
    Npy.writeFloat32(yb, new int[] {N, 2}, v);
    Path out = dir.resolve("two_trained.h5");
    CliRunner unnamed =
        CliRunner.run(
            "fit",
            two.toString(),
            "--x",
            xFile.toString(),
            "--y",
            yFile.toString(),
            "--loss",
            "mse",
            "--output",
            out.toString());
    assertThat(unnamed.code()).isEqualTo(2);
    assertThat(unnamed.err())
        .contains("the model has 2 outputs; name the data of each: [dense_1, dense_2]");
    assertThat(out).doesNotExist();
    CliRunner r =
        CliRunner.run(
            "fit",
            two.toString(),
            "--x",
            xFile.toString(),
            "--y",
            "dense_1=" + yFile,
            "--y",
            "dense_2=" + yb,
            "--epochs",
            "2",
            "--batch_size",
            "4",
            "--optimizer",
            "sgd",
            "--loss",
            "mse",
            "--no_shuffle",
            "--output",
            out.toString(),
            "--json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode h = Json.MAPPER.readTree(r.out()).path("history");
    for (int e = 0; e < 2; e++) {
      assertThat(h.path("loss").get(e).asDouble())
          .isCloseTo(
              h.path("dense_1_loss").get(e).asDouble() + h.path("dense_2_loss").get(e).asDouble(),
              org.assertj.core.data.Offset.offset(1e-6));
    }
    assertThat(h.path("loss").get(1).asDouble()).isLessThan(h.path("loss").get(0).asDouble());
    try (KerasModel m = KerasModel.open(out)) {
      Tensor k =
          m.layers().stream()
              .filter(l -> l.layerName().equals("dense_2"))
              .findFirst()
              .orElseThrow()
              .weights()
              .get(0)
              .data()
              .get();
      assertThat(k.toFloatArray())
          .hasSize(DemoModel.HIDDEN * 2)
          .isNotEqualTo(DemoModel.values("dense_2/kernel", DemoModel.HIDDEN * 2));
    }
  }

  /**
   * {@code --loss NAME=LOSS} per output, as TF.js fits with one loss per output: a softmax output
   * under cross-entropy and a linear one under mean squared error, history and weights compared
   * with TF.js 4.22 over 2 unshuffled epochs; an unknown output name is a usage error naming it.
   */
  @Test
  @OracleTest
  void perOutputLossesByNameTrainAsInTfjs() throws Exception {
    data(1);
    Path two = DemoModel.writeTwoOutputs(dir.resolve("two.h5"));
    Path yb = dir.resolve("yb.npy");
    float[] v = new float[N * 2];
    for (int i = 0; i < v.length; i++) {
      v[i] = (i % 5) * 0.25f - 0.5f;
    }
    Npy.writeFloat32(yb, new int[] {N, 2}, v);
    CliRunner unknown =
        CliRunner.run(
            "fit",
            two.toString(),
            "--x",
            xFile.toString(),
            "--y",
            "dense_1=" + yFile,
            "--y",
            "dense_2=" + yb,
            "--loss",
            "dense_9=mse",
            "--output",
            dir.resolve("never.h5").toString());
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.errLines()).hasSize(1);
    assertThat(unknown.err()).contains("no output 'dense_9'").contains("[dense_1, dense_2]");
    assertThat(dir.resolve("never.h5")).doesNotExist();

    Path out = dir.resolve("per_output.h5");
    CliRunner r =
        CliRunner.run(
            "fit",
            two.toString(),
            "--x",
            xFile.toString(),
            "--y",
            "dense_1=" + yFile,
            "--y",
            "dense_2=" + yb,
            "--epochs",
            "2",
            "--batch_size",
            "4",
            "--optimizer",
            "sgd",
            "--learning_rate",
            "0.1",
            "--loss",
            "dense_1=categorical_crossentropy",
            "--loss",
            "dense_2=mse",
            "--no_shuffle",
            "--output",
            out.toString(),
            "--json");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode h = Json.MAPPER.readTree(r.out()).path("history");

    Path tfjs = dir.resolve("two_tfjs");
    org.tfport.convert.Converter.from(two)
        .to(org.tfport.formats.ModelFormat.TFJS_LAYERS_MODEL)
        .convert(tfjs);
    float[] ya = Npy.readTensor(yFile).toFloatArray();
    org.tfport.testkit.TfjsFit.Result want =
        org.tfport.testkit.TfjsFit.fit(
                java.util.List.of(
                    new org.tfport.testkit.TfjsFit.Job(
                        tfjs.resolve("model.json"),
                        java.util.List.of(
                            TfjsOracle.Input.f32(null, new long[] {N, DemoModel.IN}, x)),
                        java.util.List.of(
                            TfjsOracle.Input.f32(null, new long[] {N, DemoModel.OUT}, ya),
                            TfjsOracle.Input.f32(null, new long[] {N, 2}, v)),
                        java.util.List.of("categoricalCrossentropy", "meanSquaredError"),
                        null,
                        "sgd",
                        0.1,
                        0,
                        false,
                        2,
                        4,
                        java.util.List.of())))
            .get(0)
            .orThrow();
    for (String key : java.util.List.of("loss", "dense_1_loss", "dense_2_loss")) {
      for (int e = 0; e < 2; e++) {
        double b = want.history().path(key).get(e).asDouble();
        assertThat(h.path(key).get(e).asDouble())
            .as("%s epoch %d", key, e + 1)
            .isCloseTo(b, org.assertj.core.data.Offset.offset(1e-4 * Math.abs(b)));
      }
    }
    try (KerasModel m = KerasModel.open(out)) {
      for (TfjsOracle.Output w : want.weights()) {
        String layer = w.name().substring(0, w.name().indexOf('/'));
        float[] got =
            m.layers().stream()
                .filter(l -> l.layerName().equals(layer))
                .findFirst()
                .orElseThrow()
                .weights()
                .stream()
                .filter(k -> k.name().contains(w.name().substring(layer.length())))
                .findFirst()
                .orElseThrow()
                .data()
                .get()
                .toFloatArray();
        float[] b = w.data();
        assertThat(got).as(w.name()).hasSize(b.length);
        for (int k = 0; k < b.length; k++) {
          assertThat((double) got[k])
              .as("%s[%d]", w.name(), k)
              .isCloseTo(b[k], org.assertj.core.data.Offset.offset(1e-6 + 1e-4 * Math.abs(b[k])));
        }
      }
    }
  }
}
