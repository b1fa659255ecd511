package org.tfport.convert.tflite;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperationBuilder;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.OneHot;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.image.ResizeBilinear;
import org.tensorflow.op.image.ResizeNearestNeighbor;
import org.tensorflow.op.math.Cumsum;
import org.tensorflow.op.nn.FusedBatchNorm;
import org.tensorflow.op.nn.LocalResponseNormalization;
import org.tensorflow.op.nn.TopK;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TType;
import org.tfport.core.DType;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteOperatorCode;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.graph.GraphOptions;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfliteOracle;

/**
 * One small graph per TF op (or small group) of the lowering's op families beyond one-builtin
 * mappings: data movement (resizing, SplitV, Select, GatherNd, MirrorPad, depth/space, OneHot,
 * Rank/Size), reductions and searches (TopKV2, Cumsum, Where, ArgMin), element-wise decompositions
 * (ClipByValue, Reciprocal, Softplus, Selu, Softsign, Log1p, Expm1, AddN) and layers (Conv3D, LRN,
 * FusedBatchNorm). Each is built with TF Java, frozen to a GraphDef, converted with builtins only,
 * run in the TFLite 2.18 interpreter and compared with TensorFlow 2.18 on random inputs: float
 * outputs within 1e-5 + 1e-4·|b|, integer and boolean outputs exactly. Most inputs have an unknown
 * batch dimension, fed as 2. Each case also names the TFLite builtins it must become, so a lowering
 * that silently changes is caught.
 */
@OracleTest
class OpFamiliesOracleTest {
  @TempDir Path tmp;
  final Random rnd = new Random(20240604);

  /** A placeholder's fed value: TF type, concrete shape and data (floats or ints). */
  record Feed(String name, int tfType, long[] shape, float[] f, int[] i) {}

  record Case(
      String label, Path pb, List<Feed> feeds, List<String> outputs, List<String> expectedOps) {}

  // ----------------------------------------------------------------------------------------------
  // helpers

  private Feed floats(String name, long[] shape, DoubleSupplier gen) {
    float[] v = new float[count(shape)];
    for (int k = 0; k < v.length; k++) {
      v[k] = (float) gen.getAsDouble();
    }
    return new Feed(name, DType.FLOAT32.tfEnum(), shape, v, null);
  }

  private Feed uniform(String name, long... shape) {
    return floats(name, shape, () -> rnd.nextFloat() * 2 - 1);
  }

  private Feed ints(String name, int tfType, long[] shape, int lo, int hi) {
    int[] v = new int[count(shape)];
    for (int k = 0; k < v.length; k++) {
      v[k] = lo + rnd.nextInt(hi - lo + 1);
    }
    return new Feed(name, tfType, shape, null, v);
  }

  private static int count(long[] shape) {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    return n;
  }

  private static Placeholder<TFloat32> ph(Ops tf, String name, long... shape) {
    return tf.withName(name).placeholder(TFloat32.class, Placeholder.shape(Shape.of(shape)));
  }

  private static <T extends TType> Placeholder<T> ph(
      Ops tf, Class<T> type, String name, long... shape) {
    return tf.withName(name).placeholder(type, Placeholder.shape(Shape.of(shape)));
  }

  private Operand<TFloat32> weights(Ops tf, long[] shape, float scale) {
    return BuiltModelsTest.randomConstant(tf, rnd, scale, shape);
  }

  /** A raw op TF Java has no typed wrapper for (TF1 Select, Inv, FusedBatchNorm v1). */
  private static Output<?> raw(
      Graph g,
      Ops tf,
      String type,
      String name,
      List<Operand<?>> inputs,
      Consumer<GraphOperationBuilder> attrs) {
    GraphOperationBuilder b = g.opBuilder(type, name, tf.scope());
    for (Operand<?> i : inputs) {
      b.addInput(i.asOutput());
    }
    attrs.accept(b);
    return b.build().output(0);
  }

