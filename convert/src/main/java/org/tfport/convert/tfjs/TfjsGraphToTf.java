package org.tfport.convert.tfjs;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.convert.ConversionResult;
import org.tfport.core.AtomicOutput;
import org.tfport.core.TfportException.OutputException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.core.graph.TensorShape;
import org.tfport.formats.graphdef.GraphDefWriter;
import org.tfport.formats.savedmodel.SavedModelWriter;
import org.tfport.formats.savedmodel.SignatureInfo;
import org.tfport.formats.savedmodel.TensorBundleWriter;
import org.tfport.formats.savedmodel.TensorInfo;
import org.tfport.graph.TfjsGraphReader;
import tools.jackson.databind.JsonNode;

/**
 * A TF.js graph model back to TensorFlow: a SavedModel whose weights are resource variables in a
 * {@code variables/variables} checkpoint (so they can be edited and trained again) with a {@code
 * serve} MetaGraph and a {@code serving_default} signature, or a frozen GraphDef with the weights
 * inline. The converter's fused ops are split back by {@link TfjsGraphReader}, TF.js-only ops
 * rewritten by {@link TfOps}; functions (the bodies of {@code While}/{@code If}) are kept as the
 * graph's function library.
 */
public final class TfjsGraphToTf {
  static final String SERVE = "serve";
  static final String SERVING_DEFAULT = "serving_default";

  private TfjsGraphToTf() {}

