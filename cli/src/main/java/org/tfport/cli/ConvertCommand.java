package org.tfport.cli;

import static org.tfport.formats.ModelFormat.KERAS;
import static org.tfport.formats.ModelFormat.KERAS_KERAS;
import static org.tfport.formats.ModelFormat.KERAS_SAVED_MODEL;
import static org.tfport.formats.ModelFormat.TFJS_GRAPH_MODEL;
import static org.tfport.formats.ModelFormat.TFJS_LAYERS_MODEL;
import static org.tfport.formats.ModelFormat.TFLITE;
import static org.tfport.formats.ModelFormat.TF_FROZEN_MODEL;
import static org.tfport.formats.ModelFormat.TF_HUB;
import static org.tfport.formats.ModelFormat.TF_SAVED_MODEL;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.tfport.convert.ConversionResult;
import org.tfport.convert.Converter;
import org.tfport.convert.GraphLoadingOptions;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.core.ProgressListener;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.ModelFormat;
import org.tfport.formats.tfjs.QuantizationMap;
import org.tfport.graph.GraphOptions;
import org.tfport.runtime.LoadOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code tfport convert}: the flags of {@code tensorflowjs_converter}, parsed without its quirks:
 * paths may hold spaces, and boolean flags take {@code =true}/{@code =false}.
 */
@Command(
    name = "convert",
    sortOptions = false,
    usageHelpWidth = 110,
    description = "Convert a model. Flags are those of tensorflowjs_converter.")
final class ConvertCommand {
  @Parameters(paramLabel = "PATH", description = "input_path output_path")
  List<String> paths = new ArrayList<>();

  @Option(
      names = "--input_format",
      paramLabel = "FORMAT",
      description =
          "keras, keras_keras, tfjs_layers_model, tf_saved_model, ... (default: from the input)")
  String inputFormat;

  @Option(names = "--output_format", paramLabel = "FORMAT", description = "tfjs_layers_model, ...")
  String outputFormat;

  @Option(
      description = "SavedModel signature to convert (default serving_default)",
      names = "--signature_name",
      paramLabel = "NAME")
  String signatureName;

  @Option(
      description = "SavedModel MetaGraph tags, comma-separated (default serve)",
      names = "--saved_model_tags",
      paramLabel = "TAGS")
  String savedModelTags;

  @Option(
      names = "--quantize_float16",
      arity = "0..1",
      fallbackValue = "",
      paramLabel = "PATTERNS",
      description =
          "store float32 weights as float16 (all, or those matching comma-separated patterns)")
  String quantizeFloat16;

  @Option(
      names = "--quantize_uint8",
      arity = "0..1",
      fallbackValue = "",
      paramLabel = "PATTERNS",
      description = "affine uint8 quantization (all, or matching weights)")
  String quantizeUint8;

  @Option(
      names = "--quantize_uint16",
      arity = "0..1",
      fallbackValue = "",
      paramLabel = "PATTERNS",
      description = "affine uint16 quantization (all, or matching weights)")
  String quantizeUint16;

  @Option(
      names = "--quantization_bytes",
      paramLabel = "1|2",
      description = "deprecated: 1 = uint8, 2 = uint16")
  Integer quantizationBytes;

  @Option(
      names = "--split_weights_by_layer",
      arity = "0..1",
      fallbackValue = "true",
      paramLabel = "BOOL",
      description = "one weight group per layer (Keras inputs)")
  String splitWeightsByLayer;

  @Option(
      names = "--overwrite",
      arity = "0..1",
      fallbackValue = "true",
      paramLabel = "BOOL",
      description =
          "write into an output folder holding files tfport did not write (its old model.json and"
              + " weight files are replaced, other files kept)")
  String overwrite;

  @Option(
      names = {"--version", "-v"},
      description = "print the version and exit")
  boolean version;

  @Option(
      description = "write ops TF.js 4.22 does not list instead of refusing the model",
      names = "--skip_op_check",
      arity = "0..1",
      fallbackValue = "true",
      paramLabel = "BOOL")
  String skipOpCheck;

  @Option(
      names = "--skip_optimization",
      arity = "0..1",
      fallbackValue = "true",
      paramLabel = "BOOL",
      description =
          "tfport: write the frozen graph without folding or fusing ops (to compare or debug)")
  String skipOptimization;

  @Option(
      description = "drop Assert, Print and CheckNumerics nodes",
      names = "--strip_debug_ops",
      arity = "0..1",
      fallbackValue = "true",
      paramLabel = "BOOL")
  String stripDebugOps;

