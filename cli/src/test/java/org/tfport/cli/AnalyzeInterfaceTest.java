package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tfport.core.Json;
import org.tfport.testkit.Corpus;
import tools.jackson.databind.JsonNode;

/**
 * {@code analyze} lists a SavedModel's signatures with their inputs and outputs (all, or the one
 * named by {@code --signature_name}), and a frozen graph's placeholders and candidate output nodes.
 */
class AnalyzeInterfaceTest {
  @Test
  void everySignatureIsListedUnlessOneIsNamed() throws Exception {
    Path sm = Corpus.require("savedmodel/tfjs-node_module_with_multiple_signatures");
    CliRunner all = CliRunner.run("analyze", "--json", sm.toString());
    assertThat(all.code()).as(all.err()).isZero();
    JsonNode j = Json.MAPPER.readTree(all.out());
    List<String> keys = new ArrayList<>();
    j.get("signatures").forEach(s -> keys.add(s.get("key").asText()));
    assertThat(keys).containsExactly("serving_default", "timestwo");
    for (JsonNode s : j.get("signatures")) {
      assertThat(s.get("inputs")).isNotEmpty();
      assertThat(s.get("outputs")).isNotEmpty();
      for (JsonNode p : s.get("inputs")) {
        assertThat(p.get("name").asText()).contains(":");
        assertThat(p.get("dtype").asText()).isEqualTo("float32");
      }
    }

    CliRunner one =
        CliRunner.run("analyze", "--signature_name", "timestwo", "--tags=serve", sm.toString());
    assertThat(one.code()).as(one.err()).isZero();
    assertThat(one.out())
        .contains("Signature timestwo:\n  inputs:\n    x: float32 [] (timestwo_x:0)\n")
        .contains("output_0: float32 [] (StatefulPartitionedCall_1:0)")
        .doesNotContain("Signature serving_default");

    CliRunner missing = CliRunner.run("analyze", "--signature_name=nope", sm.toString());
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains("nope").contains("serving_default, timestwo");
    CliRunner badTags = CliRunner.run("analyze", "--tags=train", sm.toString());
    assertThat(badTags.code()).isNotZero();
  }

  @Test
  void frozenGraphListsPlaceholdersAndCandidateOutputs() throws Exception {
    Path pb = Corpus.require("frozen_pb/tf2onnx/fc-layers.pb");
    CliRunner r = CliRunner.run("analyze", "--json", pb.toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = Json.MAPPER.readTree(r.out());
    List<String> outs = new ArrayList<>();
    j.get("candidateOutputs").forEach(o -> outs.add(o.asText()));
    assertThat(outs).containsExactly("output");
    JsonNode in = j.get("signatures").get(0).get("inputs");
    assertThat(in).isNotEmpty();
    assertThat(in.get(0).get("dtype").asText()).isEqualTo("float32");
    CliRunner text = CliRunner.run("analyze", pb.toString());
    assertThat(text.out()).contains("Candidate output nodes (for --output_node_names): output");
    // fc-layers.pb's one placeholder, as TensorFlow's GraphDef declares it.
    assertThat(text.out()).contains("X: float32 [-1,784] (X:0)");
  }

  @Test
  void tfjsAndKerasModelsListTheInterfaceTheRuntimeGivesThem() throws Exception {
    Path graph = Corpus.require("tfjs/graph/tfjs_facemesh_prelu/model.json");
    CliRunner g = CliRunner.run("analyze", "--json", graph.toString());
    assertThat(g.code()).as(g.err()).isZero();
    JsonNode sig = Json.MAPPER.readTree(g.out()).get("signatures").get(0);
    JsonNode in = sig.get("inputs").get(0);
    assertThat(in.get("dtype").asText()).isEqualTo("float32");
    // FaceMesh's placeholder input_1 takes 128x128 RGB images.
    assertThat(in.get("shape").asText()).isEqualTo("[-1,128,128,3]");
    assertThat(sig.get("outputs")).isNotEmpty();

    Path h5 = Corpus.require("keras_h5/dl4j-konduit/tfkeras/mlp_30.h5");
    CliRunner k = CliRunner.run("analyze", h5.toString());
    assertThat(k.code()).as(k.err()).isZero();
    assertThat(k.out()).contains("Signature serving_default:\n  inputs:\n    ");
  }
}
