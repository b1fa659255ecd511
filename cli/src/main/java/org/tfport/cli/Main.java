package org.tfport.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.tfport.convert.Version;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.UsageException;

/**
 * The {@code tfport} command. {@link #run} returns the exit code (0 done, 1 the input could not be
 * converted, 2 a usage error) so tests and other tools call it in-process; only {@link #main}
 * exits.
 */
public final class Main {
  static final String USAGE =
      """
      usage: tfport COMMAND [ARGS]

      commands:
        convert [FLAGS] INPUT OUTPUT    convert a model (tensorflowjs_converter flags; see convert --help)
        tensorflowjs_converter ...      the same, for scripts written for the Python converter
        tflite_convert [FLAGS]          TensorFlow model to .tflite (tflite_convert flags; also convert --output_format=tflite)
        analyze MODEL [--json]          list ops/layers, target support, parameters and quantized sizes
        predict MODEL [--input [NAME=]FILE.npy ...] [--output_dir DIR] [--json]
                                        run a model in tfport's runtime (random inputs without --input)
        fit MODEL --x X.npy --y Y.npy --epochs E --batch_size B --output OUT [FLAGS]
                                        train a Keras or TF.js layers model and save it (see fit --help)
        benchmark MODEL [--num_threads N] [--num_runs R] [--warmup_runs W] [--warmup_min_secs S]
                  [--warmup_max_secs S] [--json]
                                        time a model in tfport's runtime (benchmark_model's flags)
        demo [DIR]                      make a small Keras model and convert it to TF.js (default DIR: tfport-demo)
        serve [--host H] [--port P] [--store DIR] [--token T]   serve models to TF.js clients and a web page
        --version                       print the version
      """;

  private Main() {}

  public static void main(String... args) {
    PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
    PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
    int code = run(out, err, args);
    out.flush();
    err.flush();
    System.exit(code);
  }

  public static int run(PrintWriter out, PrintWriter err, String... args) {
    try {
      if (args.length == 0) {
        err.print(USAGE);
        return 2;
      }
      String[] rest = Arrays.copyOfRange(args, 1, args.length);
      return switch (args[0]) {
        case "convert", "tensorflowjs_converter" -> ConvertCommand.run(args[0], out, err, rest);
        case "tflite_convert" -> TfliteConvertCommand.run(args[0], out, err, rest);
        case "analyze" -> AnalyzeCommand.run(out, err, rest);
        case "predict" -> PredictCommand.run(out, err, rest);
        case "fit" -> FitCommand.run(out, err, rest);
        case "benchmark" -> BenchmarkCommand.run(out, err, rest);
        case "demo" -> DemoCommand.run(out, err, rest);
        case "serve" -> ServeCommand.run(out, err, rest);
        case "--version", "-v", "version" -> {
          out.println("tfport " + Version.VERSION);
          yield 0;
        }
        case "--help", "-h", "help" -> {
          out.print(USAGE);
          yield 0;
        }
        default ->
            throw new UsageException(
                "unknown command '"
                    + args[0]
                    + "'; commands: convert,"
                    + " tensorflowjs_converter, tflite_convert, analyze, predict, fit, benchmark, demo, serve (tfport --help)");
      };
    } catch (UsageException e) {
      err.println("tfport: " + OptionFlags.reword(e.getMessage()));
      return 2;
    } catch (TfportException e) {
      err.println("tfport: error: " + OptionFlags.reword(e.getMessage()));
      debug(err, e);
      return 1;
    } catch (OutOfMemoryError e) {
      err.println("tfport: error: out of memory; give Java more with JAVA_OPTS=-Xmx8g");
      return 1;
    } catch (RuntimeException e) {
      // A bug in tfport, not the user's mistake: say so, and keep the trace for the report.
      err.println(
          "tfport: internal error: "
              + e
              + "; please report it with the command you ran"
              + " (set TFPORT_DEBUG=1 for details)");
      debug(err, e);
      return 1;
    }
  }

  static void debug(PrintWriter err, Throwable e) {
    if (System.getenv("TFPORT_DEBUG") != null) {
      e.printStackTrace(err);
    }
  }
}