  @Option(
      description = "name a SavedModel's outputs by its structured output keys",
      names = "--use_structured_outputs_names",
      arity = "0..1",
      fallbackValue = "true",
      paramLabel = "BOOL")
  String useStructuredOutputsNames;

  @Option(
      description =
          "tflite input: keep quantized int8/uint8/int16 and float16 weights as stored"
              + " (TensorFlow: integer weight, Cast, Sub, Mul, or half weight and Cast; TF.js:"
              + " uint8/uint16 manifest quantization per tensor, or float16)",
      names = "--keep_quantization",
      arity = "0..1",
      fallbackValue = "true",
      paramLabel = "BOOL")
  String keepQuantization;

  @Option(
      names = "--weight_shard_size_bytes",
      paramLabel = "BYTES",
      description = "default 4194304")
  String weightShardSizeBytes;

  @Option(
      description = "frozen graph outputs, comma-separated node names (see tfport analyze)",
      names = "--output_node_names",
      paramLabel = "NAMES")
  String outputNodeNames;

  @Option(
      description =
          "accepted for tensorflowjs_converter compatibility; control flow is always kept as v2",
      names = "--control_flow_v2",
      arity = "0..1",
      fallbackValue = "true",
      paramLabel = "BOOL")
  String controlFlowV2;

  @Option(
      description = "accepted for tensorflowjs_converter compatibility; has no effect",
      names = "--experiments",
      arity = "0..1",
      fallbackValue = "true",
      paramLabel = "BOOL")
  String experiments;

  @Option(
      names = "--metadata",
      paramLabel = "KEY:FILE,...",
      description = "JSON files to store as userDefinedMetadata[KEY]")
  String metadata;

  @Mixin ResultReport report = new ResultReport();

  @Option(
      names = {"--help", "-h"},
      usageHelp = true,
      description = "show this help")
  boolean help;

  static int run(String name, PrintWriter out, PrintWriter err, String... args) {
    if (TfliteConvertCommand.wantsTflite(args)) {
      // tf_saved_model|tf_frozen_model|tf_hub -> tflite has flags of its own (tflite_convert's).
      return TfliteConvertCommand.run(name, out, err, args);
    }
    ConvertCommand c = parse(name, args);
    if (c.help) {
      CommandLine cl = new CommandLine(new ConvertCommand());
      cl.setCommandName("tfport " + name);
      cl.usage(out);
      printTfliteFlagsAndPairs(out);
      return 0;
    }
    if (c.version) {
      out.println(
          "tfport " + org.tfport.convert.Version.VERSION + " (tensorflowjs_converter compatible)");
      return 0;
    }
    return c.execute(out, err);
  }

  /**
   * {@code convert} hands tflite output to {@link TfliteConvertCommand}, so its flags are valid
   * here too; help lists those this command does not declare itself, then every supported pair.
   */
  static void printTfliteFlagsAndPairs(PrintWriter out) {
    Set<String> own = new java.util.HashSet<>();
    for (OptionSpec o : new CommandLine(new ConvertCommand()).getCommandSpec().options()) {
      own.addAll(Arrays.asList(o.names()));
    }
    out.println();
    out.println(
        "With --output_format=tflite (or an output path ending in .tflite) these flags apply too:");
    for (OptionSpec o : new CommandLine(new TfliteConvertCommand()).getCommandSpec().options()) {
      List<String> names = Arrays.stream(o.names()).filter(n -> !own.contains(n)).toList();
      if (names.isEmpty()) {
        continue;
      }
      String label =
          String.join(", ", names)
              + (o.arity().max() > 0 && o.arity().min() > 0 ? "=" + o.paramLabel() : "");
      out.printf("  %-44s %s%n", label, o.description().length == 0 ? "" : o.description()[0]);
    }
    out.println();
    out.println("supported conversions (--input_format -> --output_format):");
    for (String pair : ConvertFormats.SUPPORTED_PAIRS) {
      String[] io = pair.split(" -> ");
      out.printf("  %-20s -> %s%n", io[0], io[1]);
    }
  }

  static final Set<String> SWITCHES =
      Set.of(
          "--split_weights_by_layer",
          "--overwrite",
          "--skip_op_check",
          "--skip_optimization",
          "--strip_debug_ops",
          "--use_structured_outputs_names",
          "--control_flow_v2",
          "--experiments",
          "--keep_quantization",
          "--verify",
          "--json");

