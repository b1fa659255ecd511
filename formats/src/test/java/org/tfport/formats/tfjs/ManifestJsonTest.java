package org.tfport.formats.tfjs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.Shape;
import org.tfport.core.TfportException.CorruptModelException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** Weight entries and the model.json envelope: exact key order on write, tolerance on read. */
class ManifestJsonTest {

  @Test
  void weightSpecKeysAreInTheConvertersOrder() {
    WeightSpec s =
        new WeightSpec(
            "conv/kernel",
            Shape.of(3, 3, 1, 8),
            DType.FLOAT32,
            Quantization.affine(DType.UINT8, -0.5, 0.01),
            "model");
    assertThat(Json.MAPPER.writeValueAsString(s.toJson()))
        .isEqualTo(
            "{\"name\":\"conv/kernel\",\"shape\":[3,3,1,8],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"uint8\","
                + "\"min\":-0.5,\"scale\":0.01,\"original_dtype\":\"float32\"},\"group\":\"model\"}");
  }

  @Test
  void minAndScaleAreWrittenToFullPrecision() {
    double min = 0.1 + 0.2;
    double scale = 1.0 / 3;
    WeightSpec s =
        new WeightSpec(
            "w", Shape.SCALAR, DType.FLOAT32, Quantization.affine(DType.UINT16, min, scale), null);
    String json = Json.MAPPER.writeValueAsString(s.toJson());
    assertThat(json)
        .contains("0.30000000000000004")
        .contains("0.3333333333333333")
        .doesNotContain("group");
    assertThat(json).contains("\"shape\":[]");
    WeightSpec back = WeightSpec.fromJson(Json.MAPPER.readTree(json));
    assertThat(back).isEqualTo(s);
  }

  @Test
  void float16HasNoMinOrScale() {
    WeightSpec s = new WeightSpec("w", Shape.of(2), DType.FLOAT32, Quantization.float16(), null);
    assertThat(Json.MAPPER.writeValueAsString(s.toJson()))
        .isEqualTo(
            "{\"name\":\"w\",\"shape\":[2],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"float16\","
                + "\"original_dtype\":\"float32\"}}");
  }

  @Test
  void readsOldAndForeignKeyOrders() {
    // face-api writes scale before min and no original_dtype; the 0.x converter put dtype first.
    JsonNode n =
        Json.MAPPER.readTree(
            "{\"dtype\":\"float32\",\"shape\":[2,1],\"quantization\":{\"dtype\":\"uint8\","
                + "\"scale\":0.25,\"min\":-1},\"name\":\"a\",\"extra\":1}");
    WeightSpec s = WeightSpec.fromJson(n);
    assertThat(s.name()).isEqualTo("a");
    assertThat(s.shape()).isEqualTo(Shape.of(2, 1));
    assertThat(s.quantization()).isEqualTo(new Quantization(DType.UINT8, -1.0, 0.25, null));
    assertThat(s.storedByteLength()).isEqualTo(2);
  }

  @Test
  void badEntriesAreReportedByWeightName() {
    assertThatThrownBy(
            () ->
                WeightSpec.fromJson(
                    Json.MAPPER.readTree("{\"name\":\"w\",\"shape\":[2],\"dtype\":\"float99\"}")))
        .isInstanceOf(CorruptModelException.class)
        .hasMessageContaining("'w'")
        .hasMessageContaining("float99");
    assertThatThrownBy(
            () ->
                WeightSpec.fromJson(
                    Json.MAPPER.readTree("{\"name\":\"w\",\"shape\":[-1],\"dtype\":\"float32\"}")))
        .isInstanceOf(CorruptModelException.class)
        .hasMessageContaining("non-negative");
    assertThatThrownBy(
            () ->
                WeightSpec.fromJson(
                    Json.MAPPER.readTree("{\"name\":\"w\",\"shape\":[1.5],\"dtype\":\"float32\"}")))
        .isInstanceOf(CorruptModelException.class);
    assertThatThrownBy(
            () ->
                WeightSpec.fromJson(
                    Json.MAPPER.readTree("{\"name\":\"w\",\"shape\":\"2\",\"dtype\":\"float32\"}")))
        .isInstanceOf(CorruptModelException.class)
        .hasMessageContaining("shape");
    assertThatThrownBy(
            () ->
                WeightSpec.fromJson(Json.MAPPER.readTree("{\"shape\":[2],\"dtype\":\"float32\"}")))
        .isInstanceOf(CorruptModelException.class)
        .hasMessageContaining("name");
    assertThatThrownBy(
            () ->
                WeightSpec.fromJson(
                    Json.MAPPER.readTree(
                        "{\"name\":\"w\",\"shape\":[2],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"int8\"}}")))
        .isInstanceOf(CorruptModelException.class)
        .hasMessageContaining("unknown quantization dtype");
    assertThatThrownBy(
            () ->
                WeightSpec.fromJson(
                    Json.MAPPER.readTree(
                        "{\"name\":\"w\",\"shape\":[4294967296,4294967296,4294967296],\"dtype\":\"float32\"}")))
        .isInstanceOf(CorruptModelException.class)
        .hasMessageContaining("64 bits");
  }

