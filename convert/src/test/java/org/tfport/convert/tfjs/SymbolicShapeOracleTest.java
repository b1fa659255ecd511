package org.tfport.convert.tfjs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.tfport.convert.tfjs.StableHloTargets.f32;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.Converter;
import org.tfport.convert.GraphLoadingOptions;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.formats.ModelFormat;
import org.tfport.formats.stablehlo.StableHloText;
import org.tfport.graph.stablehlo.StableHloLowering;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfliteOracle;

/**
 * A function exported by {@code jax.export} with the symbolic shape {@code ("b", 4)} and called on
 * a 3x4 array, in JAX's printed form: {@code @main} computes the dimension variable {@code b} from
 * its input ({@code get_dimension_size}, {@code convert}) and passes it to the private function as
 * a {@code jax.global_constant = "b"} argument, its array through {@code
 * shape_refinement_operand_wrapper}. The function's {@code dynamic_iota}, {@code dynamic_reshape},
 * {@code dynamic_broadcast_in_dim} and {@code real_dynamic_slice} take shapes built from {@code b};
 * refined, they run in tfport's runtime as a hand computation says, and converted with {@code
 * --input_format=stablehlo} in TF.js 4.22 and TFLite 2.18 as in the runtime.
 */
@OracleTest
class SymbolicShapeOracleTest {
  @TempDir Path tmp;

  /** y = x + rowsum(x) * row index (broadcast over 4 columns); z = rows 1..b of x. */
  static final String WRAPPED =
      """
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
      """;

  /** As JAX calls the exported function from a jit of static shapes. */
  static final String PROGRAM =
      """
      module @jit_g attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
        func.func public @main(%arg0: tensor<3x4xf32>) -> (tensor<3x4xf32> {jax.result_info = "[0]"}, tensor<2x4xf32> {jax.result_info = "[1]"}) {
          %0 = stablehlo.get_dimension_size %arg0, dim = 0 : (tensor<3x4xf32>) -> tensor<i32>
          %1 = stablehlo.convert %0 : (tensor<i32>) -> tensor<i64>
          %c = stablehlo.constant dense<4> : tensor<i64>
          %2 = stablehlo.reshape %1 : (tensor<i64>) -> tensor<1xi64>
          %3 = stablehlo.reshape %c : (tensor<i64>) -> tensor<1xi64>
          %4 = stablehlo.concatenate %2, %3, dim = 0 : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
          %5 = stablehlo.custom_call @stablehlo.shape_refinement_operand_wrapper(%arg0, %4) {indices_of_shape_operands = dense<1> : tensor<1xi64>} : (tensor<3x4xf32>, tensor<2xi64>) -> tensor<?x4xf32>
          %6:2 = call @_wrapped_jax_export_main(%1, %5) : (tensor<i64>, tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>)
          %7 = stablehlo.reshape %6#0 : (tensor<?x4xf32>) -> tensor<3x4xf32>
          %8 = stablehlo.reshape %6#1 : (tensor<?x4xf32>) -> tensor<2x4xf32>
          return %7, %8 : tensor<3x4xf32>, tensor<2x4xf32>
        }
      """
          + WRAPPED
          + "}\n";

  /**
   * The exported module itself (what {@code jax.export} serializes): {@code @main} takes the {@code
   * ?x4} array, checks {@code b >= 1} with a {@code shape_assertion} and passes {@code b} on.
   */
  static final String EXPORTED =
      """
      module @jit_f attributes {jax.uses_shape_polymorphism = true, mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
        func.func public @main(%arg0: tensor<?x4xf32>) -> (tensor<?x4xf32> {jax.result_info = "[0]"}, tensor<?x4xf32> {jax.result_info = "[1]"}) {
          %0 = stablehlo.get_dimension_size %arg0, dim = 0 : (tensor<?x4xf32>) -> tensor<i32>
          %1 = stablehlo.convert %0 : (tensor<i32>) -> tensor<i64>
          %c = stablehlo.constant dense<1> : tensor<i64>
          %2 = stablehlo.compare  GE, %1, %c,  SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
          stablehlo.custom_call @shape_assertion(%2, %1) {api_version = 2 : i32, error_message = "Input shapes do not match the polymorphic shapes specification. Expected value >= 1 for dimension variable 'b'. Using the following polymorphic shapes specifications: args[0].shape = (b, 4). Obtained dimension variables: 'b' = {0} from specification 'b' for dimension args[0].shape[0] (= {0}), . Please see https://jax.readthedocs.io/en/latest/export/shape_poly.html#shape-assertion-errors for more details.", has_side_effect = true} : (tensor<i1>, tensor<i64>) -> ()
          %3:2 = call @_wrapped_jax_export_main(%1, %arg0) : (tensor<i64>, tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>)
          return %3#0, %3#1 : tensor<?x4xf32>, tensor<?x4xf32>
        }
      """
          + WRAPPED
          + "}\n";

