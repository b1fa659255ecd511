package org.tfport.formats.tfjs;

import java.util.List;
import org.tfport.core.Tensor;

/**
 * One group of a loaded weights manifest.
 *
 * @param paths the shard paths as the manifest gives them, relative to model.json
 * @param weights the weights in manifest order
 */
public record WeightGroup(List<String> paths, List<Weight> weights) {
  public WeightGroup {
    paths = List.copyOf(paths);
    weights = List.copyOf(weights);
  }

  /**
   * @param spec the manifest entry, including how the weight was stored
   * @param value the weight as the loaders hand it out: dequantized, of dtype {@code spec.dtype()}
   */
  public record Weight(WeightSpec spec, Tensor value) {}
}
