package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.TfportException.UsageException;
import org.tfport.server.TestServer.Multipart;

/**
 * HTTPS with a self-signed certificate the test makes with the JDK's keytool: the server reads it
 * as PEM (PKCS#8 and PKCS#1 keys) and as a PKCS#12 keystore, a Java client trusting only that
 * certificate uploads and downloads byte for byte, and a client trusting the usual roots refuses
 * it.
 */
class TlsTest {
  static final String PASS = "changeit";
  @TempDir static Path keys;
  static Path p12;
  static Path certPem;
  static Path pkcs8Pem;
  static Path pkcs1Pem;

  @BeforeAll
  static void makeCertificate() throws Exception {
    p12 = keys.resolve("server.p12");
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    Process p =
        new ProcessBuilder(
                keytool.toString(),
                "-genkeypair",
                "-alias",
                "server",
                "-keyalg",
                "RSA",
                "-keysize",
                "2048",
                "-validity",
                "2",
                "-dname",
                "CN=localhost",
                "-ext",
                "SAN=ip:127.0.0.1,dns:localhost",
                "-keystore",
                p12.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                PASS,
                "-keypass",
                PASS)
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(p12)) {
      ks.load(in, PASS.toCharArray());
    }
    Certificate cert = ks.getCertificate("server");
    PrivateKey key = (PrivateKey) ks.getKey("server", PASS.toCharArray());
    certPem = keys.resolve("cert.pem");
    Files.writeString(certPem, pem("CERTIFICATE", cert.getEncoded()));
    pkcs8Pem = keys.resolve("key8.pem");
    byte[] pkcs8 = key.getEncoded();
    Files.writeString(pkcs8Pem, pem("PRIVATE KEY", pkcs8));
    pkcs1Pem = keys.resolve("key1.pem");
    Files.writeString(pkcs1Pem, pem("RSA PRIVATE KEY", pkcs1Of(pkcs8)));
  }

  static String pem(String label, byte[] der) {
    return "-----BEGIN "
        + label
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + label
        + "-----\n";
  }

  /** The RSAPrivateKey inside a PKCS#8 PrivateKeyInfo: the OCTET STRING after the algorithm. */
  static byte[] pkcs1Of(byte[] pkcs8) {
    // 30 82 LL LL | 02 01 00 | 30 0d ...(15 bytes) | 04 82 LL LL | RSAPrivateKey
    int at = 4 + 3 + 15;
    assertThat(pkcs8[at]).isEqualTo((byte) 0x04);
    assertThat(pkcs8[at + 1]).isEqualTo((byte) 0x82);
    int len = ((pkcs8[at + 2] & 0xff) << 8) | (pkcs8[at + 3] & 0xff);
    byte[] inner = Arrays.copyOfRange(pkcs8, at + 4, at + 4 + len);
    assertThat(TlsKeys.wrapRsa(inner)).as("wrapping gives back the PKCS#8 key").isEqualTo(pkcs8);
    return inner;
  }

  /** A client that trusts exactly the test's certificate. */
  static HttpClient trustingClient() throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    trust.setCertificateEntry(
        "server", cf.generateCertificate(new ByteArrayInputStream(Files.readAllBytes(certPem))));
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return HttpClient.newBuilder()
        .sslContext(ctx)
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10))
        .build();
  }

  private static ModelServer start(Path store, ServerSecurity.Tls tls) {
    return ModelServer.start(
        ServerConfig.of("127.0.0.1", 0, store, "w")
            .withSecurity(ServerSecurity.defaults().withTls(tls)));
  }

  static void roundTrip(ModelServer server, HttpClient client) throws Exception {
    assertThat(server.uri().getScheme()).isEqualTo("https");
    byte[] weights = TestServer.denseWeights(7);
    Multipart m = Multipart.tfjs(TestServer.denseModelJson("./model.weights.bin"), weights);
    HttpResponse<String> up =
        client.send(
            HttpRequest.newBuilder(URI.create(server.uri() + "/models/m"))
                .header("Content-Type", m.contentType())
                .header("Authorization", "Bearer w")
                .POST(HttpRequest.BodyPublishers.ofByteArray(m.body()))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(up.statusCode()).as(up.body()).isEqualTo(201);
    HttpResponse<byte[]> down =
        client.send(
            HttpRequest.newBuilder(URI.create(server.uri() + "/models/m/model.weights.bin"))
                .header("Authorization", "Bearer w")
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(down.statusCode()).isEqualTo(200);
    assertThat(down.body()).isEqualTo(weights);
  }

  @Test
  void pemWithPkcs8KeyServesHttpsAndUntrustedClientsRefuseIt(@TempDir Path tmp) throws Exception {
    try (ModelServer s = start(tmp.resolve("store"), ServerSecurity.Tls.pem(certPem, pkcs8Pem))) {
      roundTrip(s, trustingClient());
      HttpClient defaults = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
      assertThatThrownBy(
              () ->
                  defaults.send(
                      HttpRequest.newBuilder(URI.create(s.uri() + "/models")).build(),
                      HttpResponse.BodyHandlers.ofString()))
          .isInstanceOf(SSLHandshakeException.class);
      // Plain HTTP to the TLS port gets no model data.
      TestServer.Reply plain = rawHttp(s.port());
      assertThat(plain.status()).isNotEqualTo(200);
      assertThat(plain.text()).doesNotContain("\"models\"");
    }
  }

  private static TestServer.Reply rawHttp(int port) throws Exception {
    try (java.net.Socket sock = new java.net.Socket("127.0.0.1", port)) {
      sock.setSoTimeout(10_000);
      sock.getOutputStream()
          .write("GET /models HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      byte[] b = sock.getInputStream().readAllBytes();
      String text = new String(b, StandardCharsets.ISO_8859_1);
      // Jetty closes a plaintext connection to a TLS port (or answers it 400).
      int status = text.startsWith("HTTP/1.1 ") ? Integer.parseInt(text.substring(9, 12)) : -1;
      return new TestServer.Reply(status, java.util.Map.of(), b);
    }
  }

  @Test
  void pemWithPkcs1Key(@TempDir Path tmp) throws Exception {
    try (ModelServer s = start(tmp.resolve("store"), ServerSecurity.Tls.pem(certPem, pkcs1Pem))) {
      roundTrip(s, trustingClient());
    }
  }

  @Test
  void pkcs12Keystore(@TempDir Path tmp) throws Exception {
    try (ModelServer s = start(tmp.resolve("store"), ServerSecurity.Tls.keystore(p12, PASS))) {
      roundTrip(s, trustingClient());
    }
  }

  @Test
  void badFilesAreOneLineNamingTheFile(@TempDir Path tmp) throws Exception {
    Path store = tmp.resolve("store");
    assertThatThrownBy(() -> start(store, ServerSecurity.Tls.keystore(p12, "wrong")))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining(p12.toString())
        .hasMessageContaining("ServerSecurity.Tls keystorePassword");
    assertThatThrownBy(() -> start(store, ServerSecurity.Tls.pem(pkcs8Pem, pkcs8Pem)))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("ServerSecurity.Tls certPem " + pkcs8Pem)
        .hasMessageContaining("BEGIN CERTIFICATE");
    assertThatThrownBy(() -> start(store, ServerSecurity.Tls.pem(certPem, certPem)))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("ServerSecurity.Tls keyPem " + certPem);
    Path enc = tmp.resolve("enc.pem");
    Files.writeString(enc, pem("ENCRYPTED PRIVATE KEY", new byte[] {1, 2, 3}));
    assertThatThrownBy(() -> start(store, ServerSecurity.Tls.pem(certPem, enc)))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("encrypted");
    assertThatThrownBy(() -> start(store, ServerSecurity.Tls.pem(certPem, tmp.resolve("none"))))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("cannot be read");
    assertThat(List.of(store.toFile().list() == null ? new String[0] : store.toFile().list()))
        .doesNotContain("m");
  }
}
