package org.tfport.runtime.tflite;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteSignatureDef;
import org.tfport.formats.tflite.TfliteSubgraph;
import org.tfport.formats.tflite.TfliteType;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.runtime.Signature;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.TfliteOracle;

/** Running an imported model on the inputs TFLite ran, and comparing with TFLite's outputs. */
final class TfliteRuns {
  private TfliteRuns() {}

  /** What kind of model a file is, for the tally. */
  enum Kind {
    FLOAT,
    FLOAT16,
    DYNAMIC_INT8,
    FULL_INTEGER
  }

  static Kind kind(TfliteModel m) {
    boolean f16 = false;
    boolean int8Weights = false;
    for (TfliteSubgraph sg : m.subgraphs()) {
      for (var op : sg.operators()) {
        String name = m.opcode(op).name();
        if (name.equals("QUANTIZE")) {
          return Kind.FULL_INTEGER;
        }
        for (int t : op.outputs()) {
          var x = sg.tensors().get(t);
          if (isIntegerActivation(x)) {
            return Kind.FULL_INTEGER;
          }
        }
      }
      for (var t : sg.tensors()) {
        if (!m.buffer(t).isEmpty() && t.type() == TfliteType.FLOAT16) {
          f16 = true;
        }
        if (!m.buffer(t).isEmpty()
            && t.type() == TfliteType.INT8
            && t.quantization() != null
            && !t.quantization().scale().isEmpty()) {
          int8Weights = true;
        }
      }
      for (int t : sg.inputs()) {
        if (isIntegerActivation(sg.tensors().get(t))) {
          return Kind.FULL_INTEGER;
        }
      }
    }
    return int8Weights ? Kind.DYNAMIC_INT8 : f16 ? Kind.FLOAT16 : Kind.FLOAT;
  }

  private static boolean isIntegerActivation(org.tfport.formats.tflite.TfliteTensor x) {
    return (x.type() == TfliteType.INT8
            || x.type() == TfliteType.UINT8
            || x.type() == TfliteType.INT16)
        && x.quantization() != null
        && !x.quantization().scale().isEmpty();
  }

  /**
   * The signature of {@code imported} that runs subgraph 0 (what TFLite's default run does) and,
   * per position of subgraph 0's inputs and outputs, the signature names; null when no signature
   * covers subgraph 0.
   */
  record Binding(String key, List<String> inputs, List<String> outputs) {}

  static Binding binding(TfliteModel m, TfliteImporter.ImportedModel imported) {
    TfliteSubgraph main = m.mainSubgraph();
    if (m.signatureDefs().isEmpty()) {
      Signature s = imported.signatures().get(0);
      return new Binding(s.key(), s.inputNames(), s.outputNames());
    }
    for (int k = 0; k < m.signatureDefs().size(); k++) {
      TfliteSignatureDef d = m.signatureDefs().get(k);
      if (d.subgraphIndex() != 0
          || d.inputs().size() != main.inputs().size()
          || d.outputs().size() != main.outputs().size()) {
        continue;
      }
      List<String> ins = new ArrayList<>();
      for (int t : main.inputs()) {
        d.inputs().stream()
            .filter(x -> x.tensorIndex() == t)
            .findFirst()
            .ifPresent(x -> ins.add(x.name()));
      }
      List<String> outs = new ArrayList<>();
      for (int t : main.outputs()) {
        d.outputs().stream()
            .filter(x -> x.tensorIndex() == t)
            .findFirst()
            .ifPresent(x -> outs.add(x.name()));
      }
      if (ins.size() == main.inputs().size() && outs.size() == main.outputs().size()) {
        return new Binding(imported.signatures().get(k).key(), ins, outs);
      }
    }
    return null;
  }

