package org.tfport.runtime.ops;

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
import org.tfport.runtime.kernel.Value;
import org.tfport.testkit.OracleTest;

/**
 * Transposes, joins, splits, tiling, padding, reversal and the space/batch/depth moves against
 * TensorFlow.
 */
@OracleTest
class ArrayOpsTest {
  private final Random rnd = new Random(11);

  private static Map<String, AttrValue> typed(DType d, Object... more) {
    Object[] kv = new Object[more.length + 2];
    kv[0] = "T";
    kv[1] = t(d);
    System.arraycopy(more, 0, kv, 2, more.length);
    return attrs(kv);
  }

  private static Value m(long rows, int... v) {
    return Value.ints(new long[] {rows, v.length / rows}, v);
  }

  @Test
  void transpose() {
    for (Value x : List.of(floats(rnd, 2, 3, 4), ints(rnd, 2, 3, 4), bools(rnd, 2, 3, 4))) {
      for (Value p : List.of(vec(0, 1, 2), vec(2, 0, 1), vec(1, 2, 0), lvec(2, 1, 0))) {
        check("Transpose", typed(x.dtype(), "Tperm", t(p.dtype())), x, p);
      }
    }
    check("Transpose", typed(DType.FLOAT32, "Tperm", t(DType.INT32)), floats(rnd, 0, 3), vec(1, 0));
    check("Transpose", typed(DType.FLOAT32, "Tperm", t(DType.INT32)), floats(rnd), vec());
    checkStrings("Transpose", attrs("Tperm", t(DType.INT32)), 0, ids(2, 3, 2), vec(2, 0, 1));
    rejects(
        "Transpose",
        typed(DType.FLOAT32, "Tperm", t(DType.INT32)),
        "is duplicated",
        floats(rnd, 2, 2),
        vec(1, 1));
    rejects(
        "Transpose",
        typed(DType.FLOAT32, "Tperm", t(DType.INT32)),
        "vector of size 2",
        floats(rnd, 2, 2),
        vec(1, 0, 2));
  }

  @Test
  void concatBothForms() {
    Value a = floats(rnd, 2, 3);
    Value b = floats(rnd, 2, 1);
    Value c = floats(rnd, 2, 0);
    var v2 = typed(DType.FLOAT32, "N", i(3), "Tidx", t(DType.INT32));
    check("ConcatV2", v2, a, b, c, Value.scalar(1));
    check("ConcatV2", v2, a, b, c, Value.scalar(-1));
    check(
        "ConcatV2",
        typed(DType.FLOAT32, "N", i(2), "Tidx", t(DType.INT64)),
        a,
        floats(rnd, 4, 3),
        Value.longs(new long[0], 0));
    check(
        "ConcatV2",
        typed(DType.BOOL, "N", i(2), "Tidx", t(DType.INT32)),
        bools(rnd, 2, 2, 2),
        bools(rnd, 2, 2, 1),
        Value.scalar(2));
    check(
        "Concat", typed(DType.INT32, "N", i(2)), Value.scalar(0), ints(rnd, 1, 4), ints(rnd, 3, 4));
    checkStrings(
        "ConcatV2",
        attrs("N", i(2), "Tidx", t(DType.INT32)),
        new int[] {0, 1},
        ids(2, 2),
        lvec(7, 8).reshaped(new long[] {2, 1}),
        Value.scalar(1));
    rejects(
        "ConcatV2",
        v2,
        "Dimension 0 in both shapes must be equal",
        a,
        floats(rnd, 3, 3),
        c,
        Value.scalar(1));
    rejects(
        "ConcatV2",
        typed(DType.FLOAT32, "N", i(2), "Tidx", t(DType.INT32)),
        "range [-2, 2), but got 2",
        a,
        a,
        Value.scalar(2));
  }

