package org.tfport.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.tfport.convert.Converter;
import org.tfport.core.Json;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.OutputException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.ModelFormat;
import org.tfport.formats.npy.Npy;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.train.Callback;
import org.tfport.train.History;
import org.tfport.train.Trainer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code tfport fit MODEL --x X.npy --y Y.npy ... --output OUT}: trains a Keras or TF.js layers
 * model in tfport's runtime, prints one line per epoch and writes the trained model atomically
 * (nothing is written when training fails).
 */
@Command(
    name = "fit",
    sortOptions = false,
    usageHelpWidth = 110,
    description =
        "Train a Keras (.h5, .keras) or TF.js layers model (model.json) in tfport's runtime and"
            + " save it.")
final class FitCommand {
  @Parameters(
      paramLabel = "MODEL",
      arity = "0..1",
      description = "the .h5, .keras or layers model.json")
  String model;

  @Option(
      names = "--x",
      paramLabel = "[NAME=]FILE.npy",
      description = "the inputs, one file per model input (NAME= the input layer's name)")
  List<String> x = new ArrayList<>();

  @Option(
      names = "--y",
      paramLabel = "[NAME=]FILE.npy",
      description = "the targets, one file per model output (NAME= the output layer's name)")
  List<String> y = new ArrayList<>();

  @Option(names = "--epochs", paramLabel = "E", description = "epochs (default 1)")
  int epochs = 1;

  @Option(names = "--batch_size", paramLabel = "B", description = "samples per step (default 32)")
  int batchSize = 32;

  @Option(
      names = "--optimizer",
      paramLabel = "NAME",
      description =
          "sgd, adam, adamw, rmsprop, adagrad, adadelta, adamax (default: the model's training"
              + " config, else rmsprop)")
  String optimizer;

  @Option(
      names = "--learning_rate",
      paramLabel = "LR",
      description = "the learning rate (default: the training config's, else TF.js' default)")
  Double learningRate;

  @Option(
      names = "--loss",
      paramLabel = "[NAME=]LOSS",
      description =
          "mean_squared_error, mean_absolute_error, binary_crossentropy, categorical_crossentropy,"
              + " sparse_categorical_crossentropy, hinge, huber, kl_divergence, for every output;"
              + " NAME=LOSS, repeated, for the output NAME (default: the training config's)")
  List<String> loss = new ArrayList<>();

  @Option(
      names = "--metrics",
      paramLabel = "A,B",
      description =
          "accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy, mse, mae")
  String metrics;

  @Option(
      names = "--validation_split",
      paramLabel = "F",
      description = "hold out the last fraction F of the samples for validation")
  double validationSplit;

  @Option(names = "--no_shuffle", description = "take the batches in file order")
  boolean noShuffle;

  @Option(names = "--no_dropout", description = "keep Dropout layers off while training")
  boolean noDropout;

  @Option(
      names = "--seed",
      paramLabel = "S",
      description = "seed of shuffling and dropout (default 0)")
  long seed;

  @Option(
      names = "--output_format",
      paramLabel = "FORMAT",
      description =
          "tfjs_layers_model (a folder), keras (.h5) or keras_keras (.keras) (default from OUT's"
              + " extension, else tfjs_layers_model)")
  String outputFormat;

  @Option(names = "--output", paramLabel = "OUT", description = "where to write the trained model")
  String output;

  @Option(names = "--json", description = "print the history as one JSON object")
  boolean json;

  @Option(
      description = "show this help and exit",
      names = {"--help", "-h"},
      usageHelp = true)
  boolean help;

  static int run(PrintWriter out, PrintWriter err, String... args) {
    FitCommand c = new FitCommand();
    CommandLine cl = CommandArgs.parse(c, "fit", args);
    if (c.help) {
      cl.usage(out);
      return 0;
    }
    return c.execute(out, err);
  }

