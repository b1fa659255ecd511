package org.tfport.formats.keras;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.tfport.core.Json;
import org.tfport.core.TfportException.UnsupportedModelException;
import tools.jackson.databind.JsonNode;

class Keras3ConfigTest {
  private static final Path FILE = Path.of("m.keras");

  @Test
  void functionalModelBecomesKeras2Form() {
    JsonNode k3 =
        Json.MAPPER.readTree(
            """
        {"module": "keras", "class_name": "Functional", "registered_name": null,
         "config": {"name": "f", "trainable": true,
           "layers": [
             {"module": "keras.layers", "class_name": "InputLayer", "registered_name": null,
              "config": {"batch_shape": [null, 3], "dtype": "float32", "sparse": false, "name": "x", "optional": false},
              "inbound_nodes": []},
             {"module": "keras.layers", "class_name": "Dense", "registered_name": null,
              "build_config": {"input_shape": [null, 3]},
              "config": {"name": "d", "units": 2,
                "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
                          "registered_name": null},
                "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
                                       "config": {"seed": null}, "registered_name": null}},
              "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
                 "config": {"shape": [null, 3], "dtype": "float32", "keras_history": ["x", 0, 0]}}],
                 "kwargs": {"training": false}}]},
             {"module": "keras.layers", "class_name": "Add", "registered_name": null,
              "config": {"name": "add"},
              "inbound_nodes": [{"args": [[
                 {"class_name": "__keras_tensor__", "config": {"keras_history": ["d", 0, 0]}},
                 {"class_name": "__keras_tensor__", "config": {"keras_history": ["d", 0, 0]}}]],
                 "kwargs": {}}]}],
           "input_layers": ["x", 0, 0],
           "output_layers": [["add", 0, 0]]}}
        """);
    JsonNode k2 = Keras3Config.model(FILE, k3);
    assertThat(k2.toString())
        .doesNotContain("module")
        .doesNotContain("registered_name")
        .doesNotContain("build_config")
        .doesNotContain("DTypePolicy");
    JsonNode layers = k2.path("config").path("layers");
    assertThat(layers.get(0).path("config").path("batch_input_shape").toString())
        .isEqualTo("[null,3]");
    assertThat(layers.get(0).path("config").has("optional")).isFalse();
    assertThat(layers.get(1).path("name").stringValue()).isEqualTo("d");
    assertThat(layers.get(1).path("config").path("dtype").stringValue()).isEqualTo("float32");
    assertThat(layers.get(1).path("inbound_nodes").toString())
        .isEqualTo("[[[\"x\",0,0,{\"training\":false}]]]");
    assertThat(layers.get(2).path("inbound_nodes").toString())
        .isEqualTo("[[[\"d\",0,0,{}],[\"d\",0,0,{}]]]");
    assertThat(k2.path("config").path("input_layers").toString()).isEqualTo("[[\"x\",0,0]]");
    assertThat(k2.path("config").path("output_layers").toString()).isEqualTo("[[\"add\",0,0]]");
  }

  private static String kt(String layer) {
    return "{\"class_name\": \"__keras_tensor__\", \"config\": {\"shape\": [null, 4, 3],"
        + " \"dtype\": \"float32\", \"keras_history\": [\""
        + layer
        + "\", 0, 0]}}";
  }

  private static String nodesOf(String cls, String args, String kwargs) {
    JsonNode l =
        Json.MAPPER.readTree(
            "{\"class_name\": \""
                + cls
                + "\", \"config\": {\"name\": \"l\"}, \"inbound_nodes\": [{\"args\": ["
                + args
                + "], \"kwargs\": {"
                + kwargs
                + "}}]}");
    return Keras3Config.layer(FILE, l).path("inbound_nodes").toString();
  }

