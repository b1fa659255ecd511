package org.tfport.graph.keras;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import tools.jackson.databind.JsonNode;

/**
 * Walks a Sequential or functional Keras config (nested models, shared layers, several inputs and
 * outputs) and has each layer's builder emit its ops, in the order Keras' own {@code call} runs
 * them.
 */
final class KerasGraphBuilder {
  static final Set<String> MODEL_CLASSES = Set.of("Sequential", "Model", "Functional");
  static final Map<String, LayerBuilder> LAYERS = registry();
  private static final Set<String> MASK_USERS =
      Set.of(
          "GlobalAveragePooling1D",
          "GlobalAvgPool1D",
          "Attention",
          "AdditiveAttention",
          "MultiHeadAttention");

  /**
   * Layers whose call arguments beyond the input tensors change what they compute (a second tensor
   * passed by keyword, use_causal_mask=, return_attention_scores=, a tf.* function's axis=).
   */
  private static final Set<String> CALL_ARG_READERS =
      Set.of(
          "TFOpLambda", "SlicingOpLambda", "Attention", "AdditiveAttention", "MultiHeadAttention");

  /** Recurrent layers that start from the initial states a call passes. */
  private static final Set<String> STATEFUL_CALLS =
      Set.of("LSTM", "GRU", "SimpleRNN", "CuDNNLSTM", "CuDNNGRU");

  private final String source;
  private final Graph g;
  private final Call.Context ctx;
  private final List<String> inputNames = new ArrayList<>();

  /** Keras masks by the tensor they belong to (see {@link Masks}). */
  private final Map<String, String> masks = new HashMap<>();

  /** The batch size the inputs are built for, whatever they declare; 0: as declared. */
  private final long batch;

  private KerasGraphBuilder(
      String source, WeightLookup weights, int kerasMajor, TrainingState training, long batch) {
    this.source = source;
    this.batch = batch;
    this.g = new Graph(source);
    this.ctx = new Call.Context(source, weights, new HashMap<>(), kerasMajor, training);
  }

  private static Map<String, LayerBuilder> registry() {
    Map<String, LayerBuilder> r = new HashMap<>();
    Activations.register(r);
    CoreLayers.register(r);
    ConvLayers.register(r);
    PoolLayers.register(r);
    NormLayers.register(r);
    MergeLayers.register(r);
    ShapeLayers.register(r);
    RecurrentLayers.register(r);
    ConvRecurrentLayers.register(r);
    LocalLayers.register(r);
    TfOpLayers.register(r);
    TfOpLambdas.register(r);
    SlicingOpLambdas.register(r);
    AttentionLayers.register(r);
    return Map.copyOf(r);
  }

  static KerasGraph build(String source, JsonNode model, WeightLookup weights, int kerasMajor) {
    return build(source, model, weights, kerasMajor, null, 0);
  }

  /**
   * As above; with {@code training}, weights are variables and layers run in training mode; with
   * {@code batch} above 0, the inputs take that batch size whatever they declare.
   */
  static KerasGraph build(
      String source,
      JsonNode model,
      WeightLookup weights,
      int kerasMajor,
      TrainingState training,
      long batch) {
    if (model == null || !model.path("class_name").isString()) {
      throw new CorruptModelException(
          source
              + ": the model config is not a Keras model config ({\"class_name\": ..., \"config\": ...})");
    }
    String cls = model.path("class_name").stringValue();
    if (!MODEL_CLASSES.contains(cls)) {
      throw new UnsupportedModelException(
          source
              + ": model class '"
              + cls
              + "' is not a Sequential or functional model, so its"
              + " layer graph is Python code, not config; rebuild it with keras.Sequential or keras.Model(inputs, outputs)");
    }
    checkBuildable(source, model);
    KerasGraphBuilder b = new KerasGraphBuilder(source, weights, kerasMajor, training, batch);
    List<KT> outs = b.model(model, null);
    List<String> outNames = b.outputNames(model, outs.size());
    for (int i = 0; i < outs.size(); i++) {
      String name = b.g.uniqueName(outNames.get(i));
      outNames.set(i, name);
      Map<String, AttrValue> a = new LinkedHashMap<>();
      a.put("T", new AttrValue.Type(outs.get(i).dtype()));
      b.g.add(new Node(name, "Identity", List.of(outs.get(i).ref()), "", a));
      b.g.outputs().add(name + ":0");
    }
    b.g.validate();
    return new KerasGraph(b.g, List.copyOf(b.inputNames), List.copyOf(outNames));
  }