  int execute(PrintWriter out, PrintWriter err) {
    if (model == null || x.isEmpty() || y.isEmpty() || output == null) {
      throw new UsageException("fit: give the MODEL, --x, --y and --output (tfport fit --help)");
    }
    if (epochs < 0 || batchSize < 1) {
      throw new UsageException("fit: --epochs must be at least 0 and --batch_size at least 1");
    }
    if (!(validationSplit >= 0 && validationSplit < 1)) {
      throw new UsageException("fit: --validation_split must be in [0, 1)");
    }
    Path out1 = Path.of(output);
    ModelFormat format = outputFormat(out1);
    Map<String, Tensor> xs = named("--x", x);
    Map<String, Tensor> targets = named("--y", y);
    Map<String, String> outputLosses = new LinkedHashMap<>();
    String common = null;
    for (String l : loss) {
      int eq = l.indexOf('=');
      if (eq < 0) {
        if (common != null) {
          throw new UsageException(
              "fit: --loss " + l + ": one loss for all outputs is given already (" + common + ")");
        }
        common = l;
      } else if (eq == 0 || eq == l.length() - 1) {
        throw new UsageException("fit: --loss " + l + ": give NAME=LOSS or LOSS");
      } else if (outputLosses.put(l.substring(0, eq), l.substring(eq + 1)) != null) {
        throw new UsageException("fit: --loss " + l.substring(0, eq) + " is given twice");
      }
    }
    Trainer.Settings s =
        new Trainer.Settings(
            optimizer,
            learningRate == null ? Double.NaN : learningRate,
            common,
            metrics == null
                ? null
                : Arrays.stream(metrics.split(","))
                    .map(String::strip)
                    .filter(m -> !m.isEmpty())
                    .toList(),
            !noDropout,
            java.util.Set.of(),
            0,
            outputLosses.isEmpty() ? null : outputLosses,
            null);
    PrintWriter progress = json ? err : out;
    Callback line =
        (epoch, logs, millis) -> {
          StringBuilder b =
              new StringBuilder(
                  String.format(
                      Locale.ROOT, "Epoch %d/%d - %.2fs", epoch + 1, epochs, millis / 1000.0));
          logs.forEach((k, v) -> b.append(String.format(Locale.ROOT, " - %s: %.4f", k, v)));
          progress.println(b);
          progress.flush();
          return true;
        };
    try (Trainer t = Trainer.open(Path.of(model), s)) {
      History h;
      try {
        h =
            t.fit(
                xs,
                targets,
                new Trainer.FitOptions(
                    epochs, batchSize, !noShuffle, seed, validationSplit, List.of(line)));
      } catch (KernelException e) {
        throw new TfportException(model + ": " + e.getMessage());
      }
      write(t, format, out1);
      if (json) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("epochs", h.epochs());
        ObjectNode hist = o.putObject("history");
        h.values().forEach((k, v) -> v.forEach(hist.withArray(k)::add));
        o.put("output", out1.toString());
        o.put("output_format", format.flagName());
        out.println(Json.MAPPER.writeValueAsString(o));
      } else {
        out.println("wrote " + out1 + " (" + format.flagName() + ")");
      }
      out.flush();
      return 0;
    }
  }

  private ModelFormat outputFormat(Path out1) {
    String f =
        outputFormat != null
            ? outputFormat
            : out1.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".h5")
                ? "keras"
                : out1.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".keras")
                    ? "keras_keras"
                    : "tfjs_layers_model";
    return switch (f) {
      case "tfjs_layers_model" -> ModelFormat.TFJS_LAYERS_MODEL;
      case "keras" -> ModelFormat.KERAS;
      case "keras_keras" -> ModelFormat.KERAS_KERAS;
      default ->
          throw new UsageException(
              "fit: --output_format must be tfjs_layers_model, keras or keras_keras, not '"
                  + f
                  + "'");
    };
  }

  /** {@code [NAME=]FILE.npy} arguments by name ("" for the one unnamed file). */
  private static Map<String, Tensor> named(String flag, List<String> args) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      boolean named = eq > 0 && !Files.exists(Path.of(arg));
      String name = named ? arg.substring(0, eq) : "";
      String file = named ? arg.substring(eq + 1) : arg;
      if (!named && args.size() > 1) {
        throw new UsageException(
            "fit: with several " + flag + ", name each: " + flag + " NAME=FILE.npy");
      }
      if (out.put(name, readNpy(file)) != null) {
        throw new UsageException("fit: " + flag + " " + name + " is given twice");
      }
    }
    return out;
  }

  private static Tensor readNpy(String file) {
    Path p = Path.of(file);
    if (!Files.isRegularFile(p)) {
      throw new UsageException("fit: " + file + ": no such file");
    }
    return Npy.readTensor(p);
  }

  /** The trained model at {@code out}, appearing whole or not at all. */
  private static void write(Trainer t, ModelFormat format, Path out) {
    Path abs = out.toAbsolutePath().normalize();
    Path tmp;
    try {
      Files.createDirectories(abs.getParent());
      tmp =
          Files.createTempFile(
              abs.getParent(),
              "." + abs.getFileName() + ".tfport-",
              format == ModelFormat.KERAS_KERAS ? ".keras" : ".h5");
    } catch (IOException e) {
      throw new OutputException(out + ": cannot write beside it (" + e.getMessage() + ")", e);
    }
    try {
      if (format == ModelFormat.KERAS_KERAS) {
        t.saveKeras(tmp);
      } else {
        t.saveH5(tmp);
      }
      if (format != ModelFormat.TFJS_LAYERS_MODEL) {
        if (Files.isDirectory(abs)) {
          throw new UsageException(
              out + ": is a folder; give a file path for --output_format " + format.flagName());
        }
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } else {
        Converter.from(tmp, ModelFormat.KERAS).to(ModelFormat.TFJS_LAYERS_MODEL).convert(abs);
      }
    } catch (IOException e) {
      throw new OutputException(out + ": cannot write (" + e.getMessage() + ")", e);
    } finally {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // a hidden temp file beside the output; nothing else to do
      }
    }
  }
}
