package org.tfport.formats.graphdef;

import com.google.protobuf.ByteString;
import java.util.List;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.FunctionDefLibrary;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NameAttrList;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.proto.VersionDef;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.graph.ArgDef;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.FuncRef;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.core.graph.TensorValue;

/**
 * The IR as a serialized {@code GraphDef}: nodes, the function library and versions, the inverse of
 * {@link ProtoGraphs#toGraph}. Tensors are written as {@code tensor_content} (strings as {@code
 * string_val}).
 */
public final class GraphDefWriter {
  private GraphDefWriter() {}

  /** The serialized {@code GraphDef} of {@code g}. */
  public static byte[] write(Graph g) {
    return toProto(g).toByteArray();
  }

  static GraphDef toProto(Graph g) {
    GraphDef.Builder b = GraphDef.newBuilder();
    for (Node n : g.nodes()) {
      b.addNode(node(n));
    }
    if (!g.functions().isEmpty()) {
      FunctionDefLibrary.Builder lib = FunctionDefLibrary.newBuilder();
      for (GraphFunction f : g.functions().values()) {
        lib.addFunction(function(f));
      }
      b.setLibrary(lib);
    }
    if (g.producer() != 0 || g.minConsumer() != 0) {
      b.setVersions(
          VersionDef.newBuilder().setProducer(g.producer()).setMinConsumer(g.minConsumer()));
    }
    return b.build();
  }

  static NodeDef node(Node n) {
    NodeDef.Builder nb =
        NodeDef.newBuilder()
            .setName(n.name())
            .setOp(n.op())
            .addAllInput(n.inputs())
            .setDevice(n.device());
    n.attrs().forEach((k, v) -> nb.putAttr(k, attr(v)));
    return nb.build();
  }

  static FunctionDef function(GraphFunction f) {
    OpDef.Builder sig = OpDef.newBuilder().setName(f.name()).setIsStateful(f.stateful());
    f.inputArgs().forEach(a -> sig.addInputArg(arg(a)));
    f.outputArgs().forEach(a -> sig.addOutputArg(arg(a)));
    FunctionDef.Builder fb = FunctionDef.newBuilder().setSignature(sig);
    f.nodes().forEach(n -> fb.addNodeDef(node(n)));
    fb.putAllRet(f.ret());
    fb.putAllControlRet(f.controlRet());
    f.attrs().forEach((k, v) -> fb.putAttr(k, attr(v)));
    f.argAttrs()
        .forEach(
            (i, m) -> {
              FunctionDef.ArgAttrs.Builder ab = FunctionDef.ArgAttrs.newBuilder();
              m.forEach((k, v) -> ab.putAttr(k, attr(v)));
              fb.putArgAttr(i, ab.build());
            });
    return fb.build();
  }

  private static OpDef.ArgDef arg(ArgDef a) {
    return OpDef.ArgDef.newBuilder()
        .setName(a.name())
        .setTypeValue(a.type())
        .setTypeAttr(a.typeAttr())
        .setNumberAttr(a.numberAttr())
        .setTypeListAttr(a.typeListAttr())
        .build();
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
      case AttrValue.TensorAttr t -> b.setTensor(tensor(t.value()));
      case AttrValue.Func f -> b.setFunc(func(f.value()));
      case AttrValue.Placeholder p -> b.setPlaceholder(p.name());
      case AttrValue.None n -> {}
      case AttrValue.ListAttr l -> {
        var lb = org.tensorflow.proto.AttrValue.ListValue.newBuilder();
        l.s().forEach(s -> lb.addS(ByteString.copyFrom(s)));
        lb.addAllI(l.i());
        lb.addAllF(l.f());
        lb.addAllB(l.b());
        l.type().forEach(lb::addTypeValue);
        l.shape().forEach(s -> lb.addShape(shape(s)));
        l.tensor().forEach(t -> lb.addTensor(tensor(t)));
        l.func().forEach(f -> lb.addFunc(func(f)));
        b.setList(lb);
      }
    }
    return b.build();
  }

  private static NameAttrList func(FuncRef f) {
    NameAttrList.Builder b = NameAttrList.newBuilder().setName(f.name());
    f.attrs().forEach((k, v) -> b.putAttr(k, attr(v)));
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

  static TensorProto tensor(TensorValue tv) {
    var b = TensorProto.newBuilder().setDtypeValue(tv.dtype()).setTensorShape(shape(tv.shape()));
    Tensor t = tv.value();
    if (t == null) {
      return b.build();
    }
    if (t.dtype() == DType.STRING) {
      List<byte[]> strings = t.toByteStrings();
      strings.forEach(s -> b.addStringVal(ByteString.copyFrom(s)));
      return b.build();
    }
    byte[] bytes = new byte[t.byteLength()];
    t.bytes().get(bytes);
    return b.setTensorContent(ByteString.copyFrom(bytes)).build();
  }
}
