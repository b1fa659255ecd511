package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Json;
import org.tfport.server.TestServer.Multipart;
import org.tfport.testkit.Corpus;
import tools.jackson.databind.JsonNode;

/**
 * What {@code tfport serve} prints at start-up runs as printed (with curl, in a shell, tokens from
 * the environment), and the upload forms the page offers: weight parts found by part name, a
 * .tflite file, a weights-only .h5 refused saying so, and the TF.js bundle served from the jar.
 */
class ServeUsageTest {
  private static final String WRITE = "w-token-1";
  private static final String READ = "r-token-2";

  @TempDir Path tmp;

  private TestServer server() {
    return new TestServer(
        ServerConfig.of("127.0.0.1", 0, tmp.resolve("store"), WRITE)
            .withSecurity(ServerSecurity.defaults().withReadToken(READ)));
  }

  @Test
  void printedCommandsWorkAsPrinted() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/curl")), "needs /usr/bin/curl");
    Path h5 = Corpus.require("keras_h5/dl4j-konduit/examples/activations/ReLU_0_model.h5");
    try (TestServer s = server()) {
      List<String> lines = ServeUsage.lines(s.server, true, true);
      assertThat(lines.get(0)).contains(s.base + "/", "TF.js 4.22.0 bundled in the server");
      Path work = Files.createDirectories(tmp.resolve("work"));
      Files.write(work.resolve("model.json"), TestServer.denseModelJson("model.weights.bin"));
      Files.write(work.resolve("model.weights.bin"), TestServer.denseWeights(0.5f));
      Files.copy(h5, work.resolve("model.h5"));

      String multipart = command(lines, "-F model.json=@model.json").replace("NAME", "dense");
      JsonNode up = Json.MAPPER.readTree(shell(work, multipart));
      assertThat(up.path("version").asInt()).as(up.toString()).isEqualTo(1);
      assertThat(up.path("files").has("model.weights.bin")).isTrue();
      // The weights the server stored are the bytes sent under the part name.
      assertThat(Files.readAllBytes(s.store.resolve("dense/versions/1/model.weights.bin")))
          .isEqualTo(TestServer.denseWeights(0.5f));

      String single = command(lines, "--data-binary @model.h5").replace("NAME", "elu");
      JsonNode h5up = Json.MAPPER.readTree(shell(work, single));
      assertThat(h5up.path("source").asString("")).as(h5up.toString()).isEqualTo("keras-h5");

      JsonNode list = Json.MAPPER.readTree(shell(work, command(lines, "list:")));
      assertThat(list.path("models").toString()).contains("\"dense\"", "\"elu\"");
      // Without the environment the same command is refused: the token really is needed.
      assertThat(shell(work, command(lines, "list:"), Map.of())).contains("token is wrong");
    }
  }

  @Test
  void weightPartsMatchByPartNameOrFileName() {
    try (TestServer s = server()) {
      Multipart m =
          new Multipart()
              .part("model.json", "model.json", "application/json", denseJson("w.bin"))
              .part("w.bin", "something-else.bin", "application/octet-stream", weights());
      assertThat(s.upload("by-part", m, WRITE).status()).isEqualTo(201);
      Multipart byFile =
          new Multipart()
              .part("model.json", "model.json", "application/json", denseJson("w.bin"))
              .part("file", "w.bin", "application/octet-stream", weights());
      assertThat(s.upload("by-file", byFile, WRITE).status()).isEqualTo(201);
      Multipart missing =
          new Multipart()
              .part("model.json", "model.json", "application/json", denseJson("w.bin"))
              .part("other", "other.bin", "application/octet-stream", weights());
      assertThat(s.upload("missing", missing, WRITE).assertJsonError(400))
          .contains("'w.bin'", "curl -F w.bin=@FILE");
    }
  }

  @Test
  void tfliteAndWeightsOnlyH5Uploads() throws IOException {
    Path tflite = Corpus.require("tflite/serving/half_plus_two.tflite");
    Path weights = Corpus.require("keras_h5/dl4j-konduit/examples/activations/ELU_0_weights.h5");
    try (TestServer s = server()) {
      var r = s.post("/models/hp2", null, Files.readAllBytes(tflite), WRITE);
      assertThat(r.status()).as(r.text()).isEqualTo(201);
      assertThat(r.json().path("source").asString("")).isEqualTo("tflite");
      assertThat(r.json().path("summary").path("format").asString("")).isEqualTo("graph-model");
      String msg =
          s.post("/models/w", "application/octet-stream", Files.readAllBytes(weights), WRITE)
              .assertJsonError(422);
      assertThat(msg).contains("only weights", "model.save_weights", "model.save('model.h5')");
    }
  }

  @Test
  void tfjsBundleAndNoticeServedFromTheJar() {
    try (TestServer s = server()) {
      assertThat(s.server.tfjsBundle()).isEqualTo("TF.js 4.22.0 bundled in the server");
      TestServer.Reply js = s.get("/vendor/tf.min.js");
      assertThat(js.status()).isEqualTo(200);
      assertThat(js.header("content-type")).startsWith("text/javascript");
      assertThat(js.text()).startsWith("/**\n * @license\n * Copyright 2024 Google LLC.");
      assertThat(js.body().length).isEqualTo(1_469_843);
      TestServer.Reply notice = s.get("/vendor/NOTICE.txt");
      assertThat(notice.text()).contains("@tensorflow/tfjs@4.22.0", "Apache License, Version 2.0");
      assertThat(s.get("/vendor/LICENSE-2.0.txt").text())
          .contains("Apache License", "Version 2.0, January 2004");
    }
  }

  private static byte[] denseJson(String path) {
    return TestServer.denseModelJson(path);
  }

  private static byte[] weights() {
    return TestServer.denseWeights(0.25f);
  }

  /** The printed command containing {@code marker}, from its 'curl' on. */
  private static String command(List<String> lines, String marker) {
    for (String l : lines) {
      if (l.contains(marker) && l.contains("curl ")) {
        String c = l.substring(l.indexOf("curl "));
        int note = c.indexOf("   (");
        return note < 0 ? c : c.substring(0, note);
      }
    }
    throw new AssertionError("no printed command with '" + marker + "' in " + lines);
  }

  private static String shell(Path dir, String command) throws Exception {
    return shell(dir, command, Map.of("TFPORT_TOKEN", WRITE, "TFPORT_READ_TOKEN", READ));
  }

  private static String shell(Path dir, String command, Map<String, String> env) throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder("/bin/sh", "-c", command)
            .directory(dir.toFile())
            // curl's progress meter goes to stderr; the response is stdout.
            .redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().remove("TFPORT_TOKEN");
    pb.environment().remove("TFPORT_READ_TOKEN");
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return out;
  }
}
