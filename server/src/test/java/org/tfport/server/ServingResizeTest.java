package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.server.ServingFixtures.assertClose;
import static org.tfport.server.ServingFixtures.nested;
import static org.tfport.server.ServingFixtures.predict;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.server.TestServer.Reply;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfliteOracle;

/**
 * TF Serving resizes a TFLite interpreter's inputs to each request's tensors; tfport builds the
 * model again for those shapes. A request of 4 rows to a {@code .tflite} declared for 1 answers
 * what TFLite 2.18 computes with its input resized to 4 rows, and each row equals a call of that
 * row alone; where TFLite's ops refuse the resized shapes, the answer is a 400 naming the op and
 * the shapes. A Keras file saved for a batch of 1 is built for the request's batch size, checked
 * against tanh(x·W + b) by hand.
 */
@OracleTest
class ServingResizeTest {
  @TempDir Path tmp;

  @Test
  void tfliteInputsAreResizedAsTfliteResizesThem() throws Exception {
    List<String> models =
        List.of(
            "tflite/serving/half_plus_two.tflite",
            "tflite/tflite-micro/trained_lstm.tflite",
            "tflite/tflite-micro/micro_speech_quantized.tflite",
            "tflite/tflite-micro/trained_lstm_int8.tflite");
    Corpus.require(models.get(0)); // skips the test where the corpus is absent
    int answered = 0;
    int refused = 0;
    try (TestServer s = new TestServer(tmp.resolve("store"), null)) {
      for (String rel : models) {
        if (!Corpus.has(rel)) {
          continue;
        }
        Path file = Corpus.require(rel);
        TfliteOracle.Load load = TfliteOracle.load(file);
        if (!load.accepted()) {
          continue;
        }
        String name = "r" + (answered + refused);
        Reply up =
            s.post("/models/" + name, "application/octet-stream", Files.readAllBytes(file), null);
        assertThat(up.status()).as(rel + ": " + up.text()).isEqualTo(201);
        TfliteOracle.TensorInfo info = load.inputs().get(0);
        assertThat(info.shape()[0]).as(rel + " is declared for one row").isEqualTo(1);
        int[] four = info.shape();
        four[0] = 4;
        TfliteOracle.Tensor in = random(info.dtype(), four, rel.hashCode());
        boolean integer = !info.dtype().equals("float32");
        String expectedError = null;
        List<TfliteOracle.Tensor> outs = null;
        try {
          outs = TfliteOracle.run(file, List.of(in));
        } catch (IllegalStateException e) {
          expectedError = e.getMessage();
        }
        Reply r = predict(s, "/v1/models/" + name + ":predict", body(in, four));
        if (outs == null) {
          // TFLite's ops refuse 4 rows: so must tfport's, naming the op and the shapes.
          String msg = r.assertJsonError(400);
          assertThat(msg)
              .as(rel + " (TFLite: " + expectedError + ")")
              .contains(Arrays.toString(four))
              .containsAnyOf("Reshape", "TfliteLstm", "LSTM", "Quantized")
              .doesNotContain(s.store.toString());
          refused++;
          continue;
        }
        assertThat(r.status()).as(rel + ": " + r.text()).isEqualTo(200);
        float[] got = ServingFixtures.flatten(r.json().get("outputs"));
        float[] want = outs.get(0).floats();
        if (integer) {
          assertClose(rel + " (4 rows, codes)", got, want, 1, 0);
        } else {
          assertClose(rel + " (4 rows)", got, want);
        }
        // Each row alone: the declared shape, no resizing, the same numbers.
        int per = got.length / 4;
        for (int row = 0; row < 4; row++) {
          int[] one = info.shape();
          TfliteOracle.Tensor x = row(in, row, 4);
          Reply single = predict(s, "/v1/models/" + name + ":predict", body(x, one));
          assertThat(single.status()).as(rel + " row " + row + ": " + single.text()).isEqualTo(200);
          float[] alone = ServingFixtures.flatten(single.json().get("outputs"));
          assertClose(
              rel + " row " + row + " alone",
              alone,
              Arrays.copyOfRange(got, row * per, (row + 1) * per),
              integer ? 1 : 1e-6,
              integer ? 0 : 1e-6);
        }
        answered++;
      }
    }
    // half_plus_two and micro_speech (int8, its reshape to [-1, 49, 40, 1]) take 4 rows; the LSTMs
    // keep a state of one row, which TFLite's Prepare and tfport's kernel both refuse.
    assertThat(answered).as("resized .tflite files answered").isGreaterThanOrEqualTo(2);
    assertThat(refused)
        .as("resized .tflite files refused as TFLite refuses")
        .isGreaterThanOrEqualTo(1);
  }

