package org.tfport.runtime.stablehlo;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Node;
import org.tfport.graph.stablehlo.StableHloLowering;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;

/**
 * A module as {@code jax.export} serializes it for the symbolic shape {@code ("b", 4)}: {@code
 * @main} takes {@code tensor<?x4xf32>}, and the shapes of its {@code dynamic_iota}, {@code
 * dynamic_reshape}, {@code dynamic_broadcast_in_dim} and {@code real_dynamic_slice} are computed
 * from {@code get_dimension_size}. Lowered without input shapes, it is one graph with a {@code -1}
 * batch dimension that runs at batch 1 and 3 as the hand computation says.
 */
class DynamicShapeProgramTest {
  @TempDir Path tmp;

  /** y = x + rowsum(x) * row index; z = rows 1..b of x. */
  static final String EXPORTED =
      """
      module @jit_f attributes {jax.uses_shape_polymorphism = true, mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
        func.func public @main(%arg0: tensor<?x4xf32>) -> (tensor<?x4xf32> {jax.result_info = "[0]"}, tensor<?x4xf32> {jax.result_info = "[1]"}) {
          %0 = stablehlo.get_dimension_size %arg0, dim = 0 : (tensor<?x4xf32>) -> tensor<i32>
          %1 = stablehlo.convert %0 : (tensor<i32>) -> tensor<i64>
          %c = stablehlo.constant dense<1> : tensor<i64>
          %2 = stablehlo.compare  GE, %1, %c,  SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
          stablehlo.custom_call @shape_assertion(%2, %1) {api_version = 2 : i32, error_message = "Input shapes do not match the polymorphic shapes specification. Expected value >= 1 for dimension variable 'b'.", has_side_effect = true} : (tensor<i1>, tensor<i64>) -> ()
          %3:2 = call @_wrapped_jax_export_main(%1, %arg0) : (tensor<i64>, tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>)
          return %3#0, %3#1 : tensor<?x4xf32>, tensor<?x4xf32>
        }
        func.func private @_wrapped_jax_export_main(%arg0: tensor<i64> {jax.global_constant = "b"}, %arg1: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>) {
          %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>
          %0 = stablehlo.reduce(%arg1 init: %cst) applies stablehlo.add across dimensions = [1] : (tensor<?x4xf32>, tensor<f32>) -> tensor<?xf32>
          %1 = stablehlo.reshape %arg0 : (tensor<i64>) -> tensor<1xi64>
          %c = stablehlo.constant dense<1> : tensor<1xi64>
          %2 = stablehlo.concatenate %1, %c, dim = 0 : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
          %3 = stablehlo.dynamic_reshape %0, %2 : (tensor<?xf32>, tensor<2xi64>) -> tensor<?x1xf32>
          %4 = stablehlo.dynamic_iota %2, dim = 0 : (tensor<2xi64>) -> tensor<?x1xf32>
          %5 = stablehlo.multiply %3, %4 : tensor<?x1xf32>
          %c_0 = stablehlo.constant dense<4> : tensor<1xi64>
          %6 = stablehlo.concatenate %1, %c_0, dim = 0 : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
          %7 = stablehlo.dynamic_broadcast_in_dim %5, %6, dims = [0, 1] : (tensor<?x1xf32>, tensor<2xi64>) -> tensor<?x4xf32>
          %8 = stablehlo.add %arg1, %7 : tensor<?x4xf32>
          %c_1 = stablehlo.constant dense<[1, 0]> : tensor<2xi64>
          %c_2 = stablehlo.constant dense<1> : tensor<2xi64>
          %9 = stablehlo.real_dynamic_slice %arg1, %c_1, %6, %c_2 : (tensor<?x4xf32>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<?x4xf32>
          return %8, %9 : tensor<?x4xf32>, tensor<?x4xf32>
        }
      }
      """;

  static final float[] X = {0.5f, -1f, 2f, 0.25f, 1f, 1f, -3f, 0.5f, 2f, -0.5f, 0.75f, 1.5f};

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

