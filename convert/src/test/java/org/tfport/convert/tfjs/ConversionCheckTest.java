package org.tfport.convert.tfjs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.ConversionCheck;
import org.tfport.convert.ConversionCheck.OutputCheck;
import org.tfport.convert.ConversionCheck.Precision;
import org.tfport.convert.ConversionCheck.Report;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.convert.TfliteQuantizationMode;
import org.tfport.convert.tflite.TfjsGraphToTflite;
import org.tfport.convert.tflite.TfliteConverter;
import org.tfport.convert.tflite.TfliteOptions;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.ProgressListener;
import org.tfport.formats.npy.Npy;
import org.tfport.formats.tfjs.QuantizationMap;
import org.tfport.graph.GraphOptions;
import org.tfport.runtime.LoadOptions;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import tools.jackson.databind.JsonNode;

/**
 * {@link ConversionCheck} (what {@code --verify} runs) on SavedModels built with TF Java ({@link
 * BuiltSavedModelTest}'s CNN and three-output model) converted to a TF.js graph model (float32,
 * float16, uint8) and to {@code .tflite} (float32, float16, dynamic-range int8), on corpus models
 * converted to {@code .tflite}, on a full-integer file, and on an output whose weight file was
 * damaged after the conversion. An oracle test only in that TF Java builds the SavedModels.
 */
@OracleTest
class ConversionCheckTest {
  @TempDir static Path tmp;
  static Path cnn;
  static Path multiIo;
  static Path wide;

  @BeforeAll
  static void export() throws Exception {
    cnn = BuiltSavedModelTest.export(BuiltSavedModelTest.MODELS.get(0), tmp.resolve("cnn"));
    multiIo =
        BuiltSavedModelTest.export(BuiltSavedModelTest.MODELS.get(2), tmp.resolve("multi_io"));
    // A kernel of 2048 values: TFLite's dynamic range quantizes only weights of 1024 values or
    // more.
    wide =
        BuiltSavedModelTest.export(
            new BuiltSavedModelTest.Model(
                "wide",
                Map.of("x", new long[] {2, 64}),
                b -> Map.of("y", b.tf.nn.relu(b.dense(b.inputs.get("x"), 64, 32)))),
            tmp.resolve("wide"));
  }

  record Case(String name, Path output, Precision precision) {}

  @Test
  void conversionsOfBuiltSavedModelsPassWithTheirTolerances() {
    List<String> lines = new ArrayList<>();
    Map<Precision, Double> worst = new LinkedHashMap<>();
    for (Path saved : List.of(cnn, multiIo, wide)) {
      String m = saved.getFileName().toString();
      List<Case> cases =
          List.of(
              new Case("tfjs", tfjs(saved, m + "_tfjs", QuantizationMap.NONE), Precision.FLOAT32),
              new Case(
                  "tfjs float16",
                  tfjs(saved, m + "_tfjs16", QuantizationMap.all(DType.FLOAT16)),
                  Precision.FLOAT16),
              new Case(
                  "tfjs uint8",
                  tfjs(saved, m + "_tfjs8", QuantizationMap.all(DType.UINT8)),
                  Precision.WEIGHTS_8BIT),
              new Case(
                  "tflite",
                  tflite(saved, m + ".tflite", TfliteQuantizationMode.NONE),
                  Precision.FLOAT32),
              new Case(
                  "tflite float16",
                  tflite(saved, m + "16.tflite", TfliteQuantizationMode.FLOAT16),
                  Precision.FLOAT16),
              new Case(
                  "tflite dynamic-range",
                  tflite(saved, m + "dr.tflite", TfliteQuantizationMode.DYNAMIC_RANGE),
                  Precision.WEIGHTS_8BIT));
      List<String> names =
          switch (m) {
            case "cnn" -> List.of("probabilities");
            case "wide" -> List.of("y");
            default -> List.of("hidden", "scaled", "total");
          };
      for (Case c : cases) {
        Report r = ConversionCheck.run(saved, LoadOptions.defaults(), c.output(), c.precision());
        assertThat(r.notes()).as(m + " " + c.name()).noneMatch(n -> n.contains("cannot run"));
        assertThat(r.outputs())
            .as(m + " " + c.name())
            .extracting(OutputCheck::name)
            .containsExactlyInAnyOrderElementsOf(names);
        for (OutputCheck o : r.outputs()) {
          lines.add(m + " -> " + c.name() + ": " + o.line());
          worst.merge(c.precision(), o.maxDiff(), Math::max);
          assertThat(o.ok()).as(o.line()).isTrue();
          if ((c.name().equals("tfjs uint8")
                  || m.equals("wide") && c.precision() != Precision.FLOAT32)
              && !o.name().equals("total")) {
            // The weights were rounded: a check that saw no difference would not have run the
            // output's weights.
            // (TFLite's dynamic range leaves weights under 1024 values in float: only 'wide' is
            // quantized.)
            assertThat(o.maxDiff()).as(o.line()).isGreaterThan(1e-5);
          }
        }
        assertThat(r.passed()).isTrue();
        assertThat(r.compared()).isTrue();
      }
    }
    System.out.println(
        "ConversionCheck on built SavedModels (worst per precision "
            + worst
            + "):\n  "
            + String.join("\n  ", lines));
  }