  private Path write(Graph g, String name) throws Exception {
    Path p = tmp.resolve(name + ".pb");
    Files.write(p, g.toGraphDef().toByteArray());
    return p;
  }

  // ------------------------------------------------------------------------------------------------ cases

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

  Case addN() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var a = ph(tf, "a", -1, 6);
      var b = ph(tf, "b", -1, 6);
      var c = ph(tf, "c", -1, 6);
      var i = ph(tf, TInt32.class, "i", -1, 3);
      var j = ph(tf, TInt32.class, "j", -1, 3);
      tf.withName("sum").math.addN(List.of(a, b, c));
      tf.withName("isum").math.addN(List.of(i, j, i));
      return new Case(
          "AddN",
          write(g, "addn"),
          List.of(
              uniform("a", 2, 6),
              uniform("b", 2, 6),
              uniform("c", 2, 6),
              ints("i", DType.INT32.tfEnum(), new long[] {2, 3}, -50, 50),
              ints("j", DType.INT32.tfEnum(), new long[] {2, 3}, -50, 50)),
          List.of("sum", "isum"),
          List.of("ADD_N"));
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

  Case topK() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = ph(tf, "x", -1, 10);
      var k = tf.nn.topK(x, tf.constant(3), TInt32.class, TopK.sorted(true));
      tf.withName("values").identity(k.values());
      tf.withName("indices").identity(k.indices());
      return new Case(
          "TopKV2",
          write(g, "topk"),
          List.of(uniform("x", 2, 10)),
          List.of("values", "indices"),
          List.of("TOPK_V2"));
    }
  }

  Case cumsum() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = ph(tf, "x", -1, 6, 3);
      var i = ph(tf, TInt32.class, "i", -1, 5);
      tf.withName("plain").math.cumsum(x, tf.constant(1));
      tf.withName("exclusive").math.cumsum(x, tf.constant(-1), Cumsum.exclusive(true));
      tf.withName("reverse").math.cumsum(x, tf.constant(1L), Cumsum.reverse(true));
      tf.withName("both")
          .math
          .cumsum(x, tf.constant(0), Cumsum.exclusive(true), Cumsum.reverse(true));
      tf.withName("ints").math.cumsum(i, tf.constant(1), Cumsum.reverse(true));
      return new Case(
          "Cumsum",
          write(g, "cumsum"),
          List.of(
              uniform("x", 2, 6, 3), ints("i", DType.INT32.tfEnum(), new long[] {2, 5}, -100, 100)),
          List.of("plain", "exclusive", "reverse", "both", "ints"),
          List.of("CUMSUM"));
    }
  }

  Case lrn() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = ph(tf, "x", -1, 4, 4, 9);
      tf.withName("custom")
          .nn
          .localResponseNormalization(
              x,
              LocalResponseNormalization.depthRadius(2L),
              LocalResponseNormalization.bias(1.5f),
              LocalResponseNormalization.alpha(0.3f),
              LocalResponseNormalization.beta(0.75f));
      tf.withName("defaults").nn.localResponseNormalization(x);
      return new Case(
          "LRN",
          write(g, "lrn"),
          List.of(floats("x", new long[] {2, 4, 4, 9}, () -> (rnd.nextFloat() * 2 - 1) * 3)),
          List.of("custom", "defaults"),
          List.of("LOCAL_RESPONSE_NORMALIZATION"));
    }
  }

  /** Conv3D + BiasAdd + Relu (one CONV_3D), and a strided VALID one. */
  Case conv3d() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = ph(tf, "x", -1, 4, 5, 6, 3);
      var c =
          tf.nn.conv3d(
              x,
              weights(tf, new long[] {2, 3, 3, 3, 4}, 0.4f),
              List.of(1L, 1L, 1L, 1L, 1L),
              "SAME");
      tf.withName("same_relu").nn.relu(tf.nn.biasAdd(c, weights(tf, new long[] {4}, 0.2f)));
      tf.withName("valid")
          .nn
          .conv3d(
              x,
              weights(tf, new long[] {3, 2, 3, 3, 2}, 0.4f),
              List.of(1L, 1L, 2L, 2L, 1L),
              "VALID");
      return new Case(
          "Conv3D",
          write(g, "conv3d"),
          List.of(uniform("x", 2, 4, 5, 6, 3)),
          List.of("same_relu", "valid"),
          List.of("CONV_3D"));
    }
  }

  Case clip() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = ph(tf, "x", -1, 8);
      var i = ph(tf, TInt32.class, "i", -1, 4);
      tf.withName("relu6").clipByValue(x, tf.constant(0f), tf.constant(6f));
      tf.withName("n1_to_1").clipByValue(x, tf.constant(-1f), tf.constant(1f));
      tf.withName("general").clipByValue(x, tf.constant(-2.5f), tf.constant(0.75f));
      tf.withName("ints").clipByValue(i, tf.constant(-3), tf.constant(5));
      return new Case(
          "ClipByValue",
          write(g, "clip"),
          List.of(
              floats("x", new long[] {2, 8}, () -> (rnd.nextFloat() * 2 - 1) * 8),
              ints("i", DType.INT32.tfEnum(), new long[] {2, 4}, -10, 10)),
          List.of("relu6", "n1_to_1", "general", "ints"),
          List.of("RELU6", "RELU_N1_TO_1", "MINIMUM", "MAXIMUM"));
    }
  }

  /** Reciprocal and its TF1 name Inv, on values away from zero. */
  Case reciprocal() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = ph(tf, "x", -1, 7);
      tf.withName("reciprocal").math.reciprocal(x);
      raw(g, tf, "Inv", "inv", List.of(x), b -> {});
      return new Case(
          "Reciprocal/Inv",
          write(g, "reciprocal"),
          List.of(
              floats(
                  "x",
                  new long[] {2, 7},
                  () -> (rnd.nextBoolean() ? 1 : -1) * (0.05 + rnd.nextFloat() * 4))),
          List.of("reciprocal", "inv"),
          List.of("DIV"));
    }
  }

  /**
   * Softplus over TF's three regimes (below -13.94, between, above 13.94) and far beyond exp's
   * range.
   */
  Case softplus() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = ph(tf, "x", -1, 64);
      tf.withName("softplus").math.softplus(x);
      return new Case(
          "Softplus",
          write(g, "softplus"),
          List.of(
              floats(
                  "x",
                  new long[] {2, 64},
                  () ->
                      rnd.nextInt(8) == 0
                          ? (rnd.nextBoolean() ? 1 : -1) * (80 + rnd.nextFloat() * 100)
                          : (rnd.nextFloat() * 2 - 1) * 20)),
          List.of("softplus"),
          List.of("EXP", "LOG", "RELU", "ADD"));
    }
  }

  Case seluSoftsign() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = ph(tf, "x", -1, 32);
      tf.withName("selu").nn.selu(x);
      tf.withName("softsign").nn.softsign(x);
      return new Case(
          "Selu/Softsign",
          write(g, "selu"),
          List.of(floats("x", new long[] {2, 32}, () -> (rnd.nextFloat() * 2 - 1) * 6)),
          List.of("selu", "softsign"),
          List.of("ELU", "SELECT_V2", "DIV"));
    }
  }

  /**
   * Log1p on (-1, 4) including values near 0 where the decomposition rounds most; Expm1 on (-6, 6).
   */
  Case log1pExpm1() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = ph(tf, "x", -1, 32);
      var y = ph(tf, "y", -1, 32);
      tf.withName("log1p").math.log1p(x);
      tf.withName("expm1").math.expm1(y);
      return new Case(
          "Log1p/Expm1",
          write(g, "log1p"),
          List.of(
              floats(
                  "x",
                  new long[] {2, 32},
                  () ->
                      rnd.nextInt(4) == 0
                          ? (rnd.nextFloat() * 2 - 1) * 1e-3
                          : -0.999 + rnd.nextFloat() * 5),
              floats("y", new long[] {2, 32}, () -> (rnd.nextFloat() * 2 - 1) * 6)),
          List.of("log1p", "expm1"),
          List.of("LOG", "EXP", "SUB"));
    }
  }

  /** Batch norms no convolution absorbs: V3 (then Relu, fused into the ADD) and the TF1 op. */
  Case batchNorm() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = ph(tf, "x", -1, 3, 4, 5);
      Operand<TFloat32> scale = weights(tf, new long[] {5}, 2f);
      Operand<TFloat32> offset = weights(tf, new long[] {5}, 1f);
      Operand<TFloat32> mean = weights(tf, new long[] {5}, 0.5f);
      Operand<TFloat32> variance = tf.math.abs(weights(tf, new long[] {5}, 2f));
      var v3 =
          tf.nn.fusedBatchNorm(
              x,
              scale,
              offset,
              mean,
              variance,
              FusedBatchNorm.isTraining(false),
              FusedBatchNorm.epsilon(1e-3f));
      tf.withName("v3_relu").nn.relu(v3.y());
      raw(
          g,
          tf,
          "FusedBatchNorm",
          "v1",
          List.of(x, scale, offset, mean, variance),
          b -> {
            b.setAttr("is_training", false);
            b.setAttr("epsilon", 0.01f);
          });
      return new Case(
          "FusedBatchNorm/V3",
          write(g, "batchnorm"),
          List.of(floats("x", new long[] {2, 3, 4, 5}, () -> (rnd.nextFloat() * 2 - 1) * 3)),
          List.of("v3_relu", "v1"),
          List.of("MUL", "ADD"));
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

  Case where() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var c = ph(tf, TBool.class, "c", -1, 5);
      var i = ph(tf, TInt32.class, "i", -1, 3, 2);
      tf.withName("of_bool").where(c);
      tf.withName("of_ints").where(i);
      return new Case(
          "Where",
          write(g, "where"),
          List.of(
              ints("c", DType.BOOL.tfEnum(), new long[] {2, 5}, 0, 1),
              ints("i", DType.INT32.tfEnum(), new long[] {2, 3, 2}, -1, 1)),
          List.of("of_bool", "of_ints"),
          List.of("WHERE"));
    }
  }

  Case argMin() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = ph(tf, "x", -1, 7);
      var i = ph(tf, TInt32.class, "i", -1, 6);
      tf.withName("rows").math.argMin(x, tf.constant(1));
      tf.withName("columns").math.argMin(x, tf.constant(0L), TInt32.class);
      tf.withName("ints_ties").math.argMin(i, tf.constant(-1), TInt32.class);
      return new Case(
          "ArgMin",
          write(g, "argmin"),
          List.of(uniform("x", 2, 7), ints("i", DType.INT32.tfEnum(), new long[] {2, 6}, 0, 2)),
          List.of("rows", "columns", "ints_ties"),
          List.of("ARG_MIN"));
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

  // ------------------------------------------------------------------------------------------------- run

  private String run(Case c) throws Exception {
    Path out = tmp.resolve(c.pb().getFileName().toString().replace(".pb", ".tflite"));
    List<String> names = c.feeds().stream().map(Feed::name).toList();
    GraphOptions go = new GraphOptions(null, null, true, false, false, c.outputs());
    TfliteConverter.convertFrozen(c.pb(), out, go, names, Map.of(), TfliteOptions.defaults());
    TfliteModel model = TfliteReader.read(out);
    var sub = model.mainSubgraph();
    List<TfliteOracle.Tensor> liteIns = new ArrayList<>();
    for (int t : sub.inputs()) {
      String name = sub.tensors().get(t).name();
      Feed f =
          c.feeds().stream()
              .filter(x -> x.name().equals(name))
              .findFirst()
              .orElseThrow(() -> new AssertionError(c.label() + ": no feed for input " + name));
      int[] shape = java.util.Arrays.stream(f.shape()).mapToInt(d -> (int) d).toArray();
      liteIns.add(
          switch (java.util.Objects.requireNonNull(
              DType.fromTfEnum(f.tfType()), "type " + f.tfType())) {
            case FLOAT32 -> TfliteOracle.Tensor.f32(shape, f.f());
            case INT32 -> TfliteOracle.Tensor.i32(shape, f.i());
            case BOOL -> {
              boolean[] b = new boolean[f.i().length];
              for (int k = 0; k < b.length; k++) {
                b[k] = f.i()[k] != 0;
              }
              yield TfliteOracle.Tensor.bool(shape, b);
            }
            default -> throw new AssertionError("type " + f.tfType());
          });
    }
    Map<String, TensorFlowOracle.Feed> feeds = new LinkedHashMap<>();
    for (Feed f : c.feeds()) {
      feeds.put(
          f.name(),
          new TensorFlowOracle.Feed(
              f.f() != null
                  ? TfjsOracle.Input.f32(f.name(), f.shape(), f.f())
                  : TfjsOracle.Input.i32(f.name(), f.shape(), f.i()),
              f.tfType()));
    }
    List<float[]> expected = TensorFlowOracle.runGraphDef(c.pb(), feeds, c.outputs());
    List<TfliteOracle.Tensor> actual = TfliteOracle.run(out, liteIns);
    assertThat(actual).as(c.label() + " outputs").hasSize(expected.size());

    List<String> ops = model.operatorCodes().stream().map(TfliteOperatorCode::name).toList();
    assertThat(ops)
        .as(c.label() + " operators")
        .containsAll(c.expectedOps())
        .doesNotContain("CUSTOM");
    StringBuilder line = new StringBuilder(String.format("%-26s ->", c.label()));
    for (TfliteOperatorCode oc : model.operatorCodes()) {
      line.append(' ').append(oc.name()).append(" v").append(oc.version());
    }
    line.append(" |");
    for (int k = 0; k < expected.size(); k++) {
      TfliteOracle.Tensor a = actual.get(k);
      boolean exact = !a.dtype().startsWith("float");
      Comparison cmp =
          Comparison.of(expected.get(k), a.floats(), exact ? 0 : 1e-5, exact ? 0 : 1e-4);
      assertThat(cmp.ok())
          .as(c.label() + " " + c.outputs().get(k) + " (" + a.dtype() + ") " + cmp)
          .isTrue();
      line.append(
          String.format(
              " %s%s max|d| %.2g",
              c.outputs().get(k), exact ? " (" + a.dtype() + ", exact)" : "", cmp.maxAbs()));
    }
    return line.toString();
  }

  @Test
  void eachOpMatchesTensorFlow() throws Exception {
    List<Case> cases =
        List.of(
            resizeBilinear(),
            resizeNearest(),
            addN(),
            splitV(),
            select(),
            gatherNd(),
            mirrorPad(),
            depthSpace(),
            oneHot(),
            topK(),
            cumsum(),
            lrn(),
            conv3d(),
            clip(),
            reciprocal(),
            softplus(),
            seluSoftsign(),
            log1pExpm1(),
            batchNorm(),
            broadcastTo(),
            where(),
            argMin(),
            rankSize(),
            zerosOnesLike());
    List<String> report = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    for (Case c : cases) {
      try {
        report.add(run(c));
      } catch (Throwable t) {
        failures.add(c.label() + ": " + t.getMessage());
        report.add(c.label() + " FAILED: " + t.getMessage());
      }
    }
    System.out.println(
        "More TFLite ops (TF 2.18 vs TFLite 2.18):\n  " + String.join("\n  ", report));
    assertThat(failures).as("cases that failed").isEmpty();
  }
}
