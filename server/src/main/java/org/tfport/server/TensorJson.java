package org.tfport.server;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.runtime.Signature;
import org.tfport.runtime.TensorSpec;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.json.JsonReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * TensorFlow Serving's JSON tensors in requests: a predict body's {@code instances} (row format) or
 * {@code inputs} (columnar) into tensors, shaped as TF Serving's json_tensor shapes them ({@code
 * {"b64": ...}} for bytes; NaN and Infinity as bare tokens, which TF Serving reads). {@link
 * TensorFiller} writes the values, {@link TensorAnswer} the answers.
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

  static boolean isB64(JsonNode v) {
    return v.isObject() && v.size() == 1 && v.has("b64") && v.get("b64").isString();
  }

  /** Row format: every instance one slice of the batch, all of the same shape. */
  private static Tensor stack(TensorSpec spec, List<JsonNode> items, long maxElements) {
    long[] item = shapeOf(items.get(0));
    long[] dims = new long[item.length + 1];
    dims[0] = items.size();
    System.arraycopy(item, 0, dims, 1, item.length);
    long n = count(spec, dims, maxElements);
    TensorFiller f = new TensorFiller(spec, dtype(spec, items.get(0)), n);
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
    TensorFiller f = new TensorFiller(spec, dtype(spec, v), n);
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

  static String shortText(JsonNode v) {
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
}
