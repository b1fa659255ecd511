package org.tfport.convert.tfjs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.Converter;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.formats.ModelFormat;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfjsOracle;

/**
 * The {@code jax.export} module of {@link SymbolicShapeOracleTest} ({@code ?x4} input, shapes
 * computed from {@code get_dimension_size}) converted with {@code --input_format=stablehlo} and no
 * input shapes: the TF.js graph model keeps the {@code -1} batch dimension, and TF.js 4.22 runs it
 * at batch 1 and 3 as the hand computation and tfport's runtime say. TFLite, whose writer plans
 * static shapes, refuses it naming {@code --input_shapes}.
 */
@OracleTest
class DynamicShapeOracleTest {
  @TempDir Path tmp;

  @Test
  void tfjsModelKeepsTheBatchDimensionAndRunsTwoBatchSizes() throws Exception {
    Path mlir = tmp.resolve("exported.mlir");
    Files.writeString(mlir, SymbolicShapeOracleTest.EXPORTED);
    Path js = tmp.resolve("exported_tfjs");
    Converter.from(mlir, ModelFormat.STABLEHLO).to(ModelFormat.TFJS_GRAPH_MODEL).convert(js);
    String inputShape =
        E2e.modelJson(js)
            .path("signature")
            .path("inputs")
            .path("arg0")
            .path("tensorShape")
            .toString();
    assertThat(inputShape).as("signature input shape").contains("-1");
    for (int rows : new int[] {1, 3}) {
      float[] x = Arrays.copyOf(SymbolicShapeOracleTest.X, rows * 4);
      float[] y = y(x, rows);
      float[] z = Arrays.copyOfRange(x, 4, rows * 4);
      List<float[]> runtime =
          StableHloTargets.runtime(mlir, List.of(StableHloTargets.f32("arg0", x, rows, 4)));
      TfjsOracle.Result r =
          TfjsOracle.run(
                  TfjsOracle.Job.graph(
                      js.resolve("model.json"),
                      List.of(TfjsOracle.Input.f32("arg0:0", new long[] {rows, 4}, x)),
                      E2e.outputNames(js)))
              .orThrow();
      Comparison ry = Comparison.of(y, runtime.get(0), 1e-6, 1e-6);
      Comparison jy = Comparison.of(y, r.output(0).data(), 1e-6, 1e-6);
      Comparison rz = Comparison.of(z, runtime.get(1), 0, 0);
      Comparison jz = Comparison.of(z, r.output(1).data(), 0, 0);
      System.out.printf(
          "dynamic batch %d: y runtime max|d|=%.2g tfjs max|d|=%.2g; z runtime %.2g tfjs %.2g%n",
          rows, ry.maxAbs(), jy.maxAbs(), rz.maxAbs(), jz.maxAbs());
      assertThat(r.output(0).shape()).as("tfjs y shape").containsExactly(rows, 4);
      assertThat(r.output(1).shape()).as("tfjs z shape").containsExactly(rows - 1, 4);
      assertThat(ry.ok()).as("y in the runtime at batch " + rows + ": " + ry).isTrue();
      assertThat(jy.ok()).as("y in TF.js at batch " + rows + ": " + jy).isTrue();
      assertThat(rz.ok()).as("z in the runtime at batch " + rows + ": " + rz).isTrue();
      assertThat(jz.ok()).as("z in TF.js at batch " + rows + ": " + jz).isTrue();
    }
    Path tfl = tmp.resolve("exported.tflite");
    assertThatThrownBy(
            () -> Converter.from(mlir, ModelFormat.STABLEHLO).to(ModelFormat.TFLITE).convert(tfl))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("exported.mlir")
        .hasMessageContaining("arg0 [?, 4]")
        .hasMessageContaining("--input_arrays=arg0 --input_shapes=1,4");
    assertThat(tfl).doesNotExist();
  }

  /** y by hand: each row plus its sum times its index. */
  static float[] y(float[] x, int rows) {
    float[] y = new float[rows * 4];
    for (int r = 0; r < rows; r++) {
      float sum = 0;
      for (int c = 0; c < 4; c++) {
        sum += x[r * 4 + c];
      }
      for (int c = 0; c < 4; c++) {
        y[r * 4 + c] = x[r * 4 + c] + sum * r;
      }
    }
    return y;
  }
}
