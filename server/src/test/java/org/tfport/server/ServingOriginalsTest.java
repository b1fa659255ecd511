package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.server.TestServer.Reply;
import org.tfport.testkit.Comparison;
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
 * stays downloadable for TF.js clients.
 */
@OracleTest
class ServingOriginalsTest {
  private static final double ATOL = 1e-5;
  private static final double RTOL = 1e-4;

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
        upload(s, name, "application/octet-stream", file, "model.tflite");
        TfliteOracle.Load load = TfliteOracle.load(file);
        assertThat(load.accepted()).as(rel + ": " + load.error()).isTrue();
        List<TfliteOracle.Tensor> ins = TfliteOracle.randomInputs(load, rel.hashCode());
        List<TfliteOracle.Tensor> outs = TfliteOracle.run(file, ins);
        JsonNode sig = signature(s, name);
        assertThat(sig.path("inputs").size()).as(rel + " inputs").isEqualTo(1);
        assertThat(sig.path("outputs").size()).as(rel + " outputs").isEqualTo(1);
        TfliteOracle.Tensor in = ins.get(0);
        float[] x = floats(in.data());
        String body = "{\"inputs\": " + nested(x, in.shape()) + "}";
        float[] got = columnar(s, name, body).get(null);
        assertClose(rel, got, floats(outs.get(0).data()));
        compared++;
      }
    }
    assertThat(compared).as(".tflite files compared").isGreaterThanOrEqualTo(2);
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
      for (var e : shapes(s, "sm").entrySet()) {
        int tf = dtype(inputs.path(e.getKey()).path("dtype").asString("")).tfEnum();
        TfjsOracle.Input in = TensorFlowOracle.random(e.getKey(), e.getValue(), tf, rnd);
        feeds.put(e.getKey(), new TensorFlowOracle.Feed(in, tf));
        body.append(feeds.size() > 1 ? ", " : "")
            .append('"')
            .append(e.getKey())
            .append("\": ")
            .append(
                in.data() != null
                    ? nested(in.data(), toInts(e.getValue()))
                    : nested(i -> Integer.toString(in.ints()[i]), toInts(e.getValue())));
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
        String ext = rel.endsWith(".h5") ? "model.h5" : "model.keras";
        int v = upload(s, name, "application/octet-stream", file, ext);
        Random rnd = new Random(rel.hashCode());
        Map<String, Tensor> feeds = new LinkedHashMap<>();
        StringBuilder body = new StringBuilder("{\"inputs\": {");
        for (var e : shapes(s, name).entrySet()) {
          long[] shape = e.getValue();
          float[] x = new float[(int) Shape.of(shape).size()];
          for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextFloat() * 2 - 1;
          }
          feeds.put(e.getKey(), Tensor.ofFloats(Shape.of(shape), x));
          body.append(feeds.size() > 1 ? ", " : "")
              .append('"')
              .append(e.getKey())
              .append("\": ")
              .append(nested(x, toInts(shape)));
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
      int v = upload(s, "k3", "application/octet-stream", keras, "model.keras");
      forgetTfjsSave(s, "k3", v);
      assertClose(
          "dense.keras",
          columnar(s, "k3", "{\"inputs\": " + nested(x, new int[] {2, 4}) + "}").get(null),
          want);
    }
  }

  // ------------------------------------------------------------------ helpers

  /**
   * Uploads a file raw as the next version; checks the original is kept and the TF.js save is
   * downloadable.
   */
  private static int upload(TestServer s, String name, String type, Path file, String kept)
      throws Exception {
    Reply r = s.post("/models/" + name, type, Files.readAllBytes(file), null);
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

  private static JsonNode signature(TestServer s, String name) {
    Reply meta = s.get("/v1/models/" + name + "/metadata");
    assertThat(meta.status()).as(meta.text()).isEqualTo(200);
    JsonNode defs = meta.json().at("/metadata/signature_def/signature_def");
    return defs.has("serving_default")
        ? defs.get("serving_default")
        : defs.values().iterator().next();
  }

  /** Each input's shape from the served metadata, a free dimension taking 2. */
  private static Map<String, long[]> shapes(TestServer s, String name) {
    Map<String, long[]> out = new LinkedHashMap<>();
    for (var e : signature(s, name).path("inputs").properties()) {
      List<Long> dims = new ArrayList<>();
      for (JsonNode d : e.getValue().path("tensor_shape").path("dim")) {
        long n = Long.parseLong(d.path("size").asString(""));
        dims.add(n >= 0 ? n : 2);
      }
      out.put(e.getKey(), dims.stream().mapToLong(Long::longValue).toArray());
    }
    return out;
  }

  /** Calls :predict with a columnar body; the outputs flattened by name (null: the only one). */
  private static Map<String, float[]> columnar(TestServer s, String name, String body) {
    Reply r = ServingFixtures.predict(s, "/v1/models/" + name + ":predict", body);
    assertThat(r.status()).as(name + ": " + r.text()).isEqualTo(200);
    JsonNode outputs = ServingFixtures.json(r).get("outputs");
    Map<String, float[]> out = new LinkedHashMap<>();
    if (outputs.isObject()) {
      for (var e : outputs.properties()) {
        out.put(e.getKey(), flatten(e.getValue()));
      }
    } else {
      out.put(null, flatten(outputs));
    }
    return out;
  }

  private static float[] flatten(JsonNode v) {
    List<Float> vals = new ArrayList<>();
    flatten(v, vals);
    float[] f = new float[vals.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = vals.get(i);
    }
    return f;
  }

  private static void flatten(JsonNode v, List<Float> into) {
    if (v.isArray()) {
      for (JsonNode e : v) {
        flatten(e, into);
      }
    } else {
      into.add((float) v.doubleValue());
    }
  }

  private static float[] floats(byte[] le) {
    var b = java.nio.ByteBuffer.wrap(le).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    float[] f = new float[b.remaining()];
    b.get(f);
    return f;
  }

  private static DType dtype(String tf) {
    for (DType d : DType.values()) {
      if (d.tfName().equals(tf)) {
        return d;
      }
    }
    throw new AssertionError("unexpected dtype " + tf);
  }

  private static int[] toInts(long[] shape) {
    int[] s = new int[shape.length];
    for (int i = 0; i < s.length; i++) {
      s[i] = (int) shape[i];
    }
    return s;
  }

  /** The values as a nested JSON array of the given shape. */
  static String nested(float[] x, int[] shape) {
    return nested(i -> Float.toString(x[i]), shape);
  }

  private static String nested(java.util.function.IntFunction<String> value, int[] shape) {
    StringBuilder b = new StringBuilder();
    nested(b, value, shape, 0, new int[] {0});
    return b.toString();
  }

  private static void nested(
      StringBuilder b,
      java.util.function.IntFunction<String> value,
      int[] shape,
      int dim,
      int[] at) {
    if (dim == shape.length) {
      b.append(value.apply(at[0]++));
      return;
    }
    b.append('[');
    for (int i = 0; i < shape[dim]; i++) {
      b.append(i > 0 ? ", " : "");
      nested(b, value, shape, dim + 1, at);
    }
    b.append(']');
  }

  private static void assertClose(String what, float[] actual, float[] expected) {
    assertThat(actual).as(what + ": missing from the answer").isNotNull();
    Comparison c = TfjsOracle.compare(expected, actual, ATOL, RTOL);
    assertThat(c.mismatches()).as(what + ": " + c).isZero();
    assertThat(actual.length).as(what).isEqualTo(expected.length);
  }
}
