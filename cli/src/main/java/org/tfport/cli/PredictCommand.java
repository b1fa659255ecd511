package org.tfport.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.tfport.core.AtomicOutput;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.OutputException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.npy.Npy;
import org.tfport.runtime.LoadOptions;
import org.tfport.runtime.Model;
import org.tfport.runtime.RandomInputs;
import org.tfport.runtime.Session;
import org.tfport.runtime.Signature;
import org.tfport.runtime.kernel.KernelException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code tfport predict MODEL}: runs a model in tfport's own runtime on inputs from {@code .npy}
 * files (or seeded random ones), prints a summary of each output and, with {@code --output_dir},
 * writes each as {@code NAME.npy}.
 */
@Command(
    name = "predict",
    sortOptions = false,
    usageHelpWidth = 110,
    description =
        "Run a model (SavedModel or TF Hub folder, frozen .pb, TF.js graph model.json) in tfport's"
            + " runtime and print or save its outputs.")
final class PredictCommand {
  /** How many values of each output the summary shows. */
  static final int SHOWN = 8;

  @Parameters(
      paramLabel = "MODEL",
      arity = "0..1",
      description =
          "the model file or folder, or a URL (file://, http(s):// for a TF.js model.json)")
  String model;

  @Option(
      names = "--signature_name",
      paramLabel = "KEY",
      description = "the SavedModel signature to run (default: serving_default, or the only one)")
  String signatureName;

  @Option(
      names = {"--saved_model_tags", "--tags"},
      paramLabel = "TAGS",
      description = "the SavedModel MetaGraph's tags, comma-separated (default: serve)")
  String tags;

  @Option(
      names = "--output_node_names",
      paramLabel = "A,B",
      description =
          "the tensors to compute (frozen"
              + " GraphDefs: default every node nothing reads; TF.js graph models: default the signature's outputs)")
  String outputNodeNames;

  @Option(
      names = "--input",
      paramLabel = "[NAME=]FILE.npy",
      arity = "1..*",
      description =
          "an input's values;"
              + " without NAME= the files fill the inputs in signature order. Without --input, seeded random inputs:"
              + " floats in [-1, 1), integers in [0, 10), unknown dimensions 1")
  List<String> inputs = new ArrayList<>();

  @Option(
      names = "--output_dir",
      paramLabel = "DIR",
      description =
          "write each output to DIR/NAME.npy (NAME with"
              + " characters other than [A-Za-z0-9._-] as _)")
  String outputDir;

  @Option(
      names = "--seed",
      paramLabel = "N",
      description = "the seed of the random inputs (default 0)")
  long seed;

  @Option(names = "--json", description = "print the summary as one JSON object")
  boolean json;

  @Option(
      description = "show this help and exit",
      names = {"--help", "-h"},
      usageHelp = true)
  boolean help;

  static int run(PrintWriter out, PrintWriter err, String... args) {
    PredictCommand c = new PredictCommand();
    CommandLine cl = CommandArgs.parse(c, "predict", args);
    if (c.help) {
      cl.usage(out);
      return 0;
    }
    return c.execute(out);
  }

  int execute(PrintWriter out) {
    if (model == null) {
      throw new UsageException("predict: give the model to run (tfport predict --help)");
    }
    LoadOptions lo = ModelArgument.options(signatureName, tags, outputNodeNames);
    try (Model m = ModelArgument.load(model, lo);
        Session session = m.newSession()) {
      Signature sig = signatureName != null ? m.signature(signatureName) : m.defaultSignature();
      Map<String, String> origin = new LinkedHashMap<>();
      Map<String, Tensor> feed =
          inputs.isEmpty()
              ? random(sig, origin)
              : InputFiles.read("predict", model, sig, inputs, origin);
      Map<String, Tensor> result;
      try {
        result = session.run(sig.key(), feed);
      } catch (KernelException e) {
        throw new TfportException(model + ": " + e.getMessage());
      }
      Map<String, Path> written = outputDir == null ? Map.of() : write(Path.of(outputDir), result);
      if (json) {
        out.println(Json.MAPPER.writeValueAsString(json(sig, feed, origin, result, written)));
      } else {
        text(out, sig, result, written);
      }
      out.flush();
      return 0;
    }
  }

  private Map<String, Tensor> random(Signature sig, Map<String, String> origin) {
    Map<String, Tensor> feed;
    try {
      feed = RandomInputs.of(sig, seed);
    } catch (TfportException e) {
      throw new TfportException(model + ": " + e.getMessage());
    }
    feed.keySet().forEach(k -> origin.put(k, "random (seed " + seed + ")"));
    return feed;
  }

  /** Each output as {@code DIR/NAME.npy}, all appearing at once. */
  private static Map<String, Path> write(Path dir, Map<String, Tensor> result) {
    Map<String, Path> files = new LinkedHashMap<>();
    Set<String> used = new HashSet<>();
    try (AtomicOutput staged = AtomicOutput.folder(dir)) {
      for (Map.Entry<String, Tensor> e : result.entrySet()) {
        String base = fileName(e.getKey());
        String name = base;
        for (int i = 2; !used.add(name.toLowerCase(Locale.ROOT)); i++) {
          name = base + "_" + i;
        }
        try {
          Npy.write(staged.dir().resolve(name + ".npy"), e.getValue());
        } catch (IOException x) {
          throw new OutputException(
              dir.resolve(name + ".npy") + ": cannot write (" + x.getMessage() + ")", x);
        }
        files.put(e.getKey(), dir.resolve(name + ".npy"));
      }
      staged.commit();
    }
    return files;
  }

