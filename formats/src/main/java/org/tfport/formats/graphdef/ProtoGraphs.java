package org.tfport.formats.graphdef;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.FunctionDefLibrary;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NameAttrList;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.OpList;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;
import org.tfport.core.DType;
import org.tfport.core.Limits;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.ArgDef;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.FuncRef;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.OpSignature;
import org.tfport.core.graph.TensorShape;
import org.tfport.core.graph.TensorValue;

/**
 * Turns TensorFlow's generated proto classes into the tfport graph IR. Not API: public only so the
 * SavedModel reader in a sibling package can use it; callers outside {@code org.tfport.formats}
 * never see a proto type.
 */
public final class ProtoGraphs {
  /**
   * One weight in a TF.js shard is at most this; larger constants are refused before allocation.
   */
  static final long MAX_TENSOR_BYTES = Integer.MAX_VALUE - 8;

  private ProtoGraphs() {}

  /**
   * The IR of a GraphDef (nodes, library, versions) plus the op signatures of {@code opList}, if
   * any.
   */
  public static Graph toGraph(GraphDef def, OpList opList, String source) {
    Graph g = new Graph(source);
    g.versions(def.getVersions().getProducer(), def.getVersions().getMinConsumer());
    if (opList != null) {
      for (OpDef op : opList.getOpList()) {
        g.ops().put(op.getName(), opSignature(op, source));
      }
    }
    for (NodeDef n : def.getNodeList()) {
      g.add(node(n, source));
    }
    FunctionDefLibrary lib = def.getLibrary();
    for (FunctionDef f : lib.getFunctionList()) {
      GraphFunction fn = function(f, source);
      g.functions().put(fn.name(), fn);
    }
    return g;
  }

  static Node node(NodeDef n, String source) {
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    for (Map.Entry<String, org.tensorflow.proto.AttrValue> e : n.getAttrMap().entrySet()) {
      attrs.put(e.getKey(), attr(e.getValue(), source, n.getName(), e.getKey()));
    }
    return new Node(n.getName(), n.getOp(), n.getInputList(), n.getDevice(), sorted(attrs));
  }

  /** Protobuf maps have no order; sorting keys makes output files reproducible. */
  private static Map<String, AttrValue> sorted(Map<String, AttrValue> attrs) {
    Map<String, AttrValue> out = new LinkedHashMap<>();
    attrs.keySet().stream().sorted().forEach(k -> out.put(k, attrs.get(k)));
    return out;
  }

  static GraphFunction function(FunctionDef f, String source) {
    OpDef sig = f.getSignature();
    List<Node> body = new ArrayList<>();
    for (NodeDef n : f.getNodeDefList()) {
      body.add(node(n, source));
    }
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    f.getAttrMap().forEach((k, v) -> attrs.put(k, attr(v, source, sig.getName(), k)));
    Map<Integer, Map<String, AttrValue>> argAttrs = new LinkedHashMap<>();
    f.getArgAttrMap()
        .forEach(
            (i, a) -> {
              Map<String, AttrValue> m = new LinkedHashMap<>();
              a.getAttrMap().forEach((k, v) -> m.put(k, attr(v, source, sig.getName(), k)));
              argAttrs.put(i, m);
            });
    return new GraphFunction(
        sig.getName(),
        args(sig.getInputArgList()),
        args(sig.getOutputArgList()),
        body,
        f.getRetMap(),
        f.getControlRetMap(),
        attrs,
        argAttrs,
        sig.getIsStateful());
  }

  static OpSignature opSignature(OpDef op, String source) {
    Map<String, AttrValue> defaults = new LinkedHashMap<>();
    for (OpDef.AttrDef a : op.getAttrList()) {
      if (a.hasDefaultValue()) {
        defaults.put(a.getName(), attr(a.getDefaultValue(), source, op.getName(), a.getName()));
      }
    }
    return new OpSignature(
        op.getName(), args(op.getInputArgList()), args(op.getOutputArgList()), defaults);
  }

  private static List<ArgDef> args(List<OpDef.ArgDef> defs) {
    List<ArgDef> out = new ArrayList<>();
    for (OpDef.ArgDef a : defs) {
      out.add(
          new ArgDef(
              a.getName(),
              a.getTypeValue(),
              a.getTypeAttr(),
              a.getNumberAttr(),
              a.getTypeListAttr()));
    }
    return out;
  }

