package org.tfport.convert;

import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.tfjs.QuantizationMap;
import tools.jackson.databind.node.ObjectNode;

/**
 * How to write a TF.js model: shard size (4 MiB by default, as upstream), weight quantization, one weight
 * group per layer, and the {@code userDefinedMetadata} object ({@code --metadata}).
 */
public record TfjsOutputOptions(long shardSizeBytes, QuantizationMap quantization, boolean splitWeightsByLayer,
    ObjectNode userDefinedMetadata) {
  public static final long DEFAULT_SHARD_SIZE = 4L * 1024 * 1024;

  public TfjsOutputOptions {
    if (shardSizeBytes <= 0) {
      throw new UsageException("--weight_shard_size_bytes must be a positive number of bytes, got "
          + shardSizeBytes);
    }
  }

  public static TfjsOutputOptions defaults() {
    return new TfjsOutputOptions(DEFAULT_SHARD_SIZE, QuantizationMap.NONE, false, null);
  }
}
