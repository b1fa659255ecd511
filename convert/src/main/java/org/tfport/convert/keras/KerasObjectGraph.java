package org.tfport.convert.keras;

import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.SavedObjectGraphOuterClass.SavedBareConcreteFunction;
import org.tensorflow.proto.SavedObjectGraphOuterClass.SavedConcreteFunction;
import org.tensorflow.proto.SavedObjectGraphOuterClass.SavedObject;
import org.tensorflow.proto.SavedObjectGraphOuterClass.SavedObjectGraph;
import org.tensorflow.proto.SavedObjectGraphOuterClass.SavedUserObject;
import org.tensorflow.proto.SavedObjectGraphOuterClass.SavedVariable;
import org.tensorflow.proto.Struct.DictValue;
import org.tensorflow.proto.Struct.StructuredValue;
import org.tensorflow.proto.Struct.TensorSpecProto;
import org.tensorflow.proto.Struct.TupleValue;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.proto.TrackableObjectGraphOuterClass.TrackableObjectGraph;
import org.tensorflow.proto.TrackableObjectGraphOuterClass.TrackableObjectGraph.TrackableObject;
import org.tensorflow.proto.VersionDef;
import org.tfport.core.Json;
import org.tfport.core.graph.TensorShape;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The objects of a Keras model as TensorFlow 2 saves them: the SavedModel's object graph (root,
 * {@code layer-N} and {@code layer_with_weights-N} children, each layer's variables and {@code
 * variables} list, the {@code signatures} map with {@code serving_default}), the checkpoint's
 * object graph with the same node numbering (each variable's {@code VARIABLE_VALUE} attribute names
 * its checkpoint key), and Keras' {@code keras_metadata.pb} keyed by those node ids.
 *
 * <p>Checkpoint keys are the breadth-first path from the root, each local name escaped ({@code .}
 * as {@code ..}, {@code /} as {@code .S}), then {@code /.ATTRIBUTES/VARIABLE_VALUE}, as TensorFlow
 * names object-based checkpoint entries.
 */
final class KerasObjectGraph {
  private static final VersionDef V1 =
      VersionDef.newBuilder().setProducer(1).setMinConsumer(1).build();

  /** One variable: its Keras weight name, its local name in its layer, type, shape. */
  record Var(String weightName, String localName, int dtype, long[] shape, boolean trainable) {}

  /** One top-level layer: name, class, config, and its variables in Keras' order. */
  record Layer(String name, String className, JsonNode config, List<Var> vars) {}

  /** One input or output of the serving function: key, type, shape (null unknown). */
  record Spec(String key, int dtype, TensorShape shape) {}

  /**
   * What was built.
   *
   * @param checkpointKeys per variable, in the order of the layers' variables, its checkpoint key
   * @param variableNodes per variable, same order, its node id (the function's bound inputs)
   */
  record Result(
      SavedObjectGraph objects,
      byte[] checkpointGraph,
      byte[] kerasMetadata,
      List<String> checkpointKeys,
      List<Integer> variableNodes) {}

  private final List<SavedObject.Builder> nodes = new ArrayList<>();
  private final List<TrackableObject.Builder> tracked = new ArrayList<>();

  private KerasObjectGraph() {}

  private int node(SavedObject.Builder b) {
    nodes.add(b);
    tracked.add(TrackableObject.newBuilder());
    return nodes.size() - 1;
  }

  private void child(int parent, String local, int id) {
    nodes.get(parent).addChildren(ref(local, id));
    tracked.get(parent).addChildren(ref(local, id));
  }

  private static TrackableObject.ObjectReference ref(String local, int id) {
    return TrackableObject.ObjectReference.newBuilder().setLocalName(local).setNodeId(id).build();
  }

  private static SavedObject.Builder user(String identifier) {
    return SavedObject.newBuilder()
        .setUserObject(SavedUserObject.newBuilder().setIdentifier(identifier).setVersion(V1));
  }