  @Test
  void tensorsPassedByKeywordOrAfterTheFirstArgumentKeepTheirParameterNames() {
    String keras2 = "[[[\"q\",0,0,{\"value\":[\"v\",0,0],\"key\":[\"k\",0,0]}]]]";
    // mha(query=q, value=v, key=k), mha(q, v, k) and mha(q, v, key=k) are one call.
    assertThat(
            nodesOf(
                "MultiHeadAttention",
                "",
                "\"query\": " + kt("q") + ", \"value\": " + kt("v") + ", \"key\": " + kt("k")))
        .isEqualTo(keras2);
    assertThat(nodesOf("MultiHeadAttention", kt("q") + ", " + kt("v") + ", " + kt("k"), ""))
        .isEqualTo(keras2);
    assertThat(nodesOf("MultiHeadAttention", kt("q") + ", " + kt("v"), "\"key\": " + kt("k")))
        .isEqualTo(keras2);
    // Attention()(inputs=[q, v]) and Attention()([q, v]): the list is the first argument.
    String list = "[[[\"q\",0,0,{\"training\":false}],[\"v\",0,0,{\"training\":false}]]]";
    assertThat(
            nodesOf(
                "Attention",
                "",
                "\"inputs\": [" + kt("q") + ", " + kt("v") + "], \"training\": false"))
        .isEqualTo(list);
    assertThat(nodesOf("Attention", "[" + kt("q") + ", " + kt("v") + "]", "\"training\": false"))
        .isEqualTo(list);
    // lstm(x, mask=m), lstm(x, None, m) and an initial_state list keep their tensors by name.
    assertThat(nodesOf("LSTM", kt("x"), "\"mask\": " + kt("m")))
        .isEqualTo("[[[\"x\",0,0,{\"mask\":[\"m\",0,0]}]]]");
    assertThat(nodesOf("LSTM", kt("x") + ", null, " + kt("m"), ""))
        .isEqualTo("[[[\"x\",0,0,{\"initial_state\":null,\"mask\":[\"m\",0,0]}]]]");
    assertThat(nodesOf("GRU", kt("x"), "\"initial_state\": [" + kt("h") + "]"))
        .isEqualTo("[[[\"x\",0,0,{\"initial_state\":[[\"h\",0,0]]}]]]");
  }

  @Test
  void aSecondPositionalArgumentOfALayerWithoutKnownNamesIsRefused() {
    assertThatThrownBy(() -> nodesOf("Dense", kt("x") + ", " + kt("y"), ""))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessage(
            "m.keras: layer 'l' (Dense) is called with 2 positional arguments in config.json;"
                + " tfport knows the name of only its first, so it cannot tell what the others are");
    assertThatThrownBy(() -> nodesOf("Dense", "", "\"training\": false"))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("is called on no tensor");
  }

  @Test
  void tensorConstantsUnwrap() {
    JsonNode n =
        Keras3Config.clean(
            Json.MAPPER.readTree(
                "{\"mask_value\": {\"class_name\": \"__tensor__\", \"config\": {\"value\": [0.5], \"dtype\": \"float32\"}}}"));
    assertThat(n.path("mask_value").asDouble()).isEqualTo(0.5);
  }

  @Test
  void subclassedModelIsRefusedWithTheReason() {
    JsonNode k3 =
        Json.MAPPER.readTree(
            "{\"module\": null, \"class_name\": \"TestModel\", \"registered_name\": \"Pkg>TestModel\", \"config\": {}}");
    assertThatThrownBy(() -> Keras3Config.model(FILE, k3))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("m.keras")
        .hasMessageContaining("TestModel")
        .hasMessageContaining("Pkg>TestModel")
        .hasMessageContaining("subclassed");
  }

  @Test
  void snakeCaseMatchesKerasNaming() {
    assertThat(Keras3Config.toSnakeCase("Conv2D")).isEqualTo("conv2d");
    assertThat(Keras3Config.toSnakeCase("BatchNormalization")).isEqualTo("batch_normalization");
    assertThat(Keras3Config.toSnakeCase("SimpleRNN")).isEqualTo("simple_rnn");
    assertThat(Keras3Config.toSnakeCase("LSTM")).isEqualTo("lstm");
    assertThat(Keras3Config.toSnakeCase("DepthwiseConv2D")).isEqualTo("depthwise_conv2d");
  }
}
