package org.tfport.io;

import java.nio.ByteBuffer;
import java.util.List;
import org.tfport.core.DType;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.formats.tfjs.WeightSpec;

/** The weight bytes of a model as the one stream TF.js decodes, checked against the manifest. */
final class WeightData {
  private final List<ByteBuffer> parts;
  private final long[] starts;

  private WeightData(List<ByteBuffer> parts) {
    this.parts = parts;
    this.starts = new long[parts.size() + 1];
    for (int i = 0; i < parts.size(); i++) {
      starts[i + 1] = starts[i] + parts.get(i).remaining();
    }
  }

  long total() {
    return starts[parts.size()];
  }

  /**
   * The uint32 little-endian at stream offset {@code pos}; the caller has checked 4 bytes remain.
   */
  long uint32(long pos) {
    long v = 0;
    for (int i = 0; i < 4; i++) {
      v |= (long) (byteAt(pos + i) & 0xff) << (8 * i);
    }
    return v;
  }

  private byte byteAt(long pos) {
    int p = 0;
    while (pos >= starts[p + 1]) {
      p++;
    }
    ByteBuffer b = parts.get(p);
    return b.get(b.position() + (int) (pos - starts[p]));
  }

  /** Bytes the specs need, read from {@code data} where string lengths must be walked. */
  static void check(List<WeightSpec> specs, List<ByteBuffer> data, String where) {
    WeightData w = new WeightData(data == null ? List.of() : data);
    long total = w.total();
    long pos = 0;
    for (WeightSpec s : specs) {
      long len;
      if (s.dtype() == DType.STRING && s.quantization() == null) {
        long n = s.shape().size();
        long p = pos;
        for (long i = 0; i < n; i++) {
          if (total - p < 4) {
            throw short_(where, s, pos, total);
          }
          long l = w.uint32(p);
          if (l > total - p - 4) {
            throw short_(where, s, pos, total);
          }
          p += 4 + l;
        }
        len = p - pos;
      } else {
        try {
          len = s.storedByteLength();
        } catch (ArithmeticException e) {
          throw new CorruptModelException(
              where
                  + ": weight '"
                  + s.name()
                  + "' has shape "
                  + s.shape()
                  + ", too large to be stored");
        }
      }
      if (len > total - pos) {
        throw short_(where, s, pos, total);
      }
      pos += len;
    }
    if (pos != total) {
      throw new CorruptModelException(
          where
              + ": the weights in the manifest take "
              + pos
              + " bytes but the"
              + " weight data holds "
              + total
              + "; the weights belong to a different model.json or are damaged");
    }
  }

  private static CorruptModelException short_(String where, WeightSpec s, long pos, long total) {
    return new CorruptModelException(
        where
            + ": weight '"
            + s.name()
            + "' ("
            + s.dtype().jsName()
            + s.shape()
            + ") starts at byte "
            + pos
            + " but the weight data ends at "
            + total
            + "; the weights are truncated or belong to a different model.json");
  }
}