  public static AttrValue attr(
      org.tensorflow.proto.AttrValue v, String source, String node, String key) {
    return switch (v.getValueCase()) {
      case S -> new AttrValue.Str(v.getS().toByteArray());
      case I -> new AttrValue.Int(v.getI());
      case F -> new AttrValue.Float(v.getF());
      case B -> new AttrValue.Bool(v.getB());
      case TYPE -> new AttrValue.Type(v.getTypeValue());
      case SHAPE -> new AttrValue.Shape(shape(v.getShape()));
      case TENSOR ->
          new AttrValue.TensorAttr(tensor(v.getTensor(), source, node + " attribute " + key));
      case FUNC -> new AttrValue.Func(func(v.getFunc(), source, node));
      case PLACEHOLDER -> new AttrValue.Placeholder(v.getPlaceholder());
      case LIST -> {
        org.tensorflow.proto.AttrValue.ListValue l = v.getList();
        List<TensorValue> tensors = new ArrayList<>();
        for (TensorProto t : l.getTensorList()) {
          tensors.add(tensor(t, source, node + " attribute " + key));
        }
        yield new AttrValue.ListAttr(
            l.getSList().stream().map(ByteString::toByteArray).toList(),
            l.getIList(),
            l.getFList(),
            l.getBList(),
            l.getTypeValueList(),
            l.getShapeList().stream().map(ProtoGraphs::shape).toList(),
            tensors,
            l.getFuncList().stream().map(f -> func(f, source, node)).toList());
      }
      case VALUE_NOT_SET -> new AttrValue.None();
    };
  }

  private static FuncRef func(NameAttrList f, String source, String node) {
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    f.getAttrMap().forEach((k, v) -> attrs.put(k, attr(v, source, node, k)));
    return new FuncRef(f.getName(), attrs);
  }

