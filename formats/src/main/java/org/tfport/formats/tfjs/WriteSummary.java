package org.tfport.formats.tfjs;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@link TfjsWriter#write} produced.
 *
 * @param files every file written, model.json last
 * @param totalBytes bytes of all files, model.json included
 * @param weightCount weights across all groups
 * @param groups one entry per weight group, in manifest order
 * @param notices one line per automatic dtype conversion (float64 → float32, int64 → int32, ...),
 *     for the caller to show; the converter prints the same notices
 */
public record WriteSummary(
    List<Path> files, long totalBytes, int weightCount, List<Group> groups, List<String> notices) {
  public WriteSummary {
    files = List.copyOf(files);
    groups = List.copyOf(groups);
    notices = List.copyOf(notices);
  }

  /**
   * @param paths the shard file names as written to the manifest; empty for a group of zero bytes
   * @param weights the manifest entries, with the quantization actually applied
   * @param bytes the group's weight bytes, the sum of its shard sizes
   */
  public record Group(List<String> paths, List<WeightSpec> weights, long bytes) {
    public Group {
      paths = List.copyOf(paths);
      weights = List.copyOf(weights);
    }
  }
}
