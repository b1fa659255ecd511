package org.tfport.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.tfport.convert.ConversionSummary;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.graph.GraphOptions;
import org.tfport.convert.tfjs.TfGraphToTfjs;
import org.tfport.convert.keras.KerasToTfjs;
import org.tfport.convert.tfjs.TfjsLayersReshard;
import org.tfport.core.Json;
import org.tfport.core.ProgressListener;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.tfjs.QuantizationMap;
import org.tfport.runtime.LoadOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code tfport convert}: the flags of {@code tensorflowjs_converter}, parsed without its quirks: paths may
 * hold spaces, and boolean flags take {@code =true}/{@code =false}.
 */
@Command(name = "convert", sortOptions = false, usageHelpWidth = 110,
    description = "Convert a model. Flags are those of tensorflowjs_converter.")
final class ConvertCommand {
  static final List<String> INPUT_FORMATS = List.of("keras", "keras_saved_model", "keras_keras",
      "tf_saved_model", "tf_hub", "tf_frozen_model", "tfjs_layers_model", "tfjs_graph_model");
  static final List<String> OUTPUT_FORMATS =
      List.of("tfjs_layers_model", "tfjs_graph_model", "keras", "keras_saved_model", "keras_keras");
  static final List<String> SUPPORTED_PAIRS = List.of("keras -> tfjs_layers_model",
      "keras_keras -> tfjs_layers_model", "tfjs_layers_model -> tfjs_layers_model",
      "tf_saved_model -> tfjs_graph_model", "tf_frozen_model -> tfjs_graph_model", "tf_hub -> tfjs_graph_model",
      "tfjs_graph_model -> tflite");

  @Parameters(paramLabel = "PATH", description = "input_path output_path")
  List<String> paths = new ArrayList<>();

  @Option(names = "--input_format", paramLabel = "FORMAT",
      description = "keras, keras_keras, tfjs_layers_model, tf_saved_model, ... (default: from the input)")
  String inputFormat;

  @Option(names = "--output_format", paramLabel = "FORMAT", description = "tfjs_layers_model, ...")
  String outputFormat;

  @Option(names = "--signature_name", paramLabel = "NAME") String signatureName;
  @Option(names = "--saved_model_tags", paramLabel = "TAGS") String savedModelTags;

  @Option(names = "--quantize_float16", arity = "0..1", fallbackValue = "", paramLabel = "PATTERNS",
      description = "store float32 weights as float16 (all, or those matching comma-separated patterns)")
  String quantizeFloat16;

  @Option(names = "--quantize_uint8", arity = "0..1", fallbackValue = "", paramLabel = "PATTERNS",
      description = "affine uint8 quantization (all, or matching weights)")
  String quantizeUint8;

  @Option(names = "--quantize_uint16", arity = "0..1", fallbackValue = "", paramLabel = "PATTERNS",
      description = "affine uint16 quantization (all, or matching weights)")
  String quantizeUint16;

  @Option(names = "--quantization_bytes", paramLabel = "1|2", description = "deprecated: 1 = uint8, 2 = uint16")
  Integer quantizationBytes;

  @Option(names = "--split_weights_by_layer", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
      description = "one weight group per layer (Keras inputs)")
  String splitWeightsByLayer;