  @Test
  void damagedWeightFailsTheOutputItFeeds() throws Exception {
    Path out = tfjs(multiIo, "damaged_tfjs", QuantizationMap.NONE);
    Report before = ConversionCheck.run(multiIo, LoadOptions.defaults(), out, Precision.FLOAT32);
    assertThat(before.passed()).isTrue();
    damage(out, "scale");
    Report r = ConversionCheck.run(multiIo, LoadOptions.defaults(), out, Precision.FLOAT32);
    System.out.println(
        "damaged 'scale' weight: " + r.outputs().stream().map(OutputCheck::line).toList());
    assertThat(r.compared()).isTrue();
    assertThat(r.passed()).isFalse();
    Map<String, OutputCheck> by = new LinkedHashMap<>();
    r.outputs().forEach(o -> by.put(o.name(), o));
    assertThat(by.get("scaled").ok()).isFalse();
    // 'scaled' = a * scale, |a| < 1, and each scale value moved by 0.5.
    assertThat(by.get("scaled").maxDiff()).isBetween(1e-3, 0.5);
    assertThat(by.get("scaled").line())
        .startsWith("scaled max|a-b| = ")
        .contains("BEYOND TOLERANCE");
    assertThat(by.get("total").ok()).isTrue();
    assertThat(by.get("hidden").ok()).isTrue();
  }

