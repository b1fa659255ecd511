package org.tfport.formats.tfjs;

import org.tfport.core.TfportException.UsageException;

/**
 * How {@link TfjsWriter} lays out the weights.
 *
 * @param shardSizeBytes the size of every shard file but a group's last; the converter's default is
 *     4 MiB
 * @param quantization which weights to quantize; null means none
 */
public record WriteOptions(long shardSizeBytes, QuantizationMap quantization) {
  public static final long DEFAULT_SHARD_SIZE = 4L * 1024 * 1024;

  public WriteOptions {
    if (shardSizeBytes <= 0) {
      throw new UsageException(
          "WriteOptions.shardSizeBytes must be a positive number of bytes, got "
              + shardSizeBytes
              + "; the default is "
              + DEFAULT_SHARD_SIZE);
    }
    if (quantization == null) {
      quantization = QuantizationMap.NONE;
    }
  }

  /** 4 MiB shards, no quantization: the converter's defaults. */
  public static WriteOptions defaults() {
    return new WriteOptions(DEFAULT_SHARD_SIZE, QuantizationMap.NONE);
  }
}
