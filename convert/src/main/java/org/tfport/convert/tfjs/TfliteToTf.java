package org.tfport.convert.tfjs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.tfport.convert.ConversionResult;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.core.AtomicOutput;
import org.tfport.core.DType;
import org.tfport.core.TfportException.OutputException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.core.graph.TensorShape;
import org.tfport.formats.graphdef.GraphDefWriter;
import org.tfport.formats.savedmodel.SavedModelWriter;
import org.tfport.formats.savedmodel.SignatureInfo;
import org.tfport.formats.savedmodel.TensorBundleWriter;
import org.tfport.formats.savedmodel.TensorInfo;
import org.tfport.formats.tfjs.Quantization;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteOperator;
import org.tfport.formats.tflite.TfliteOperatorCode;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.formats.tflite.TfliteSubgraph;
import org.tfport.formats.tflite.TfliteTensor;
import org.tfport.formats.tflite.TfliteType;
import org.tfport.runtime.Signature;
import org.tfport.runtime.TensorSpec;
import org.tfport.runtime.tflite.QuantizedConstant;
import org.tfport.runtime.tflite.TfliteImporter;

/**
 * A {@code .tflite} file back to TensorFlow through the runtime's TFLite importer, which already
 * maps builtins to TensorFlow ops in TensorFlow's layouts (NHWC convolutions with HWIO filters,
 * fused activations as their own ops), keeps every SignatureDef, makes {@code WHILE}/{@code IF}
 * subgraphs functional {@code While}/{@code If} with functions, and dequantizes float16 and int8
 * weights. A SavedModel gets every signature over one graph, its weights as checkpoint variables; a
 * frozen GraphDef keeps them as constants. With {@code keepQuantization} the int8/uint8/int16 and
 * float16 weights stay as stored ({@link KeptQuantization}).
 *
 * <p>Refused by name: custom ops (other than Flex, which carries a TensorFlow node) and operators
 * on integer activations, which the importer maps to tfport's own TFLite kernels that TensorFlow
 * does not have.
 */
public final class TfliteToTf {
  private static final Set<TfliteType> QUANTIZED_WEIGHTS =
      Set.of(TfliteType.FLOAT16, TfliteType.INT8, TfliteType.UINT8, TfliteType.INT16);

  private TfliteToTf() {}

  /**
   * The imported graph (TensorFlow ops only), its signatures, the notes on what changed, and the
   * quantized weights it holds dequantized (empty unless they are to be kept).
   */
  record Imported(
      Graph graph,
      List<SignatureInfo> signatures,
      List<String> notices,
      int prelus,
      List<QuantizedConstant> quantized) {}

  static Imported read(Path file, boolean keepQuantization) {
    TfliteModel m = TfliteReader.read(file);
    String src = file.toString();
    refuseCustom(m, src);
    TfliteImporter.ImportedModel im = TfliteImporter.importModel(m, src);
    Graph g = im.graph();
    refuseTfliteKernels(g, src, keepQuantization);
    int prelus = TfOps.toTensorFlow(g, src);
    List<SignatureInfo> sigs = new ArrayList<>();
    for (Signature s : im.signatures()) {
      Map<String, TensorInfo> ins = new LinkedHashMap<>();
      for (TensorSpec t : s.inputs()) {
        ins.put(t.name(), info(g, t));
      }
      Map<String, TensorInfo> outs = new LinkedHashMap<>();
      for (TensorSpec t : s.outputs()) {
        outs.put(t.name(), info(g, t));
      }
      sigs.add(new SignatureInfo(s.key(), SavedModelWriter.PREDICT_METHOD, ins, outs));
    }
    List<String> notices = new ArrayList<>();
    int quantized = quantizedWeights(m);
    List<QuantizedConstant> kept = keepQuantization ? im.quantizedConstants() : List.of();
    int integers = (int) kept.stream().map(QuantizedConstant::tensor).distinct().count();
    if (quantized - integers > 0) {
      notices.add(
          (quantized - integers)
              + " quantized weight"
              + (quantized - integers == 1 ? " was" : "s were")
              + " dequantized to float32 (TensorFlow's float ops run them"
              + (keepQuantization
                  ? "; GraphLoadingOptions.keepQuantization keeps int8, uint8, int16 and float16 ones)"
                  : ")"));
    }
    return new Imported(g, sigs, notices, prelus, kept);
  }