  @Test
  void layersModelKeysAreInTheConvertersOrder() {
    TfjsModelJson m =
        TfjsModelJson.layers(
                "keras v2.15.0",
                "TensorFlow.js Converter v4.22.0",
                Json.MAPPER.readTree("{\"keras_version\":\"2.15.0\"}"))
            .withUserDefinedMetadata(Json.MAPPER.readTree("{\"a\":1}"));
    ObjectNode o = m.toJson(Json.MAPPER.createArrayNode());
    assertThat(keys(o))
        .containsExactly(
            "format",
            "generatedBy",
            "convertedBy",
            "userDefinedMetadata",
            "modelTopology",
            "weightsManifest");
  }

  @Test
  void graphModelKeysAreInTheConvertersOrder() {
    JsonNode any = Json.MAPPER.readTree("{}");
    TfjsModelJson m =
        TfjsModelJson.graph("2.15.0", "TensorFlow.js Converter v4.22.0", any, any)
            .withUserDefinedMetadata(any)
            .withInitializer(any, any);
    assertThat(keys(m.toJson(Json.MAPPER.createArrayNode())))
        .containsExactly(
            "format",
            "generatedBy",
            "convertedBy",
            "signature",
            "modelTopology",
            "userDefinedMetadata",
            "modelInitializer",
            "initializerSignature",
            "weightsManifest");
    TfjsModelJson plain = TfjsModelJson.graph("2.15.0", "c", any, null);
    assertThat(keys(plain.toJson(Json.MAPPER.createArrayNode())))
        .containsExactly(
            "format", "generatedBy", "convertedBy", "modelTopology", "weightsManifest");
  }

  @Test
  void weightsOnlyLayersModelKeepsNullGeneratedByAndTopology() {
    TfjsModelJson m = TfjsModelJson.layers(null, "TensorFlow.js Converter v4.22.0", null);
    assertThat(Json.MAPPER.writeValueAsString(m.toJson(Json.MAPPER.createArrayNode())))
        .isEqualTo(
            "{\"format\":\"layers-model\",\"generatedBy\":null,\"convertedBy\":\"TensorFlow.js Converter v4.22.0\","
                + "\"modelTopology\":null,\"weightsManifest\":[]}");
  }

  @Test
  void unknownKeysAndTrainingConfigSurviveAReadWriteCycle() {
    JsonNode root =
        Json.MAPPER.readTree(
            "{\"modelTopology\":{\"class_name\":\"Sequential\"},\"format\":\"layers-model\","
                + "\"generatedBy\":\"TensorFlow.js tfjs-layers v4.0.0\",\"convertedBy\":null,\"weightsManifest\":[],"
                + "\"trainingConfig\":{\"loss\":\"mse\"},\"futureKey\":[1,2],\"another\":\"x\"}");
    TfjsModelJson m = TfjsModelJson.fromJson(root, "model.json");
    assertThat(m.format()).isEqualTo(TfjsModelJson.LAYERS_MODEL);
    assertThat(m.convertedBy()).isNull();
    assertThat(m.trainingConfig().get("loss").stringValue()).isEqualTo("mse");
    assertThat(m.extras()).containsOnlyKeys("futureKey", "another");
    ObjectNode out = m.toJson(Json.MAPPER.createArrayNode());
    assertThat(keys(out))
        .containsExactly(
            "format",
            "generatedBy",
            "convertedBy",
            "modelTopology",
            "trainingConfig",
            "futureKey",
            "another",
            "weightsManifest");
    assertThat(out.get("futureKey").toString()).isEqualTo("[1,2]");
  }

  @Test
  void nonStringFormatIsCorrupt() {
    JsonNode root = Json.MAPPER.readTree("{\"format\":3,\"weightsManifest\":[]}");
    assertThatThrownBy(() -> TfjsModelJson.fromJson(root, "x/model.json"))
        .isInstanceOf(CorruptModelException.class)
        .hasMessageStartingWith("x/model.json");
  }

  @Test
  void extrasMapIsCopied() {
    Map<String, JsonNode> extras = new java.util.LinkedHashMap<>();
    extras.put("k", Json.MAPPER.readTree("1"));
    TfjsModelJson m =
        new TfjsModelJson(null, null, null, null, null, null, null, null, null, extras);
    extras.clear();
    assertThat(m.extras()).containsOnlyKeys("k");
    ArrayNode manifest = Json.MAPPER.createArrayNode();
    assertThat(keys(m.toJson(manifest)))
        .containsExactly("generatedBy", "convertedBy", "modelTopology", "k", "weightsManifest");
  }

  private static List<String> keys(JsonNode o) {
    List<String> k = new ArrayList<>();
    o.properties().forEach(e -> k.add(e.getKey()));
    return k;
  }
}
