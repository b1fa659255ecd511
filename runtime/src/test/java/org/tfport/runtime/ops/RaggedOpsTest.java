package org.tfport.runtime.ops;

import static org.tfport.runtime.ops.ExactOracle.check;
import static org.tfport.runtime.ops.ExactOracle.t;
import static org.tfport.runtime.ops.OpOracle.attrs;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.Value;
import org.tfport.testkit.OracleTest;

/** Ragged ops against TensorFlow 2.18; every output identical (floats by bits). */
@OracleTest
class RaggedOpsTest {
  private final Random rnd = new Random(12);

  @Test
  void raggedRangeOfIntegers() {
    for (DType splits : new DType[] {DType.INT64, DType.INT32}) {
      check(
          "RaggedRange",
          attrs("T", t(DType.INT32), "Tsplits", t(splits)),
          Value.ints(new long[] {5}, 0, 5, 10, -3, 7),
          Value.ints(new long[] {5}, 7, 0, 10, 9, -8),
          Value.ints(new long[] {5}, 2, -2, 1, 4, -3));
    }
    check(
        "RaggedRange",
        attrs("T", t(DType.INT64), "Tsplits", t(DType.INT64)),
        Value.longs(new long[0], 3),
        Value.longs(new long[] {4}, 3, 4, 10, 20),
        Value.longs(new long[0], 3));
  }

  @Test
  void raggedRangeOfFloatsAccumulatesInTheValueType() {
    // 0.1 steps drift when added repeatedly; the row length uses ceil of the quotient.
    for (int k = 0; k < 6; k++) {
      int rows = 1 + rnd.nextInt(5);
      float[] s = new float[rows];
      float[] l = new float[rows];
      float[] d = new float[rows];
      for (int r = 0; r < rows; r++) {
        s[r] = rnd.nextInt(20) * 0.1f - 1;
        l[r] = s[r] + (rnd.nextInt(40) - 5) * 0.1f + 0.05f * rnd.nextInt(2);
        d[r] = (rnd.nextBoolean() ? 1 : -1) * (0.1f + rnd.nextInt(3) * 0.3f);
      }
      check(
          "RaggedRange",
          attrs("T", t(DType.FLOAT32), "Tsplits", t(DType.INT64)),
          Value.floats(new long[] {rows}, s),
          Value.floats(new long[] {rows}, l),
          Value.floats(new long[] {rows}, d));
      double[] sd = new double[rows];
      double[] ld = new double[rows];
      for (int r = 0; r < rows; r++) {
        sd[r] = s[r];
        ld[r] = l[r] + 0.3;
      }
      check(
          "RaggedRange",
          attrs("T", t(DType.FLOAT64), "Tsplits", t(DType.INT32)),
          Value.doubles(new long[] {rows}, sd),
          Value.doubles(new long[] {rows}, ld),
          Value.doubles(new long[0], 0.1));
    }
  }

  @Test
  void raggedRangeRejectsAZeroDelta() {
    ExactOracle.rejects(
        "RaggedRange",
        attrs("T", t(DType.INT32), "Tsplits", t(DType.INT64)),
        "delta != 0",
        Value.ints(new long[] {2}, 0, 1),
        Value.ints(new long[] {2}, 3, 4),
        Value.ints(new long[] {2}, 1, 0));
  }

  private static java.util.Map<String, org.tfport.core.graph.AttrValue> gatherAttrs(
      DType values, DType indices, DType splits, int paramsRank, int outputRank) {
    return attrs(
        "Tvalues", t(values),
        "Tindices", t(indices),
        "Tsplits", t(splits),
        "PARAMS_RAGGED_RANK", ExactOracle.i(paramsRank),
        "OUTPUT_RAGGED_RANK", ExactOracle.i(outputRank));
  }

  @Test
  void raggedGatherOfOneRaggedDimension() {
    Value splits = Value.longs(new long[] {5}, 0, 2, 2, 5, 6);
    Value values = OpOracle.randomFloats(rnd, 6);
    check(
        "RaggedGather",
        gatherAttrs(DType.FLOAT32, DType.INT32, DType.INT64, 1, 1),
        splits,
        values,
        Value.ints(new long[] {5}, 3, 0, 2, 1, 2));
    check(
        "RaggedGather",
        gatherAttrs(DType.FLOAT32, DType.INT32, DType.INT64, 1, 2),
        splits,
        values,
        Value.ints(new long[] {2, 3}, 3, 0, 2, 1, 1, 2));
    check(
        "RaggedGather",
        gatherAttrs(DType.FLOAT32, DType.INT32, DType.INT64, 1, 1),
        splits,
        values,
        Value.ints(new long[] {0}));
  }

