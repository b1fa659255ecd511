package org.tfport.runtime.stablehlo;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tfport.formats.stablehlo.Func;
import org.tfport.formats.stablehlo.StableHloModule;
import org.tfport.formats.stablehlo.StableHloText;

/**
 * {@code scatter} in the forms JAX writes for {@code x.at[i].set/add/mul/min/max} (row, element,
 * column and window updates, duplicate and out-of-bounds indices) and {@code select_and_scatter}
 * (first and last of tied maxima), each with values worked out by hand in its {@code check}: under
 * the StableHLO spec, an update window that does not fit is dropped whole (as XLA does), duplicate
 * indices combine, and a GE select keeps the first maximum of a window, GT the last.
 */
class ScatterProgramsTest {

  /** {@code x.at[jnp.array([1, 3])].set(u)} on a 4x3 array: whole rows. */
  static final String SET_ROWS =
      """
      func.func public @set_rows() {
        %x = stablehlo.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [10.0, 11.0, 12.0]]> : tensor<4x3xf32>
        %i = stablehlo.constant dense<[[1], [3]]> : tensor<2x1xi32>
        %u = stablehlo.constant dense<[[-1.0, -2.0, -3.0], [-4.0, -5.0, -6.0]]> : tensor<2x3xf32>
        %r = "stablehlo.scatter"(%x, %i, %u) <{indices_are_sorted = true, scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [1], inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = true}> ({
        ^bb0(%a: tensor<f32>, %b: tensor<f32>):
          stablehlo.return %b : tensor<f32>
        }) : (tensor<4x3xf32>, tensor<2x1xi32>, tensor<2x3xf32>) -> tensor<4x3xf32>
        check.expect_eq_const %r, dense<[[1.0, 2.0, 3.0], [-1.0, -2.0, -3.0], [7.0, 8.0, 9.0], [-4.0, -5.0, -6.0]]> : tensor<4x3xf32>
        func.return
      }
      """;

  /** {@code x.at[idx].add(u)}: index 0 twice (summed), index 7 out of bounds (dropped). */
  static final String ADD_DUPLICATES =
      """
      func.func public @add_duplicates() {
        %x = stablehlo.constant dense<1.0> : tensor<5xf32>
        %i = stablehlo.constant dense<[[0], [2], [0], [7]]> : tensor<4x1xi32>
        %u = stablehlo.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
        %r = "stablehlo.scatter"(%x, %i, %u) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = false}> ({
        ^bb0(%a: tensor<f32>, %b: tensor<f32>):
          %s = stablehlo.add %a, %b : tensor<f32>
          stablehlo.return %s : tensor<f32>
        }) : (tensor<5xf32>, tensor<4x1xi32>, tensor<4xf32>) -> tensor<5xf32>
        check.expect_eq_const %r, dense<[5.0, 1.0, 3.0, 1.0, 1.0]> : tensor<5xf32>
        func.return
      }
      """;

  /** {@code x.at[idx].mul(u)} with a repeated index and a negative factor: 2 * 2 * -3. */
  static final String MUL_DUPLICATES =
      """
      func.func public @mul_duplicates() {
        %x = stablehlo.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
        %i = stablehlo.constant dense<[[1], [1], [3], [2]]> : tensor<4x1xi32>
        %u = stablehlo.constant dense<[2.0, -3.0, 0.5, 0.0]> : tensor<4xf32>
        %r = "stablehlo.scatter"(%x, %i, %u) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = false}> ({
        ^bb0(%a: tensor<f32>, %b: tensor<f32>):
          %s = stablehlo.multiply %a, %b : tensor<f32>
          stablehlo.return %s : tensor<f32>
        }) : (tensor<4xf32>, tensor<4x1xi32>, tensor<4xf32>) -> tensor<4xf32>
        check.expect_almost_eq_const %r, dense<[1.0, -12.0, 0.0, 2.0]> : tensor<4xf32>
        func.return
      }
      """;

