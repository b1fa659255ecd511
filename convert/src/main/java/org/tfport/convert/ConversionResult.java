package org.tfport.convert;

import java.nio.file.Path;
import java.util.List;

/**
 * What a conversion wrote.
 *
 * @param output the model folder (TF.js) or file (TFLite) written
 * @param files every file written, at its final place under {@code output}
 * @param bytes their total size
 * @param weights weights (TF.js) or constant tensors with data (TFLite) written
 * @param nodes node counts for graph sources; null for Keras and TF.js layers models, which have no
 *     graph
 * @param millis wall time of the conversion
 * @param notices what the user should know about the result (weights widened, ops left to Flex,
 *     ...)
 * @param detail what the conversion did to the model, for the report line ({@code graph: 53 nodes
 *     before, 19 after freezing, 12 after optimizing (fused 2 _FusedConv2D)}); empty when there is
 *     nothing to say
 */
public record ConversionResult(
    Path output,
    List<Path> files,
    long bytes,
    int weights,
    NodeCounts nodes,
    long millis,
    List<String> notices,
    String detail) {
  public ConversionResult {
    files = List.copyOf(files);
    notices = List.copyOf(notices);
    detail = detail == null ? "" : detail;
  }

  /**
   * How many nodes the source graph had as read, before freezing (summed over the signatures
   * converted), and how many the output holds: TF.js graph nodes, or TFLite operators over all
   * subgraphs.
   */
  public record NodeCounts(int loaded, int written) {}

  /**
   * {@code wrote OUT: 3 files, 1,234,567 bytes, 12 weights in 0.42 s}, then {@code ; detail} if
   * any.
   */
  public String line() {
    return String.format(
            "wrote %s: %,d file%s, %,d bytes, %,d weight%s in %.2f s",
            output,
            files.size(),
            files.size() == 1 ? "" : "s",
            bytes,
            weights,
            weights == 1 ? "" : "s",
            millis / 1000.0)
        + (detail.isEmpty() ? "" : "; " + detail);
  }
}
