package org.tfport.formats.tflite;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * One entry of {@code Model.buffers}: the raw little-endian bytes of a constant tensor or a
 * metadata blob. Buffers that a >2 GB file keeps outside the FlatBuffer ({@code
 * Buffer.offset/size}) are read into {@code data} like any other. Equality compares contents.
 *
 * @param data read-only; position 0, limit = length (the accessor returns an independent view)
 */
public record TfliteBuffer(ByteBuffer data) {
  /** The empty sentinel every model has at index 0 (and every tensor without data points to). */
  public static final TfliteBuffer EMPTY = new TfliteBuffer(ByteBuffer.allocate(0));

  public TfliteBuffer {
    Objects.requireNonNull(data, "data");
    data = data.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** A buffer holding a copy of {@code bytes}. */
  public static TfliteBuffer of(byte[] bytes) {
    return new TfliteBuffer(ByteBuffer.wrap(bytes.clone()));
  }

  @Override
  public ByteBuffer data() {
    return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  public int size() {
    return data.limit();
  }

  public boolean isEmpty() {
    return data.limit() == 0;
  }

  /** A copy of the bytes. */
  public byte[] bytes() {
    byte[] b = new byte[data.limit()];
    data.get(0, b);
    return b;
  }

  @Override
  public String toString() {
    return "TfliteBuffer[" + data.limit() + " bytes]";
  }
}
