package org.tfport.formats.keras;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SavedObjectGraphOuterClass.SavedObject;
import org.tensorflow.proto.SavedObjectGraphOuterClass.SavedObjectGraph;
import org.tensorflow.proto.TrackableObjectGraphOuterClass.TrackableObjectGraph;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.savedmodel.BundleEntry;
import org.tfport.formats.savedmodel.TensorBundle;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A SavedModel written by Keras ({@code model.save(dir)} in TF 2) read as a {@link KerasModel}: the
 * model config from the Keras metadata of the object graph's root, the weights from the variables
 * checkpoint.
 *
 * <p>Keras keeps its per-object metadata in {@code keras_metadata.pb} (a {@code SavedMetadata}
 * protobuf, TF ≥ 2.5) or, before that, in the deprecated {@code metadata} field of the object
 * graph's user objects. Either way it is keyed by object-graph node id, and the checkpoint's own
 * object graph ({@code _CHECKPOINTABLE_OBJECT_GRAPH}) numbers its nodes the same way, which is how
 * a layer's variables are found in the bundle.
 */
final class KerasSavedModelReader {
  static final String METADATA_FILE = "keras_metadata.pb";
  private static final String OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH";

  private KerasSavedModelReader() {}

  static KerasModel read(Path dir) {
    Path pb = dir.resolve("saved_model.pb");
    if (!Files.isRegularFile(pb)) {
      throw new UsageException(
          dir
              + ": no saved_model.pb in this folder; ModelFormat.KERAS_SAVED_MODEL takes the"
              + " folder Keras' model.save(dir) wrote");
    }
    SavedObjectGraph objects = objectGraph(pb);
    Map<Integer, String> metadata = kerasMetadata(dir, pb, objects);
    String rootJson = metadata.get(0);
    if (rootJson == null) {
      throw new UnsupportedModelException(
          dir
              + ": the SavedModel carries no Keras metadata (no keras_metadata.pb, none in the"
              + " object graph); it was not written by Keras' model.save: convert it as"
              + " ModelFormat.TF_SAVED_MODEL into ModelFormat.TFJS_GRAPH_MODEL");
    }
    JsonNode root = KerasH5Reader.parse(pb, "Keras metadata of the root object", rootJson);
    JsonNode modelConfig = root == null ? null : root.get("model_config");
    if (modelConfig != null
        && !modelConfig.path("config").isObject()
        && root.path("config").path("layers").isArray()
        && root.path("class_name").isString()) {
      // Keras 2.3/2.4 stored model_config as the class name alone, the config beside it.
      ObjectNode mc = Json.MAPPER.createObjectNode();
      mc.put("class_name", root.path("class_name").stringValue());
      mc.set("config", root.get("config"));
      modelConfig = mc;
    }
    if (modelConfig == null || !modelConfig.path("config").isObject()) {
      String cls = root == null ? "?" : root.path("class_name").asString("?");
      throw new UnsupportedModelException(
          dir
              + ": the Keras model '"
              + (root == null ? "?" : root.path("name").asString("?"))
              + "' (class "
              + cls
              + ") is subclassed and was saved without its config; a layers model needs the"
              + " config: convert it as ModelFormat.TF_SAVED_MODEL into"
              + " ModelFormat.TFJS_GRAPH_MODEL, or give the model a get_config and save again");
    }
    ObjectNode config = (ObjectNode) untuple(modelConfig.deepCopy());
    JsonNode training = root.get("training_config");
    List<KerasLayerWeights> layers = weights(dir, objects, metadata);
    return new KerasModel(
        dir,
        root.path("keras_version").asString(null),
        root.path("backend").asString(null),
        config,
        training == null || training.isNull() ? null : untuple(training.deepCopy()),
        layers,
        null);
  }

  private static SavedObjectGraph objectGraph(Path pb) {
    SavedModel sm;
    try {
      CodedInputStream cis = CodedInputStream.newInstance(Files.readAllBytes(pb));
      cis.setSizeLimit(Integer.MAX_VALUE);
      cis.setRecursionLimit(1000);
      sm = SavedModel.parseFrom(cis);
    } catch (InvalidProtocolBufferException e) {
      throw new CorruptModelException(
          pb + ": not a SavedModel (" + e.getMessage() + "); the file is damaged", e);
    } catch (IOException e) {
      throw new UsageException(pb + ": cannot read the file (" + e.getMessage() + ")");
    }
    for (MetaGraphDef mg : sm.getMetaGraphsList()) {
      if (mg.getObjectGraphDef().getNodesCount() > 0) {
        return mg.getObjectGraphDef();
      }
    }
    throw new UnsupportedModelException(
        pb
            + ": the SavedModel has no object graph (a TF1 SavedModel); Keras writes one, so this"
            + " is not a Keras SavedModel: convert it as ModelFormat.TF_SAVED_MODEL");
  }

