package org.tfport.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.tfport.convert.ConversionResult;
import org.tfport.convert.Converter;
import org.tfport.core.Json;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.ModelFormat;
import org.tfport.formats.keras.KerasH5Writer;
import org.tfport.formats.keras.KerasLayerWeights;
import org.tfport.formats.keras.KerasWeight;
import org.tfport.formats.tfjs.TfjsModel;
import org.tfport.formats.tfjs.TfjsReader;
import tools.jackson.databind.JsonNode;

/**
 * {@code tfport demo}: writes a small Keras model of its own (a 4-8-3 classifier), converts it to a
 * TF.js layers model exactly as {@code convert} would, and reads the result back to check every
 * weight.
 */
final class DemoCommand {
  private DemoCommand() {}

  static int run(PrintWriter out, PrintWriter err, String... args) {
    if (args.length > 1 || (args.length == 1 && args[0].startsWith("-"))) {
      if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
        out.println(
            "usage: tfport demo [DIR]   (writes DIR/model.h5 and DIR/tfjs_model/; default DIR tfport-demo)");
        return 0;
      }
      throw new UsageException("usage: tfport demo [DIR]");
    }
    Path dir = Path.of(args.length == 1 ? args[0] : "tfport-demo");
    Path h5 = dir.resolve("model.h5");
    Path tfjs = dir.resolve("tfjs_model");
    try {
      Files.createDirectories(dir);
      Files.deleteIfExists(h5);
      Files.deleteIfExists(dir.resolve("saved_model").resolve("saved_model.pb"));
    } catch (java.io.IOException e) {
      throw new TfportException(dir + ": cannot create the demo folder (" + e.getMessage() + ")");
    }
    List<KerasLayerWeights> layers =
        List.of(
            new KerasLayerWeights(
                "dense", List.of(weight("dense/kernel", 4, 8), weight("dense/bias", 8))),
            new KerasLayerWeights(
                "dense_1", List.of(weight("dense_1/kernel", 8, 3), weight("dense_1/bias", 3))));
    KerasH5Writer.write(h5, "2.15.0", "tensorflow", config(), null, layers);
    out.println(
        "made a Keras model: "
            + h5
            + " (Sequential: Dense(8, relu) -> Dense(3, softmax), 67 parameters)");
    out.println(
        "converting: tfport convert --input_format=keras --output_format=tfjs_layers_model "
            + h5
            + " "
            + tfjs);
    ConversionResult s =
        Converter.from(h5, ModelFormat.KERAS).to(ModelFormat.TFJS_LAYERS_MODEL).convert(tfjs);
    out.println(s.line());
    TfjsModel back = TfjsReader.read(tfjs.resolve("model.json"));
    int checked = 0;
    for (KerasLayerWeights l : layers) {
      for (KerasWeight w : l.weights()) {
        Tensor got = back.weightsByName().get(w.name());
        if (got == null || !got.bytes().equals(w.data().get().bytes())) {
          throw new TfportException(tfjs + ": weight " + w.name() + " did not read back identical");
        }
        checked++;
      }
    }
    out.println(
        "read back "
            + tfjs.resolve("model.json")
            + ": "
            + checked
            + " weights identical; load it with tf.loadLayersModel in TensorFlow.js");