  /**
   * Builds the three.
   *
   * @param modelConfig the Keras model config ({@code class_name}, {@code config})
   * @param rootMetadata the root's Keras metadata extras (versions, training config)
   * @param function the serving function's name in the graph's library
   * @param inputs its inputs, in argument order
   * @param outputs its outputs, in result order
   */
  static Result build(
      JsonNode modelConfig,
      ObjectNode rootMetadata,
      List<Layer> layers,
      String function,
      List<Spec> inputs,
      List<Spec> outputs) {
    KerasObjectGraph g = new KerasObjectGraph();
    String cls = modelConfig.path("class_name").asString("Functional");
    int root =
        g.node(user(cls.equals("Sequential") ? "_tf_keras_sequential" : "_tf_keras_network"));
    Map<Integer, String> metadata = new LinkedHashMap<>();
    Map<Integer, String> paths = new LinkedHashMap<>();
    ObjectNode rootMeta = rootMetadata.deepCopy();
    rootMeta.put("name", modelConfig.path("config").path("name").asString("model"));
    rootMeta.put("class_name", cls);
    rootMeta.set("config", modelConfig.path("config"));
    rootMeta.put("trainable", true);
    rootMeta.put("is_graph_network", true);
    rootMeta.set("model_config", modelConfig);
    metadata.put(root, Json.MAPPER.writeValueAsString(rootMeta));
    paths.put(root, "root");

    // A Sequential's layers exclude its InputLayer, as Keras' Sequential.layers does.
    boolean sequential = cls.equals("Sequential");
    List<Integer> layerIds = new ArrayList<>();
    int withWeights = 0;
    int index = 0;
    for (Layer l : layers) {
      if (sequential && l.className().equals("InputLayer")) {
        layerIds.add(-1);
        continue;
      }
      int id = g.node(user(identifier(l.className())));
      layerIds.add(id);
      if (!l.vars().isEmpty()) {
        g.child(root, "layer_with_weights-" + withWeights, id);
        paths.put(id, "root.layer_with_weights-" + withWeights);
        withWeights++;
      } else {
        paths.put(id, "root.layer-" + index);
      }
      g.child(root, "layer-" + index, id);
      index++;
      metadata.put(id, layerMetadata(l.name(), l.className(), l.config()));
    }
    int allVars = g.node(user("trackable_list_wrapper"));
    g.child(root, "variables", allVars);
    int signatures = g.node(user("signature_map"));
    g.child(root, "signatures", signatures);
    int serving =
        g.node(
            SavedObject.newBuilder()
                .setBareConcreteFunction(
                    SavedBareConcreteFunction.newBuilder()
                        .setConcreteFunctionName(function)
                        .addAllArgumentKeywords(inputs.stream().map(Spec::key).toList())));
    g.child(signatures, "serving_default", serving);

    List<Integer> varIds = new ArrayList<>();
    for (int i = 0; i < layers.size(); i++) {
      Layer l = layers.get(i);
      List<Integer> ids = new ArrayList<>();
      for (Var v : l.vars()) {
        int id = g.variable(v);
        g.child(allVars, Integer.toString(varIds.size()), id);
        varIds.add(id);
        ids.add(id);
      }
      int layer = layerIds.get(i);
      if (layer >= 0) {
        g.populate(
            layer,
            paths.get(layer),
            l.className(),
            l.config(),
            l.vars(),
            ids,
            true,
            new Meta(metadata, paths));
      }
    }

    Map<Integer, String> keys = g.checkpointKeys();
    List<String> varKeys = new ArrayList<>();
    int v = 0;
    for (Layer l : layers) {
      for (Var var : l.vars()) {
        int id = varIds.get(v++);
        String key = keys.get(id) + "/.ATTRIBUTES/VARIABLE_VALUE";
        varKeys.add(key);
        g.tracked
            .get(id)
            .addAttributes(
                TrackableObject.SerializedTensor.newBuilder()
                    .setName("VARIABLE_VALUE")
                    .setFullName(var.weightName())
                    .setCheckpointKey(key));
      }
    }

    SavedObjectGraph.Builder objects = SavedObjectGraph.newBuilder();
    g.nodes.forEach(objects::addNodes);
    objects.putConcreteFunctions(
        function,
        SavedConcreteFunction.newBuilder()
            .addAllBoundInputs(varIds)
            .setCanonicalizedInputSignature(tuple(tuple(), dict(inputs)))
            .setOutputSignature(dict(outputs))
            .build());
    TrackableObjectGraph.Builder ckpt = TrackableObjectGraph.newBuilder();
    g.tracked.forEach(ckpt::addNodes);
    return new Result(
        objects.build(),
        ckpt.build().toByteArray(),
        savedMetadata(metadata, paths, g),
        varKeys,
        varIds);
  }

