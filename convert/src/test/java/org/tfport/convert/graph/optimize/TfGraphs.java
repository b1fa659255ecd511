package org.tfport.convert.graph.optimize;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TType;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;

/** The IR as a GraphDef, run in real TensorFlow 2.18 (TF Java): the reference for kernels and rewrites. */
public final class TfGraphs {
  private TfGraphs() {}

  public static GraphDef toGraphDef(Graph g) {
    GraphDef.Builder b = GraphDef.newBuilder();
    for (Node n : g.nodes()) {
      NodeDef.Builder nb = NodeDef.newBuilder().setName(n.name()).setOp(n.op()).addAllInput(n.inputs())
          .setDevice(n.device());
      n.attrs().forEach((k, v) -> nb.putAttr(k, attr(v)));
      b.addNode(nb);
    }
    return b.build();
  }

  static org.tensorflow.proto.AttrValue attr(AttrValue v) {
    var b = org.tensorflow.proto.AttrValue.newBuilder();
    switch (v) {
      case AttrValue.Str s -> b.setS(ByteString.copyFrom(s.value()));
      case AttrValue.Int i -> b.setI(i.value());
      case AttrValue.Float f -> b.setF(f.value());
      case AttrValue.Bool x -> b.setB(x.value());
      case AttrValue.Type t -> b.setTypeValue(t.value());
      case AttrValue.Shape s -> b.setShape(shape(s.value()));
      case AttrValue.TensorAttr t -> b.setTensor(tensor(t.value().value()));
      case AttrValue.ListAttr l -> {
        var lb = org.tensorflow.proto.AttrValue.ListValue.newBuilder();
        l.s().forEach(s -> lb.addS(ByteString.copyFrom(s)));
        lb.addAllI(l.i());
        lb.addAllF(l.f());
        lb.addAllB(l.b());
        l.type().forEach(lb::addTypeValue);
        l.shape().forEach(s -> lb.addShape(shape(s)));
        b.setList(lb);
      }
      default -> throw new IllegalArgumentException("attribute " + v + " not supported by the test writer");
    }
    return b.build();
  }

  static TensorShapeProto shape(TensorShape s) {
    var b = TensorShapeProto.newBuilder();
    if (s.unknownRank()) {
      return b.setUnknownRank(true).build();
    }
    for (long d : s.dims()) {
      b.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    return b.build();
  }

  static TensorProto tensor(Tensor t) {
    var b = TensorProto.newBuilder().setDtypeValue(t.dtype().tfEnum())
        .setTensorShape(shape(TensorShape.of(t.shape().dims())));
    byte[] bytes = new byte[t.byteLength()];
    t.bytes().get(bytes);
    return b.setTensorContent(ByteString.copyFrom(bytes)).build();
  }

  /** Runs the graph, feeding placeholders by name, and returns the fetched tensors in tfport form. */
  public static List<Tensor> run(Graph g, Map<String, Tensor> feeds, List<String> fetches) {
    GraphDef def = toGraphDef(g);
    List<org.tensorflow.Tensor> owned = new ArrayList<>();
    try (org.tensorflow.Graph tg = new org.tensorflow.Graph(); Session s = new Session(tg)) {
      tg.importGraphDef(def);
      Session.Runner r = s.runner();
      feeds.forEach((k, v) -> {
        org.tensorflow.Tensor t = toTf(v);
        owned.add(t);
        r.feed(k, t);
      });
      fetches.forEach(r::fetch);
      List<Tensor> out = new ArrayList<>();
      try (Result res = r.run()) {
        for (int i = 0; i < fetches.size(); i++) {
          out.add(fromTf(res.get(i)));
        }
      }
      return out;
    } finally {
      owned.forEach(org.tensorflow.Tensor::close);
    }
  }

  static org.tensorflow.Tensor toTf(Tensor t) {
    Class<? extends TType> type = switch (t.dtype()) {
      case FLOAT32 -> TFloat32.class;
      case FLOAT64 -> TFloat64.class;
      case INT32 -> TInt32.class;
      case INT64 -> TInt64.class;
      case BOOL -> TBool.class;
      default -> throw new IllegalArgumentException("cannot feed " + t.dtype());
    };
    byte[] bytes = new byte[t.byteLength()];
    t.bytes().get(bytes);
    return org.tensorflow.Tensor.of(type, org.tensorflow.ndarray.Shape.of(t.shape().dims()),
        DataBuffers.of(bytes, true, false));
  }

  static Tensor fromTf(org.tensorflow.Tensor t) {
    byte[] raw = new byte[(int) t.numBytes()];
    t.asRawTensor().data().read(raw);
    DataType dt = t.dataType();
    DType d = DType.fromTfName(dt.name());
    return new Tensor(d, Shape.of(t.shape().asArray()), ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN));
  }
}
