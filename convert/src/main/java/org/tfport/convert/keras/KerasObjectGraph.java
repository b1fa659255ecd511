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

    List<Integer> layerIds = new ArrayList<>();
    int withWeights = 0;
    for (int i = 0; i < layers.size(); i++) {
      Layer l = layers.get(i);
      int id =
          g.node(
              user(
                  l.className().equals("InputLayer")
                      ? "_tf_keras_input_layer"
                      : "_tf_keras_layer"));
      layerIds.add(id);
      if (!l.vars().isEmpty()) {
        g.child(root, "layer_with_weights-" + withWeights, id);
        paths.put(id, "root.layer_with_weights-" + withWeights);
        withWeights++;
      } else {
        paths.put(id, "root.layer-" + i);
      }
      g.child(root, "layer-" + i, id);
      ObjectNode meta = Json.MAPPER.createObjectNode();
      meta.put("name", l.name());
      meta.put("class_name", l.className());
      meta.set("config", l.config());
      meta.put("trainable", l.config().path("trainable").asBoolean(true));
      meta.put("dtype", l.config().path("dtype").asString("float32"));
      metadata.put(id, Json.MAPPER.writeValueAsString(meta));
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
      int layer = layerIds.get(i);
      int list = g.node(user("trackable_list_wrapper"));
      g.child(layer, "variables", list);
      Set<String> locals = new HashSet<>();
      for (int k = 0; k < l.vars().size(); k++) {
        Var v = l.vars().get(k);
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : v.shape()) {
          shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
        }
        int id =
            g.node(
                SavedObject.newBuilder()
                    .setVariable(
                        SavedVariable.newBuilder()
                            .setDtypeValue(v.dtype())
                            .setShape(shape)
                            .setTrainable(v.trainable())
                            .setName(v.weightName())));
        String local = v.localName();
        for (int n = 1; !locals.add(local); n++) {
          local = v.localName() + "_" + n;
        }
        g.child(layer, local, id);
        g.child(list, Integer.toString(k), id);
        g.child(allVars, Integer.toString(varIds.size()), id);
        varIds.add(id);
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
