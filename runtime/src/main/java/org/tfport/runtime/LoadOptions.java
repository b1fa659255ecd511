package org.tfport.runtime;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.Shape;

/**
 * How {@link Model#load(java.nio.file.Path, LoadOptions)} reads a model.
 *
 * @param signatureName the one SavedModel signature to load, or null for all of them (the default
 *     one, {@code serving_default}, or {@code default} for a TF Hub module, at load; the others
 *     when first run)
 * @param tags the SavedModel MetaGraph's exact tag set, or null for {@code serve} (none for a TF1
 *     Hub module)
 * @param outputNodeNames the tensors to compute, for a frozen GraphDef or a TF.js graph model
 *     ({@code node} or {@code node:1}); empty for a frozen graph's sink nodes or a graph model's
 *     signature outputs
 * @param inputShapes shapes to build the model for, by signature input name (empty: as declared),
 *     for the formats whose graph holds its declared shapes: a {@code .tflite} file is imported as
 *     TFLite runs it after {@code ResizeInputTensor} (every op's shapes follow from the given ones;
 *     an op that cannot take them fails naming itself), a Keras or TF.js layers model is built for
 *     another batch size (only the first dimension may differ from the declared shape). Formats
 *     whose ops compute their shapes at run time (SavedModels, GraphDefs, TF.js graph models,
 *     StableHLO) take any fitting shape without this and ignore it.
 * @param dropSourceWeights whether the model lets go of its graphs, and so of the weights as read
 *     from the files, once its default plans are compiled (they hold their own, often packed, copy
 *     of what they need); a plan of another kind (reference kernels, an observed run) then reads
 *     the files again, which must be there and unchanged. For a process that runs the default plans
 *     only: it holds the weights once instead of twice.
 */
public record LoadOptions(
    String signatureName,
    Set<String> tags,
    List<String> outputNodeNames,
    Map<String, Shape> inputShapes,
    boolean dropSourceWeights) {
  public LoadOptions {
    tags = tags == null ? null : Set.copyOf(tags);
    outputNodeNames = outputNodeNames == null ? List.of() : List.copyOf(outputNodeNames);
    // Ordered, so messages list the inputs as the caller gave them.
    inputShapes =
        inputShapes == null
            ? Map.of()
            : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(inputShapes));
  }

  /** Graphs kept. */
  public LoadOptions(
      String signatureName,
      Set<String> tags,
      List<String> outputNodeNames,
      Map<String, Shape> inputShapes) {
    this(signatureName, tags, outputNodeNames, inputShapes, false);
  }

  /** Inputs as declared, graphs kept. */
  public LoadOptions(String signatureName, Set<String> tags, List<String> outputNodeNames) {
    this(signatureName, tags, outputNodeNames, Map.of());
  }

  public static LoadOptions defaults() {
    return new LoadOptions(null, null, List.of());
  }

  public LoadOptions withSignatureName(String name) {
    return new LoadOptions(name, tags, outputNodeNames, inputShapes, dropSourceWeights);
  }

  public LoadOptions withTags(Set<String> set) {
    return new LoadOptions(signatureName, set, outputNodeNames, inputShapes, dropSourceWeights);
  }

  public LoadOptions withOutputNodeNames(List<String> names) {
    return new LoadOptions(signatureName, tags, names, inputShapes, dropSourceWeights);
  }

  public LoadOptions withInputShapes(Map<String, Shape> shapes) {
    return new LoadOptions(signatureName, tags, outputNodeNames, shapes, dropSourceWeights);
  }

  public LoadOptions withSourceWeightsDropped(boolean drop) {
    return new LoadOptions(signatureName, tags, outputNodeNames, inputShapes, drop);
  }
}