  @Test
  void raggedGatherOfTwoRaggedDimensionsWithInnerValues() {
    Value s0 = Value.ints(new long[] {4}, 0, 1, 3, 3);
    Value s1 = Value.ints(new long[] {4}, 0, 2, 2, 5);
    Value values = Value.ints(new long[] {5, 2}, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    check(
        "RaggedGather",
        gatherAttrs(DType.INT32, DType.INT64, DType.INT32, 2, 2),
        s0,
        s1,
        values,
        Value.longs(new long[] {4}, 2, 1, 0, 1));
    check(
        "RaggedGather",
        gatherAttrs(DType.INT32, DType.INT64, DType.INT32, 2, 4),
        s0,
        s1,
        values,
        Value.longs(new long[] {1, 2, 2}, 1, 0, 2, 1));
  }

  @Test
  void raggedGatherRejectsAnIndexOutOfRange() {
    ExactOracle.rejects(
        "RaggedGather",
        gatherAttrs(DType.FLOAT32, DType.INT32, DType.INT64, 1, 1),
        "is not in [0, 2)",
        Value.longs(new long[] {3}, 0, 1, 3),
        OpOracle.randomFloats(rnd, 3),
        Value.ints(new long[] {2}, 0, 2));
  }

  private static java.util.Map<String, org.tfport.core.graph.AttrValue> toTensorAttrs(
      DType values, DType index, String... types) {
    return attrs(
        "T", t(values),
        "Tindex", t(index),
        "Tshape", t(DType.INT64),
        "num_row_partition_tensors", ExactOracle.i(types.length),
        "row_partition_types", NnTesting.strs(types));
  }

  @Test
  void raggedToTensorWithRowSplits() {
    Value values = OpOracle.randomFloats(rnd, 6, 2);
    Value splits = Value.longs(new long[] {5}, 0, 2, 2, 5, 6);
    var a = toTensorAttrs(DType.FLOAT32, DType.INT64, "ROW_SPLITS");
    check(
        "RaggedTensorToTensor",
        a,
        Value.longs(new long[0], -1),
        values,
        Value.floats(new long[0], -1f),
        splits);
    // truncated rows and columns, padded rows, a default value per inner element
    check(
        "RaggedTensorToTensor",
        a,
        Value.longs(new long[] {3}, 3, 2, -1),
        values,
        Value.floats(new long[] {2}, 7f, 8f),
        splits);
    check(
        "RaggedTensorToTensor",
        a,
        Value.longs(new long[] {3}, 6, 4, 2),
        values,
        Value.floats(new long[] {1}, 9f),
        splits);
    // two ragged levels of int32 values
    check(
        "RaggedTensorToTensor",
        toTensorAttrs(DType.INT32, DType.INT32, "ROW_SPLITS", "ROW_SPLITS"),
        Value.longs(new long[0], -1),
        Value.ints(new long[] {5}, 1, 2, 3, 4, 5),
        Value.ints(new long[0], 0),
        Value.ints(new long[] {4}, 0, 1, 3, 3),
        Value.ints(new long[] {4}, 0, 2, 2, 5));
  }

  @Test
  void raggedToTensorWithValueRowIds() {
    Value values = Value.longs(new long[] {5}, 10, 11, 12, 13, 14);
    check(
        "RaggedTensorToTensor",
        toTensorAttrs(DType.INT64, DType.INT64, "FIRST_DIM_SIZE", "VALUE_ROWIDS"),
        Value.longs(new long[0], -1),
        values,
        Value.longs(new long[0], -5),
        Value.longs(new long[0], 5),
        Value.longs(new long[] {5}, 0, 0, 2, 2, 3));
    check(
        "RaggedTensorToTensor",
        toTensorAttrs(DType.INT64, DType.INT64, "FIRST_DIM_SIZE", "VALUE_ROWIDS"),
        Value.longs(new long[] {2}, 2, 3),
        values,
        Value.longs(new long[0], -5),
        Value.longs(new long[0], 4),
        Value.longs(new long[] {5}, 1, 1, 1, 1, 3));
  }
}
