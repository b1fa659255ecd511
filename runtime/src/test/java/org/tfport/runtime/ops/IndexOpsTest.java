package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.runtime.ops.ExactOracle.bools;
import static org.tfport.runtime.ops.ExactOracle.check;
import static org.tfport.runtime.ops.ExactOracle.floats;
import static org.tfport.runtime.ops.ExactOracle.ints;
import static org.tfport.runtime.ops.ExactOracle.lvec;
import static org.tfport.runtime.ops.ExactOracle.rejects;
import static org.tfport.runtime.ops.ExactOracle.t;
import static org.tfport.runtime.ops.ExactOracle.vec;
import static org.tfport.runtime.ops.OpOracle.attrs;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.kernel.Values;
import org.tfport.testkit.OracleTest;

/** TopKV2, Where, Unique and InvertPermutation against TensorFlow; every comparison is exact. */
@OracleTest
class IndexOpsTest {
  private final Random rnd = new Random(19);

  /**
   * Few distinct values, so rows have ties (TopK keeps the lower index first) and Unique has
   * repeats.
   */
  private Value coarse(long... shape) {
    float[] v = new float[(int) Value.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (rnd.nextInt(7) - 3) * 0.5f;
    }
    return Value.floats(shape, v);
  }

  @Test
  void topKSortedWithTies() {
    Value x = coarse(3, 9);
    for (int k : new int[] {0, 1, 4, 9}) {
      check(
          "TopKV2",
          attrs("T", t(DType.FLOAT32), "sorted", new AttrValue.Bool(true)),
          x,
          Value.scalar(k));
    }
    check(
        "TopKV2",
        attrs("T", t(DType.FLOAT32), "sorted", new AttrValue.Bool(true)),
        floats(rnd, 2, 2, 50),
        Value.scalar(7));
    Value y = Value.ints(new long[] {8}, 3, -1, 3, 7, 0, 7, -5, 3);
    check("TopKV2", attrs("T", t(DType.INT32)), y, Value.scalar(5));
    check(
        "TopKV2",
        attrs("T", t(DType.INT64)),
        lvec(5, Long.MIN_VALUE, Long.MAX_VALUE, 5),
        Value.scalar(3));
    check(
        "TopKV2",
        attrs("T", t(DType.FLOAT32)),
        Value.floats(new long[] {4}, 0f, -0f, 1f, -0f),
        Value.scalar(4));
    rejects(
        "TopKV2",
        attrs("T", t(DType.FLOAT32)),
        "at least k columns. Had 9, needed 10",
        x,
        Value.scalar(10));
  }

  @Test
  void whereTrueAndNonZero() {
    check("Where", attrs("T", t(DType.BOOL)), bools(rnd, 3, 4));
    check(
        "Where",
        attrs("T", t(DType.FLOAT32)),
        Value.floats(new long[] {2, 3}, 0, 1.5f, -0f, Float.NaN, 0, -2));
    check("Where", attrs("T", t(DType.INT32)), Value.ints(new long[] {5}, 0, 4, 0, -1, 0));
    check("Where", attrs("T", t(DType.INT64)), lvec(0, 0));
    check("Where", attrs("T", t(DType.BOOL)), bools(rnd, 2, 0, 3));
    check("Where", attrs("T", t(DType.BOOL)), bools(rnd, 2, 1, 2, 3));
  }

  @Test
  void uniqueInFirstAppearanceOrder() {
    Value x = coarse(20);
    for (DType idx : List.of(DType.INT32, DType.INT64)) {
      check("Unique", attrs("T", t(DType.FLOAT32), "out_idx", t(idx)), x);
      check("UniqueWithCounts", attrs("T", t(DType.FLOAT32), "out_idx", t(idx)), x);
    }
    check(
        "Unique",
        attrs("T", t(DType.INT32), "out_idx", t(DType.INT32)),
        Value.ints(new long[] {7}, 5, 5, -1, 0, 5, -1, 9));
    check(
        "Unique",
        attrs("T", t(DType.INT64), "out_idx", t(DType.INT32)),
        lvec(Long.MAX_VALUE, -3, Long.MAX_VALUE));
    check(
        "Unique",
        attrs("T", t(DType.FLOAT32), "out_idx", t(DType.INT32)),
        Value.floats(new long[] {4}, 0f, -0f, 2f, 0f));
    check("Unique", attrs("T", t(DType.INT32), "out_idx", t(DType.INT32)), vec());
    Value s = Values.strings(new long[] {5}, List.of("b", "a", "b", "", "a"));
    Value[] u =
        OpOracle.runKernel(
            "UniqueWithCounts", attrs("T", t(DType.STRING), "out_idx", t(DType.INT32)), s);
    List<String> y = new ArrayList<>();
    for (byte[] e : u[0].strings()) {
      y.add(new String(e, StandardCharsets.UTF_8));
    }
    assertThat(y).containsExactly("b", "a", "");
    assertThat(u[1].ints()).containsExactly(0, 1, 0, 2, 1);
    assertThat(u[2].ints()).containsExactly(2, 2, 1);
    rejects(
        "Unique",
        attrs("T", t(DType.INT32), "out_idx", t(DType.INT32)),
        "1D vector",
        ints(rnd, 2, 2));
  }

  @Test
  void invertPermutation() {
    List<Integer> p = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      p.add(i);
    }
    Collections.shuffle(p, rnd);
    check(
        "InvertPermutation",
        attrs("T", t(DType.INT32)),
        vec(p.stream().mapToInt(Integer::intValue).toArray()));
    check("InvertPermutation", attrs("T", t(DType.INT64)), lvec(2, 0, 1));
    check("InvertPermutation", attrs("T", t(DType.INT32)), vec());
    rejects("InvertPermutation", attrs("T", t(DType.INT32)), "1 is duplicated", vec(1, 0, 1));
    rejects(
        "InvertPermutation", attrs("T", t(DType.INT32)), "x[1] = 3 is not in [0, 3)", vec(0, 3, 1));
  }
}
