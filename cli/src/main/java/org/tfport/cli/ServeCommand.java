package org.tfport.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import org.tfport.core.TfportException.UsageException;
import org.tfport.server.ModelServer;
import org.tfport.server.ServeUsage;
import org.tfport.server.ServerConfig;
import org.tfport.server.ServerSecurity;
import org.tfport.server.ServingConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tfport serve}: the model store and its web page, until the process is stopped. */
@Command(
    name = "serve",
    sortOptions = false,
    usageHelpWidth = 110,
    description =
        "Serve a model store to TensorFlow.js clients and a web page, and answer TensorFlow"
            + " Serving's REST API (/v1/models/NAME:predict) with tfport's runtime.")
final class ServeCommand {
  @Option(
      names = "--host",
      paramLabel = "HOST",
      description = "address to listen on (default 127.0.0.1)")
  String host = "127.0.0.1";

  @Option(
      names = "--port",
      paramLabel = "PORT",
      description = "port (default 8080; 0 for any free one)")
  int port = 8080;

  @Option(
      names = "--store",
      paramLabel = "DIR",
      description = "folder holding the models (default tfport-store)")
  Path store = Path.of("tfport-store");

  @Option(
      names = "--token",
      paramLabel = "TOKEN",
      description = "uploads need 'Authorization: Bearer TOKEN' (or set TFPORT_TOKEN)")
  String token;

  @Option(
      names = "--read-token",
      paramLabel = "TOKEN",
      description =
          "reads of models, predictions and metrics need 'Authorization: Bearer TOKEN' (or the"
              + " write token; or set TFPORT_READ_TOKEN)")
  String readToken;

  @Option(
      names = "--tls-cert",
      paramLabel = "CERT.pem",
      description = "serve HTTPS with this PEM certificate chain (with --tls-key)")
  Path tlsCert;

  @Option(
      names = "--tls-key",
      paramLabel = "KEY.pem",
      description = "the certificate's private key, PEM (PKCS#8 or PKCS#1 RSA, unencrypted)")
  Path tlsKey;

  @Option(
      names = "--tls-keystore",
      paramLabel = "FILE.p12",
      description = "serve HTTPS with the key and chain in this PKCS#12 keystore")
  Path tlsKeystore;

  @Option(
      names = "--tls-keystore-password",
      paramLabel = "PASS",
      description = "the keystore's password (or set TFPORT_TLS_KEYSTORE_PASSWORD)")
  String tlsKeystorePassword;

  @Option(
      names = "--cors-origin",
      paramLabel = "ORIGIN",
      description =
          "a browser origin (https://host[:port]) allowed to read and upload; repeatable; * for"
              + " any (default: any origin reads, only this server's page uploads)")
  java.util.List<String> corsOrigins = new java.util.ArrayList<>();

  @Option(
      names = "--tfjs",
      paramLabel = "FILE",
      description =
          "another tf.min.js for the web page (default: TF.js 4.22.0, bundled in the server)")
  Path tfjs;

  @Option(
      names = "--max-upload-bytes",
      paramLabel = "N",
      description = "largest upload (default 2 GiB)")
  long maxUploadBytes = ServerConfig.DEFAULT_MAX_UPLOAD_BYTES;

  @Option(
      names = "--max-store-bytes",
      paramLabel = "N",
      description =
          "quota for all stored versions together; past it uploads get 507 (default: none)")
  long maxStoreBytes = Long.MAX_VALUE;

  @Option(
      names = "--idle-timeout-ms",
      paramLabel = "MS",
      description = "close a connection silent this long (default 30000)")
  long idleTimeoutMillis = ServerSecurity.DEFAULT_IDLE_TIMEOUT_MILLIS;

  @Option(
      names = "--header-timeout-ms",
      paramLabel = "MS",
      description = "cut off a client whose request headers take longer than this (default 10000)")
  long headerTimeoutMillis = ServerSecurity.DEFAULT_HEADER_TIMEOUT_MILLIS;

  @Option(
      names = "--min-body-bytes-per-second",
      paramLabel = "N",
      description =
          "cut off an upload whose body arrives slower than this on average, after its first"
              + " second (default 1024)")
  long minBodyBytesPerSecond = ServerSecurity.DEFAULT_MIN_BODY_BYTES_PER_SECOND;

  @Option(
      names = "--max-header-bytes",
      paramLabel = "N",
      description = "largest request line plus headers; larger gets 431 (default 16384)")
  int maxHeaderBytes = ServerSecurity.DEFAULT_MAX_HEADER_BYTES;

  @Option(
      names = "--access-log",
      description =
          "print one JSON line per request (time, remote, method, path, status, bytes, ms)")
  boolean accessLog;

  @Option(
      names = "--model-cache-bytes",
      paramLabel = "N",
      description = "stored bytes of the models kept loaded for predictions (default 1 GiB)")
  long cacheBytes = ServingConfig.DEFAULT_CACHE_BYTES;

  @Option(
      names = "--max-request-bytes",
      paramLabel = "N",
      description = "largest predict request body (default 64 MiB)")
  long maxRequestBytes = ServingConfig.DEFAULT_MAX_REQUEST_BYTES;

