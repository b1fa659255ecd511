package org.tfport.convert;

import java.nio.file.Path;
import java.util.List;

/** What a conversion wrote, for the one-line report at the end and for callers. */
public record ConversionSummary(Path output, int files, long bytes, int weights, long millis,
    List<String> notices) {
  public ConversionSummary {
    notices = List.copyOf(notices);
  }

  /** {@code wrote OUT: 3 files, 1,234,567 bytes, 12 weights in 0.42 s}. */
  public String line() {
    return String.format("wrote %s: %d file%s, %,d bytes, %d weight%s in %.2f s", output, files,
        files == 1 ? "" : "s", bytes, weights, weights == 1 ? "" : "s", millis / 1000.0);
  }
}
