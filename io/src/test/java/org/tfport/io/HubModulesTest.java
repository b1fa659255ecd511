package org.tfport.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.TfportException;
import org.tfport.testkit.Corpus;

/**
 * TF Hub module URLs against a local HTTP server: the compressed form is asked for, unpacked into
 * the cache once, and hostile archives (path escapes, links, bombs, not-gzip) are refused with
 * nothing left behind.
 */
class HubModulesTest {
  @TempDir Path tmp;

  private final Map<String, byte[]> served = new ConcurrentHashMap<>();
  private final AtomicInteger requests = new AtomicInteger();

  private HttpServer server() throws Exception {
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    s.createContext(
        "/",
        ex -> {
          requests.incrementAndGet();
          byte[] body = served.get(ex.getRequestURI().toString());
          ex.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : body.length);
          if (body != null) {
            ex.getResponseBody().write(body);
          }
          ex.close();
        });
    s.start();
    return s;
  }

  @Test
  void downloadsUnpacksAndCachesAModule() throws Exception {
    Path module = Corpus.require("savedmodel/tfjava_saved_model/saved_model.pb").getParent();
    byte[] gz = new TarGz().tree(module, "").gz();
    served.put("/google/tfjava/1?tf-hub-format=compressed", gz);
    served.put("/archives/tfjava.tar.gz", new TarGz().tree(module, "./tfjava/").gz());
    HttpServer s = server();
    try {
      String base = "http://127.0.0.1:" + s.getAddress().getPort();
      Path cache = tmp.resolve("cache");
      Path dir =
          HubModules.fetch(base + "/google/tfjava/1", cache, null, HubModules.Limits.DEFAULT);
      for (String f :
          new String[] {
            "saved_model.pb", "variables/variables.index", "variables/variables.data-00000-of-00001"
          }) {
        assertThat(Files.readAllBytes(dir.resolve(f)))
            .isEqualTo(Files.readAllBytes(module.resolve(f)));
      }
      assertThat(requests.get()).isEqualTo(1);
      // The second time the cache answers.
      assertThat(
              HubModules.fetch(base + "/google/tfjava/1", cache, null, HubModules.Limits.DEFAULT))
          .isEqualTo(dir);
      assertThat(requests.get()).isEqualTo(1);
      // A .tar.gz URL is taken as is; a module one folder down is found.
      Path other =
          HubModules.fetch(
              base + "/archives/tfjava.tar.gz", cache, null, HubModules.Limits.DEFAULT);
      assertThat(other.getFileName().toString()).isEqualTo("tfjava");
      assertThat(other.resolve("saved_model.pb")).isRegularFile();
      try (var l = Files.list(cache)) {
        assertThat(l.map(p -> p.getFileName().toString()).filter(n -> n.contains(".tmp-")))
            .isEmpty();
      }
    } finally {
      s.stop(0);
    }
  }

  @Test
  void refusesHostileArchivesLeavingNothing() throws Exception {
    byte[] pb = {8, 3};
    served.put("/escape.tar.gz", new TarGz().file("saved_model.pb", pb).file("../evil", pb).gz());
    served.put("/abs.tar.gz", new TarGz().file("/tmp/evil-abs", pb).gz());
    served.put("/link.tar.gz", new TarGz().file("saved_model.pb", pb).symlink("v", "/etc").gz());
    served.put("/bomb.tar.gz", new TarGz().file("saved_model.pb", new byte[4096]).gz());
    served.put("/plain.tar.gz", "<html>not found</html>".getBytes());
    served.put("/empty.tar.gz", new TarGz().file("README", pb).gz());
    HttpServer s = server();
    try {
      String base = "http://127.0.0.1:" + s.getAddress().getPort();
      Path cache = tmp.resolve("cache");
      HubModules.Limits small = new HubModules.Limits(1 << 20, 1000, 100);
      Map<String, String> expect =
          Map.of(
              "/escape.tar.gz", "points outside the module folder",
              "/abs.tar.gz", "points outside the module folder",
              "/link.tar.gz", "holds a link",
              "/bomb.tar.gz", "unpacks to more than 1000 bytes",
              "/plain.tar.gz", "not a .tar.gz",
              "/empty.tar.gz", "no saved_model.pb",
              "/missing/1", "answered HTTP 404");
      for (var e : expect.entrySet()) {
        assertThatThrownBy(() -> HubModules.fetch(base + e.getKey(), cache, null, small))
            .as(e.getKey())
            .isInstanceOf(TfportException.class)
            .hasMessageContaining(e.getValue())
            .hasMessageContaining(base + e.getKey());
      }
      assertThat(tmp.resolve("evil")).doesNotExist();
      assertThat(Path.of("/tmp/evil-abs")).doesNotExist();
      try (var l = Files.list(cache)) {
        assertThat(l.toList()).as("nothing staged or cached is left").isEmpty();
      }
    } finally {
      s.stop(0);
    }
  }
}
