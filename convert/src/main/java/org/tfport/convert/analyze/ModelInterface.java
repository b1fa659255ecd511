package org.tfport.convert.analyze;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.tfport.core.DType;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.formats.ModelFormat;
import org.tfport.formats.graphdef.GraphDefReader;
import org.tfport.formats.savedmodel.SavedModelReader;
import org.tfport.formats.savedmodel.SignatureInfo;
import org.tfport.formats.savedmodel.TensorInfo;
import org.tfport.runtime.Model;
import org.tfport.runtime.TensorSpec;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What a caller feeds and fetches: a SavedModel's signatures (every one, or the one asked for), or
 * a frozen graph's placeholders and the nodes {@code --output_node_names} can name.
 *
 * @param signatures SavedModel signatures in key order; for a frozen graph one entry keyed {@code
 *     (graph)} whose inputs are its placeholders
 * @param candidateOutputs for a frozen graph, nodes no other node reads, leaving out constants,
 *     variables, savers and assignments; empty otherwise
 */
public record ModelInterface(List<Signature> signatures, List<String> candidateOutputs) {
  public ModelInterface {
    signatures = List.copyOf(signatures);
    candidateOutputs = List.copyOf(candidateOutputs);
  }

  /**
   * One input or output.
   *
   * @param key the signature key ({@code x}); for a placeholder, its node name
   * @param name the graph tensor ({@code serving_default_x:0})
   * @param dtype TensorFlow's name ({@code float32}), or {@code DT_n} for types tfport cannot hold
   * @param shape {@code [-1,28,28]}, or {@code unknown} rank
   */
  public record Port(String key, String name, String dtype, String shape) {}

  public record Signature(String key, List<Port> inputs, List<Port> outputs) {}

  /**
   * Reads the interface of a SavedModel or frozen GraphDef; other formats have none to report here.
   *
   * @param signature the one signature to report, or null for all
   * @param tags the MetaGraph's tags, or null for {@code serve}
   */
  public static ModelInterface read(Path path, String signature, Set<String> tags) {
    ModelFormat f = ModelFormat.detect(path);
    if (f == ModelFormat.TF_SAVED_MODEL) {
      Path dir = Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
      Map<String, SignatureInfo> all =
          SavedModelReader.signatures(dir, tags == null ? Set.of("serve") : tags);
      if (signature != null && !all.containsKey(signature)) {
        throw new UsageException(
            dir
                + ": no signature '"
                + signature
                + "'; the SavedModel has "
                + (all.isEmpty() ? "none tfport can feed" : String.join(", ", all.keySet())));
      }
      List<Signature> out = new ArrayList<>();
      for (SignatureInfo s : all.values()) {
        if (signature == null || s.key().equals(signature)) {
          out.add(new Signature(s.key(), ports(s.inputs()), ports(s.outputs())));
        }
      }
      return new ModelInterface(out, List.of());
    }
    if (signature != null || tags != null) {
      throw new UsageException(
          path
              + ": ModelInterface.read's signature and tags are for SavedModels; this is "
              + f.flagName());
    }
    if (f == ModelFormat.TF_FROZEN_MODEL) {
      Graph g = GraphDefReader.read(path);
      List<Port> ins = new ArrayList<>();
      for (Node n : g.nodes()) {
        if (n.op().equals("Placeholder") || n.op().equals("PlaceholderWithDefault")) {
          TensorShape shape =
              n.attr("shape") instanceof AttrValue.Shape s ? s.value() : TensorShape.UNKNOWN;
          ins.add(new Port(n.name(), n.name() + ":0", dtype(n.typeAttr("dtype")), text(shape)));
        }
      }
      return new ModelInterface(
          List.of(new Signature("(graph)", ins, List.of())), ModelAnalyzer.sinks(g));
    }
    if (RUNTIME_SIGNATURES.contains(f)) {
      return fromRuntime(path);
    }
    return new ModelInterface(List.of(), List.of());
  }

