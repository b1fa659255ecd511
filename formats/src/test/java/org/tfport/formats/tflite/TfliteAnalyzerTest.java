package org.tfport.formats.tflite;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tfport.core.Json;
import org.tfport.testkit.Corpus;
import tools.jackson.databind.JsonNode;

class TfliteAnalyzerTest {

  private static long estimate(TfliteAnalysis a, String mode) {
    return a.estimates().stream()
        .filter(e -> e.mode().equals(mode))
        .findFirst()
        .orElseThrow()
        .bytes();
  }

  @Test
  void floatMobileNet() {
    Path p = Corpus.require("tflite/tflite-support/mobilenet_v1_0.25_224_1_default_1.tflite");
    TfliteAnalysis a = TfliteAnalyzer.analyze(p);
    System.out.print(a.toText());
    assertThat(a.builtinOps())
        .containsEntry("CONV_2D", 15)
        .containsEntry("DEPTHWISE_CONV_2D", 13)
        .containsEntry("AVERAGE_POOL_2D", 1)
        .containsEntry("SOFTMAX", 1)
        .containsEntry("SQUEEZE", 1);
    assertThat(a.builtinOps().keySet().iterator().next()).isEqualTo("CONV_2D");
    assertThat(a.customOps()).isEmpty();
    assertThat(a.flexOps()).isEmpty();
    assertThat(a.constants()).containsOnlyKeys("FLOAT32");
    long f32 = a.constants().get("FLOAT32").bytes();
    assertThat(a.parameters()).isGreaterThan(400_000);
    assertThat(estimate(a, "current")).isEqualTo(a.fileBytes());
    assertThat(estimate(a, "float16")).isEqualTo(a.fileBytes() - f32 / 2);
    // Conv/FC weights are most of MobileNet: dynamic range is close to a quarter of the float
    // constants.
    assertThat(estimate(a, "dynamic_range_int8"))
        .isLessThan(a.fileBytes() - f32 / 2)
        .isGreaterThan(a.fileBytes() - f32);
    assertThat(estimate(a, "full_int8")).isLessThanOrEqualTo(estimate(a, "dynamic_range_int8"));
    assertThat(estimate(a, "int16x8")).isGreaterThanOrEqualTo(estimate(a, "full_int8"));
    assertThat(a.inputs())
        .singleElement()
        .satisfies(io -> assertThat(io.shape()).containsExactly(1, 224, 224, 3));

    JsonNode j = Json.MAPPER.readTree(a.toJson().toString());
    assertThat(j.at("/ops/builtin/CONV_2D").asInt()).isEqualTo(15);
    assertThat(j.at("/constants/byType/FLOAT32/bytes").asLong()).isEqualTo(f32);
    assertThat(j.at("/estimates/1/mode").asString()).isEqualTo("float16");
  }

  @Test
  void quantizedModelGainsNothing() {
    TfliteAnalysis a =
        TfliteAnalyzer.analyze(
            Corpus.require("tflite/tflite-support/mobilenet_v1_0.25_224_quant.tflite"));
    assertThat(a.constants()).doesNotContainKey("FLOAT32");
    assertThat(estimate(a, "float16")).isEqualTo(a.fileBytes());
    assertThat(estimate(a, "full_int8")).isEqualTo(a.fileBytes());
    assertThat(a.metadataName()).isEqualTo("MobileNetV1 image classifier (quantized)");
  }

  @Test
  void customAndFlexOpsAreCountedApart() {
    TfliteAnalysis flex =
        TfliteAnalyzer.analyze(
            Corpus.require("tflite/tflite-support/sentencepiece_tokenizer_flex_op.tflite"));
    assertThat(flex.flexOps())
        .containsKeys("SentencepieceOp", "SentencepieceTokenizeOp", "RaggedTensorToTensor");
    assertThat(flex.customOps()).isEmpty();
    TfliteAnalysis ssd =
        TfliteAnalyzer.analyze(
            Corpus.require(
                "tflite/tflite-support/coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite"));
    assertThat(ssd.customOps()).isEqualTo(Map.of("TFLite_Detection_PostProcess", 1));
    assertThat(ssd.toText()).contains("TFLite_Detection_PostProcess").contains("(custom)");
  }

  @Test
  void analyzesEveryReadableCorpusModel() {
    for (Path p : TfliteFiles.readable()) {
      TfliteAnalysis a = TfliteAnalyzer.analyze(p);
      assertThat(a.toText()).isNotEmpty();
      assertThat(a.toJson().get("operators").asInt()).isEqualTo(a.operators());
      System.out.printf(
          "  %-70s %3d ops %2d types %,12d B -> fp16 %,12d B, int8 %,12d B%n",
          TfliteFiles.rel(p),
          a.operators(),
          a.opTypes(),
          a.fileBytes(),
          estimate(a, "float16"),
          estimate(a, "full_int8"));
    }
  }
}
