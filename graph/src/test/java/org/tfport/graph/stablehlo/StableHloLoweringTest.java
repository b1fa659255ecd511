package org.tfport.graph.stablehlo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.formats.stablehlo.StableHloModule;
import org.tfport.formats.stablehlo.StableHloText;

/** What the lowering makes of small programs, and what it refuses. */
class StableHloLoweringTest {

  @Test
  void everyOpThatDoesNotLowerIsNamedWithItsLine() {
    String text =
        """
        module @jit_f {
          func.func public @main(%arg0: tensor<2xui64>, %arg1: tensor<4xf32>) -> (tensor<4xf32>) {
            %0:2 = stablehlo.rng_bit_generator %arg0, algorithm = THREE_FRY : (tensor<2xui64>) -> (tensor<2xui64>, tensor<4xui32>)
            %1 = stablehlo.custom_call @my_kernel(%arg1) : (tensor<4xf32>) -> tensor<4xf32>
            %2 = stablehlo.add %1, %arg1 : tensor<4xf32>
            return %2 : tensor<4xf32>
          }
        }
        """;
    StableHloModule m = StableHloText.parse(text, "prog.mlir");
    assertThatThrownBy(() -> StableHloLowering.lower(m))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageStartingWith("prog.mlir: 3 StableHLO ops cannot be lowered")
        .hasMessageContaining("line 2: argument %arg0: element type ui64")
        .hasMessageContaining("line 3: stablehlo.rng_bit_generator: random bits")
        .hasMessageContaining("line 4: stablehlo.custom_call: custom_call @my_kernel")
        .hasMessageNotContaining("stablehlo.add");
    List<StableHloLowering.Problem> problems = StableHloLowering.problems(m);
    assertThat(problems)
        .extracting(StableHloLowering.Problem::op)
        .containsExactly("argument %arg0", "stablehlo.rng_bit_generator", "stablehlo.custom_call");
  }

  @Test
  void aCustomCallWithoutATargetNameIsRefusedNotAnInternalError() {
    // Found by fuzzing the zipped SavedModel upload: a damaged XlaCallModule whose custom_call had
    // lost its call_target_name.
    String text =
        """
        func.func public @main(%arg0: tensor<4xf32>) -> tensor<4xf32> {
          %0 = "stablehlo.custom_call"(%arg0) {backend_config = ""} : (tensor<4xf32>) -> tensor<4xf32>
          return %0 : tensor<4xf32>
        }
        """;
    assertThatThrownBy(() -> StableHloLowering.lower(StableHloText.parse(text, "t.mlir")))
        .isInstanceOf(org.tfport.core.TfportException.class)
        .hasMessageContaining("line 2")
        .hasMessageContaining("custom_call");
  }

  @Test
  void rngBitGeneratorIsRefusedByName() {
    String text =
        """
        func.func public @main(%arg0: tensor<2xi64>) -> tensor<4xi32> {
          %0:2 = stablehlo.rng_bit_generator %arg0, algorithm = THREE_FRY : (tensor<2xi64>) -> (tensor<2xi64>, tensor<4xi32>)
          return %0#1 : tensor<4xi32>
        }
        """;
    assertThatThrownBy(() -> StableHloLowering.lower(StableHloText.parse(text, "r.mlir")))
        .hasMessageContaining("line 2: stablehlo.rng_bit_generator: random bits");
  }

  /**
   * dot_general with batch and contracting dimensions in the middle: transposes around one
   * BatchMatMulV2.
   */
  @Test
  void dotGeneralBecomesOneBatchMatMul() {
    String text =
        """
        func.func public @main(%a: tensor<3x2x5xf32>, %b: tensor<5x2x4xf32>) -> tensor<2x3x4xf32> {
          %0 = stablehlo.dot_general %a, %b, batching_dims = [1] x [1], contracting_dims = [2] x [0] : (tensor<3x2x5xf32>, tensor<5x2x4xf32>) -> tensor<2x3x4xf32>
          return %0 : tensor<2x3x4xf32>
        }
        """;
    StableHloLowering.Lowered lw = StableHloLowering.lower(StableHloText.parse(text, "d.mlir"));
    Graph g = lw.graph();
    assertThat(g.nodes().stream().map(Node::op).filter(o -> o.equals("BatchMatMulV2"))).hasSize(1);
    assertThat(lw.inputNames()).containsExactly("a", "b");
    assertThat(lw.outputNames()).containsExactly("output_0");
  }

  @Test
  void whileCarriesCapturedValuesThroughItsFunctions() {
    String text =
        """
        func.func public @main(%x: tensor<f32>) -> tensor<f32> {
          %ten = stablehlo.constant dense<10.0> : tensor<f32>
          %r = stablehlo.while(%v = %x) : tensor<f32>
           cond {
            %p = stablehlo.compare  LT, %v, %ten : (tensor<f32>, tensor<f32>) -> tensor<i1>
            stablehlo.return %p : tensor<i1>
          } do {
            %n = stablehlo.add %v, %ten : tensor<f32>
            stablehlo.return %n : tensor<f32>
          }
          return %r : tensor<f32>
        }
        """;
    Graph g = StableHloLowering.lower(StableHloText.parse(text, "w.mlir")).graph();
    Node w = g.nodes().stream().filter(n -> n.op().equals("While")).findFirst().orElseThrow();
    assertThat(w.inputs()).hasSize(2);
    assertThat(g.functions()).containsKeys("while_0_cond", "while_0_body");
    assertThat(g.function("while_0_body").outputArgs()).hasSize(2);
  }
}
