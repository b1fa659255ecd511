package org.tfport.runtime.stablehlo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.testkit.Corpus;
import tools.jackson.databind.JsonNode;

/**
 * The {@code jax.export} modules of the corpus, loaded from their MLIR text with {@code Model.load}
 * and run on the inputs their test data records: outputs within 1e-5 relative of the recorded ones
 * (integers equal).
 */
class JaxExportCorpusTest {

  @Test
  void sinDummy() throws Exception {
    assertThat(runCase("jax/jax_export_sin_dummy", TEXT)).isEqualTo(1);
    assertThat(runCase("jax/jax_export_sin_dummy", BYTECODE)).isEqualTo(1);
  }

  @Test
  void addWithShardyAndPlacementAnnotation() throws Exception {
    assertThat(runCase("jax/jax_export_add_sdy_v1_13", TEXT)).isEqualTo(1);
    assertThat(runCase("jax/jax_export_add_sdy_v1_13", BYTECODE)).isEqualTo(1);
  }

  @Test
  void dynamicTopKWithSymbolicDimension() throws Exception {
    assertThat(runCase("jax/jax_export_dynamic_top_k", TEXT)).isEqualTo(2);
    assertThat(runCase("jax/jax_export_dynamic_top_k", BYTECODE)).isEqualTo(2);
  }

  private static final String TEXT = "mlir_module_text.txt";
  private static final String BYTECODE = "module.mlirbc";

  /** jax2tf's call_tf custom call names a TF function, which a bare module does not carry. */
  @Test
  void callTfFunctionIsRefusedByNameAndLine() {
    Path text = Corpus.require("jax/jax2tf_call_tf_savedmodel/mlir_module_text.txt");
    assertThatThrownBy(() -> Model.load(text))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("custom_call @tf.call_tf_function")
        .hasMessageMatching("(?s).*line [0-9]+: stablehlo.custom_call.*");
  }

  /** Runs one case and returns how many outputs matched. */
  private static int runCase(String dir, String file) throws Exception {
    Path d = Corpus.require(dir);
    JsonNode meta = Json.MAPPER.readTree(Files.readString(d.resolve("testdata_meta.json")));
    List<NumpyRepr.Array> ins = NumpyRepr.parse(meta.path("inputs").asString(""));
    List<NumpyRepr.Array> want = NumpyRepr.parse(meta.path("expected_outputs").asString(""));
    int matched = 0;
    try (Model model = Model.load(d.resolve(file));
        Session s = model.newSession()) {
      Map<String, Tensor> feed = new LinkedHashMap<>();
      for (int i = 0; i < ins.size(); i++) {
        feed.put("arg" + i, tensor(ins.get(i)));
      }
      Map<String, Tensor> out = s.run(feed);
      assertThat(out).hasSize(want.size());
      int k = 0;
      for (Tensor t : out.values()) {
        NumpyRepr.Array w = want.get(k++);
        assertThat(t.shape().dims())
            .as(dir + "/" + file + " output " + k)
            .containsExactly(w.shape());
        double[] got = StableHloPrograms.values(t);
        for (int i = 0; i < got.length; i++) {
          double tol = w.dtype().startsWith("float") ? 1e-5 * Math.abs(w.values()[i]) : 0;
          assertThat(Math.abs(got[i] - w.values()[i]))
              .as(dir + " output " + k + " element " + i)
              .isLessThanOrEqualTo(tol);
        }
        matched++;
      }
    }
    return matched;
  }

  private static Tensor tensor(NumpyRepr.Array a) {
    int n = a.values().length;
    if (a.dtype().equals("float32")) {
      ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
      for (double v : a.values()) {
        b.putFloat((float) v);
      }
      return new Tensor(DType.FLOAT32, Shape.of(a.shape()), b.flip());
    }
    ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (double v : a.values()) {
      b.putInt((int) v);
    }
    return new Tensor(DType.INT32, Shape.of(a.shape()), b.flip());
  }
}