  /** Where the Keras metadata of each object and its path go. */
  private record Meta(Map<Integer, String> metadata, Map<Integer, String> paths) {}

  /** Keras 2's RNN layers that hold their weights in a {@code cell}, and the cell's class. */
  private static final Map<String, String> RNN_CELLS =
      Map.of(
          "LSTM", "LSTMCell",
          "GRU", "GRUCell",
          "SimpleRNN", "SimpleRNNCell",
          "ConvLSTM1D", "ConvLSTMCell",
          "ConvLSTM2D", "ConvLSTMCell",
          "ConvLSTM3D", "ConvLSTMCell");

  /** The name Keras 2 gives each cell it makes for an RNN layer. */
  private static final Map<String, String> CELL_NAMES =
      Map.of(
          "LSTMCell", "lstm_cell",
          "GRUCell", "gru_cell",
          "SimpleRNNCell", "simple_rnn_cell",
          "ConvLSTMCell", "conv_lstm_cell");

  /** RNN settings that are the layer's, not its cell's. */
  private static final Set<String> RNN_ONLY =
      Set.of(
          "return_sequences",
          "return_state",
          "go_backwards",
          "stateful",
          "unroll",
          "time_major",
          "activity_regularizer",
          "batch_input_shape");

  private static final Set<String> MODELS = Set.of("Sequential", "Functional", "Model");

  /** The SavedModel identifier Keras 2 saves a layer of class {@code cls} under. */
  private static String identifier(String cls) {
    return switch (cls) {
      case "InputLayer" -> "_tf_keras_input_layer";
      case "Sequential" -> "_tf_keras_sequential";
      case "Functional", "Model" -> "_tf_keras_network";
      default -> RNN_CELLS.containsKey(cls) ? "_tf_keras_rnn_layer" : "_tf_keras_layer";
    };
  }

  private static String layerMetadata(String name, String cls, JsonNode config) {
    ObjectNode meta = Json.MAPPER.createObjectNode();
    meta.put("name", name);
    meta.put("class_name", cls);
    meta.set("config", config);
    meta.put("trainable", config.path("trainable").asBoolean(true));
    meta.put("dtype", config.path("dtype").asString("float32"));
    return Json.MAPPER.writeValueAsString(meta);
  }

  private int variable(Var v) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (long d : v.shape()) {
      shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    return node(
        SavedObject.newBuilder()
            .setVariable(
                SavedVariable.newBuilder()
                    .setDtypeValue(v.dtype())
                    .setShape(shape)
                    .setTrainable(v.trainable())
                    .setName(v.weightName())));
  }