  @Test
  void packAndUnpack() {
    Value a = ints(rnd, 2, 3);
    Value b = ints(rnd, 2, 3);
    for (int axis : new int[] {0, 1, 2, -1, -3}) {
      check("Pack", typed(DType.INT32, "N", i(2), "axis", i(axis)), a, b);
    }
    check(
        "Pack",
        typed(DType.FLOAT32, "N", i(3), "axis", i(0)),
        Value.scalar(1f),
        Value.scalar(2f),
        Value.scalar(3f));
    check("Pack", typed(DType.BOOL, "N", i(2), "axis", i(1)), bools(rnd, 0, 2), bools(rnd, 0, 2));
    rejects(
        "Pack",
        typed(DType.INT32, "N", i(2), "axis", i(0)),
        "Shapes of all inputs must match",
        a,
        ints(rnd, 3, 2));
    Value x = floats(rnd, 2, 3, 4);
    for (int axis : new int[] {0, 1, 2, -1}) {
      check(
          "Unpack", typed(DType.FLOAT32, "num", i(x.dim(axis < 0 ? 2 : axis)), "axis", i(axis)), x);
    }
    check("Unpack", typed(DType.INT64, "num", i(3), "axis", i(1)), longs(rnd, 0, 3));
    rejects("Unpack", typed(DType.FLOAT32, "num", i(3), "axis", i(0)), "axis 0 must equal 3", x);
  }

  @Test
  void splitAndSplitV() {
    Value x = floats(rnd, 4, 6);
    check("Split", typed(DType.FLOAT32, "num_split", i(3)), Value.scalar(1), x);
    check("Split", typed(DType.FLOAT32, "num_split", i(2)), Value.scalar(-2), x);
    check("Split", typed(DType.INT32, "num_split", i(1)), Value.scalar(0), ints(rnd, 5));
    check("Split", typed(DType.BOOL, "num_split", i(2)), Value.scalar(0), bools(rnd, 0, 3));
    rejects("Split", typed(DType.FLOAT32, "num_split", i(4)), "evenly divide", Value.scalar(1), x);
    var v = typed(DType.FLOAT32, "num_split", i(3), "Tlen", t(DType.INT32));
    check("SplitV", v, x, vec(1, 0, 5), Value.scalar(1));
    check("SplitV", v, x, vec(2, -1, 1), Value.scalar(-2));
    check(
        "SplitV",
        typed(DType.INT64, "num_split", i(2), "Tlen", t(DType.INT64)),
        longs(rnd, 5, 2),
        lvec(-1, 2),
        Value.scalar(0));
    rejects("SplitV", v, "only be one -1", x, vec(-1, -1, 6), Value.scalar(1));
    rejects("SplitV", v, "Determined shape must either match", x, vec(1, 2, 4), Value.scalar(1));
  }

  @Test
  void tile() {
    var a = typed(DType.FLOAT32, "Tmultiples", t(DType.INT32));
    check("Tile", a, floats(rnd, 2, 3), vec(2, 3));
    check("Tile", a, floats(rnd, 2, 1, 3), vec(1, 4, 0));
    check("Tile", typed(DType.BOOL, "Tmultiples", t(DType.INT64)), bools(rnd, 3), lvec(3));
    checkStrings("Tile", attrs("Tmultiples", t(DType.INT32)), 0, ids(2, 2), vec(3, 2));
    rejects("Tile", a, "multiples argument to be a vector of length 2", floats(rnd, 2, 3), vec(2));
    rejects("Tile", a, "multiples[1] >= 0", floats(rnd, 2, 3), vec(2, -1));
  }

