package org.tfport.convert.keras;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SavedObjectGraphOuterClass.SavedObject;
import org.tensorflow.proto.SavedObjectGraphOuterClass.SavedObjectGraph;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.core.ProgressListener;
import org.tfport.formats.savedmodel.BundleEntry;
import org.tfport.formats.savedmodel.TensorBundle;
import org.tfport.testkit.Corpus;

/**
 * The checkpoint keys and object paths tfport writes for {@code keras_saved_model} against what
 * Keras 2 writes: the corpus SavedModel Keras 2.12 wrote for {@code Sequential[LSTM, Dense]}
 * (weights in the LSTM's {@code cell}, so keyed {@code variables/N} from the root, and no
 * InputLayer among a Sequential's layers), read back through TF.js and written again; and the
 * nesting Keras 2 gives Bidirectional ({@code forward_layer}/{@code backward_layer}, each with its
 * {@code cell}), TimeDistributed ({@code layer}) and a nested model (its own {@code
 * layer_with_weights-N}), for which the corpus has no Keras-written SavedModel, so they are checked
 * against that rule.
 */
class KerasSavedModelKeysTest {
  @TempDir Path tmp;

  @Test
  void anLstmModelGetsTheKeysAndPathsKerasWrote() throws Exception {
    Path keras = Corpus.require("keras_savedmodel/scisharp_lstm");
    Path js = tmp.resolve("js");
    KerasToTfjs.convertSavedModel(keras, js, TfjsOutputOptions.defaults(), ProgressListener.NONE);
    Path out = tmp.resolve("sm");
    TfjsToKerasSavedModel.convert(js.resolve("model.json"), out);

    Map<String, BundleEntry> want = modelKeys(keras);
    Map<String, BundleEntry> got = modelKeys(out);
    assertThat(want.keySet())
        .contains("variables/0/.ATTRIBUTES/VARIABLE_VALUE")
        .contains("layer_with_weights-1/kernel/.ATTRIBUTES/VARIABLE_VALUE");
    assertThat(got.keySet()).isEqualTo(want.keySet());
    TensorBundle wb = TensorBundle.open(keras.resolve("variables/variables"));
    TensorBundle gb = TensorBundle.open(out.resolve("variables/variables"));
    for (String k : want.keySet()) {
      assertThat(got.get(k).shape()).as(k).isEqualTo(want.get(k).shape());
      assertThat(gb.read(k).bytes()).as(k).isEqualTo(wb.read(k).bytes());
    }
    SavedObjectGraph w = objects(keras);
    SavedObjectGraph g = objects(out);
    for (String p :
        List.of(
            "layer_with_weights-0",
            "layer-0",
            "layer_with_weights-0/cell",
            "layer_with_weights-0/cell/kernel",
            "layer_with_weights-0/cell/recurrent_kernel",
            "layer_with_weights-0/cell/bias",
            "layer_with_weights-1/kernel",
            "layer-1",
            "variables/4")) {
      SavedObject a = resolve(w, p);
      SavedObject b = resolve(g, p);
      assertThat(a).as("Keras' " + p).isNotNull();
      assertThat(b).as("tfport's " + p).isNotNull();
      assertThat(b.getKindCase()).as(p).isEqualTo(a.getKindCase());
      if (a.hasUserObject()) {
        assertThat(b.getUserObject().getIdentifier())
            .as(p)
            .isEqualTo(a.getUserObject().getIdentifier());
      }
      if (a.hasVariable()) {
        assertThat(b.getVariable().getShape()).as(p).isEqualTo(a.getVariable().getShape());
      }
    }
    // A Sequential's InputLayer is not one of its layers.
    assertThat(resolve(w, "layer-2")).isNull();
    assertThat(resolve(g, "layer-2")).isNull();
    assertThat(Files.readAllBytes(out.resolve("keras_metadata.pb")))
        .asString(java.nio.charset.StandardCharsets.ISO_8859_1)
        .contains("root.layer_with_weights-0.cell");
  }

  @Test
  void wrappersHoldTheirWeightsInTheirInnerLayers() throws Exception {
    SavedObjectGraph bi = writeBack("keras_h5/dl4j/weights/bidirectional_lstm_tensorflow_2.h5");
    Map<String, BundleEntry> keys = modelKeys(tmp.resolve("bidirectional_lstm_tensorflow_2.h5_sm"));
    for (String side : List.of("forward_layer", "backward_layer")) {
      assertThat(resolve(bi, "layer_with_weights-0/" + side).getUserObject().getIdentifier())
          .isEqualTo("_tf_keras_rnn_layer");
      for (String v : List.of("kernel", "recurrent_kernel", "bias")) {
        assertThat(resolve(bi, "layer_with_weights-0/" + side + "/cell/" + v).hasVariable())
            .as(side + "/cell/" + v)
            .isTrue();
      }
    }
    // Deeper than layer_with_weights-N/NAME, so keyed through the root's variables list.
    assertThat(keys.keySet()).filteredOn(k -> k.startsWith("variables/")).hasSize(6);
    assertThat(keys.keySet())
        .allMatch(k -> k.startsWith("variables/") || k.startsWith("layer_with_weights-1/"));

    SavedObjectGraph td = writeBack("keras_h5/dl4j/keras_simple/lstm_tf_model.h5");
    SavedObject inner = null;
    for (int i = 0; i < 3 && inner == null; i++) {
      inner = resolve(td, "layer_with_weights-" + i + "/layer/kernel");
    }
    assertThat(inner).as("TimeDistributed's layer/kernel").isNotNull();
    assertThat(inner.hasVariable()).isTrue();
  }

