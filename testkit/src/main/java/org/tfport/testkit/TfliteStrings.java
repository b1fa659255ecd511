package org.tfport.testkit;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * TFLite's string tensor buffer: the element count (int32), count + 1 int32 byte offsets from the
 * buffer's start (the last one the buffer's length), then the elements' bytes back to back. This is
 * what {@code TfLiteTensorCopyFromBuffer} and {@code TfLiteTensorCopyToBuffer} move.
 */
final class TfliteStrings {
  private TfliteStrings() {}

  static byte[] encode(int[] shape, List<byte[]> values) {
    if (values.size() != TfliteOracle.elements(shape)) {
      throw new IllegalArgumentException(
          "string" + Arrays.toString(shape) + " needs " + TfliteOracle.elements(shape) + " values");
    }
    int header = 4 * (values.size() + 2);
    int total = header + values.stream().mapToInt(v -> v.length).sum();
    ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(values.size());
    int offset = header;
    for (byte[] v : values) {
      b.putInt(offset);
      offset += v.length;
    }
    b.putInt(offset);
    for (byte[] v : values) {
      b.put(v);
    }
    return b.array();
  }

  /**
   * @throws IllegalStateException when {@code data} is not a valid buffer for {@code shape}
   */
  static List<byte[]> decode(int[] shape, byte[] data) {
    ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    long n = TfliteOracle.elements(shape);
    if (data.length < 4 * (n + 2) || b.getInt(0) != n) {
      throw new IllegalStateException(
          "string"
              + Arrays.toString(shape)
              + ": not a valid string buffer ("
              + data.length
              + " bytes)");
    }
    List<byte[]> out = new ArrayList<>((int) n);
    for (int i = 0; i < n; i++) {
      int from = b.getInt(4 * (i + 1));
      int to = b.getInt(4 * (i + 2));
      if (from < 4 * (n + 2) || to < from || to > data.length) {
        throw new IllegalStateException(
            "string" + Arrays.toString(shape) + ": element " + i + " at bad offsets");
      }
      out.add(Arrays.copyOfRange(data, from, to));
    }
    return out;
  }
}
