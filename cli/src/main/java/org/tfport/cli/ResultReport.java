package org.tfport.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.ToIntFunction;
import org.tfport.convert.ConversionResult;
import org.tfport.core.TfportException.UsageException;
import picocli.CommandLine.Option;

/**
 * What {@code convert} and {@code tflite_convert} print once a conversion is written: its notes,
 * its result (a line, or one JSON object with {@code --json}), then with {@code --verify} the
 * runtime's comparison of input and output. A picocli mixin, so both commands take the same two
 * flags with the same meaning.
 */
final class ResultReport {
  @Option(
      names = "--verify",
      arity = "0..1",
      fallbackValue = "true",
      paramLabel = "BOOL",
      description =
          "tfport: after writing, run input and output in tfport's runtime on the same seeded inputs and"
              + " print the largest difference per output (exit 1 when one is beyond its tolerance)")
  String verify;

  @Option(
      names = "--json",
      arity = "0..1",
      fallbackValue = "true",
      paramLabel = "BOOL",
      description =
          "print the result as one JSON object (files with bytes, weights, node counts, notes) and"
              + " nothing else on stdout; --verify lines go to stderr")
  String json;

  /**
   * Prints {@code result}; with {@code --verify}, returns what {@code verifier} returns when given
   * the stream its lines go to (stderr under {@code --json}), else 0.
   */
  int print(
      ConversionResult result,
      PrintWriter out,
      PrintWriter err,
      ToIntFunction<PrintWriter> verifier) {
    for (String n : result.notices()) {
      err.println("tfport: note: " + OptionFlags.reword(n));
    }
    boolean asJson = json != null && bool("--json", json);
    if (asJson) {
      ResultJson.print(result, out);
    } else {
      out.println(result.line());
    }
    if (verify != null && bool("--verify", verify)) {
      return verifier.applyAsInt(asJson ? err : out);
    }
    return 0;
  }

  static boolean bool(String flag, String v) {
    return switch (v.trim().toLowerCase(Locale.ROOT)) {
      case "true", "1", "yes", "y", "on" -> true;
      case "false", "0", "no", "n", "off" -> false;
      default -> throw new UsageException(flag + " takes true or false, got '" + v + "'");
    };
  }
}