  /**
   * Formats whose interface is what the runtime builds from them: a TF.js model.json's signature, a
   * Keras model's input and output layers, a StableHLO function's arguments. (A .tflite's is in its
   * own analysis.)
   */
  private static final Set<ModelFormat> RUNTIME_SIGNATURES =
      Set.of(
          ModelFormat.TFJS_GRAPH_MODEL,
          ModelFormat.TFJS_LAYERS_MODEL,
          ModelFormat.KERAS,
          ModelFormat.KERAS_KERAS,
          ModelFormat.STABLEHLO);

  /**
   * The signatures the runtime gives the model; none when it cannot load it (analyze still reports
   * the ops, and says elsewhere what stands in the way).
   */
  private static ModelInterface fromRuntime(Path path) {
    try (Model m = Model.load(path)) {
      List<Signature> out = new ArrayList<>();
      for (org.tfport.runtime.Signature s : m.signatures()) {
        out.add(new Signature(s.key(), specs(s.inputs()), specs(s.outputs())));
      }
      return new ModelInterface(out, List.of());
    } catch (TfportException e) {
      return new ModelInterface(List.of(), List.of());
    }
  }

  private static List<Port> specs(List<TensorSpec> specs) {
    return specs.stream()
        .map(
            t ->
                new Port(
                    t.name(),
                    t.tensor(),
                    t.dtype() == null ? "unknown" : t.dtype().jsName(),
                    t.shape() == null
                        ? "unknown"
                        : LongStream.of(t.shape())
                            .mapToObj(Long::toString)
                            .collect(Collectors.joining(",", "[", "]"))))
        .toList();
  }

  private static List<Port> ports(Map<String, TensorInfo> m) {
    return m.entrySet().stream()
        .map(
            e ->
                new Port(
                    e.getKey(),
                    e.getValue().name(),
                    dtype(e.getValue().dtype()),
                    text(e.getValue().shape())))
        .toList();
  }

  private static String dtype(int code) {
    if (code < 0) {
      return "unknown";
    }
    DType t = DType.fromTfEnum(DataTypes.base(code));
    return t == null ? "DT_" + code : t.jsName();
  }

  private static String text(TensorShape s) {
    if (s == null || s.unknownRank()) {
      return "unknown";
    }
    return LongStream.of(s.dims())
        .mapToObj(Long::toString)
        .collect(Collectors.joining(",", "[", "]"));
  }

  public boolean isEmpty() {
    return signatures.isEmpty() && candidateOutputs.isEmpty();
  }

  public String toText() {
    StringBuilder sb = new StringBuilder();
    for (Signature s : signatures) {
      if (s.key().equals("(graph)")) {
        sb.append("Inputs (placeholders):\n");
        s.inputs().forEach(p -> sb.append("  ").append(line(p)).append('\n'));
        continue;
      }
      sb.append("Signature ").append(s.key()).append(":\n  inputs:\n");
      s.inputs().forEach(p -> sb.append("    ").append(line(p)).append('\n'));
      sb.append("  outputs:\n");
      s.outputs().forEach(p -> sb.append("    ").append(line(p)).append('\n'));
    }
    if (!candidateOutputs.isEmpty()) {
      sb.append("Candidate output nodes (for LoadOptions.outputNodeNames): ")
          .append(String.join(",", candidateOutputs))
          .append('\n');
    }
    return sb.toString();
  }

  private static String line(Port p) {
    return p.key() + ": " + p.dtype() + " " + p.shape() + " (" + p.name() + ")";
  }

  public void addTo(ObjectNode o) {
    ArrayNode sigs = o.putArray("signatures");
    for (Signature s : signatures) {
      ObjectNode j = sigs.addObject();
      j.put("key", s.key());
      put(j.putArray("inputs"), s.inputs());
      put(j.putArray("outputs"), s.outputs());
    }
    ArrayNode c = o.putArray("candidateOutputs");
    candidateOutputs.forEach(c::add);
  }

  private static void put(ArrayNode a, List<Port> ports) {
    for (Port p : ports) {
      a.addObject()
          .put("key", p.key())
          .put("name", p.name())
          .put("dtype", p.dtype())
          .put("shape", p.shape());
    }
  }
}