  /** {@code x.at[2].mul(5)} on integers, indices declared unique. */
  static final String MUL_UNIQUE_INT =
      """
      func.func public @mul_unique_int() {
        %x = stablehlo.constant dense<[1, 2, 3]> : tensor<3xi32>
        %i = stablehlo.constant dense<2> : tensor<1xi32>
        %u = stablehlo.constant dense<5> : tensor<i32>
        %r = "stablehlo.scatter"(%x, %i, %u) <{indices_are_sorted = true, scatter_dimension_numbers = #stablehlo.scatter<inserted_window_dims = [0], scatter_dims_to_operand_dims = [0]>, unique_indices = true}> ({
        ^bb0(%a: tensor<i32>, %b: tensor<i32>):
          %s = stablehlo.multiply %a, %b : tensor<i32>
          stablehlo.return %s : tensor<i32>
        }) : (tensor<3xi32>, tensor<1xi32>, tensor<i32>) -> tensor<3xi32>
        check.expect_eq_const %r, dense<[1, 2, 15]> : tensor<3xi32>
        func.return
      }
      """;

  /** {@code x.at[idx].max(u)} and {@code .min(u)}; a max with unique indices, one below. */
  static final String MAX_MIN =
      """
      func.func public @max_min() {
        %x = stablehlo.constant dense<[1, 5, 3]> : tensor<3xi32>
        %i = stablehlo.constant dense<[[0], [1], [0]]> : tensor<3x1xi32>
        %u = stablehlo.constant dense<[4, 2, 7]> : tensor<3xi32>
        %r = "stablehlo.scatter"(%x, %i, %u) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = false}> ({
        ^bb0(%a: tensor<i32>, %b: tensor<i32>):
          %s = stablehlo.maximum %a, %b : tensor<i32>
          stablehlo.return %s : tensor<i32>
        }) : (tensor<3xi32>, tensor<3x1xi32>, tensor<3xi32>) -> tensor<3xi32>
        check.expect_eq_const %r, dense<[7, 5, 3]> : tensor<3xi32>
        %m = "stablehlo.scatter"(%x, %i, %u) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = false}> ({
        ^bb0(%a: tensor<i32>, %b: tensor<i32>):
          %s = stablehlo.minimum %b, %a : tensor<i32>
          stablehlo.return %s : tensor<i32>
        }) : (tensor<3xi32>, tensor<3x1xi32>, tensor<3xi32>) -> tensor<3xi32>
        check.expect_eq_const %m, dense<[1, 2, 3]> : tensor<3xi32>
        %j = stablehlo.constant dense<[[2], [0]]> : tensor<2x1xi32>
        %v = stablehlo.constant dense<[9, 0]> : tensor<2xi32>
        %q = "stablehlo.scatter"(%x, %j, %v) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = true}> ({
        ^bb0(%a: tensor<i32>, %b: tensor<i32>):
          %s = stablehlo.maximum %a, %b : tensor<i32>
          stablehlo.return %s : tensor<i32>
        }) : (tensor<3xi32>, tensor<2x1xi32>, tensor<2xi32>) -> tensor<3xi32>
        check.expect_eq_const %q, dense<[1, 5, 9]> : tensor<3xi32>
        func.return
      }
      """;

  /**
   * 2x2 windows at (0, 1) and (1, 2), overlapping at (1, 2), added; the window at (2, 3) would
   * reach past both dimensions and is dropped whole.
   */
  static final String WINDOWS =
      """
      func.func public @windows() {
        %x = stablehlo.constant dense<0.0> : tensor<3x4xf32>
        %i = stablehlo.constant dense<[[0, 1], [1, 2], [2, 3]]> : tensor<3x2xi64>
        %u = stablehlo.constant dense<[[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]], [[100.0, 100.0], [100.0, 100.0]]]> : tensor<3x2x2xf32>
        %r = "stablehlo.scatter"(%x, %i, %u) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [1, 2], scatter_dims_to_operand_dims = [0, 1], index_vector_dim = 1>, unique_indices = false}> ({
        ^bb0(%a: tensor<f32>, %b: tensor<f32>):
          %s = stablehlo.add %a, %b : tensor<f32>
          stablehlo.return %s : tensor<f32>
        }) : (tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x2x2xf32>) -> tensor<3x4xf32>
        check.expect_eq_const %r, dense<[[0.0, 1.0, 2.0, 0.0], [0.0, 3.0, 9.0, 6.0], [0.0, 0.0, 7.0, 8.0]]> : tensor<3x4xf32>
        func.return
      }
      """;

