package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.server.ServingFixtures.assertClose;
import static org.tfport.server.ServingFixtures.columnar;
import static org.tfport.server.ServingFixtures.concrete;
import static org.tfport.server.ServingFixtures.declaredShapes;
import static org.tfport.server.ServingFixtures.nested;
import static org.tfport.server.ServingFixtures.signature;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.server.TestServer.Reply;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfliteOracle;
import tools.jackson.databind.JsonNode;

/**
 * Uploads of a {@code .tflite}, a zipped SavedModel, a {@code .h5} and a {@code .keras} are served
 * as themselves: the version keeps the original, {@code :predict} runs it (the TF.js save is
 * deleted before the first call, so only the original can answer) and answers what TFLite 2.18,
 * TensorFlow 2.18 or the runtime on the corpus file compute, within 1e-5 + 1e-4·|b|; the TF.js save
 * stays downloadable for TF.js clients. A fully integer {@code .tflite}, which TF.js cannot
 * compute, is kept as its original alone and answers as TFLite does, within the one output step the
 * runtime's TFLite corpus test allows.
 */
@OracleTest
class ServingOriginalsTest {
  @TempDir Path tmp;

  @Test
  void tfliteFilesAnswerAsTflite() throws Exception {
    List<String> models =
        List.of(
            "tflite/serving/half_plus_two.tflite",
            "tflite/tflite-micro/hello_world_float.tflite",
            "tflite/tflite-support/dilated_conv.tflite");
    int compared = 0;
    try (TestServer s = new TestServer(tmp.resolve("store"), null)) {
      for (String rel : models) {
        if (!Corpus.has(rel)) {
          continue;
        }
        Path file = Corpus.require(rel);
        String name = "t" + compared;
        upload(s, name, file, "model.tflite");
        TfliteOracle.Load load = TfliteOracle.load(file);
        assertThat(load.accepted()).as(rel + ": " + load.error()).isTrue();
        List<TfliteOracle.Tensor> ins = TfliteOracle.randomInputs(load, rel.hashCode());
        List<TfliteOracle.Tensor> outs = TfliteOracle.run(file, ins);
        JsonNode sig = signature(s, name);
        assertThat(sig.path("inputs").size()).as(rel + " inputs").isEqualTo(1);
        assertThat(sig.path("outputs").size()).as(rel + " outputs").isEqualTo(1);
        TfliteOracle.Tensor in = ins.get(0);
        String body = "{\"inputs\": " + nested(floats(in.data()), dims(in.shape())) + "}";
        assertClose(rel, columnar(s, name, body).get(null), floats(outs.get(0).data()));
        compared++;
      }
    }
    assertThat(compared).as(".tflite files compared").isGreaterThanOrEqualTo(2);
  }