  /** Node id to Keras metadata JSON, for the nodes that carry any. */
  @SuppressWarnings("deprecation") // SavedUserObject.metadata is where TF < 2.5 kept it
  private static Map<Integer, String> kerasMetadata(Path dir, Path pb, SavedObjectGraph objects) {
    Map<Integer, String> out = new HashMap<>();
    Path file = dir.resolve(METADATA_FILE);
    if (Files.isRegularFile(file)) {
      parseSavedMetadata(file, out);
    } else {
      for (int i = 0; i < objects.getNodesCount(); i++) {
        SavedObject n = objects.getNodes(i);
        if (n.hasUserObject() && !n.getUserObject().getMetadata().isEmpty()) {
          out.put(i, n.getUserObject().getMetadata());
        }
      }
    }
    return out;
  }

  /**
   * {@code SavedMetadata { repeated SavedObject nodes = 1; }}, each {@code SavedObject { int32
   * node_id = 2; string node_path = 3; string identifier = 4; string metadata = 5; }}: Keras' own
   * message, not among TensorFlow's protos, so read field by field.
   */
  private static void parseSavedMetadata(Path file, Map<Integer, String> out) {
    try {
      CodedInputStream in = CodedInputStream.newInstance(Files.readAllBytes(file));
      in.setSizeLimit(Integer.MAX_VALUE);
      int tag;
      while ((tag = in.readTag()) != 0) {
        if (WireFormat.getTagFieldNumber(tag) != 1
            || WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
          in.skipField(tag);
          continue;
        }
        int limit = in.pushLimit(in.readRawVarint32());
        // proto3 leaves a zero node_id out: no field 2 means the root.
        int nodeId = 0;
        String metadata = null;
        int t;
        while ((t = in.readTag()) != 0) {
          switch (WireFormat.getTagFieldNumber(t)) {
            case 2 -> nodeId = in.readInt32();
            case 5 -> metadata = in.readStringRequireUtf8();
            default -> in.skipField(t);
          }
        }
        in.popLimit(limit);
        if (metadata != null) {
          out.put(nodeId, metadata);
        }
      }
    } catch (InvalidProtocolBufferException e) {
      throw new CorruptModelException(
          file + ": not a Keras SavedMetadata protobuf (" + e.getMessage() + "); it is damaged", e);
    } catch (IOException e) {
      throw new UsageException(file + ": cannot read the file (" + e.getMessage() + ")");
    }
  }

  /**
   * The weights of each top-level layer, in the model's layer order ({@code layer-0}, {@code
   * layer-1}, ... children of the root, as model.layers), each layer's in the order of its {@code
   * variables} list, which is the order Keras' h5 files keep.
   */
  private static List<KerasLayerWeights> weights(
      Path dir, SavedObjectGraph objects, Map<Integer, String> metadata) {
    TreeMap<Integer, Integer> layerNodes = new TreeMap<>();
    for (var c : objects.getNodes(0).getChildrenList()) {
      String name = c.getLocalName();
      if (name.matches("layer-\\d{1,9}")) {
        layerNodes.put(Integer.parseInt(name.substring(6)), c.getNodeId());
      }
    }
    Path prefix = dir.resolve("variables").resolve("variables");
    TensorBundle bundle = null;
    Map<Integer, String> keys = Map.of();
    List<KerasLayerWeights> out = new ArrayList<>();
    for (int nodeId : layerNodes.values()) {
      checkNode(dir, objects, nodeId);
      String meta = metadata.get(nodeId);
      JsonNode layerMeta = meta == null ? null : KerasH5Reader.parse(dir, "layer metadata", meta);
      String layerName = layerMeta == null ? null : layerMeta.path("name").asString(null);
      if (layerName == null) {
        throw new CorruptModelException(
            dir
                + ": object-graph node "
                + nodeId
                + " is a layer without Keras metadata naming it;"
                + " the SavedModel is damaged");
      }
      List<KerasWeight> ws = new ArrayList<>();
      for (int varNode : variableNodes(dir, objects, nodeId)) {
        if (bundle == null) {
          if (!Files.exists(TensorBundle.indexFile(prefix))) {
            throw new CorruptModelException(
                dir
                    + ": layer '"
                    + layerName
                    + "' has weights but variables/variables.index is"
                    + " missing; copy the whole SavedModel folder");
          }
          bundle = TensorBundle.open(prefix);
          keys = checkpointKeys(dir, bundle);
        }
        String key = keys.get(varNode);
        if (key == null || !bundle.has(key)) {
          throw new CorruptModelException(
              dir
                  + ": the checkpoint holds no value for variable '"
                  + objects.getNodes(varNode).getVariable().getName()
                  + "' of layer '"
                  + layerName
                  + "'; the SavedModel is damaged");
        }
        BundleEntry e = bundle.entry(key);
        TensorBundle b = bundle;
        ws.add(
            new KerasWeight(
                objects.getNodes(varNode).getVariable().getName(),
                DType.fromTfEnum(e.dtype()),
                e.shape(),
                () -> b.read(key)));
      }
      out.add(new KerasLayerWeights(layerName, ws));
    }
    return out;
  }

