package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.tfport.runtime.ops.ExactOracle.bools;
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
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.Value;
import org.tfport.testkit.OracleTest;

/** Shape-valued and shape-relabelling ops against TensorFlow 2.18; every comparison is exact. */
@OracleTest
class ShapeOpsTest {
  private final Random rnd = new Random(7);

  @Test
  void shapeSizeRankOfEveryKind() {
    for (Value x : List.of(floats(rnd, 2, 3, 4), ints(rnd), bools(rnd, 0, 5), longs(rnd, 7))) {
      for (DType out : List.of(DType.INT32, DType.INT64)) {
        check("Shape", attrs("T", t(x.dtype()), "out_type", t(out)), x);
        check("Size", attrs("T", t(x.dtype()), "out_type", t(out)), x);
      }
      check("Rank", attrs("T", t(x.dtype())), x);
    }
    Value a = floats(rnd, 2, 1);
    Value b = floats(rnd, 3);
    Value[] n =
        check("ShapeN", attrs("T", t(DType.FLOAT32), "N", i(2), "out_type", t(DType.INT64)), a, b);
    assertThat(n).hasSize(2);
    assertThat(n[1].longs()).containsExactly(3);
  }

  @Test
  void reshapeInfersOneDimension() {
    Value x = floats(rnd, 2, 3, 4);
    for (Value s : List.of(vec(24), vec(4, -1), vec(-1, 2, 3), vec(2, 3, 4, 1), lvec(6, -1))) {
      check("Reshape", attrs("T", t(DType.FLOAT32), "Tshape", t(s.dtype())), x, s);
    }
    check("Reshape", attrs("T", t(DType.BOOL), "Tshape", t(DType.INT32)), bools(rnd, 6), vec(3, 2));
    check("Reshape", attrs("T", t(DType.INT64), "Tshape", t(DType.INT32)), longs(rnd, 1), vec());
    // Empty tensors: the zero dimension is left out when inferring.
    check(
        "Reshape",
        attrs("T", t(DType.FLOAT32), "Tshape", t(DType.INT32)),
        floats(rnd, 0, 6),
        vec(0, -1));
    check(
        "Reshape",
        attrs("T", t(DType.FLOAT32), "Tshape", t(DType.INT32)),
        floats(rnd, 0, 6),
        vec(3, 0, -1));
  }

  @Test
  void reshapeErrors() {
    var a = attrs("T", t(DType.FLOAT32), "Tshape", t(DType.INT32));
    Value x = floats(rnd, 2, 3);
    rejects("Reshape", a, "tensor with 6 values, but the requested shape has 4", x, vec(2, 2));
    rejects("Reshape", a, "requires a multiple of 4", x, vec(4, -1));
    rejects("Reshape", a, "Only one input size may be -1, not both 0 and 1", x, vec(-1, -1));
    rejects("Reshape", a, "Size 1 must be non-negative, not -2", x, vec(3, -2));
  }

  @Test
  void squeezeAndExpandDims() {
    Value x = ints(rnd, 1, 3, 1, 2);
    var a = attrs("T", t(DType.INT32));
    check("Squeeze", a, x);
    check("Squeeze", attrs("T", t(DType.INT32), "squeeze_dims", ExactOracle.ints(2)), x);
    check("Squeeze", attrs("T", t(DType.INT32), "squeeze_dims", ExactOracle.ints(0, -2)), x);
    rejects(
        "Squeeze",
        attrs("T", t(DType.INT32), "squeeze_dims", ExactOracle.ints(1)),
        "Can not squeeze dim[1], expected a dimension of 1, got 3",
        x);
    rejects(
        "Squeeze",
        attrs("T", t(DType.INT32), "squeeze_dims", ExactOracle.ints(4)),
        "squeeze dim index 4",
        x);
    for (int d : new int[] {0, 2, 4, -1, -5}) {
      check("ExpandDims", attrs("T", t(DType.INT32), "Tdim", t(DType.INT32)), x, Value.scalar(d));
    }
    check("ExpandDims", attrs("T", t(DType.BOOL), "Tdim", t(DType.INT64)), bools(rnd), lvec(0));
    rejects(
        "ExpandDims",
        attrs("T", t(DType.INT32), "Tdim", t(DType.INT32)),
        "expand dim index 5",
        x,
        Value.scalar(5));
  }

  @Test
  void squeezeReadsTheTfjsSpellingAxis() {
    // TensorFlow's op knows only squeeze_dims: the same axes given as TF.js's "axis" must squeeze
    // exactly what TensorFlow squeezes with squeeze_dims (not every dimension of size 1).
    Value x = ints(rnd, 1, 3, 1, 2);
    for (AttrValue axes : List.of(ExactOracle.ints(2), ExactOracle.ints(0), ExactOracle.ints(-2))) {
      Value ours = OpOracle.runKernel("Squeeze", attrs("T", t(DType.INT32), "axis", axes), x)[0];
      Value theirs =
          OpOracle.runTensorFlow(
                  "Squeeze", attrs("T", t(DType.INT32), "squeeze_dims", axes), 1, true, x)
              .get(0);
      ExactOracle.assertSame("Squeeze axis=" + axes, ours, theirs);
    }
    assertThatThrownBy(
            () ->
                OpOracle.runKernel(
                    "Squeeze",
                    attrs(
                        "T",
                        t(DType.INT32),
                        "squeeze_dims",
                        ExactOracle.ints(0),
                        "axis",
                        ExactOracle.ints(2)),
                    x))
        .isInstanceOf(KernelException.class)
        .hasMessageContaining("disagree");
  }