  /**
   * Fully integer models: TF.js has no integer kernels, so the upload keeps the file alone; every
   * TF.js download says why (409), the listings and summary describe the file, and {@code :predict}
   * answers TFLite's int8 codes within one step (where TFLite loads the file).
   */
  @Test
  void fullIntegerTfliteIsKeptAloneAndAnswersAsTflite() throws Exception {
    List<String> models =
        List.of(
            "tflite/tflite-micro/hello_world_int8.tflite",
            "tflite/tflite-micro/person_detect.tflite");
    int compared = 0;
    int uploaded = 0;
    try (TestServer s = new TestServer(tmp.resolve("store"), null)) {
      for (String rel : models) {
        if (!Corpus.has(rel)) {
          continue;
        }
        Path file = Corpus.require(rel);
        String name = "q" + uploaded++;
        Reply up = s.post("/models/" + name, "application/octet-stream", bytes(file), null);
        assertThat(up.status()).as(rel + ": " + up.text()).isEqualTo(201);
        JsonNode meta = up.json();
        assertThat(meta.path("tfjs").asBoolean(true)).isFalse();
        assertThat(meta.has("modelUrl")).isFalse();
        assertThat(meta.path("noTfjs").asString("")).contains("quantized integers");
        assertThat(up.header("location")).isEqualTo("/models/" + name + "/versions/1");
        Path version = s.store.resolve(name + "/versions/1");
        assertThat(version.resolve(Upload.ORIGINAL + "/model.tflite")).hasSameBinaryContentAs(file);
        assertThat(version.resolve("model.json")).doesNotExist();

        for (String path :
            List.of(
                "/models/" + name + "/model.json",
                "/models/" + name + "/versions/1/model.json",
                "/models/" + name + "/versions/1/graph.svg")) {
          assertThat(s.get(path).assertJsonError(409))
              .startsWith("this version has no TF.js form: ")
              .contains("quantized integers")
              .doesNotContain(s.store.toString());
        }
        JsonNode listed = null;
        for (JsonNode m : s.get("/models").json().path("models")) {
          listed = m.path("name").asString("").equals(name) ? m : listed;
        }
        assertThat(listed).as("listed").isNotNull();
        assertThat(listed.path("tfjs").asBoolean(true)).isFalse();
        assertThat(listed.has("modelUrl")).isFalse();
        JsonNode summary = listed.path("summary");
        assertThat(summary.path("format").asString("")).isEqualTo("tflite");
        assertThat(summary.path("originalBytes").asLong()).isEqualTo(Files.size(file));
        assertThat(summary.path("inputs").get(0).path("dtype").asString("")).isEqualTo("int8");
        assertThat(summary.path("ops").size()).isPositive();
        Reply details = s.get("/models/" + name);
        assertThat(details.json().has("modelUrl")).as(details.text()).isFalse();
        assertThat(details.json().at("/versions/0/noTfjs").asString(""))
            .isEqualTo(meta.path("noTfjs").asString(""));

        TfliteOracle.Load load = TfliteOracle.load(file);
        if (!load.accepted()) {
          // person_detect: TFLite 2.18 refuses its quantization parameters, so there is nothing
          // to compare with; its upload is checked above.
          continue;
        }
        List<TfliteOracle.Tensor> ins = TfliteOracle.randomInputs(load, rel.hashCode());
        List<TfliteOracle.Tensor> outs = TfliteOracle.run(file, ins);
        TfliteOracle.Tensor in = ins.get(0);
        assertThat(in.dtype()).isEqualTo("int8");
        JsonNode x = signature(s, name).path("inputs").values().iterator().next();
        assertThat(x.path("dtype").asString("")).isEqualTo("DT_INT8");
        byte[] codes = in.data();
        String body =
            "{\"inputs\": " + nested(i -> Byte.toString(codes[i]), dims(in.shape())) + "}";
        float[] got = columnar(s, name, body).get(null);
        // Integer outputs in codes: within the one step TfliteCorpusImportTest allows.
        assertClose(rel + " (int8 codes)", got, outs.get(0).floats(), 1, 0);
        compared++;
      }
    }
    assertThat(compared).as("fully integer .tflite files compared").isGreaterThanOrEqualTo(1);
  }

  @Test
  void zippedSavedModelAnswersAsTensorFlow() throws Exception {
    String rel = "savedmodel/tfjs-node_model_multi_output";
    if (!Corpus.has(rel)) {
      org.junit.jupiter.api.Assumptions.abort("corpus lacks " + rel);
    }
    Path dir = Corpus.require(rel);
    try (TestServer s = new TestServer(tmp.resolve("store"), null)) {
      int v = ServingFixtures.uploadSavedModel(s, "sm", dir, null);
      Path kept = s.store.resolve("sm/versions/" + v + "/" + Upload.ORIGINAL + "/saved_model");
      assertThat(kept.resolve("saved_model.pb")).exists();
      Random rnd = new Random(7);
      Map<String, TensorFlowOracle.Feed> feeds = new LinkedHashMap<>();
      StringBuilder body = new StringBuilder("{\"inputs\": {");
      JsonNode inputs = signature(s, "sm").path("inputs");
      for (var e : declaredShapes(s, "sm").entrySet()) {
        long[] shape = concrete(e.getValue(), 2);
        int tf = ServingFixtures.dtype(inputs.path(e.getKey()).path("dtype").asString("")).tfEnum();
        TfjsOracle.Input in = TensorFlowOracle.random(e.getKey(), shape, tf, rnd);
        feeds.put(e.getKey(), new TensorFlowOracle.Feed(in, tf));
        body.append(feeds.size() > 1 ? ", " : "")
            .append('"')
            .append(e.getKey())
            .append("\": ")
            .append(
                in.data() != null
                    ? nested(in.data(), shape)
                    : nested(i -> Integer.toString(in.ints()[i]), shape));
      }
      body.append("}}");
      forgetTfjsSave(s, "sm", v);
      Map<String, float[]> expected =
          TensorFlowOracle.runSavedModel(dir, "serve", "serving_default", feeds);
      Map<String, float[]> got = columnar(s, "sm", body.toString());
      assertThat(expected).isNotEmpty();
      for (var e : expected.entrySet()) {
        assertClose(
            rel + " " + e.getKey(),
            got.get(expected.size() == 1 ? null : e.getKey()),
            e.getValue());
      }
    }
  }

