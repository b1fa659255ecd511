package org.tfport.runtime.stablehlo;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.formats.stablehlo.Float8;
import org.tfport.formats.stablehlo.StableHloText;
import org.tfport.graph.stablehlo.StableHloLowering;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;

/**
 * A sum over f8E4M3FN values rounds its accumulator to the format after every step, as XLA's CPU
 * backend does (the reasoning, with XLA's file names, is on {@code Float8Reductions}). Row 0, [4,
 * 0.25, 2^-9], is where that differs from rounding once: 4 + 0.25 = 4.25 is a tie between 4 and 4.5
 * that goes to the even 4, and adding 2^-9 to 4 leaves 4; the exact sum 4.251953125 would round
 * once to 4.5.
 */
class Float8ReduceTest {
  static final String SUM =
      """
      module @jit_f {
        func.func public @main(%arg0: tensor<3x3xf8E4M3FN>) -> (tensor<3xf8E4M3FN>, tensor<3xf8E4M3FN>) {
          %cst = stablehlo.constant dense<0.000000e+00> : tensor<f8E4M3FN>
          %0 = stablehlo.reduce(%arg0 init: %cst) applies stablehlo.add across dimensions = [1] : (tensor<3x3xf8E4M3FN>, tensor<f8E4M3FN>) -> tensor<3xf8E4M3FN>
          %1 = stablehlo.reduce(%arg0 init: %cst) applies stablehlo.maximum across dimensions = [1] : (tensor<3x3xf8E4M3FN>, tensor<f8E4M3FN>) -> tensor<3xf8E4M3FN>
          return %0, %1 : tensor<3xf8E4M3FN>, tensor<3xf8E4M3FN>
        }
      }
      """;

  @Test
  void sumRoundsAfterEveryStep() {
    float tiny = 0x1p-9f;
    float[] x = {4f, 0.25f, tiny, 1f, 0.0625f, 0.0625f, -3f, 0.5f, 20f};
    StableHloLowering.Lowered lw = StableHloLowering.lower(StableHloText.parse(SUM, "sum.mlir"));
    float[] sum;
    float[] max;
    try (Model model = Model.fromGraph(lw.graph());
        Session s = model.newSession()) {
      var out = s.run(Map.of(lw.inputNames().get(0), Tensor.ofFloats(Shape.of(3, 3), x)));
      var it = out.values().iterator();
      sum = it.next().toFloatArray();
      max = it.next().toFloatArray();
    }
    Float8 f = Float8.of("f8E4M3FN");
    float[] perStep = new float[3];
    float[] once = new float[3];
    for (int r = 0; r < 3; r++) {
      double acc = 0;
      double exact = 0;
      for (int c = 0; c < 3; c++) {
        acc = f.round(acc + x[r * 3 + c]);
        exact += x[r * 3 + c];
      }
      perStep[r] = (float) acc;
      once[r] = (float) f.round(exact);
    }
    // Row 0 by hand, then every row against the per-step reference.
    assertThat(perStep[0]).isEqualTo(4f);
    assertThat(once[0]).isEqualTo(4.5f);
    assertThat(sum).containsExactly(perStep);
    // 1 + 0.0625 = 1.0625 ties to 1, and again: per step 1, once 1.125.
    assertThat(sum[1]).isEqualTo(1f);
    assertThat(once[1]).isEqualTo(1.125f);
    assertThat(max).containsExactly(4f, 1f, 20f);
  }
}