  @Option(names = {"--version", "-v"}, description = "print the version and exit") boolean version;
  @Option(names = "--skip_op_check", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL") String skipOpCheck;
  @Option(names = "--skip_optimization", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
      description = "tfport: write the frozen graph without folding or fusing ops (to compare or debug)")
  String skipOptimization;
  @Option(names = "--strip_debug_ops", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL") String stripDebugOps;
  @Option(names = "--use_structured_outputs_names", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL")
  String useStructuredOutputsNames;

  @Option(names = "--weight_shard_size_bytes", paramLabel = "BYTES", description = "default 4194304")
  String weightShardSizeBytes;

  @Option(names = "--output_node_names", paramLabel = "NAMES") String outputNodeNames;
  @Option(names = "--control_flow_v2", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL") String controlFlowV2;
  @Option(names = "--experiments", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL") String experiments;

  @Option(names = "--metadata", paramLabel = "KEY:FILE,...",
      description = "JSON files to store as userDefinedMetadata[KEY]")
  String metadata;

  @Option(names = "--verify", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
      description = "tfport: after writing, run input and output in tfport's runtime on the same seeded inputs and"
          + " print the largest difference per output (exit 1 when one is beyond its tolerance)")
  String verify;

  @Option(names = {"--help", "-h"}, usageHelp = true, description = "show this help") boolean help;

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
      out.println("supported conversions: " + String.join(", ", SUPPORTED_PAIRS));
      return 0;
    }
    if (c.version) {
      out.println("tfport " + org.tfport.convert.Version.VERSION + " (tensorflowjs_converter compatible)");
      return 0;
    }
    return c.execute(out, err);
  }

  static final Set<String> SWITCHES = Set.of("--split_weights_by_layer", "--skip_op_check", "--skip_optimization",
      "--strip_debug_ops", "--use_structured_outputs_names", "--control_flow_v2", "--experiments", "--verify");

  static ConvertCommand parse(String name, String... rawArgs) {
    String[] args = BooleanFlags.normalize(rawArgs, SWITCHES);
    ConvertCommand c = tryParse(name, args);
    if (c.paths.size() < 2 && !c.help && !c.version) {
      // argparse lets '--quantize_uint8 in.h5 out' eat in.h5 as a pattern; we give it back as a path.
      String[] fixed = Arrays.stream(args).map(a -> a.startsWith("--quantize_") && !a.contains("=")
          ? a + "=" : a).toArray(String[]::new);
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
      throw new UsageException(paths.isEmpty() ? "missing input_path and output_path arguments"
          : paths.size() == 1 ? "missing output_path argument"
          : "expected 2 paths (input_path output_path), got " + paths.size() + ": " + paths);
    }
    boolean split = splitWeightsByLayer != null && bool("--split_weights_by_layer", splitWeightsByLayer);
    for (String[] flag : new String[][] {{"--skip_op_check", skipOpCheck}, {"--strip_debug_ops", stripDebugOps},
        {"--use_structured_outputs_names", useStructuredOutputsNames}, {"--experiments", experiments}}) {
      if (flag[1] != null) {
        bool(flag[0], flag[1]);
      }
    }
    Path input = Path.of(paths.get(0));
    Path output = Path.of(paths.get(1));
    if (!Files.exists(input)) {
      throw new UsageException(input + ": no such file or folder");
    }
    String in = inputFormat != null ? check(inputFormat, INPUT_FORMATS, "--input_format") : infer(input);
    String outFmt = outputFormat != null ? check(outputFormat, OUTPUT_FORMATS, "--output_format")
        : switch (in) {
          case "keras", "keras_saved_model", "keras_keras" -> "tfjs_layers_model";
          case "tfjs_layers_model" -> "keras";
          default -> "tfjs_graph_model";
        };
    String pair = in + " -> " + outFmt;
    if (!SUPPORTED_PAIRS.contains(pair)) {
      throw new UsageException("unsupported input_format - output_format pair: " + in + " - " + outFmt
          + "; supported: " + String.join(", ", SUPPORTED_PAIRS));
    }
    long shard = TfjsOutputOptions.DEFAULT_SHARD_SIZE;
    if (weightShardSizeBytes != null) {
      try {
        shard = Long.parseLong(weightShardSizeBytes.trim());
      } catch (NumberFormatException e) {
        throw new UsageException("--weight_shard_size_bytes must be a positive integer, got '"
            + weightShardSizeBytes + "'");
      }
    }
    if (signatureName != null && !Set.of("tf_saved_model", "tf_hub").contains(in)) {
      throw new UsageException("--signature_name is only for tf_saved_model and tf_hub inputs");
    }
    if (controlFlowV2 != null && bool("--control_flow_v2", controlFlowV2) && !outFmt.equals("tfjs_graph_model")) {
      throw new UsageException("--control_flow_v2 is only for tfjs_graph_model output");
    }
    QuantizationMap q = QuantizationMap.fromFlags(quantizeFloat16, quantizeUint8, quantizeUint16,
        quantizationBytes);
    if (quantizationBytes != null) {
      err.println("tfport: warning: --quantization_bytes is deprecated; use --quantize_uint8 or"
          + " --quantize_uint16");
    }
    TfjsOutputOptions options = new TfjsOutputOptions(shard, q, split, metadata(metadata));
    ProgressListener progress = StderrProgress.forConsole(err);
    ConversionSummary s = switch (in) {
      case "keras", "keras_keras" -> KerasToTfjs.convert(input, output, options, progress);
      case "tfjs_layers_model" -> TfjsLayersReshard.convert(input, output, options, progress);
      case "tf_saved_model" -> TfGraphToTfjs.convertSavedModel(input, output, graphOptions(), options, progress);
      case "tf_frozen_model" -> TfGraphToTfjs.convertFrozen(input, output, graphOptions(), options, progress);
      case "tf_hub" -> TfGraphToTfjs.convertHub(input, output, graphOptions(), options, progress);
      default -> throw new IllegalStateException(pair);
    };
    StderrProgress.clear(err, progress);
    for (String n : s.notices()) {
      err.println("tfport: note: " + n);
    }
    out.println(s.line());
    if (verify != null && bool("--verify", verify)) {
      GraphOptions go = graphOptions();
      return Verify.run(input, new LoadOptions(null, go.tags(), go.outputNodeNames()),
          signatureName == null ? List.of() : List.of(signatureName), output, Verify.tfjs(q), out);
    }
    return 0;
  }

  GraphOptions graphOptions() {
    List<String> outputs = outputNodeNames == null ? List.of()
        : Arrays.stream(outputNodeNames.split(",")).map(String::strip).filter(n -> !n.isEmpty()).toList();
    return new GraphOptions(signatureName, GraphOptions.parseTags(savedModelTags),
        stripDebugOps == null || bool("--strip_debug_ops", stripDebugOps),
        skipOpCheck != null && bool("--skip_op_check", skipOpCheck),
        useStructuredOutputsNames != null && bool("--use_structured_outputs_names", useStructuredOutputsNames),
        outputs, skipOptimization == null || !bool("--skip_optimization", skipOptimization));
  }

  private static String check(String value, List<String> allowed, String flag) {
    String v = value.trim();
    if (!allowed.contains(v)) {
      throw new UsageException(flag + " '" + value + "' is not one of " + String.join(", ", allowed));
    }
    return v;
  }

  /** The input format from the file itself, where upstream just assumes tf_saved_model. */
  static String infer(Path input) {
    if (Files.isDirectory(input)) {
      // A TF1 Hub module is a SavedModel plus tfhub_module.pb, and its graph has no tags: hub first.
      if (Files.exists(input.resolve("tfhub_module.pb"))) {
        return "tf_hub";
      }
      if (Files.exists(input.resolve("saved_model.pb")) || Files.exists(input.resolve("saved_model.pbtxt"))) {
        return "tf_saved_model";
      }
      if (Files.exists(input.resolve("model.json"))) {
        return modelJsonFormat(input.resolve("model.json"));
      }
      return "tf_saved_model";
    }
    byte[] head = new byte[8];
    int n = 0;
    try (InputStream s = Files.newInputStream(input)) {
      n = s.readNBytes(head, 0, 8);
    } catch (IOException e) {
      throw new UsageException(input + ": cannot read the input (" + e.getMessage() + ")");
    }
    if (n >= 4 && head[0] == 'P' && head[1] == 'K') {
      return "keras_keras";
    }
    if (n >= 4 && head[1] == 'H' && head[2] == 'D' && head[3] == 'F') {
      return "keras";
    }
    String name = input.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".json")) {
      return modelJsonFormat(input);
    }
    if (name.endsWith(".pb") || name.endsWith(".pbtxt")) {
      return "tf_frozen_model";
    }
    if (name.endsWith(".h5") || name.endsWith(".hdf5")) {
      return "keras";
    }
    throw new UsageException(input + ": cannot tell the input format from the file; give --input_format");
  }

  /**
   * A model.json says which kind it is in its top-level {@code "format"}; converters before 1.0 wrote none
   * (layers models). Read as a stream: graph models' model.json can be tens of megabytes.
   */
  private static String modelJsonFormat(Path json) {
    try (InputStream in = Files.newInputStream(json);
        tools.jackson.core.JsonParser p = org.tfport.core.Json.MAPPER.createParser(in)) {
      if (p.nextToken() != tools.jackson.core.JsonToken.START_OBJECT) {
        return "tfjs_layers_model";
      }
      while (p.nextToken() == tools.jackson.core.JsonToken.PROPERTY_NAME) {
        String key = p.currentName();
        p.nextToken();
        if (key.equals("format")) {
          return "graph-model".equals(p.getValueAsString()) ? "tfjs_graph_model" : "tfjs_layers_model";
        }
        p.skipChildren();
      }
      return "tfjs_layers_model";
    } catch (IOException | tools.jackson.core.JacksonException e) {
      // The reader of the chosen format reports what is wrong with the file.
      return "tfjs_layers_model";
    }
  }

  static boolean bool(String flag, String v) {
    return switch (v.trim().toLowerCase(Locale.ROOT)) {
      case "true", "1", "yes", "y", "on" -> true;
      case "false", "0", "no", "n", "off" -> false;
      default -> throw new UsageException(flag + " takes true or false, got '" + v + "'");
    };
  }

  /** {@code key:path.json,...}; only the first ':' splits, so Windows drive letters survive. */
  static ObjectNode metadata(String spec) {
    if (spec == null || spec.isBlank()) {
      return null;
    }
    ObjectNode out = Json.MAPPER.createObjectNode();
    for (String entry : spec.split(",")) {
      int colon = entry.indexOf(':');
      if (colon <= 0 || colon == entry.length() - 1) {
        throw new UsageException("--metadata entries are KEY:FILE.json, got '" + entry + "'");
      }
      String key = entry.substring(0, colon).trim();
      Path file = Path.of(entry.substring(colon + 1).trim());
      try {
        JsonNode n = Json.MAPPER.readTree(Files.readString(file));
        out.set(key, n);
      } catch (IOException e) {
        throw new UsageException("--metadata " + key + ": cannot read " + file + " (" + e.getMessage() + ")");
      } catch (JacksonException e) {
        throw new UsageException("--metadata " + key + ": " + file + " is not valid JSON ("
            + e.getOriginalMessage() + ")");
      }
    }
    return out;
  }
}