  static Tensor f32(float[] v, long... shape) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return new Tensor(DType.FLOAT32, Shape.of(shape), b.flip());
  }

  @Test
  void oneGraphRunsEveryBatchSizeAsComputedByHand() throws Exception {
    Path mlir = tmp.resolve("exported.mlir");
    Files.writeString(mlir, EXPORTED);
    StableHloLowering.Lowered lw = StableHloLowering.load(mlir);
    Node in = lw.graph().node(lw.inputNames().get(0));
    assertThat(((AttrValue.Shape) in.attr("shape")).value().toString()).contains("-1");
    try (Model m = Model.load(mlir);
        Session s = m.newSession()) {
      for (int rows : new int[] {1, 3}) {
        float[] x = Arrays.copyOf(X, rows * 4);
        List<Tensor> out = new ArrayList<>(s.run(Map.of("arg0", f32(x, rows, 4))).values());
        assertThat(out.get(0).shape().dims())
            .as("y shape at batch " + rows)
            .containsExactly(rows, 4);
        assertThat(out.get(0).toFloatArray()).as("y at batch " + rows).containsExactly(y(x, rows));
        assertThat(out.get(1).shape().dims())
            .as("z shape at batch " + rows)
            .containsExactly(rows - 1, 4);
        assertThat(out.get(1).toFloatArray())
            .as("z at batch " + rows)
            .containsExactly(Arrays.copyOfRange(x, 4, rows * 4));
      }
    }
  }

  /**
   * A dense layer exported for {@code ("b", 3)}: {@code max(x @ W + bias, 0)}, the bias broadcast
   * to the computed {@code [b, 2]}. The product keeps the {@code ?} batch as the -1 of its
   * reshapes.
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
          %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>
          %6 = stablehlo.dynamic_broadcast_in_dim %cst, %2, dims = [] : (tensor<f32>, tensor<2xi64>) -> tensor<?x2xf32>
          %7 = stablehlo.maximum %4, %6 : tensor<?x2xf32>
          return %7 : tensor<?x2xf32>
        }
      }
      """;

  static final float[][] W = {{1f, -1f}, {0.5f, 2f}, {-2f, 0.25f}};
  static final float[] BIAS = {0.5f, -1f};

  @Test
  void denseLayerOfSymbolicBatchRunsAtBatchOneAndThree() throws Exception {
    Path mlir = tmp.resolve("dense.mlir");
    Files.writeString(mlir, DENSE);
    float[] all = {1f, 2f, 3f, -1f, 0.5f, 0.25f, 2f, -2f, 1f};
    try (Model m = Model.load(mlir);
        Session s = m.newSession()) {
      for (int rows : new int[] {1, 3}) {
        float[] x = Arrays.copyOf(all, rows * 3);
        float[] want = new float[rows * 2];
        for (int r = 0; r < rows; r++) {
          for (int c = 0; c < 2; c++) {
            float v = BIAS[c];
            for (int k = 0; k < 3; k++) {
              v += x[r * 3 + k] * W[k][c];
            }
            want[r * 2 + c] = Math.max(v, 0f);
          }
        }
        Tensor out = s.run(Map.of("arg0", f32(x, rows, 3))).values().iterator().next();
        assertThat(out.shape().dims()).containsExactly(rows, 2);
        assertThat(out.toFloatArray())
            .as("relu(x W + bias) at batch " + rows)
            .containsExactly(want, org.assertj.core.data.Offset.offset(1e-6f));
      }
    }
  }

  /**
   * A convolution of JAX's NCHW layout over a {@code ?} batch, padded below and right by one: the
   * Conv2D and its padding keep the batch dimension -1.
   */
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
  void convolutionOfSymbolicBatchRunsAtBatchOneAndThree() throws Exception {
    Path mlir = tmp.resolve("conv.mlir");
    Files.writeString(mlir, CONV);
    float[][] w = {{1f, 2f}, {-1f, 0.5f}};
    float[] all = new float[27];
    for (int k = 0; k < all.length; k++) {
      all[k] = (k % 7) * 0.5f - 1f;
    }
    try (Model m = Model.load(mlir);
        Session s = m.newSession()) {
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
        Tensor out = s.run(Map.of("arg0", f32(x, rows, 1, 3, 3))).values().iterator().next();
        assertThat(out.shape().dims()).containsExactly(rows, 1, 3, 3);
        assertThat(out.toFloatArray())
            .as("conv at batch " + rows)
            .containsExactly(want, org.assertj.core.data.Offset.offset(1e-6f));
      }
    }
  }
}