  /** Runs {@code model} through {@code b} on TFLite-format inputs; outputs in subgraph-0 order. */
  static List<Tensor> run(Model model, Binding b, List<TfliteOracle.Tensor> inputs) {
    Map<String, Tensor> feed = new LinkedHashMap<>();
    for (int k = 0; k < inputs.size(); k++) {
      feed.put(b.inputs().get(k), tensor(inputs.get(k)));
    }
    try (Session session = model.newSession()) {
      Map<String, Tensor> out = session.run(b.key(), feed);
      List<Tensor> list = new ArrayList<>();
      for (String name : b.outputs()) {
        list.add(out.get(name));
      }
      return list;
    }
  }

  static Tensor tensor(TfliteOracle.Tensor t) {
    long[] dims = java.util.Arrays.stream(t.shape()).asLongStream().toArray();
    if (t.dtype().equals("string")) {
      return strings(Shape.of(dims), t.byteStrings());
    }
    DType d =
        switch (t.dtype()) {
          case "float32" -> DType.FLOAT32;
          case "float16" -> DType.FLOAT16;
          case "float64" -> DType.FLOAT64;
          case "int8" -> DType.INT8;
          case "uint8" -> DType.UINT8;
          case "int16" -> DType.INT16;
          case "int32" -> DType.INT32;
          case "int64" -> DType.INT64;
          case "bool" -> DType.BOOL;
          default -> throw new IllegalArgumentException("no tfport dtype for " + t.dtype());
        };
    return new Tensor(d, Shape.of(dims), ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN));
  }

  /** A tfport string tensor (each element a uint32 length and its bytes) of raw byte strings. */
  static Tensor strings(Shape shape, List<byte[]> values) {
    ByteBuffer b =
        ByteBuffer.allocate(values.stream().mapToInt(v -> 4 + v.length).sum())
            .order(ByteOrder.LITTLE_ENDIAN);
    for (byte[] v : values) {
      b.putInt(v.length).put(v);
    }
    return new Tensor(DType.STRING, shape, b.flip());
  }

  /**
   * Compares one output: shapes equal, floats within {@code atol + rtol·|b|}, everything else
   * exactly (atol and rtol 0 make floats exact too). Returns the comparison, or throws
   * AssertionError for a shape/type mismatch.
   */
  static Comparison compare(
      String what, TfliteOracle.Tensor expected, Tensor actual, double atol, double rtol) {
    long[] es = java.util.Arrays.stream(expected.shape()).asLongStream().toArray();
    if (!java.util.Arrays.equals(es, actual.shape().dims())) {
      throw new AssertionError(
          what
              + ": TFLite's shape is "
              + java.util.Arrays.toString(es)
              + ", tfport's "
              + actual.shape());
    }
    if (expected.dtype().equals("string") || actual.dtype() == DType.STRING) {
      return compareStrings(what, expected, actual);
    }
    boolean floating = expected.dtype().startsWith("float");
    return Comparison.of(
        expected.floats(), actual.toFloatArray(), floating ? atol : 0, floating ? rtol : 0);
  }

  /**
   * String outputs byte for byte; the comparison returned has no values (a difference of 0), a
   * mismatch throws AssertionError naming the first differing element.
   */
  private static Comparison compareStrings(
      String what, TfliteOracle.Tensor expected, Tensor actual) {
    if (!expected.dtype().equals("string") || actual.dtype() != DType.STRING) {
      throw new AssertionError(
          what + ": TFLite's output is " + expected.dtype() + ", tfport's " + actual.dtype());
    }
    List<byte[]> e;
    try {
      e = expected.byteStrings();
    } catch (IllegalStateException x) {
      throw new AssertionError(what + ": TFLite's output: " + x.getMessage(), x);
    }
    List<byte[]> a = actual.toByteStrings();
    for (int i = 0; i < e.size(); i++) {
      if (!java.util.Arrays.equals(e.get(i), a.get(i))) {
        throw new AssertionError(
            what
                + ": string element "
                + i
                + " is "
                + java.util.Arrays.toString(e.get(i))
                + " in TFLite, "
                + java.util.Arrays.toString(a.get(i))
                + " in tfport");
      }
    }
    return Comparison.of(new float[0], new float[0], 0, 0);
  }
}