    // The same network as a TensorFlow SavedModel (weights as constants), through the converter's
    // default path.
    Path saved = dir.resolve("saved_model");
    Path graphModel = dir.resolve("tfjs_graph_model");
    try {
      Files.createDirectories(saved);
      Files.write(saved.resolve("saved_model.pb"), savedModel(frozenGraph(layers)).toByteArray());
    } catch (java.io.IOException e) {
      throw new TfportException(
          saved + ": cannot write the demo SavedModel (" + e.getMessage() + ")");
    }
    out.println("made the same network as a TensorFlow SavedModel: " + saved);
    out.println(
        "converting: tfport convert "
            + saved
            + " "
            + graphModel
            + "   (tf_saved_model -> tfjs_graph_model, the default)");
    Converter fromSavedModel = Converter.from(saved);
    ConversionResult gs =
        fromSavedModel
            .to(Converter.tfjsTargetFor(fromSavedModel.sourceFormat()))
            .convert(graphModel);
    out.println(gs.line());
    TfjsModel graphBack = TfjsReader.read(graphModel.resolve("model.json"));
    int found = 0;
    for (KerasLayerWeights l : layers) {
      for (KerasWeight w : l.weights()) {
        Tensor want = w.data().get();
        found +=
            graphBack.weightsByName().values().stream()
                    .anyMatch(t -> t.bytes().equals(want.bytes()))
                ? 1
                : 0;
      }
    }
    if (found != checked) {
      throw new TfportException(
          graphModel + ": only " + found + " of " + checked + " weights read back identical");
    }
    out.println(
        "read back "
            + graphModel.resolve("model.json")
            + ": "
            + found
            + " weights identical; load it with tf.loadGraphModel in TensorFlow.js");
    return 0;
  }

  /**
   * A one-MetaGraph SavedModel (tag serve) whose serving_default signature maps x to probabilities.
   */
  private static org.tensorflow.proto.SavedModel savedModel(org.tensorflow.proto.GraphDef graph) {
    var shape = org.tensorflow.proto.TensorShapeProto.newBuilder();
    for (long d : new long[] {-1, 4}) {
      shape.addDim(org.tensorflow.proto.TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    var x =
        org.tensorflow.proto.TensorInfo.newBuilder()
            .setName("x:0")
            .setDtype(org.tensorflow.proto.DataType.DT_FLOAT)
            .setTensorShape(shape);
    var y =
        org.tensorflow.proto.TensorInfo.newBuilder()
            .setName("probabilities:0")
            .setDtype(org.tensorflow.proto.DataType.DT_FLOAT);
    var sig =
        org.tensorflow.proto.SignatureDef.newBuilder()
            .setMethodName("tensorflow/serving/predict")
            .putInputs("x", x.build())
            .putOutputs("probabilities", y.build());
    var meta =
        org.tensorflow.proto.MetaGraphDef.newBuilder()
            .setMetaInfoDef(
                org.tensorflow.proto.MetaGraphDef.MetaInfoDef.newBuilder().addTags("serve"))
            .setGraphDef(graph)
            .putSignatureDef("serving_default", sig.build());
    return org.tensorflow.proto.SavedModel.newBuilder()
        .setSavedModelSchemaVersion(1)
        .addMetaGraphs(meta)
        .build();
  }

  /** {@code softmax(relu(x @ k0 + b0) @ k1 + b1)} as a GraphDef, the weights as constants. */
  private static org.tensorflow.proto.GraphDef frozenGraph(List<KerasLayerWeights> layers) {
    var g = org.tensorflow.proto.GraphDef.newBuilder();
    var floatType =
        org.tensorflow.proto.AttrValue.newBuilder()
            .setType(org.tensorflow.proto.DataType.DT_FLOAT)
            .build();
    var shape =
        org.tensorflow.proto.TensorShapeProto.newBuilder()
            .addDim(org.tensorflow.proto.TensorShapeProto.Dim.newBuilder().setSize(-1))
            .addDim(org.tensorflow.proto.TensorShapeProto.Dim.newBuilder().setSize(4));
    g.addNode(
        org.tensorflow.proto.NodeDef.newBuilder()
            .setName("x")
            .setOp("Placeholder")
            .putAttr("dtype", floatType)
            .putAttr("shape", org.tensorflow.proto.AttrValue.newBuilder().setShape(shape).build()));
    String prev = "x";
    for (int i = 0; i < layers.size(); i++) {
      for (KerasWeight w : layers.get(i).weights()) {
        var t =
            org.tensorflow.proto.TensorProto.newBuilder()
                .setDtype(org.tensorflow.proto.DataType.DT_FLOAT)
                .setTensorContent(com.google.protobuf.ByteString.copyFrom(w.data().get().bytes()));
        var ts = org.tensorflow.proto.TensorShapeProto.newBuilder();
        for (long d : w.shape().dims()) {
          ts.addDim(org.tensorflow.proto.TensorShapeProto.Dim.newBuilder().setSize(d));
        }
        t.setTensorShape(ts);
        g.addNode(
            org.tensorflow.proto.NodeDef.newBuilder()
                .setName(w.name())
                .setOp("Const")
                .putAttr("dtype", floatType)
                .putAttr(
                    "value", org.tensorflow.proto.AttrValue.newBuilder().setTensor(t).build()));
      }
      String layer = layers.get(i).layerName();
      List<KerasWeight> ws = layers.get(i).weights();
      g.addNode(
          org.tensorflow.proto.NodeDef.newBuilder()
              .setName(layer + "/MatMul")
              .setOp("MatMul")
              .addInput(prev)
              .addInput(ws.get(0).name())
              .putAttr("T", floatType));
      g.addNode(
          org.tensorflow.proto.NodeDef.newBuilder()
              .setName(layer + "/BiasAdd")
              .setOp("BiasAdd")
              .addInput(layer + "/MatMul")
              .addInput(ws.get(1).name())
              .putAttr("T", floatType));
      boolean last = i == layers.size() - 1;
      prev = last ? "probabilities" : layer + "/Relu";
      g.addNode(
          org.tensorflow.proto.NodeDef.newBuilder()
              .setName(prev)
              .setOp(last ? "Softmax" : "Relu")
              .addInput(layer + "/BiasAdd")
              .putAttr("T", floatType));
    }
    return g.build();
  }

  private static KerasWeight weight(String name, long... dims) {
    Shape shape = Shape.of(dims);
    SplittableRandom r = new SplittableRandom(name.hashCode());
    float[] v = new float[Math.toIntExact(shape.size())];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (r.nextDouble() - 0.5);
    }
    Tensor t = Tensor.ofFloats(shape, v);
    return new KerasWeight(name, t.dtype(), shape, () -> t);
  }

  private static JsonNode config() {
    return Json.MAPPER.readTree(
        """
        {"class_name": "Sequential", "config": {"name": "demo", "layers": [
          {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "dtype": "float32",
            "sparse": false, "ragged": false, "name": "input"}},
          {"class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32",
            "units": 8, "activation": "relu", "use_bias": true,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null,
            "kernel_constraint": null, "bias_constraint": null}},
          {"class_name": "Dense", "config": {"name": "dense_1", "trainable": true, "dtype": "float32",
            "units": 3, "activation": "softmax", "use_bias": true,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null,
            "kernel_constraint": null, "bias_constraint": null}}]}}
        """);
  }
}
