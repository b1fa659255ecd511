package org.tfport.runtime.ops;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TString;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.formats.graphdef.GraphDefWriter;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.kernel.Values;
import org.tfport.testkit.TensorFlowOracle;

/**
 * Runs one op in TensorFlow like {@link OpOracle#runTensorFlow}, but feeding and fetching string
 * and complex64 tensors too (TF Java moves neither, so complex values travel as real and imaginary
 * float32 parts, joined by Complex and split by Real/Imag in the graph). Placeholders declare their
 * inputs' shapes.
 */
final class StringOracle {
  private StringOracle() {}

  static List<Value> run(String op, Map<String, AttrValue> attrs, int outputs, Value... inputs) {
    Graph g = new Graph("strings");
    List<String> ins = new ArrayList<>();
    Map<String, Value> feeds = new LinkedHashMap<>();
    for (int i = 0; i < inputs.length; i++) {
      Value v = inputs[i];
      if (v.dtype() == DType.COMPLEX64) {
        Value[] parts = parts(v);
        placeholder(g, "in" + i + "_re", parts[0]);
        placeholder(g, "in" + i + "_im", parts[1]);
        feeds.put("in" + i + "_re", parts[0]);
        feeds.put("in" + i + "_im", parts[1]);
        g.add(
            new Node(
                "in" + i,
                "Complex",
                List.of("in" + i + "_re", "in" + i + "_im"),
                "",
                Map.of("T", OpOracle.type(DType.FLOAT32), "Tout", OpOracle.type(DType.COMPLEX64))));
      } else {
        placeholder(g, "in" + i, v);
        feeds.put("in" + i, v);
      }
      ins.add("in" + i);
    }
    g.add(new Node("op", op, ins, "", attrs));
    List<Tensor> owned = new ArrayList<>();
    try (org.tensorflow.Graph tg = new org.tensorflow.Graph();
        Session s = new Session(tg)) {
      boolean[] complex = new boolean[outputs];
      try (org.tensorflow.Graph probe = new org.tensorflow.Graph()) {
        probe.importGraphDef(org.tensorflow.proto.GraphDef.parseFrom(GraphDefWriter.write(g)));
        for (int o = 0; o < outputs; o++) {
          complex[o] =
              probe.operation("op").output(o).dataType()
                  == org.tensorflow.proto.DataType.DT_COMPLEX64;
          if (complex[o]) {
            for (String part : List.of("Real", "Imag")) {
              g.add(
                  new Node(
                      "op_" + part + o,
                      part,
                      List.of("op:" + o),
                      "",
                      Map.of(
                          "T",
                          OpOracle.type(DType.COMPLEX64),
                          "Tout",
                          OpOracle.type(DType.FLOAT32))));
            }
          }
        }
      }
      tg.importGraphDef(org.tensorflow.proto.GraphDef.parseFrom(GraphDefWriter.write(g)));
      Session.Runner r = s.runner();
      for (Map.Entry<String, Value> f : feeds.entrySet()) {
        Tensor t = toTf(f.getValue());
        owned.add(t);
        r.feed(f.getKey(), t);
      }
      List<Integer> first = new ArrayList<>();
      int k = 0;
      for (int o = 0; o < outputs; o++) {
        first.add(k);
        if (complex[o]) {
          r.fetch("op_Real" + o);
          r.fetch("op_Imag" + o);
          k += 2;
        } else {
          r.fetch("op:" + o);
          k++;
        }
      }
      List<Value> out = new ArrayList<>();
      try (Result res = r.run()) {
        for (int o = 0; o < outputs; o++) {
          Value v = fromTf(res.get(first.get(o)));
          out.add(complex[o] ? join(v, fromTf(res.get(first.get(o) + 1))) : v);
        }
      }
      return out;
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    } finally {
      owned.forEach(Tensor::close);
    }
  }

  private static void placeholder(Graph g, String name, Value v) {
    Map<String, AttrValue> pa = new LinkedHashMap<>();
    pa.put("dtype", OpOracle.type(v.dtype()));
    pa.put("shape", new AttrValue.Shape(TensorShape.of(v.shape())));
    g.add(new Node(name, "Placeholder", List.of(), "", pa));
  }

  private static Value[] parts(Value c) {
    float[] ri = c.floats();
    float[] re = new float[c.size()];
    float[] im = new float[c.size()];
    for (int i = 0; i < re.length; i++) {
      re[i] = ri[2 * i];
      im[i] = ri[2 * i + 1];
    }
    return new Value[] {Value.floats(c.shape(), re), Value.floats(c.shape(), im)};
  }

  private static Value join(Value re, Value im) {
    float[] ri = new float[2 * re.size()];
    for (int i = 0; i < re.size(); i++) {
      ri[2 * i] = re.floats()[i];
      ri[2 * i + 1] = im.floats()[i];
    }
    return Value.of(DType.COMPLEX64, re.shape(), ri);
  }

  static Tensor toTf(Value v) {
    if (v.dtype() != DType.STRING) {
      return TensorFlowOracle.toTf(Values.toTensor(v));
    }
    return TString.tensorOfBytes(Shape.of(v.shape()), DataBuffers.ofObjects(v.strings()));
  }

  static Value fromTf(Tensor t) {
    if (!(t instanceof TString s)) {
      return Values.fromTensor(TensorFlowOracle.fromTf(t));
    }
    long[] shape = t.shape().asArray();
    byte[][] out = new byte[(int) Value.elementCount(shape)][];
    int[] i = {0};
    s.asBytes().scalars().forEach(e -> out[i[0]++] = e.getObject());
    return Value.of(DType.STRING, shape, out);
  }
}
