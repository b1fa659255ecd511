package org.tfport.runtime;

import java.util.List;
import java.util.Set;

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
 */
public record LoadOptions(String signatureName, Set<String> tags, List<String> outputNodeNames) {
  public LoadOptions {
    tags = tags == null ? null : Set.copyOf(tags);
    outputNodeNames = outputNodeNames == null ? List.of() : List.copyOf(outputNodeNames);
  }

  public static LoadOptions defaults() {
    return new LoadOptions(null, null, List.of());
  }

  public LoadOptions withSignatureName(String name) {
    return new LoadOptions(name, tags, outputNodeNames);
  }

  public LoadOptions withTags(Set<String> set) {
    return new LoadOptions(signatureName, set, outputNodeNames);
  }

  public LoadOptions withOutputNodeNames(List<String> names) {
    return new LoadOptions(signatureName, tags, names);
  }
}
