package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.tfport.server.ServingFixtures.json;
import static org.tfport.server.ServingFixtures.predict;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Json;
import org.tfport.server.TestServer.Reply;
import org.tfport.testkit.Corpus;
import tools.jackson.databind.JsonNode;

/**
 * TensorFlow Serving's REST API on tfport serve, with half_plus_two (y = 0.5·x + 2, checked by
 * hand) uploaded as a zipped SavedModel through the upload API.
 */
class ServingApiTest {
  @TempDir Path tmp;

  private static final String HALF_PLUS_TWO = "savedmodel/serving_saved_model_half_plus_two_cpu";

  @Test
  void statusMetadataAndPredictInBothFormats() throws Exception {
    Path sm = Corpus.require(HALF_PLUS_TWO);
    try (TestServer s = new TestServer(tmp.resolve("store"), "tok")) {
      ServingFixtures.uploadSavedModel(s, "hp2", sm, "tok");

      Reply status = s.get("/v1/models/hp2");
      assertThat(status.status()).as(status.text()).isEqualTo(200);
      assertThat(status.json())
          .isEqualTo(
              Json.MAPPER.readTree(
                  "{\"model_version_status\":[{\"version\":\"1\",\"state\":\"AVAILABLE\","
                      + "\"status\":{\"error_code\":\"OK\",\"error_message\":\"\"}}]}"));
      assertThat(s.get("/v1/models/hp2/versions/1").json()).isEqualTo(status.json());

      Reply meta = s.get("/v1/models/hp2/metadata");
      assertThat(meta.status()).as(meta.text()).isEqualTo(200);
      JsonNode m = meta.json();
      assertThat(m.path("model_spec").toString())
          .isEqualTo("{\"name\":\"hp2\",\"signature_name\":\"\",\"version\":\"1\"}");
      JsonNode sig = m.at("/metadata/signature_def/signature_def/serving_default");
      assertThat(sig.path("method_name").asString("")).isEqualTo("tensorflow/serving/predict");
      JsonNode x = sig.path("inputs").path("x");
      assertThat(x.path("dtype").asString("")).isEqualTo("DT_FLOAT");
      assertThat(x.path("tensor_shape").path("unknown_rank").asBoolean(true)).isFalse();
      assertThat(x.path("tensor_shape").path("dim").get(0).path("size").asString(""))
          .isEqualTo("-1");
      assertThat(sig.path("outputs").size()).isEqualTo(1);

      // Row format, one unnamed input and one output: predictions is the plain list.
      Reply row = predict(s, "/v1/models/hp2:predict", "{\"instances\": [[1.0], [2.0], [5.0]]}");
      assertThat(row.status()).as(row.text()).isEqualTo(200);
      assertThat(row.text()).isEqualTo("{\"predictions\": [[2.5], [3.0], [4.5]]}");
      // Named instances and the version in the path give the same answer.
      Reply named =
          predict(
              s,
              "/v1/models/hp2/versions/1:predict",
              "{\"signature_name\": \"serving_default\", \"instances\": [{\"x\": [1.0]}, {\"x\": [2]}]}");
      assertThat(named.text()).isEqualTo("{\"predictions\": [[2.5], [3.0]]}");
      // Columnar format: outputs is the tensor itself.
      Reply col = predict(s, "/v1/models/hp2:predict", "{\"inputs\": [[0.1], [-4]]}");
      assertThat(col.text()).isEqualTo("{\"outputs\": [[2.05], [0.0]]}");
      Reply colNamed = predict(s, "/v1/models/hp2:predict", "{\"inputs\": {\"x\": [[0.1]]}}");
      assertThat(colNamed.text()).isEqualTo("{\"outputs\": [[2.05]]}");
      // NaN and Infinity are read and written as TF Serving does.
      Reply odd =
          predict(s, "/v1/models/hp2:predict", "{\"inputs\": [[NaN], [Infinity], [-Infinity]]}");
      assertThat(odd.text()).isEqualTo("{\"outputs\": [[NaN], [Infinity], [-Infinity]]}");
      assertThat(json(odd).path("outputs").get(0).get(0).doubleValue()).isNaN();
    }
  }