  /** {@code x.at[:, 2].set(v)}: index vector on dimension 0 of a rank-1 index, column window. */
  static final String SET_COLUMN =
      """
      func.func public @set_column() {
        %x = stablehlo.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
        %i = stablehlo.constant dense<2> : tensor<1xi32>
        %u = stablehlo.constant dense<[7.0, 8.0]> : tensor<2xf32>
        %r = "stablehlo.scatter"(%x, %i, %u) <{indices_are_sorted = true, scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [0], inserted_window_dims = [1], scatter_dims_to_operand_dims = [1]>, unique_indices = true}> ({
        ^bb0(%a: tensor<f32>, %b: tensor<f32>):
          stablehlo.return %b : tensor<f32>
        }) : (tensor<2x3xf32>, tensor<1xi32>, tensor<2xf32>) -> tensor<2x3xf32>
        check.expect_eq_const %r, dense<[[1.0, 2.0, 7.0], [4.0, 5.0, 8.0]]> : tensor<2x3xf32>
        func.return
      }
      """;

  /**
   * Windows of 2, stride 1, over [3, 3, 1, 1]: GE keeps the first of tied maxima, GT the last. GE:
   * window 0 picks 0, window 1 picks 1, window 2 picks 2: [1, 2, 4, 0]. GT: 1, 1, 3: [0, 3, 0, 4].
   */
  static final String SELECT_TIES =
      """
      func.func public @select_ties() {
        %x = stablehlo.constant dense<[3.0, 3.0, 1.0, 1.0]> : tensor<4xf32>
        %s = stablehlo.constant dense<[1.0, 2.0, 4.0]> : tensor<3xf32>
        %z = stablehlo.constant dense<0.0> : tensor<f32>
        %ge = "stablehlo.select_and_scatter"(%x, %s, %z) ({
          ^bb0(%a: tensor<f32>, %b: tensor<f32>):
            %c = stablehlo.compare GE, %a, %b : (tensor<f32>, tensor<f32>) -> tensor<i1>
            stablehlo.return %c : tensor<i1>
        }, {
          ^bb0(%a: tensor<f32>, %b: tensor<f32>):
            %c = stablehlo.add %a, %b : tensor<f32>
            stablehlo.return %c : tensor<f32>
        }) {window_dimensions = array<i64: 2>, window_strides = array<i64: 1>} : (tensor<4xf32>, tensor<3xf32>, tensor<f32>) -> tensor<4xf32>
        check.expect_eq_const %ge, dense<[1.0, 2.0, 4.0, 0.0]> : tensor<4xf32>
        %gt = "stablehlo.select_and_scatter"(%x, %s, %z) ({
          ^bb0(%a: tensor<f32>, %b: tensor<f32>):
            %c = stablehlo.compare GT, %a, %b : (tensor<f32>, tensor<f32>) -> tensor<i1>
            stablehlo.return %c : tensor<i1>
        }, {
          ^bb0(%a: tensor<f32>, %b: tensor<f32>):
            %c = stablehlo.add %a, %b : tensor<f32>
            stablehlo.return %c : tensor<f32>
        }) {window_dimensions = array<i64: 2>, window_strides = array<i64: 1>} : (tensor<4xf32>, tensor<3xf32>, tensor<f32>) -> tensor<4xf32>
        check.expect_eq_const %gt, dense<[0.0, 3.0, 0.0, 4.0]> : tensor<4xf32>
        func.return
      }
      """;

  /**
   * A 2x2 max-pool gradient (JAX's NHWC form, SAME-like padding of one on the bottom/right) over a
   * 1x3x3x1 image: each window's maximum receives its source value.
   */
  static final String MAX_POOL_GRAD =
      """
      func.func public @max_pool_grad() {
        %x = stablehlo.constant dense<[[[[1.0], [9.0], [2.0]], [[4.0], [5.0], [6.0]], [[7.0], [8.0], [3.0]]]]> : tensor<1x3x3x1xf32>
        %s = stablehlo.constant dense<[[[[10.0], [20.0]], [[30.0], [40.0]]]]> : tensor<1x2x2x1xf32>
        %z = stablehlo.constant dense<0.0> : tensor<f32>
        %r = "stablehlo.select_and_scatter"(%x, %s, %z) <{padding = dense<[[0, 0], [0, 1], [0, 1], [0, 0]]> : tensor<4x2xi64>, window_dimensions = array<i64: 1, 2, 2, 1>, window_strides = array<i64: 1, 2, 2, 1>}> ({
          ^bb0(%a: tensor<f32>, %b: tensor<f32>):
            %c = stablehlo.compare GE, %a, %b, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
            stablehlo.return %c : tensor<i1>
        }, {
          ^bb0(%a: tensor<f32>, %b: tensor<f32>):
            %c = stablehlo.add %a, %b : tensor<f32>
            stablehlo.return %c : tensor<f32>
        }) : (tensor<1x3x3x1xf32>, tensor<1x2x2x1xf32>, tensor<f32>) -> tensor<1x3x3x1xf32>
        check.expect_eq_const %r, dense<[[[[0.0], [10.0], [0.0]], [[0.0], [0.0], [20.0]], [[0.0], [30.0], [40.0]]]]> : tensor<1x3x3x1xf32>
        func.return
      }
      """;

