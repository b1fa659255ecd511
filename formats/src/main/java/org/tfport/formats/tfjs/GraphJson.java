package org.tfport.formats.tfjs;

import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.Tensor;
import org.tfport.core.graph.ArgDef;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.FuncRef;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.core.graph.TensorValue;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The graph as the protobuf-JSON that TF.js parses ({@code MessageToDict} of a GraphDef):
 * lowerCamelCase keys, default values left out, int64 as strings, bytes as base64, enums by name.
 * {@code Const} values are left out of their tensors; they live in the weight files.
 */
public final class GraphJson {
  private static final Base64.Encoder B64 = Base64.getEncoder();

  private GraphJson() {}

  public static ObjectNode graph(Graph g, List<Node> nodes) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    ArrayNode ns = o.putArray("node");
    for (Node n : nodes) {
      ns.add(node(n, true));
    }
    if (!g.functions().isEmpty()) {
      ArrayNode fs = o.putObject("library").putArray("function");
      for (GraphFunction f : g.functions().values()) {
        fs.add(function(f));
      }
    }
    ObjectNode versions = Json.MAPPER.createObjectNode();
    if (g.producer() != 0) {
      versions.put("producer", g.producer());
    }
    if (g.minConsumer() != 0) {
      versions.put("minConsumer", g.minConsumer());
    }
    o.set("versions", versions);
    return o;
  }

  static ObjectNode node(Node n, boolean stripConstValue) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("name", n.name());
    o.put("op", n.op());
    if (!n.inputs().isEmpty()) {
      ArrayNode in = o.putArray("input");
      n.inputs().forEach(in::add);
    }
    if (!n.device().isEmpty()) {
      o.put("device", n.device());
    }
    if (!n.attrs().isEmpty()) {
      ObjectNode attrs = o.putObject("attr");
      boolean isConst = stripConstValue && n.op().equals("Const");
      for (Map.Entry<String, AttrValue> e : n.attrs().entrySet()) {
        if (isConst
            && e.getKey().equals("value")
            && e.getValue() instanceof AttrValue.TensorAttr t) {
          attrs.putObject("value").set("tensor", tensor(t.value(), false));
        } else {
          attrs.set(e.getKey(), attr(e.getValue()));
        }
      }
    }
    return o;
  }

  static ObjectNode function(GraphFunction f) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    ObjectNode sig = o.putObject("signature");
    sig.put("name", f.name());
    if (!f.inputArgs().isEmpty()) {
      ArrayNode a = sig.putArray("inputArg");
      f.inputArgs().forEach(x -> a.add(arg(x)));
    }
    if (!f.outputArgs().isEmpty()) {
      ArrayNode a = sig.putArray("outputArg");
      f.outputArgs().forEach(x -> a.add(arg(x)));
    }
    if (f.stateful()) {
      sig.put("isStateful", true);
    }
    if (!f.attrs().isEmpty()) {
      ObjectNode attrs = o.putObject("attr");
      f.attrs().forEach((k, v) -> attrs.set(k, attr(v)));
    }
    if (!f.nodes().isEmpty()) {
      ArrayNode nodes = o.putArray("nodeDef");
      f.nodes().forEach(n -> nodes.add(node(n, true)));
    }
    if (!f.ret().isEmpty()) {
      ObjectNode ret = o.putObject("ret");
      f.ret().forEach(ret::put);
    }
    if (!f.controlRet().isEmpty()) {
      ObjectNode ret = o.putObject("controlRet");
      f.controlRet().forEach(ret::put);
    }
    return o;
  }

  private static ObjectNode arg(ArgDef a) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("name", a.name());
    if (a.type() != 0) {
      o.put("type", DataTypes.name(a.type()));
    }
    if (!a.typeAttr().isEmpty()) {
      o.put("typeAttr", a.typeAttr());
    }
    if (!a.numberAttr().isEmpty()) {
      o.put("numberAttr", a.numberAttr());
    }
    if (!a.typeListAttr().isEmpty()) {
      o.put("typeListAttr", a.typeListAttr());
    }
    return o;
  }

  static ObjectNode attr(AttrValue v) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    switch (v) {
      case AttrValue.Str s -> o.put("s", B64.encodeToString(s.value()));
      case AttrValue.Int i -> o.put("i", Long.toString(i.value()));
      case AttrValue.Float f -> putFloat(o, "f", f.value());
      case AttrValue.Bool b -> o.put("b", b.value());
      case AttrValue.Type t -> o.put("type", DataTypes.name(t.value()));
      case AttrValue.Shape s -> o.set("shape", shape(s.value()));
      case AttrValue.TensorAttr t -> o.set("tensor", tensor(t.value(), true));
      case AttrValue.Func f -> o.set("func", func(f.value()));
      case AttrValue.Placeholder p -> o.put("placeholder", p.name());
      case AttrValue.None none -> {}
      case AttrValue.ListAttr l -> {
        ObjectNode list = o.putObject("list");
        if (!l.s().isEmpty()) {
          ArrayNode a = list.putArray("s");
          l.s().forEach(x -> a.add(B64.encodeToString(x)));
        }
        if (!l.i().isEmpty()) {
          ArrayNode a = list.putArray("i");
          l.i().forEach(x -> a.add(Long.toString(x)));
        }
        if (!l.f().isEmpty()) {
          ArrayNode a = list.putArray("f");
          l.f().forEach(x -> addFloat(a, x));
        }
        if (!l.b().isEmpty()) {
          ArrayNode a = list.putArray("b");
          l.b().forEach(a::add);
        }
        if (!l.type().isEmpty()) {
          ArrayNode a = list.putArray("type");
          l.type().forEach(x -> a.add(DataTypes.name(x)));
        }
        if (!l.shape().isEmpty()) {
          ArrayNode a = list.putArray("shape");
          l.shape().forEach(x -> a.add(shape(x)));
        }
        if (!l.tensor().isEmpty()) {
          ArrayNode a = list.putArray("tensor");
          l.tensor().forEach(x -> a.add(tensor(x, true)));
        }
        if (!l.func().isEmpty()) {
          ArrayNode a = list.putArray("func");
          l.func().forEach(x -> a.add(func(x)));
        }
      }
    }
    return o;
  }

  private static ObjectNode func(FuncRef f) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("name", f.name());
    if (!f.attrs().isEmpty()) {
      ObjectNode attrs = o.putObject("attr");
      f.attrs().forEach((k, v) -> attrs.set(k, attr(v)));
    }
    return o;
  }

  public static ObjectNode shape(TensorShape s) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    if (s.unknownRank()) {
      o.put("unknownRank", true);
      return o;
    }
    if (s.rank() > 0) {
      ArrayNode dims = o.putArray("dim");
      for (long d : s.dims()) {
        dims.addObject().put("size", Long.toString(d));
      }
    }
    return o;
  }

  /**
   * A TensorProto; with {@code values} false only its type and shape, as upstream leaves Const
   * tensors.
   */
  static ObjectNode tensor(TensorValue t, boolean values) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("dtype", DataTypes.name(t.dtype()));
    o.set("tensorShape", shape(t.shape()));
    Tensor v = t.value();
    if (values && v != null) {
      if (v.dtype() == DType.STRING) {
        ArrayNode a = o.putArray("stringVal");
        v.toByteStrings().forEach(b -> a.add(B64.encodeToString(b)));
      } else if (v.byteLength() > 0) {
        byte[] b = new byte[v.byteLength()];
        v.bytes().get(b);
        o.put("tensorContent", B64.encodeToString(b));
      }
    }
    return o;
  }

  private static void putFloat(ObjectNode o, String key, float f) {
    if (Float.isFinite(f)) {
      o.put(key, (double) f);
    } else {
      o.put(key, Float.isNaN(f) ? "NaN" : f > 0 ? "Infinity" : "-Infinity");
    }
  }

  private static void addFloat(ArrayNode a, float f) {
    if (Float.isFinite(f)) {
      a.add((double) f);
    } else {
      a.add(Float.isNaN(f) ? "NaN" : f > 0 ? "Infinity" : "-Infinity");
    }
  }
}