  /** Keeps the quantized weights as integers in the graph ({@link KeptQuantization}). */
  private static void keepIntegers(Imported im) {
    if (im.quantized().isEmpty()) {
      return;
    }
    int n = KeptQuantization.intoGraph(im.graph(), im.quantized());
    boolean halves = im.quantized().stream().anyMatch(q -> q.integers().dtype() == DType.FLOAT16);
    boolean integers = im.quantized().stream().anyMatch(q -> q.integers().dtype() != DType.FLOAT16);
    String integerForm =
        "int8/uint8/int16 with Cast, Sub of the zero point and Mul by the scale, TFLite's"
            + " dequantization";
    String halfForm = "float16 with Cast, exact";
    im.notices()
        .add(
            n
                + " quantized weight"
                + (n == 1 ? "" : "s")
                + " kept as stored ("
                + (integers && halves
                    ? integerForm + "; " + halfForm
                    : halves ? halfForm : integerForm)
                + ")");
  }

  private static TensorInfo info(Graph g, TensorSpec t) {
    String ref = t.tensor();
    int dtype = t.dtype() != null ? t.dtype().tfEnum() : TfOps.typeOf(g, ref).value();
    long[] shape = t.shape();
    return new TensorInfo(
        TensorRef.parse(ref).tensorName(),
        dtype,
        shape == null ? TensorShape.UNKNOWN : TensorShape.of(shape));
  }

  /** Writes the SavedModel folder {@code output} with every signature of the file. */
  public static ConversionResult convertSavedModel(Path tflite, Path output) {
    return convertSavedModel(tflite, output, false);
  }

  /**
   * As {@link #convertSavedModel(Path, Path)}; {@code keepQuantization} keeps quantized weights as
   * their integers (checkpoint variables of their integer type).
   */
  public static ConversionResult convertSavedModel(
      Path tflite, Path output, boolean keepQuantization) {
    long start = System.nanoTime();
    Imported im = read(tflite, keepQuantization);
    Graph g = im.graph();
    int loaded = g.size();
    keepIntegers(im);
    CheckpointVariables.Result vars = CheckpointVariables.rewrite(g);
    byte[] pb =
        SavedModelWriter.write(g, List.of(TfjsGraphToTf.SERVE), im.signatures(), vars.saver());
    List<Path> files = new ArrayList<>();
    try (AtomicOutput out = AtomicOutput.folder(output)) {
      Path dir = out.dir();
      Path variables = Files.createDirectories(dir.resolve("variables"));
      Files.write(dir.resolve("saved_model.pb"), pb);
      files.add(Path.of("saved_model.pb"));
      if (!vars.values().isEmpty()) {
        for (Path f : TensorBundleWriter.write(variables.resolve("variables"), vars.values())) {
          files.add(dir.relativize(f));
        }
      }
      long bytes = 0;
      for (Path f : files) {
        bytes += Files.size(dir.resolve(f));
      }
      out.commit();
      Path abs = output.toAbsolutePath();
      return new ConversionResult(
          output,
          files.stream().map(f -> abs.resolve(f.toString())).toList(),
          bytes,
          vars.values().size(),
          new ConversionResult.NodeCounts(loaded, g.size()),
          (System.nanoTime() - start) / 1_000_000,
          im.notices(),
          detail(im, vars.values().size()));
    } catch (IOException e) {
      throw new OutputException(output + ": cannot write the SavedModel (" + e + ")", e);
    }
  }

  /** Writes the frozen GraphDef {@code output}; the signatures' tensors are named in the detail. */
  public static ConversionResult convertFrozen(Path tflite, Path output) {
    return convertFrozen(tflite, output, false);
  }

