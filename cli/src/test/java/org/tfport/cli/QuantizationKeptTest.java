package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Tensor;
import org.tfport.formats.tfjs.TfjsModel;
import org.tfport.formats.tfjs.TfjsReader;
import org.tfport.formats.tfjs.WeightGroup;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.IntegrationTest;

/**
 * Issue 15, point 8: re-sharding a quantized TF.js model keeps its stored bytes unless a new
 * quantization is asked for, and dynamic-range TFLite quantization says when it quantized nothing.
 */
@IntegrationTest
class QuantizationKeptTest {
  @TempDir Path tmp;

  @Test
  void reshardingAPublishedUint8ModelKeepsItsBytes() throws IOException {
    Path json = Corpus.require("tfjs/layers/nsfwjs_mobilenet_v2/model.json");
    Path out = tmp.resolve("resharded");
    CliRunner r =
        CliRunner.run(
            "convert",
            "--input_format=tfjs_layers_model",
            "--output_format=tfjs_layers_model",
            "--weight_shard_size_bytes=1048576",
            json.toString(),
            out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("quantized weights kept as stored");
    // Same bytes in other shards: the shard files concatenate to the original one.
    assertThat(weightBytes(out))
        .isEqualTo(Files.readAllBytes(json.resolveSibling("group1-shard1of1")));
    assertThat(shards(out)).isEqualTo(3);
    TfjsModel a = TfjsReader.read(json);
    TfjsModel b = TfjsReader.read(out.resolve("model.json"));
    assertSameWeights(a, b);

    // A new quantization is applied instead: float16 from the dequantized values.
    Path f16 = tmp.resolve("f16");
    CliRunner q =
        CliRunner.run(
            "convert",
            "--input_format=tfjs_layers_model",
            "--output_format=tfjs_layers_model",
            "--quantize_float16",
            json.toString(),
            f16.toString());
    assertThat(q.code()).as(q.err()).isZero();
    assertThat(q.err()).doesNotContain("kept as stored");
    for (WeightGroup g : TfjsReader.read(f16.resolve("model.json")).groups()) {
      for (WeightGroup.Weight w : g.weights()) {
        assertThat(w.spec().quantization().dtype().jsName()).isEqualTo("float16");
      }
    }
  }

  @Test
  void reshardingAFloat16ModelKeepsItsBytesAndValues() throws IOException {
    Path h5 = DemoModel.write(tmp.resolve("demo.h5"), "Dense");
    Path f16 = tmp.resolve("f16");
    assertThat(
            CliRunner.run(
                    "convert",
                    "--output_format=tfjs_layers_model",
                    "--quantize_float16",
                    h5.toString(),
                    f16.toString())
                .code())
        .isZero();
    Path again = tmp.resolve("again");
    CliRunner r =
        CliRunner.run(
            "convert",
            "--input_format=tfjs_layers_model",
            f16.resolve("model.json").toString(),
            again.toString(),
            "--output_format=tfjs_layers_model");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("4 quantized weights kept as stored");
    assertThat(weightBytes(again)).isEqualTo(weightBytes(f16));
    assertSameWeights(
        TfjsReader.read(f16.resolve("model.json")), TfjsReader.read(again.resolve("model.json")));
  }

  @Test
  void dynamicRangeThatQuantizesNothingSaysSo() {
    Path sm = Corpus.require("savedmodel/serving_saved_model_half_plus_two_tf2_cpu");
    Path out = tmp.resolve("h.tflite");
    CliRunner r =
        CliRunner.run(
            "tflite_convert",
            "--saved_model_dir",
            sm.toString(),
            "--output_file",
            out.toString(),
            "--post_training_quantize");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err())
        .contains("tfport: note: dynamic-range quantization quantized no weight")
        .contains("1,024 elements");
  }

  private static void assertSameWeights(TfjsModel a, TfjsModel b) {
    Map<String, Tensor> wa = a.weightsByName();
    Map<String, Tensor> wb = b.weightsByName();
    assertThat(wb.keySet()).containsExactlyElementsOf(wa.keySet());
    for (String k : wa.keySet()) {
      assertThat(wb.get(k).bytes()).as(k).isEqualTo(wa.get(k).bytes());
    }
    Map<String, Object> qa = new java.util.LinkedHashMap<>();
    Map<String, Object> qb = new java.util.LinkedHashMap<>();
    a.groups()
        .forEach(g -> g.weights().forEach(w -> qa.put(w.spec().name(), w.spec().quantization())));
    b.groups()
        .forEach(g -> g.weights().forEach(w -> qb.put(w.spec().name(), w.spec().quantization())));
    assertThat(qb).isEqualTo(qa);
  }

  /** The weight shards of a model folder, concatenated in name order. */
  private static byte[] weightBytes(Path dir) throws IOException {
    java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p :
          s.filter(p -> !p.getFileName().toString().equals("model.json")).sorted().toList()) {
        all.write(Files.readAllBytes(p));
      }
    }
    return all.toByteArray();
  }

  private static long shards(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith("of3.bin")).count();
    }
  }
}
