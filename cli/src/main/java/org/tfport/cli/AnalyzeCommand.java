package org.tfport.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import org.tfport.convert.analyze.ModelAnalysis;
import org.tfport.convert.analyze.ModelAnalyzer;
import org.tfport.core.Json;
import org.tfport.core.TfportException.UsageException;

/**
 * {@code tfport analyze MODEL [--json]}: ops (or layer classes) with counts, what each target
 * (TF.js, TFLite builtins, TFLite with select TF ops) supports, parameters and the weight size of
 * each quantization mode.
 */
final class AnalyzeCommand {
  static final String USAGE =
      """
      usage: tfport analyze MODEL [--json]

      MODEL: a .tflite file, a SavedModel folder, a frozen .pb, a TF.js model.json (graph or layers model),
      or a Keras .h5/.keras file. --json prints the same report as JSON.
      """;

  private AnalyzeCommand() {}

  static int run(PrintWriter out, PrintWriter err, String... args) {
    boolean json = false;
    String model = null;
    for (String a : args) {
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
    ModelAnalysis a = ModelAnalyzer.analyze(Path.of(model));
    if (json) {
      out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(a.toJson()));
    } else {
      out.print(a.toText());
    }
    out.flush();
    return 0;
  }
}
