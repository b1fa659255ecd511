package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.tfport.runtime.ops.NnTesting.ints;
import static org.tfport.runtime.ops.NnTesting.random;
import static org.tfport.runtime.ops.NnTesting.str;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.Value;
import org.tfport.testkit.OracleTest;

/**
 * Dilation2D against TensorFlow 2.18 on random shapes (filters 1–4, strides 1–3, rates 1–3, SAME
 * and VALID, float32 and float64): exact, since each output is one rounded sum.
 */
@OracleTest
class MorphologyOpsTest {
  private static Map<String, AttrValue> attrs(DType t, int sh, int sw, int rh, int rw, String p) {
    return OpOracle.attrs(
        "T", OpOracle.type(t),
        "strides", ints(1, sh, sw, 1),
        "rates", ints(1, rh, rw, 1),
        "padding", str(p));
  }

  @Test
  void dilation2dMatchesTensorFlow() {
    Random rnd = new Random(101);
    List<OpOracle.Call> calls = new ArrayList<>();
    List<Value> mine = new ArrayList<>();
    for (int k = 0; k < 40; k++) {
      DType t = k % 4 == 3 ? DType.FLOAT64 : DType.FLOAT32;
      String p = k % 2 == 0 ? "SAME" : "VALID";
      int fh = 1 + rnd.nextInt(4);
      int fw = 1 + rnd.nextInt(4);
      int rh = 1 + rnd.nextInt(3);
      int rw = 1 + rnd.nextInt(3);
      int h = (fh - 1) * rh + 1 + rnd.nextInt(6);
      int w = (fw - 1) * rw + 1 + rnd.nextInt(6);
      int depth = 1 + rnd.nextInt(3);
      Value x = random(rnd, t, 1 + rnd.nextInt(2), h, w, depth);
      Value f = random(rnd, t, fh, fw, depth);
      Map<String, AttrValue> a = attrs(t, 1 + rnd.nextInt(3), 1 + rnd.nextInt(3), rh, rw, p);
      mine.add(OpOracle.runKernel("Dilation2D", a, x, f)[0]);
      calls.add(new OpOracle.Call("Dilation2D", a, 1, x, f));
    }
    List<List<Value>> tf = OpOracle.runTensorFlow(calls);
    for (int k = 0; k < calls.size(); k++) {
      OpOracle.assertClose("Dilation2D case " + k, mine.get(k), tf.get(k).get(0), 0, 0);
    }
    assertThat(mine).hasSize(40);
  }

  @Test
  void handComputedSamePadding() {
    // 1x3x3x1 input 1..9, 2x2 filter all 0 except 10 at (0,0): SAME pads after, so the last
    // row and column see only their in-bounds taps.
    Value x = Value.floats(new long[] {1, 3, 3, 1}, new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
    Value f = Value.floats(new long[] {2, 2, 1}, new float[] {10, 0, 0, 0});
    Value y = OpOracle.runKernel("Dilation2D", attrs(DType.FLOAT32, 1, 1, 1, 1, "SAME"), x, f)[0];
    assertThat(y.shape()).containsExactly(1, 3, 3, 1);
    float[] expected = {11, 12, 13, 14, 15, 16, 17, 18, 19};
    for (int i = 0; i < 9; i++) {
      assertThat(y.doubleAt(i)).isEqualTo(expected[i]);
    }
  }

  @Test
  void filterDepthMustMatchInput() {
    Value x = Value.floats(new long[] {1, 3, 3, 2}, new float[18]);
    Value f = Value.floats(new long[] {2, 2, 1}, new float[4]);
    assertThatThrownBy(
            () -> OpOracle.runKernel("Dilation2D", attrs(DType.FLOAT32, 1, 1, 1, 1, "VALID"), x, f))
        .isInstanceOf(KernelException.class)
        .hasMessageContaining("is not [height, width, 2]");
  }
}
