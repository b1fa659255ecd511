package org.tfport.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.tfport.convert.ConversionResult;
import org.tfport.convert.Converter;
import org.tfport.convert.GraphLoadingOptions;
import org.tfport.convert.TfliteOutputOptions;
import org.tfport.convert.TfliteQuantizationMode;
import org.tfport.convert.TfliteSupportMetadata;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.ModelFormat;
import org.tfport.graph.GraphOptions;
import org.tfport.runtime.LoadOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tfport tflite_convert} (the flags of TensorFlow's {@code tflite_convert}, V2 and V1) and
 * {@code tfport convert --output_format=tflite IN OUT.tflite}: TensorFlow graphs to a {@code
 * .tflite} file.
 */
@Command(
    name = "tflite_convert",
    sortOptions = false,
    usageHelpWidth = 110,
    description = "Convert a TensorFlow model to TFLite. Flags are those of tflite_convert.")
final class TfliteConvertCommand {
  @Parameters(
      paramLabel = "PATH",
      description = "input_path output_path (convert --output_format=tflite only)")
  List<String> paths = new ArrayList<>();

  @Option(
      names = "--input_format",
      paramLabel = "FORMAT",
      description =
          "tf_saved_model, tf_frozen_model, tf_hub or tfjs_graph_model (default: read from the input)")
  String inputFormat;

  @Option(
      description = "tflite (the only output of this command)",
      names = "--output_format",
      paramLabel = "FORMAT")
  String outputFormat;

  @Option(description = "the .tflite file to write", names = "--output_file", paramLabel = "FILE")
  String outputFile;

  @Option(
      description = "SavedModel folder to convert",
      names = "--saved_model_dir",
      paramLabel = "DIR")
  String savedModelDir;

  @Option(
      description = "frozen GraphDef (.pb) to convert; needs --output_arrays",
      names = "--graph_def_file",
      paramLabel = "FILE")
  String graphDefFile;

  @Option(
      description = "Keras .h5 or .keras model to convert (through the graph its layers compute)",
      names = "--keras_model_file",
      paramLabel = "FILE")
  String kerasModelFile;

  @Option(
      description = "input placeholder names, comma-separated (frozen graphs)",
      names = {"--input_arrays"},
      paramLabel = "NAMES")
  String inputArrays;

  @Option(
      description = "output node names, comma-separated (frozen graphs)",
      names = {"--output_arrays", "--output_node_names"},
      paramLabel = "NAMES")
  String outputArrays;

  @Option(names = "--input_shapes", paramLabel = "SHAPES", description = "e.g. 1,224,224,3:1,10")
  String inputShapes;

  @Option(
      description = "SavedModel signatures to convert, comma-separated (default serving_default)",
      names = {"--signature_def_keys", "--saved_model_signature_key", "--signature_name"},
      paramLabel = "KEYS")
  String signatureKeys;

  @Option(
      description = "SavedModel MetaGraph tags, comma-separated (default serve)",
      names = {"--tags", "--saved_model_tag_set", "--saved_model_tags"},
      paramLabel = "TAGS")
  String tags;

  @Option(
      description = "ops with no builtin become custom ops you provide kernels for",
      names = "--allow_custom_ops",
      arity = "0..1",
      fallbackValue = "true")
  String allowCustomOps;

  @Option(
      description = "ops with no builtin become Flex ops (needs the Flex delegate)",
      names = {"--enable_select_tf_ops", "--select_tf_ops"},
      arity = "0..1",
      fallbackValue = "true")
  String selectTfOps;

  @Option(
      names = "--target_ops",
      paramLabel = "OPSETS",
      description = "TFLITE_BUILTINS, SELECT_TF_OPS, TFLITE_BUILTINS_INT8, ..._INT16_WEIGHTS_INT8")
  String targetOps;

  @Option(
      names = {"--post_training_quantize", "--quantize_weights"},
      arity = "0..1",
      fallbackValue = "true",
      description = "dynamic-range int8 weights")
  String postTrainingQuantize;

  @Option(
      description = "store float32 weights as float16",
      names = {"--quantize_float16", "--quantize_to_float16"},
      arity = "0..1",
      fallbackValue = "true")
  String quantizeFloat16;

  @Option(
      names = "--cast_float64_to_float32",
      arity = "0..1",
      fallbackValue = "true",
      description =
          "compute a float64 graph in float32 (constants rounded, placeholders float32); TFLite"
              + " builtins have no float64 kernels")
  String castFloat64;

  @Option(names = "--optimizations", paramLabel = "OPTS", description = "DEFAULT")
  String optimizations;

  @Option(
      names = "--representative_data",
      paramLabel = "DIR",
      description = {
        "full integer quantization (int8; 16x8 with --target_ops"
            + " EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8), calibrated on the .npy samples in DIR (float32/float64 for float inputs,"
            + " C order). One-input models: each DIR/*.npy is a sample (sorted by name). Any model: each sub-folder"
            + " of DIR is a sample holding INPUT.npy per input (INPUT = signature input key, or placeholder name;"
            + " characters other than [A-Za-z0-9._-] as _). Several signatures: DIR/KEY/ per signature key.",
        "A file [N, ...] for an input [-1, ...] is a batch of N samples; [...] without the batch dim is one."
      })
  String representativeData;

  @Option(
      names = "--inference_input_type",
      paramLabel = "TYPE",
      description =
          "float32 (default), int8 or uint8 (int8 models), int16 (16x8 models): the quantized model's"
              + " input type")
  String inferenceInputType;

  @Option(
      names = "--inference_output_type",
      paramLabel = "TYPE",
      description =
          "float32 (default), int8 or uint8 (int8 models), int16 (16x8 models): the quantized model's"
              + " output type")
  String inferenceOutputType;

  @Option(description = "tflite-support metadata: model name", names = "--metadata_name")
  String mdName;

  @Option(
      description = "tflite-support metadata: model description",
      names = "--metadata_description")
  String mdDescription;

  @Option(description = "tflite-support metadata: model version", names = "--metadata_version")
  String mdVersion;

  @Option(description = "tflite-support metadata: author", names = "--metadata_author")
  String mdAuthor;

  @Option(description = "tflite-support metadata: license", names = "--metadata_license")
  String mdLicense;

  @Option(
      description = "tflite-support metadata: input normalization means, comma-separated",
      names = {"--input_norm_mean", "--mean_values"},
      paramLabel = "FLOATS")
  String mean;

  @Option(
      description =
          "tflite-support metadata: input normalization standard deviations, comma-separated",
      names = {"--input_norm_std", "--std_dev_values"},
      paramLabel = "FLOATS")
  String std;

  @Option(
      description = "tflite-support metadata: a text file of output labels, one a line",
      names = "--labels_file",
      paramLabel = "FILE")
  String labelsFile;

  @Option(
      description = "drop Assert, Print and CheckNumerics nodes",
      names = "--strip_debug_ops",
      arity = "0..1",
      fallbackValue = "true")
  String stripDebugOps;

  @Option(
      description = "accepted for tflite_convert compatibility; tfport has one converter",
      names = "--experimental_new_converter",
      arity = "0..1",
      fallbackValue = "true")
  String newConverter;

  @Option(
      names = "--enable_v1_converter",
      arity = "0..1",
      fallbackValue = "true",
      description =
          "accepted for tflite_convert compatibility: TF1 graphs (frozen .pb, TF1 SavedModels) need"
              + " no separate converter in tfport")
  String enableV1Converter;

  @Mixin ResultReport report = new ResultReport();

  @Option(
      description = "show this help and exit",
      names = {"--help", "-h"},
      usageHelp = true)
  boolean help;

  /** True when {@code convert} was asked for tflite output: then this command handles it. */
  static boolean wantsTflite(String... args) {
    boolean formatGiven = false;
    for (String a : args) {
      formatGiven |= a.startsWith("--output_format");
    }
    // With no --output_format, an output named *.tflite says which converter is meant.
    if (!formatGiven
        && args.length > 0
        && !args[args.length - 1].startsWith("-")
        && args[args.length - 1].toLowerCase(java.util.Locale.ROOT).endsWith(".tflite")) {
      return true;
    }
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--output_format=tflite")
          || args[i].equals("--output_format")
              && i + 1 < args.length
              && args[i + 1].equals("tflite")) {
        return true;
      }
    }
    return false;
  }

  static int run(String name, PrintWriter out, PrintWriter err, String... rawArgs) {
    String[] args =
        BooleanFlags.normalize(
            rawArgs,
            java.util.Set.of(
                "--allow_custom_ops",
                "--enable_select_tf_ops",
                "--select_tf_ops",
                "--post_training_quantize",
                "--quantize_weights",
                "--quantize_float16",
                "--quantize_to_float16",
                "--enable_v1_converter",
                "--cast_float64_to_float32",
                "--strip_debug_ops",
                "--experimental_new_converter",
                "--verify",
                "--json"));
    TfliteConvertCommand c = new TfliteConvertCommand();
    CommandLine cl = CommandArgs.parse(c, name, args);
    if (c.help) {
      cl.usage(out);
      if (!name.equals("tflite_convert")) {
        ConvertCommand.printTfliteFlagsAndPairs(out);
      }
      return 0;
    }
    return c.execute(name, out, err);
  }

  int execute(String name, PrintWriter out, PrintWriter err) {
    Path input;
    Path output;
    ModelFormat in;
    if (name.equals("tflite_convert")) {
      if (outputFile == null) {
        throw new UsageException("--output_file is required");
      }
      int given =
          (savedModelDir == null ? 0 : 1)
              + (graphDefFile == null ? 0 : 1)
              + (kerasModelFile == null ? 0 : 1);
      if (given != 1) {
        throw new UsageException(
            "give exactly one of --saved_model_dir, --graph_def_file and --keras_model_file");
      }
      if (!paths.isEmpty()) {
        throw new UsageException(
            "unexpected arguments " + paths + "; tflite_convert takes flags only");
      }
      input =
          Path.of(
              savedModelDir != null
                  ? savedModelDir
                  : graphDefFile != null ? graphDefFile : kerasModelFile);
      in =
          savedModelDir != null
              ? ModelFormat.TF_SAVED_MODEL
              : graphDefFile != null
                  ? ModelFormat.TF_FROZEN_MODEL
                  : kerasModelFile.toLowerCase(Locale.ROOT).endsWith(".keras")
                      ? ModelFormat.KERAS_KERAS
                      : ModelFormat.KERAS;
      output = Path.of(outputFile);
    } else {
      if (paths.size() != 2) {
        throw new UsageException("expected 2 paths (input_path output_path), got " + paths.size());
      }
      input = ConvertFormats.inputPath(paths.get(0), inputFormat);
      output = Path.of(paths.get(1));
      in =
          inputFormat != null
              ? ModelFormat.fromFlagName(inputFormat.trim())
                  .orElseThrow(() -> unsupported(inputFormat.trim()))
              : ConvertCommand.infer(input);
    }
    if (!Files.exists(input)) {
      throw new UsageException(input + ": no such file or folder");
    }
    if (Files.isDirectory(output)) {
      throw new UsageException(output + ": the output path is a folder; give a .tflite file path");
    }
    TfliteOutputOptions o = options();
    List<String> outputs = list(outputArrays);
    switch (in) {
      case TF_SAVED_MODEL,
          TF_HUB,
          TFJS_GRAPH_MODEL,
          KERAS,
          KERAS_KERAS,
          TFJS_LAYERS_MODEL,
          STABLEHLO -> {}
      case TF_FROZEN_MODEL -> {
        if (outputs.isEmpty()) {
          throw new UsageException(
              "--output_arrays (or --output_node_names) is required for a GraphDef input");
        }
      }
      default -> throw unsupported(in.flagName());
    }
    GraphLoadingOptions.Builder go =
        GraphLoadingOptions.builder()
            .stripDebugOps(
                stripDebugOps == null || ResultReport.bool("--strip_debug_ops", stripDebugOps))
            .outputNodeNames(outputs);
    if (tags != null) {
      go.tags(GraphOptions.parseTags(tags).toArray(String[]::new));
    }
    if (in == ModelFormat.TF_SAVED_MODEL || in == ModelFormat.TF_HUB) {
      go.signatures(list(signatureKeys));
    } else if (in == ModelFormat.TF_FROZEN_MODEL) {
      go.inputNodeNames(list(inputArrays));
      shapes().forEach(go::inputShape);
    } else if (in == ModelFormat.STABLEHLO) {
      // Fixes the ? dimensions of the named arguments, so that symbolic shapes refine.
      shapes().forEach(go::inputShape);
    }
    GraphLoadingOptions graph = go.build();
    ConversionResult s =
        Converter.from(input, in)
            .to(ModelFormat.TFLITE)
            .withGraphLoading(graph)
            .withTfliteOutput(o)
            .convert(output);
    return report.print(
        s,
        out,
        err,
        to ->
            Verify.run(
                input,
                new LoadOptions(null, graph.tags(), outputs),
                in == ModelFormat.TF_SAVED_MODEL || in == ModelFormat.TF_HUB
                    ? list(signatureKeys)
                    : List.of(),
                output,
                Verify.tflite(o.quantization()),
                to));
  }

  private static UsageException unsupported(String inputFormat) {
    return new UsageException(
        "unsupported input_format '"
            + inputFormat
            + "' for tflite output; supported:"
            + " tf_saved_model, tf_frozen_model, tf_hub, tfjs_graph_model, keras, keras_keras,"
            + " tfjs_layers_model, stablehlo");
  }

  TfliteOutputOptions options() {
    Set<String> ops =
        Set.copyOf(list(targetOps).stream().map(x -> x.toUpperCase(Locale.ROOT)).toList());
    for (String op : ops) {
      if (!Set.of(
              "TFLITE_BUILTINS",
              "SELECT_TF_OPS",
              "TFLITE_BUILTINS_INT8",
              "EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8")
          .contains(op)) {
        throw new UsageException("--target_ops: unknown ops set '" + op + "'");
      }
    }
    EnumSet<TfliteOutputOptions.OpSet> opSets = EnumSet.noneOf(TfliteOutputOptions.OpSet.class);
    ops.forEach(op -> opSets.add(TfliteOutputOptions.OpSet.valueOf(op)));
    if (opSets.isEmpty()) {
      opSets.add(TfliteOutputOptions.OpSet.TFLITE_BUILTINS);
    }
    if (selectTfOps != null && ResultReport.bool("--enable_select_tf_ops", selectTfOps)) {
      opSets.add(TfliteOutputOptions.OpSet.SELECT_TF_OPS);
    }
    boolean custom =
        allowCustomOps != null && ResultReport.bool("--allow_custom_ops", allowCustomOps);
    boolean dynamic =
        postTrainingQuantize != null
                && ResultReport.bool("--post_training_quantize", postTrainingQuantize)
            || optimizations != null && optimizations.toUpperCase(Locale.ROOT).contains("DEFAULT");
    boolean fp16 =
        quantizeFloat16 != null && ResultReport.bool("--quantize_float16", quantizeFloat16);
    // Accepted for scripts written for tflite_convert; their values are still checked.
    if (newConverter != null) {
      ResultReport.bool("--experimental_new_converter", newConverter);
    }
    if (enableV1Converter != null) {
      ResultReport.bool("--enable_v1_converter", enableV1Converter);
    }
    TfliteQuantizationMode q = TfliteQuantizationMode.NONE;
    if (representativeData != null) {
      q =
          ops.contains("EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8")
              ? TfliteQuantizationMode.INT16X8
              : TfliteQuantizationMode.INT8;
    } else if (ops.contains("TFLITE_BUILTINS_INT8")) {
      throw new UsageException(
          "For full integer quantization, a representative dataset must be specified"
              + " (--representative_data DIR of .npy samples)");
    } else if (fp16) {
      q = TfliteQuantizationMode.FLOAT16;
    } else if (dynamic) {
      q = TfliteQuantizationMode.DYNAMIC_RANGE;
    }
    for (String t : new String[] {inferenceInputType, inferenceOutputType}) {
      if (t != null
          && !Set.of("float32", "int8", "uint8", "int16").contains(t.toLowerCase(Locale.ROOT))) {
        throw new UsageException(
            "--inference_input_type/--inference_output_type must be float32, int8, uint8 or"
                + " int16, got '"
                + t
                + "'");
      }
      if (t != null && !t.equalsIgnoreCase("float32") && q == TfliteQuantizationMode.NONE) {
        throw new UsageException(
            "--inference_input_type/--inference_output_type "
                + t
                + " needs full integer"
                + " quantization (--representative_data)");
      }
    }
    TfliteSupportMetadata md = null;
    if (mdName != null
        || mdDescription != null
        || mdVersion != null
        || mdAuthor != null
        || mdLicense != null
        || mean != null
        || std != null
        || labelsFile != null) {
      List<Float> m = floats("--input_norm_mean", mean);
      List<Float> s = floats("--input_norm_std", std);
      if (m.size() != s.size()) {
        throw new UsageException(
            "--input_norm_mean and --input_norm_std need the same number of values");
      }
      Path labels = labelsFile == null ? null : Path.of(labelsFile);
      if (labels != null && !Files.isRegularFile(labels)) {
        throw new UsageException(labels + ": no such labels file");
      }
      md =
          new TfliteSupportMetadata(
              mdName, mdDescription, mdVersion, mdAuthor, mdLicense, m, s, labels);
    }
    TfliteOutputOptions.Builder b =
        TfliteOutputOptions.builder().opSets(opSets).allowCustomOps(custom).quantization(q);
    if (representativeData != null) {
      b.representativeData(Path.of(representativeData));
    }
    if (inferenceInputType != null) {
      b.inferenceInputType(
          TfliteOutputOptions.IoType.valueOf(inferenceInputType.toUpperCase(Locale.ROOT)));
    }
    if (inferenceOutputType != null) {
      b.inferenceOutputType(
          TfliteOutputOptions.IoType.valueOf(inferenceOutputType.toUpperCase(Locale.ROOT)));
    }
    if (md != null) {
      b.metadata(md);
    }
    if (castFloat64 != null) {
      b.castFloat64ToFloat32(ResultReport.bool("--cast_float64_to_float32", castFloat64));
    }
    return b.build();
  }

  Map<String, long[]> shapes() {
    Map<String, long[]> m = new LinkedHashMap<>();
    if (inputShapes == null) {
      return m;
    }
    List<String> names = list(inputArrays);
    String[] parts = inputShapes.split(":");
    if (parts.length != names.size()) {
      throw new UsageException(
          "--input_shapes has " + parts.length + " shapes for " + names.size() + " --input_arrays");
    }
    for (int i = 0; i < parts.length; i++) {
      try {
        m.put(
            names.get(i),
            parts[i].isBlank()
                ? new long[0]
                : Arrays.stream(parts[i].split(","))
                    .mapToLong(x -> Long.parseLong(x.strip()))
                    .toArray());
      } catch (NumberFormatException e) {
        throw new UsageException(
            "--input_shapes: '" + parts[i] + "' is not a comma-separated list of integers");
      }
    }
    return m;
  }

  private static List<Float> floats(String flag, String v) {
    if (v == null) {
      return List.of();
    }
    try {
      return Arrays.stream(v.split(",")).map(x -> Float.parseFloat(x.strip())).toList();
    } catch (NumberFormatException e) {
      throw new UsageException(flag + ": '" + v + "' is not a comma-separated list of numbers");
    }
  }

  private static List<String> list(String v) {
    return v == null
        ? List.of()
        : Arrays.stream(v.split(",")).map(String::strip).filter(x -> !x.isEmpty()).toList();
  }
}
