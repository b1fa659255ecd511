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
 * The optimized MaxPool/AvgPool give the reference kernel's bits on randomized NHWC shapes,
 * windows, strides and SAME/VALID padding, on one thread and on two.
 */
class FastPoolOpsTest {
  private static AttrValue ints(long... v) {
    return AttrValue.ListAttr.ofInts(java.util.Arrays.stream(v).boxed().toList());
  }

  @Test
  void matchesTheReferenceBitForBit() {
    Random r = new Random(7);
    int checked = 0;
    for (int trial = 0; trial < 60; trial++) {
      int n = 1 + r.nextInt(2);
      int h = 1 + r.nextInt(12);
      int w = 1 + r.nextInt(12);
      int c = 1 + r.nextInt(20);
      int kh = 1 + r.nextInt(4);
      int kw = 1 + r.nextInt(4);
      int sh = 1 + r.nextInt(3);
      int sw = 1 + r.nextInt(3);
      String padding = r.nextBoolean() ? "SAME" : "VALID";
      if (padding.equals("VALID") && (kh > h || kw > w)) {
        continue;
      }
      float[] v = new float[n * h * w * c];
      for (int i = 0; i < v.length; i++) {
        // Repeated values and signed zeros, where the first maximum and the sum order matter.
        v[i] = r.nextInt(8) == 0 ? (r.nextBoolean() ? 0f : -0f) : (float) r.nextGaussian() * 3;
      }
      Value x = Value.floats(new long[] {n, h, w, c}, v);
      Map<String, AttrValue> attrs =
          Map.of(
              "T", new AttrValue.Type(DType.FLOAT32.tfEnum()),
              "ksize", ints(1, kh, kw, 1),
              "strides", ints(1, sh, sw, 1),
              "padding", AttrValue.Str.of(padding));
      for (String op : new String[] {"MaxPool", "AvgPool"}) {
        String what = op + " " + x + " k" + kh + "x" + kw + " s" + sh + "x" + sw + " " + padding;
        Value e = OpOracle.runKernel(Mode.REFERENCE, op, attrs, List.of(), x)[0];
        for (int threads = 1; threads <= 2; threads++) {
          Value a =
              OpOracle.runKernel(
                  Mode.OPTIMIZED, op, attrs, List.of(), OpOracle.context(threads), x)[0];
          assertThat(a.shape()).as(what).containsExactly(e.shape());
          float[] af = a.floats();
          float[] ef = e.floats();
          for (int i = 0; i < ef.length; i++) {
            if (Float.floatToRawIntBits(af[i]) != Float.floatToRawIntBits(ef[i])) {
              assertThat(af[i]).as(what + " element " + i).isEqualTo(ef[i]);
            }
          }
        }
        checked++;
      }
    }
    assertThat(checked).isGreaterThan(60);
  }
}
