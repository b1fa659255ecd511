package org.tfport.server;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.runtime.Signature;
import org.tfport.runtime.TensorSpec;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.json.JsonReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * TensorFlow Serving's JSON tensors: a predict body's {@code instances} (row format) or {@code
 * inputs} (columnar) into tensors, and outputs into {@code predictions} or {@code outputs}, shaped
 * as TF Serving's json_tensor shapes them (one named tensor unnamed, several as an object; {@code
 * {"b64": ...}} for bytes; NaN and Infinity as bare tokens, which TF Serving reads and writes).
 */
final class TensorJson {
  /**
   * Request bodies may hold NaN/Infinity tokens; nesting is bounded so a deep body cannot recurse.
   */
  static final JsonMapper READER =
      JsonMapper.builder(
              JsonFactory.builder()
                  .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
                  .streamReadConstraints(
                      StreamReadConstraints.builder()
                          .maxNestingDepth(64)
                          .maxStringLength(1 << 30)
                          .maxDocumentLength(-1)
                          .build())
                  .build())
          .build();

  /** Whether the body used the row format (answered as {@code predictions}). */
  record Request(String signatureName, boolean row, Map<String, Tensor> inputs, int rows) {}

  private TensorJson() {}

  static JsonNode parse(byte[] body) {
    if (body.length == 0) {
      throw new HttpError(400, "JSON Parse error: The document is empty");
    }
    JsonNode doc;
    try {
      doc = READER.readTree(body);
    } catch (RuntimeException e) {
      throw new HttpError(400, "JSON Parse error: " + firstLine(e.getMessage()));
    }
    if (doc == null || !doc.isObject()) {
      throw new HttpError(400, "the request body is not a JSON object");
    }
    return doc;
  }

  /** The signature key a body asks for, or "" for the default. */
  static String signatureName(JsonNode doc) {
    JsonNode s = doc.get("signature_name");
    if (s == null || s.isNull()) {
      return "";
    }
    if (!s.isString()) {
      throw new HttpError(400, "'signature_name' key must be a string value");
    }
    return s.stringValue();
  }

