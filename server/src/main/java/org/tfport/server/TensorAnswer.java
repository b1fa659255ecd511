package org.tfport.server;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.Tensor;

/**
 * TensorFlow Serving's JSON answers: outputs as {@code predictions} (row requests) or {@code
 * outputs} (columnar), one named tensor unnamed and several as an object, {@code {"b64": ...}} for
 * bytes that are no text and for {@code _bytes} outputs, NaN and Infinity as bare tokens.
 */
final class TensorAnswer {
  private TensorAnswer() {}

  /**
   * The response body: row requests get {@code predictions} (a list over the batch, of values for
   * one output, of objects for several), columnar ones {@code outputs} (the value, or an object).
   */
  static byte[] of(Map<String, Tensor> outputs, boolean row) {
    StringBuilder sb = new StringBuilder(256);
    if (row) {
      long batch = -1;
      for (Map.Entry<String, Tensor> e : outputs.entrySet()) {
        long[] d = e.getValue().shape().dims();
        if (d.length == 0) {
          throw new HttpError(
              400,
              "output '"
                  + e.getKey()
                  + "' is a scalar, so it cannot be split into 'predictions'; send 'inputs'"
                  + " (columnar format) instead");
        }
        if (d[0] < 1 || batch >= 0 && d[0] != batch) {
          throw new HttpError(
              400,
              "output '"
                  + e.getKey()
                  + "' has batch size "
                  + d[0]
                  + (batch >= 0 ? ", the other outputs " + batch : "")
                  + ", so it cannot be split into 'predictions'; send 'inputs' (columnar format)"
                  + " instead");
        }
        batch = d[0];
      }
      boolean objects = outputs.size() > 1;
      List<Writer> writers = new ArrayList<>();
      for (Map.Entry<String, Tensor> e : outputs.entrySet()) {
        writers.add(new Writer(e.getKey(), e.getValue()));
      }
      sb.append("{\"predictions\": [");
      for (long i = 0; i < batch; i++) {
        if (i > 0) {
          sb.append(", ");
        }
        if (objects) {
          sb.append('{');
        }
        for (int k = 0; k < writers.size(); k++) {
          Writer w = writers.get(k);
          if (objects) {
            if (k > 0) {
              sb.append(", ");
            }
            string(sb, w.name);
            sb.append(": ");
          }
          w.write(sb, 1);
        }
        if (objects) {
          sb.append('}');
        }
      }
      sb.append("]}");
    } else {
      sb.append("{\"outputs\": ");
      boolean objects = outputs.size() > 1;
      if (objects) {
        sb.append('{');
      }
      int k = 0;
      for (Map.Entry<String, Tensor> e : outputs.entrySet()) {
        if (objects) {
          if (k++ > 0) {
            sb.append(", ");
          }
          string(sb, e.getKey());
          sb.append(": ");
        }
        new Writer(e.getKey(), e.getValue()).write(sb, 0);
      }
      if (objects) {
        sb.append('}');
      }
      sb.append('}');
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** Writes one tensor's values in C order, nested from a given dimension down. */
  private static final class Writer {
    final String name;
    private final Tensor t;
    private final long[] dims;
    private final ByteBuffer b;
    private final boolean bytes;
    private List<byte[]> strings;
    private int next;

    Writer(String name, Tensor t) {
      this.name = name;
      this.t = t;
      this.dims = t.shape().dims();
      this.b = t.bytes();
      this.bytes = name.endsWith("_bytes");
      if (t.dtype() == DType.STRING) {
        strings = t.toByteStrings();
      }
    }

    void write(StringBuilder sb, int dim) {
      if (dim >= dims.length) {
        value(sb, next++);
        return;
      }
      sb.append('[');
      for (long i = 0; i < dims[dim]; i++) {
        if (i > 0) {
          sb.append(", ");
        }
        write(sb, dim + 1);
      }
      sb.append(']');
    }

    private void value(StringBuilder sb, int i) {
      switch (t.dtype()) {
        case FLOAT32 -> decimal(sb, b.getFloat(i * 4));
        case FLOAT16 -> decimal(sb, Float.float16ToFloat(b.getShort(i * 2)));
        case BFLOAT16 -> decimal(sb, Float.intBitsToFloat((b.getShort(i * 2) & 0xffff) << 16));
        case FLOAT64 -> decimal(sb, b.getDouble(i * 8));
        case INT8 -> sb.append(b.get(i));
        case UINT8 -> sb.append(b.get(i) & 0xff);
        case BOOL -> sb.append(b.get(i) != 0);
        case INT16 -> sb.append(b.getShort(i * 2));
        case UINT16 -> sb.append(b.getShort(i * 2) & 0xffff);
        case INT32 -> sb.append(b.getInt(i * 4));
        case INT64 -> sb.append(b.getLong(i * 8));
        case STRING -> {
          byte[] s = strings.get(i);
          String text = bytes ? null : utf8(s);
          if (text == null) {
            // Bytes that are no text travel as base64, as TF Serving sends '_bytes' outputs.
            sb.append("{\"b64\": \"").append(Base64.getEncoder().encodeToString(s)).append("\"}");
          } else {
            string(sb, text);
          }
        }
        default ->
            throw new HttpError(
                500,
                "output '" + name + "' is " + t.dtype().jsName() + ", which JSON cannot carry");
      }
    }
  }

  /**
   * The shortest decimal that reads back as the same float (Java's Float.toString since JDK 19), so
   * 0.1f is written 0.1, not 0.10000000149011612; NaN and infinities as TF Serving writes them.
   */
  static void decimal(StringBuilder sb, float f) {
    if (Float.isNaN(f)) {
      sb.append("NaN");
    } else if (Float.isInfinite(f)) {
      sb.append(f > 0 ? "Infinity" : "-Infinity");
    } else {
      sb.append(Float.toString(f).replace('E', 'e'));
    }
  }

  static void decimal(StringBuilder sb, double d) {
    if (Double.isNaN(d)) {
      sb.append("NaN");
    } else if (Double.isInfinite(d)) {
      sb.append(d > 0 ? "Infinity" : "-Infinity");
    } else {
      sb.append(Double.toString(d).replace('E', 'e'));
    }
  }

  private static String utf8(byte[] s) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(s))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  static void string(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x2028 || c == 0x2029) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
