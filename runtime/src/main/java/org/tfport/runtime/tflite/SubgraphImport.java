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
import org.tfport.formats.tflite.BuiltinOptions;
import org.tfport.formats.tflite.TfliteBuiltin;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteOperator;
import org.tfport.formats.tflite.TfliteOperatorCode;
import org.tfport.formats.tflite.TfliteSubgraph;
import org.tfport.formats.tflite.TfliteTensor;
import org.tfport.formats.tflite.TfliteType;

/**
 * One TFLite subgraph turned into IR nodes: its inputs become placeholders (or a function's
 * arguments), constants become {@code Const} nodes when first read, and each operator becomes the
 * TensorFlow ops it stands for ({@link NnBuiltins}, {@link ArrayBuiltins}). Tensors are referred to
 * by index; {@link #refs} holds the IR tensor ({@code node} or {@code node:k}) each one became.
 */
final class SubgraphImport {
  /**
   * Why the current operator cannot be imported; collected by the importer, which goes on with the
   * next one.
   */
  static final class Refusal extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Refusal(String message) {
      super(message, null, false, false);
    }
  }

  final TfliteImporter importer;
  final TfliteModel model;
  final TfliteSubgraph sg;
  final int index;
  final boolean asFunction;
  final String prefix;
  final List<Node> nodes = new ArrayList<>();
  final String[] refs;
  final List<String> inputNames = new ArrayList<>();
  private final Set<String> names;
  private final Map<Integer, String> floatConstants = new HashMap<>();

  // The operator being imported.
  TfliteOperator op;
  TfliteOperatorCode code;
  int opIndex;

  /** Name of the operator's first output, the base of the names of the nodes it becomes. */
  String base;

  /**
   * The last node run for its effect on session state (a variable read or assignment, a CALL_ONCE),
   * or null: the next such node and the subgraph's results are ordered after it.
   */
  String lastEffect;

  /**
   * @param names node names taken so far in the namespace the nodes go to (shared by top-level
   *     subgraphs)
   */
  SubgraphImport(
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

  // ------------------------------------------------------------------------------------------- the
  // walk

  void run() {
    for (int t : sg.inputs()) {
      TfliteTensor x = tensor(t);
      String name = unique(sanitize(x.name(), t));
      if (!asFunction) {
        try {
          Map<String, AttrValue> attrs = new LinkedHashMap<>();
          attrs.put("dtype", type(dtypeOf(t)));
          attrs.put("shape", new AttrValue.Shape(TensorShape.of(knownShape(t))));
          nodes.add(new Node(name, "Placeholder", List.of(), "", attrs));
        } catch (Refusal r) {
          // An input of a type tfport cannot compute with (found by fuzzing): named like an op's.
          importer.problem(
              this, -1, "input tensor " + t + " ('" + x.name() + "'): " + r.getMessage());
        }
      }
      refs[t] = name;
      inputNames.add(name);
    }
    for (int k = 0; k < sg.operators().size(); k++) {
      op = sg.operators().get(k);
      code = model.opcode(op);
      opIndex = k;
      int first = op.outputs().isEmpty() ? -1 : op.outputs().get(0);
      base = first >= 0 ? sanitize(tensor(first).name(), first) : "op" + k;
      try {
        String integer = code.isCustom() ? null : integerTensor();
        if (integer != null) {
          if (!QuantizedBuiltins.map(this, builtin())) {
            throw new Refusal(
                "tfport has no integer kernel for this builtin on quantized tensors (it "
                    + integer
                    + ")");
          }
        } else if (!Builtins.map(this)) {
          throw new Refusal("tfport has no mapping of this builtin to TensorFlow ops");
        }
      } catch (IndexOutOfBoundsException
          | IllegalArgumentException
          | ArithmeticException
          | ClassCastException e) {
        // A damaged operator (too few inputs, options of the wrong kind): named like any other
        // refusal.
        importer.problem(this, "the operator is malformed (" + e.getMessage() + ")");
        markUnimported();
      } catch (Refusal r) {
        importer.problem(this, r.getMessage());
        markUnimported();
      }
    }
    for (int t : sg.outputs()) {
      try {
        ref(t);
        if (lastEffect != null && !asFunction) {
          // A top-level result waits for the state changes before it (a function's body keeps them
          // as its control result instead).
          refs[t] =
              node(
                  "Identity",
                  refs[t].replace(':', '_') + "/after_effects",
                  List.of(refs[t], "^" + lastEffect),
                  "T",
                  type(dtypeOf(t)));
        }
      } catch (Refusal r) {
        importer.problem(
            this, -1, "output tensor " + t + " ('" + tensor(t).name() + "'): " + r.getMessage());
      }
    }
  }

  /**
   * Adds a node that reads or changes session state, ordered after the previous one of this
   * subgraph as TFLite's operator order has it, and returns its name.
   */
  String effect(String op, String name, List<String> inputs, Object... attrs) {
    List<String> in = new ArrayList<>(inputs);
    if (lastEffect != null) {
      in.add("^" + lastEffect);
    }
    lastEffect = node(op, name, in, attrs);
    return lastEffect;
  }

  /**
   * Gives the failed operator's outputs a stand-in, so readers downstream are not reported as well.
   */
  private void markUnimported() {
    for (int o : op.outputs()) {
      if (o >= 0 && o < refs.length && refs[o] == null) {
        refs[o] = "unimported_" + o;
      }
    }
  }

  /**
   * A description of the first quantized integer activation the operator reads or writes (the
   * operator runs TFLite's integer kernel, {@link QuantizedBuiltins}), or null: constants, which
   * float and dynamic-range models dequantize, do not count.
   */
  private String integerTensor() {
    for (List<Integer> list : List.of(op.inputs(), op.outputs())) {
      for (int t : list) {
        if (t < 0 || isConstant(t)) {
          continue;
        }
        TfliteTensor x = tensor(t);
        if ((x.type() == TfliteType.INT8
                || x.type() == TfliteType.UINT8
                || x.type() == TfliteType.INT16)
            && Weights.isQuantized(x)) {
          return (list == op.inputs() ? "reads " : "writes ")
              + x.type().name().toLowerCase(java.util.Locale.ROOT)
              + " tensor '"
              + x.name()
              + "' (scale "
              + x.quantization().scale().get(0)
              + ", zero point "
              + (x.quantization().zeroPoint().isEmpty() ? 0 : x.quantization().zeroPoint().get(0))
              + ")";
        }
      }
    }
    return null;
  }

  /** The operator's builtin; a code newer than {@link TfliteBuiltin} is refused by its number. */
  TfliteBuiltin builtin() {
    TfliteBuiltin b = TfliteBuiltin.ofCode(code.builtinCode());
    if (b == null) {
      throw new Refusal(
          "builtin code " + code.builtinCode() + " is newer than the schema tfport knows");
    }
    return b;
  }

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

  /** The operator's input {@code i} (a tensor index), or -1 when it is absent or omitted. */
  int inIndex(int i) {
    return i < op.inputs().size() ? op.inputs().get(i) : -1;
  }

  int outIndex(int i) {
    return op.outputs().get(i);
  }

  boolean hasInput(int i) {
    return inIndex(i) >= 0;
  }

  /**
   * The IR tensor of the operator's input {@code i}. A quantized integer or float16 constant read
   * by an op that computes in float32 is dequantized (dynamic-range and float16 weights).
   */
  String in(int i) {
    int t = inIndex(i);
    if (t < 0) {
      throw new Refusal("input " + i + " is missing");
    }
    if (isConstant(t)
        && !op.outputs().isEmpty()
        && tensor(outIndex(0)).type() == TfliteType.FLOAT32
        && needsWidening(t)) {
      return floatConstant(t);
    }
    return ref(t);
  }

  private boolean needsWidening(int t) {
    TfliteTensor x = tensor(t);
    return x.type() == TfliteType.FLOAT16
        || Weights.isQuantized(x) && x.type() != TfliteType.FLOAT32;
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
              : Weights.raw(x, model.buffer(x).data(), importer.where(this));
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
    Tensor raw = Weights.raw(x, model.buffer(x).data(), importer.where(this));
    if (x.type() == TfliteType.FLOAT32) {
      return Weights.toFloats(raw);
    }
    if (x.type() == TfliteType.FLOAT16) {
      return Weights.widenHalf(raw);
    }
    if (Weights.isQuantized(x)) {
      return Weights.dequantize(x, raw, importer.where(this));
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
    Tensor raw = Weights.raw(x, model.buffer(x).data(), importer.where(this));
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
            Weights.raw(x, model.buffer(x).data(), importer.where(this)),
            perm,
            reshaped);
    if (q != null) {
      importer.quantizedConstants.add(q);
    }
  }

  /** Makes output {@code k} of the operator the IR tensor {@code ref}. */
  void define(int k, String ref) {
    if (k < op.outputs().size() && op.outputs().get(k) >= 0) {
      refs[op.outputs().get(k)] = ref;
    }
  }

  // -------------------------------------------------------------------------------------------
  // nodes

  /** Adds a node named after {@code name} (made unique) and returns its name, its output 0. */
  String node(String op, String name, List<String> inputs, Map<String, AttrValue> attrs) {
    String n = unique(name);
    importer.checkKernel(this, op);
    nodes.add(new Node(n, op, inputs, "", attrs));
    return n;
  }

  /** As {@link #node(String, String, List, Map)}, attributes given as name/value pairs. */
  String node(String op, String name, List<String> inputs, Object... attrs) {
    Map<String, AttrValue> m = new LinkedHashMap<>();
    for (int i = 0; i < attrs.length; i += 2) {
      m.put((String) attrs[i], (AttrValue) attrs[i + 1]);
    }
    return node(op, name, inputs, m);
  }

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
  // options

  BuiltinOptions options() {
    return op.builtinOptions();
  }

  /** The options table as the typed record {@code type}, or null when the operator has none. */
  <T extends BuiltinOptions> T options(Class<T> type) {
    BuiltinOptions o = op.builtinOptions();
    if (o == null) {
      return null;
    }
    if (!type.isInstance(o)) {
      throw new Refusal(
          "its options are "
              + o.typeName()
              + (o instanceof BuiltinOptions.Other ? " with values tfport does not know" : "")
              + ", not what the op takes");
    }
    return type.cast(o);
  }

  /** A field of the options table, whatever its record; {@code fallback} when absent. */
  Object option(String field, Object fallback) {
    BuiltinOptions o = op.builtinOptions();
    if (o == null) {
      return fallback;
    }
    Object v = o.fields().get(field);
    return v == null ? fallback : v;
  }

  int intOption(String field, int fallback) {
    return ((Number) option(field, fallback)).intValue();
  }

  boolean boolOption(String field) {
    return Boolean.TRUE.equals(option(field, false));
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
