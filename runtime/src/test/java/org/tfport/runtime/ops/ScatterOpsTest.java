package org.tfport.runtime.ops;

import static org.tfport.runtime.ops.ExactOracle.check;
import static org.tfport.runtime.ops.ExactOracle.floats;
import static org.tfport.runtime.ops.ExactOracle.i;
import static org.tfport.runtime.ops.ExactOracle.ints;
import static org.tfport.runtime.ops.ExactOracle.longs;
import static org.tfport.runtime.ops.ExactOracle.lvec;
import static org.tfport.runtime.ops.ExactOracle.rejects;
import static org.tfport.runtime.ops.ExactOracle.t;
import static org.tfport.runtime.ops.ExactOracle.vec;
import static org.tfport.runtime.ops.OpOracle.attrs;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.Value;
import org.tfport.testkit.OracleTest;

/**
 * ScatterNd, the TensorScatter ops, SparseToDense and DynamicStitch against TensorFlow. Repeated
 * indices add up in index order on TensorFlow's CPU too, so even float sums compare exactly (max
 * |difference| 0).
 */
@OracleTest
class ScatterOpsTest {
  private final Random rnd = new Random(17);

  @Test
  void scatterNdAddsRepeatedIndices() {
    var f = attrs("T", t(DType.FLOAT32), "Tindices", t(DType.INT32));
    check(
        "ScatterNd", f, Value.ints(new long[] {5, 1}, 4, 0, 4, 2, 4), floats(rnd, 5, 3), vec(6, 3));
    check(
        "ScatterNd", f, Value.ints(new long[] {3, 2}, 1, 2, 0, 0, 1, 2), floats(rnd, 3), vec(2, 3));
    check(
        "ScatterNd",
        attrs("T", t(DType.INT32), "Tindices", t(DType.INT64)),
        Value.longs(new long[] {2, 2, 1}, 0, 3, 3, 1),
        ints(rnd, 2, 2, 4),
        lvec(4, 4));
    check("ScatterNd", f, Value.ints(new long[] {0, 1}), floats(rnd, 0, 2), vec(3, 2));
    rejects(
        "ScatterNd",
        f,
        "does not index into output shape [6,3]",
        Value.ints(new long[] {2, 1}, 1, 6),
        floats(rnd, 2, 3),
        vec(6, 3));
  }

  @Test
  void tensorScatterModes() {
    Value tensor = floats(rnd, 5, 3);
    Value idx = Value.ints(new long[] {3, 1}, 4, 1, 2);
    Value repeated = Value.ints(new long[] {4, 1}, 4, 1, 4, 0);
    for (String op :
        List.of(
            "TensorScatterUpdate",
            "TensorScatterAdd",
            "TensorScatterSub",
            "TensorScatterMin",
            "TensorScatterMax")) {
      var f = attrs("T", t(DType.FLOAT32), "Tindices", t(DType.INT32));
      check(op, f, tensor, idx, floats(rnd, 3, 3));
      check(op, f, tensor, Value.ints(new long[] {2, 2}, 0, 2, 3, 1), floats(rnd, 2));
      check(
          op,
          attrs("T", t(DType.INT64), "Tindices", t(DType.INT64)),
          longs(rnd, 4, 2),
          Value.longs(new long[] {2, 1}, 3, 0),
          longs(rnd, 2, 2));
      if (!op.equals("TensorScatterUpdate")) {
        check(
            op,
            attrs("T", t(DType.INT32), "Tindices", t(DType.INT32)),
            ints(rnd, 5, 3),
            repeated,
            ints(rnd, 4, 3));
      }
    }
    check(
        "TensorScatterUpdate",
        attrs("T", t(DType.BOOL), "Tindices", t(DType.INT32)),
        ExactOracle.bools(rnd, 4),
        Value.ints(new long[] {2, 1}, 3, 0),
        ExactOracle.bools(rnd, 2));
    rejects(
        "TensorScatterUpdate",
        attrs("T", t(DType.FLOAT32), "Tindices", t(DType.INT32)),
        "does not index into output shape [5,3]",
        tensor,
        Value.ints(new long[] {1, 1}, -1),
        floats(rnd, 1, 3));
  }

  @Test
  void sparseToDense() {
    var a =
        attrs(
            "T",
            t(DType.FLOAT32),
            "Tindices",
            t(DType.INT32),
            "validate_indices",
            new AttrValue.Bool(true));
    check(
        "SparseToDense",
        a,
        Value.ints(new long[] {3, 2}, 0, 1, 1, 0, 2, 3),
        vec(3, 4),
        floats(rnd, 3),
        Value.scalar(-1f));
    check(
        "SparseToDense",
        a,
        Value.ints(new long[] {2, 2}, 0, 0, 1, 1),
        vec(2, 2),
        Value.scalar(5f),
        Value.scalar(0f));
    check(
        "SparseToDense",
        attrs("T", t(DType.INT64), "Tindices", t(DType.INT64)),
        lvec(0, 3, 4),
        lvec(6),
        longs(rnd, 3),
        Value.longs(new long[0], 9));
    check(
        "SparseToDense",
        attrs("T", t(DType.INT32), "Tindices", t(DType.INT32)),
        Value.scalar(2),
        vec(4),
        Value.scalar(7),
        Value.scalar(0));
    rejects(
        "SparseToDense",
        a,
        "out of order",
        Value.ints(new long[] {2, 2}, 1, 1, 0, 0),
        vec(2, 2),
        floats(rnd, 2),
        Value.scalar(0f));
    rejects(
        "SparseToDense",
        a,
        "is repeated",
        Value.ints(new long[] {2, 2}, 1, 1, 1, 1),
        vec(2, 2),
        floats(rnd, 2),
        Value.scalar(0f));
    rejects(
        "SparseToDense",
        a,
        "out of bounds",
        Value.ints(new long[] {1, 2}, 1, 2),
        vec(2, 2),
        floats(rnd, 1),
        Value.scalar(0f));
  }

  @Test
  void dynamicStitch() {
    for (String op : List.of("DynamicStitch", "ParallelDynamicStitch")) {
      var a = attrs("T", t(DType.FLOAT32), "N", i(2));
      check(
          op,
          a,
          vec(0, 4),
          Value.ints(new long[] {2, 2}, 1, 3, 2, 5),
          floats(rnd, 2, 3),
          floats(rnd, 2, 2, 3));
      check(
          op,
          attrs("T", t(DType.INT32), "N", i(3)),
          Value.scalar(2),
          vec(0, 1),
          vec(),
          ints(rnd),
          ints(rnd, 2),
          ints(rnd, 0));
    }
  }
}
