package org.tfport.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.testkit.Corpus;

/**
 * Models loaded by URL through the io handlers: a TF.js graph model served over HTTP by a local
 * server, and the same model by file://, give exactly the outputs of the model loaded by path.
 */
class UrlLoadTest {
  private static final String MODEL = "tfjs/graph/tfjs-e2e_graph_model";

  private HttpServer server;
  private Path served;
  private int requests;

  @BeforeEach
  void start() throws IOException {
    served = Corpus.require(MODEL);
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/m/",
        exchange -> {
          requests++;
          String name = exchange.getRequestURI().getPath().substring("/m/".length());
          Path file = served.resolve(name).normalize();
          if (!file.startsWith(served) || !Files.isRegularFile(file)) {
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
            return;
          }
          byte[] body = Files.readAllBytes(file);
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private String base() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/m/";
  }

  private static Map<String, Tensor> run(Model m) {
    try (Session s = m.newSession()) {
      return s.run(RandomInputs.of(m.defaultSignature(), 42));
    }
  }

  private static void sameOutputs(Map<String, Tensor> a, Map<String, Tensor> b) {
    assertThat(a.keySet()).isEqualTo(b.keySet());
    a.forEach(
        (k, t) -> {
          assertThat(t.dtype()).isEqualTo(b.get(k).dtype());
          assertThat(t.shape()).isEqualTo(b.get(k).shape());
          assertThat(t.toFloatArray()).as(k).containsExactly(b.get(k).toFloatArray());
        });
  }

  @Test
  void httpAndFileUrlsLoadTheSameModelAsAPath() {
    Map<String, Tensor> expected;
    try (Model m = Model.load(served.resolve("model.json"))) {
      expected = run(m);
    }
    try (Model m = Model.loadUrl(base() + "model.json")) {
      sameOutputs(run(m), expected);
    }
    assertThat(requests).as("model.json and its weights fetched").isGreaterThanOrEqualTo(2);
    try (Model m = Model.loadUrl("file://" + served.resolve("model.json").toAbsolutePath())) {
      sameOutputs(run(m), expected);
    }
  }

  @Test
  void aMissingModelIsOneLine() {
    assertThatThrownBy(() -> Model.loadUrl(base() + "nothing/model.json"))
        .isInstanceOf(TfportException.class)
        .hasMessageContaining("404")
        .hasMessageNotContaining("\n");
  }
}
