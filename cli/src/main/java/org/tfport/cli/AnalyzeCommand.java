package org.tfport.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Set;
import org.tfport.convert.analyze.ModelAnalysis;
import org.tfport.convert.analyze.ModelAnalyzer;
import org.tfport.convert.analyze.ModelInterface;
import org.tfport.core.Json;
import org.tfport.core.TfportException.UsageException;
import org.tfport.graph.GraphOptions;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code tfport analyze MODEL [--json]}: ops (or layer classes) with counts, what each target
 * (TF.js, TFLite builtins, TFLite with select TF ops) supports, parameters and the weight size of
 * each quantization mode.
 */
final class AnalyzeCommand {
  static final String USAGE =
      """
      usage: tfport analyze MODEL [--signature_name NAME] [--tags TAGS] [--json]

      MODEL: a .tflite file, a SavedModel folder, a frozen .pb, a TF.js model.json (graph or layers model),
      or a Keras .h5/.keras file. --json prints the same report as JSON.
      For a SavedModel, every signature's inputs and outputs (names, dtypes, shapes) are listed, or only
      those of --signature_name; --tags picks the MetaGraph (comma-separated, default serve).
      For a frozen graph, its placeholders and the candidate nodes for --output_node_names are listed.
      """;

  private AnalyzeCommand() {}

  static int run(PrintWriter out, PrintWriter err, String... args) {
    boolean json = false;
    String model = null;
    String signature = null;
    String tags = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.startsWith("--signature_name") || a.startsWith("--tags")) {
        String flag = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
        String value;
        if (a.contains("=")) {
          value = a.substring(a.indexOf('=') + 1);
        } else if (i + 1 < args.length) {
          value = args[++i];
        } else {
          throw new UsageException("analyze: " + flag + " needs a value (tfport analyze --help)");
        }
        if (flag.equals("--signature_name")) {
          signature = value.strip();
          continue;
        }
        if (flag.equals("--tags")) {
          tags = value;
          continue;
        }
      }
      switch (a) {
        case "--json" -> json = true;
        case "--help", "-h" -> {
          out.print(USAGE);
          return 0;
        }
        default -> {
          if (a.startsWith("-")) {
            throw new UsageException("analyze: unknown flag " + a + " (tfport analyze --help)");
          }
          if (model != null) {
            throw new UsageException("analyze: give one model, got " + model + " and " + a);
          }
          model = a;
        }
      }
    }
    if (model == null) {
      throw new UsageException("analyze: give the model to analyze (tfport analyze --help)");
    }
    Set<String> tagSet = GraphOptions.parseTags(tags);
    // The interface first: it names a signature or tag set that does not exist before the slower
    // analysis runs.
    ModelInterface io = ModelInterface.read(Path.of(model), signature, tagSet);
    ModelAnalysis a = ModelAnalyzer.analyze(Path.of(model), signature, tagSet);
    if (json) {
      ObjectNode o = a.toJson();
      io.addTo(o);
      out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(o));
    } else {
      out.print(a.toText());
      out.print(OptionFlags.reword(io.toText()));
    }
    out.flush();
    return 0;
  }
}