  @Test
  void padsConstantAndMirror() {
    Value x = floats(rnd, 2, 3);
    var a = typed(DType.FLOAT32, "Tpaddings", t(DType.INT32));
    check("Pad", a, x, m(2, 1, 2, 0, 3));
    check("Pad", a, x, m(2, 0, 0, 0, 0));
    check(
        "Pad",
        typed(DType.INT32, "Tpaddings", t(DType.INT64)),
        ints(rnd, 0, 2),
        Value.longs(new long[] {2, 2}, 1, 1, 2, 0));
    check("PadV2", a, x, m(2, 2, 1, 1, 1), Value.scalar(-7.5f));
    check(
        "PadV2",
        typed(DType.BOOL, "Tpaddings", t(DType.INT32)),
        bools(rnd, 3),
        m(1, 2, 1),
        Value.bools(new long[0], (byte) 1));
    checkStrings(
        "PadV2",
        attrs("Tpaddings", t(DType.INT32)),
        new int[] {0, 2},
        ids(2, 2),
        m(2, 1, 0, 0, 2),
        Value.longs(new long[0], 99));
    rejects("Pad", a, "non-negative", x, m(2, 1, -1, 0, 0));
    Value y = ints(rnd, 3, 4);
    for (String mode : List.of("REFLECT", "SYMMETRIC")) {
      var mp =
          typed(
              DType.INT32, "Tpaddings", t(DType.INT32), "mode", new AttrValue.Str(mode.getBytes()));
      check("MirrorPad", mp, y, m(2, 2, 1, 3, 0));
      check("MirrorPad", mp, y, m(2, 0, 2, 1, 2));
      check(
          "MirrorPad",
          typed(
              DType.FLOAT32,
              "Tpaddings",
              t(DType.INT32),
              "mode",
              new AttrValue.Str(mode.getBytes())),
          floats(rnd, 2, 3, 4),
          Value.ints(new long[] {3, 2}, 1, 1, 2, 1, 0, 3));
    }
    rejects(
        "MirrorPad",
        typed(
            DType.INT32,
            "Tpaddings",
            t(DType.INT32),
            "mode",
            new AttrValue.Str("REFLECT".getBytes())),
        "at most 2",
        y,
        m(2, 3, 0, 0, 0));
  }

  @Test
  void reversals() {
    Value x = floats(rnd, 2, 3, 4);
    for (Value axes : List.of(vec(0), vec(1, 2), vec(-1), vec(), lvec(0, 1, 2))) {
      check("ReverseV2", typed(DType.FLOAT32, "Tidx", t(axes.dtype())), x, axes);
    }
    check("ReverseV2", typed(DType.BOOL, "Tidx", t(DType.INT32)), bools(rnd, 5, 0), vec(0));
    check(
        "Reverse",
        typed(DType.INT32),
        ints(rnd, 3, 4),
        Value.bools(new long[] {2}, (byte) 1, (byte) 0));
    checkStrings("ReverseV2", attrs("Tidx", t(DType.INT32)), 0, ids(3, 2), vec(0, 1));
    rejects(
        "ReverseV2",
        typed(DType.FLOAT32, "Tidx", t(DType.INT32)),
        "specified more than once",
        x,
        vec(1, -2));
    rejects(
        "ReverseV2", typed(DType.FLOAT32, "Tidx", t(DType.INT32)), "out of valid range", x, vec(3));
    Value s = ints(rnd, 3, 5, 2);
    var rs = typed(DType.INT32, "seq_dim", i(1), "batch_dim", i(0), "Tlen", t(DType.INT64));
    check("ReverseSequence", rs, s, lvec(5, 0, 3));
    check(
        "ReverseSequence",
        typed(DType.FLOAT32, "seq_dim", i(0), "batch_dim", i(2), "Tlen", t(DType.INT32)),
        floats(rnd, 4, 2, 3),
        vec(1, 4, 2));
    rejects("ReverseSequence", rs, "seq_lengths[1] = 6", s, lvec(1, 6, 0));
  }