  @Test
  void errorsAreTfServingsJsonWithItsStatusCodes() throws Exception {
    Path sm = Corpus.require(HALF_PLUS_TWO);
    try (TestServer s = new TestServer(tmp.resolve("store"), null)) {
      assertThat(predict(s, "/v1/models/none:predict", "{\"instances\": [1]}").assertJsonError(404))
          .isEqualTo("Servable not found for request: Latest(none)");
      assertThat(s.get("/v1/models/none").assertJsonError(404)).contains("none");
      ServingFixtures.uploadSavedModel(s, "hp2", sm, null);
      assertThat(
              predict(s, "/v1/models/hp2/versions/7:predict", "{\"instances\": [[1]]}")
                  .assertJsonError(404))
          .isEqualTo("Servable not found for request: Specific(hp2, 7)");
      assertThat(s.get("/v1/models/hp2/versions/7/metadata").assertJsonError(404)).contains("7");
      assertThat(predict(s, "/v1/models/hp2:predict", "{\"instances\": [[1]]").assertJsonError(400))
          .startsWith("JSON Parse error");
      assertThat(predict(s, "/v1/models/hp2:predict", "{}").assertJsonError(400))
          .isEqualTo("missing 'inputs' or 'instances' key");
      assertThat(
              predict(s, "/v1/models/hp2:predict", "{\"instances\": [[1]], \"inputs\": [[1]]}")
                  .assertJsonError(400))
          .contains("only one of");
      assertThat(predict(s, "/v1/models/hp2:predict", "{\"instances\": []}").assertJsonError(400))
          .contains("no values");
      assertThat(
              predict(s, "/v1/models/hp2:predict", "{\"instances\": [[1], [1, 2]]}")
                  .assertJsonError(400))
          .contains("item 1");
      assertThat(
              predict(s, "/v1/models/hp2:predict", "{\"inputs\": [[\"a\"]]}").assertJsonError(400))
          .contains("\"a\"", "DT_FLOAT");
      assertThat(
              predict(s, "/v1/models/hp2:predict", "{\"inputs\": [[16777217]]}")
                  .assertJsonError(400))
          .contains("without loss of precision");
      assertThat(
              predict(s, "/v1/models/hp2:predict", "{\"inputs\": {\"y\": [[1]]}}")
                  .assertJsonError(400))
          .contains("'x'");
      assertThat(
              predict(
                      s,
                      "/v1/models/hp2:predict",
                      "{\"signature_name\": \"nope\", \"instances\": [[1]]}")
                  .assertJsonError(400))
          .startsWith("Serving signature name: \"nope\" not found");
      assertThat(predict(s, "/v1/models/hp2:classify", "{\"examples\": []}").assertJsonError(501))
          .contains(":predict");
      assertThat(predict(s, "/v1/models/hp2:regress", "{\"examples\": []}").assertJsonError(501))
          .contains(":predict");
      assertThat(predict(s, "/v1/models/hp2:explain", "{}").assertJsonError(400))
          .contains("Malformed request");
      assertThat(s.get("/v1/models/hp2:predict").assertJsonError(400)).contains("Malformed");
      assertThat(s.get("/v1/models/hp2/versions/x").assertJsonError(400)).contains("numeric");
      assertThat(s.get("/v1/models/hp2/labels/stable").assertJsonError(400)).contains("labels");
    }
  }