  @Test
  void broadcastToAndArgs() {
    Value x = floats(rnd, 3, 1);
    var a = attrs("T", t(DType.FLOAT32), "Tidx", t(DType.INT32));
    check("BroadcastTo", a, x, vec(2, 3, 4));
    check("BroadcastTo", a, x, vec(3, 1));
    check("BroadcastTo", a, x, vec(3, 0));
    check("BroadcastTo", a, Value.scalar(2.5f), vec(2, 2));
    check(
        "BroadcastTo",
        attrs("T", t(DType.BOOL), "Tidx", t(DType.INT64)),
        bools(rnd, 1, 3),
        lvec(2, 2, 3));
    rejects(
        "BroadcastTo",
        a,
        "Unable to broadcast tensor of shape [3,1] to tensor of shape [2,4]",
        x,
        vec(2, 4));
    check("BroadcastArgs", attrs("T", t(DType.INT32)), vec(2, 1, 3), vec(4, 1));
    check("BroadcastArgs", attrs("T", t(DType.INT64)), lvec(), lvec(5, 0));
    rejects(
        "BroadcastArgs",
        attrs("T", t(DType.INT32)),
        "Incompatible shapes: [2,3] vs. [4]",
        vec(2, 3),
        vec(4));
  }

  @Test
  void fillZerosOnes() {
    check(
        "Fill",
        attrs("T", t(DType.FLOAT32), "index_type", t(DType.INT32)),
        vec(2, 3),
        Value.scalar(1.5f));
    check("Fill", attrs("T", t(DType.INT64), "index_type", t(DType.INT64)), lvec(4, 0), longs(rnd));
    check(
        "Fill",
        attrs("T", t(DType.BOOL), "index_type", t(DType.INT32)),
        vec(3),
        Value.bools(new long[0], (byte) 1));
    rejects(
        "Fill",
        attrs("T", t(DType.FLOAT32), "index_type", t(DType.INT32)),
        "value must be a scalar",
        vec(2),
        floats(rnd, 2));
    for (Value x :
        List.of(
            floats(rnd, 2, 3),
            ints(rnd, 4),
            longs(rnd, 0, 2),
            bools(rnd, 3, 1),
            Value.doubles(new long[] {2}, 1, -2))) {
      check("ZerosLike", attrs("T", t(x.dtype())), x);
      check("OnesLike", attrs("T", t(x.dtype())), x);
    }
    Value s = org.tfport.runtime.kernel.Values.strings(new long[] {2}, List.of("a", "b"));
    Value z = OpOracle.runKernel("ZerosLike", attrs("T", t(DType.STRING)), s)[0];
    assertThat(z.strings()).isDeepEqualTo(new byte[][] {{}, {}});
    assertThatThrownBy(() -> OpOracle.runKernel("OnesLike", attrs("T", t(DType.STRING)), s))
        .isInstanceOf(KernelException.class)
        .hasMessageContaining("string");
  }

  @Test
  void rangeIntegerAndFloat() {
    int[][] cases = {{0, 10, 3}, {5, -4, -2}, {3, 3, 1}, {-7, 8, 5}, {10, 0, -1}};
    for (int[] c : cases) {
      check(
          "Range",
          attrs("Tidx", t(DType.INT32)),
          Value.scalar(c[0]),
          Value.scalar(c[1]),
          Value.scalar(c[2]));
      check(
          "Range",
          attrs("Tidx", t(DType.INT64)),
          lvec(c[0]).reshaped(new long[0]),
          lvec(c[1]).reshaped(new long[0]),
          lvec(c[2]).reshaped(new long[0]));
    }
    float[][] fc = {
      {0, 1, 0.1f},
      {3, 1, -0.5f},
      {-1.25f, 7.3f, 0.37f},
      {0.1f, 0.7f, 0.2f},
      {1e6f, 1e6f + 64, 0.3f}
    };
    for (float[] c : fc) {
      check(
          "Range",
          attrs("Tidx", t(DType.FLOAT32)),
          Value.scalar(c[0]),
          Value.scalar(c[1]),
          Value.scalar(c[2]));
      check(
          "Range",
          attrs("Tidx", t(DType.FLOAT64)),
          Value.doubles(new long[0], c[0]),
          Value.doubles(new long[0], c[1]),
          Value.doubles(new long[0], c[2]));
    }
    var a = attrs("Tidx", t(DType.INT32));
    rejects("Range", a, "Requires delta != 0", Value.scalar(0), Value.scalar(5), Value.scalar(0));
    rejects(
        "Range",
        a,
        "Requires start <= limit when delta > 0: 5/1",
        Value.scalar(5),
        Value.scalar(1),
        Value.scalar(1));
    rejects(
        "Range",
        a,
        "Requires start >= limit when delta < 0: 1/5",
        Value.scalar(1),
        Value.scalar(5),
        Value.scalar(-1));
  }

  @Test
  void linSpace() {
    float[][] fc = {{0, 1, 5}, {-3.5f, 2.25f, 7}, {1, 1, 3}, {2, -1, 1}, {0.1f, 0.9f, 33}};
    for (float[] c : fc) {
      check(
          "LinSpace",
          attrs("T", t(DType.FLOAT32), "Tidx", t(DType.INT32)),
          Value.scalar(c[0]),
          Value.scalar(c[1]),
          Value.scalar((int) c[2]));
      check(
          "LinSpace",
          attrs("T", t(DType.FLOAT64), "Tidx", t(DType.INT64)),
          Value.doubles(new long[0], c[0]),
          Value.doubles(new long[0], c[1]),
          Value.longs(new long[0], (long) c[2]));
    }
    rejects(
        "LinSpace",
        attrs("T", t(DType.FLOAT32), "Tidx", t(DType.INT32)),
        "Requires num > 0: 0",
        Value.scalar(0f),
        Value.scalar(1f),
        Value.scalar(0));
  }
}
