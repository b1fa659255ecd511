package org.tfport.runtime.tflite;

import static org.tfport.runtime.tflite.ImportAttrs.type;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.core.graph.TensorValue;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteSubgraph;
import org.tfport.formats.tflite.TfliteTensor;
import org.tfport.formats.tflite.TfliteType;
import org.tfport.runtime.tflite.SubgraphImport.Refusal;

/**
 * The tensors of one TFLite subgraph as its import ({@link SubgraphImport}, which walks the
 * operators) sees them: type, shape and constant values as the file has them, constants made into
 * {@code Const} nodes when first read, and the names of the nodes. Tensors are referred to by
 * index; {@link #refs} holds the IR tensor ({@code node} or {@code node:k}) each one became.
 */
abstract sealed class SubgraphTensors permits SubgraphImport {
  final TfliteImporter importer;
  final TfliteModel model;
  final TfliteSubgraph sg;
  final int index;
  final boolean asFunction;
  final String prefix;
  final List<Node> nodes = new ArrayList<>();
  final String[] refs;
  private final Set<String> names;
  private final Map<Integer, String> floatConstants = new HashMap<>();

  /**
   * @param names node names taken so far in the namespace the nodes go to (shared by top-level
   *     subgraphs)
   */
  SubgraphTensors(
      TfliteImporter importer, int index, boolean asFunction, String prefix, Set<String> names) {
    this.names = names;
    this.importer = importer;
    this.model = importer.model;
    this.sg = model.subgraphs().get(index);
    this.index = index;
    this.asFunction = asFunction;
    this.prefix = prefix;
    this.refs = new String[sg.tensors().size()];
  }

  /** Where the import is (source, subgraph, operator), for the messages on a bad constant. */
  abstract String where();

  // -------------------------------------------------------------------------------------------
  // tensors

  TfliteTensor tensor(int t) {
    return sg.tensors().get(t);
  }

  /** Whether tensor {@code t} holds data in the file (a weight, a shape, an axis). */
  boolean isConstant(int t) {
    return !model.buffer(tensor(t)).isEmpty();
  }

  /** The shape a caller sees: unknown dims (-1 in {@code shape_signature}) as -1. */
  static long[] signatureShape(TfliteTensor x) {
    List<Integer> s =
        x.shapeSignature() != null && x.shapeSignature().size() == x.shape().size()
            ? x.shapeSignature()
            : x.shape();
    return s.stream().mapToLong(i -> i < 0 ? -1 : i).toArray();
  }

  /**
   * What the import may rely on of tensor {@code t}'s shape: the file's ({@link #signatureShape}),
   * except while the model's inputs are resized. Then TFLite's Prepare computes every other
   * tensor's shape again from the inputs, so only constants, the top-level inputs (resized or
   * declared) are known; the rest keep their rank with every dim unknown.
   */
  long[] knownShape(int t) {
    long[] r = importer.resizedShape(index, t);
    if (r != null) {
      return r.clone();
    }
    long[] s = signatureShape(tensor(t));
    if (importer.resizing() && !isConstant(t) && (asFunction || !sg.inputs().contains(t))) {
      java.util.Arrays.fill(s, -1);
    }
    return s;
  }

  /** The static shape when every dim is known, else null. */
  long[] staticShape(int t) {
    long[] s = knownShape(t);
    for (long d : s) {
      if (d < 0) {
        return null;
      }
    }
    return tensor(t).hasRank() || !tensor(t).shape().isEmpty() ? s : null;
  }

  /**
   * The IR dtype of tensor {@code t} as it is stored (quantized constants keep their integer type).
   */
  DType dtypeOf(int t) {
    TfliteType ty = tensor(t).type();
    if (ty.dtype() == null) {
      throw new Refusal(
          "tensor '" + tensor(t).name() + "' is " + ty + ", a type tfport cannot compute with");
    }
    return ty.dtype();
  }

  /** The IR tensor of tensor {@code t}: its producer's output, an input, or a constant made now. */
  String ref(int t) {
    if (refs[t] != null) {
      return refs[t];
    }
    if (floatConstants.containsKey(t)) {
      return floatConstants.get(t);
    }
    TfliteTensor x = tensor(t);
    if (x.isVariable()) {
      throw new Refusal(
          "tensor '"
              + x.name()
              + "' is a variable (state kept between runs), which tfport does not"
              + " import");
    }
    if (!model.buffer(x).isEmpty() || x.elementCount() == 0) {
      Tensor v =
          model.buffer(x).isEmpty()
              ? new Tensor(dtypeOf(t), Shape.of(Weights.dims(x)), java.nio.ByteBuffer.allocate(0))
              : Weights.raw(x, model.buffer(x).data(), where());
      refs[t] = constNode(sanitize(x.name(), t), v);
      return refs[t];
    }
    throw new Refusal(
        "tensor "
            + t
            + " ('"
            + x.name()
            + "') is read but no operator writes it and it is neither"
            + " an input nor a constant");
  }

  /**
   * The real values of constant {@code t} (float32 as stored, float16 widened, quantized
   * dequantized), or null.
   */
  float[] constantFloats(int t) {
    if (t < 0 || !isConstant(t)) {
      return null;
    }
    TfliteTensor x = tensor(t);
    if (model.buffer(x).isEmpty()) {
      return x.elementCount() == 0 ? new float[0] : null;
    }
    Tensor raw = Weights.raw(x, model.buffer(x).data(), where());
    if (x.type() == TfliteType.FLOAT32) {
      return Weights.toFloats(raw);
    }
    if (x.type() == TfliteType.FLOAT16) {
      return Weights.widenHalf(raw);
    }
    if (Weights.isQuantized(x)) {
      return Weights.dequantize(x, raw, where());
    }
    return null;
  }