  private static List<Integer> variableNodes(Path dir, SavedObjectGraph objects, int layerNode) {
    for (var c : objects.getNodes(layerNode).getChildrenList()) {
      if (c.getLocalName().equals("variables")) {
        checkNode(dir, objects, c.getNodeId());
        List<Integer> vars = new ArrayList<>();
        for (var v : objects.getNodes(c.getNodeId()).getChildrenList()) {
          checkNode(dir, objects, v.getNodeId());
          if (objects.getNodes(v.getNodeId()).hasVariable()) {
            vars.add(v.getNodeId());
          }
        }
        return vars;
      }
    }
    return List.of();
  }

  private static void checkNode(Path dir, SavedObjectGraph objects, int id) {
    if (id < 0 || id >= objects.getNodesCount()) {
      throw new CorruptModelException(
          dir
              + ": the object graph refers to node "
              + id
              + " of "
              + objects.getNodesCount()
              + "; saved_model.pb is damaged");
    }
  }

  /** Node id to the checkpoint key of the variable value it holds. */
  private static Map<Integer, String> checkpointKeys(Path dir, TensorBundle bundle) {
    if (!bundle.has(OBJECT_GRAPH_KEY)) {
      throw new CorruptModelException(
          dir
              + ": the variables checkpoint has no "
              + OBJECT_GRAPH_KEY
              + " (a TF1 checkpoint); a Keras SavedModel always has one, the folder is damaged");
    }
    List<byte[]> s = bundle.read(OBJECT_GRAPH_KEY).toByteStrings();
    if (s.size() != 1) {
      throw new CorruptModelException(
          dir + ": " + OBJECT_GRAPH_KEY + " holds " + s.size() + " strings instead of one");
    }
    TrackableObjectGraph g;
    try {
      CodedInputStream cis = CodedInputStream.newInstance(s.get(0));
      cis.setRecursionLimit(1000);
      g = TrackableObjectGraph.parseFrom(cis);
    } catch (IOException e) {
      throw new CorruptModelException(
          dir + ": the checkpoint's object graph is damaged (" + e.getMessage() + ")", e);
    }
    Map<Integer, String> keys = new HashMap<>();
    for (int i = 0; i < g.getNodesCount(); i++) {
      for (var a : g.getNodes(i).getAttributesList()) {
        if (a.getName().equals("VARIABLE_VALUE")) {
          keys.put(i, a.getCheckpointKey());
        }
      }
    }
    return keys;
  }

  /**
   * Keras' SavedModel JSON encoder writes tuples as {@code {"class_name": "__tuple__", "items":
   * [...]}} and tags each layer with a {@code shared_object_id}; an .h5 config has plain lists and
   * no such ids, which is what TF.js reads.
   */
  static JsonNode untuple(JsonNode n) {
    if (n instanceof ObjectNode o) {
      if ("__tuple__".equals(o.path("class_name").asString(null)) && o.path("items").isArray()) {
        return untuple(o.get("items"));
      }
      if (o.has("class_name")) {
        o.remove("shared_object_id");
      }
      for (var e : new ArrayList<>(o.properties())) {
        o.set(e.getKey(), untuple(e.getValue()));
      }
      return o;
    }
    if (n instanceof ArrayNode a) {
      for (int i = 0; i < a.size(); i++) {
        a.set(i, untuple(a.get(i)));
      }
    }
    return n;
  }
}