  /**
   * Batching dimensions (vmap of {@code x.at[i].add(u)}): batch b adds u[b] at x[b, i[b]], and with
   * the batch on the operand's second dimension at x[i[b], b].
   */
  static final String BATCHED =
      """
      func.func public @batched_rows() {
        %x = stablehlo.constant dense<0.0> : tensor<2x3xf32>
        %i = stablehlo.constant dense<[[2], [0]]> : tensor<2x1xi32>
        %u = stablehlo.constant dense<[5.0, 7.0]> : tensor<2xf32>
        %r = "stablehlo.scatter"(%x, %i, %u) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<inserted_window_dims = [1], input_batching_dims = [0], scatter_indices_batching_dims = [0], scatter_dims_to_operand_dims = [1], index_vector_dim = 1>, unique_indices = false}> ({
        ^bb0(%a: tensor<f32>, %b: tensor<f32>):
          %s = stablehlo.add %a, %b : tensor<f32>
          stablehlo.return %s : tensor<f32>
        }) : (tensor<2x3xf32>, tensor<2x1xi32>, tensor<2xf32>) -> tensor<2x3xf32>
        check.expect_eq_const %r, dense<[[0.0, 0.0, 5.0], [7.0, 0.0, 0.0]]> : tensor<2x3xf32>
        func.return
      }
      func.func public @batched_columns() {
        %x = stablehlo.constant dense<1.0> : tensor<3x2xf32>
        %i = stablehlo.constant dense<[[2], [1]]> : tensor<2x1xi32>
        %u = stablehlo.constant dense<[5.0, 7.0]> : tensor<2xf32>
        %r = "stablehlo.scatter"(%x, %i, %u) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<inserted_window_dims = [0], input_batching_dims = [1], scatter_indices_batching_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = false}> ({
        ^bb0(%a: tensor<f32>, %b: tensor<f32>):
          stablehlo.return %b : tensor<f32>
        }) : (tensor<3x2xf32>, tensor<2x1xi32>, tensor<2xf32>) -> tensor<3x2xf32>
        check.expect_eq_const %r, dense<[[1.0, 1.0], [1.0, 7.0], [5.0, 1.0]]> : tensor<3x2xf32>
        func.return
      }
      """;

  @Test
  void batchingDimensionsGiveHandComputedValues() {
    assertThat(runAll(BATCHED)).isEqualTo(2);
  }

  @Test
  void scatterFormsGiveHandComputedValues() {
    int checks =
        runAll(
            SET_ROWS, ADD_DUPLICATES, MUL_DUPLICATES, MUL_UNIQUE_INT, MAX_MIN, WINDOWS, SET_COLUMN);
    assertThat(checks).isEqualTo(9);
  }

  @Test
  void selectAndScatterGivesHandComputedValues() {
    assertThat(runAll(SELECT_TIES, MAX_POOL_GRAD)).isEqualTo(3);
  }

  private static int runAll(String... programs) {
    List<String> failures = new ArrayList<>();
    int passed = 0;
    for (String p : programs) {
      StableHloModule m = StableHloText.parse(p, "scatter_test.mlir");
      for (Func f : m.funcs()) {
        for (StableHloPrograms.Outcome o : StableHloPrograms.run(m, f)) {
          if (o.failure() == null) {
            passed++;
          } else {
            failures.add(f.name() + " " + o.where() + ": " + o.failure());
          }
        }
      }
    }
    assertThat(failures).isEmpty();
    return passed;
  }
}