  /**
   * As TF Serving: a tensor of a shape the signature does not declare goes to the model's ops,
   * which take it (half_plus_two on a vector, by hand; the CNN on a 16×16 picture, four rows of ten
   * after its [-1, 64] reshape) or refuse it with a 400 naming the op and the shapes. A layers
   * model, whose graph tfport built from the declared shapes, keeps the signature's check.
   */
  @Test
  void shapesAreLeftToTheOpsAsTfServingLeavesThem() throws Exception {
    try (TestServer s = new TestServer(tmp.resolve("store"), null)) {
      ServingFixtures.uploadSavedModel(s, "hp2", Corpus.require(HALF_PLUS_TWO), null);
      // x is float32[-1, 1]; TF Serving feeds [2] and 0.5·x + 2 answers elementwise.
      Reply vector = predict(s, "/v1/models/hp2:predict", "{\"inputs\": [1, 2]}");
      assertThat(vector.status()).as(vector.text()).isEqualTo(200);
      assertThat(vector.text()).isEqualTo("{\"outputs\": [2.5, 3.0]}");
      Reply wide = predict(s, "/v1/models/hp2:predict", "{\"instances\": [[1, 2], [3, 4]]}");
      assertThat(wide.text()).isEqualTo("{\"predictions\": [[2.5, 3.0], [3.5, 4.0]]}");

      ServingFixtures.uploadTfjs(s, "cnn", SmallCnn.write(tmp.resolve("cnn")), null);
      float[] picture = new float[16 * 16];
      for (int i = 0; i < picture.length; i++) {
        picture[i] = (i % 7) * 0.25f - 0.5f;
      }
      Reply big =
          predict(
              s,
              "/v1/models/cnn:predict",
              "{\"inputs\": " + ServingFixtures.nested(picture, new long[] {1, 16, 16, 1}) + "}");
      assertThat(big.status()).as(big.text()).isEqualTo(200);
      JsonNode rows = json(big).get("outputs");
      assertThat(rows.size()).isEqualTo(4);
      for (JsonNode row : rows) {
        assertThat(row.size()).isEqualTo(10);
        double sum = 0;
        for (JsonNode p : row) {
          sum += p.doubleValue();
        }
        assertThat(sum).as("softmax row " + row).isCloseTo(1.0, within(1e-5));
      }
      // Three channels for a filter of one input channel and four outputs: no grouping fits.
      float[] threeChannels = new float[8 * 8 * 3];
      String msg =
          predict(
                  s,
                  "/v1/models/cnn:predict",
                  "{\"inputs\": "
                      + ServingFixtures.nested(threeChannels, new long[] {1, 8, 8, 3})
                      + "}")
              .assertJsonError(400);
      assertThat(msg)
          .contains("Conv2D", "float32[1, 8, 8, 3]", "float32[3, 3, 1, 4]")
          .doesNotContain(s.store.toString());

      Reply up =
          s.upload(
              "layers",
              TestServer.Multipart.tfjs(
                  TestServer.denseModelJson("model.weights.bin"), TestServer.denseWeights(0.5f)),
              null);
      assertThat(up.status()).as(up.text()).isEqualTo(201);
      assertThat(
              predict(s, "/v1/models/layers:predict", "{\"instances\": [[1, 2, 3, 4]]}")
                  .assertJsonError(400))
          .contains("[-1, 3]", "[1, 4]")
          .doesNotContain(s.store.toString());
    }
  }

  @Test
  void aNewVersionIsServedWhenItLands() throws Exception {
    Path hp2 = Corpus.require(HALF_PLUS_TWO);
    Path hp3 = Corpus.require("savedmodel/serving_saved_model_half_plus_three");
    try (TestServer s = new TestServer(tmp.resolve("store"), null)) {
      ServingFixtures.uploadSavedModel(s, "m", hp2, null);
      assertThat(predict(s, "/v1/models/m:predict", "{\"instances\": [[4.0]]}").text())
          .isEqualTo("{\"predictions\": [[4.0]]}");
      ServingFixtures.uploadSavedModel(s, "m", hp3, null);
      Reply three = predict(s, "/v1/models/m:predict", "{\"instances\": [[4.0]]}");
      assertThat(three.status()).as(three.text()).isEqualTo(200);
      assertThat(three.text()).isEqualTo("{\"predictions\": [[5.0]]}");
      assertThat(predict(s, "/v1/models/m/versions/1:predict", "{\"instances\": [[4.0]]}").text())
          .isEqualTo("{\"predictions\": [[4.0]]}");
      JsonNode st = s.get("/v1/models/m").json().path("model_version_status");
      assertThat(st.size()).isEqualTo(2);
      assertThat(st.get(0).path("version").asString("")).isEqualTo("2");
    }
  }

