package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.tfport.testkit.Corpus;

/**
 * {@code tfport predict URL}: a TF.js graph model served by a local HTTP server prints what the
 * same model given by path prints; a URL that serves nothing is one line, exit 1.
 */
class PredictUrlTest {
  @Test
  void predictsFromHttpAsFromThePath() throws IOException {
    Path dir = Corpus.require("tfjs/graph/tfjs-e2e_graph_model");
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          Path file = dir.resolve(exchange.getRequestURI().getPath().substring(1)).normalize();
          if (!file.startsWith(dir) || !Files.isRegularFile(file)) {
            exchange.sendResponseHeaders(404, -1);
          } else {
            byte[] body = Files.readAllBytes(file);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
          }
          exchange.close();
        });
    server.start();
    try {
      String base = "http://127.0.0.1:" + server.getAddress().getPort() + "/";
      CliRunner byPath = CliRunner.run("predict", dir.resolve("model.json").toString(), "--json");
      CliRunner byUrl = CliRunner.run("predict", base + "model.json", "--json");
      assertThat(byPath.code()).as(byPath.err()).isZero();
      assertThat(byUrl.code()).as(byUrl.err()).isZero();
      // The summaries name the model as given; the outputs and inputs are the same.
      assertThat(byUrl.out().replace(base + "model.json", "M"))
          .isEqualTo(byPath.out().replace(dir.resolve("model.json").toString(), "M"));
      CliRunner missing = CliRunner.run("predict", base + "gone/model.json");
      assertThat(missing.code()).as(missing.err()).isEqualTo(1);
      assertThat(missing.errLines()).hasSize(1);
      assertThat(missing.err()).contains("404").doesNotContain("\tat ");
    } finally {
      server.stop(0);
    }
  }
}
