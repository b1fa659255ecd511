package org.tfport.graph;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.Limits;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.core.graph.ArgDef;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.FuncRef;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.core.graph.TensorShape;
import org.tfport.core.graph.TensorValue;
import org.tfport.formats.tfjs.TfjsModel;
import org.tfport.formats.tfjs.TfjsReader;
import tools.jackson.databind.JsonNode;

/**
 * A TF.js graph model (tfjs-format.md §2.3) back into the graph IR: the protobuf-JSON {@code
 * GraphDef} of {@code modelTopology} becomes nodes and functions, every weight becomes the value of
 * its {@code Const}, and the converter's fused ops ({@code _FusedConv2D}, {@code _FusedMatMul},
 * {@code FusedDepthwiseConv2dNative}, {@code _FusedBatchMatMulV2}) are split back into the
 * TensorFlow ops they came from (the conv or matmul, then {@code BiasAdd}, then the activation) so
 * TensorFlow-facing passes see a plain frozen graph.
 */
public final class TfjsGraphReader {
  private TfjsGraphReader() {}

  /**
   * A graph read from a model.json.
   *
   * @param inputs signature input key to placeholder node, in signature order
   * @param outputKeys signature output keys, parallel to {@link Graph#outputs()}
   */
  public record TfjsGraph(
      Path source,
      Graph graph,
      Map<String, String> inputs,
      List<String> outputKeys,
      TfjsModel model,
      int unfused) {}

  /** Reads {@code modelJson} (a graph model) and its weights. */
  public static TfjsGraph read(Path modelJson) {
    if (Files.isDirectory(modelJson)) {
      modelJson = modelJson.resolve("model.json");
    }
    if (!Files.isRegularFile(modelJson)) {
      throw new UsageException(
          modelJson + ": no such file; a TF.js graph model is a model.json file");
    }
    TfjsModel m = TfjsReader.read(modelJson);
    if (m.modelJson() == null
        || !m.modelJson().isGraphModel()
        || m.modelJson().modelTopology() == null) {
      throw new UsageException(
          modelJson
              + ": not a TF.js graph model (format is '"
              + (m.modelJson() == null ? null : m.modelJson().format())
              + "'); use ModelFormat.TFJS_LAYERS_MODEL");
    }
    String src = modelJson.toString();
    JsonNode topo = m.modelJson().modelTopology();
    Graph g = new Graph(src);
    Map<String, Tensor> weights = m.weightsByName();
    try {
      for (JsonNode n : topo.path("node")) {
        g.add(node(n, src, weights));
      }
      for (JsonNode f : topo.path("library").path("function")) {
        GraphFunction fn = function(f, src, weights);
        g.functions().put(fn.name(), fn);
      }
    } catch (tools.jackson.databind.exc.JsonNodeException e) {
      // A field of the wrong JSON type (an object where a name should be, say; found by fuzzing).
      throw new CorruptModelException(
          src
              + ": the modelTopology holds a value of the wrong JSON type ("
              + e.getOriginalMessage()
              + "); the model.json is damaged",
          e);
    }
    JsonNode v = topo.path("versions");
    g.versions(v.path("producer").asInt(0), v.path("minConsumer").asInt(0));

    JsonNode sig = m.modelJson().signature();
    if ((sig == null || sig.isNull() || sig.isMissingNode())
        && m.modelJson().userDefinedMetadata() != null) {
      sig = m.modelJson().userDefinedMetadata().path("signature");
    }
    Map<String, String> inputs = new LinkedHashMap<>();
    List<String> outputKeys = new ArrayList<>();
    if (sig != null && !sig.isMissingNode() && !sig.isNull()) {
      for (Map.Entry<String, JsonNode> e : sig.path("inputs").properties()) {
        String node = TensorRef.nodeOf(e.getValue().path("name").asString(e.getKey()));
        if (g.has(node)) {
          inputs.put(e.getKey(), node);
        }
      }
      for (Map.Entry<String, JsonNode> e : sig.path("outputs").properties()) {
        TensorRef r = TensorRef.parse(e.getValue().path("name").asString(e.getKey()));
        if (!g.has(r.node())) {
          throw new CorruptModelException(
              src
                  + ": signature output '"
                  + e.getKey()
                  + "' is tensor '"
                  + r.tensorName()
                  + "', but the graph has no node '"
                  + r.node()
                  + "'");
        }
        outputKeys.add(e.getKey());
        g.outputs().add(r.toString());
      }
    }
    if (outputKeys.isEmpty()) {
      // As the JS runtime does: every node nothing reads is an output.
      Set<String> read = new HashSet<>();
      for (Node n : g.nodes()) {
        for (String i : n.inputs()) {
          read.add(TensorRef.nodeOf(i));
        }
      }
      for (Node n : g.nodes()) {
        if (!read.contains(n.name()) && !n.op().equals("Const") && !n.op().equals("NoOp")) {
          outputKeys.add(n.name() + ":0");
          g.outputs().add(n.name());
        }
      }
    }
    if (inputs.isEmpty()) {
      for (Node n : g.nodes()) {
        if (n.op().equals("Placeholder")) {
          inputs.put(n.name() + ":0", n.name());
        }
      }
    }
    g.inputs().addAll(inputs.values());
    int unfused = TfjsFusedOps.unfuse(g);
    g.validate();
    return new TfjsGraph(modelJson, g, inputs, outputKeys, m, unfused);
  }

