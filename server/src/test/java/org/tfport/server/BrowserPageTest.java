package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Json;
import org.tfport.server.TestServer.Multipart;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.Repo;
import tools.jackson.databind.JsonNode;

/**
 * The web page in headless Debian chromium: the model is listed and drawn, runs with the real
 * TF.js, is copied into IndexedDB and localStorage, and both copies are uploaded back with {@code
 * model.save('http://...')}. The screenshot lands in {@code server/target/screenshots/}.
 */
@OracleTest
class BrowserPageTest {
  @TempDir Path tmp;

  @Test
  void pageListsRunsCopiesAndUploadsBack() throws Exception {
    NodeTools.ensureChromium();
    NodeTools.ensurePlaywright();
    Path graph = Corpus.require("tfjs/graph/tfjs-examples_predictive_prefetching/model.json");
    Path shard = graph.resolveSibling("group1-shard1of1.bin");
    ServerConfig config =
        ServerConfig.of("127.0.0.1", 0, tmp.resolve("store"), "s3cret")
            .withTfjsBundle(NodeTools.tfMinJs());
    try (TestServer s = new TestServer(config)) {
      Multipart m =
          new Multipart()
              .part("model.json", "model.json", "application/json", Files.readAllBytes(graph))
              .part(
                  "group1-shard1of1.bin",
                  "group1-shard1of1.bin",
                  "application/octet-stream",
                  Files.readAllBytes(shard));
      assertThat(s.upload("prefetch", m, "s3cret").status()).isEqualTo(201);
      assertThat(
              s.upload(
                      "dense",
                      Multipart.tfjs(
                          TestServer.denseModelJson("./model.weights.bin"),
                          TestServer.denseWeights(0.5f)),
                      "s3cret")
                  .status())
          .isEqualTo(201);

      Path shots = Repo.root().resolve("server/target/screenshots");
      Files.createDirectories(shots);
      Path png = shots.resolve("page.png");
      JsonNode r =
          Json.MAPPER.readTree(
              NodeTools.run(
                  "browser_test.js",
                  240,
                  s.base,
                  "prefetch",
                  "s3cret",
                  png.toString(),
                  tmp.resolve("profile").toString()));
      assertThat(r.has("error")).as(r.toString()).isFalse();
      assertThat(r.path("tfjs").asString("")).startsWith("TF.js 4.22.0");
      assertThat(r.path("models").toString()).contains("prefetch", "dense");
      assertThat(r.path("graphWidth").asInt()).isGreaterThan(100);
      assertThat(r.path("run").path("ok").asBoolean(false)).as(r.path("run").toString()).isTrue();
      assertThat(r.path("run").path("text").asString("")).contains("[1,101] float32");
      assertThat(r.path("indexeddb").path("ok").asBoolean(false)).isTrue();
      assertThat(r.path("localstorage").path("ok").asBoolean(false)).isTrue();
      assertThat(r.path("stores").toString())
          .contains("indexeddb://prefetch", "localstorage://prefetch");
      assertThat(r.path("upload").path("ok").asBoolean(false))
          .as(r.path("upload").toString())
          .isTrue();
      assertThat(r.path("uploadLs").path("ok").asBoolean(false))
          .as(r.path("uploadLs").toString())
          .isTrue();
      assertThat(r.path("consoleErrors").size()).as(r.path("consoleErrors").toString()).isZero();
      // What came back from the browser's stores is the original weights, byte for byte.
      for (String copy : new String[] {"prefetch-from-browser", "prefetch-from-localstorage"}) {
        assertThat(Files.readAllBytes(s.store.resolve(copy + "/versions/1/model.weights.bin")))
            .isEqualTo(Files.readAllBytes(shard));
      }
      assertThat(png).isRegularFile();
      assertThat(Files.size(png)).isGreaterThan(20_000);
      System.out.println("[browser test] screenshot: " + png);
    }
  }
}
