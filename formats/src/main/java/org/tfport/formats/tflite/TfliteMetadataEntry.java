package org.tfport.formats.tflite;

import java.util.Objects;

/** {@code Metadata}: a named blob kept in {@link TfliteModel#buffers()} at index {@code buffer}. */
public record TfliteMetadataEntry(String name, int buffer) {
  /** The converter's 16-byte, NUL-padded runtime version string. */
  public static final String MIN_RUNTIME_VERSION = "min_runtime_version";

  /**
   * The Python converter's {@code ConversionMetadata} FlatBuffer (see {@link ConversionMetadata}).
   */
  public static final String CONVERSION_METADATA = "CONVERSION_METADATA";

  /** tflite-support model metadata ({@code ModelMetadata}, identifier M001). */
  public static final String TFLITE_METADATA = "TFLITE_METADATA";

  public TfliteMetadataEntry {
    Objects.requireNonNull(name, "name");
    if (buffer < 0) {
      throw new IllegalArgumentException("buffer index must be >= 0, got " + buffer);
    }
  }
}