  static ConvertCommand parse(String name, String... rawArgs) {
    String[] args = BooleanFlags.normalize(rawArgs, SWITCHES);
    ConvertCommand c = tryParse(name, args);
    if (c.paths.size() < 2 && !c.help && !c.version) {
      // argparse lets '--quantize_uint8 in.h5 out' eat in.h5 as a pattern; we give it back as a
      // path.
      String[] fixed =
          Arrays.stream(args)
              .map(a -> a.startsWith("--quantize_") && !a.contains("=") ? a + "=" : a)
              .toArray(String[]::new);
      ConvertCommand again = tryParse(name, fixed);
      if (again.paths.size() > c.paths.size()) {
        c = again;
      }
    }
    return c;
  }

  private static ConvertCommand tryParse(String name, String... args) {
    ConvertCommand c = new ConvertCommand();
    CommandLine cl = new CommandLine(c);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    try {
      cl.parseArgs(args);
    } catch (CommandLine.ParameterException e) {
      throw new UsageException(name + ": " + e.getMessage() + " (see tfport " + name + " --help)");
    }
    return c;
  }

  int execute(PrintWriter out, PrintWriter err) {
    if (paths.size() != 2) {
      throw new UsageException(
          paths.isEmpty()
              ? "missing input_path and output_path arguments"
              : paths.size() == 1
                  ? "missing output_path argument"
                  : "expected 2 paths (input_path output_path), got "
                      + paths.size()
                      + ": "
                      + paths);
    }
    boolean split =
        splitWeightsByLayer != null
            && ResultReport.bool("--split_weights_by_layer", splitWeightsByLayer);
    for (String[] flag :
        new String[][] {
          {"--skip_op_check", skipOpCheck},
          {"--strip_debug_ops", stripDebugOps},
          {"--use_structured_outputs_names", useStructuredOutputsNames},
          {"--experiments", experiments}
        }) {
      if (flag[1] != null) {
        ResultReport.bool(flag[0], flag[1]);
      }
    }
    Path input = ConvertFormats.inputPath(paths.get(0), inputFormat);
    Path output = Path.of(paths.get(1));
    if (!Files.exists(input)) {
      throw new UsageException(input + ": no such file or folder");
    }
    ModelFormat in =
        inputFormat != null
            ? ConvertFormats.check(inputFormat, ConvertFormats.INPUT_FORMATS, "--input_format")
            : infer(input);
    ModelFormat outFmt =
        outputFormat != null
            ? ConvertFormats.check(outputFormat, ConvertFormats.OUTPUT_FORMATS, "--output_format")
            : switch (in) {
              case KERAS, KERAS_SAVED_MODEL, KERAS_KERAS -> TFJS_LAYERS_MODEL;
              case TFJS_LAYERS_MODEL -> KERAS;
              default -> TFJS_GRAPH_MODEL;
            };
    String pair = in.flagName() + " -> " + outFmt.flagName();
    if (in == ModelFormat.TFLITE && !ConvertFormats.SUPPORTED_PAIRS.contains(pair)) {
      throw new UsageException(
          input
              + ": a TFLite model converts to tfjs_graph_model, tf_saved_model or tf_frozen_model,"
              + " not to "
              + outFmt.flagName()
              + "; supported: "
              + String.join(", ", ConvertFormats.SUPPORTED_PAIRS));
    }
    if (!ConvertFormats.SUPPORTED_PAIRS.contains(pair)) {
      throw new UsageException(
          "unsupported input_format - output_format pair: "
              + in.flagName()
              + " - "
              + outFmt.flagName()
              + "; supported: "
              + String.join(", ", ConvertFormats.SUPPORTED_PAIRS));
    }
    long shard = TfjsOutputOptions.DEFAULT_SHARD_SIZE;
    if (weightShardSizeBytes != null) {
      try {
        shard = Long.parseLong(weightShardSizeBytes.trim());
      } catch (NumberFormatException e) {
        throw new UsageException(
            "--weight_shard_size_bytes must be a positive integer, got '"
                + weightShardSizeBytes
                + "'");
      }
      if (shard <= 0) {
        throw new UsageException(
            "--weight_shard_size_bytes must be a positive number of bytes, got " + shard);
      }
    }
    if (signatureName != null
        && in != TF_SAVED_MODEL
        && in != TF_HUB
        && !(in == TFLITE && outFmt == TFJS_GRAPH_MODEL)) {
      throw new UsageException(
          "--signature_name is only for tf_saved_model and tf_hub inputs, and tflite input to"
              + " tfjs_graph_model");
    }
    if (controlFlowV2 != null
        && ResultReport.bool("--control_flow_v2", controlFlowV2)
        && outFmt != TFJS_GRAPH_MODEL) {
      throw new UsageException("--control_flow_v2 is only for tfjs_graph_model output");
    }
    if ((outFmt == TF_SAVED_MODEL
            || outFmt == TF_FROZEN_MODEL
            || outFmt == KERAS
            || outFmt == KERAS_KERAS
            || outFmt == KERAS_SAVED_MODEL)
        && (quantizeFloat16 != null
            || quantizeUint8 != null
            || quantizeUint16 != null
            || quantizationBytes != null
            || weightShardSizeBytes != null
            || split)) {
      throw new UsageException(
          "--quantize_*, --weight_shard_size_bytes and --split_weights_by_layer are for TF.js"
              + " output; "
              + outFmt.flagName()
              + " keeps the weights as they are");
    }
    QuantizationMap q =
        QuantizationMap.fromFlags(
            quantizeFloat16, quantizeUint8, quantizeUint16, quantizationBytes);
    if (quantizationBytes != null) {
      err.println(
          "tfport: warning: --quantization_bytes is deprecated; use --quantize_uint8 or"
              + " --quantize_uint16");
    }
    TfjsOutputOptions.Builder options =
        TfjsOutputOptions.builder()
            .shardSizeBytes(shard)
            .overwrite(overwrite != null && ResultReport.bool("--overwrite", overwrite))
            .quantization(q)
            .weightGrouping(
                split
                    ? TfjsOutputOptions.WeightGrouping.PER_LAYER
                    : TfjsOutputOptions.WeightGrouping.ONE_GROUP);
    ObjectNode md = ConvertFormats.metadata(metadata);
    if (md != null) {
      md.properties().forEach(e -> options.userDefinedMetadata(e.getKey(), e.getValue()));
    }
    boolean keep =
        keepQuantization != null && ResultReport.bool("--keep_quantization", keepQuantization);
    if (keep && in != TFLITE) {
      throw new UsageException(
          "--keep_quantization is for tflite input (to tfjs_graph_model, tf_saved_model or"
              + " tf_frozen_model); "
              + in.flagName()
              + " input keeps its weights as they are");
    }
    Converter converter = Converter.from(input, in).to(outFmt).withTfjsOutput(options.build());
    if (outFmt == TFJS_GRAPH_MODEL) {
      GraphLoadingOptions graph = graphOptions();
      if (in == TF_FROZEN_MODEL && graph.outputNodeNames().isEmpty()) {
        throw new UsageException(
            "--output_node_names is required for tf_frozen_model: give the comma-separated"
                + " names of the nodes to compute");
      }
      converter = converter.withGraphLoading(graph);
    } else if (keep) {
      converter = converter.withGraphLoading(graphOptions());
    }
    ProgressListener progress = StderrProgress.forConsole(err);
    ConversionResult s = converter.withProgress(progress).convert(output);
    StderrProgress.clear(err, progress);
    return report.print(
        s,
        out,
        err,
        to -> {
          GraphLoadingOptions go = graphOptions();
          return Verify.run(
              input,
              new LoadOptions(null, go.tags(), go.outputNodeNames()),
              signatureName == null ? List.of() : List.of(signatureName),
              output,
              Verify.tfjs(q),
              to);
        });
  }

