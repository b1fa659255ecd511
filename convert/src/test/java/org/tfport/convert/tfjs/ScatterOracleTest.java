package org.tfport.convert.tfjs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.convert.tfjs.StableHloTargets.f32;
import static org.tfport.convert.tfjs.StableHloTargets.floats;
import static org.tfport.convert.tfjs.StableHloTargets.i32;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.tfjs.StableHloTargets.In;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.OracleTest;

/**
 * JAX's {@code x.at[i].add(u)}, {@code .set(u)} and {@code .max(u)} (unique indices) scatters and a
 * max-pool gradient ({@code select_and_scatter}), in JAX's printed form, converted with {@code
 * --input_format=stablehlo} and run in TF.js 4.22 and TFLite 2.18: both agree with tfport's
 * runtime, itself checked against a hand computation of the scatters (index 9 is out of bounds:
 * dropped); and a vmapped {@code x.at[i].add(u)}, whose scatter has batching dimensions.
 */
@OracleTest
class ScatterOracleTest {
  @TempDir Path tmp;

  static final String SCATTER =
      """
      module @jit_scatter {
        func.func public @main(%arg0: tensor<5x3xf32>, %arg1: tensor<3xi32>, %arg2: tensor<3x3xf32>) -> (tensor<5x3xf32>, tensor<5x3xf32>, tensor<5x3xf32>) {
          %0 = stablehlo.broadcast_in_dim %arg1, dims = [0] : (tensor<3xi32>) -> tensor<3x1xi32>
          %1 = "stablehlo.scatter"(%arg0, %0, %arg2) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [1], inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = false}> ({
          ^bb0(%a: tensor<f32>, %b: tensor<f32>):
            %s = stablehlo.add %a, %b : tensor<f32>
            stablehlo.return %s : tensor<f32>
          }) : (tensor<5x3xf32>, tensor<3x1xi32>, tensor<3x3xf32>) -> tensor<5x3xf32>
          %2 = "stablehlo.scatter"(%arg0, %0, %arg2) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [1], inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = true}> ({
          ^bb0(%a: tensor<f32>, %b: tensor<f32>):
            stablehlo.return %b : tensor<f32>
          }) : (tensor<5x3xf32>, tensor<3x1xi32>, tensor<3x3xf32>) -> tensor<5x3xf32>
          %3 = "stablehlo.scatter"(%arg0, %0, %arg2) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [1], inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = true}> ({
          ^bb0(%a: tensor<f32>, %b: tensor<f32>):
            %s = stablehlo.maximum %a, %b : tensor<f32>
            stablehlo.return %s : tensor<f32>
          }) : (tensor<5x3xf32>, tensor<3x1xi32>, tensor<3x3xf32>) -> tensor<5x3xf32>
          return %1, %2, %3 : tensor<5x3xf32>, tensor<5x3xf32>, tensor<5x3xf32>
        }
      }
      """;

  static final String POOL_GRAD =
      """
      module @jit_pool_grad {
        func.func public @main(%arg0: tensor<1x4x4x2xf32>, %arg1: tensor<1x2x2x2xf32>) -> tensor<1x4x4x2xf32> {
          %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>
          %0 = "stablehlo.select_and_scatter"(%arg0, %arg1, %cst) <{window_dimensions = array<i64: 1, 2, 2, 1>, window_strides = array<i64: 1, 2, 2, 1>}> ({
          ^bb0(%a: tensor<f32>, %b: tensor<f32>):
            %c = stablehlo.compare  GE, %a, %b,  FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
            stablehlo.return %c : tensor<i1>
          }, {
          ^bb0(%a: tensor<f32>, %b: tensor<f32>):
            %s = stablehlo.add %a, %b : tensor<f32>
            stablehlo.return %s : tensor<f32>
          }) : (tensor<1x4x4x2xf32>, tensor<1x2x2x2xf32>, tensor<f32>) -> tensor<1x4x4x2xf32>
          return %0 : tensor<1x4x4x2xf32>
        }
      }
      """;