  /**
   * Gives layer node {@code id} its {@code variables} list and the objects Keras 2 tracks under it:
   * an RNN layer's {@code cell}, a Bidirectional's {@code forward_layer} and {@code
   * backward_layer}, a TimeDistributed's {@code layer}, a nested model's layers; the variables hang
   * off the innermost of these, as Keras creates them. Checkpoint keys follow from the structure (a
   * variable deeper than {@code layer_with_weights-N/NAME} is keyed by the root's {@code
   * variables/K}, found first breadth-first, as in the checkpoints Keras writes).
   *
   * @param top whether {@code id} is a top-level layer, whose variables keep their local names
   *     (path inside the layer) where it has no sub-objects
   */
  private void populate(
      int id,
      String path,
      String cls,
      JsonNode cfg,
      List<Var> vars,
      List<Integer> ids,
      boolean top,
      Meta meta) {
    // A model lists its layers before its variables (as the root does), a layer the other way.
    boolean model =
        MODELS.contains(cls)
            && cfg.path("layers").isArray()
            && !vars.isEmpty()
            && nested(id, path, cls, cfg, vars, ids, meta);
    int list = node(user("trackable_list_wrapper"));
    child(id, "variables", list);
    for (int k = 0; k < ids.size(); k++) {
      child(list, Integer.toString(k), ids.get(k));
    }
    if (vars.isEmpty() || model) {
      return;
    }
    String cell = RNN_CELLS.get(cls);
    if (cell != null) {
      ObjectNode cellCfg =
          cfg.isObject() ? ((ObjectNode) cfg).deepCopy() : Json.MAPPER.createObjectNode();
      RNN_ONLY.forEach(cellCfg::remove);
      cellCfg.put("name", CELL_NAMES.get(cell));
      int c = sub(id, path, "cell", cell, cellCfg, meta);
      populate(c, path + ".cell", cell, cellCfg, vars, ids, false, meta);
      return;
    }
    JsonNode inner = cfg.path("layer");
    String innerCls = inner.path("class_name").asString("");
    if (cls.equals("Bidirectional") && inner.isObject() && vars.size() % 2 == 0) {
      int half = vars.size() / 2;
      ObjectNode fwd =
          inner.path("config").isObject()
              ? ((ObjectNode) inner.get("config")).deepCopy()
              : Json.MAPPER.createObjectNode();
      String innerName = fwd.path("name").asString("layer");
      fwd.put("name", "forward_" + innerName);
      JsonNode back = cfg.path("backward_layer");
      ObjectNode bwd;
      String backCls = innerCls;
      if (back.isObject() && back.path("config").isObject()) {
        bwd = ((ObjectNode) back.get("config")).deepCopy();
        backCls = back.path("class_name").asString(innerCls);
      } else {
        bwd = fwd.deepCopy();
        bwd.put("name", "backward_" + innerName);
        bwd.put("go_backwards", !fwd.path("go_backwards").asBoolean(false));
      }
      int f = sub(id, path, "forward_layer", innerCls, fwd, meta);
      populate(
          f,
          path + ".forward_layer",
          innerCls,
          fwd,
          vars.subList(0, half),
          ids.subList(0, half),
          false,
          meta);
      int b = sub(id, path, "backward_layer", backCls, bwd, meta);
      populate(
          b,
          path + ".backward_layer",
          backCls,
          bwd,
          vars.subList(half, vars.size()),
          ids.subList(half, ids.size()),
          false,
          meta);
      return;
    }
    if (cls.equals("TimeDistributed") && inner.isObject()) {
      JsonNode innerCfg = inner.path("config");
      int l = sub(id, path, "layer", innerCls, innerCfg, meta);
      populate(l, path + ".layer", innerCls, innerCfg, vars, ids, false, meta);
      return;
    }
    Set<String> locals = new HashSet<>();
    for (int k = 0; k < vars.size(); k++) {
      String name = vars.get(k).localName();
      String base = top ? name : lastPart(vars.get(k).weightName());
      String local = base;
      for (int n = 1; !locals.add(local); n++) {
        local = base + "_" + n;
      }
      child(id, local, ids.get(k));
    }
  }

  /** A sub-object of layer {@code parent} under {@code local}, with its Keras metadata. */
  private int sub(int parent, String path, String local, String cls, JsonNode cfg, Meta meta) {
    int id = node(user(identifier(cls)));
    child(parent, local, id);
    String p = path + "." + local;
    meta.paths().put(id, p);
    meta.metadata().put(id, layerMetadata(cfg.path("name").asString(local), cls, cfg));
    return id;
  }

  /**
   * A nested model's layers, each given the variables whose names run through it; false (nothing
   * added) when a variable matches no layer, so the caller keeps them flat.
   */
  private boolean nested(
      int id, String path, String cls, JsonNode cfg, List<Var> vars, List<Integer> ids, Meta meta) {
    List<JsonNode> subs = new ArrayList<>();
    for (JsonNode l : cfg.get("layers")) {
      if (!(cls.equals("Sequential") && l.path("class_name").asString("").equals("InputLayer"))) {
        subs.add(l);
      }
    }
    List<List<Integer>> owned = new ArrayList<>();
    subs.forEach(l -> owned.add(new ArrayList<>()));
    for (int k = 0; k < vars.size(); k++) {
      List<String> parts = List.of(vars.get(k).weightName().split("/"));
      int at = -1;
      for (int i = 0; i < subs.size() && at < 0; i++) {
        String n =
            subs.get(i).path("config").path("name").asString(subs.get(i).path("name").asString(""));
        if (!n.isEmpty() && parts.subList(0, parts.size() - 1).contains(n)) {
          at = i;
        }
      }
      if (at < 0) {
        return false;
      }
      owned.get(at).add(k);
    }
    int withWeights = 0;
    for (int i = 0; i < subs.size(); i++) {
      JsonNode l = subs.get(i);
      String lcls = l.path("class_name").asString("");
      JsonNode lcfg = l.path("config");
      int sid = node(user(identifier(lcls)));
      String p;
      if (!owned.get(i).isEmpty()) {
        child(id, "layer_with_weights-" + withWeights, sid);
        p = path + ".layer_with_weights-" + withWeights;
        withWeights++;
      } else {
        p = path + ".layer-" + i;
      }
      child(id, "layer-" + i, sid);
      meta.paths().put(sid, p);
      meta.metadata().put(sid, layerMetadata(lcfg.path("name").asString(""), lcls, lcfg));
      List<Var> v = owned.get(i).stream().map(vars::get).toList();
      List<Integer> vi = owned.get(i).stream().map(ids::get).toList();
      populate(sid, p, lcls, lcfg, v, vi, false, meta);
    }
    return true;
  }