  /** Writes the SavedModel folder {@code output}. */
  public static ConversionResult convertSavedModel(Path modelJson, Path output) {
    long start = System.nanoTime();
    TfjsGraphReader.TfjsGraph tg = TfjsGraphReader.read(modelJson);
    Graph g = tg.graph();
    String src = tg.source().toString();
    refuseInitializer(tg);
    int loaded = g.size();
    int prelus = TfOps.toTensorFlow(g, src);
    SignatureInfo sig = signature(tg);
    CheckpointVariables.Result vars = CheckpointVariables.rewrite(g);
    byte[] pb = SavedModelWriter.write(g, List.of(SERVE), List.of(sig), vars.saver());
    List<Path> files = new ArrayList<>();
    try (AtomicOutput out = AtomicOutput.folder(output)) {
      Path dir = out.dir();
      Path variables = dir.resolve("variables");
      Files.createDirectories(variables);
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
          List.of(),
          detail(tg, prelus, vars.values().size()));
    } catch (IOException e) {
      throw new OutputException(output + ": cannot write the SavedModel (" + e + ")", e);
    }
  }

  /** Writes the frozen GraphDef file {@code output} (weights as constants). */
  public static ConversionResult convertFrozen(Path modelJson, Path output) {
    long start = System.nanoTime();
    if (Files.isDirectory(output)) {
      throw new UsageException(output + ": the output path is a folder; give a .pb file path");
    }
    TfjsGraphReader.TfjsGraph tg = TfjsGraphReader.read(modelJson);
    Graph g = tg.graph();
    refuseInitializer(tg);
    int loaded = g.size();
    int prelus = TfOps.toTensorFlow(g, tg.source().toString());
    byte[] pb = GraphDefWriter.write(g);
    writeAtomically(output, pb);
    int consts = (int) g.nodes().stream().filter(n -> n.op().equals("Const")).count();
    return new ConversionResult(
        output,
        List.of(output.toAbsolutePath()),
        pb.length,
        consts,
        new ConversionResult.NodeCounts(loaded, g.size()),
        (System.nanoTime() - start) / 1_000_000,
        List.of(),
        detail(tg, prelus, 0));
  }

  /**
   * A model.json's {@code modelInitializer} fills hash tables at load; TensorFlow would need it as
   * a SavedModel init op over the same tables, which is not written, so such a model is refused.
   */
  private static void refuseInitializer(TfjsGraphReader.TfjsGraph tg) {
    Graph init = TfjsGraphReader.initializer(tg);
    if (init != null) {
      String table =
          init.nodes().stream()
              .filter(n -> n.op().contains("HashTable"))
              .map(Node::name)
              .findFirst()
              .orElse(init.nodes().get(0).name());
      throw new org.tfport.core.TfportException.UnsupportedModelException(
          tg.source()
              + ": the model's modelInitializer fills hash table '"
              + table
              + "' at load; tfport does not write it back as a TensorFlow init op, so this model"
              + " cannot be converted to a TensorFlow format");
    }
  }

  private static String detail(TfjsGraphReader.TfjsGraph tg, int prelus, int variables) {
    List<String> parts = new ArrayList<>();
    if (tg.unfused() > 0) {
      parts.add("split " + tg.unfused() + " fused op" + (tg.unfused() == 1 ? "" : "s"));
    }
    if (prelus > 0) {
      parts.add("expanded " + prelus + " Prelu");
    }
    if (variables > 0) {
      parts.add(variables + " variable" + (variables == 1 ? "" : "s") + " in the checkpoint");
    }
    if (!tg.graph().functions().isEmpty()) {
      parts.add(tg.graph().functions().size() + " functions");
    }
    return String.join(", ", parts);
  }

  /**
   * {@code serving_default} from the model.json signature (its keys, and the types and shapes it
   * declares), else from the graph's inputs and outputs.
   */
  static SignatureInfo signature(TfjsGraphReader.TfjsGraph tg) {
    Graph g = tg.graph();
    JsonNode sig = tg.model().modelJson().signature();
    Map<String, TensorInfo> ins = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : tg.inputs().entrySet()) {
      Node p = g.node(e.getValue());
      int dtype =
          p.attr("dtype") instanceof AttrValue.Type t
              ? t.value()
              : declaredType(sig, "inputs", e.getKey());
      TensorShape shape =
          p.attr("shape") instanceof AttrValue.Shape s ? s.value() : TensorShape.UNKNOWN;
      ins.put(e.getKey(), new TensorInfo(p.name() + ":0", dtype, shape));
    }
    Map<String, TensorInfo> outs = new LinkedHashMap<>();
    for (int i = 0; i < tg.outputKeys().size(); i++) {
      String key = tg.outputKeys().get(i);
      String ref = g.outputs().get(i);
      int dtype = declaredType(sig, "outputs", key);
      if (dtype <= 0) {
        dtype = TfOps.typeOf(g, ref).value();
      }
      outs.put(
          key, new TensorInfo(TensorRef.parse(ref).tensorName(), dtype, declaredShape(sig, key)));
    }
    return new SignatureInfo(SERVING_DEFAULT, SavedModelWriter.PREDICT_METHOD, ins, outs);
  }

  /**
   * An output's shape as the model.json signature declares it ({@code tensorShape}, the
   * TensorShapeProto in JSON: {@code dim[].size} as strings or numbers, -1 unknown), else unknown.
   */
  static TensorShape declaredShape(JsonNode sig, String key) {
    if (sig == null || sig.isNull() || sig.isMissingNode()) {
      return TensorShape.UNKNOWN;
    }
    JsonNode ts = sig.path("outputs").path(key).path("tensorShape");
    if (!ts.isObject() || ts.path("unknownRank").asBoolean(false)) {
      return TensorShape.UNKNOWN;
    }
    JsonNode dims = ts.path("dim");
    long[] out = new long[dims.size()];
    for (int i = 0; i < out.length; i++) {
      JsonNode size = dims.get(i).path("size");
      long v;
      try {
        v = size.isNumber() ? size.asLong() : Long.parseLong(size.asString("-1"));
      } catch (NumberFormatException e) {
        return TensorShape.UNKNOWN;
      }
      out[i] = v < 0 ? -1 : v;
    }
    return new TensorShape(false, out);
  }

  private static int declaredType(JsonNode sig, String side, String key) {
    if (sig == null || sig.isNull() || sig.isMissingNode()) {
      return -1;
    }
    String name = sig.path(side).path(key).path("dtype").asString("");
    int code = name.isEmpty() ? -1 : DataTypes.code(name);
    return code == DataTypes.DT_INVALID ? -1 : code;
  }

  static void writeAtomically(Path output, byte[] bytes) {
    Path dir = output.toAbsolutePath().getParent();
    Path tmp = null;
    try {
      Files.createDirectories(dir);
      tmp = Files.createTempFile(dir, "." + output.getFileName(), ".tmp");
      Files.write(tmp, bytes);
      try {
        Files.move(
            tmp,
            output.toAbsolutePath(),
            StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, output.toAbsolutePath(), StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new OutputException(output + ": cannot write the model (" + e + ")", e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // best effort: the temporary file is hidden and named after the output
        }
      }
    }
  }
}
