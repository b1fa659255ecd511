package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.KernelRegistry.Mode;
import org.tfport.runtime.kernel.Value;

/**
 * The optimized AddV2/Add/Sub/Mul/Prelu give the reference kernel's bits on randomized shapes:
 * equal shapes, a per-channel or scalar second operand (the fast loops), and general broadcasts and
 * other types (the reference kernel they fall back to).
 */
class FastElementwiseOpsTest {
  private static final String[] OPS = {"AddV2", "Add", "Sub", "Mul", "Prelu"};

  private static Value random(Random r, long... shape) {
    float[] v = new float[(int) Value.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      // Some exact zeros and negative zeros, where Prelu's branch matters.
      v[i] = r.nextInt(10) == 0 ? (r.nextBoolean() ? 0f : -0f) : (float) r.nextGaussian();
    }
    return Value.floats(shape, v);
  }

  private static void assertSame(String op, Value x, Value y) {
    Map<String, AttrValue> attrs = Map.of("T", new AttrValue.Type(DType.FLOAT32.tfEnum()));
    Value e = OpOracle.runKernel(Mode.REFERENCE, op, attrs, List.of(), x, y)[0];
    Value a = OpOracle.runKernel(Mode.OPTIMIZED, op, attrs, List.of(), x, y)[0];
    String what = op + " " + x + " " + y;
    assertThat(a.shape()).as(what).containsExactly(e.shape());
    float[] af = a.floats();
    float[] ef = e.floats();
    for (int i = 0; i < ef.length; i++) {
      if (Float.floatToRawIntBits(af[i]) != Float.floatToRawIntBits(ef[i])) {
        assertThat(af[i]).as(what + " element " + i).isEqualTo(ef[i]);
      }
    }
  }

  @Test
  void matchesTheReferenceBitForBit() {
    Random r = new Random(42);
    for (int trial = 0; trial < 40; trial++) {
      long[] shape = new long[1 + r.nextInt(4)];
      for (int d = 0; d < shape.length; d++) {
        shape[d] = 1 + r.nextInt(7);
      }
      long c = shape[shape.length - 1];
      long[][] seconds = {
        shape.clone(),
        {c},
        {1, 1, c},
        {},
        {1},
        // a general broadcast: the reference path
        shape.length > 1 ? new long[] {shape[shape.length - 2], 1} : new long[] {1}
      };
      for (String op : OPS) {
        for (long[] ys : seconds) {
          assertSame(op, random(r, shape), random(r, ys));
        }
      }
    }
  }

  @Test
  void otherTypesRunTheReferenceKernel() {
    Map<String, AttrValue> attrs = Map.of("T", new AttrValue.Type(DType.INT32.tfEnum()));
    Value x = Value.of(DType.INT32, new long[] {3}, new int[] {1, -2, 3});
    Value y = Value.of(DType.INT32, new long[] {3}, new int[] {4, 5, -6});
    Value z = OpOracle.runKernel(Mode.OPTIMIZED, "AddV2", attrs, List.of(), x, y)[0];
    assertThat(z.ints()).containsExactly(5, 3, -3);
  }
}
