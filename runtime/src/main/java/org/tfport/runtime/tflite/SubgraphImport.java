package org.tfport.runtime.tflite;

import static org.tfport.runtime.tflite.ImportAttrs.type;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.formats.tflite.BuiltinOptions;
import org.tfport.formats.tflite.TfliteBuiltin;
import org.tfport.formats.tflite.TfliteOperator;
import org.tfport.formats.tflite.TfliteOperatorCode;
import org.tfport.formats.tflite.TfliteTensor;
import org.tfport.formats.tflite.TfliteType;

/**
 * One TFLite subgraph turned into IR nodes: its inputs become placeholders (or a function's
 * arguments), constants become {@code Const} nodes when first read ({@link SubgraphTensors}), and
 * each operator becomes the TensorFlow ops it stands for ({@link NnBuiltins}, {@link
 * ArrayBuiltins}).
 */
final class SubgraphImport extends SubgraphTensors {
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

  final List<String> inputNames = new ArrayList<>();

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

  SubgraphImport(
      TfliteImporter importer, int index, boolean asFunction, String prefix, Set<String> names) {
    super(importer, index, asFunction, prefix, names);
  }

  @Override
  String where() {
    return importer.where(this);
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
  // the operator's inputs and outputs

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
}