  /**
   * As {@link #convertFrozen(Path, Path)}; {@code keepQuantization} keeps quantized weights as
   * their integer constants.
   */
  public static ConversionResult convertFrozen(Path tflite, Path output, boolean keepQuantization) {
    long start = System.nanoTime();
    if (Files.isDirectory(output)) {
      throw new org.tfport.core.TfportException.UsageException(
          output + ": the output path is a folder; give a .pb file path");
    }
    Imported im = read(tflite, keepQuantization);
    Graph g = im.graph();
    keepIntegers(im);
    byte[] pb = GraphDefWriter.write(g);
    TfjsGraphToTf.writeAtomically(output, pb);
    int consts = (int) g.nodes().stream().filter(n -> n.op().equals("Const")).count();
    return new ConversionResult(
        output,
        List.of(output.toAbsolutePath()),
        pb.length,
        consts,
        new ConversionResult.NodeCounts(g.size(), g.size()),
        (System.nanoTime() - start) / 1_000_000,
        im.notices(),
        detail(im, 0));
  }

  /**
   * Writes a TF.js graph model of one signature ({@code signature}, else {@code serving_default},
   * else the first): the imported graph goes through a SavedModel staged in a temporary folder and
   * the TensorFlow-to-TF.js converter, so it gets TF.js's op check and optimizer like any graph.
   */
  public static ConversionResult convertTfjs(
      Path tflite,
      Path output,
      String signature,
      java.util.function.Function<String, org.tfport.graph.GraphOptions> options,
      TfjsOutputOptions tfjs,
      org.tfport.core.ProgressListener progress) {
    return convertTfjs(tflite, output, signature, options, tfjs, progress, false);
  }

  /**
   * As above; {@code keepQuantization} stores per-tensor quantized weights with their bytes as
   * manifest-quantized uint8/uint16 ({@link KeptQuantization}).
   */
  public static ConversionResult convertTfjs(
      Path tflite,
      Path output,
      String signature,
      java.util.function.Function<String, org.tfport.graph.GraphOptions> options,
      TfjsOutputOptions tfjs,
      org.tfport.core.ProgressListener progress,
      boolean keepQuantization) {
    Imported im = read(tflite, keepQuantization);
    List<String> keys = im.signatures().stream().map(SignatureInfo::key).toList();
    String key =
        signature != null
            ? signature
            : keys.contains(Signature.DEFAULT_KEY) ? Signature.DEFAULT_KEY : keys.get(0);
    if (!keys.contains(key)) {
      throw new org.tfport.core.TfportException.UsageException(
          tflite
              + ": there is no signature '"
              + key
              + "'; the file has "
              + String.join(", ", keys));
    }
    List<String> notices = new ArrayList<>(im.notices());
    Map<String, Quantization> keep = KeptQuantization.forTfjs(im.quantized(), notices);
    if (keys.size() > 1) {
      notices.add(
          "a TF.js graph model holds one signature: converted '"
              + key
              + "' of "
              + String.join(", ", keys)
              + " (choose another with GraphLoadingOptions.signatures)");
    }
    byte[] pb =
        SavedModelWriter.write(im.graph(), List.of(TfjsGraphToTf.SERVE), im.signatures(), null);
    Path tmp = null;
    try {
      tmp = Files.createTempDirectory("tfport-tflite-");
      Files.createDirectories(tmp.resolve("variables"));
      Files.write(tmp.resolve("saved_model.pb"), pb);
      ConversionResult r =
          TfGraphToTfjs.convertSavedModel(tmp, output, options.apply(key), tfjs, progress, keep);
      notices.addAll(r.notices());
      return new ConversionResult(
          r.output(),
          r.files(),
          r.bytes(),
          r.weights(),
          r.nodes(),
          r.millis(),
          notices,
          r.detail());
    } catch (IOException e) {
      throw new OutputException(output + ": cannot stage the graph (" + e + ")", e);
    } finally {
      if (tmp != null) {
        AtomicOutput.deleteTree(tmp);
      }
    }
  }

