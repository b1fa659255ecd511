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
 * The optimized Relu/Relu6 give the reference kernel's bits (−0 to +0, NaN kept, values above 6) on
 * random lengths that do and do not fill a vector, with the Vector API and scalar loops; other
 * types run the reference kernel.
 */
class FastActivationOpsTest {
  @Test
  void matchesTheReferenceBitForBit() {
    Random r = new Random(3);
    Map<String, AttrValue> attrs = Map.of("T", new AttrValue.Type(DType.FLOAT32.tfEnum()));
    float[] special = {0f, -0f, Float.NaN, 6f, 6.5f, -7f, Float.POSITIVE_INFINITY};
    for (int trial = 0; trial < 40; trial++) {
      int n = r.nextInt(70);
      float[] v = new float[n];
      for (int i = 0; i < n; i++) {
        v[i] =
            r.nextInt(4) == 0 ? special[r.nextInt(special.length)] : (float) r.nextGaussian() * 5;
      }
      Value x = Value.floats(new long[] {1, n}, v);
      for (String op : new String[] {"Relu", "Relu6"}) {
        Value e = OpOracle.runKernel(Mode.REFERENCE, op, attrs, List.of(), x)[0];
        for (boolean scalar : new boolean[] {false, true}) {
          FastKernels.forceScalar(scalar);
          try {
            Value a = OpOracle.runKernel(Mode.OPTIMIZED, op, attrs, List.of(), x)[0];
            assertThat(a.shape()).containsExactly(e.shape());
            for (int i = 0; i < n; i++) {
              assertThat(Float.floatToRawIntBits(a.floats()[i]))
                  .as("%s scalar=%s of %s", op, scalar, v[i])
                  .isEqualTo(Float.floatToRawIntBits(e.floats()[i]));
            }
          } finally {
            FastKernels.forceScalar(false);
          }
        }
      }
      assertThat(x.floats()).as("the input is left alone").containsExactly(v);
    }
  }

  @Test
  void otherTypesRunTheReferenceKernel() {
    Map<String, AttrValue> attrs = Map.of("T", new AttrValue.Type(DType.INT32.tfEnum()));
    Value x = Value.ints(new long[] {3}, -2, 3, 9);
    assertThat(OpOracle.runKernel(Mode.OPTIMIZED, "Relu6", attrs, List.of(), x)[0].ints())
        .containsExactly(0, 3, 6);
  }
}
