package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Json;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import tools.jackson.databind.JsonNode;

/**
 * Real TF.js 4.22 in Node saves to tfport serve with {@code model.save(url)} and loads back with
 * {@code tf.loadLayersModel}/{@code tf.loadGraphModel}: predictions must be bit-identical, and
 * writes without the token refused.
 */
@OracleTest
class TfjsNodeRoundTripTest {
  @TempDir Path tmp;

  @Test
  void tfjsSavesAndLoadsLayersAndGraphModels() throws Exception {
    Path graph = Corpus.require("tfjs/graph/tfjs-examples_predictive_prefetching/model.json");
    try (TestServer s = new TestServer(tmp.resolve("store"), "s3cret")) {
      JsonNode r =
          Json.MAPPER.readTree(
              NodeTools.run("tfjs_roundtrip.js", 300, s.base, "s3cret", graph.toString()));
      assertThat(r.has("error")).as(r.toString()).isFalse();
      assertThat(r.path("tfjs").asString("")).isEqualTo("4.22.0");

      JsonNode layers = r.path("layers");
      assertThat(layers.path("savedWithoutToken").asBoolean(true)).isFalse();
      assertThat(layers.path("noTokenError").asString("")).contains("401");
      assertThat(layers.path("saveStatus").asInt()).isEqualTo(201);
      assertThat(layers.path("identical").asBoolean(false))
          .as("layers predictions bit-identical")
          .isTrue();
      assertThat(layers.path("values").asInt()).isEqualTo(12);
      // The sizes TF.js reported are the ones our ModelArtifactsInfo computes for what was stored.
      org.tfport.io.ModelArtifacts back =
          org.tfport.io.Models.load(s.base + "/models/node-layers/model.json");
      assertThat(back.info().modelTopologyBytes())
          .isEqualTo(layers.path("info").path("modelTopologyBytes").asLong());
      assertThat(back.info().weightSpecsBytes())
          .isEqualTo(layers.path("info").path("weightSpecsBytes").asLong());
      assertThat(back.info().weightDataBytes())
          .isEqualTo(layers.path("info").path("weightDataBytes").asLong());

      JsonNode g = r.path("graph");
      assertThat(g.path("saveStatus").asInt()).isEqualTo(201);
      assertThat(g.path("identical").asBoolean(false))
          .as("graph predictions bit-identical")
          .isTrue();
      assertThat(g.path("values").asInt()).isEqualTo(303);
      // The uploaded weights are the corpus shard, byte for byte.
      Path stored = s.store.resolve("node-graph/versions/1/model.weights.bin");
      assertThat(Files.readAllBytes(stored))
          .isEqualTo(Files.readAllBytes(graph.resolveSibling("group1-shard1of1.bin")));
      assertThat(s.store.resolve("node-layers/versions/2")).doesNotExist();
    }
  }
}
