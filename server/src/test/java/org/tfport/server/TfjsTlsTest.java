package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Json;
import org.tfport.testkit.OracleTest;
import tools.jackson.databind.JsonNode;

/**
 * TF.js 4.22 in Node loads a model over HTTPS from tfport serve, trusting the test's self-signed
 * certificate through NODE_EXTRA_CA_CERTS and sending the read token; its prediction is the Dense
 * layer worked out by hand.
 */
@OracleTest
class TfjsTlsTest {
  @TempDir Path tmp;

  @Test
  void tfjsLoadsOverHttpsWithTheReadToken() throws Exception {
    TlsTest.keys = java.nio.file.Files.createDirectories(tmp.resolve("keys"));
    TlsTest.makeCertificate();
    ServerSecurity sec =
        ServerSecurity.defaults()
            .withTls(ServerSecurity.Tls.pem(TlsTest.certPem, TlsTest.pkcs8Pem))
            .withReadToken("r3ad");
    try (ModelServer s =
        ModelServer.start(
            ServerConfig.of("127.0.0.1", 0, tmp.resolve("store"), "w").withSecurity(sec))) {
      TlsTest.roundTrip(s, TlsTest.trustingClient());
      JsonNode r =
          Json.MAPPER.readTree(
              NodeTools.run(
                  Map.of("NODE_EXTRA_CA_CERTS", TlsTest.certPem.toString()),
                  "tfjs_tls.js",
                  120,
                  s.uri().toString(),
                  "r3ad"));
      assertThat(r.has("error")).as(r.toString()).isFalse();
      // denseWeights(7): kernel [3,2] = 7, 7.25, ..., 8.25 row-major, bias 8.5, 8.75.
      float[] w = new float[8];
      for (int i = 0; i < 8; i++) {
        w[i] = 7 + i * 0.25f;
      }
      float y0 = 1 * w[0] + 2 * w[2] + 3 * w[4] + w[6];
      float y1 = 1 * w[1] + 2 * w[3] + 3 * w[5] + w[7];
      assertThat(r.path("values").get(0).floatValue()).isEqualTo(y0);
      assertThat(r.path("values").get(1).floatValue()).isEqualTo(y1);
    }
  }
}