  GraphLoadingOptions graphOptions() {
    List<String> outputs =
        outputNodeNames == null
            ? List.of()
            : Arrays.stream(outputNodeNames.split(","))
                .map(String::strip)
                .filter(n -> !n.isEmpty())
                .toList();
    GraphLoadingOptions.Builder b =
        GraphLoadingOptions.builder()
            .stripDebugOps(
                stripDebugOps == null || ResultReport.bool("--strip_debug_ops", stripDebugOps))
            .checkOps(skipOpCheck == null || !ResultReport.bool("--skip_op_check", skipOpCheck))
            .structuredOutputKeys(
                useStructuredOutputsNames != null
                    && ResultReport.bool(
                        "--use_structured_outputs_names", useStructuredOutputsNames))
            .outputNodeNames(outputs)
            .optimize(
                skipOptimization == null
                    || !ResultReport.bool("--skip_optimization", skipOptimization))
            .keepQuantization(
                keepQuantization != null
                    && ResultReport.bool("--keep_quantization", keepQuantization));
    if (signatureName != null) {
      b.signature(signatureName);
    }
    Set<String> tags = GraphOptions.parseTags(savedModelTags);
    if (tags != null) {
      b.tags(tags.toArray(String[]::new));
    }
    return b.build();
  }

  /** The input format from the file itself, where upstream just assumes tf_saved_model. */
  static ModelFormat infer(Path input) {
    try {
      return ModelFormat.detect(input);
    } catch (UsageException e) {
      throw new UsageException(e.getMessage() + "; or give --input_format");
    }
  }
}
