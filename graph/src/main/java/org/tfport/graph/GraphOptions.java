package org.tfport.graph;

import java.util.List;
import java.util.Set;

/**
 * The graph-model flags of {@code tensorflowjs_converter}.
 *
 * @param signatureName {@code --signature_name}, or null for the default ({@code serving_default};
 *     {@code default} for TF Hub)
 * @param tags {@code --saved_model_tags} as a set, or null for the default ({@code serve}; none for
 *     TF1 Hub modules)
 * @param stripDebugOps {@code --strip_debug_ops} (default true)
 * @param skipOpCheck {@code --skip_op_check}
 * @param useStructuredOutputsNames {@code --use_structured_outputs_names}
 * @param outputNodeNames {@code --output_node_names}, required for frozen graphs and ignored
 *     otherwise
 * @param optimize whether to fold constants, fold batch norms and fuse ops as the converter's
 *     Grappler passes do (default true); off writes the frozen graph as it is, to compare or to
 *     debug
 */
public record GraphOptions(
    String signatureName,
    Set<String> tags,
    boolean stripDebugOps,
    boolean skipOpCheck,
    boolean useStructuredOutputsNames,
    List<String> outputNodeNames,
    boolean optimize) {
  public GraphOptions {
    tags = tags == null ? null : Set.copyOf(tags);
    outputNodeNames = outputNodeNames == null ? List.of() : List.copyOf(outputNodeNames);
  }

  /** The converter's flags, optimizing. */
  public GraphOptions(
      String signatureName,
      Set<String> tags,
      boolean stripDebugOps,
      boolean skipOpCheck,
      boolean useStructuredOutputsNames,
      List<String> outputNodeNames) {
    this(
        signatureName,
        tags,
        stripDebugOps,
        skipOpCheck,
        useStructuredOutputsNames,
        outputNodeNames,
        true);
  }

  public static GraphOptions defaults() {
    return new GraphOptions(null, null, true, false, false, List.of(), true);
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
    return new GraphOptions(
        signatureName,
        tags,
        stripDebugOps,
        skipOpCheck,
        useStructuredOutputsNames,
        names,
        optimize);
  }

  public GraphOptions withOptimize(boolean on) {
    return new GraphOptions(
        signatureName,
        tags,
        stripDebugOps,
        skipOpCheck,
        useStructuredOutputsNames,
        outputNodeNames,
        on);
  }
}