  /**
   * The values of an integer constant (shapes, axes, permutations), or null when {@code t} is not
   * one.
   */
  long[] constantInts(int t) {
    if (t < 0 || !isConstant(t) || model.buffer(tensor(t)).isEmpty()) {
      return null;
    }
    TfliteTensor x = tensor(t);
    if (x.type() != TfliteType.INT32 && x.type() != TfliteType.INT64) {
      return null;
    }
    Tensor raw = Weights.raw(x, model.buffer(x).data(), where());
    long[] out = new long[Math.toIntExact(raw.size())];
    for (int i = 0; i < out.length; i++) {
      out[i] =
          x.type() == TfliteType.INT32 ? raw.bytes().getInt(4 * i) : raw.bytes().getLong(8 * i);
    }
    return out;
  }

  /** A float32 {@code Const} of constant {@code t}'s real values, made once. */
  String floatConstant(int t) {
    String r = floatConstants.get(t);
    if (r == null) {
      TfliteTensor x = tensor(t);
      r =
          constNode(
              sanitize(x.name(), t) + (x.type() == TfliteType.FLOAT32 ? "" : "/dequantized"),
              Weights.floats(Weights.dims(x), constantFloats(t)));
      floatConstants.put(t, r);
      keepQuantized(r, t, null, null);
    }
    return r;
  }

  /**
   * Tells the importer that {@code Const} {@code node} holds constant {@code t}'s dequantized
   * values, re-laid out by {@code perm} or {@code reshaped} (or neither), when {@code t} is a
   * quantized integer weight or a float16 one.
   */
  void keepQuantized(String node, int t, int[] perm, long[] reshaped) {
    TfliteTensor x = tensor(t);
    boolean half = x.type() == TfliteType.FLOAT16;
    if (!half && (!Weights.isQuantized(x) || x.type() == TfliteType.FLOAT32)
        || model.buffer(x).isEmpty()) {
      return;
    }
    QuantizedConstant q =
        Weights.kept(
            asFunction ? importer.functionName(index) : null,
            node,
            x,
            Weights.raw(x, model.buffer(x).data(), where()),
            perm,
            reshaped);
    if (q != null) {
      importer.quantizedConstants.add(q);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Const nodes

  String constNode(String name, Tensor value) {
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    attrs.put("dtype", type(value.dtype()));
    attrs.put(
        "value",
        new AttrValue.TensorAttr(
            new TensorValue(
                DataTypes.fromDType(value.dtype()), TensorShape.of(value.shape().dims()), value)));
    String n = unique(name);
    nodes.add(new Node(n, "Const", List.of(), "", attrs));
    return n;
  }

  String intsConst(String name, long... values) {
    int[] v = new int[values.length];
    for (int i = 0; i < v.length; i++) {
      v[i] = Math.toIntExact(values[i]);
    }
    return constNode(name, Tensor.ofInts(Shape.of(values.length), v));
  }

  String intConst(String name, int value) {
    return constNode(name, Tensor.ofInts(Shape.SCALAR, value));
  }

  /**
   * A scalar constant of {@code dtype} (float32 or float64 or an integer type) holding {@code
   * value}.
   */
  String scalarConst(String name, DType dtype, double value) {
    java.nio.ByteBuffer b =
        java.nio.ByteBuffer.allocate(dtype.byteSize()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    switch (dtype) {
      case FLOAT32 -> b.putFloat((float) value);
      case FLOAT64 -> b.putDouble(value);
      case INT32 -> b.putInt((int) value);
      case INT64 -> b.putLong((long) value);
      case FLOAT16 -> b.putShort(Float.floatToFloat16((float) value));
      default -> throw new Refusal("no " + dtype.jsName() + " constant for this op");
    }
    return constNode(name, new Tensor(dtype, Shape.SCALAR, b.flip()));
  }

  // -------------------------------------------------------------------------------------------
  // names

  String sanitize(String tensorName, int t) {
    return sanitize(prefix, tensorName, t);
  }

  /**
   * A node name from a TFLite tensor name: characters TensorFlow does not allow in names become
   * '_'.
   */
  static String sanitize(String prefix, String tensorName, int t) {
    String s = tensorName == null ? "" : tensorName;
    StringBuilder b = new StringBuilder(prefix);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok =
          c >= 'a' && c <= 'z'
              || c >= 'A' && c <= 'Z'
              || c >= '0' && c <= '9'
              || c == '.'
              || c == '_'
              || c == '-'
              || c == '/';
      b.append(ok ? c : '_');
    }
    if (b.length() == prefix.length()) {
      b.append("tensor_").append(t);
    }
    if (b.length() > 200) {
      b.setLength(200);
      b.append("_").append(t);
    }
    char first = b.charAt(0);
    if (!(Character.isLetterOrDigit(first) || first == '.')) {
      b.insert(0, 't');
    }
    return b.toString();
  }

  String unique(String name) {
    String n = name;
    for (int k = 1; !names.add(n); k++) {
      n = name + "_" + k;
    }
    return n;
  }
}
