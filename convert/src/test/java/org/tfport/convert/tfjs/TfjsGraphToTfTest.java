package org.tfport.convert.tfjs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;

/** Hand-made graph models: what TensorFlow lacks is refused by name, TF.js's Prelu is rewritten. */
class TfjsGraphToTfTest {
  @TempDir Path tmp;

  private Path model(String extraNodes, String output) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("m" + System.nanoTime()));
    String json =
        """
        {"format": "graph-model", "generatedBy": "test", "convertedBy": "test",
         "modelTopology": {"node": [
           {"name": "x", "op": "Placeholder", "attr": {"dtype": {"type": "DT_FLOAT"},
             "shape": {"shape": {"dim": [{"size": "1"}, {"size": "4"}]}}}},
           {"name": "alpha", "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"},
             "value": {"tensor": {"dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "4"}]}}}}},
           %s
         ], "versions": {"producer": 1000}},
         "signature": {"inputs": {"x": {"name": "x:0", "dtype": "DT_FLOAT"}},
                       "outputs": {"y": {"name": "%s:0", "dtype": "DT_FLOAT"}}},
         "weightsManifest": [{"paths": ["w.bin"],
           "weights": [{"name": "alpha", "shape": [4], "dtype": "float32"}]}]}
        """
            .formatted(extraNodes, output);
    Files.writeString(dir.resolve("model.json"), json);
    java.nio.ByteBuffer b =
        java.nio.ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (float f : new float[] {0.5f, 0.25f, 2f, 0f}) {
      b.putFloat(f);
    }
    Files.write(dir.resolve("w.bin"), b.array());
    return dir.resolve("model.json");
  }

  @Test
  void aCustomOpIsRefusedByNameAndNothingIsWritten() throws Exception {
    Path mj =
        model(
            """
            {"name": "weird", "op": "MyCustomOp", "input": ["x", "alpha"]}""",
            "weird");
    Path out = tmp.resolve("out");
    assertThatThrownBy(() -> TfjsGraphToTf.convertSavedModel(mj, out))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining(mj.toString())
        .hasMessageContaining("MyCustomOp (node 'weird')")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    assertThat(out).doesNotExist();
    Path pb = tmp.resolve("out.pb");
    assertThatThrownBy(() -> TfjsGraphToTf.convertFrozen(mj, pb))
        .isInstanceOf(UnsupportedModelException.class);
    assertThat(pb).doesNotExist();
    try (var s = Files.list(tmp)) {
      assertThat(s.filter(p -> p.getFileName().toString().startsWith(".")).toList()).isEmpty();
    }
  }

  @Test
  @OracleTest
  void preluRunsInTensorFlowAsReluNegMul() throws Exception {
    Path mj =
        model(
            """
            {"name": "p", "op": "Prelu", "input": ["x", "alpha"]}""",
            "p");
    Path pb = tmp.resolve("prelu.pb");
    TfjsGraphToTf.convertFrozen(mj, pb);
    List<Tensor> out =
        TensorFlowOracle.run(
            Files.readAllBytes(pb),
            Map.of("x", Tensor.ofFloats(Shape.of(1, 4), -2f, -4f, 3f, -1f)),
            List.of("p:0"));
    // alpha = [0.5, 0.25, 2, 0]: negatives scaled by alpha, positives kept.
    assertThat(out.get(0).toFloatArray()).containsExactly(-1f, -1f, 3f, 0f);
  }

  /** The SavedModel's outputs carry the shapes the model.json signature declares. */
  @Test
  void signatureOutputsKeepTheirDeclaredShapes(@TempDir Path tmp) throws Exception {
    Path json =
        org.tfport.testkit.Corpus.require("tfjs/graph/tfjs-benchmarks_move_lstm_model/model.json");
    Path out = tmp.resolve("sm");
    TfjsGraphToTf.convertSavedModel(json, out);
    var sm =
        org.tensorflow.proto.SavedModel.parseFrom(
            Files.readAllBytes(out.resolve("saved_model.pb")));
    var sig = sm.getMetaGraphs(0).getSignatureDefOrThrow("serving_default");
    Map<String, List<Long>> shapes = new java.util.TreeMap<>();
    sig.getOutputsMap()
        .forEach(
            (k, v) ->
                shapes.put(
                    k,
                    v.getTensorShape().getDimList().stream()
                        .map(org.tensorflow.proto.TensorShapeProto.Dim::getSize)
                        .toList()));
    assertThat(shapes)
        .containsEntry("Identity:0", List.of(1L, 1L, 10L))
        .containsEntry("Identity_1:0", List.of(1L, 1L, 1L));
  }
}
