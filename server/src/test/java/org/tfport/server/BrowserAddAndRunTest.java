package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.awt.image.BufferedImage;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Json;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.Repo;
import tools.jackson.databind.JsonNode;

/**
 * The page as a new user meets it, in headless Debian chromium: a server with a read token and no
 * {@code --tfjs} flag (TF.js comes from the jar), models added by drag-and-drop and the file picker
 * in every upload form, the layers table's output shapes, an edited input run and checked by hand,
 * the view of a fully integer {@code .tflite} kept without a TF.js form (its TF.js buttons
 * disabled), an image fed to an image model, and screenshots at desktop and phone width in {@code
 * server/target/screenshots/}.
 */
@OracleTest
class BrowserAddAndRunTest {
  @TempDir Path tmp;

  @Test
  void addsModelsEditsInputAndFitsAPhone() throws Exception {
    NodeTools.ensureChromium();
    NodeTools.ensurePlaywright();
    Path abalone = Corpus.require("tfjs/layers/tfjs-examples_abalone/model.json");
    Path nsfw = Corpus.require("tfjs/layers/nsfwjs_mobilenet_v2/model.json");
    Path h5 = Corpus.require("keras_h5/dl4j-konduit/examples/activations/ReLU_0_model.h5");
    Path weightsOnly =
        Corpus.require("keras_h5/dl4j-konduit/examples/activations/ReLU_0_weights.h5");
    Path tflite = Corpus.require("tflite/serving/half_plus_two.tflite");
    Path integerTflite = Corpus.require("tflite/tflite-micro/hello_world_int8.tflite");
    Path savedModel =
        Corpus.require("savedmodel/serving_saved_model_half_plus_two_tf2_cpu/saved_model.pb")
            .getParent();

    Path dense = Files.createDirectories(tmp.resolve("dense"));
    Files.write(dense.resolve("model.json"), TestServer.denseModelJson("model.weights.bin"));
    Files.write(dense.resolve("model.weights.bin"), TestServer.denseWeights(0.5f));
    Path zip = zip(savedModel, tmp.resolve("half_plus_two.zip"));
    Path png = tmp.resolve("photo.png");
    BufferedImage img = new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 48; y++) {
      for (int x = 0; x < 64; x++) {
        img.setRGB(x, y, (x * 4) << 16 | (y * 5) << 8 | 128);
      }
    }
    ImageIO.write(img, "png", png.toFile());

    var files = Json.MAPPER.createObjectNode();
    files.set("dense", paths(dense.resolve("model.json"), dense.resolve("model.weights.bin")));
    files.set("abalone", paths(abalone, abalone.resolveSibling("weights.bin")));
    files.put("h5", h5.toString());
    files.put("weightsOnly", weightsOnly.toString());
    files.put("tflite", tflite.toString());
    files.put("integerTflite", integerTflite.toString());
    files.put("savedModelZip", zip.toString());
    files.set("image", paths(nsfw, nsfw.resolveSibling("group1-shard1of1")));
    files.put("png", png.toString());
    Path filesJson = tmp.resolve("files.json");
    Json.MAPPER.writeValue(filesJson.toFile(), files);