  @Test
  void aNestedModelHoldsItsWeightsInItsOwnLayers() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("nested"));
    String dense =
        "{\"class_name\": \"Dense\", \"config\": {\"name\": \"%s\", \"units\": %d,"
            + " \"activation\": \"relu\", \"use_bias\": true, \"trainable\": true%s}}";
    String inner =
        "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"inner\","
            + " \"batch_input_shape\": [null, 8], \"layers\": ["
            + String.format(dense, "d1", 4, ", \"batch_input_shape\": [null, 8]")
            + ", "
            + String.format(dense, "d2", 3, "")
            + "]}}";
    String[][] weights = {
      {"d1/kernel", "8, 4"},
      {"d1/bias", "4"},
      {"d2/kernel", "4, 3"},
      {"d2/bias", "3"},
      {"d3/kernel", "3, 1"},
      {"d3/bias", "1"}
    };
    StringBuilder manifest = new StringBuilder();
    for (String[] w : weights) {
      manifest
          .append(manifest.isEmpty() ? "" : ", ")
          .append("{\"name\": \"")
          .append(w[0])
          .append("\", \"shape\": [")
          .append(w[1])
          .append("], \"dtype\": \"float32\"}");
    }
    Files.writeString(
        dir.resolve("model.json"),
        "{\"modelTopology\": {\"class_name\": \"Sequential\", \"config\": {\"name\": \"outer\","
            + " \"layers\": ["
            + inner
            + ", "
            + String.format(dense, "d3", 1, "")
            + "]}, \"keras_version\": \"tfjs-layers 4.22.0\", \"backend\": \"tensor_flow.js\"},"
            + " \"weightsManifest\": [{\"paths\": [\"weights.bin\"], \"weights\": ["
            + manifest
            + "]}], \"format\": \"layers-model\"}");
    java.nio.ByteBuffer b =
        java.nio.ByteBuffer.allocate(4 * 55).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    java.util.Random rnd = new java.util.Random(3);
    for (int i = 0; i < 55; i++) {
      b.putFloat(rnd.nextFloat() - 0.5f);
    }
    Files.write(dir.resolve("weights.bin"), b.array());
    Path out = tmp.resolve("nested_sm");
    TfjsToKerasSavedModel.convert(dir.resolve("model.json"), out);
    SavedObjectGraph g = objects(out);

    assertThat(resolve(g, "layer_with_weights-0").getUserObject().getIdentifier())
        .isEqualTo("_tf_keras_sequential");
    for (String p :
        List.of(
            "layer_with_weights-0/layer_with_weights-0/kernel",
            "layer_with_weights-0/layer_with_weights-1/bias",
            "layer_with_weights-0/variables/3",
            "layer_with_weights-1/kernel")) {
      assertThat(resolve(g, p)).as(p).isNotNull();
      assertThat(resolve(g, p).hasVariable()).as(p).isTrue();
    }
    assertThat(
            resolve(g, "layer_with_weights-0/layer_with_weights-0/kernel").getVariable().getName())
        .isEqualTo("d1/kernel");
    // d1, d2 sit deeper than layer_with_weights-N/NAME: keyed by the root's variables list.
    assertThat(modelKeys(out).keySet())
        .containsExactlyInAnyOrder(
            "variables/0/.ATTRIBUTES/VARIABLE_VALUE",
            "variables/1/.ATTRIBUTES/VARIABLE_VALUE",
            "variables/2/.ATTRIBUTES/VARIABLE_VALUE",
            "variables/3/.ATTRIBUTES/VARIABLE_VALUE",
            "layer_with_weights-1/kernel/.ATTRIBUTES/VARIABLE_VALUE",
            "layer_with_weights-1/bias/.ATTRIBUTES/VARIABLE_VALUE");
  }

  private SavedObjectGraph writeBack(String rel) throws Exception {
    Path h5 = Corpus.require(rel);
    String name = h5.getFileName().toString();
    Path js = tmp.resolve(name + "_js");
    KerasToTfjs.convert(h5, js, TfjsOutputOptions.defaults(), ProgressListener.NONE);
    Path out = tmp.resolve(name + "_sm");
    TfjsToKerasSavedModel.convert(js.resolve("model.json"), out);
    return objects(out);
  }

  /** The checkpoint's model variables: Keras' optimizer and metric state left out. */
  private static Map<String, BundleEntry> modelKeys(Path dir) {
    TensorBundle b = TensorBundle.open(dir.resolve("variables/variables"));
    Map<String, BundleEntry> out = new TreeMap<>();
    for (String k : b.keys()) {
      if (!k.startsWith("_CHECKPOINTABLE")
          && !k.startsWith("optimizer/")
          && !k.startsWith("keras_api/")
          && !k.startsWith("save_counter")) {
        out.put(k, b.entry(k));
      }
    }
    return out;
  }

  private static SavedObjectGraph objects(Path dir) throws Exception {
    return SavedModel.parseFrom(Files.readAllBytes(dir.resolve("saved_model.pb")))
        .getMetaGraphs(0)
        .getObjectGraphDef();
  }

  /** The object at {@code path} (local names from the root), or null. */
  private static SavedObject resolve(SavedObjectGraph g, String path) {
    SavedObject o = g.getNodes(0);
    for (String part : path.split("/")) {
      SavedObject next = null;
      for (var c : o.getChildrenList()) {
        if (c.getLocalName().equals(part)) {
          next = g.getNodes(c.getNodeId());
        }
      }
      if (next == null) {
        return null;
      }
      o = next;
    }
    return o;
  }
}
