package org.tfport.formats.savedmodel;

import org.tfport.core.Shape;
import org.tfport.core.graph.DataTypes;

/**
 * Where one checkpoint tensor lives: a {@code BundleEntryProto}.
 *
 * @param dtype the TF type number ({@link DataTypes})
 * @param crc32c the masked CRC-32C of the stored bytes
 * @param sliced whether the tensor is stored as slices of a partitioned variable (not readable
 *     here)
 */
public record BundleEntry(
    String key,
    int dtype,
    Shape shape,
    int shard,
    long offset,
    long size,
    int crc32c,
    boolean sliced) {}