  @Test
  void metricsArePrometheusText() throws Exception {
    Path sm = Corpus.require(HALF_PLUS_TWO);
    try (TestServer s = new TestServer(tmp.resolve("store"), null)) {
      ServingFixtures.uploadSavedModel(s, "hp2", sm, null);
      predict(s, "/v1/models/hp2:predict", "{\"instances\": [[1.0]]}");
      predict(s, "/v1/models/hp2:predict", "{\"instances\": [[1.0]]}");
      predict(s, "/v1/models/hp2:predict", "{\"inputs\": [\"bad\"]}");
      Reply r = s.get("/metrics");
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.header("content-type")).startsWith("text/plain; version=0.0.4");
      assertThat(r.text())
          .contains("tfport_predict_requests_total{model=\"hp2\",code=\"200\"} 2\n")
          .contains("tfport_predict_requests_total{model=\"hp2\",code=\"400\"} 1\n")
          .contains("tfport_predict_latency_seconds_count{model=\"hp2\"} 3\n")
          .contains("tfport_predict_latency_seconds_bucket{model=\"hp2\",le=\"+Inf\"} 3\n")
          .contains("tfport_batch_size_count 2\n")
          .contains("tfport_loaded_models 1\n")
          .contains("# TYPE tfport_jvm_memory_used_bytes gauge\n");
    }
  }

  @Test
  void theCacheUnloadsTheLeastRecentlyUsedPastItsBytes() throws Exception {
    Path hp2 = Corpus.require(HALF_PLUS_TWO);
    Path hp3 = Corpus.require("savedmodel/serving_saved_model_half_plus_three");
    for (long cache : new long[] {1, 1L << 30}) {
      ServerConfig config =
          ServerConfig.of("127.0.0.1", 0, tmp.resolve("store" + cache), null)
              .withServing(ServingConfig.defaults().withCacheBytes(cache));
      try (TestServer s = new TestServer(config)) {
        ServingFixtures.uploadSavedModel(s, "a", hp2, null);
        ServingFixtures.uploadSavedModel(s, "b", hp3, null);
        for (String m : new String[] {"a", "b", "a"}) {
          Reply r = predict(s, "/v1/models/" + m + ":predict", "{\"instances\": [[2.0]]}");
          assertThat(r.text())
              .isEqualTo(
                  m.equals("a") ? "{\"predictions\": [[3.0]]}" : "{\"predictions\": [[4.0]]}");
        }
        // A cache of one byte keeps only the model just used; a large one keeps both.
        assertThat(s.get("/metrics").text())
            .contains("tfport_loaded_models " + (cache == 1 ? 1 : 2) + "\n");
      }
    }
  }

  @Test
  void aLayersModelIsServedByTheRuntime() {
    try (TestServer s = new TestServer(tmp.resolve("store"), null)) {
      Reply up =
          s.upload(
              "layers",
              TestServer.Multipart.tfjs(
                  TestServer.denseModelJson("model.weights.bin"), TestServer.denseWeights(0.5f)),
              null);
      assertThat(up.status()).as(up.text()).isEqualTo(201);
      // Dense(2): kernel [[0.5, 0.75], [1, 1.25], [1.5, 1.75]], bias [2, 2.25]; by hand for x = [1,
      // 2, 3].
      Reply row = predict(s, "/v1/models/layers:predict", "{\"instances\": [[1, 2, 3]]}");
      assertThat(row.status()).as(row.text()).isEqualTo(200);
      assertThat(row.text()).isEqualTo("{\"predictions\": [[9.0, 10.75]]}");
      Reply col = predict(s, "/v1/models/layers:predict", "{\"inputs\": [[1, 2, 3], [0, 0, 0]]}");
      assertThat(col.text()).isEqualTo("{\"outputs\": [[9.0, 10.75], [2.0, 2.25]]}");
      JsonNode st = s.get("/v1/models/layers").json().path("model_version_status").get(0);
      assertThat(st.path("state").asString("")).isEqualTo("AVAILABLE");
    }
  }

  @Test
  void aModelTheRuntimeCannotRunIsRefusedWith501AndShownInItsStatus() {
    try (TestServer s = new TestServer(tmp.resolve("store"), null)) {
      byte[] lambda =
          new String(TestServer.denseModelJson("model.weights.bin"), StandardCharsets.UTF_8)
              .replace("\"class_name\":\"Dense\"", "\"class_name\":\"Lambda\"")
              .getBytes(StandardCharsets.UTF_8);
      Reply up =
          s.upload(
              "lambda", TestServer.Multipart.tfjs(lambda, TestServer.denseWeights(0.5f)), null);
      assertThat(up.status()).as(up.text()).isEqualTo(201);
      String msg =
          predict(s, "/v1/models/lambda:predict", "{\"instances\": [[1, 2, 3]]}")
              .assertJsonError(501);
      assertThat(msg).contains("'lambda' version 1").doesNotContain(s.store.toString());
      JsonNode st = s.get("/v1/models/lambda").json().path("model_version_status").get(0);
      assertThat(st.path("state").asString("")).isEqualTo("END");
      assertThat(st.path("status").path("error_code").asString("")).isEqualTo("UNIMPLEMENTED");
      assertThat(st.path("status").path("error_message").asString("")).isEqualTo(msg);
    }
  }
}
