package org.tfport.formats.tfjs;

import java.util.Objects;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.Shape;
import org.tfport.core.TfportException.CorruptModelException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One entry of a weights manifest: a weight's name, shape, logical dtype and how it is stored.
 *
 * @param dtype the logical dtype the loader hands out (float32 even when the bytes are uint8)
 * @param quantization how the bytes are stored, or null when they are stored as {@code dtype}
 * @param group {@code "model"} or {@code "optimizer"} (tfjs-layers with includeOptimizer), usually
 *     null
 */
public record WeightSpec(
    String name, Shape shape, DType dtype, Quantization quantization, String group) {
  public WeightSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(shape, "shape");
    Objects.requireNonNull(dtype, "dtype");
    if (!shape.isFullyKnown()) {
      throw new IllegalArgumentException(
          "weight '" + name + "' has an unknown dimension in " + shape);
    }
  }

  /**
   * Bytes this weight takes in the shard stream, or -1 for an unquantized string weight, whose size
   * is known only by walking its length prefixes.
   */
  public long storedByteLength() {
    if (quantization != null) {
      return Math.multiplyExact(shape.size(), (long) quantization.bytesPerElement());
    }
    if (dtype == DType.STRING) {
      return -1;
    }
    return Math.multiplyExact(shape.size(), (long) dtype.byteSize());
  }

  /** The manifest entry, keys in the converter's order: name, shape, dtype, quantization, group. */
  public ObjectNode toJson() {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("name", name);
    ArrayNode dims = o.putArray("shape");
    for (long d : shape.dims()) {
      dims.add(d);
    }
    o.put("dtype", dtype.jsName());
    if (quantization != null) {
      ObjectNode q = o.putObject("quantization");
      q.put("dtype", quantization.dtype().jsName());
      if (quantization.min() != null) {
        q.put("min", quantization.min().doubleValue());
      }
      if (quantization.scale() != null) {
        q.put("scale", quantization.scale().doubleValue());
      }
      if (quantization.originalDtype() != null) {
        q.put("original_dtype", quantization.originalDtype().jsName());
      }
    }
    if (group != null) {
      o.put("group", group);
    }
    return o;
  }

  /**
   * Parses a manifest entry. Messages name the weight but not the file; the reader adds that.
   *
   * @throws CorruptModelException when a key is missing or has the wrong type
   */
  public static WeightSpec fromJson(JsonNode node) {
    if (node == null || !node.isObject()) {
      throw new CorruptModelException(
          "a weights-manifest entry is not a JSON object: " + brief(node));
    }
    JsonNode nameNode = node.get("name");
    if (nameNode == null || !nameNode.isString()) {
      throw new CorruptModelException(
          "a weights-manifest entry has no string 'name': " + brief(node));
    }
    String name = nameNode.stringValue();
    String where = "weight '" + name + "'";
    Shape shape = parseShape(node.get("shape"), where);
    DType dtype = parseDType(node.get("dtype"), where + " dtype");
    Quantization q = null;
    JsonNode qn = node.get("quantization");
    if (qn != null && !qn.isNull()) {
      q = parseQuantization(qn, where);
    }
    String group = null;
    JsonNode gn = node.get("group");
    if (gn != null && !gn.isNull()) {
      if (!gn.isString()) {
        throw new CorruptModelException(where + ": 'group' is not a string: " + brief(gn));
      }
      group = gn.stringValue();
    }
    return new WeightSpec(name, shape, dtype, q, group);
  }

  private static Shape parseShape(JsonNode n, String where) {
    if (n == null || !n.isArray()) {
      throw new CorruptModelException(where + ": 'shape' is missing or not an array: " + brief(n));
    }
    long[] dims = new long[n.size()];
    for (int i = 0; i < dims.length; i++) {
      JsonNode d = n.get(i);
      // A float such as 3.0 is tolerated as long as it is integral; anything else cannot size a
      // buffer.
      if (d == null
          || !d.isNumber()
          || !d.canConvertToExactIntegral()
          || !d.canConvertToLong()
          || d.longValue() < 0) {
        throw new CorruptModelException(
            where
                + ": shape "
                + n
                + " has a dimension that is not a non-negative"
                + " integer; stored weights need fully known shapes");
      }
      dims[i] = d.longValue();
    }
    Shape s = new Shape(dims);
    try {
      s.size();
    } catch (IllegalStateException | ArithmeticException e) {
      throw new CorruptModelException(
          where + ": shape " + n + " has more elements than fit in 64 bits");
    }
    return s;
  }

  private static DType parseDType(JsonNode n, String where) {
    if (n == null || !n.isString()) {
      throw new CorruptModelException(where + " is missing or not a string: " + brief(n));
    }
    DType t = DType.fromJsName(n.stringValue());
    if (t == null) {
      throw new CorruptModelException(
          where
              + " '"
              + n.stringValue()
              + "' is not a dtype TF.js knows"
              + " (float32, int32, bool, string, complex64)");
    }
    return t;
  }

  private static Quantization parseQuantization(JsonNode n, String where) {
    if (!n.isObject()) {
      throw new CorruptModelException(where + ": 'quantization' is not an object: " + brief(n));
    }
    DType qd = parseDType(n.get("dtype"), where + " quantization dtype");
    if (qd != DType.UINT8 && qd != DType.UINT16 && qd != DType.FLOAT16) {
      throw new CorruptModelException(
          where
              + ": unknown quantization dtype '"
              + qd.jsName()
              + "'; TF.js stores only uint8, uint16 or float16");
    }
    Double min = optionalNumber(n.get("min"), where + " quantization min");
    Double scale = optionalNumber(n.get("scale"), where + " quantization scale");
    DType orig = null;
    JsonNode on = n.get("original_dtype");
    if (on != null && !on.isNull()) {
      orig = parseDType(on, where + " quantization original_dtype");
    }
    return new Quantization(qd, min, scale, orig);
  }

  private static Double optionalNumber(JsonNode n, String where) {
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isNumber()) {
      throw new CorruptModelException(where + " is not a number: " + brief(n));
    }
    return n.doubleValue();
  }

  /** A short rendering of a node for error messages, which must stay one line. */
  static String brief(JsonNode n) {
    if (n == null) {
      return "(missing)";
    }
    String s = n.toString();
    return s.length() > 120 ? s.substring(0, 117) + "..." : s;
  }
}