  @Option(
      names = "--max-tensor-elements",
      paramLabel = "N",
      description = "most elements one input tensor of a predict call may have (default 16 Mi)")
  long maxTensorElements = ServingConfig.DEFAULT_MAX_TENSOR_ELEMENTS;

  @Option(
      names = "--predict-timeout-ms",
      paramLabel = "MS",
      description = "a predict call not answered within this is answered 504 (default 30000)")
  long timeoutMillis = ServingConfig.DEFAULT_TIMEOUT_MILLIS;

  @Option(
      names = "--predict-threads",
      paramLabel = "N",
      description = "threads running models (default: one per processor)")
  int workers = Runtime.getRuntime().availableProcessors();

  @Option(
      names = "--predict-queue",
      paramLabel = "N",
      description =
          "predict calls that may wait for a thread; past this, 503 at once (default 256)")
  int queue = ServingConfig.DEFAULT_QUEUE;

  @Option(
      names = "--max-batch-size",
      paramLabel = "N",
      description = "merge concurrent predict calls into batches of up to N rows (default 1: off)")
  int maxBatch = 1;

  @Option(
      names = "--batch-timeout-micros",
      paramLabel = "US",
      description = "how long a call waits for others to join its batch (default 1000)")
  long batchWaitMicros = 1_000;

  @Option(
      names = {"--help", "-h"},
      usageHelp = true,
      description = "show this help")
  boolean help;

  private ServeCommand() {}

  static int run(PrintWriter out, PrintWriter err, String... args) {
    ServeCommand c = new ServeCommand();
    CommandLine cl = CommandArgs.parse(c, "serve", args);
    if (c.help) {
      cl.usage(out);
      return 0;
    }
    String token = c.token != null ? c.token : System.getenv("TFPORT_TOKEN");
    if (c.tfjs != null && !java.nio.file.Files.isRegularFile(c.tfjs)) {
      throw new UsageException(
          "serve: --tfjs " + c.tfjs + " is not a file; give the path of tf.min.js");
    }
    if (c.minBodyBytesPerSecond <= 0) {
      throw new UsageException(
          "serve: --min-body-bytes-per-second must be positive, got " + c.minBodyBytesPerSecond);
    }
    if (c.tlsKeystorePassword != null && c.tlsKeystore == null) {
      throw new UsageException("serve: --tls-keystore-password needs --tls-keystore FILE.p12");
    }
    ServerSecurity.Tls tls = null;
    if (c.tlsKeystore != null) {
      String pw = c.tlsKeystorePassword;
      tls =
          ServerSecurity.Tls.keystore(
              c.tlsKeystore, pw != null ? pw : System.getenv("TFPORT_TLS_KEYSTORE_PASSWORD"));
      if (c.tlsCert != null || c.tlsKey != null) {
        throw new UsageException(
            "serve: give either --tls-cert and --tls-key or --tls-keystore, not both");
      }
    } else if (c.tlsCert != null || c.tlsKey != null) {
      tls = ServerSecurity.Tls.pem(c.tlsCert, c.tlsKey);
    }
    String readToken = c.readToken != null ? c.readToken : System.getenv("TFPORT_READ_TOKEN");
    PrintWriter log = out;
    ServerSecurity security =
        ServerSecurity.defaults()
            .withTls(tls)
            .withReadToken(readToken)
            .withCorsOrigins(c.corsOrigins)
            .withMaxStoreBytes(c.maxStoreBytes)
            .withTimeouts(c.idleTimeoutMillis, c.headerTimeoutMillis, c.maxHeaderBytes)
            .withMinBodyRate(c.minBodyBytesPerSecond)
            .withAccessLog(
                c.accessLog
                    ? line -> {
                      synchronized (log) {
                        log.println(line);
                        log.flush();
                      }
                    }
                    : null);
    ServerConfig config =
        ServerConfig.of(c.host, c.port, c.store, token)
            .withLimits(
                c.maxUploadBytes,
                ServerConfig.DEFAULT_MAX_MODEL_JSON_BYTES,
                ServerConfig.DEFAULT_MAX_PARTS)
            .withTfjsBundle(c.tfjs)
            .withServing(
                ServingConfig.defaults()
                    .withCacheBytes(c.cacheBytes)
                    .withLimits(c.maxRequestBytes, c.maxTensorElements, c.timeoutMillis)
                    .withWorkers(c.workers, c.queue)
                    .withBatching(c.maxBatch, c.batchWaitMicros))
            .withSecurity(security);
    ModelServer server = ModelServer.start(config);
    out.println(
        "tfport serve: "
            + server.uri()
            + "/ (store "
            + server.store()
            + (token == null
                ? ", uploads open to anyone who can connect"
                : ", uploads need the bearer token")
            + (readToken == null ? "" : ", reads need a bearer token")
            + ")");
    if (server.tfjsBundle() == null) {
      err.println(
          "tfport serve: warning: this server has no TF.js bundle, so the page cannot run models;"
              + " give --tfjs FILE (tf.min.js of @tensorflow/tfjs "
              + ModelServer.TFJS_VERSION
              + ")");
    }
    for (String line : ServeUsage.lines(server, token != null, readToken != null)) {
      out.println(line);
    }
    out.flush();
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "tfport-serve-stop"));
    try {
      server.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.close();
    }
    return 0;
  }
}
