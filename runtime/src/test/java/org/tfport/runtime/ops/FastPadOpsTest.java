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
 * The optimized Pad/PadV2 give the reference kernel's bits on random ranks 1–5, shapes with empty
 * dimensions, paddings 0–3 per side and constants 0, −0 and non-zero; other types run the reference
 * kernel.
 */
class FastPadOpsTest {
  private static void assertSame(String op, Value... in) {
    Map<String, AttrValue> attrs = Map.of("T", new AttrValue.Type(in[0].dtype().tfEnum()));
    Value e = OpOracle.runKernel(Mode.REFERENCE, op, attrs, List.of(), in)[0];
    Value a = OpOracle.runKernel(Mode.OPTIMIZED, op, attrs, List.of(), in)[0];
    String what = op + " " + in[0] + " paddings " + java.util.Arrays.toString(in[1].ints());
    assertThat(a.shape()).as(what).containsExactly(e.shape());
    if (a.dtype() == DType.FLOAT32) {
      float[] af = a.floats();
      float[] ef = e.floats();
      for (int i = 0; i < ef.length; i++) {
        if (Float.floatToRawIntBits(af[i]) != Float.floatToRawIntBits(ef[i])) {
          assertThat(af[i]).as(what + " element " + i).isEqualTo(ef[i]);
        }
      }
    } else {
      assertThat(a.ints()).as(what).containsExactly(e.ints());
    }
  }

  @Test
  void matchesTheReferenceBitForBit() {
    Random r = new Random(31);
    float[] constants = {0f, -0f, 2.5f};
    for (int trial = 0; trial < 120; trial++) {
      int rank = 1 + r.nextInt(5);
      long[] shape = new long[rank];
      int[] pads = new int[2 * rank];
      for (int d = 0; d < rank; d++) {
        shape[d] = r.nextInt(12) == 0 ? 0 : 1 + r.nextInt(5);
        pads[2 * d] = r.nextInt(4);
        pads[2 * d + 1] = r.nextInt(4);
      }
      Value x = OpOracle.randomFloats(r, shape);
      Value paddings = Value.ints(new long[] {rank, 2}, pads);
      assertSame("Pad", x, paddings);
      float c = constants[trial % constants.length];
      assertSame("PadV2", x, paddings, Value.floats(new long[] {}, c));
    }
  }

  @Test
  void otherTypesRunTheReferenceKernel() {
    Value x = Value.ints(new long[] {2, 2}, 1, 2, 3, 4);
    Value paddings = Value.ints(new long[] {2, 2}, 1, 0, 0, 1);
    assertSame("Pad", x, paddings);
    Value y =
        OpOracle.runKernel(
            Mode.OPTIMIZED,
            "Pad",
            Map.of("T", new AttrValue.Type(DType.INT32.tfEnum())),
            List.of(),
            x,
            paddings)[0];
    assertThat(y.ints()).containsExactly(0, 0, 0, 1, 2, 0, 3, 4, 0);
  }
}
