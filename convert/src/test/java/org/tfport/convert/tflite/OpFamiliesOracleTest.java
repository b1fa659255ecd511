package org.tfport.convert.tflite;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.math.Cumsum;
import org.tensorflow.op.nn.FusedBatchNorm;
import org.tensorflow.op.nn.LocalResponseNormalization;
import org.tensorflow.op.nn.TopK;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tfport.core.DType;
import org.tfport.testkit.OracleTest;

/**
 * The lowering's arithmetic and layer families beyond one-builtin mappings: reductions and searches
 * (TopKV2, Cumsum, Where, ArgMin), element-wise decompositions (ClipByValue, Reciprocal, Softplus,
 * Selu, Softsign, Log1p, Expm1, AddN) and layers (Conv3D, LRN, FusedBatchNorm), each in TFLite 2.18
 * against TensorFlow 2.18.
 */
@OracleTest
class OpFamiliesOracleTest extends OpFamilyCases {
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

  @Test
  void eachOpMatchesTensorFlow() throws Exception {
    runAll(
        "TFLite arithmetic and layer ops",
        List.of(
            addN(),
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
            where(),
            argMin()));
  }
}
