package org.tfport.convert;

import java.nio.file.Path;
import java.util.List;

/**
 * What a conversion wrote, for the one-line report at the end and for callers.
 *
 * @param detail what the conversion did to the model, for the report line ({@code graph: 53 nodes before,
 *     19 after freezing, 12 after optimizing (fused 2 _FusedConv2D)}); empty when there is nothing to say
 */
public record ConversionSummary(Path output, int files, long bytes, int weights, long millis,
    List<String> notices, String detail) {
  public ConversionSummary {
    notices = List.copyOf(notices);
    detail = detail == null ? "" : detail;
  }

  public ConversionSummary(Path output, int files, long bytes, int weights, long millis, List<String> notices) {
    this(output, files, bytes, weights, millis, notices, "");
  }

  /** {@code wrote OUT: 3 files, 1,234,567 bytes, 12 weights in 0.42 s}, then {@code ; detail} if any. */
  public String line() {
    return String.format("wrote %s: %d file%s, %,d bytes, %d weight%s in %.2f s", output, files,
        files == 1 ? "" : "s", bytes, weights, weights == 1 ? "" : "s", millis / 1000.0)
        + (detail.isEmpty() ? "" : "; " + detail);
  }
}