  public static TensorShape shape(TensorShapeProto s) {
    if (s.getUnknownRank()) {
      return TensorShape.UNKNOWN;
    }
    long[] dims = new long[s.getDimCount()];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = Math.max(-1, s.getDim(i).getSize());
    }
    return new TensorShape(false, dims);
  }

  /**
   * Strings in {@code tensor_content} (TensorFlow's {@code EncodeStringList}, used by the C API and
   * TF Java): every element's length as a varint32, then the bytes of all elements.
   */
  private static Tensor encodedStrings(byte[] c, long n, String source, String where, Shape s) {
    if (n > c.length) {
      throw new CorruptModelException(
          source
              + ": "
              + where
              + " claims "
              + n
              + " strings in "
              + c.length
              + " bytes; the graph is damaged");
    }
    long[] lens = new long[(int) n];
    int pos = 0;
    long total = 0;
    for (int i = 0; i < n; i++) {
      long v = 0;
      for (int shift = 0; ; shift += 7) {
        if (pos >= c.length || shift > 28) {
          throw new CorruptModelException(
              source + ": " + where + " has a bad string length; the graph is damaged");
        }
        int b = c[pos++] & 0xff;
        v |= (long) (b & 0x7f) << shift;
        if (b < 0x80) {
          break;
        }
      }
      lens[i] = v;
      total += v;
    }
    if (total != c.length - pos) {
      throw new CorruptModelException(
          source
              + ": "
              + where
              + " string lengths add up to "
              + total
              + " bytes but "
              + (c.length - pos)
              + " follow; the graph is damaged");
    }
    ByteBuffer b =
        ByteBuffer.allocate(Math.toIntExact(total + 4 * n)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      b.putInt((int) lens[i]).put(c, pos, (int) lens[i]);
      pos += (int) lens[i];
    }
    return new Tensor(DType.STRING, s, b.flip());
  }

  /**
   * Decodes a {@code TensorProto}: {@code tensor_content} (raw little-endian bytes) or the typed
   * value lists, where fewer values than elements means the last one repeats (TF's rule; a
   * zero-filled constant has none).
   *
   * @param where the node and attribute, for error messages
   */
  public static TensorValue tensor(TensorProto t, String source, String where) {
    TensorShape shape = shape(t.getTensorShape());
    int dtype = t.getDtypeValue();
    DType dt = DataTypes.toDType(dtype);
    if (dt == null) {
      return new TensorValue(dtype, shape, null);
    }
    if (shape.unknownRank()) {
      throw new CorruptModelException(
          source + ": " + where + " is a constant of unknown rank; the graph is damaged");
    }
    for (long d : shape.dims()) {
      if (d < 0) {
        throw new CorruptModelException(
            source
                + ": "
                + where
                + " is a constant with an unknown dimension "
                + shape
                + "; the graph is damaged");
      }
    }
    Shape s = shape.toShape();
    long n;
    try {
      n = s.size();
    } catch (ArithmeticException e) {
      throw new CorruptModelException(source + ": " + where + " has an impossible shape " + s);
    }
    long bytes = dt == DType.STRING ? 0 : n > MAX_TENSOR_BYTES ? Long.MAX_VALUE : n * dt.byteSize();
    if (bytes > MAX_TENSOR_BYTES) {
      throw new UnsupportedModelException(
          source
              + ": "
              + where
              + " is a "
              + dt.jsName()
              + s
              + " constant of "
              + bytes
              + " bytes; TF.js holds a weight in one buffer of at most 2 GiB, so split it");
    }
    if (!t.getTensorContent().isEmpty()) {
      ByteString c = t.getTensorContent();
      if (dt == DType.STRING) {
        return new TensorValue(dtype, shape, encodedStrings(c.toByteArray(), n, source, where, s));
      }
      if (c.size() != bytes) {
        throw new CorruptModelException(
            source
                + ": "
                + where
                + " holds "
                + c.size()
                + " bytes of data but "
                + dt.jsName()
                + s
                + " needs "
                + bytes
                + "; the graph is damaged");
      }
      return new TensorValue(
          dtype, shape, new Tensor(dt, s, c.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN)));
    }
    int count =
        switch (dt) {
          case FLOAT32 -> t.getFloatValCount();
          case FLOAT64 -> t.getDoubleValCount();
          case INT32, INT16, INT8, UINT8, UINT16 -> t.getIntValCount();
          case INT64 -> t.getInt64ValCount();
          case BOOL -> t.getBoolValCount();
          case FLOAT16, BFLOAT16 -> t.getHalfValCount();
          case STRING -> t.getStringValCount();
          case COMPLEX64 -> t.getScomplexValCount() / 2;
        };
    if (count > n) {
      throw new CorruptModelException(
          source
              + ": "
              + where
              + " lists "
              + count
              + " values for a "
              + dt.jsName()
              + s
              + " tensor of "
              + n
              + " elements; the graph is damaged");
    }
    if (dt == DType.STRING) {
      long total = 0;
      for (int i = 0; i < n; i++) {
        total += 4 + (count == 0 ? 0 : t.getStringVal(Math.min(i, count - 1)).size());
      }
      if (total > MAX_TENSOR_BYTES) {
        throw new UnsupportedModelException(
            source
                + ": "
                + where
                + " is a string constant of "
                + total
                + " bytes; TF.js holds a weight in one buffer of at most 2 GiB");
      }
      // A splat (one value for many elements) makes a tiny file claim a huge tensor.
      ByteBuffer b =
          ByteBuffer.allocate(Limits.allocation(total, 1, source + ": " + where))
              .order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < n; i++) {
        ByteString e = count == 0 ? ByteString.EMPTY : t.getStringVal(Math.min(i, count - 1));
        b.putInt(e.size());
        e.copyTo(b);
      }
      return new TensorValue(dtype, shape, new Tensor(dt, s, b.flip()));
    }
    ByteBuffer b =
        ByteBuffer.allocate(Limits.allocation(bytes, 1, source + ": " + where))
            .order(ByteOrder.LITTLE_ENDIAN);
    if (count > 0) {
      for (int i = 0; i < n; i++) {
        int k = Math.min(i, count - 1);
        switch (dt) {
          case FLOAT32 -> b.putFloat(t.getFloatVal(k));
          case FLOAT64 -> b.putDouble(t.getDoubleVal(k));
          case INT32 -> b.putInt(t.getIntVal(k));
          case INT16, UINT16 -> b.putShort((short) t.getIntVal(k));
          case INT8, UINT8 -> b.put((byte) t.getIntVal(k));
          case INT64 -> b.putLong(t.getInt64Val(k));
          case BOOL -> b.put((byte) (t.getBoolVal(k) ? 1 : 0));
          case FLOAT16, BFLOAT16 -> b.putShort((short) t.getHalfVal(k));
          case COMPLEX64 ->
              b.putFloat(t.getScomplexVal(2 * k)).putFloat(t.getScomplexVal(2 * k + 1));
          default -> throw new IllegalStateException(dt.toString());
        }
      }
    }
    return new TensorValue(dtype, shape, new Tensor(dt, s, b.rewind()));
  }
}