  static final float[] X = {0.5f, -1f, 2f, 0.25f, 1f, 1f, -3f, 0.5f, 2f, -0.5f, 0.75f, 1.5f};

  /** y by hand: each row plus its sum times its index. */
  static float[] y(float[] x) {
    float[] y = new float[12];
    for (int r = 0; r < 3; r++) {
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

  @Test
  void refinedProgramRunsAsComputedByHandAndAlikeInTfjsAndTflite() throws Exception {
    float[] x = X;
    StableHloTargets.Outcome o =
        StableHloTargets.run(tmp, "symbolic", PROGRAM, List.of(f32("arg0", x, 3, 4)));
    float[] y = y(x);
    float[] z = Arrays.copyOfRange(x, 4, 12);
    assertThat(Comparison.of(y, o.runtime().get(0), 1e-6, 1e-6).ok()).as("y by hand").isTrue();
    assertThat(Comparison.of(z, o.runtime().get(1), 0, 0).ok()).as("z by hand").isTrue();
    System.out.println(o.line());
    assertThat(o.failures()).isEmpty();
  }

  /**
   * The exported module with {@code ?x4} input: refused by name as it stands, converted to TFLite
   * with the input's shape given ({@code --input_shapes}), where TFLite 2.18 computes y and z as by
   * hand.
   */
  @Test
  void exportedModuleConvertsWithTheInputShapeGiven() throws Exception {
    Path mlir = tmp.resolve("exported.mlir");
    Files.writeString(mlir, EXPORTED);
    Path tfl = tmp.resolve("exported.tflite");
    assertThatThrownBy(
            () -> Converter.from(mlir, ModelFormat.STABLEHLO).to(ModelFormat.TFLITE).convert(tfl))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("exported.mlir")
        .hasMessageContaining("dynamic shape")
        .hasMessageContaining("GraphLoadingOptions.inputShape");
    assertThat(tfl).doesNotExist();
    Converter.from(mlir, ModelFormat.STABLEHLO)
        .to(ModelFormat.TFLITE)
        .withGraphLoading(GraphLoadingOptions.builder().inputShape("arg0", 3, 4).build())
        .convert(tfl);
    List<TfliteOracle.Tensor> got =
        TfliteOracle.run(tfl, List.of(TfliteOracle.Tensor.f32(new int[] {3, 4}, X)));
    Comparison cy = Comparison.of(y(X), got.get(0).floats(), 1e-6, 1e-6);
    Comparison cz = Comparison.of(Arrays.copyOfRange(X, 4, 12), got.get(1).floats(), 0, 0);
    System.out.println("exported: tflite y max|d|=" + cy.maxAbs() + " z max|d|=" + cz.maxAbs());
    assertThat(cy.ok()).as("y in TFLite: " + cy).isTrue();
    assertThat(cz.ok()).as("z in TFLite: " + cz).isTrue();
    assertThatThrownBy(
            () -> StableHloLowering.load(mlir, java.util.Map.of("arg0", new long[] {3, 5})))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("argument %arg0: the input shape [3, 5] does not fit its type");
  }

  /**
   * A shape operand computed from an input's value, not its shape: nothing fixes it before running,
   * so it lowers to a BroadcastTo of the computed shape, which the runtime runs as given.
   */
  @Test
  void aShapeOperandThatDoesNotFoldIsComputedWhenRunning() throws Exception {
    String program =
        """
        module @jit_h {
          func.func public @main(%arg0: tensor<2xi32>, %arg1: tensor<f32>) -> tensor<?x?xf32> {
            %0 = stablehlo.dynamic_broadcast_in_dim %arg1, %arg0, dims = [] : (tensor<f32>, tensor<2xi32>) -> tensor<?x?xf32>
            return %0 : tensor<?x?xf32>
          }
        }
        """;
    assertThat(StableHloLowering.problems(StableHloText.parse(program, "h.mlir"))).isEmpty();
    Path mlir = tmp.resolve("h.mlir");
    Files.writeString(mlir, program);
    List<float[]> out =
        StableHloTargets.runtime(
            mlir,
            List.of(
                StableHloTargets.i32("arg0", new int[] {2, 3}, 2),
                StableHloTargets.f32("arg1", new float[] {1.5f})));
    assertThat(out.get(0)).containsExactly(1.5f, 1.5f, 1.5f, 1.5f, 1.5f, 1.5f);
  }
}
