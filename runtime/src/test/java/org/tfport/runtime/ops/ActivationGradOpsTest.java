package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.OracleCases.Tol;
import org.tfport.testkit.OracleTest;

/**
 * The activation gradients against TensorFlow 2.18 on random float32 and float64 inputs of several
 * shapes, with the values where the derivatives switch (0, −0, 6, ±1) mixed in. Bit-identical,
 * except SoftplusGrad (TensorFlow's vectorized exp): |a−b| ≤ 1e-6·(1 + |b|).
 */
@OracleTest
class ActivationGradOpsTest {
  private static final OracleCases.Worst WORST = new OracleCases.Worst();
  private static final long[][] SHAPES = {{0}, {7}, {3, 5}, {2, 3, 4}, {2, 1, 3, 9}};
  private static final double[] SPECIAL = {0, -0.0, 6, 1, -1, 0.5, -6, 3e-8};

  @AfterAll
  static void report() {
    System.out.print("ActivationGradOpsTest worst |a-b|/max(1,|b|):\n" + WORST.summary());
  }

  private static Value values(Random rnd, DType t, double scale, long... shape) {
    int n = (int) Value.elementCount(shape);
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] =
          rnd.nextInt(5) == 0
              ? SPECIAL[rnd.nextInt(SPECIAL.length)]
              : (rnd.nextDouble() * 2 - 1) * scale;
    }
    return OracleCases.of(t, shape, v);
  }

  private static Map<String, AttrValue> attrs(DType t) {
    return OpOracle.attrs("T", OpOracle.type(t));
  }

  @Test
  void activationGradientsMatchTensorFlow() {
    Random rnd = new Random(131);
    GradCases cases = new GradCases(WORST);
    List<String> ops =
        List.of(
            "ReluGrad",
            "Relu6Grad",
            "EluGrad",
            "SeluGrad",
            "SoftplusGrad",
            "SoftsignGrad",
            "SigmoidGrad",
            "TanhGrad",
            "RsqrtGrad",
            "SqrtGrad",
            "ReciprocalGrad",
            "InvGrad");
    for (String op : ops) {
      for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
        for (long[] shape : SHAPES) {
          Tol tol = op.equals("SoftplusGrad") ? new Tol(1e-6, 1e-6) : Tol.EXACT;
          cases.add(
              op + " " + t.jsName() + Arrays.toString(shape),
              op,
              attrs(t),
              1,
              tol,
              values(rnd, t, 8, shape),
              values(rnd, t, 8, shape));
        }
      }
    }
    for (float alpha : new float[] {0.2f, 0.01f, 1.7f, 0.3f}) {
      for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
        long[] shape = SHAPES[rnd.nextInt(SHAPES.length)];
        Map<String, AttrValue> a = attrs(t);
        a.put("alpha", new AttrValue.Float(alpha));
        cases.add(
            "LeakyReluGrad alpha " + alpha + " " + t.jsName(),
            "LeakyReluGrad",
            a,
            1,
            Tol.EXACT,
            values(rnd, t, 8, shape),
            values(rnd, t, 8, shape));
      }
    }
    cases.check();
  }

  @Test
  void mismatchedShapesAreRefused() {
    Value a = Value.floats(new long[] {2}, 1, 2);
    Value b = Value.floats(new long[] {3}, 1, 2, 3);
    assertThatThrownBy(() -> OpOracle.runKernel("ReluGrad", attrs(DType.FLOAT32), a, b))
        .isInstanceOf(KernelException.class)
        .hasMessageContaining("same shape");
  }
}