  @Test
  void depthAndSpace() {
    Value x = floats(rnd, 2, 2, 3, 8);
    check("DepthToSpace", typed(DType.FLOAT32, "block_size", i(2)), x);
    check("SpaceToDepth", typed(DType.FLOAT32, "block_size", i(2)), floats(rnd, 1, 4, 6, 3));
    check("SpaceToDepth", typed(DType.INT32, "block_size", i(3)), ints(rnd, 2, 3, 6, 2));
    check("DepthToSpace", typed(DType.BOOL, "block_size", i(3)), bools(rnd, 1, 2, 1, 18));
    rejects("DepthToSpace", typed(DType.FLOAT32, "block_size", i(3)), "divisible", x);
    rejects(
        "SpaceToDepth",
        typed(DType.FLOAT32, "block_size", i(2)),
        "divisible",
        floats(rnd, 1, 3, 4, 1));
  }

  @Test
  void spaceToBatchAndBack() {
    var a = typed(DType.FLOAT32, "Tblock_shape", t(DType.INT32), "Tpaddings", t(DType.INT32));
    Value x = floats(rnd, 2, 4, 5, 3);
    check("SpaceToBatchND", a, x, vec(2, 3), m(2, 0, 0, 1, 0));
    check("SpaceToBatchND", a, x, vec(2, 2), m(2, 1, 1, 2, 1));
    check("SpaceToBatchND", a, floats(rnd, 3, 5, 2), vec(3), m(1, 2, 2));
    check(
        "SpaceToBatchND",
        typed(DType.INT32, "Tblock_shape", t(DType.INT64), "Tpaddings", t(DType.INT32)),
        ints(rnd, 1, 4, 4),
        lvec(2, 4),
        m(2, 0, 0, 0, 0));
    rejects("SpaceToBatchND", a, "not divisible", x, vec(3, 3), m(2, 0, 0, 0, 0));
    var c = typed(DType.FLOAT32, "Tblock_shape", t(DType.INT32), "Tcrops", t(DType.INT32));
    check("BatchToSpaceND", c, floats(rnd, 12, 2, 3, 2), vec(2, 3), m(2, 0, 1, 2, 0));
    check("BatchToSpaceND", c, floats(rnd, 8, 1, 2, 1), vec(2, 2), m(2, 0, 0, 0, 0));
    check(
        "BatchToSpaceND",
        typed(DType.INT64, "Tblock_shape", t(DType.INT32), "Tcrops", t(DType.INT32)),
        longs(rnd, 6, 2, 1),
        vec(3),
        m(1, 1, 1));
    rejects(
        "BatchToSpaceND",
        c,
        "not divisible by product of block sizes",
        floats(rnd, 5, 2, 2, 1),
        vec(2, 2),
        m(2, 0, 0, 0, 0));
    check(
        "SpaceToBatch",
        typed(DType.FLOAT32, "Tpaddings", t(DType.INT32), "block_size", i(2)),
        floats(rnd, 1, 3, 4, 2),
        m(2, 1, 0, 0, 0));
    check(
        "BatchToSpace",
        typed(DType.FLOAT32, "Tidx", t(DType.INT32), "block_size", i(2)),
        floats(rnd, 4, 2, 2, 1),
        m(2, 0, 1, 1, 0));
  }