  @Test
  void kerasFilesAnswerAsTheRuntime() throws Exception {
    List<String> models =
        List.of(
            "keras_h5/dl4j-konduit/tfkeras/mlp_30.h5", "keras_h5/dl4j-konduit/tfkeras/cnn2d_67.h5");
    int compared = 0;
    try (TestServer s = new TestServer(tmp.resolve("store"), null)) {
      for (String rel : models) {
        if (!Corpus.has(rel)) {
          continue;
        }
        Path file = Corpus.require(rel);
        String name = "k" + compared;
        int v = upload(s, name, file, rel.endsWith(".h5") ? "model.h5" : "model.keras");
        Random rnd = new Random(rel.hashCode());
        Map<String, Tensor> feeds = new LinkedHashMap<>();
        StringBuilder body = new StringBuilder("{\"inputs\": {");
        for (var e : declaredShapes(s, name).entrySet()) {
          long[] shape = concrete(e.getValue(), 2);
          float[] x = new float[(int) Shape.of(shape).size()];
          for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextFloat() * 2 - 1;
          }
          feeds.put(e.getKey(), Tensor.ofFloats(Shape.of(shape), x));
          body.append(feeds.size() > 1 ? ", " : "")
              .append('"')
              .append(e.getKey())
              .append("\": ")
              .append(nested(x, shape));
        }
        body.append("}}");
        forgetTfjsSave(s, name, v);
        Map<String, Tensor> expected;
        try (Model m = Model.load(file);
            Session session = m.newSession()) {
          expected = session.run(feeds);
        }
        Map<String, float[]> got = columnar(s, name, body.toString());
        for (var e : expected.entrySet()) {
          assertClose(
              rel + " " + e.getKey(),
              got.get(expected.size() == 1 ? null : e.getKey()),
              e.getValue().toFloatArray());
        }
        compared++;
      }
    }
    assertThat(compared).as("Keras .h5 files compared").isGreaterThanOrEqualTo(1);
  }

  /**
   * A Keras 3 {@code .keras} file made here (the corpus's need custom objects or masks): Dense(3,
   * tanh) over 4 features, checked against tanh(x·W + b) computed by hand.
   */
  @Test
  void keras3FileAnswersByHand() throws Exception {
    float[] w = new float[12];
    float[] b = {0.1f, -0.2f, 0.3f};
    for (int i = 0; i < w.length; i++) {
      w[i] = (i % 5 - 2) * 0.25f;
    }
    Path keras = Keras3Files.dense(tmp.resolve("dense.keras"), w, b);
    float[] x = {0.5f, -1f, 2f, 0.25f, -0.75f, 1.5f, 0f, -2f};
    float[] want = new float[6];
    for (int r = 0; r < 2; r++) {
      for (int o = 0; o < 3; o++) {
        double acc = b[o];
        for (int i = 0; i < 4; i++) {
          acc += (double) x[r * 4 + i] * w[i * 3 + o];
        }
        want[r * 3 + o] = (float) Math.tanh(acc);
      }
    }
    try (TestServer s = new TestServer(tmp.resolve("store"), null)) {
      int v = upload(s, "k3", keras, "model.keras");
      forgetTfjsSave(s, "k3", v);
      assertClose(
          "dense.keras",
          columnar(s, "k3", "{\"inputs\": " + nested(x, new long[] {2, 4}) + "}").get(null),
          want);
    }
  }

  // ------------------------------------------------------------------ helpers

  /**
   * Uploads a file raw as the next version; checks the original is kept and the TF.js save is
   * downloadable.
   */
  private static int upload(TestServer s, String name, Path file, String kept) throws Exception {
    Reply r = s.post("/models/" + name, "application/octet-stream", bytes(file), null);
    assertThat(r.status()).as(file + ": " + r.text()).isEqualTo(201);
    int v = r.json().path("version").asInt();
    Path original = s.store.resolve(name + "/versions/" + v + "/" + Upload.ORIGINAL + "/" + kept);
    assertThat(original).hasSameBinaryContentAs(file);
    Reply json = s.get("/models/" + name + "/versions/" + v + "/model.json");
    assertThat(json.status()).as(json.text()).isEqualTo(200);
    assertThat(json.json().path("modelTopology").isObject()).isTrue();
    return v;
  }

  /**
   * Deletes the version's TF.js model.json (tests only: versions are immutable), so a predict that
   * still answers ran the original.
   */
  private static void forgetTfjsSave(TestServer s, String name, int v) throws Exception {
    Files.delete(s.store.resolve(name + "/versions/" + v + "/model.json"));
  }

  private static byte[] bytes(Path file) throws Exception {
    return Files.readAllBytes(file);
  }

  private static long[] dims(int[] shape) {
    return Arrays.stream(shape).asLongStream().toArray();
  }

  private static float[] floats(byte[] le) {
    var b = ByteBuffer.wrap(le).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    float[] f = new float[b.remaining()];
    b.get(f);
    return f;
  }
}
