package org.tfport.runtime.stablehlo;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.graph.GraphLoader;
import org.tfport.graph.GraphOptions;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.testkit.Corpus;
import tools.jackson.databind.JsonNode;

/**
 * jax2tf models of the corpus (an {@code XlaCallModule} whose StableHLO calls back a TensorFlow
 * function through {@code tf.call_tf_function}): loaded with {@code Model.load} like any SavedModel
 * or GraphDef, they give the outputs their test data records, within 1e-5 relative.
 */
class Jax2TfCorpusTest {

  @Test
  void savedModelVersion6() throws Exception {
    Path d = Corpus.require("jax/jax2tf_call_tf_savedmodel");
    assertNoXlaLeft(
        GraphLoader.load(
                d.resolve("saved_model"),
                GraphOptions.defaults(),
                GraphLoader.DEFAULT_SIGNATURE,
                Set.of("serve"))
            .graph());
    try (Model model = Model.load(d.resolve("saved_model"))) {
      check(model, d);
    }
  }

  @Test
  void graphDefVersion5() throws Exception {
    Path d = Corpus.require("jax/jax2tf_call_tf_graphdef_v5");
    assertNoXlaLeft(
        GraphLoader.loadFrozen(
                d.resolve("graph_def.pb"),
                GraphOptions.defaults().withOutputNodeNames(List.of("the_result")))
            .graph());
    try (Model model = Model.load(d.resolve("graph_def.pb"))) {
      check(model, d);
    }
  }

  private static void assertNoXlaLeft(Graph g) {
    List<String> ops = g.nodes().stream().map(Node::op).toList();
    // The module's cosine and the called function's sine, as TensorFlow ops.
    assertThat(ops).doesNotContain("XlaCallModule", "XlaSharding", "PartitionedCall");
    assertThat(ops).contains("Sin", "Cos");
  }

  private static void check(Model model, Path d) throws Exception {
    JsonNode meta = Json.MAPPER.readTree(Files.readString(d.resolve("testdata_meta.json")));
    NumpyRepr.Array in = NumpyRepr.parse(meta.path("inputs").asString("")).get(0);
    NumpyRepr.Array want = NumpyRepr.parse(meta.path("expected_outputs").asString("")).get(0);
    ByteBuffer b = ByteBuffer.allocate(4 * in.values().length).order(ByteOrder.LITTLE_ENDIAN);
    for (double v : in.values()) {
      b.putFloat((float) v);
    }
    Tensor x = new Tensor(DType.FLOAT32, Shape.of(in.shape()), b.flip());
    String inputName = model.defaultSignature().inputs().get(0).name();
    try (Session s = model.newSession()) {
      Map<String, Tensor> out = s.run(Map.of(inputName, x));
      // The GraphDef has two sinks (Identity of the call and the result); both are the result.
      assertThat(out).isNotEmpty();
      for (Tensor t : out.values()) {
        assertThat(t.shape().dims()).containsExactly(want.shape());
        double[] got = StableHloPrograms.values(t);
        for (int i = 0; i < got.length; i++) {
          // Recorded by JAX on CPU: cos(sin(x)).
          assertThat(Math.abs(got[i] - want.values()[i]))
              .as(d + " element " + i)
              .isLessThanOrEqualTo(1e-5 * Math.abs(want.values()[i]));
          assertThat(got[i]).isCloseTo(Math.cos(Math.sin(in.values()[i])), Offset.offset(1e-6));
        }
      }
    }
  }
}