  /** vmap of {@code x.at[i].add(u)} over the rows of x, i and u: batching dimensions. */
  static final String BATCHED =
      """
      module @jit_batched {
        func.func public @main(%arg0: tensor<2x5xf32>, %arg1: tensor<2x2xi32>, %arg2: tensor<2x2xf32>) -> tensor<2x5xf32> {
          %0 = stablehlo.broadcast_in_dim %arg1, dims = [0, 1] : (tensor<2x2xi32>) -> tensor<2x2x1xi32>
          %1 = "stablehlo.scatter"(%arg0, %0, %arg2) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<inserted_window_dims = [1], input_batching_dims = [0], scatter_indices_batching_dims = [0], scatter_dims_to_operand_dims = [1], index_vector_dim = 2>, unique_indices = false}> ({
          ^bb0(%a: tensor<f32>, %b: tensor<f32>):
            %s = stablehlo.add %a, %b : tensor<f32>
            stablehlo.return %s : tensor<f32>
          }) : (tensor<2x5xf32>, tensor<2x2x1xi32>, tensor<2x2xf32>) -> tensor<2x5xf32>
          return %1 : tensor<2x5xf32>
        }
      }
      """;

  @Test
  void scattersRunAlikeInTfjsAndTflite() throws Exception {
    Random rnd = new Random(7);
    float[] x = floats(rnd, 15);
    int[] idx = {4, 0, 9};
    float[] u = floats(rnd, 9);
    List<float[]> scatter =
        check(
            "scatter",
            SCATTER,
            List.of(f32("arg0", x, 5, 3), i32("arg1", idx, 3), f32("arg2", u, 3, 3)));
    float[] add = x.clone();
    float[] set = x.clone();
    float[] max = x.clone();
    for (int j = 0; j < 2; j++) {
      for (int c = 0; c < 3; c++) {
        add[idx[j] * 3 + c] += u[j * 3 + c];
        set[idx[j] * 3 + c] = u[j * 3 + c];
        max[idx[j] * 3 + c] = Math.max(x[idx[j] * 3 + c], u[j * 3 + c]);
      }
    }
    assertThat(Comparison.of(add, scatter.get(0), 1e-6, 1e-6).ok()).as("add by hand").isTrue();
    assertThat(Comparison.of(set, scatter.get(1), 0, 0).ok()).as("set by hand").isTrue();
    assertThat(Comparison.of(max, scatter.get(2), 0, 0).ok()).as("max by hand").isTrue();
    check(
        "pool_grad",
        POOL_GRAD,
        List.of(f32("arg0", floats(rnd, 32), 1, 4, 4, 2), f32("arg1", floats(rnd, 8), 1, 2, 2, 2)));
  }

  @Test
  void batchedScatterRunsAlikeInTfjsAndTflite() throws Exception {
    Random rnd = new Random(11);
    float[] x = floats(rnd, 10);
    // Row 1 names column 1 twice: both updates add up.
    int[] idx = {4, 0, 1, 1};
    float[] u = floats(rnd, 4);
    List<float[]> got =
        check(
            "batched",
            BATCHED,
            List.of(f32("arg0", x, 2, 5), i32("arg1", idx, 2, 2), f32("arg2", u, 2, 2)));
    float[] want = x.clone();
    for (int b = 0; b < 2; b++) {
      for (int k = 0; k < 2; k++) {
        want[b * 5 + idx[b * 2 + k]] += u[b * 2 + k];
      }
    }
    assertThat(Comparison.of(want, got.get(0), 1e-6, 1e-6).ok()).as("batched by hand").isTrue();
  }

  /** Runs the program in the runtime, TF.js and TFLite; returns the runtime's outputs. */
  private List<float[]> check(String name, String program, List<In> ins) throws Exception {
    StableHloTargets.Outcome o = StableHloTargets.run(tmp, name, program, ins);
    System.out.println("StableHLO scatter in TF.js and TFLite: " + o.line());
    assertThat(o.failures()).isEmpty();
    return o.runtime();
  }
}
