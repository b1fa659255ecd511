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
        .hasMessageContaining(
            "GraphLoadingOptions.inputNodeNames=arg0 GraphLoadingOptions.inputShape=1,4");
    assertThat(tfl).doesNotExist();
  }

  /**
   * A dense layer exported for {@code ("b", 3)}: {@code x @ W + bias} with the bias broadcast to
   * the computed {@code [b, 2]}, then the row index added through {@code dynamic_iota}.
   */
  static final String DENSE =
      """
      module @jit_dense attributes {jax.uses_shape_polymorphism = true} {
        func.func public @main(%arg0: tensor<?x3xf32>) -> tensor<?x2xf32> {
          %0 = stablehlo.get_dimension_size %arg0, dim = 0 : (tensor<?x3xf32>) -> tensor<i32>
          %1 = stablehlo.convert %0 : (tensor<i32>) -> tensor<i64>
          %2 = call @_wrapped_jax_export_main(%1, %arg0) : (tensor<i64>, tensor<?x3xf32>) -> tensor<?x2xf32>
          return %2 : tensor<?x2xf32>
        }
        func.func private @_wrapped_jax_export_main(%arg0: tensor<i64> {jax.global_constant = "b"}, %arg1: tensor<?x3xf32>) -> tensor<?x2xf32> {
          %w = stablehlo.constant dense<[[1.0, -1.0], [0.5, 2.0], [-2.0, 0.25]]> : tensor<3x2xf32>
          %bias = stablehlo.constant dense<[0.5, -1.0]> : tensor<2xf32>
          %0 = stablehlo.dot_general %arg1, %w, contracting_dims = [1] x [0] : (tensor<?x3xf32>, tensor<3x2xf32>) -> tensor<?x2xf32>
          %1 = stablehlo.broadcast_in_dim %arg0, dims = [] : (tensor<i64>) -> tensor<1xi64>
          %c = stablehlo.constant dense<2> : tensor<1xi64>
          %2 = stablehlo.concatenate %1, %c, dim = 0 : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
          %3 = stablehlo.dynamic_broadcast_in_dim %bias, %2, dims = [1] : (tensor<2xf32>, tensor<2xi64>) -> tensor<?x2xf32>
          %4 = stablehlo.add %0, %3 : tensor<?x2xf32>
          %5 = stablehlo.dynamic_iota %2, dim = 0 : (tensor<2xi64>) -> tensor<?x2xf32>
          %6 = stablehlo.add %4, %5 : tensor<?x2xf32>
          return %6 : tensor<?x2xf32>
        }
      }
      """;

  @Test
  void denseLayerOfSymbolicBatchRunsInTfjsAtTwoBatchSizes() throws Exception {
    Path mlir = tmp.resolve("dense.mlir");
    Files.writeString(mlir, DENSE);
    Path js = tmp.resolve("dense_tfjs");
    Converter.from(mlir, ModelFormat.STABLEHLO).to(ModelFormat.TFJS_GRAPH_MODEL).convert(js);
    float[][] w = {{1f, -1f}, {0.5f, 2f}, {-2f, 0.25f}};
    float[] bias = {0.5f, -1f};
    float[] all = {1f, 2f, 3f, -1f, 0.5f, 0.25f, 2f, -2f, 1f};
    for (int rows : new int[] {1, 3}) {
      float[] x = Arrays.copyOf(all, rows * 3);
      float[] want = new float[rows * 2];
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < 2; c++) {
          float v = bias[c] + r;
          for (int k = 0; k < 3; k++) {
            v += x[r * 3 + k] * w[k][c];
          }
          want[r * 2 + c] = v;
        }
      }
      List<float[]> runtime =
          StableHloTargets.runtime(mlir, List.of(StableHloTargets.f32("arg0", x, rows, 3)));
      TfjsOracle.Result r =
          TfjsOracle.run(
                  TfjsOracle.Job.graph(
                      js.resolve("model.json"),
                      List.of(TfjsOracle.Input.f32("arg0:0", new long[] {rows, 3}, x)),
                      E2e.outputNames(js)))
              .orThrow();
      Comparison cr = Comparison.of(want, runtime.get(0), 1e-6, 1e-6);
      Comparison cj = Comparison.of(want, r.output(0).data(), 1e-5, 1e-5);
      System.out.printf(
          "dense batch %d: runtime max|d|=%.2g tfjs max|d|=%.2g%n", rows, cr.maxAbs(), cj.maxAbs());
      assertThat(r.output(0).shape()).as("tfjs shape").containsExactly(rows, 2);
      assertThat(cr.ok()).as("runtime at batch " + rows + ": " + cr).isTrue();
      assertThat(cj.ok()).as("TF.js at batch " + rows + ": " + cj).isTrue();
    }
  }

  /** JAX's NCHW convolution over a {@code ?} batch, padded below and right by one. */
  static final String CONV =
      """
      module @jit_conv attributes {jax.uses_shape_polymorphism = true} {
        func.func public @main(%arg0: tensor<?x1x3x3xf32>) -> tensor<?x1x3x3xf32> {
          %w = stablehlo.constant dense<[[[[1.0, 2.0], [-1.0, 0.5]]]]> : tensor<1x1x2x2xf32>
          %0 = stablehlo.convolution(%arg0, %w) dim_numbers = [b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1], window = {stride = [1, 1], pad = [[0, 1], [0, 1]], rhs_dilate = [1, 1]} {batch_group_count = 1 : i64, feature_group_count = 1 : i64} : (tensor<?x1x3x3xf32>, tensor<1x1x2x2xf32>) -> tensor<?x1x3x3xf32>
          return %0 : tensor<?x1x3x3xf32>
        }
      }
      """;

  @Test
  void convolutionOfSymbolicBatchRunsInTfjsAtTwoBatchSizes() throws Exception {
    Path mlir = tmp.resolve("conv.mlir");
    Files.writeString(mlir, CONV);
    Path js = tmp.resolve("conv_tfjs");
    Converter.from(mlir, ModelFormat.STABLEHLO).to(ModelFormat.TFJS_GRAPH_MODEL).convert(js);
    float[][] w = {{1f, 2f}, {-1f, 0.5f}};
    float[] all = new float[27];
    for (int k = 0; k < all.length; k++) {
      all[k] = (k % 7) * 0.5f - 1f;
    }
    for (int rows : new int[] {1, 3}) {
      float[] x = Arrays.copyOf(all, rows * 9);
      float[] want = new float[rows * 9];
      for (int b = 0; b < rows; b++) {
        for (int i = 0; i < 3; i++) {
          for (int j = 0; j < 3; j++) {
            float v = 0;
            for (int di = 0; di < 2; di++) {
              for (int dj = 0; dj < 2; dj++) {
                if (i + di < 3 && j + dj < 3) {
                  v += x[b * 9 + (i + di) * 3 + j + dj] * w[di][dj];
                }
              }
            }
            want[b * 9 + i * 3 + j] = v;
          }
        }
      }
      List<float[]> runtime =
          StableHloTargets.runtime(mlir, List.of(StableHloTargets.f32("arg0", x, rows, 1, 3, 3)));
      TfjsOracle.Result r =
          TfjsOracle.run(
                  TfjsOracle.Job.graph(
                      js.resolve("model.json"),
                      List.of(TfjsOracle.Input.f32("arg0:0", new long[] {rows, 1, 3, 3}, x)),
                      E2e.outputNames(js)))
              .orThrow();
      Comparison cr = Comparison.of(want, runtime.get(0), 1e-6, 1e-6);
      Comparison cj = Comparison.of(want, r.output(0).data(), 1e-5, 1e-5);
      System.out.printf(
          "conv batch %d: runtime max|d|=%.2g tfjs max|d|=%.2g%n", rows, cr.maxAbs(), cj.maxAbs());
      assertThat(r.output(0).shape()).as("tfjs shape").containsExactly(rows, 1, 3, 3);
      assertThat(cr.ok()).as("runtime at batch " + rows + ": " + cr).isTrue();
      assertThat(cj.ok()).as("TF.js at batch " + rows + ": " + cj).isTrue();
    }
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
