package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.tfport.runtime.ops.ExactOracle.bools;
import static org.tfport.runtime.ops.ExactOracle.check;
import static org.tfport.runtime.ops.ExactOracle.checkStrings;
import static org.tfport.runtime.ops.ExactOracle.floats;
import static org.tfport.runtime.ops.ExactOracle.i;
import static org.tfport.runtime.ops.ExactOracle.ids;
import static org.tfport.runtime.ops.ExactOracle.ints;
import static org.tfport.runtime.ops.ExactOracle.longs;
import static org.tfport.runtime.ops.ExactOracle.lvec;
import static org.tfport.runtime.ops.ExactOracle.rejects;
import static org.tfport.runtime.ops.ExactOracle.t;
import static org.tfport.runtime.ops.ExactOracle.vec;
import static org.tfport.runtime.ops.OpOracle.attrs;

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
 * Slice, StridedSlice (every mask), Gather, GatherNd and OneHot against TensorFlow; every
 * comparison is exact.
 */
@OracleTest
class SliceOpsTest {
  private final Random rnd = new Random(13);

  private static Value indices(Random rnd, int bound, long... shape) {
    int[] v = new int[(int) Value.elementCount(shape)];
    for (int k = 0; k < v.length; k++) {
      v[k] = rnd.nextInt(bound);
    }
    return Value.ints(shape, v);
  }

  @Test
  void slice() {
    Value x = floats(rnd, 4, 5, 3);
    var a = attrs("T", t(DType.FLOAT32), "Index", t(DType.INT32));
    check("Slice", a, x, vec(1, 0, 2), vec(2, 5, 1));
    check("Slice", a, x, vec(0, 2, 0), vec(-1, -1, 3));
    check("Slice", a, x, vec(4, 5, 3), vec(0, 0, 0));
    check(
        "Slice",
        attrs("T", t(DType.BOOL), "Index", t(DType.INT64)),
        bools(rnd, 3, 3),
        lvec(1, 1),
        lvec(2, -1));
    checkStrings("Slice", attrs("Index", t(DType.INT32)), 0, ids(3, 4), vec(1, 1), vec(2, 2));
    rejects("Slice", a, "Expected size[1] in [0, 3], but got 4", x, vec(0, 2, 0), vec(1, 4, 1));
    rejects("Slice", a, "Expected begin[0] in [0, 4], but got 5", x, vec(5, 0, 0), vec(0, 1, 1));
  }

  private static Map<String, AttrValue> sliceAttrs(
      DType d, int begin, int end, int ellipsis, int newAxis, int shrink) {
    return attrs(
        "T",
        t(d),
        "Index",
        t(DType.INT32),
        "begin_mask",
        i(begin),
        "end_mask",
        i(end),
        "ellipsis_mask",
        i(ellipsis),
        "new_axis_mask",
        i(newAxis),
        "shrink_axis_mask",
        i(shrink));
  }

  @Test
  void stridedSliceMasks() {
    Value x = floats(rnd, 4, 5, 6);
    record Case(int[] b, int[] e, int[] s, int bm, int em, int el, int na, int sh) {}
    List<Case> cases =
        List.of(
            new Case(new int[] {1, 0, 2}, new int[] {3, 5, 6}, new int[] {1, 1, 2}, 0, 0, 0, 0, 0),
            new Case(
                new int[] {3, -1, 5}, new int[] {0, 0, -7}, new int[] {-1, -2, -3}, 0, 0, 0, 0, 0),
            new Case(
                new int[] {-10, 2, 1},
                new int[] {10, 100, -100},
                new int[] {1, 1, -1},
                0,
                0,
                0,
                0,
                0),
            new Case(new int[] {1, 1, 1}, new int[] {2, 2, 2}, new int[] {1, 1, 1}, 5, 2, 0, 0, 0),
            new Case(new int[] {0, 1}, new int[] {0, 3}, new int[] {1, 1}, 0, 0, 1, 0, 0),
            new Case(
                new int[] {0, 0, 0, 0},
                new int[] {0, 2, 0, 0},
                new int[] {1, 1, 1, 1},
                0,
                0,
                0,
                1,
                0),
            new Case(new int[] {1, -1}, new int[] {2, 0}, new int[] {1, 1}, 0, 0, 0, 0, 3),
            new Case(new int[] {0, 2, 0}, new int[] {0, 3, 0}, new int[] {1, 1, 1}, 0, 0, 1, 4, 2),
            new Case(new int[] {0, 0, 3}, new int[] {0, 0, 1}, new int[] {1, 1, -1}, 0, 0, 2, 1, 0),
            new Case(new int[] {2, 4, 0}, new int[] {2, 1, 0}, new int[] {1, -1, 1}, 0, 0, 4, 0, 0),
            new Case(new int[] {5, 0}, new int[] {9, 0}, new int[] {2, 1}, 0, 0, 0, 0, 0),
            new Case(new int[] {}, new int[] {}, new int[] {}, 0, 0, 0, 0, 0));
    for (Case c : cases) {
      check(
          "StridedSlice",
          sliceAttrs(DType.FLOAT32, c.bm, c.em, c.el, c.na, c.sh),
          x,
          vec(c.b),
          vec(c.e),
          vec(c.s));
    }
    check(
        "StridedSlice",
        sliceAttrs(DType.INT32, 0, 0, 0, 0, 1),
        ints(rnd, 3),
        vec(-3),
        vec(-2),
        vec(1));
    check(
        "StridedSlice",
        sliceAttrs(DType.INT64, 0, 1, 0, 2, 0),
        longs(rnd, 0, 3),
        vec(0, 0),
        vec(0, 0),
        vec(1, 1));
    checkStrings(
        "StridedSlice",
        attrs("Index", t(DType.INT32), "shrink_axis_mask", i(1)),
        0,
        ids(4, 3),
        vec(-2, 2),
        vec(-1, 0),
        vec(1, -1));
    rejects(
        "StridedSlice",
        sliceAttrs(DType.FLOAT32, 0, 0, 0, 0, 1),
        "slice index 4 of dimension 0 out of bounds",
        x,
        vec(4),
        vec(5),
        vec(1));
    rejects(
        "StridedSlice",
        sliceAttrs(DType.FLOAT32, 0, 0, 0, 0, 0),
        "strides[1] must be non-zero",
        x,
        vec(0, 0),
        vec(1, 1),
        vec(1, 0));
  }