  /**
   * The model's {@code modelInitializer}: the graph TF.js runs once when it loads the model, to
   * fill the hash tables the inference graph looks up (its constants are among the model's
   * weights). Null when the model has none.
   */
  public static Graph initializer(TfjsGraph tg) {
    JsonNode init = tg.model().modelJson().modelInitializer();
    if (init == null || init.isNull() || init.isMissingNode() || init.path("node").isEmpty()) {
      return null;
    }
    String src = tg.source().toString();
    Map<String, Tensor> weights = tg.model().weightsByName();
    Graph g = new Graph(src);
    for (JsonNode n : init.path("node")) {
      g.add(node(n, src, weights));
    }
    for (JsonNode f : init.path("library").path("function")) {
      GraphFunction fn = function(f, src, weights);
      g.functions().put(fn.name(), fn);
    }
    g.validate();
    return g;
  }

  // -------------------------------------------------------------------------------------------
  // protobuf-JSON

  private static Node node(JsonNode j, String src, Map<String, Tensor> weights) {
    String name = j.path("name").asString("");
    String op = j.path("op").asString("");
    if (name.isEmpty() || op.isEmpty()) {
      throw new CorruptModelException(src + ": a node without name or op: " + j);
    }
    List<String> inputs = new ArrayList<>();
    for (JsonNode i : j.path("input")) {
      inputs.add(i.asString());
    }
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : j.path("attr").properties()) {
      attrs.put(e.getKey(), attr(e.getValue(), src, name));
    }
    Node n = new Node(name, op, inputs, j.path("device").asString(""), attrs);
    if (op.equals("Const")) {
      Tensor w = weights.get(name);
      TensorValue tv = n.tensorAttr("value");
      if (w != null) {
        int dtype = n.typeAttr("dtype");
        Tensor value = retype(w, dtype);
        int code = value.dtype().tfEnum();
        n.attr("dtype", new AttrValue.Type(code));
        n.attr(
            "value",
            new AttrValue.TensorAttr(new TensorValue(code, TensorShape.of(value.shape()), value)));
      } else if (tv == null || tv.value() == null) {
        throw new CorruptModelException(
            src + ": Const node '" + name + "' has no weight in the weights manifest");
      }
    }
    return n;
  }

  /** TF.js stores int64 weights as int32; widens back when the node says int64. */
  private static Tensor retype(Tensor w, int dtype) {
    if (w.dtype() == DType.INT32 && DataTypes.base(dtype) == DType.INT64.tfEnum()) {
      ByteBuffer in = w.bytes().order(ByteOrder.LITTLE_ENDIAN);
      ByteBuffer out =
          ByteBuffer.allocate(Limits.allocation(w.size(), 8, "an int64 weight"))
              .order(ByteOrder.LITTLE_ENDIAN);
      for (long i = 0; i < w.size(); i++) {
        out.putLong(in.getInt());
      }
      out.flip();
      return new Tensor(DType.INT64, w.shape(), out);
    }
    return w;
  }

  private static GraphFunction function(JsonNode f, String src, Map<String, Tensor> weights) {
    JsonNode s = f.path("signature");
    String name = s.path("name").asString("");
    List<ArgDef> ins = args(s.path("inputArg"));
    List<ArgDef> outs = args(s.path("outputArg"));
    List<Node> nodes = new ArrayList<>();
    for (JsonNode n : f.path("nodeDef")) {
      nodes.add(node(n, src, weights));
    }
    Map<String, String> ret = new LinkedHashMap<>();
    f.path("ret").properties().forEach(e -> ret.put(e.getKey(), e.getValue().asString()));
    Map<String, String> controlRet = new LinkedHashMap<>();
    f.path("controlRet")
        .properties()
        .forEach(e -> controlRet.put(e.getKey(), e.getValue().asString()));
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    f.path("attr").properties().forEach(e -> attrs.put(e.getKey(), attr(e.getValue(), src, name)));
    Map<Integer, Map<String, AttrValue>> argAttrs = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : f.path("argAttr").properties()) {
      Map<String, AttrValue> a = new LinkedHashMap<>();
      e.getValue()
          .path("attr")
          .properties()
          .forEach(x -> a.put(x.getKey(), attr(x.getValue(), src, name)));
      argAttrs.put(argIndex(e.getKey(), src, name), a);
    }
    return new GraphFunction(
        name,
        ins,
        outs,
        nodes,
        ret,
        controlRet,
        attrs,
        argAttrs,
        s.path("isStateful").asBoolean(false));
  }

  private static int argIndex(String key, String src, String function) {
    try {
      return Integer.parseInt(key);
    } catch (NumberFormatException e) {
      throw new CorruptModelException(
          src
              + ": function '"
              + function
              + "' has argAttr '"
              + key
              + "', not an argument number; the model.json is damaged");
    }
  }

  private static List<ArgDef> args(JsonNode list) {
    List<ArgDef> out = new ArrayList<>();
    for (JsonNode a : list) {
      out.add(
          new ArgDef(
              a.path("name").asString(""),
              a.has("type") ? type(a.path("type")) : 0,
              a.path("typeAttr").asString(""),
              a.path("numberAttr").asString(""),
              a.path("typeListAttr").asString("")));
    }
    return out;
  }

  static AttrValue attr(JsonNode v, String src, String node) {
    try {
      return attrValue(v, src, node);
    } catch (IllegalArgumentException e) {
      // A number or shape size that does not parse ("size": ")1"), or bad base64.
      throw new CorruptModelException(
          src
              + ": node '"
              + node
              + "' has a malformed attribute value ("
              + e.getMessage()
              + "); the model.json is damaged");
    }
  }

  private static AttrValue attrValue(JsonNode v, String src, String node) {
    if (v.has("s")) {
      return new AttrValue.Str(Base64.getDecoder().decode(v.path("s").asString()));
    } else if (v.has("i")) {
      return new AttrValue.Int(integer(v.path("i")));
    } else if (v.has("f")) {
      return new AttrValue.Float(floatOf(v.path("f")));
    } else if (v.has("b")) {
      return new AttrValue.Bool(v.path("b").asBoolean());
    } else if (v.has("type")) {
      return new AttrValue.Type(type(v.path("type")));
    } else if (v.has("shape")) {
      return new AttrValue.Shape(shape(v.path("shape")));
    } else if (v.has("tensor")) {
      return new AttrValue.TensorAttr(tensor(v.path("tensor"), src, node));
    } else if (v.has("func")) {
      return new AttrValue.Func(func(v.path("func"), src, node));
    } else if (v.has("placeholder")) {
      return new AttrValue.Placeholder(v.path("placeholder").asString());
    } else if (v.has("list")) {
      JsonNode l = v.path("list");
      List<byte[]> s = new ArrayList<>();
      l.path("s").forEach(x -> s.add(Base64.getDecoder().decode(x.asString())));
      List<Long> i = new ArrayList<>();
      l.path("i").forEach(x -> i.add(integer(x)));
      List<Float> f = new ArrayList<>();
      l.path("f").forEach(x -> f.add(floatOf(x)));
      List<Boolean> b = new ArrayList<>();
      l.path("b").forEach(x -> b.add(x.asBoolean()));
      List<Integer> t = new ArrayList<>();
      l.path("type").forEach(x -> t.add(type(x)));
      List<TensorShape> sh = new ArrayList<>();
      l.path("shape").forEach(x -> sh.add(shape(x)));
      List<TensorValue> te = new ArrayList<>();
      l.path("tensor").forEach(x -> te.add(tensor(x, src, node)));
      List<FuncRef> fn = new ArrayList<>();
      l.path("func").forEach(x -> fn.add(func(x, src, node)));
      return new AttrValue.ListAttr(s, i, f, b, t, sh, te, fn);
    }
    return new AttrValue.None();
  }

  private static long integer(JsonNode v) {
    return v.isNumber() ? v.asLong() : Long.parseLong(v.asString().strip());
  }

  private static float floatOf(JsonNode v) {
    if (v.isNumber()) {
      return (float) v.asDouble();
    }
    return switch (v.asString()) {
      case "NaN" -> Float.NaN;
      case "Infinity" -> Float.POSITIVE_INFINITY;
      case "-Infinity" -> Float.NEGATIVE_INFINITY;
      default -> Float.parseFloat(v.asString());
    };
  }

  private static int type(JsonNode v) {
    if (v.isNumber()) {
      return v.asInt();
    }
    int code = DataTypes.code(v.asString());
    return code < 0 ? 0 : code;
  }

  static TensorShape shape(JsonNode s) {
    if (s.path("unknownRank").asBoolean(false)) {
      return TensorShape.UNKNOWN;
    }
    List<Long> dims = new ArrayList<>();
    s.path("dim").forEach(d -> dims.add(d.has("size") ? integer(d.path("size")) : 0L));
    return TensorShape.of(dims.stream().mapToLong(Long::longValue).toArray());
  }

  private static FuncRef func(JsonNode f, String src, String node) {
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    f.path("attr").properties().forEach(e -> attrs.put(e.getKey(), attr(e.getValue(), src, node)));
    return new FuncRef(f.path("name").asString(""), attrs);
  }

  /** A TensorProto; values, when a writer kept any, are read for the common scalar forms only. */
  private static TensorValue tensor(JsonNode t, String src, String node) {
    try {
      return tensorValue(t, src, node);
    } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
      // Bad base64, or a tensorContent whose length does not fit its shape and dtype.
      throw new CorruptModelException(
          src
              + ": node '"
              + node
              + "' holds a malformed tensor value ("
              + e.getMessage()
              + "); the model.json is damaged");
    }
  }

  private static TensorValue tensorValue(JsonNode t, String src, String node) {
    int dtype = type(t.path("dtype"));
    TensorShape shape = shape(t.path("tensorShape"));
    Tensor value = null;
    if (!shape.unknownRank() && t.has("tensorContent")) {
      byte[] raw = Base64.getDecoder().decode(t.path("tensorContent").asString());
      DType d = DataTypes.toDType(dtype);
      if (d != null && d != DType.STRING) {
        value = new Tensor(d, shape.toShape(), ByteBuffer.wrap(raw));
      }
    } else if (!shape.unknownRank() && t.has("floatVal")) {
      value = fill(shape.toShape(), t.path("floatVal"), false, src + ": node '" + node + "'");
    } else if (!shape.unknownRank() && t.has("intVal")) {
      value = fill(shape.toShape(), t.path("intVal"), true, src + ": node '" + node + "'");
    } else if (!shape.unknownRank() && t.has("stringVal")) {
      List<String> vals = new ArrayList<>();
      t.path("stringVal")
          .forEach(
              x ->
                  vals.add(
                      new String(
                          Base64.getDecoder().decode(x.asString()), StandardCharsets.UTF_8)));
      long n = shape.toShape().size();
      Limits.allocation(n, 4, src + ": node '" + node + "'");
      while (vals.size() < n && !vals.isEmpty()) {
        vals.add(vals.get(vals.size() - 1));
      }
      value = Tensor.ofStrings(shape.toShape(), vals);
    }
    return new TensorValue(dtype, shape, value);
  }

  private static Tensor fill(Shape s, JsonNode vals, boolean ints, String where) {
    // One value may fill any shape, so the shape alone decides the size.
    int n = Limits.allocation(s.size(), 4, where) / 4;
    List<JsonNode> v = new ArrayList<>();
    vals.forEach(v::add);
    if (v.isEmpty()) {
      return null;
    }
    if (ints) {
      int[] a = new int[n];
      for (int i = 0; i < n; i++) {
        a[i] = (int) integer(v.get(Math.min(i, v.size() - 1)));
      }
      return Tensor.ofInts(s, a);
    }
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = floatOf(v.get(Math.min(i, v.size() - 1)));
    }
    return Tensor.ofFloats(s, a);
  }
}