  @Test
  void fullIntegerFileIsComparedOrNamedAsNotRunnable() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("representative"));
    Random rnd = new Random(3);
    for (int i = 0; i < 4; i++) {
      float[] v = new float[8 * 8 * 3];
      for (int k = 0; k < v.length; k++) {
        v[k] = rnd.nextFloat() * 2 - 1;
      }
      Npy.writeFloat32(data.resolve("s" + i + ".npy"), new int[] {1, 8, 8, 3}, v);
    }
    Path out = tmp.resolve("cnn_int8.tflite");
    TfliteConverter.convertSavedModel(
        cnn,
        out,
        GraphOptions.defaults(),
        List.of(),
        false,
        TfliteOptions.defaults().withFullInteger(TfliteQuantizationMode.INT8, data, null, null));
    Report r = ConversionCheck.run(cnn, LoadOptions.defaults(), out, Precision.FULL_INTEGER);
    System.out.println(
        "full int8: " + r.outputs().stream().map(OutputCheck::line).toList() + " " + r.notes());
    if (r.compared()) {
      // Once the runtime has integer kernels: within 2 steps of the final DEQUANTIZE's input.
      assertThat(r.outputs().get(0).tolerance().label()).contains("2 output steps");
      assertThat(r.passed()).isTrue();
    } else {
      assertThat(r.notes()).hasSize(1);
      assertThat(r.notes().get(0))
          .startsWith("output cannot run in tfport: ")
          .contains(out.toString())
          .doesNotContain("\n");
    }
  }

  @Test
  void graphModelToTflite() {
    Path json = tfjs(multiIo, "multi_io_graph", QuantizationMap.NONE).resolve("model.json");
    Path out = tmp.resolve("multi_io_graph.tflite");
    TfjsGraphToTflite.convert(json, out, TfliteOptions.defaults());
    Report r = ConversionCheck.run(json, LoadOptions.defaults(), out, Precision.FLOAT32);
    System.out.println(
        "TF.js graph -> tflite: "
            + r.outputs().stream().map(OutputCheck::line).toList()
            + " "
            + r.notes());
    assertThat(r.outputs())
        .extracting(OutputCheck::name)
        .containsExactlyInAnyOrder("hidden", "scaled", "total");
    assertThat(r.passed()).isTrue();
  }

  @Test
  void corpusSavedModelsToTflite() {
    for (String name :
        List.of("tfjs-node_model_multi_output", "serving_saved_model_half_plus_two_tf2_cpu")) {
      Path saved = Corpus.require("savedmodel/" + name);
      Path out = tmp.resolve(name + ".tflite");
      TfliteConverter.convertSavedModel(
          saved, out, GraphOptions.defaults(), List.of(), false, TfliteOptions.defaults());
      Report r = ConversionCheck.run(saved, LoadOptions.defaults(), out, Precision.FLOAT32);
      System.out.println(
          "corpus SavedModel "
              + name
              + " -> tflite: "
              + r.outputs().stream().map(OutputCheck::line).toList()
              + " "
              + r.notes());
      assertThat(r.compared()).as(r.notes().toString()).isTrue();
      assertThat(r.passed()).isTrue();
    }
  }

  @Test
  void corpusGraphModelToTflite() {
    Path json = Corpus.require("tfjs/graph/tfjs-e2e_graph_model/model.json");
    Path out = tmp.resolve("corpus_graph.tflite");
    TfjsGraphToTflite.convert(json, out, TfliteOptions.defaults());
    Report r = ConversionCheck.run(json, LoadOptions.defaults(), out, Precision.FLOAT32);
    System.out.println(
        "corpus TF.js graph -> tflite: "
            + r.outputs().stream().map(OutputCheck::line).toList()
            + " "
            + r.notes());
    assertThat(r.compared()).as(r.notes().toString()).isTrue();
    assertThat(r.passed()).isTrue();
  }

  static Path tfjs(Path saved, String name, QuantizationMap q) {
    Path out = tmp.resolve(name);
    TfGraphToTfjs.convertSavedModel(
        saved,
        out,
        GraphOptions.defaults(),
        TfjsOutputOptions.builder().quantization(q).build(),
        ProgressListener.NONE);
    return out;
  }

  static Path tflite(Path saved, String name, TfliteQuantizationMode q) {
    Path out = tmp.resolve(name);
    TfliteConverter.convertSavedModel(
        saved,
        out,
        GraphOptions.defaults(),
        List.of(),
        false,
        TfliteOptions.defaults().withQuantization(q));
    return out;
  }

  /**
   * Adds 0.5 to every value of the float32 weight named {@code weight} in a one-shard TF.js model.
   */
  static void damage(Path tfjsDir, String weight) throws Exception {
    JsonNode group =
        Json.MAPPER.readTree(tfjsDir.resolve("model.json").toFile()).path("weightsManifest").get(0);
    assertThat(group.path("paths").size()).isEqualTo(1);
    long offset = 0;
    for (JsonNode w : group.path("weights")) {
      long n = 1;
      for (JsonNode d : w.path("shape")) {
        n *= d.asLong();
      }
      assertThat(w.path("dtype").asString()).isIn("float32", "int32");
      if (w.path("name").asString().equals(weight)) {
        Path bin = tfjsDir.resolve(group.path("paths").get(0).asString());
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(bin)).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < n; i++) {
          int at = (int) (offset + 4 * i);
          b.putFloat(at, b.getFloat(at) + 0.5f);
        }
        Files.write(bin, b.array());
        return;
      }
      offset += 4 * n;
    }
    throw new AssertionError("no weight '" + weight + "' in " + group);
  }
}