  @Test
  void stridedSliceRandomSpecs() {
    Random r = new Random(5);
    Value x = ints(r, 3, 4, 5);
    int compared = 0;
    for (int n = 0; n < 150; n++) {
      int k = 1 + r.nextInt(4);
      int[] b = new int[k];
      int[] e = new int[k];
      int[] s = new int[k];
      for (int j = 0; j < k; j++) {
        b[j] = r.nextInt(13) - 6;
        e[j] = r.nextInt(13) - 6;
        s[j] = r.nextInt(2) == 0 ? -1 - r.nextInt(3) : 1 + r.nextInt(3);
      }
      int full = (1 << k) - 1;
      int ellipsis = r.nextInt(3) == 0 ? 1 << r.nextInt(k) : 0;
      var a =
          sliceAttrs(
              DType.INT32,
              r.nextInt(full + 1),
              r.nextInt(full + 1),
              ellipsis,
              r.nextInt(4) == 0 ? r.nextInt(full + 1) : 0,
              r.nextInt(3) == 0 ? r.nextInt(full + 1) : 0);
      Value[] ours;
      try {
        ours = OpOracle.runKernel("StridedSlice", a, x, vec(b), vec(e), vec(s));
      } catch (KernelException ex) {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> OpOracle.runTensorFlow("StridedSlice", a, 1, true, x, vec(b), vec(e), vec(s)))
            .as("TensorFlow also rejects: " + ex.getMessage())
            .isInstanceOf(RuntimeException.class);
        continue;
      }
      Value theirs =
          OpOracle.runTensorFlow("StridedSlice", a, 1, true, x, vec(b), vec(e), vec(s)).get(0);
      ExactOracle.assertSame("StridedSlice " + a, ours[0], theirs);
      compared++;
    }
    assertThat(compared).isGreaterThan(90);
  }

  @Test
  void gatherAxesAndBatchDims() {
    Value p = floats(rnd, 5, 4);
    check(
        "Gather",
        attrs("Tparams", t(DType.FLOAT32), "Tindices", t(DType.INT32)),
        p,
        indices(rnd, 5, 3, 2));
    var v2 =
        attrs("Tparams", t(DType.FLOAT32), "Tindices", t(DType.INT32), "Taxis", t(DType.INT32));
    check("GatherV2", v2, p, indices(rnd, 4, 6), Value.scalar(1));
    check("GatherV2", v2, p, indices(rnd, 4, 2, 2), Value.scalar(-1));
    check("GatherV2", v2, p, indices(rnd, 5), Value.scalar(0));
    check("GatherV2", v2, p, indices(rnd, 5, 0), Value.scalar(0));
    Value q = ints(rnd, 3, 4, 5);
    for (int axis : new int[] {1, 2, -1}) {
      check(
          "GatherV2",
          attrs(
              "Tparams",
              t(DType.INT32),
              "Tindices",
              t(DType.INT64),
              "Taxis",
              t(DType.INT32),
              "batch_dims",
              i(1)),
          q,
          Value.longs(new long[] {3, 2}, 0, 3, 2, 1, 3, 3),
          Value.scalar(axis));
    }
    check(
        "GatherV2",
        attrs(
            "Tparams",
            t(DType.BOOL),
            "Tindices",
            t(DType.INT32),
            "Taxis",
            t(DType.INT64),
            "batch_dims",
            i(-1)),
        bools(rnd, 2, 3),
        indices(rnd, 3, 2, 4),
        Value.longs(new long[0], 1));
    checkStrings(
        "GatherV2",
        attrs("Tparams", t(DType.INT64), "Tindices", t(DType.INT32), "Taxis", t(DType.INT32)),
        0,
        ids(3, 4),
        vec(3, 0, 0),
        Value.scalar(1));
    rejects("GatherV2", v2, "indices[1] = 7 is not in [0, 5)", p, vec(0, 7, 1), Value.scalar(0));
    rejects("GatherV2", v2, "is not in [0, 4)", p, vec(-1), Value.scalar(1));
  }

  @Test
  void gatherNd() {
    Value p = floats(rnd, 3, 4, 5);
    var a = attrs("Tparams", t(DType.FLOAT32), "Tindices", t(DType.INT32));
    check("GatherNd", a, p, Value.ints(new long[] {2, 2}, 0, 3, 2, 1));
    check("GatherNd", a, p, Value.ints(new long[] {2, 3}, 0, 3, 4, 2, 0, 0));
    check("GatherNd", a, p, indices(rnd, 3, 2, 2, 1));
    check("GatherNd", a, p, Value.ints(new long[] {2, 0}));
    check(
        "GatherNd",
        attrs("Tparams", t(DType.INT64), "Tindices", t(DType.INT64)),
        longs(rnd, 2, 2),
        Value.longs(new long[] {3, 2}, 1, 1, 0, 1, 1, 0));
    rejects(
        "GatherNd",
        a,
        "does not index into param shape [3,4,5]",
        p,
        Value.ints(new long[] {2, 2}, 0, 0, 3, 0));
  }

  @Test
  void oneHot() {
    Value idx = Value.ints(new long[] {2, 3}, 0, 3, -1, 2, 5, 1);
    for (int axis : new int[] {-1, 0, 1, 2}) {
      check(
          "OneHot",
          attrs("T", t(DType.FLOAT32), "TI", t(DType.INT32), "axis", i(axis)),
          idx,
          Value.scalar(4),
          Value.scalar(1f),
          Value.scalar(-0.5f));
    }
    check(
        "OneHot",
        attrs("T", t(DType.INT32), "TI", t(DType.INT64), "axis", i(-1)),
        lvec(2, 0, 7),
        Value.scalar(3),
        Value.scalar(5),
        Value.scalar(-1));
    check(
        "OneHot",
        attrs("T", t(DType.BOOL), "TI", t(DType.UINT8), "axis", i(0)),
        Value.of(DType.UINT8, new long[] {3}, new byte[] {1, (byte) 200, 0}),
        Value.scalar(2),
        Value.bools(new long[0], (byte) 1),
        Value.bools(new long[0], (byte) 0));
    check(
        "OneHot",
        attrs("T", t(DType.FLOAT32), "TI", t(DType.INT32), "axis", i(-1)),
        vec(),
        Value.scalar(3),
        Value.scalar(1f),
        Value.scalar(0f));
    rejects(
        "OneHot",
        attrs("T", t(DType.FLOAT32), "TI", t(DType.INT32), "axis", i(-1)),
        "depth must be non-negative",
        idx,
        Value.scalar(-1),
        Value.scalar(1f),
        Value.scalar(0f));
  }

  /**
   * XlaDynamicUpdateSlice (TFLite's DYNAMIC_UPDATE_SLICE) has no TensorFlow CPU kernel outside XLA:
   * hand-computed values, starts clamped so the update fits.
   */
  @Test
  void dynamicUpdateSlice() {
    float[] x = new float[12];
    for (int k = 0; k < x.length; k++) {
      x[k] = k;
    }
    Value input = Value.floats(new long[] {3, 4}, x);
    Value update = Value.floats(new long[] {2, 2}, 100, 101, 102, 103);
    // Row start 2 is clamped to 1 (3 − 2), column start 1 is kept.
    Value out = SliceOps.dynamicUpdateSlice(input, update, Value.ints(new long[] {2}, 2, 1));
    assertThat(out.shape()).containsExactly(3, 4);
    assertThat(out.floats()).containsExactly(0, 1, 2, 3, 4, 100, 101, 7, 8, 102, 103, 11);
    assertThat(input.floats()[5]).as("the input is not written").isEqualTo(5);
    // A negative start is clamped to 0; int32 values; a whole-row update.
    Value ints =
        SliceOps.dynamicUpdateSlice(
            Value.ints(new long[] {2, 3}, 1, 2, 3, 4, 5, 6),
            Value.ints(new long[] {1, 3}, 7, 8, 9),
            Value.longs(new long[] {2}, -4, 5));
    assertThat(ints.ints()).containsExactly(7, 8, 9, 4, 5, 6);
    // Rank 0 replaces the value; an empty update leaves the input.
    assertThat(
            SliceOps.dynamicUpdateSlice(
                    Value.scalar(1f), Value.scalar(2f), Value.ints(new long[] {0}))
                .floats())
        .containsExactly(2f);
    assertThat(
            SliceOps.dynamicUpdateSlice(
                    input, Value.floats(new long[] {0, 4}), Value.ints(new long[] {2}, 1, 0))
                .floats())
        .containsExactly(x);
    assertThatThrownBy(
            () ->
                SliceOps.dynamicUpdateSlice(
                    input,
                    Value.floats(new long[] {4, 1}, 1, 2, 3, 4),
                    Value.ints(new long[] {2}, 0, 0)))
        .isInstanceOf(KernelException.class)
        .hasMessage("update [4,1] does not fit in input [3,4]");
  }
}