  private static String detail(Imported im, int variables) {
    List<String> parts = new ArrayList<>();
    parts.add(
        im.signatures().size()
            + " signature"
            + (im.signatures().size() == 1 ? "" : "s")
            + " ("
            + String.join(", ", im.signatures().stream().map(SignatureInfo::key).toList())
            + ")");
    if (im.prelus() > 0) {
      parts.add("expanded " + im.prelus() + " Prelu");
    }
    if (variables > 0) {
      parts.add(variables + " variable" + (variables == 1 ? "" : "s") + " in the checkpoint");
    }
    if (!im.graph().functions().isEmpty()) {
      parts.add(im.graph().functions().size() + " functions");
    }
    return String.join(", ", parts);
  }

  private static void refuseCustom(TfliteModel m, String src) {
    Map<String, String> custom = new TreeMap<>();
    for (int s = 0; s < m.subgraphs().size(); s++) {
      TfliteSubgraph sg = m.subgraphs().get(s);
      for (int k = 0; k < sg.operators().size(); k++) {
        TfliteOperator op = sg.operators().get(k);
        TfliteOperatorCode c = m.opcode(op);
        if (c.isCustom() && !c.isFlex()) {
          String name = c.customCode() == null ? "(unnamed custom op)" : c.customCode();
          custom.putIfAbsent(name, "subgraph " + s + " operator " + k);
        }
      }
    }
    if (!custom.isEmpty()) {
      List<String> parts = new ArrayList<>();
      custom.forEach((op, where) -> parts.add(op + " (" + where + ")"));
      throw new UnsupportedModelException(
          src
              + ": custom op "
              + String.join(", ", parts)
              + " has no TensorFlow equivalent, so the model cannot go back to a TensorFlow format");
    }
  }

  private static void refuseTfliteKernels(Graph g, String src, boolean keepQuantization) {
    Map<String, String> found = new TreeMap<>();
    for (Node n : g.nodes()) {
      if (n.op().startsWith("Tflite")) {
        found.putIfAbsent(n.op(), n.name());
      }
    }
    for (GraphFunction f : g.functions().values()) {
      for (Node n : f.nodes()) {
        if (n.op().startsWith("Tflite")) {
          found.putIfAbsent(n.op(), f.name() + "/" + n.name());
        }
      }
    }
    if (found.containsKey("TfliteCallOnce")) {
      // TensorFlow runs such an initializer from the session's init op, which a frozen graph or a
      // signature does not carry.
      throw new UnsupportedModelException(
          src
              + ": the model initializes resource variables with CALL_ONCE (node '"
              + found.get("TfliteCallOnce")
              + "'), which tfport does not carry over to TensorFlow; run the .tflite with tfport"
              + " predict or convert the model it came from");
    }
    if (!found.isEmpty()) {
      List<String> parts = new ArrayList<>();
      found.forEach((op, node) -> parts.add(op + " (node '" + node + "')"));
      throw new UnsupportedModelException(
          src
              + ": the model computes on quantized integers ("
              + String.join(", ", parts)
              + "), which TensorFlow's graph ops do not"
              + (keepQuantization
                  ? "; GraphLoadingOptions.keepQuantization keeps the integer weights of models that"
                      + " compute in"
                      + " float (dynamic-range quantization), not integer activations"
                  : "")
              + "; convert the float model instead");
    }
  }

  /** Constant tensors stored as float16 or integers with a scale: the importer makes them float. */
  private static int quantizedWeights(TfliteModel m) {
    int n = 0;
    for (TfliteSubgraph sg : m.subgraphs()) {
      for (TfliteTensor t : sg.tensors()) {
        boolean constant =
            t.buffer() > 0
                && t.buffer() < m.buffers().size()
                && m.buffers().get(t.buffer()).data().remaining() > 0;
        boolean scaled =
            t.type() == TfliteType.FLOAT16
                || (t.quantization() != null && !t.quantization().scale().isEmpty());
        if (constant && QUANTIZED_WEIGHTS.contains(t.type()) && scaled) {
          n++;
        }
      }
    }
    return n;
  }
}
