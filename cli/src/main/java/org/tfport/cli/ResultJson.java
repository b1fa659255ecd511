package org.tfport.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.tfport.convert.ConversionResult;
import org.tfport.core.Json;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code --json} on {@code convert} and {@code tflite_convert}: the conversion as one JSON object,
 * so scripts read it without parsing the report line; notes are in it rather than only on stderr.
 */
final class ResultJson {
  private ResultJson() {}

  static ObjectNode of(ConversionResult r) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("output", r.output().toString());
    ArrayNode files = o.putArray("files");
    for (Path f : r.files()) {
      ObjectNode e = files.addObject();
      e.put("path", f.toString());
      try {
        e.put("bytes", Files.size(f));
      } catch (IOException ex) {
        throw new UncheckedIOException(ex);
      }
    }
    o.put("bytes", r.bytes());
    o.put("weights", r.weights());
    if (r.nodes() == null) {
      o.putNull("nodes");
    } else {
      ObjectNode n = o.putObject("nodes");
      n.put("loaded", r.nodes().loaded());
      n.put("written", r.nodes().written());
    }
    o.put("seconds", r.millis() / 1000.0);
    ArrayNode notes = o.putArray("notes");
    r.notices().forEach(n -> notes.add(OptionFlags.reword(n)));
    o.put("detail", r.detail());
    return o;
  }

  static void print(ConversionResult r, PrintWriter out) {
    out.println(Json.MAPPER.writeValueAsString(of(r)));
    out.flush();
  }
}
