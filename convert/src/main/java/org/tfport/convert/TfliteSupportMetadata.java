package org.tfport.convert;

import java.nio.file.Path;
import java.util.List;

/**
 * tflite-support metadata to attach to a TFLite model: model fields, input normalization {@code (x
 * - mean) / std} per channel and an output labels file (one label per line; stored as an associated
 * file of output 0). Any field may be null; {@code mean} and {@code std} hold one value per
 * channel, or are empty.
 */
public record TfliteSupportMetadata(
    String name,
    String description,
    String version,
    String author,
    String license,
    List<Float> mean,
    List<Float> std,
    Path labelsFile) {
  public TfliteSupportMetadata {
    mean = mean == null ? List.of() : List.copyOf(mean);
    std = std == null ? List.of() : List.copyOf(std);
  }
}
