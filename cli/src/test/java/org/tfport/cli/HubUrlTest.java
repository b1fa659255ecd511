package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.testkit.Corpus;

/**
 * {@code convert --input_format=tf_hub https://...}: the module is fetched from a local HTTP server
 * as a .tar.gz made by GNU tar from a TF Hub module folder built from a corpus SavedModel, and
 * converts to the same model.json as the folder itself.
 */
class HubUrlTest {
  @TempDir Path tmp;

  @Test
  void hubModuleUrlConvertsLikeItsFolder() throws Exception {
    Assumptions.assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/tar")) || Files.isExecutable(Path.of("/bin/tar")),
        "needs tar");
    Path src = Corpus.require("savedmodel/tfjava_saved_model");
    Path hub = Files.createDirectories(tmp.resolve("hub"));
    Files.createDirectories(hub.resolve("variables"));
    for (String f :
        new String[] {"variables/variables.index", "variables/variables.data-00000-of-00001"}) {
      Files.copy(src.resolve(f), hub.resolve(f));
    }
    var sm =
        org.tensorflow.proto.SavedModel.parseFrom(Files.readAllBytes(src.resolve("saved_model.pb")))
            .toBuilder();
    var mg = sm.getMetaGraphsBuilder(0);
    mg.getMetaInfoDefBuilder().clearTags();
    var sig = mg.getSignatureDefMap().get("serving_default");
    mg.clearSignatureDef().putSignatureDef("default", sig);
    Files.write(hub.resolve("saved_model.pb"), sm.build().toByteArray());
    Files.write(hub.resolve("tfhub_module.pb"), new byte[] {8, 3});
    Path gz = tmp.resolve("module.tar.gz");
    Process tar =
        new ProcessBuilder("tar", "czf", gz.toString(), "-C", hub.toString(), ".")
            .inheritIO()
            .start();
    assertThat(tar.waitFor(60, TimeUnit.SECONDS) && tar.exitValue() == 0).isTrue();
    byte[] body = Files.readAllBytes(gz);

    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    s.createContext(
        "/",
        ex -> {
          boolean ok = "tf-hub-format=compressed".equals(ex.getRequestURI().getQuery());
          ex.sendResponseHeaders(ok ? 200 : 404, ok ? body.length : -1);
          if (ok) {
            ex.getResponseBody().write(body);
          }
          ex.close();
        });
    s.start();
    String old = System.getProperty("tfport.tfhub_cache");
    System.setProperty("tfport.tfhub_cache", tmp.resolve("cache").toString());
    try {
      String url = "http://127.0.0.1:" + s.getAddress().getPort() + "/google/tfjava/1";
      CliRunner r =
          CliRunner.run(
              "convert", "--input_format=tf_hub", url, tmp.resolve("from_url").toString());
      assertThat(r.code()).as(r.err()).isZero();
      r =
          CliRunner.run(
              "convert",
              "--input_format=tf_hub",
              hub.toString(),
              tmp.resolve("from_dir").toString());
      assertThat(r.code()).as(r.err()).isZero();
      assertThat(Files.readString(tmp.resolve("from_url/model.json")))
          .isEqualTo(Files.readString(tmp.resolve("from_dir/model.json")));
      // The TFLite converter takes the same URL (from the cache now).
      r =
          CliRunner.run(
              "convert", "--input_format=tf_hub", url, tmp.resolve("hub.tflite").toString());
      assertThat(r.code()).as(r.err()).isZero();
      assertThat(
              org.tfport.formats.tflite.TfliteReader.read(tmp.resolve("hub.tflite"))
                  .signatureDefs())
          .hasSize(1);
      // Without the flag a URL is refused, saying which flag it needs.
      r = CliRunner.run("convert", url, tmp.resolve("x").toString());
      assertThat(r.code()).isEqualTo(2);
      assertThat(r.err()).contains("--input_format=tf_hub");
      // A module the server does not have: one line naming the URL and the status.
      r =
          CliRunner.run(
              "convert", "--input_format=tf_hub", url + "?other=1", tmp.resolve("y").toString());
      assertThat(r.code()).isNotZero();
      assertThat(r.err()).contains("HTTP 404").doesNotContain("\tat ");
    } finally {
      if (old == null) {
        System.clearProperty("tfport.tfhub_cache");
      } else {
        System.setProperty("tfport.tfhub_cache", old);
      }
      s.stop(0);
    }
  }
}
