package org.tfport.convert.tfjs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.tfport.runtime.optimize.TestGraphs.F32;
import static org.tfport.runtime.optimize.TestGraphs.conv;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.ConversionResult;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.core.ProgressListener;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.formats.graphdef.GraphDefWriter;
import org.tfport.graph.GraphOptions;
import org.tfport.runtime.optimize.RefEval;
import org.tfport.runtime.optimize.TestGraphs;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfjsOracle;

/** The optimizer inside the converter: the op checks around it, the switch, and the summary. */
class OptimizedPipelineTest {
  @TempDir Path tmp;

  /** conv -> BatchNormWithGlobalNormalization -> Relu: an op TF.js lacks, which folding removes. */
  static Graph convGlobalNorm(boolean afterConv) {
    Random r = new Random(4);
    TestGraphs t =
        TestGraphs.create()
            .placeholder("x", 1, 5, 5, 3)
            .constant("w", RefEval.random(r, 3, 3, 3, 4))
            .op("conv", "Conv2D", List.of("x", "w"), conv("SAME", 1))
            .constant("mean", RefEval.random(r, 4))
            .constant("var", RefEval.positive(r, 4))
            .constant("beta", RefEval.random(r, 4))
            .constant("gamma", RefEval.positive(r, 4));
    String in = afterConv ? "conv" : "relu0";
    if (!afterConv) {
      t.f("relu0", "Relu", "conv");
    }
    return t.op(
            "bn",
            "BatchNormWithGlobalNormalization",
            List.of(in, "mean", "var", "beta", "gamma"),
            "T",
            F32,
            "variance_epsilon",
            new AttrValue.Float(1e-3f),
            "scale_after_normalization",
            new AttrValue.Bool(true))
        .f("relu", "Relu", "bn")
        .output("relu")
        .graph();
  }

  Path write(Graph g, String name) throws Exception {
    return Files.write(tmp.resolve(name), GraphDefWriter.write(g));
  }

  @OracleTest
  @Test
  void anOpOnlyFoldingRemovesPassesTheCheckBeforeAndIsGoneAfter() throws Exception {
    Path pb = write(convGlobalNorm(true), "bn.pb");
    GraphOptions go = GraphOptions.defaults().withOutputNodeNames(List.of("relu"));
    Path out = tmp.resolve("out");
    ConversionResult s =
        TfGraphToTfjs.convertFrozen(
            pb, out, go, TfjsOutputOptions.defaults(), ProgressListener.NONE);
    assertThat(BuiltSavedModelTest.fusedOps(out)).containsExactly("_FusedConv2D[BiasAdd,Relu]");
    assertThat(Files.readString(out.resolve("model.json")))
        .doesNotContain("BatchNormWithGlobalNormalization");
    assertThat(s.detail())
        .contains(
            "before",
            "after freezing",
            "after optimizing",
            "fused 1 _FusedConv2D",
            "batch norms folded 1");
    assertThat(s.line()).contains("; graph: ").doesNotContain("\n");

    Tensor x = RefEval.random(new Random(8), 1, 5, 5, 3);
    float[] want = RefEval.run(convGlobalNorm(true), Map.of("x", x)).get(0).toFloatArray();
    TfjsOracle.Result r =
        TfjsOracle.run(
                List.of(
                    TfjsOracle.Job.graph(
                        out.resolve("model.json"),
                        List.of(
                            TfjsOracle.Input.f32("x", new long[] {1, 5, 5, 3}, x.toFloatArray())),
                        List.of("relu"))))
            .get(0)
            .orThrow();
    assertThat(Comparison.of(want, r.output(0).data(), E2e.ATOL, E2e.RTOL).ok()).isTrue();

    assertThatThrownBy(
            () ->
                TfGraphToTfjs.convertFrozen(
                    pb,
                    tmp.resolve("plain"),
                    go.withOptimize(false),
                    TfjsOutputOptions.defaults(),
                    ProgressListener.NONE))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("BatchNormWithGlobalNormalization (node 'bn')")
        .hasMessageContaining("frozen graph");
    assertThat(tmp.resolve("plain")).doesNotExist();

    Path unfoldable = write(convGlobalNorm(false), "unfoldable.pb");
    assertThatThrownBy(
            () ->
                TfGraphToTfjs.convertFrozen(
                    unfoldable,
                    tmp.resolve("no"),
                    go,
                    TfjsOutputOptions.defaults(),
                    ProgressListener.NONE))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("BatchNormWithGlobalNormalization (node 'bn')")
        .hasMessageContaining("optimized graph")
        .hasMessageNotContaining("\n");
  }

  @Test
  void withoutTheOptimizerTheSummarySaysSo() throws Exception {
    Graph g =
        TestGraphs.create()
            .placeholder("x", 2, 3)
            .constant("c", RefEval.random(new Random(1), 3))
            .f("y", "Mul", "x", "c")
            .output("y")
            .graph();
    Path pb = write(g, "mul.pb");
    ConversionResult s =
        TfGraphToTfjs.convertFrozen(
            pb,
            tmp.resolve("out"),
            GraphOptions.defaults().withOutputNodeNames(List.of("y")).withOptimize(false),
            TfjsOutputOptions.defaults(),
            ProgressListener.NONE);
    assertThat(s.detail())
        .isEqualTo("graph: 3 nodes before, 3 nodes after (0 variables frozen; not optimized)");
  }
}
