package org.tfport.server;

import java.util.ArrayList;
import java.util.List;

/**
 * What {@code tfport serve} prints once it listens: where the page is and a command for each thing
 * a client does. Each command runs as printed (ServeUsageTest runs them with curl); the tokens are
 * never printed, the commands read them from the environment variables tfport serve also reads.
 */
public final class ServeUsage {
  private ServeUsage() {}

  /**
   * @param writeToken whether uploads need the bearer token ({@code $TFPORT_TOKEN} in the commands)
   * @param readToken whether reads need one ({@code $TFPORT_READ_TOKEN})
   */
  public static List<String> lines(ModelServer server, boolean writeToken, boolean readToken) {
    String base = server.uri().toString();
    String up = writeToken ? "curl -H \"Authorization: Bearer $TFPORT_TOKEN\" " : "curl ";
    String read = readToken ? "curl -H \"Authorization: Bearer $TFPORT_READ_TOKEN\" " : "curl ";
    List<String> out = new ArrayList<>();
    String bundle = server.tfjsBundle();
    out.add(
        "  page:    "
            + base
            + "/   ("
            + (bundle == null ? "no TF.js bundle: give --tfjs FILE to run models there" : bundle)
            + ")");
    out.add(
        "  upload:  "
            + up
            + "-F model.json=@model.json -F model.weights.bin=@model.weights.bin "
            + base
            + "/models/NAME   (one -F per file model.json lists)");
    out.add(
        "           "
            + up
            + "--data-binary @model.h5 "
            + base
            + "/models/NAME   (a .h5, .keras, zipped SavedModel or .tflite file)");
    out.add(
        "           model.save('"
            + base
            + "/models/NAME') from TF.js"
            + (writeToken ? ", with the token in requestInit.headers" : ""));
    out.add(
        "  load:    tf.loadLayersModel('"
            + base
            + "/models/NAME/model.json')"
            + (readToken ? ", with the read token in requestInit.headers" : ""));
    out.add("  list:    " + read + base + "/models");
    out.add(
        "  predict: "
            + read
            + "-d '{\"instances\": [[1.0, 2.0]]}' "
            + base
            + "/v1/models/NAME:predict   (TensorFlow Serving's REST API; metrics at /metrics)");
    if (writeToken || readToken) {
      out.add(
          "           (the commands read "
              + (writeToken && readToken
                  ? "$TFPORT_TOKEN and $TFPORT_READ_TOKEN"
                  : writeToken ? "$TFPORT_TOKEN" : "$TFPORT_READ_TOKEN")
              + " from the environment)");
    }
    return out;
  }
}
