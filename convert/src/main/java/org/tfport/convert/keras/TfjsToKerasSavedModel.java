package org.tfport.convert.keras;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.convert.ConversionResult;
import org.tfport.convert.tfjs.CheckpointVariables;
import org.tfport.core.AtomicOutput;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.OutputException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.core.graph.ArgDef;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.FuncRef;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.core.graph.TensorValue;
import org.tfport.formats.keras.KerasLayerWeights;
import org.tfport.formats.keras.KerasWeight;
import org.tfport.formats.savedmodel.SavedModelWriter;
import org.tfport.formats.savedmodel.SignatureInfo;
import org.tfport.formats.savedmodel.TensorBundleWriter;
import org.tfport.formats.savedmodel.TensorInfo;
import org.tfport.graph.keras.KerasGraph;
import org.tfport.graph.keras.KerasGraphs;
import org.tfport.graph.keras.KerasTraining;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A TF.js layers model as a Keras SavedModel ({@code model.save(dir)}'s layout): the layers' graph
 * (built as for the graph targets) is one library function, {@code serving_default}, that reads
 * every weight from a resource variable passed in; the main graph calls it through {@code
 * StatefulPartitionedCall} with the variables' handles, and a TF1 saver restores them, which is
 * what TensorFlow's C++ loader (TF Serving, TF Java) runs. The TF2 object graph, the checkpoint's
 * object graph and {@code keras_metadata.pb} let TensorFlow 2's object loader and Keras' loader
 * rebuild the model too, and tfport's own Keras SavedModel reader read it back as a layers model
 * with the same weights.
 */
public final class TfjsToKerasSavedModel {
  static final String FUNCTION = "__inference_signature_wrapper_1";
  private static final String OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH";

  private TfjsToKerasSavedModel() {}

  /**
   * {@code tfjs_layers_model -> keras_saved_model}: writes the SavedModel folder {@code output}.
   */
  public static ConversionResult convert(Path input, Path output) {
    long start = System.nanoTime();
    TfjsToKeras.Source src = TfjsToKeras.read(input);
    if (src.modelConfig() == null) {
      throw new UsageException(
          src.json()
              + ": has no modelTopology (weights only); a SavedModel needs the model, so write a"
              + " weights file into ModelFormat.KERAS instead");
    }
    List<KerasLayerWeights> byLayer = TfjsToKeras.byLayer(src);
    int major = src.kerasVersion().startsWith("3") ? 3 : 2;
    KerasTraining.Graph built;
    try {
      built =
          KerasTraining.fromConfig(
              src.json().toString(),
              src.modelConfig(),
              src.weights(),
              major,
              KerasTraining.Options.defaults().inference());
    } catch (UnsupportedModelException e) {
      // Layers the variable-reading build refuses (some recurrent ones) keep their weights as
      // constants of the function; the variables are still written, for Keras and for editing.
      KerasGraph kg =
          KerasGraphs.fromConfig(src.json().toString(), src.modelConfig(), src.weights(), major);
      built = new KerasTraining.Graph(kg, List.of(), List.of(), List.of());
    }
    Graph g = built.model().graph();
    int nodes = g.size();

    List<KerasObjectGraph.Layer> layers = layers(src.modelConfig(), byLayer);
    List<KerasWeight> weights = new ArrayList<>();
    byLayer.forEach(l -> weights.addAll(l.weights()));
    Map<String, Integer> weightIndex = new HashMap<>();
    for (int i = 0; i < weights.size(); i++) {
      weightIndex.put(weights.get(i).name(), i);
    }
    // Weight placeholders read the variable of the same stored weight; any other stays a constant.
    Map<String, Integer> readsVar = new LinkedHashMap<>();
    for (KerasTraining.Variable v : built.variables()) {
      Integer w = weightIndex.get(v.name());
      if (w != null && weights.get(w).dtype() == DType.FLOAT32) {
        readsVar.put(v.node(), w);
      } else {
        g.remove(v.node());
        g.add(constant(v.node(), v.initial()));
      }
    }

    List<String> inKeys = new ArrayList<>(built.model().inputs());
    inKeys.sort(Comparator.naturalOrder());
    List<String> outKeys = new ArrayList<>(built.model().outputs());
    outKeys.sort(Comparator.naturalOrder());
    List<KerasObjectGraph.Spec> inSpecs = new ArrayList<>();
    for (String k : inKeys) {
      Node p = g.node(k);
      inSpecs.add(new KerasObjectGraph.Spec(k, p.typeAttr("dtype"), shapeOf(p)));
    }
    List<KerasObjectGraph.Spec> outSpecs = new ArrayList<>();
    for (String k : outKeys) {
      outSpecs.add(new KerasObjectGraph.Spec(k, outputType(g, k), TensorShape.UNKNOWN));
    }

    ObjectNode rootMeta = Json.MAPPER.createObjectNode();
    rootMeta.put("keras_version", src.kerasVersion());
    rootMeta.put("backend", "tensorflow");
    if (src.trainingConfig() != null) {
      rootMeta.set("training_config", src.trainingConfig());
    }
    KerasObjectGraph.Result objects =
        KerasObjectGraph.build(
            withLayersObject(src.modelConfig()), rootMeta, layers, FUNCTION, inSpecs, outSpecs);

    Graph main = new Graph(src.json().toString());
    // A TF 2.x producer version, as TensorFlow's own SavedModels carry (0 would say TF 0.x).
    main.versions(1286, 12);
    main.functions().putAll(g.functions());
    main.functions().put(FUNCTION, function(g, inSpecs, outKeys, outSpecs, readsVar, weights));
    SignatureInfo sig = mainGraph(main, inSpecs, outSpecs, weights, objects.checkpointKeys());

    Map<String, Tensor> values = new LinkedHashMap<>();
    Map<String, String> handles = new LinkedHashMap<>();
    Map<String, String> reads = new LinkedHashMap<>();
    for (int i = 0; i < weights.size(); i++) {
      String key = objects.checkpointKeys().get(i);
      values.put(key, weights.get(i).data().get());
      handles.put(key, handleName(i));
      reads.put(key, handleName(i) + "/Read");
    }
    SavedModelWriter.Saver saver =
        weights.isEmpty() ? null : CheckpointVariables.addSaver(main, values, handles, reads);
    byte[] pb =
        SavedModelWriter.write(main, List.of("serve"), List.of(sig), saver, objects.objects());
    Map<String, Tensor> checkpoint = new LinkedHashMap<>(values);
    checkpoint.put(OBJECT_GRAPH_KEY, byteString(objects.checkpointGraph()));
    return write(
        output,
        src,
        pb,
        checkpoint,
        objects.kerasMetadata(),
        weights.size(),
        readsVar.size(),
        nodes,
        main.size(),
        start);
  }

  private static ConversionResult write(
      Path output,
      TfjsToKeras.Source src,
      byte[] pb,
      Map<String, Tensor> checkpoint,
      byte[] metadata,
      int weights,
      int read,
      int nodes,
      int mainNodes,
      long start) {
    List<Path> files = new ArrayList<>();
    try (AtomicOutput out = AtomicOutput.folder(output)) {
      Path dir = out.dir();
      Path variables = dir.resolve("variables");
      Files.createDirectories(variables);
      Files.createDirectories(dir.resolve("assets"));
      Files.write(dir.resolve("saved_model.pb"), pb);
      files.add(Path.of("saved_model.pb"));
      Files.write(dir.resolve("keras_metadata.pb"), metadata);
      files.add(Path.of("keras_metadata.pb"));
      for (Path f : TensorBundleWriter.write(variables.resolve("variables"), checkpoint)) {
        files.add(dir.relativize(f));
      }
      long bytes = 0;
      for (Path f : files) {
        bytes += Files.size(dir.resolve(f));
      }
      out.commit();
      Path abs = output.toAbsolutePath();
      List<String> notices = new ArrayList<>(src.notices());
      if (read < weights) {
        notices.add(
            src.json()
                + ": "
                + (weights - read)
                + " of "
                + weights
                + " weights are folded into serving_default as constants (inference form of"
                + " their layers); their variables are saved for Keras but do not change it");
      }
      String detail =
          weights + " variables in the checkpoint, " + read + " read by serving_default";
      return new ConversionResult(
          output,
          files.stream().map(f -> abs.resolve(f.toString())).toList(),
          bytes,
          weights,
          new ConversionResult.NodeCounts(nodes, mainNodes),
          (System.nanoTime() - start) / 1_000_000,
          notices,
          detail);
    } catch (IOException e) {
      throw new OutputException(output + ": cannot write the SavedModel (" + e + ")", e);
    }
  }

  /**
   * Keras 2.0/2.1 wrote a Sequential's config as the bare list of its layers; Keras' SavedModel
   * metadata (and tfport's reader of it) has the later {@code {name, layers}} object.
   */
  private static JsonNode withLayersObject(JsonNode modelConfig) {
    if (!modelConfig.path("config").isArray()) {
      return modelConfig;
    }
    ObjectNode mc = ((ObjectNode) modelConfig).deepCopy();
    ObjectNode cfg = Json.MAPPER.createObjectNode();
    cfg.put("name", "sequential");
    cfg.set("layers", modelConfig.path("config"));
    mc.set("config", cfg);
    return mc;
  }

  /** The top-level layers in config order, each with its weights (local names inside it). */
  private static List<KerasObjectGraph.Layer> layers(
      JsonNode modelConfig, List<KerasLayerWeights> byLayer) {
    Map<String, List<KerasWeight>> owned = new HashMap<>();
    byLayer.forEach(l -> owned.put(l.layerName(), l.weights()));
    JsonNode cfg = modelConfig.path("config");
    JsonNode list = cfg.isArray() ? cfg : cfg.path("layers");
    List<KerasObjectGraph.Layer> out = new ArrayList<>();
    for (JsonNode l : list) {
      String name = l.path("config").path("name").asString(l.path("name").asString(""));
      List<KerasObjectGraph.Var> vars = new ArrayList<>();
      for (KerasWeight w : owned.getOrDefault(name, List.of())) {
        String local =
            w.name().startsWith(name + "/") ? w.name().substring(name.length() + 1) : w.name();
        boolean trainable =
            l.path("config").path("trainable").asBoolean(true) && !local.contains("moving_");
        vars.add(
            new KerasObjectGraph.Var(
                w.name(), local, w.dtype().tfEnum(), w.shape().dims(), trainable));
      }
      out.add(
          new KerasObjectGraph.Layer(
              name, l.path("class_name").asString(""), l.path("config"), vars));
    }
    return out;
  }

  /**
   * The serving function: model inputs (sorted by key, as TensorFlow flattens a dict) and one
   * resource per weight; outputs sorted by key.
   */
  private static GraphFunction function(
      Graph g,
      List<KerasObjectGraph.Spec> ins,
      List<String> outNodes,
      List<KerasObjectGraph.Spec> outs,
      Map<String, Integer> readsVar,
      List<KerasWeight> weights) {
    List<ArgDef> inArgs = new ArrayList<>();
    Map<String, String> args = new HashMap<>();
    Map<Integer, Map<String, AttrValue>> argAttrs = new LinkedHashMap<>();
    Set<String> used = new HashSet<>();
    for (KerasObjectGraph.Spec s : ins) {
      String arg = argName(s.key(), used);
      args.put(s.key(), arg);
      argAttrs.put(inArgs.size(), FunctionBodies.attrs("_user_specified_name", str(s.key())));
      inArgs.add(ArgDef.ofType(arg, s.dtype()));
    }
    List<Node> reads = new ArrayList<>();
    for (int i = 0; i < weights.size(); i++) {
      String arg = argName("var_" + i, used);
      inArgs.add(ArgDef.ofType(arg, DataTypes.DT_RESOURCE));
      for (Map.Entry<String, Integer> e : readsVar.entrySet()) {
        if (e.getValue() == i) {
          String read = e.getKey();
          args.put(read, read + ":value:0");
          reads.add(
              new Node(
                  read,
                  "ReadVariableOp",
                  List.of(arg),
                  "",
                  FunctionBodies.attrs("dtype", new AttrValue.Type(DataTypes.DT_FLOAT))));
        }
      }
    }
    Set<String> needed = g.reachable(outNodes);
    List<Node> body = new ArrayList<>();
    for (Node n : g.topologicalOrder()) {
      if (needed.contains(n.name()) && !args.containsKey(n.name())) {
        body.add(n);
      }
    }
    List<Node> nodes = new ArrayList<>(reads);
    nodes.addAll(FunctionBodies.body(g, body, args));
    List<ArgDef> outArgs = new ArrayList<>();
    Map<String, String> ret = new LinkedHashMap<>();
    for (int i = 0; i < outs.size(); i++) {
      String arg = "identity" + (i == 0 ? "" : "_" + i);
      outArgs.add(ArgDef.ofType(arg, outs.get(i).dtype()));
      String producer = outNodes.get(i);
      ret.put(
          arg,
          args.containsKey(producer)
              ? args.get(producer)
              : FunctionBodies.ref(g, g.node(producer), 0));
    }
    return new GraphFunction(
        FUNCTION, inArgs, outArgs, nodes, ret, Map.of(), Map.of(), argAttrs, true);
  }

  /**
   * Placeholders {@code serving_default_KEY}, one {@code VarHandleOp} per weight (with a read for
   * the saver), and the call; returns {@code serving_default}'s signature.
   */
  private static SignatureInfo mainGraph(
      Graph main,
      List<KerasObjectGraph.Spec> ins,
      List<KerasObjectGraph.Spec> outs,
      List<KerasWeight> weights,
      List<String> keys) {
    List<String> callIns = new ArrayList<>();
    List<Integer> tin = new ArrayList<>();
    Map<String, TensorInfo> sigIns = new LinkedHashMap<>();
    for (KerasObjectGraph.Spec s : ins) {
      String name =
          main.uniqueName("serving_default_" + s.key().replaceAll("[^A-Za-z0-9_.-]", "_"));
      main.add(
          new Node(
              name,
              "Placeholder",
              List.of(),
              "",
              FunctionBodies.attrs(
                  "dtype",
                  new AttrValue.Type(s.dtype()),
                  "shape",
                  new AttrValue.Shape(s.shape()))));
      callIns.add(name);
      tin.add(s.dtype());
      sigIns.put(s.key(), new TensorInfo(name + ":0", s.dtype(), s.shape()));
    }
    for (int i = 0; i < weights.size(); i++) {
      KerasWeight w = weights.get(i);
      AttrValue.Type dtype = new AttrValue.Type(w.dtype().tfEnum());
      main.add(
          new Node(
              handleName(i),
              "VarHandleOp",
              List.of(),
              "",
              FunctionBodies.attrs(
                  "dtype",
                  dtype,
                  "shape",
                  new AttrValue.Shape(TensorShape.of(w.shape())),
                  "container",
                  str(""),
                  "shared_name",
                  str(keys.get(i)))));
      main.add(
          new Node(
              handleName(i) + "/Read",
              "ReadVariableOp",
              List.of(handleName(i)),
              "",
              FunctionBodies.attrs("dtype", dtype)));
      callIns.add(handleName(i));
      tin.add(DataTypes.DT_RESOURCE);
    }
    List<Integer> tout = outs.stream().map(KerasObjectGraph.Spec::dtype).toList();
    String call = "StatefulPartitionedCall";
    main.add(
        new Node(
            call,
            "StatefulPartitionedCall",
            callIns,
            "",
            FunctionBodies.attrs(
                "Tin",
                AttrValue.ListAttr.ofTypes(tin),
                "Tout",
                AttrValue.ListAttr.ofTypes(tout),
                "f",
                new AttrValue.Func(FuncRef.of(FUNCTION)),
                "config",
                str(""),
                "config_proto",
                str(""),
                "executor_type",
                str(""))));
    Map<String, TensorInfo> sigOuts = new LinkedHashMap<>();
    for (int i = 0; i < outs.size(); i++) {
      sigOuts.put(
          outs.get(i).key(),
          new TensorInfo(call + ":" + i, outs.get(i).dtype(), outs.get(i).shape()));
    }
    return new SignatureInfo("serving_default", SavedModelWriter.PREDICT_METHOD, sigIns, sigOuts);
  }

  private static String handleName(int i) {
    return "variable_" + i;
  }

  /** A FunctionDef argument name: {@code [a-z][a-z0-9_]*}, unique. */
  private static String argName(String key, Set<String> used) {
    String base = key.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    if (base.isEmpty() || !Character.isLetter(base.charAt(0))) {
      base = "arg_" + base;
    }
    String name = base;
    for (int n = 1; !used.add(name); n++) {
      name = base + "_" + n;
    }
    return name;
  }

  private static int outputType(Graph g, String node) {
    AttrValue t = g.node(node).attr("T");
    return t instanceof AttrValue.Type ty ? ty.value() : DataTypes.DT_FLOAT;
  }

  private static TensorShape shapeOf(Node placeholder) {
    return placeholder.attr("shape") instanceof AttrValue.Shape s ? s.value() : TensorShape.UNKNOWN;
  }

  private static Node constant(String name, Tensor t) {
    int dt = t.dtype().tfEnum();
    return new Node(
        name,
        "Const",
        List.of(),
        "",
        FunctionBodies.attrs(
            "dtype",
            new AttrValue.Type(dt),
            "value",
            new AttrValue.TensorAttr(new TensorValue(dt, TensorShape.of(t.shape()), t))));
  }

  private static AttrValue.Str str(String s) {
    return new AttrValue.Str(s.getBytes(StandardCharsets.UTF_8));
  }

  /** A scalar string tensor of raw bytes (tfport holds strings as uint32 length + bytes). */
  private static Tensor byteString(byte[] b) {
    ByteBuffer buf = ByteBuffer.allocate(4 + b.length).order(ByteOrder.LITTLE_ENDIAN);
    buf.putInt(b.length).put(b);
    return new Tensor(DType.STRING, Shape.SCALAR, buf.flip());
  }
}
