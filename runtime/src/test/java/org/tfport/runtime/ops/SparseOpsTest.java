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
 * SparseSegmentSum/Mean and SparseReshape against TensorFlow; exact (sums in TensorFlow's order).
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
}
