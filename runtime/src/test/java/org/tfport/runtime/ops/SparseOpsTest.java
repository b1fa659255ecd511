package org.tfport.runtime.ops;

import static org.tfport.runtime.ops.ExactOracle.check;
import static org.tfport.runtime.ops.ExactOracle.t;
import static org.tfport.runtime.ops.OpOracle.attrs;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.Value;
import org.tfport.testkit.OracleTest;

/**
 * SparseSegmentSum/Mean, SparseReshape and SparseFillEmptyRows against TensorFlow; exact (sums in
 * TensorFlow's order).
 */
@OracleTest
class SparseOpsTest {
  private final Random rnd = new Random(8);

  @Test
  void segmentReductions() {
    Value data = OpOracle.randomFloats(rnd, 6, 4);
    Value idx = Value.ints(new long[] {7}, 0, 5, 2, 2, 1, 4, 3);
    Value ids = Value.ints(new long[] {7}, 0, 0, 1, 3, 3, 3, 4);
    for (String op : new String[] {"SparseSegmentSum", "SparseSegmentMean"}) {
      check(
          op,
          attrs("T", t(DType.FLOAT32), "Tidx", t(DType.INT32), "Tsegmentids", t(DType.INT32)),
          data,
          idx,
          ids);
      check(
          op,
          attrs("T", t(DType.FLOAT32), "Tidx", t(DType.INT32), "Tsegmentids", t(DType.INT32)),
          OpOracle.randomFloats(rnd, 3),
          Value.ints(new long[] {2}, 2, 0),
          Value.ints(new long[] {2}, 1, 1));
      check(
          op,
          attrs("T", t(DType.FLOAT32), "Tidx", t(DType.INT32), "Tsegmentids", t(DType.INT32)),
          data,
          Value.ints(new long[] {0}),
          Value.ints(new long[] {0}));
    }
  }

  @Test
  void sparseReshape() {
    Value indices = Value.longs(new long[] {4, 3}, 0, 0, 1, 0, 1, 3, 1, 2, 0, 1, 2, 3);
    Value shape = Value.longs(new long[] {3}, 2, 3, 4);
    check("SparseReshape", attrs(), indices, shape, Value.longs(new long[] {2}, 6, 4));
    check("SparseReshape", attrs(), indices, shape, Value.longs(new long[] {2}, -1, 12));
    check("SparseReshape", attrs(), indices, shape, Value.longs(new long[] {4}, 2, 2, -1, 2));
  }

  @Test
  void fillEmptyRowsOnRandomSparseTensors() {
    // Unordered and repeated rows, empty leading and trailing rows, rank 1 to 3, no entries.
    for (int k = 0; k < 12; k++) {
      int rank = 1 + k % 3;
      long[] dense = new long[rank];
      for (int d = 0; d < rank; d++) {
        dense[d] = 1 + rnd.nextInt(6);
      }
      int n = k == 0 ? 0 : rnd.nextInt(8);
      long[] idx = new long[n * rank];
      float[] vals = new float[n];
      for (int i = 0; i < n; i++) {
        for (int d = 0; d < rank; d++) {
          idx[i * rank + d] = rnd.nextInt((int) dense[d]);
        }
        vals[i] = rnd.nextFloat();
      }
      if (k % 2 == 0) {
        // sorted input, as tf.sparse produces it
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
          order[i] = i;
        }
        final int r = rank;
        java.util.Arrays.sort(order, java.util.Comparator.comparingLong(i -> idx[i * r]));
        long[] si = new long[n * rank];
        float[] sv = new float[n];
        for (int i = 0; i < n; i++) {
          System.arraycopy(idx, order[i] * rank, si, i * rank, rank);
          sv[i] = vals[order[i]];
        }
        System.arraycopy(si, 0, idx, 0, si.length);
        System.arraycopy(sv, 0, vals, 0, n);
      }
      check(
          "SparseFillEmptyRows",
          attrs("T", t(DType.FLOAT32)),
          Value.longs(new long[] {n, rank}, idx),
          Value.floats(new long[] {n}, vals),
          Value.longs(new long[] {rank}, dense),
          Value.floats(new long[0], -7f));
    }
    check(
        "SparseFillEmptyRows",
        attrs("T", t(DType.INT64)),
        Value.longs(new long[] {3, 2}, 3, 1, 1, 0, 3, 0),
        Value.longs(new long[] {3}, 10, 11, 12),
        Value.longs(new long[] {2}, 5, 2),
        Value.longs(new long[0], 99));
  }

  @Test
  void fillEmptyRowsRejectsARowOutOfRange() {
    ExactOracle.rejects(
        "SparseFillEmptyRows",
        attrs("T", t(DType.FLOAT32)),
        "indices(1, 0) is invalid",
        Value.longs(new long[] {2, 1}, 0, 4),
        Value.floats(new long[] {2}, 1f, 2f),
        Value.longs(new long[] {1}, 3),
        Value.floats(new long[0], 0f));
  }
}
