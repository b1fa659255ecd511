package org.tfport.convert.tfjs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.Converter;
import org.tfport.formats.ModelFormat;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfliteOracle;

/**
 * The corpus jax2tf SavedModel ({@code XlaCallModule} v6 whose StableHLO calls back a TensorFlow
 * function) converted through the ordinary {@code tf_saved_model} path to a TF.js graph model and
 * to {@code .tflite}: TF.js 4.22 and TFLite 2.18 give the outputs JAX recorded, cos(sin(x)).
 */
@OracleTest
class Jax2TfOracleTest {
  @TempDir Path tmp;

  private static final float[] INPUT = {0.5f, 0.7f};

  /** {@code testdata_meta.json}'s expected_outputs. */
  private static final float[] EXPECTED = {0.88726f, 0.79956985f};

  @Test
  void savedModelRunsInTfjsAndTflite() throws Exception {
    Path sm = Corpus.require("jax/jax2tf_call_tf_savedmodel/saved_model");
    Path js = tmp.resolve("tfjs");
    Converter.from(sm, ModelFormat.TF_SAVED_MODEL).to(ModelFormat.TFJS_GRAPH_MODEL).convert(js);
    List<String> inputs = new ArrayList<>();
    E2e.modelJson(js)
        .path("signature")
        .path("inputs")
        .properties()
        .forEach(e -> inputs.add(e.getValue().path("name").stringValue()));
    assertThat(inputs).hasSize(1);
    TfjsOracle.Result r =
        TfjsOracle.run(
                TfjsOracle.Job.graph(
                    js.resolve("model.json"),
                    List.of(TfjsOracle.Input.f32(inputs.get(0), new long[] {2}, INPUT)),
                    E2e.outputNames(js)))
            .orThrow();
    Comparison cj = Comparison.of(EXPECTED, r.output(0).data(), 1e-6, 1e-5);

    Path tfl = tmp.resolve("model.tflite");
    Converter.from(sm, ModelFormat.TF_SAVED_MODEL).to(ModelFormat.TFLITE).convert(tfl);
    List<TfliteOracle.Tensor> got =
        TfliteOracle.run(tfl, List.of(TfliteOracle.Tensor.f32(new int[] {2}, INPUT)));
    Comparison ct = Comparison.of(EXPECTED, got.get(0).floats(), 1e-6, 1e-5);
    System.out.printf(
        "jax2tf SavedModel: tfjs max|d|=%.2g tflite max|d|=%.2g%n", cj.maxAbs(), ct.maxAbs());
    assertThat(cj.ok()).as("TF.js: " + cj).isTrue();
    assertThat(ct.ok()).as("TFLite: " + ct).isTrue();
  }
}
