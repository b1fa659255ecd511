package org.tfport.convert.graph;

import java.util.List;
import java.util.Set;

/**
 * The graph-model flags of {@code tensorflowjs_converter}.
 *
 * @param signatureName {@code --signature_name}, or null for the default ({@code serving_default}; {@code
 *     default} for TF Hub)
 * @param tags {@code --saved_model_tags} as a set, or null for the default ({@code serve}; none for TF1 Hub
 *     modules)
 * @param stripDebugOps {@code --strip_debug_ops} (default true)
 * @param skipOpCheck {@code --skip_op_check}
 * @param useStructuredOutputsNames {@code --use_structured_outputs_names}
 * @param outputNodeNames {@code --output_node_names}, required for frozen graphs and ignored otherwise
 */
public record GraphOptions(String signatureName, Set<String> tags, boolean stripDebugOps, boolean skipOpCheck,
    boolean useStructuredOutputsNames, List<String> outputNodeNames) {
  public GraphOptions {
    tags = tags == null ? null : Set.copyOf(tags);
    outputNodeNames = outputNodeNames == null ? List.of() : List.copyOf(outputNodeNames);
  }

  public static GraphOptions defaults() {
    return new GraphOptions(null, null, true, false, false, List.of());
  }

  /** {@code --saved_model_tags}: comma-separated; an empty string is the empty tag set. */
  public static Set<String> parseTags(String flag) {
    if (flag == null) {
      return null;
    }
    Set<String> out = new java.util.TreeSet<>();
    for (String t : flag.split(",")) {
      if (!t.isBlank()) {
        out.add(t.strip());
      }
    }
    return out;
  }

  public GraphOptions withOutputNodeNames(List<String> names) {
    return new GraphOptions(signatureName, tags, stripDebugOps, skipOpCheck, useStructuredOutputsNames, names);
  }
}
