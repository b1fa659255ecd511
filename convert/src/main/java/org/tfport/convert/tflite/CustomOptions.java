package org.tfport.convert.tflite;

import com.google.flatbuffers.FlexBuffersBuilder;
import com.google.protobuf.ByteString;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.core.graph.TensorValue;
import org.tfport.formats.tflite.TfliteType;

/** The {@code custom_options} of Flex and custom operators (spec 4). */
final class CustomOptions {
  private CustomOptions() {}

  /**
   * A Flex op's options: a FlexBuffer root vector of two STRINGs, [TF op type, serialized NodeDef].
   * Written by hand because the runtime reads element 1 with AsString (type STRING, not BLOB), and
   * FlexBuffersBuilder.putString would re-encode the binary NodeDef as UTF-8. Layout: [u32
   * len][bytes][0][pad to 4] twice, u32 count = 2, two u32 relative offsets, type bytes 0x16 0x16
   * ((STRING 5 &lt;&lt; 2) | width 4), pad to 4, u32 offset back to the vector, root type 0x2A
   * ((VECTOR 10 &lt;&lt; 2) | 4), root width 4.
   */
  static byte[] flex(Node n) {
    byte[] op = n.op().getBytes(StandardCharsets.UTF_8);
    byte[] def = nodeDef(n).toByteArray();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int s0 = putString(out, op);
    int s1 = putString(out, def);
    int vec = out.size() + 4;
    putU32(out, 2);
    int f0 = out.size();
    putU32(out, f0 - s0);
    int f1 = out.size();
    putU32(out, f1 - s1);
    out.write(0x16);
    out.write(0x16);
    while (out.size() % 4 != 0) {
      out.write(0);
    }
    int root = out.size();
    putU32(out, root - vec);
    out.write(0x2A);
    out.write(4);
    return out.toByteArray();
  }

  /**
   * Writes a length-prefixed, NUL-terminated string padded to 4 bytes; returns the payload
   * position.
   */
  private static int putString(ByteArrayOutputStream out, byte[] b) {
    putU32(out, b.length);
    int pos = out.size();
    out.writeBytes(b);
    out.write(0);
    while (out.size() % 4 != 0) {
      out.write(0);
    }
    return pos;
  }

  private static void putU32(ByteArrayOutputStream out, int v) {
    out.write(v & 0xff);
    out.write((v >>> 8) & 0xff);
    out.write((v >>> 16) & 0xff);
    out.write((v >>> 24) & 0xff);
  }

  /** A custom op's options: a FlexBuffer map of its attributes, sorted by key (spec 4). */
  static byte[] attrMap(Node n) {
    FlexBuffersBuilder b =
        new FlexBuffersBuilder(ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN), 0);
    int start = b.startMap();
    Map<String, AttrValue> sorted = new TreeMap<>(n.attrs());
    for (Map.Entry<String, AttrValue> e : sorted.entrySet()) {
      String k = e.getKey();
      if (k.startsWith("_")) {
        continue;
      }
      switch (e.getValue()) {
        case AttrValue.Str s -> b.putString(k, s.string());
        case AttrValue.Int i -> b.putInt(k, i.value());
        case AttrValue.Float f -> b.putFloat(k, f.value());
        case AttrValue.Bool z -> b.putBoolean(k, z.value());
        case AttrValue.Type t -> {
          DType d = DataTypes.toDType(DataTypes.base(t.value()));
          b.putInt(k, d == null ? 0 : TfliteType.of(d).id());
        }
        case AttrValue.ListAttr l when !l.i().isEmpty() -> {
          int v = b.startVector();
          l.i().forEach(x -> b.putInt(x));
          b.endVector(k, v, true, false);
        }
        case AttrValue.ListAttr l when !l.f().isEmpty() -> {
          int v = b.startVector();
          l.f().forEach(x -> b.putFloat(x));
          b.endVector(k, v, true, false);
        }
        default -> {}
      }
    }
    b.endMap(null, start);
    ByteBuffer r = b.finish();
    byte[] out = new byte[r.remaining()];
    r.get(out);
    return out;
  }

  /**
   * The node as a {@code tensorflow.NodeDef} without its name and private ({@code _}) attributes.
   */
  static NodeDef nodeDef(Node n) {
    NodeDef.Builder d = NodeDef.newBuilder().setOp(n.op());
    for (Map.Entry<String, AttrValue> e : new TreeMap<>(n.attrs()).entrySet()) {
      if (e.getKey().startsWith("_")) {
        continue;
      }
      org.tensorflow.proto.AttrValue v = attr(e.getValue());
      if (v != null) {
        d.putAttr(e.getKey(), v);
      }
    }
    return d.build();
  }

  private static org.tensorflow.proto.AttrValue attr(AttrValue a) {
    org.tensorflow.proto.AttrValue.Builder b = org.tensorflow.proto.AttrValue.newBuilder();
    switch (a) {
      case AttrValue.Str s -> b.setS(ByteString.copyFrom(s.value()));
      case AttrValue.Int i -> b.setI(i.value());
      case AttrValue.Float f -> b.setF(f.value());
      case AttrValue.Bool z -> b.setB(z.value());
      case AttrValue.Type t -> b.setTypeValue(t.value());
      case AttrValue.Shape s -> b.setShape(shape(s.value()));
      case AttrValue.TensorAttr t -> b.setTensor(tensor(t.value()));
      case AttrValue.ListAttr l -> {
        var lb = org.tensorflow.proto.AttrValue.ListValue.newBuilder();
        l.s().forEach(x -> lb.addS(ByteString.copyFrom(x)));
        l.i().forEach(lb::addI);
        l.f().forEach(lb::addF);
        l.b().forEach(lb::addB);
        l.type().forEach(lb::addTypeValue);
        l.shape().forEach(x -> lb.addShape(shape(x)));
        l.tensor().forEach(x -> lb.addTensor(tensor(x)));
        b.setList(lb);
      }
      default -> {
        return null;
      }
    }
    return b.build();
  }

  private static TensorShapeProto shape(TensorShape s) {
    TensorShapeProto.Builder b = TensorShapeProto.newBuilder();
    if (s.unknownRank()) {
      return b.setUnknownRank(true).build();
    }
    for (long d : s.dims()) {
      b.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    return b.build();
  }

  private static TensorProto tensor(TensorValue t) {
    TensorProto.Builder b =
        TensorProto.newBuilder()
            .setDtype(DataType.forNumber(t.dtype()))
            .setTensorShape(shape(t.shape()));
    if (t.value() != null && t.value().dtype() != DType.STRING) {
      byte[] raw = new byte[t.value().byteLength()];
      t.value().bytes().get(raw);
      b.setTensorContent(ByteString.copyFrom(raw));
    }
    return b.build();
  }
}
