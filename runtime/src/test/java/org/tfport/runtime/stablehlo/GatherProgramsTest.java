package org.tfport.runtime.stablehlo;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tfport.formats.stablehlo.Func;
import org.tfport.formats.stablehlo.StableHloModule;
import org.tfport.formats.stablehlo.StableHloText;

/**
 * {@code gather} with {@code operand_batching_dims}/{@code start_indices_batching_dims}, the form
 * newer JAX writes for vmap'd indexing, with values worked out by hand in each {@code check}: under
 * the StableHLO spec, the slice for batch position b starts at operand coordinate b along the
 * paired batching dimension, and the indexed coordinates are clamped so the slice fits.
 */
class GatherProgramsTest {

  /** {@code jax.vmap(lambda x, i: x[i])(x, i)}: one element per row. */
  static final String ELEMENT_PER_ROW =
      """
      func.func public @element_per_row() {
        %x = stablehlo.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
        %i = stablehlo.constant dense<[[2], [0]]> : tensor<2x1xi32>
        %r = "stablehlo.gather"(%x, %i) <{dimension_numbers = #stablehlo.gather<collapsed_slice_dims = [1], operand_batching_dims = [0], start_indices_batching_dims = [0], start_index_map = [1], index_vector_dim = 1>, indices_are_sorted = false, slice_sizes = array<i64: 1, 1>}> : (tensor<2x3xf32>, tensor<2x1xi32>) -> tensor<2xf32>
        check.expect_eq_const %r, dense<[3.0, 4.0]> : tensor<2xf32>
        func.return
      }
      """;

  /**
   * {@code jax.vmap(lambda x, i: x[i])} over x [2, 4, 3]: a whole row per batch (an offset
   * dimension); x[b, r, c] = 100b + 10r + c.
   */
  static final String ROW_PER_BATCH =
      """
      func.func public @row_per_batch() {
        %x = stablehlo.constant dense<[[[0.0, 1.0, 2.0], [10.0, 11.0, 12.0], [20.0, 21.0, 22.0], [30.0, 31.0, 32.0]], [[100.0, 101.0, 102.0], [110.0, 111.0, 112.0], [120.0, 121.0, 122.0], [130.0, 131.0, 132.0]]]> : tensor<2x4x3xf32>
        %i = stablehlo.constant dense<[[3], [1]]> : tensor<2x1xi32>
        %r = "stablehlo.gather"(%x, %i) <{dimension_numbers = #stablehlo.gather<offset_dims = [1], collapsed_slice_dims = [1], operand_batching_dims = [0], start_indices_batching_dims = [0], start_index_map = [1], index_vector_dim = 1>, indices_are_sorted = false, slice_sizes = array<i64: 1, 1, 3>}> : (tensor<2x4x3xf32>, tensor<2x1xi32>) -> tensor<2x3xf32>
        check.expect_eq_const %r, dense<[[30.0, 31.0, 32.0], [110.0, 111.0, 112.0]]> : tensor<2x3xf32>
        func.return
      }
      """;

  /**
   * The batching dimension last in the operand; out-of-range indices clamped: x[clamp(i[b]), b]
   * with 5 -> 2 and -1 -> 0.
   */
  static final String CLAMPED_COLUMNS =
      """
      func.func public @clamped_columns() {
        %x = stablehlo.constant dense<[[1, 2], [3, 4], [5, 6]]> : tensor<3x2xi32>
        %i = stablehlo.constant dense<[[5], [-1]]> : tensor<2x1xi32>
        %r = "stablehlo.gather"(%x, %i) <{dimension_numbers = #stablehlo.gather<collapsed_slice_dims = [0], operand_batching_dims = [1], start_indices_batching_dims = [0], start_index_map = [0], index_vector_dim = 1>, indices_are_sorted = false, slice_sizes = array<i64: 1, 1>}> : (tensor<3x2xi32>, tensor<2x1xi32>) -> tensor<2xi32>
        check.expect_eq_const %r, dense<[5, 2]> : tensor<2xi32>
        func.return
      }
      """;

  /**
   * Indices [3, 1, 2] whose batching dimension (2) comes after the index vector dimension (1):
   * result[k, b] = x[b, i[k, 0, b]], x[b, j] = 10b + j.
   */
  static final String BATCHING_AFTER_INDEX_VECTOR =
      """
      func.func public @batching_after_index_vector() {
        %x = stablehlo.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0], [10.0, 11.0, 12.0, 13.0, 14.0]]> : tensor<2x5xf32>
        %i = stablehlo.constant dense<[[[4, 0]], [[0, 1]], [[2, 3]]]> : tensor<3x1x2xi64>
        %r = "stablehlo.gather"(%x, %i) <{dimension_numbers = #stablehlo.gather<collapsed_slice_dims = [1], operand_batching_dims = [0], start_indices_batching_dims = [2], start_index_map = [1], index_vector_dim = 1>, indices_are_sorted = false, slice_sizes = array<i64: 1, 1>}> : (tensor<2x5xf32>, tensor<3x1x2xi64>) -> tensor<3x2xf32>
        check.expect_eq_const %r, dense<[[4.0, 10.0], [0.0, 11.0], [2.0, 13.0]]> : tensor<3x2xf32>
        func.return
      }
      """;

  @Test
  void batchingDimensionsGiveHandComputedValues() {
    assertThat(runAll(ELEMENT_PER_ROW, ROW_PER_BATCH, CLAMPED_COLUMNS, BATCHING_AFTER_INDEX_VECTOR))
        .isEqualTo(4);
  }

  private static int runAll(String... programs) {
    List<String> failures = new ArrayList<>();
    int passed = 0;
    for (String p : programs) {
      StableHloModule m = StableHloText.parse(p, "gather_test.mlir");
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
