package org.tfport.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import org.tfport.core.TfportException.UsageException;
import org.tfport.server.ModelServer;
import org.tfport.server.ServerConfig;
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
      names = "--tfjs",
      paramLabel = "FILE",
      description =
          "TF.js's tf.min.js for the web page (default: an npm install of @tensorflow/tfjs nearby)")
  Path tfjs;

  @Option(
      names = "--max-upload-bytes",
      paramLabel = "N",
      description = "largest upload (default 2 GiB)")
  long maxUploadBytes = ServerConfig.DEFAULT_MAX_UPLOAD_BYTES;

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
      description = "predict calls that may wait for a thread; past this, 503 at once (default 256)")
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
    CommandLine cl = new CommandLine(c);
    cl.setCommandName("tfport serve");
    try {
      cl.parseArgs(args);
    } catch (CommandLine.ParameterException e) {
      throw new UsageException("serve: " + e.getMessage() + " (see tfport serve --help)");
    }
    if (c.help) {
      cl.usage(out);
      return 0;
    }
    String token = c.token != null ? c.token : System.getenv("TFPORT_TOKEN");
    if (c.tfjs != null && !java.nio.file.Files.isRegularFile(c.tfjs)) {
      throw new UsageException(
          "serve: --tfjs " + c.tfjs + " is not a file; give the path of tf.min.js");
    }
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
                    .withBatching(c.maxBatch, c.batchWaitMicros));
    ModelServer server = ModelServer.start(config);
    out.println(
        "tfport serve: "
            + server.uri()
            + "/ (store "
            + server.store()
            + (token == null
                ? ", uploads open to anyone who can connect"
                : ", uploads need the bearer token")
            + ")");
    if (server.tfjsBundle() == null) {
      err.println(
          "tfport serve: warning: TF.js's tf.min.js not found, so the page cannot run models; give"
              + " --tfjs FILE");
    }
    out.println(
        "  upload:  model.save('"
            + server.uri()
            + "/models/NAME')   or   curl -F model.json=@model.json"
            + " -F model.weights.bin=@weights.bin "
            + server.uri()
            + "/models/NAME");
    out.println("  load:    tf.loadLayersModel('" + server.uri() + "/models/NAME/model.json')");
    out.println(
        "  predict: curl -d '{\"instances\": [...]}' "
            + server.uri()
            + "/v1/models/NAME:predict   (TensorFlow Serving's REST API; metrics at /metrics)");
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
