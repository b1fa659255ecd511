package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.SimpleFileServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.io.LoadOptions;
import org.tfport.io.ModelArtifacts;
import org.tfport.io.ModelIOException;
import org.tfport.io.Models;
import org.tfport.io.SaveResult;
import org.tfport.server.TestServer.Reply;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfjsOracle;

/** The Java client (org.tfport.io) against tfport serve and against a plain static file server. */
class JavaClientTest {
  @TempDir Path tmp;

  /** Equal as JavaScript sees JSON: 0 and 0.0 are one number, since TF.js writes both as 0. */
  private static final java.util.Comparator<tools.jackson.databind.JsonNode> JS_NUMBERS =
      (x, y) ->
          x.equals(y) || x.isNumber() && y.isNumber() && x.doubleValue() == y.doubleValue() ? 0 : 1;

  private static void assertSameJson(
      tools.jackson.databind.JsonNode a, tools.jackson.databind.JsonNode b) {
    assertThat(a.equals(JS_NUMBERS, b)).as("%s%nvs%n%s", a, b).isTrue();
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] a = new byte[b.remaining()];
    b.duplicate().get(a);
    return a;
  }

  @Test
  void savesToAndLoadsFromTheServer() {
    Path graph = Corpus.require("tfjs/graph/tfjs-examples_predictive_prefetching/model.json");
    ModelArtifacts original = Models.load("file://" + graph);
    try (TestServer s = new TestServer(tmp.resolve("store"), "tok")) {
      String url = s.base + "/models/jgraph";
      ModelIOException denied =
          (ModelIOException)
              org.assertj.core.api.Assertions.catchThrowable(() -> Models.save(original, url));
      assertThat(denied.status()).isEqualTo(401);
      assertThat(denied.getMessage()).contains("status 401", "Authorization");
      s.assertNothingStored();

      LoadOptions auth = LoadOptions.builder().bearerToken("tok").build();
      SaveResult r = Models.save(original, url, auth);
      assertThat(r.responses()).hasSize(1);
      assertThat(r.responses().get(0).status()).isEqualTo(201);
      assertThat(r.modelArtifactsInfo().weightDataBytes()).isEqualTo(27056);
      SaveResult put = Models.save(original, url, auth.toBuilder().method("PUT").build());
      assertThat(put.responses().get(0).body()).contains("\"version\":2");

      List<Double> progress = new ArrayList<>();
      ModelArtifacts back =
          Models.load(url + "/model.json", LoadOptions.builder().onProgress(progress::add).build());
      assertThat(bytes(back.joinedWeightData())).isEqualTo(bytes(original.joinedWeightData()));
      assertThat(back.weightSpecs()).isEqualTo(original.weightSpecs());
      assertSameJson(back.modelTopology(), original.modelTopology());
      assertSameJson(back.signature(), original.signature());
      assertThat(back.format()).isEqualTo("graph-model");
      assertThat(progress).isSorted().last().isEqualTo(1.0);

      ModelArtifacts v1 = Models.load(url + "/versions/1/model.json");
      assertThat(bytes(v1.joinedWeightData())).isEqualTo(bytes(original.joinedWeightData()));
      assertThat(back.info().modelTopologyBytes()).isEqualTo(original.info().modelTopologyBytes());
    }
  }

  @Test
  void etagsCachingAndCors() {
    try (TestServer s = new TestServer(tmp.resolve("store"), null)) {
      s.upload(
          "m",
          TestServer.Multipart.tfjs(
              TestServer.denseModelJson("./model.weights.bin"), TestServer.denseWeights(1)),
          null);
      Reply latest = s.get("/models/m/model.json");
      assertThat(latest.header("cache-control")).isEqualTo("no-cache");
      assertThat(latest.text()).contains("\"versions/1/model.weights.bin\"");
      String etag = latest.header("etag");
      Reply again =
          s.send(
              HttpRequest.newBuilder(URI.create(s.base + "/models/m/model.json"))
                  .header("If-None-Match", etag)
                  .build());
      assertThat(again.status()).isEqualTo(304);
      Reply shard = s.get("/models/m/versions/1/model.weights.bin");
      assertThat(shard.body()).isEqualTo(TestServer.denseWeights(1));
      assertThat(shard.header("cache-control")).contains("immutable");
      assertThat(
              s.send(
                      HttpRequest.newBuilder(
                              URI.create(s.base + "/models/m/versions/1/model.weights.bin"))
                          .header("If-None-Match", shard.header("etag"))
                          .build())
                  .status())
          .isEqualTo(304);
      assertThat(latest.header("access-control-allow-origin")).isEqualTo("*");
      Reply pre =
          s.send(
              HttpRequest.newBuilder(URI.create(s.base + "/models/m"))
                  .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                  .header("Origin", "http://example.test")
                  .header("Access-Control-Request-Method", "POST")
                  .header("Access-Control-Request-Headers", "authorization,content-type")
                  .build());
      assertThat(pre.status()).isEqualTo(204);
      assertThat(pre.header("access-control-allow-methods")).contains("POST", "PUT", "GET");
      assertThat(pre.header("access-control-allow-headers")).contains("authorization");
      // Uploads need a listed origin (--cors-origin); an unlisted one is not allowed by the
      // preflight.
      assertThat(pre.header("access-control-allow-origin")).isNull();
      // A second upload changes what the plain URL serves, and so its ETag.
      s.upload(
          "m",
          TestServer.Multipart.tfjs(
              TestServer.denseModelJson("./model.weights.bin"), TestServer.denseWeights(2)),
          null);
      Reply newer = s.get("/models/m/model.json");
      assertThat(newer.header("etag")).isNotEqualTo(etag);
      assertThat(s.get("/models/m/model.weights.bin").body()).isEqualTo(TestServer.denseWeights(2));
      assertThat(s.get("/models/m").json().path("versions").size()).isEqualTo(2);
      assertThat(s.get("/models/m/graph.svg").text()).startsWith("<svg").contains("Dense");
      assertThat(s.get("/models/nope/model.json").assertJsonError(404)).contains("nope");
      assertThat(s.get("/models/m/versions/9/model.json").assertJsonError(404))
          .contains("version 9");
      assertThat(s.get("/models/m/versions/1/.version.json").status()).isEqualTo(404);
      assertThat(s.get("/").text()).contains("<title>tfport serve</title>");
    }
  }

  @Test
  void savesToFilesAndLoadsThemFromAStaticFileServer() throws Exception {
    Path graph = Corpus.require("tfjs/graph/tfjs-examples_predictive_prefetching/model.json");
    ModelArtifacts original = Models.load("file://" + graph);
    Path site = tmp.resolve("site");
    Files.createDirectories(site);
    Models.save(original, "file://" + site.resolve("graph"));
    Models.save(original, "file://" + site.resolve("my-model.json"));
    assertThat(site.resolve("graph/model.json")).isRegularFile();
    assertThat(site.resolve("graph/weights.bin")).hasSize(27056);
    assertThat(site.resolve("my-model.weights.bin")).hasSize(27056);
    HttpServer fs =
        SimpleFileServer.createFileServer(
            new InetSocketAddress("127.0.0.1", 0), site, SimpleFileServer.OutputLevel.NONE);
    fs.start();
    try {
      String base = "http://127.0.0.1:" + fs.getAddress().getPort();
      for (String u : new String[] {base + "/graph/model.json", base + "/my-model.json?v=3"}) {
        ModelArtifacts back = Models.load(u);
        assertThat(bytes(back.joinedWeightData()))
            .as(u)
            .isEqualTo(bytes(original.joinedWeightData()));
        assertSameJson(back.modelTopology(), original.modelTopology());
      }
      assertThatThrownBy(() -> Models.load(base + "/missing/model.json"))
          .isInstanceOf(ModelIOException.class)
          .hasMessageContaining("404");
    } finally {
      fs.stop(0);
    }
    // And into the server, by copying between the two URL kinds.
    try (TestServer s = new TestServer(tmp.resolve("store"), null)) {
      Models.copy(
          "file://" + site.resolve("graph/model.json"),
          s.base + "/models/copied",
          LoadOptions.defaults());
      assertThat(s.store.resolve("copied/versions/1/model.weights.bin")).hasSize(27056);
    }
  }

  @OracleTest
  @Test
  void zippedSavedModelIsConvertedOnArrival() throws Exception {
    Path sm = Corpus.require("savedmodel/tfjs-node_times_three_float");
    java.io.ByteArrayOutputStream zip = new java.io.ByteArrayOutputStream();
    try (java.util.zip.ZipOutputStream z = new java.util.zip.ZipOutputStream(zip);
        java.util.stream.Stream<Path> files = Files.walk(sm)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        z.putNextEntry(
            new java.util.zip.ZipEntry(
                "times_three/" + sm.relativize(f).toString().replace('\\', '/')));
        z.write(Files.readAllBytes(f));
        z.closeEntry();
      }
    }
    try (TestServer s = new TestServer(tmp.resolve("store"), null)) {
      Reply r = s.post("/models/times3", "application/zip", zip.toByteArray(), null);
      assertThat(r.status()).as(r.text()).isEqualTo(201);
      assertThat(r.json().path("source").asString("")).isEqualTo("savedmodel");
      assertThat(r.json().path("summary").path("format").asString("")).isEqualTo("graph-model");
      TfjsOracle.Result out =
          TfjsOracle.run(
                  TfjsOracle.Job.graph(
                      s.store.resolve("times3/versions/1/model.json"),
                      List.of(TfjsOracle.Input.f32(null, new long[0], new float[] {2.5f})),
                      List.of()))
              .orThrow();
      assertThat(out.output(0).data()).containsExactly(7.5f);
    }
  }

  @OracleTest
  @Test
  void kerasUploadsAreConvertedOnArrival() throws Exception {
    Path h5 = Corpus.require("keras_h5/dl4j-konduit/tfkeras/cnn2d_67.h5");
    Path keras = Corpus.require("keras_v3/mlx_branch_model.keras");
    try (TestServer s = new TestServer(tmp.resolve("store"), null)) {
      Reply a = s.post("/models/fromh5", "application/octet-stream", Files.readAllBytes(h5), null);
      assertThat(a.status()).as(a.text()).isEqualTo(201);
      assertThat(a.json().path("source").asString("")).isEqualTo("keras-h5");
      Reply b =
          s.upload(
              "fromkeras",
              new TestServer.Multipart()
                  .part("file", "model.keras", null, Files.readAllBytes(keras)),
              null);
      assertThat(b.status()).as(b.text()).isEqualTo(201);
      assertThat(b.json().path("summary").path("format").asString("")).isEqualTo("layers-model");
      for (String name : new String[] {"fromh5", "fromkeras"}) {
        TfjsOracle.Result r =
            TfjsOracle.run(
                TfjsOracle.Job.load("layers", s.store.resolve(name + "/versions/1/model.json")));
        assertThat(r.ok()).as(name + ": " + r.error()).isTrue();
      }
    }
  }
}