  /** The tensors of a predict body for {@code sig}, each checked against {@code maxElements}. */
  static Request inputs(JsonNode doc, Signature sig, long maxElements) {
    JsonNode instances = doc.get("instances");
    JsonNode inputs = doc.get("inputs");
    if (instances != null && inputs != null) {
      throw new HttpError(400, "expecting only one of 'inputs' or 'instances' keys, got both");
    }
    List<TensorSpec> specs = sig.inputs();
    if (specs.isEmpty()) {
      throw new HttpError(400, "signature '" + sig.key() + "' takes no inputs");
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    if (instances != null) {
      if (!instances.isArray()) {
        throw new HttpError(400, "expecting 'instances' to be a list");
      }
      if (instances.isEmpty()) {
        throw new HttpError(400, "no values in 'instances' list");
      }
      boolean objects = isNamed(instances.get(0));
      if (!objects && specs.size() > 1) {
        throw new HttpError(
            400,
            "instances is a plain list, but expecting list of objects as signature '"
                + sig.key()
                + "' takes "
                + sig.inputNames());
      }
      for (TensorSpec spec : specs) {
        List<JsonNode> items = new ArrayList<>();
        int i = 0;
        for (JsonNode item : instances) {
          if (objects != isNamed(item)) {
            throw new HttpError(
                400,
                "expecting "
                    + (objects ? "object" : "value/list")
                    + " at item "
                    + i
                    + " of 'instances' list, like item 0");
          }
          if (objects) {
            if (item.size() != specs.size() || !item.has(spec.name())) {
              throw new HttpError(
                  400,
                  "item "
                      + i
                      + " of 'instances' list must have exactly the keys "
                      + sig.inputNames()
                      + ", got "
                      + item.propertyNames());
            }
            items.add(item.get(spec.name()));
          } else {
            items.add(item);
          }
          i++;
        }
        out.put(spec.name(), stack(spec, items, maxElements));
      }
      return new Request(signatureName(doc), true, out, instances.size());
    }
    if (inputs == null) {
      throw new HttpError(400, "missing 'inputs' or 'instances' key");
    }
    if (!isNamed(inputs)) {
      if (specs.size() > 1) {
        throw new HttpError(
            400,
            "inputs is a plain value/list, but expecting an object as signature '"
                + sig.key()
                + "' takes "
                + sig.inputNames());
      }
      out.put(specs.get(0).name(), tensor(specs.get(0), inputs, maxElements));
    } else {
      for (TensorSpec spec : specs) {
        JsonNode v = inputs.get(spec.name());
        if (v == null) {
          throw new HttpError(
              400,
              "missing named input '"
                  + spec.name()
                  + "' in 'inputs' object; signature '"
                  + sig.key()
                  + "' takes "
                  + sig.inputNames());
        }
        out.put(spec.name(), tensor(spec, v, maxElements));
      }
      for (String k : inputs.propertyNames()) {
        if (!sig.inputNames().contains(k)) {
          throw new HttpError(
              400,
              "'inputs' names '"
                  + Names.printable(k)
                  + "', which signature '"
                  + sig.key()
                  + "' does not take; it takes "
                  + sig.inputNames());
        }
      }
    }
    return new Request(signatureName(doc), false, out, -1);
  }

  private static boolean isNamed(JsonNode v) {
    return v.isObject() && !isB64(v);
  }

  private static boolean isB64(JsonNode v) {
    return v.isObject() && v.size() == 1 && v.has("b64") && v.get("b64").isString();
  }

  /** Row format: every instance one slice of the batch, all of the same shape. */
  private static Tensor stack(TensorSpec spec, List<JsonNode> items, long maxElements) {
    long[] item = shapeOf(items.get(0));
    long[] dims = new long[item.length + 1];
    dims[0] = items.size();
    System.arraycopy(item, 0, dims, 1, item.length);
    long n = count(spec, dims, maxElements);
    Filler f = new Filler(spec, dtype(spec, items.get(0)), n);
    for (int i = 0; i < items.size(); i++) {
      long[] d = shapeOf(items.get(i));
      if (!java.util.Arrays.equals(d, item)) {
        throw new HttpError(
            400,
            "input '"
                + spec.name()
                + "': item "
                + i
                + " of 'instances' has shape "
                + java.util.Arrays.toString(d)
                + ", expecting "
                + java.util.Arrays.toString(item)
                + " like item 0");
      }
      f.fill(items.get(i), 0, item);
    }
    return f.tensor(dims);
  }

  private static Tensor tensor(TensorSpec spec, JsonNode v, long maxElements) {
    long[] dims = shapeOf(v);
    long n = count(spec, dims, maxElements);
    Filler f = new Filler(spec, dtype(spec, v), n);
    f.fill(v, 0, dims);
    return f.tensor(dims);
  }

  /** The shape read down the first elements, as TF Serving reads it; the fill checks the rest. */
  private static long[] shapeOf(JsonNode v) {
    List<Long> d = new ArrayList<>();
    while (v.isArray()) {
      d.add((long) v.size());
      if (v.isEmpty()) {
        break;
      }
      v = v.get(0);
    }
    return d.stream().mapToLong(Long::longValue).toArray();
  }

  private static long count(TensorSpec spec, long[] dims, long maxElements) {
    long n = 1;
    for (long d : dims) {
      n = Math.multiplyExact(n, d);
    }
    if (n > maxElements) {
      throw new HttpError(
          400,
          "input '"
              + spec.name()
              + "' has "
              + n
              + " elements, over this server's limit of "
              + maxElements
              + " (tfport serve --max-tensor-elements)");
    }
    return n;
  }

  /** The spec's dtype; an untyped input takes float32, or string/bool when the values are such. */
  private static DType dtype(TensorSpec spec, JsonNode v) {
    if (spec.dtype() != null) {
      return spec.dtype();
    }
    while (v.isArray() && !v.isEmpty()) {
      v = v.get(0);
    }
    if (v.isString() || isB64(v)) {
      return DType.STRING;
    }
    return v.isBoolean() ? DType.BOOL : DType.FLOAT32;
  }

  /** Writes leaves in C order into one buffer, checking every list's length and every leaf. */
  private static final class Filler {
    private final TensorSpec spec;
    private final DType dtype;
    private final ByteBuffer buf;
    private final List<byte[]> strings = new ArrayList<>();

    Filler(TensorSpec spec, DType dtype, long n) {
      this.spec = spec;
      this.dtype = dtype;
      if (dtype == DType.STRING) {
        this.buf = null;
      } else {
        if (dtype.byteSize() == 0 || n * dtype.byteSize() > Integer.MAX_VALUE - 8) {
          throw new HttpError(400, "input '" + spec.name() + "' is too large");
        }
        this.buf = ByteBuffer.allocate((int) (n * dtype.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
      }
    }

    void fill(JsonNode v, int level, long[] dims) {
      if (level == dims.length) {
        if (v.isArray()) {
          throw new HttpError(
              400,
              "input '"
                  + spec.name()
                  + "': a list found at level "
                  + level
                  + ", expecting a value (the tensor has rank "
                  + dims.length
                  + ")");
        }
        leaf(v);
        return;
      }
      if (!v.isArray()) {
        throw new HttpError(
            400,
            "input '"
                + spec.name()
                + "': value "
                + shortText(v)
                + " found at level "
                + level
                + ", expecting a list (the tensor has rank "
                + dims.length
                + ")");
      }
      if (v.size() != dims[level]) {
        throw new HttpError(
            400,
            "input '"
                + spec.name()
                + "': a list of "
                + v.size()
                + " at level "
                + level
                + ", expecting "
                + dims[level]
                + " (the lists are ragged)");
      }
      for (JsonNode e : v) {
        fill(e, level + 1, dims);
      }
    }

    private void leaf(JsonNode v) {
      switch (dtype) {
        case FLOAT32, FLOAT16, BFLOAT16 -> {
          double d = number(v);
          if (Double.isFinite(d)
              && (v.isIntegralNumber() && Math.abs(d) > (1 << 24)
                  || Math.abs(d) > Float.MAX_VALUE)) {
            throw lossy(v, "float");
          }
          float f = (float) d;
          switch (dtype) {
            case FLOAT32 -> buf.putFloat(f);
            case FLOAT16 -> buf.putShort(Float.floatToFloat16(f));
            default -> buf.putShort((short) (Float.floatToRawIntBits(f) >>> 16));
          }
        }
        case FLOAT64 -> {
          double d = number(v);
          if (v.isIntegralNumber() && Math.abs(d) > (double) (1L << 53)) {
            throw lossy(v, "double");
          }
          buf.putDouble(d);
        }
        case INT8 -> buf.put((byte) integer(v, Byte.MIN_VALUE, Byte.MAX_VALUE));
        case UINT8, BOOL -> {
          if (dtype == DType.BOOL) {
            if (!v.isBoolean()) {
              throw typeError(v);
            }
            buf.put((byte) (v.booleanValue() ? 1 : 0));
          } else {
            buf.put((byte) integer(v, 0, 255));
          }
        }
        case INT16 -> buf.putShort((short) integer(v, Short.MIN_VALUE, Short.MAX_VALUE));
        case UINT16 -> buf.putShort((short) integer(v, 0, 65535));
        case INT32 -> buf.putInt((int) integer(v, Integer.MIN_VALUE, Integer.MAX_VALUE));
        case INT64 -> buf.putLong(integer(v, Long.MIN_VALUE, Long.MAX_VALUE));
        case STRING -> {
          if (isB64(v)) {
            try {
              strings.add(Base64.getDecoder().decode(v.get("b64").stringValue()));
            } catch (IllegalArgumentException e) {
              throw new HttpError(
                  400, "input '" + spec.name() + "': unable to base64 decode " + shortText(v));
            }
          } else if (v.isString()) {
            strings.add(v.stringValue().getBytes(StandardCharsets.UTF_8));
          } else {
            throw typeError(v);
          }
        }
        default ->
            throw new HttpError(
                400,
                "input '" + spec.name() + "' is " + dtype.jsName() + ", which JSON cannot carry");
      }
    }

    private double number(JsonNode v) {
      if (!v.isNumber()) {
        throw typeError(v);
      }
      return v.doubleValue();
    }

    private long integer(JsonNode v, long min, long max) {
      if (!v.isIntegralNumber() || !v.canConvertToLong()) {
        throw typeError(v);
      }
      long x = v.longValue();
      if (x < min || x > max) {
        throw new HttpError(
            400,
            "input '"
                + spec.name()
                + "': "
                + x
                + " is out of range for "
                + dtype.tfName()
                + " ("
                + min
                + ".."
                + max
                + ")");
      }
      return x;
    }

    private HttpError typeError(JsonNode v) {
      return new HttpError(
          400,
          "input '"
              + spec.name()
              + "': JSON value "
              + shortText(v)
              + " is not of expected type "
              + dtype.tfName());
    }

    private HttpError lossy(JsonNode v, String target) {
      return new HttpError(
          400,
          "input '"
              + spec.name()
              + "': cannot convert JSON value "
              + shortText(v)
              + " to "
              + target
              + " without loss of precision");
    }

    Tensor tensor(long[] dims) {
      if (dtype == DType.STRING) {
        int total = 0;
        for (byte[] s : strings) {
          total = Math.addExact(total, 4 + s.length);
        }
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        for (byte[] s : strings) {
          b.putInt(s.length).put(s);
        }
        return new Tensor(DType.STRING, Shape.of(dims), b.flip());
      }
      return new Tensor(dtype, Shape.of(dims), buf.flip());
    }
  }

  private static String shortText(JsonNode v) {
    String s = v.toString();
    return s.length() > 60 ? s.substring(0, 57) + "..." : s;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "malformed JSON";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  // ------------------------------------------------------------------ responses

  /**
   * The response body: row requests get {@code predictions} (a list over the batch, of values for
   * one output, of objects for several), columnar ones {@code outputs} (the value, or an object).
   */
  static byte[] response(Map<String, Tensor> outputs, boolean row) {
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