  /**
   * An output name as a file name: characters other than {@code [A-Za-z0-9._-]} become {@code _}.
   */
  static String fileName(String name) {
    String s = name.replaceAll("[^A-Za-z0-9._-]", "_");
    return s.isEmpty() || s.equals(".") || s.equals("..") ? "_" + s : s;
  }

  private void text(
      PrintWriter out, Signature sig, Map<String, Tensor> result, Map<String, Path> written) {
    for (Map.Entry<String, Tensor> e : result.entrySet()) {
      Tensor t = e.getValue();
      List<String> shown = firstValues(t);
      StringBuilder sb =
          new StringBuilder(e.getKey())
              .append(": ")
              .append(t.dtype().jsName())
              .append(Arrays.toString(t.shape().dims()))
              .append(" [")
              .append(String.join(", ", shown))
              .append(t.size() > shown.size() ? ", ..." : "")
              .append(']');
      if (written.containsKey(e.getKey())) {
        sb.append(" -> ").append(written.get(e.getKey()));
      }
      out.println(sb);
    }
  }

  private ObjectNode json(
      Signature sig,
      Map<String, Tensor> feed,
      Map<String, String> origin,
      Map<String, Tensor> result,
      Map<String, Path> written) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("model", model);
    o.put("signature", sig.key());
    ObjectNode ins = o.putObject("inputs");
    feed.forEach(
        (k, t) -> {
          ObjectNode i = ins.putObject(k);
          i.put("dtype", t.dtype().jsName());
          ArrayNode shape = i.putArray("shape");
          for (long d : t.shape().dims()) {
            shape.add(d);
          }
          i.put("from", origin.get(k));
        });
    ObjectNode outs = o.putObject("outputs");
    result.forEach(
        (k, t) -> {
          ObjectNode r = outs.putObject(k);
          r.put("dtype", t.dtype().jsName());
          ArrayNode shape = r.putArray("shape");
          for (long d : t.shape().dims()) {
            shape.add(d);
          }
          r.put("size", t.size());
          ArrayNode first = r.putArray("first");
          addFirst(first, t);
          if (written.containsKey(k)) {
            r.put("file", written.get(k).toString());
          }
        });
    return o;
  }

  /**
   * Up to {@link #SHOWN} values, exact for every type (int64 as written, floats as Java prints
   * them).
   */
  static List<String> firstValues(Tensor t) {
    List<String> v = new ArrayList<>();
    int n = (int) Math.min(SHOWN, t.size());
    ByteBuffer b = t.bytes();
    if (t.dtype() == DType.STRING) {
      List<byte[]> s = t.toByteStrings();
      for (int i = 0; i < n; i++) {
        v.add(Json.MAPPER.writeValueAsString(new String(s.get(i), StandardCharsets.UTF_8)));
      }
      return v;
    }
    for (int i = 0; i < n; i++) {
      v.add(
          switch (t.dtype()) {
            case FLOAT64 -> Double.toString(b.getDouble(8 * i));
            case INT64 -> Long.toString(b.getLong(8 * i));
            case INT32 -> Integer.toString(b.getInt(4 * i));
            case BOOL -> b.get(i) != 0 ? "true" : "false";
            case COMPLEX64 ->
                b.getFloat(8 * i)
                    + (b.getFloat(8 * i + 4) < 0 ? "" : "+")
                    + b.getFloat(8 * i + 4)
                    + "j";
            default -> {
              float f = t.dtype() == DType.FLOAT32 ? b.getFloat(4 * i) : oneFloat(t, i);
              yield t.dtype().isFloating() ? Float.toString(f) : Long.toString((long) f);
            }
          });
    }
    return v;
  }

  private static float oneFloat(Tensor t, int i) {
    ByteBuffer b = t.bytes();
    return switch (t.dtype()) {
      case FLOAT16 -> Float.float16ToFloat(b.getShort(2 * i));
      case BFLOAT16 -> Float.intBitsToFloat((b.getShort(2 * i) & 0xffff) << 16);
      case INT8 -> b.get(i);
      case UINT8 -> b.get(i) & 0xff;
      case INT16 -> b.getShort(2 * i);
      case UINT16 -> b.getShort(2 * i) & 0xffff;
      default -> throw new IllegalStateException("no scalar form for " + t.dtype());
    };
  }

  private static void addFirst(ArrayNode a, Tensor t) {
    ByteBuffer b = t.bytes();
    int n = (int) Math.min(SHOWN, t.size());
    List<byte[]> strings = t.dtype() == DType.STRING ? t.toByteStrings() : null;
    for (int i = 0; i < n; i++) {
      switch (t.dtype()) {
        case STRING -> a.add(new String(strings.get(i), StandardCharsets.UTF_8));
        case INT64 -> a.add(b.getLong(8 * i));
        case INT32 -> a.add(b.getInt(4 * i));
        case BOOL -> a.add(b.get(i) != 0);
        case FLOAT64 -> addDouble(a, b.getDouble(8 * i));
        case COMPLEX64 -> a.add(firstValues(t).get(i));
        case FLOAT32 -> addFloat(a, b.getFloat(4 * i));
        default -> {
          float f = oneFloat(t, i);
          if (t.dtype().isFloating()) {
            addFloat(a, f);
          } else {
            a.add((long) f);
          }
        }
      }
    }
  }

  private static void addFloat(ArrayNode a, float f) {
    if (Float.isFinite(f)) {
      a.add(f);
    } else {
      addDouble(a, f);
    }
  }

  /** JSON has no NaN or infinities: those are written as the strings numpy prints. */
  private static void addDouble(ArrayNode a, double d) {
    if (Double.isNaN(d)) {
      a.add("nan");
    } else if (Double.isInfinite(d)) {
      a.add(d > 0 ? "inf" : "-inf");
    } else {
      a.add(d);
    }
  }
}