  /** Refuses, in one message, every layer that cannot be built. */
  static void checkBuildable(String source, JsonNode model) {
    Map<String, List<String>> bad = new LinkedHashMap<>();
    List<String> maskers = new ArrayList<>();
    List<String> maskUsers = new ArrayList<>();
    walk(
        model,
        "",
        (layer, path) -> {
          String cls = layer.path("class_name").asString("");
          JsonNode cfg = layer.path("config");
          if (cls.equals("Masking")
              || (cls.equals("Embedding") && cfg.path("mask_zero").asBoolean(false))) {
            maskers.add(cls + "|" + path);
          }
          if (MASK_USERS.contains(cls)) {
            maskUsers.add(path);
          }
          if (!CALL_ARG_READERS.contains(cls)) {
            for (String key : InboundNodes.keywordTensors(layer)) {
              boolean read =
                  (key.equals("mask") && Masks.RECURRENT.contains(cls))
                      || (key.equals("initial_state") && STATEFUL_CALLS.contains(cls));
              if (!read) {
                bad.computeIfAbsent(
                        cls + " called with a tensor as " + key + "= (not built)",
                        k -> new ArrayList<>())
                    .add(path);
              }
            }
          }
          if (MODEL_CLASSES.contains(cls)) {
            return;
          }
          String why;
          if (cls.equals("Lambda")) {
            why = "Lambda (its Python code cannot be read)";
          } else if (cls.equals("InputLayer")) {
            why = null;
          } else if (!LAYERS.containsKey(cls)) {
            why = cls;
          } else {
            String p = LAYERS.get(cls).problem(cfg);
            if (p == null && cfg.has("activation")) {
              p = Activations.functionProblem(cfg.get("activation"));
            }
            why = p == null ? null : cls + " with " + p;
          }
          if (why != null) {
            bad.computeIfAbsent(why, k -> new ArrayList<>()).add(path);
          }
        });
    if (!maskers.isEmpty() && !maskUsers.isEmpty()) {
      // Masked steps change what these layers compute; the graph is built without masks.
      String users = String.join(", ", maskUsers.stream().map(u -> "'" + u + "'").toList());
      for (String m : maskers) {
        String cls = m.substring(0, m.indexOf('|'));
        bad.computeIfAbsent(
                cls + " with a mask read by " + users + " (masks are not built)",
                k -> new ArrayList<>())
            .add(m.substring(m.indexOf('|') + 1));
      }
    }
    if (bad.isEmpty()) {
      return;
    }
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, List<String>> e : bad.entrySet()) {
      if (!sb.isEmpty()) {
        sb.append("; ");
      }
      sb.append(e.getKey())
          .append(" (layer ")
          .append(String.join(", ", e.getValue().stream().map(p -> "'" + p + "'").toList()))
          .append(')');
    }
    throw new UnsupportedModelException(
        source
            + ": cannot build the TensorFlow graph of layer class"
            + (bad.size() > 1 ? "es " : " ")
            + sb
            + "; replace "
            + (bad.size() > 1 ? "them" : "it")
            + " with built-in layers");
  }

  interface Visitor {
    void visit(JsonNode layer, String path);
  }

  /** Every layer of a model config, nested models and wrapped layers included, parents first. */
  static void walk(JsonNode layer, String path, Visitor v) {
    if (layer == null || !layer.isObject() || !layer.has("class_name")) {
      return;
    }
    JsonNode cfg = layer.path("config");
    String name =
        cfg.path("name").isString()
            ? cfg.path("name").stringValue()
            : layer.path("class_name").asString("");
    String here = path.isEmpty() ? name : path + "/" + name;
    v.visit(layer, here);
    JsonNode layers = cfg.isArray() ? cfg : cfg.get("layers");
    if (layers != null && layers.isArray()) {
      for (JsonNode l : layers) {
        walk(l, here, v);
      }
    }
    for (String key : new String[] {"layer", "backward_layer", "cell"}) {
      walk(cfg.get(key), here, v);
    }
  }

  static String shapeText(long[] shape) {
    StringBuilder sb = new StringBuilder("(");
    for (int i = 0; i < shape.length; i++) {
      sb.append(i > 0 ? ", " : "").append(shape[i] < 0 ? "None" : Long.toString(shape[i]));
    }
    return sb.append(shape.length == 1 ? ",)" : ")").toString();
  }

  // ------------------------------------------------------------------ models

  private static JsonNode layersOf(JsonNode model) {
    JsonNode cfg = model.path("config");
    return cfg.isArray() ? cfg : cfg.path("layers");
  }

  /**
   * The name inbound nodes refer to: the functional entry's own (a TensorFlowOpLayer's config name
   * is its op's, {@code tf_op_layer_} less), else the config's.
   */
  private static String nameOf(JsonNode layer) {
    if (layer.path("name").isString()) {
      return layer.path("name").stringValue();
    }
    JsonNode n = layer.path("config").path("name");
    return n.isString() ? n.stringValue() : "";
  }

  /** The outputs of a model called on {@code inputs}, or on new placeholders when null. */
  private List<KT> model(JsonNode model, List<KT> inputs) {
    return model.path("class_name").asString("").equals("Sequential")
        ? sequential(model, inputs)
        : functional(model, inputs);
  }

  private List<KT> sequential(JsonNode model, List<KT> inputs) {
    JsonNode layers = layersOf(model);
    if (!layers.isArray() || layers.isEmpty()) {
      throw new CorruptModelException(
          source + ": Sequential model '" + nameOf(model) + "' has no layers");
    }
    KT x;
    if (inputs == null) {
      JsonNode first = layers.get(0);
      String inName =
          first.path("class_name").asString("").equals("InputLayer")
              ? nameOf(first)
              : nameOf(first) + "_input";
      x = placeholder(inName, first);
    } else {
      if (inputs.size() != 1) {
        throw new CorruptModelException(
            source
                + ": Sequential model '"
                + nameOf(model)
                + "' is called on "
                + inputs.size()
                + " inputs");
      }
      x = inputs.get(0);
    }
    for (JsonNode layer : layers) {
      if (layer.path("class_name").asString("").equals("InputLayer")) {
        continue;
      }
      List<KT> out = layer(layer, List.of(x));
      if (out.size() != 1) {
        throw new CorruptModelException(
            source
                + ": layer '"
                + nameOf(layer)
                + "' in a Sequential model has "
                + out.size()
                + " outputs");
      }
      x = out.get(0);
    }
    return List.of(x);
  }

  private List<KT> functional(JsonNode model, List<KT> inputs) {
    String modelName = nameOf(model);
    JsonNode layers = layersOf(model);
    Map<String, JsonNode> byName = new LinkedHashMap<>();
    for (JsonNode l : layers) {
      byName.put(nameOf(l), l);
    }
    Map<String, List<List<KT>>> made = new HashMap<>();
    List<JsonNode> ins = InboundNodes.refs(model.path("config").get("input_layers"));
    if (inputs != null && inputs.size() != ins.size()) {
      throw new CorruptModelException(
          source
              + ": model '"
              + modelName
              + "' has "
              + ins.size()
              + " inputs but is called on "
              + inputs.size());
    }
    for (int i = 0; i < ins.size(); i++) {
      String name = ins.get(i).get(0).asString();
      JsonNode l = byName.get(name);
      if (l == null) {
        throw new CorruptModelException(
            source
                + ": model '"
                + modelName
                + "' names input layer '"
                + name
                + "', which it does not have");
      }
      KT x = inputs == null ? placeholder(name, l) : inputs.get(i);
      made.put(name, new ArrayList<>(List.of(List.of(x))));
    }
    boolean progress = true;
    while (progress) {
      progress = false;
      for (JsonNode l : layers) {
        String name = nameOf(l);
        if (l.path("class_name").asString("").equals("InputLayer")) {
          continue;
        }
        JsonNode nodes = l.path("inbound_nodes");
        int first = constructionNodes(l);
        List<List<KT>> done =
            made.computeIfAbsent(
                name, k -> new ArrayList<>(java.util.Collections.nCopies(first, (List<KT>) null)));
        boolean opCall = CALL_ARG_READERS.contains(l.path("class_name").asString(""));
        while (done.size() - first < nodes.size()) {
          JsonNode node = nodes.get(done.size() - first);
          OpArgs op = opCall ? InboundNodes.resolveOp(source, made, byName, name, node) : null;
          List<KT> args =
              opCall ? (op == null ? null : op.tensors()) : InboundNodes.resolve(made, node);
          if (args == null) {
            break;
          }
          // mask= of a recurrent layer (checkBuildable refused it elsewhere) replaces the mask
          // its input carries, as Keras does.
          JsonNode maskRef = opCall ? null : InboundNodes.keywordTensor(node, "mask");
          KT mask = null;
          if (maskRef != null) {
            List<KT> m = InboundNodes.lookup(made, maskRef);
            if (m == null) {
              break;
            }
            mask = m.get(0);
          }
          // initial_state= (Keras 3 keeps it a keyword) follows the sequence, as Keras 2 saved it.
          JsonNode states = opCall ? null : InboundNodes.keywordArg(node, "initial_state");
          if (states != null && STATEFUL_CALLS.contains(l.path("class_name").asString(""))) {
            List<KT> withStates = new ArrayList<>(args);
            for (JsonNode ref :
                InboundNodes.isTensorRef(states) ? List.of(states) : InboundNodes.refs(states)) {
              List<KT> t = InboundNodes.isTensorRef(ref) ? InboundNodes.lookup(made, ref) : null;
              if (t == null) {
                withStates = null;
                break;
              }
              withStates.add(t.get(0));
            }
            if (withStates == null) {
              break;
            }
            args = withStates;
          }
          done.add(layer(l, args, op, mask));
          progress = true;
        }
      }
    }
    List<KT> outs = new ArrayList<>();
    for (JsonNode o : InboundNodes.refs(model.path("config").get("output_layers"))) {
      List<KT> t = InboundNodes.lookup(made, o);
      if (t == null) {
        throw new CorruptModelException(
            source
                + ": model '"
                + modelName
                + "' output '"
                + o.get(0).asString()
                + "' cannot be computed from its inputs (a layer's inbound nodes name a layer or call that does not exist)");
      }
      outs.add(t.get(0));
    }
    return outs;
  }

  /**
   * How many calls of a layer precede those its config lists: a nested functional model (and a
   * Keras 1/2 Sequential one with an input) has its own node linking its inputs to its outputs,
   * which Keras counts as node 0, so the config's first call is node 1.
   */
  private int constructionNodes(JsonNode layer) {
    String cls = layer.path("class_name").asString("");
    if (cls.equals("Model") || cls.equals("Functional")) {
      return 1;
    }
    if (cls.equals("Sequential") && ctx.kerasMajor() < 3) {
      JsonNode layers = layersOf(layer);
      if (layers.isArray() && !layers.isEmpty()) {
        JsonNode first = layers.get(0);
        return first.path("class_name").asString("").equals("InputLayer")
                || first.path("config").has("batch_input_shape")
            ? 1
            : 0;
      }
    }
    return 0;
  }

  private List<KT> layer(JsonNode layer, List<KT> inputs) {
    return layer(layer, inputs, null, null);
  }

  private List<KT> layer(JsonNode layer, List<KT> inputs, OpArgs opArgs, KT explicitMask) {
    String cls = layer.path("class_name").asString("");
    if (MODEL_CLASSES.contains(cls)) {
      return model(layer, inputs);
    }
    String name = nameOf(layer);
    LayerBuilder b = ctx.training() != null ? ctx.training().builder(cls) : null;
    b = b != null ? b : LAYERS.get(cls);
    if (b == null) {
      throw new UnsupportedModelException(
          source + ": cannot build layer '" + name + "' of class " + cls);
    }
    Call c = new Call(ctx, name, cls, layer.path("config"), new Emit(g, name));
    List<String> inMasks = new ArrayList<>();
    for (KT x : inputs) {
      inMasks.add(masks.get(x.ref()));
    }
    if (explicitMask != null && !inMasks.isEmpty()) {
      inMasks.set(0, Masks.explicit(c, explicitMask));
    }
    c.inputMasks = java.util.Collections.unmodifiableList(inMasks);
    c.opArgs = opArgs;
    List<KT> out = b.call(c, inputs);
    List<String> outMasks = Masks.of(c, inputs, out);
    for (int i = 0; i < out.size(); i++) {
      if (outMasks.get(i) != null) {
        masks.put(out.get(i).ref(), outMasks.get(i));
      }
    }
    return out;
  }

  private KT placeholder(String name, JsonNode layer) {
    JsonNode cfg = layer.path("config");
    JsonNode shape =
        cfg.has("batch_input_shape") ? cfg.get("batch_input_shape") : cfg.get("batch_shape");
    if (shape == null || !shape.isArray()) {
      throw new UnsupportedModelException(
          source
              + ": layer '"
              + nameOf(layer)
              + "' declares no input shape, so the model was never built;"
              + " give its first layer an input_shape (or an Input) and save it again");
    }
    long[] dims = new long[shape.size()];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = shape.get(i).isNumber() ? shape.get(i).asLong() : -1;
    }
    if (batch > 0 && dims.length > 0) {
      dims[0] = batch;
    }
    int dtype = dtype(cfg.path("dtype"));
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("dtype", new AttrValue.Type(dtype));
    a.put("shape", new AttrValue.Shape(TensorShape.of(dims)));
    String node = g.uniqueName(name);
    g.add(new Node(node, "Placeholder", List.of(), "", a));
    g.inputs().add(node);
    inputNames.add(node);
    return new KT(node, dims, dtype);
  }

  private int dtype(JsonNode d) {
    String name =
        d.isObject() ? d.path("config").path("name").asString("float32") : d.asString("float32");
    for (DType t : DType.values()) {
      if (t.jsName().equals(name)) {
        return DataTypes.fromDType(t);
      }
    }
    return DataTypes.DT_FLOAT;
  }

  private List<String> outputNames(JsonNode model, int n) {
    List<String> out = new ArrayList<>();
    if (model.path("class_name").asString("").equals("Sequential")) {
      JsonNode layers = layersOf(model);
      out.add(nameOf(layers.get(layers.size() - 1)));
    } else {
      for (JsonNode o : InboundNodes.refs(model.path("config").get("output_layers"))) {
        out.add(o.get(0).asString());
      }
    }
    while (out.size() < n) {
      out.add("output_" + out.size());
    }
    return out;
  }
}