  /**
   * Dense(3, tanh) over [1, 2, 4] (one row of two steps): Keras keeps the outer dims, which the
   * graph built for one row holds in a reshape; 4 rows get the graph built for 4.
   */
  @Test
  void kerasFileSavedForOneRowTakesFour() throws Exception {
    float[] w = new float[12];
    float[] b = {0.1f, -0.2f, 0.3f};
    for (int i = 0; i < w.length; i++) {
      w[i] = (i % 5 - 2) * 0.25f;
    }
    Path keras = Keras3Files.dense(tmp.resolve("dense.keras"), w, b, "[1, 2, 4]");
    float[] x = new float[4 * 2 * 4];
    Random rnd = new Random(3);
    for (int i = 0; i < x.length; i++) {
      x[i] = rnd.nextFloat() * 4 - 2;
    }
    float[] want = new float[4 * 2 * 3];
    for (int r = 0; r < 8; r++) {
      for (int o = 0; o < 3; o++) {
        double acc = b[o];
        for (int i = 0; i < 4; i++) {
          acc += (double) x[r * 4 + i] * w[i * 3 + o];
        }
        want[r * 3 + o] = (float) Math.tanh(acc);
      }
    }
    try (TestServer s = new TestServer(tmp.resolve("store"), null)) {
      Reply up = s.post("/models/k", "application/octet-stream", Files.readAllBytes(keras), null);
      assertThat(up.status()).as(up.text()).isEqualTo(201);
      Files.delete(s.store.resolve("k/versions/1/model.json"));
      float[] got =
          ServingFixtures.columnar(s, "k", "{\"inputs\": " + nested(x, new long[] {4, 2, 4}) + "}")
              .get(null);
      assertClose("dense.keras at 4 rows", got, want);
      for (int row = 0; row < 4; row++) {
        float[] one = Arrays.copyOfRange(x, row * 8, row * 8 + 8);
        float[] alone =
            ServingFixtures.columnar(
                    s, "k", "{\"inputs\": " + nested(one, new long[] {1, 2, 4}) + "}")
                .get(null);
        assertClose("row " + row + " alone", alone, Arrays.copyOfRange(got, row * 6, row * 6 + 6));
      }
      // Only the batch size is built anew: three steps is a shape the model was not saved for.
      String msg =
          predict(
                  s,
                  "/v1/models/k:predict",
                  "{\"inputs\": " + nested(new float[4 * 3 * 4], new long[] {4, 3, 4}) + "}")
              .assertJsonError(400);
      assertThat(msg).contains("[1, 2, 4]", "[4, 3, 4]").doesNotContain(s.store.toString());
    }
  }

  @Test
  void modelsBuiltForOtherShapesCountAgainstTheCache() throws Exception {
    float[] w = new float[12];
    Arrays.fill(w, 0.25f);
    Path keras = Keras3Files.dense(tmp.resolve("dense.keras"), w, new float[3], "[1, 2, 4]");
    String one = "{\"inputs\": " + nested(new float[8], new long[] {1, 2, 4}) + "}";
    String four = "{\"inputs\": " + nested(new float[32], new long[] {4, 2, 4}) + "}";
    long stored;
    try (TestServer s = new TestServer(tmp.resolve("store"), null)) {
      upload(s, "a", keras);
      ok(s, "a", one);
      stored = metric(s, "tfport_loaded_model_bytes");
      ok(s, "a", four);
      // The model built for 4 rows holds its own weights: the version now counts twice.
      assertThat(metric(s, "tfport_loaded_model_bytes")).isEqualTo(2 * stored);
    }
    ServerConfig config =
        ServerConfig.of("127.0.0.1", 0, tmp.resolve("small"), null)
            .withServing(ServingConfig.defaults().withCacheBytes(2 * stored));
    try (TestServer s = new TestServer(config)) {
      upload(s, "a", keras);
      upload(s, "b", keras);
      ok(s, "b", one);
      ok(s, "a", one);
      assertThat(metric(s, "tfport_loaded_models")).isEqualTo(2);
      // a built again for 4 rows no longer fits beside b, the least recently used, which goes.
      ok(s, "a", four);
      assertThat(metric(s, "tfport_loaded_models")).isEqualTo(1);
      assertThat(metric(s, "tfport_loaded_model_bytes")).isEqualTo(2 * stored);
    }
  }

  private static void upload(TestServer s, String name, Path keras) throws Exception {
    Reply up =
        s.post("/models/" + name, "application/octet-stream", Files.readAllBytes(keras), null);
    assertThat(up.status()).as(up.text()).isEqualTo(201);
  }

  private static void ok(TestServer s, String model, String body) {
    Reply r = predict(s, "/v1/models/" + model + ":predict", body);
    assertThat(r.status()).as(r.text()).isEqualTo(200);
  }

  private static long metric(TestServer s, String name) {
    return s.get("/metrics")
        .text()
        .lines()
        .filter(l -> l.startsWith(name + " "))
        .mapToLong(l -> Long.parseLong(l.substring(name.length() + 1).strip()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no metric " + name));
  }

  // ------------------------------------------------------------------ helpers

  private static TfliteOracle.Tensor random(String dtype, int[] shape, long seed) {
    Random rnd = new Random(seed);
    int n = 1;
    for (int d : shape) {
      n *= d;
    }
    if (dtype.equals("float32")) {
      float[] v = new float[n];
      for (int i = 0; i < n; i++) {
        v[i] = rnd.nextFloat() * 2 - 1;
      }
      return TfliteOracle.Tensor.f32(shape, v);
    }
    assertThat(dtype).isIn("int8", "uint8");
    byte[] v = new byte[n];
    rnd.nextBytes(v);
    return new TfliteOracle.Tensor(dtype, shape, v);
  }

  /** Row {@code row} of {@code rows} as a tensor of one row. */
  private static TfliteOracle.Tensor row(TfliteOracle.Tensor t, int row, int rows) {
    int[] shape = t.shape();
    shape[0] = 1;
    byte[] all = t.data();
    int per = all.length / rows;
    return new TfliteOracle.Tensor(
        t.dtype(), shape, Arrays.copyOfRange(all, row * per, (row + 1) * per));
  }

  private static String body(TfliteOracle.Tensor t, int[] shape) {
    long[] dims = Arrays.stream(shape).asLongStream().toArray();
    byte[] data = t.data();
    IntFunction<String> value;
    if (t.dtype().equals("float32")) {
      var f = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      value = i -> Float.toString(f.get(i));
    } else if (t.dtype().equals("int8")) {
      value = i -> Byte.toString(data[i]);
    } else {
      value = i -> Integer.toString(data[i] & 0xff);
    }
    return "{\"inputs\": " + nested(value, dims) + "}";
  }
}
