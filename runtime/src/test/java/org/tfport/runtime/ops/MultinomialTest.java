package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.runtime.ops.ExactOracle.t;
import static org.tfport.runtime.ops.OpOracle.attrs;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.Value;
import org.tfport.testkit.OracleTest;

/**
 * Multinomial against TensorFlow 2.18 with fixed seeds: identical samples for batches TensorFlow
 * draws in one shard (every case here stays under its sharding cost), including -inf logits; and
 * the sample frequencies of a large unseeded draw follow softmax(logits).
 */
@OracleTest
class MultinomialTest {
  private static Map<String, AttrValue> seeded(long seed, long seed2, DType out) {
    return attrs(
        "T",
        t(DType.FLOAT32),
        "output_dtype",
        t(out),
        "seed",
        new AttrValue.Int(seed),
        "seed2",
        new AttrValue.Int(seed2));
  }

  @Test
  void seededSamplesMatchTensorFlow() {
    Random rnd = new Random(3);
    int cases = 0;
    for (long[] s : new long[][] {{1, 2}, {87654321, 0}, {0, 5}, {-3, 99}}) {
      for (DType out : new DType[] {DType.INT64, DType.INT32}) {
        int rows = 1 + rnd.nextInt(4);
        int classes = 1 + rnd.nextInt(6);
        float[] logits = new float[rows * classes];
        for (int i = 0; i < logits.length; i++) {
          logits[i] = (float) (rnd.nextGaussian() * 2);
        }
        if (classes > 1) {
          logits[1] = Float.NEGATIVE_INFINITY;
        }
        Value[] in = {
          Value.floats(new long[] {rows, classes}, logits), Value.scalar(1 + rnd.nextInt(12))
        };
        Map<String, AttrValue> a = seeded(s[0], s[1], out);
        Value ours = OpOracle.runKernel("Multinomial", a, in)[0];
        Value theirs =
            OpOracle.runTensorFlow(List.of(new OpOracle.Call("Multinomial", a, 1, in)))
                .get(0)
                .get(0);
        ExactOracle.assertSame("Multinomial seeds " + s[0] + "," + s[1], ours, theirs);
        cases++;
      }
    }
    assertThat(cases).isEqualTo(8);
  }

  @Test
  void unseededFrequenciesFollowTheSoftmax() {
    float[] logits = {0f, 1f, 2f, Float.NEGATIVE_INFINITY};
    int n = 40000;
    Value drawn =
        OpOracle.runKernel(
            "Multinomial",
            attrs("T", t(DType.FLOAT32), "output_dtype", t(DType.INT64)),
            Value.floats(new long[] {1, 4}, logits),
            Value.scalar(n))[0];
    double z = 1 + Math.E + Math.E * Math.E;
    long[] count = new long[4];
    for (int i = 0; i < n; i++) {
      count[(int) drawn.longAt(i)]++;
    }
    assertThat(count[3]).isZero();
    for (int c = 0; c < 3; c++) {
      assertThat(count[c] / (double) n)
          .isCloseTo(Math.exp(c) / z, org.assertj.core.data.Offset.offset(0.01));
    }
  }
}