  private static String lastPart(String weightName) {
    String n =
        weightName.endsWith(":0") ? weightName.substring(0, weightName.length() - 2) : weightName;
    return n.substring(n.lastIndexOf('/') + 1);
  }

  /** Breadth-first from the root: each node's first path, local names escaped. */
  private Map<Integer, String> checkpointKeys() {
    Map<Integer, String> path = new HashMap<>();
    path.put(0, "");
    Deque<Integer> work = new ArrayDeque<>(List.of(0));
    while (!work.isEmpty()) {
      int n = work.poll();
      for (var c : nodes.get(n).getChildrenList()) {
        if (!path.containsKey(c.getNodeId())) {
          String p = path.get(n);
          String local = c.getLocalName().replace(".", "..").replace("/", ".S");
          path.put(c.getNodeId(), p.isEmpty() ? local : p + "/" + local);
          work.add(c.getNodeId());
        }
      }
    }
    return path;
  }

  private static StructuredValue tuple(StructuredValue... items) {
    TupleValue.Builder t = TupleValue.newBuilder();
    for (StructuredValue i : items) {
      t.addValues(i);
    }
    return StructuredValue.newBuilder().setTupleValue(t).build();
  }

  private static StructuredValue dict(List<Spec> specs) {
    DictValue.Builder d = DictValue.newBuilder();
    for (Spec s : specs) {
      TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
      if (s.shape() == null || s.shape().unknownRank()) {
        shape.setUnknownRank(true);
      } else {
        for (long dim : s.shape().dims()) {
          shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(dim));
        }
      }
      d.putFields(
          s.key(),
          StructuredValue.newBuilder()
              .setTensorSpecValue(
                  TensorSpecProto.newBuilder()
                      .setName(s.key())
                      .setShape(shape)
                      .setDtypeValue(s.dtype()))
              .build());
    }
    return StructuredValue.newBuilder().setDictValue(d).build();
  }

  /**
   * Keras' {@code SavedMetadata}: {@code repeated SavedObject nodes = 1}, each {@code node_id = 2,
   * node_path = 3, identifier = 4, metadata = 5, version = 6}; Keras' own message, written field by
   * field.
   */
  private static byte[] savedMetadata(
      Map<Integer, String> metadata, Map<Integer, String> paths, KerasObjectGraph g) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      CodedOutputStream out = CodedOutputStream.newInstance(bytes);
      for (Map.Entry<Integer, String> e : metadata.entrySet()) {
        ByteArrayOutputStream one = new ByteArrayOutputStream();
        CodedOutputStream o = CodedOutputStream.newInstance(one);
        o.writeInt32(2, e.getKey());
        o.writeString(3, paths.get(e.getKey()));
        o.writeString(4, g.nodes.get(e.getKey()).getUserObject().getIdentifier());
        o.writeString(5, e.getValue());
        o.writeMessage(6, VersionDef.newBuilder().setProducer(2).setMinConsumer(1).build());
        o.flush();
        out.writeByteArray(1, one.toByteArray());
      }
      out.flush();
    } catch (IOException e) {
      throw new IllegalStateException("writing to memory failed", e);
    }
    return bytes.toByteArray();
  }
}
