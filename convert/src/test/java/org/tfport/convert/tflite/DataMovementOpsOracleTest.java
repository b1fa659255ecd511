package org.tfport.convert.tflite;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.OneHot;
import org.tensorflow.op.image.ResizeBilinear;
import org.tensorflow.op.image.ResizeNearestNeighbor;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tfport.core.DType;
import org.tfport.testkit.OracleTest;

/**
 * The lowering's data-movement families beyond one-builtin mappings (resizing, SplitV, Select,
 * GatherNd, MirrorPad, depth/space, OneHot, BroadcastTo, Rank/Size, zeros/ones like), each in
 * TFLite 2.18 against TensorFlow 2.18.
 */
@OracleTest
class DataMovementOpsOracleTest extends OpFamilyCases {
  /**
   * Keras UpSampling2D/Resizing: every sampling mode, constant sizes and one computed at run time.
   */
  Case resizeBilinear() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = ph(tf, "x", -1, 4, 5, 3);
      var size = ph(tf, TInt32.class, "size", 2);
      tf.withName("half_pixel")
          .image
          .resizeBilinear(x, tf.constant(new int[] {8, 10}), ResizeBilinear.halfPixelCenters(true));
      tf.withName("align")
          .image
          .resizeBilinear(x, tf.constant(new int[] {7, 9}), ResizeBilinear.alignCorners(true));
      tf.withName("legacy").image.resizeBilinear(x, tf.constant(new int[] {3, 7}));
      tf.withName("dynamic").image.resizeBilinear(x, size, ResizeBilinear.halfPixelCenters(true));
      return new Case(
          "ResizeBilinear",
          write(g, "resize_bilinear"),
          List.of(
              uniform("x", 2, 4, 5, 3),
              new Feed("size", DType.INT32.tfEnum(), new long[] {2}, null, new int[] {9, 6})),
          List.of("half_pixel", "align", "legacy", "dynamic"),
          List.of("RESIZE_BILINEAR"));
    }
  }

  Case resizeNearest() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = ph(tf, "x", -1, 4, 5, 3);
      tf.withName("half_pixel")
          .image
          .resizeNearestNeighbor(
              x, tf.constant(new int[] {8, 10}), ResizeNearestNeighbor.halfPixelCenters(true));
      tf.withName("align")
          .image
          .resizeNearestNeighbor(
              x, tf.constant(new int[] {7, 9}), ResizeNearestNeighbor.alignCorners(true));
      tf.withName("legacy").image.resizeNearestNeighbor(x, tf.constant(new int[] {3, 11}));
      return new Case(
          "ResizeNearestNeighbor",
          write(g, "resize_nearest"),
          List.of(uniform("x", 2, 4, 5, 3)),
          List.of("half_pixel", "align", "legacy"),
          List.of("RESIZE_NEAREST_NEIGHBOR"));
    }
  }

  Case splitV() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = ph(tf, "x", -1, 10, 3);
      var s = tf.splitV(x, tf.constant(new long[] {2, -1, 3}), tf.constant(1), 3L);
      var t = tf.splitV(x, tf.constant(new int[] {1, 2}), tf.constant(-1), 2L);
      tf.withName("s0").identity(s.output().get(0));
      tf.withName("s1").identity(s.output().get(1));
      tf.withName("s2").identity(s.output().get(2));
      tf.withName("t1").identity(t.output().get(1));
      return new Case(
          "SplitV",
          write(g, "splitv"),
          List.of(uniform("x", 2, 10, 3)),
          List.of("s0", "s1", "s2", "t1"),
          List.of("SPLIT_V"));
    }
  }

  /** TF1 Select: a condition of the operands' shape, and a vector one that picks rows. */
  Case select() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var t = ph(tf, "t", -1, 3, 2);
      var e = ph(tf, "e", -1, 3, 2);
      var rows = ph(tf, TBool.class, "rows", -1);
      var same = tf.math.greater(t, e);
      raw(g, tf, "Select", "same_shape", List.of(same, t, e), b -> {});
      raw(g, tf, "Select", "by_row", List.of(rows, t, e), b -> {});
      return new Case(
          "Select",
          write(g, "select"),
          List.of(
              uniform("t", 2, 3, 2),
              uniform("e", 2, 3, 2),
              new Feed("rows", DType.BOOL.tfEnum(), new long[] {2}, null, new int[] {1, 0})),
          List.of("same_shape", "by_row"),
          List.of("SELECT", "SELECT_V2", "RESHAPE"));
    }
  }

  Case gatherNd() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = ph(tf, "x", -1, 4, 3);
      var idx = ph(tf, TInt32.class, "idx", -1, 2);
      tf.withName("points")
          .gatherNd(x, tf.constant(new int[][] {{0, 1, 2}, {1, 3, 0}, {1, 0, 1}, {0, 2, 2}}));
      tf.withName("rows").gatherNd(x, idx);
      tf.withName("slices").gatherNd(x, tf.constant(new long[][] {{1}, {0}, {1}}));
      return new Case(
          "GatherNd",
          write(g, "gathernd"),
          List.of(
              uniform("x", 2, 4, 3),
              new Feed(
                  "idx",
                  DType.INT32.tfEnum(),
                  new long[] {3, 2},
                  null,
                  new int[] {1, 2, 0, 0, 1, 3})),
          List.of("points", "rows", "slices"),
          List.of("GATHER_ND"));
    }
  }

  Case mirrorPad() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = ph(tf, "x", -1, 5, 4, 3);
      tf.withName("reflect")
          .mirrorPad(x, tf.constant(new int[][] {{0, 0}, {2, 1}, {1, 3}, {0, 0}}), "REFLECT");
      tf.withName("symmetric")
          .mirrorPad(x, tf.constant(new long[][] {{1, 0}, {1, 3}, {4, 0}, {0, 1}}), "SYMMETRIC");
      return new Case(
          "MirrorPad",
          write(g, "mirrorpad"),
          List.of(uniform("x", 2, 5, 4, 3)),
          List.of("reflect", "symmetric"),
          List.of("MIRROR_PAD"));
    }
  }

  Case depthSpace() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = ph(tf, "x", -1, 3, 4, 8);
      var y = ph(tf, "y", -1, 6, 4, 3);
      tf.withName("d2s").nn.depthToSpace(x, 2L);
      tf.withName("s2d").nn.spaceToDepth(y, 2L);
      return new Case(
          "DepthToSpace/SpaceToDepth",
          write(g, "depthspace"),
          List.of(uniform("x", 2, 3, 4, 8), uniform("y", 2, 6, 4, 3)),
          List.of("d2s", "s2d"),
          List.of("DEPTH_TO_SPACE", "SPACE_TO_DEPTH"));
    }
  }

  /** Indices from -2 to 7 with depth 6: out-of-range ones give off_value rows in both runtimes. */
  Case oneHot() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var i = ph(tf, TInt32.class, "i", -1, 5);
      tf.withName("floats").oneHot(i, tf.constant(6), tf.constant(2.5f), tf.constant(-1f));
      tf.withName("ints_axis1")
          .oneHot(i, tf.constant(6), tf.constant(1), tf.constant(0), OneHot.axis(1L));
      return new Case(
          "OneHot",
          write(g, "onehot"),
          List.of(ints("i", DType.INT32.tfEnum(), new long[] {2, 5}, -2, 7)),
          List.of("floats", "ints_axis1"),
          List.of("ONE_HOT"));
    }
  }

  /** To a constant shape, and to the run-time shape of another input. */
  Case broadcastTo() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = ph(tf, "x", -1, 1, 3);
      var like = ph(tf, "like", -1, 4, 3);
      var row = ph(tf, "row", 3);
      tf.withName("to_const").broadcastTo(row, tf.constant(new long[] {2, 4, 3}));
      tf.withName("to_shape").broadcastTo(x, tf.shape(like));
      return new Case(
          "BroadcastTo",
          write(g, "broadcast"),
          List.of(uniform("x", 2, 1, 3), uniform("like", 2, 4, 3), uniform("row", 3)),
          List.of("to_const", "to_shape"),
          List.of("BROADCAST_TO"));
    }
  }

  /** Rank of an input of unknown rank; Size (int32 and int64) of one with an unknown batch. */
  Case rankSize() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class);
      var y = ph(tf, "y", -1, 3, 4);
      tf.withName("rank").rank(x);
      tf.withName("size").size(y);
      tf.withName("size64").size(y, TInt64.class);
      return new Case(
          "Rank/Size",
          write(g, "ranksize"),
          List.of(uniform("x", 2, 3, 1, 2), uniform("y", 2, 3, 4)),
          List.of("rank", "size", "size64"),
          List.of("RANK", "SHAPE", "REDUCE_PROD"));
    }
  }

  /** TFLite has ZEROS_LIKE but no ONES_LIKE builtin. */
  Case zerosOnesLike() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = ph(tf, "x", -1, 3);
      var i = ph(tf, TInt32.class, "i", -1, 4);
      tf.withName("zeros").zerosLike(x);
      tf.withName("ones").onesLike(x);
      tf.withName("int_ones").onesLike(i);
      return new Case(
          "ZerosLike/OnesLike",
          write(g, "zeros_ones"),
          List.of(uniform("x", 2, 3), ints("i", DType.INT32.tfEnum(), new long[] {2, 4}, -3, 3)),
          List.of("zeros", "ones", "int_ones"),
          List.of("ZEROS_LIKE", "ADD"));
    }
  }

  @Test
  void eachOpMatchesTensorFlow() throws Exception {
    runAll(
        "TFLite data-movement ops",
        List.of(
            resizeBilinear(),
            resizeNearest(),
            splitV(),
            select(),
            gatherNd(),
            mirrorPad(),
            depthSpace(),
            oneHot(),
            broadcastTo(),
            rankSize(),
            zerosOnesLike()));
  }
}