    ServerConfig config =
        ServerConfig.of("127.0.0.1", 0, tmp.resolve("store"), "w-secret")
            .withSecurity(ServerSecurity.defaults().withReadToken("r-secret"));
    Path shots = Files.createDirectories(Repo.root().resolve("server/target/screenshots"));
    try (TestServer s = new TestServer(config)) {
      assertThat(s.server.tfjsBundle()).contains("bundled");
      JsonNode r =
          Json.MAPPER.readTree(
              NodeTools.run(
                  "page_test.js",
                  400,
                  s.base,
                  "w-secret",
                  "r-secret",
                  shots.toString(),
                  tmp.resolve("profile").toString(),
                  filesJson.toString()));
      assertThat(r.has("error")).as(r.toString()).isFalse();
      assertThat(r.path("askedForToken").asBoolean()).isTrue();
      assertThat(r.path("tokenKept").asString("")).isEqualTo("r-secret");
      assertThat(r.path("tfjs").asString("")).startsWith("TF.js 4.22.0");

      // Drag-and-drop of TF.js's save format; the edited input [[1, 2, 3]] against y = xK + b.
      assertThat(ok(r, "dense")).isTrue();
      assertThat(rows(r.path("denseLayers"))).containsExactly(List.of("d", "Dense", "[?, 2]", "8"));
      float[] w = floats(TestServer.denseWeights(0.5f));
      double[] x = {1, 2, 3};
      JsonNode y = outputs(r.path("denseRun")).get(0);
      for (int j = 0; j < 2; j++) {
        double want = w[6 + j];
        for (int i = 0; i < 3; i++) {
          want += x[i] * w[i * 2 + j];
        }
        assertThat(y.get(j).asDouble()).isCloseTo(want, within(1e-5));
      }

      assertThat(ok(r, "abalone")).isTrue();
      List<List<String>> ab = rows(r.path("abaloneLayers"));
      assertThat(ab).hasSize(3);
      assertThat(ab.get(ab.size() - 1)).element(2).isEqualTo("[?, 1]");
      assertThat(ok(r, "h5")).as(r.path("h5").toString()).isTrue();
      assertThat(r.path("h5Layers").size()).isPositive();
      assertThat(r.path("weightsOnly").path("ok").asBoolean(true)).isFalse();
      assertThat(r.path("weightsOnly").path("text").asString(""))
          .contains("HTTP 422", "only weights", "model.save_weights");

      // .tflite and zipped SavedModel: y = 0.5 x + 2 on the page's own input.
      for (String run : new String[] {"tfliteRun", "savedModelRun"}) {
        assertThat(ok(r, run.replace("Run", ""))).isTrue();
        JsonNode node = r.path(run);
        assertThat(node.path("ok").asBoolean()).as(node.toString()).isTrue();
        double[] in = flatten(Json.MAPPER.readTree(node.path("input").asString()));
        JsonNode out = outputs(node).get(0);
        assertThat(out.size()).isEqualTo(in.length);
        for (int i = 0; i < in.length; i++) {
          assertThat(out.get(i).asDouble()).isCloseTo(0.5 * in[i] + 2, within(1e-5));
        }
      }

      // A fully integer .tflite has no TF.js form: listed and described, every TF.js button
      // disabled, nothing loaded into TF.js, and the page points at the REST predict instead.
      assertThat(ok(r, "integerTflite")).as(r.path("integerTflite").toString()).isTrue();
      JsonNode none = r.path("noTfjs");
      assertThat(none.path("buttons").size()).isGreaterThanOrEqualTo(6);
      List<String> ids = new ArrayList<>();
      for (JsonNode b : none.path("buttons")) {
        assertThat(b.path("disabled").asBoolean(false)).as(b.toString()).isTrue();
        ids.add(b.path("id").asString(""));
      }
      assertThat(ids).contains("run", "to-idb", "to-ls", "up-idb", "up-ls");
      assertThat(none.path("resultHidden").asBoolean(true)).isFalse();
      assertThat(none.path("resultOk").asString("")).isEqualTo("0");
      assertThat(none.path("result").asString(""))
          .startsWith("this version has no TF.js form: ")
          .contains("quantized integers", "POST /v1/models/hello-int8:predict");
      assertThat(none.path("summary").toString())
          .contains(
              "[\"format\",\"tflite\"]", "[\"TF.js\",\"none: ", "[\"operators\",\"FULLY_CONNECTED")
          .doesNotContain("model.json", "undefined");
      assertThat(none.path("graphSrc").isNull()).as(none.toString()).isTrue();
      assertThat(none.path("pictureHidden").asBoolean(false)).isTrue();
      // Nothing left over from the model shown before.
      assertThat(none.path("input").asString("x")).isEmpty();
      assertThat(none.path("inputHelp").asString("")).contains("TF.js cannot run this version");
      assertThat(none.path("loaded").asString("")).isEqualTo("0");
      assertThat(none.path("layersHidden").asBoolean(false)).isTrue();
      assertThat(none.path("listed").asString(""))
          .contains("hello-int8", "tflite", "int8", "3 operators")
          .doesNotContain("undefined");

      // An image model takes a picture, scaled to its 224x224x3 input.
      assertThat(ok(r, "image")).isTrue();
      assertThat(r.path("imageMode").asBoolean()).isTrue();
      assertThat(r.path("imageRun").path("ok").asBoolean())
          .as(r.path("imageRun").toString())
          .isTrue();
      assertThat(r.path("imageRun").path("text").asString(""))
          .contains("input [1,224,224,3]", "[1,5] float32");
      double sum = 0;
      for (JsonNode v : outputs(r.path("imageRun")).get(0)) {
        sum += v.asDouble();
      }
      assertThat(sum).as("softmax over 5 classes").isCloseTo(1.0, within(1e-4));

      assertThat(r.path("phoneRun").path("ok").asBoolean()).isTrue();
      assertThat(r.path("phoneWidth").asInt())
          .as("no sideways scrolling at 390 px")
          .isLessThanOrEqualTo(390);
      assertThat(r.path("consoleErrors").size()).as(r.path("consoleErrors").toString()).isZero();
      for (String shot : new String[] {"noTfjsShot", "desktopShot", "phoneShot", "phoneTopShot"}) {
        Path p = Path.of(r.path(shot).asString());
        assertThat(Files.size(p)).isGreaterThan(10_000);
        System.out.println("[browser test] screenshot: " + p);
      }
    }
  }

  private static boolean ok(JsonNode r, String key) {
    return r.path(key).path("ok").asBoolean(false);
  }

  private static JsonNode outputs(JsonNode run) {
    return Json.MAPPER.readTree(run.path("data").path("outputs").asString("[]"));
  }

  private static List<List<String>> rows(JsonNode table) {
    List<List<String>> out = new ArrayList<>();
    for (JsonNode row : table) {
      List<String> cells = new ArrayList<>();
      row.forEach(c -> cells.add(c.asString().trim()));
      out.add(cells);
    }
    return out;
  }

  private static double[] flatten(JsonNode n) {
    List<Double> out = new ArrayList<>();
    flatten(n, out);
    return out.stream().mapToDouble(Double::doubleValue).toArray();
  }

  private static void flatten(JsonNode n, List<Double> out) {
    if (n.isArray()) {
      n.forEach(c -> flatten(c, out));
    } else {
      out.add(n.asDouble());
    }
  }

  private static float[] floats(byte[] b) {
    ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    float[] f = new float[b.length / 4];
    for (int i = 0; i < f.length; i++) {
      f[i] = buf.getFloat();
    }
    return f;
  }

  private static JsonNode paths(Path... ps) {
    var a = Json.MAPPER.createArrayNode();
    for (Path p : ps) {
      a.add(p.toString());
    }
    return a;
  }

  /** A zip of a SavedModel folder, as a user makes one to upload it. */
  private static Path zip(Path dir, Path zip) throws Exception {
    try (OutputStream os = Files.newOutputStream(zip);
        ZipOutputStream z = new ZipOutputStream(os);
        Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
        z.putNextEntry(
            new ZipEntry("half_plus_two/" + dir.relativize(p).toString().replace('\\', '/')));
        Files.copy(p, z);
        z.closeEntry();
      }
    }
    return zip;
  }
}