  @Test
  void bandAndDiagonals() {
    Value x = floats(rnd, 2, 4, 5);
    var a = typed(DType.FLOAT32, "Tindex", t(DType.INT64));
    long[][] bands = {{0, 0}, {-1, 0}, {0, -1}, {1, 2}, {-1, -1}, {4, 5}};
    for (long[] b : bands) {
      check("MatrixBandPart", a, x, Value.longs(new long[0], b[0]), Value.longs(new long[0], b[1]));
    }
    check(
        "MatrixBandPart",
        typed(DType.INT32, "Tindex", t(DType.INT32)),
        ints(rnd, 3, 3),
        Value.scalar(1),
        Value.scalar(0));
    rejects(
        "MatrixBandPart",
        a,
        "num_lower must be negative or less or equal to number of rows (4)",
        x,
        Value.longs(new long[0], 5),
        Value.longs(new long[0], 0));
    check("MatrixDiag", typed(DType.FLOAT32), floats(rnd, 2, 3));
    check("MatrixDiagPart", typed(DType.INT32), ints(rnd, 2, 3, 3));
    Value p = floats(rnd, 2, 3, 4);
    for (String align : List.of("RIGHT_LEFT", "LEFT_RIGHT", "LEFT_LEFT", "RIGHT_RIGHT")) {
      var al = typed(DType.FLOAT32, "align", new AttrValue.Str(align.getBytes()));
      for (Value k :
          List.of(Value.scalar(0), Value.scalar(1), Value.scalar(-2), vec(-1, 2), vec(-2, 0))) {
        Value[] part = check("MatrixDiagPartV3", al, p, k, Value.scalar(9f));
        Value rows = Value.scalar(-1);
        check("MatrixDiagV3", al, part[0], k, rows, rows, Value.scalar(-3f));
        check("MatrixDiagV3", al, part[0], k, Value.scalar(3), Value.scalar(-1), Value.scalar(0f));
      }
    }
  }

  private Value random(DType d, long... shape) {
    int n = (int) Value.elementCount(shape);
    return switch (d) {
      case FLOAT64 -> Value.doubles(shape, rnd.doubles(n).toArray());
      case UINT8 -> {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        yield Value.of(DType.UINT8, shape, b);
      }
      case INT64 -> longs(rnd, shape);
      default -> throw new IllegalArgumentException(d.toString());
    };
  }

  @Test
  void otherFeedableDtypesMoveAlike() {
    for (DType d : List.of(DType.FLOAT64, DType.UINT8, DType.INT64)) {
      Value x = random(d, 3, 4, 2);
      check("Transpose", typed(d, "Tperm", t(DType.INT32)), x, vec(1, 2, 0));
      check(
          "ConcatV2",
          typed(d, "N", i(2), "Tidx", t(DType.INT32)),
          x,
          random(d, 3, 1, 2),
          Value.scalar(1));
      check("Pack", typed(d, "N", i(2), "axis", i(-1)), x, random(d, 3, 4, 2));
      check(
          "SplitV",
          typed(d, "num_split", i(2), "Tlen", t(DType.INT32)),
          x,
          vec(3, -1),
          Value.scalar(1));
      check("Tile", typed(d, "Tmultiples", t(DType.INT32)), x, vec(1, 2, 3));
      check(
          "PadV2",
          typed(d, "Tpaddings", t(DType.INT32)),
          x,
          Value.ints(new long[] {3, 2}, 1, 0, 0, 2, 1, 1),
          random(d));
      check("ReverseV2", typed(d, "Tidx", t(DType.INT32)), x, vec(0, 2));
      check("Slice", typed(d, "Index", t(DType.INT32)), x, vec(1, 1, 0), vec(2, -1, 1));
      check(
          "StridedSlice",
          typed(d, "Index", t(DType.INT32), "shrink_axis_mask", i(4)),
          x,
          vec(2, 3, 1),
          vec(0, 0, 2),
          vec(-1, -2, 1));
      check(
          "GatherV2",
          attrs("Tparams", t(d), "Tindices", t(DType.INT32), "Taxis", t(DType.INT32)),
          x,
          vec(3, 0, 3),
          Value.scalar(1));
      check("GatherNd", attrs("Tparams", t(d), "Tindices", t(DType.INT32)), x, m(2, 2, 3, 0, 1));
      check("BroadcastTo", typed(d, "Tidx", t(DType.INT32)), random(d, 4, 1), vec(2, 4, 3));
      check(
          "MirrorPad",
          typed(d, "Tpaddings", t(DType.INT32), "mode", new AttrValue.Str("SYMMETRIC".getBytes())),
          x,
          Value.ints(new long[] {3, 2}, 1, 2, 0, 4, 2, 1));
    }
  }
}
