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
 * Runs one op in TensorFlow like {@link OpOracle#runTensorFlow}, but feeding and fetching string tensors too (the
 * shared oracle moves fixed-width types only). Placeholders declare their inputs' shapes.
 */
final class StringOracle {
  private StringOracle() {}

  static List<Value> run(String op, Map<String, AttrValue> attrs, int outputs, Value... inputs) {
    Graph g = new Graph("strings");
    List<String> ins = new ArrayList<>();
    for (int i = 0; i < inputs.length; i++) {
      Map<String, AttrValue> pa = new LinkedHashMap<>();
      pa.put("dtype", OpOracle.type(inputs[i].dtype()));
      pa.put("shape", new AttrValue.Shape(TensorShape.of(inputs[i].shape())));
      g.add(new Node("in" + i, "Placeholder", List.of(), "", pa));
      ins.add("in" + i);
    }
    g.add(new Node("op", op, ins, "", attrs));
    List<Tensor> owned = new ArrayList<>();
    try (org.tensorflow.Graph tg = new org.tensorflow.Graph(); Session s = new Session(tg)) {
      tg.importGraphDef(org.tensorflow.proto.GraphDef.parseFrom(GraphDefWriter.write(g)));
      Session.Runner r = s.runner();
      for (int i = 0; i < inputs.length; i++) {
        Tensor t = toTf(inputs[i]);
        owned.add(t);
        r.feed("in" + i, t);
      }
      for (int o = 0; o < outputs; o++) {
        r.fetch("op:" + o);
      }
      List<Value> out = new ArrayList<>();
      try (Result res = r.run()) {
        for (int o = 0; o < outputs; o++) {
          out.add(fromTf(res.get(o)));
        }
      }
      return out;
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    } finally {
      owned.forEach(Tensor::close);
    }
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
