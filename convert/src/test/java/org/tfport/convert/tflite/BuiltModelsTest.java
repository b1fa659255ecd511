package org.tfport.convert.tflite;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tfport.convert.TfliteQuantizationMode;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.formats.tflite.TfliteType;
import org.tfport.graph.GraphOptions;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfliteOracle;

/**
 * Graphs built with TF Java (conv + batch norm + relu + pool + dense + softmax; depthwise; concat
 * with two inputs and two outputs), frozen to GraphDefs, converted, run in TFLite 2.18 and compared
 * with TF 2.18. The float files match within 1e-5 + 1e-4|b|; float16 within 1e-2 relative (1e-3
 * absolute); dynamic-range int8 files are at most 30 % of the float ones.
 */
@OracleTest
class BuiltModelsTest {
  @TempDir Path tmp;
  final Random rnd = new Random(7);

  private Operand<TFloat32> c(Ops tf, long[] shape, float scale) {
    return randomConstant(tf, rnd, scale, shape);
  }

  /** A float constant of {@code shape} with values uniform in [-scale, scale) from {@code rnd}. */
  static Operand<TFloat32> randomConstant(Ops tf, Random rnd, float scale, long... shape) {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (rnd.nextFloat() * 2 - 1) * scale;
    }
    return tf.constant(Shape.of(shape), DataBuffers.of(v));
  }

  private Operand<TInt32> ints(Ops tf, int... v) {
    return tf.constant(v);
  }

  /**
   * conv(3x3, 16) + BN + relu + maxpool + conv(3x3,32) + dense(128) + relu + dense(10) + softmax.
   */
  Path cnn() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x =
          tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 16, 16, 3)));
      var conv =
          tf.nn.conv2d(x, c(tf, new long[] {3, 3, 3, 16}, 0.3f), List.of(1L, 1L, 1L, 1L), "SAME");
      var bn =
          tf.math.add(tf.math.mul(conv, c(tf, new long[] {16}, 1f)), c(tf, new long[] {16}, 0.5f));
      var pool = tf.nn.maxPool(tf.nn.relu(bn), ints(tf, 1, 2, 2, 1), ints(tf, 1, 2, 2, 1), "VALID");
      var conv2 =
          tf.nn.biasAdd(
              tf.nn.conv2d(
                  pool, c(tf, new long[] {3, 3, 16, 32}, 0.1f), List.of(1L, 2L, 2L, 1L), "VALID"),
              c(tf, new long[] {32}, 0.1f));
      var flat = tf.reshape(tf.nn.relu6(conv2), ints(tf, -1, 3 * 3 * 32));
      var d1 =
          tf.nn.relu(
              tf.nn.biasAdd(
                  tf.linalg.matMul(flat, c(tf, new long[] {288, 128}, 0.1f)),
                  c(tf, new long[] {128}, 0.1f)));
      var d2 =
          tf.math.add(
              tf.linalg.matMul(d1, c(tf, new long[] {128, 10}, 0.3f)),
              c(tf, new long[] {10}, 0.1f));
      tf.withName("probs").nn.softmax(d2);
      return write(g, "cnn.pb");
    }
  }

  /** depthwise 3x3 x2, average pool, mean, tanh. */
  Path depthwise() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x =
          tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 8, 8, 4)));
      var dw =
          tf.nn.depthwiseConv2dNative(
              x, c(tf, new long[] {3, 3, 4, 2}, 0.5f), List.of(1L, 1L, 1L, 1L), "SAME");
      var b = tf.nn.relu(tf.nn.biasAdd(dw, c(tf, new long[] {8}, 0.1f)));
      var p = tf.nn.avgPool(b, List.of(1L, 2L, 2L, 1L), List.of(1L, 2L, 2L, 1L), "VALID");
      tf.withName("y").math.tanh(tf.math.mean(p, ints(tf, 1, 2)));
      return write(g, "dw.pb");
    }
  }

  /** Two inputs concatenated, two outputs (a dense head and a transposed slice). */
  Path multiIo() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var a = tf.withName("a").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 5)));
      var b = tf.withName("b").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 3)));
      var cat = tf.concat(List.of(a, b), tf.constant(1));
      tf.withName("out1").math.sigmoid(tf.linalg.matMul(cat, c(tf, new long[] {8, 4}, 0.5f)));
      var st =
          tf.stack(
              List.of(a, tf.math.mul(a, tf.constant(2f))), org.tensorflow.op.core.Stack.axis(1L));
      tf.withName("out2").linalg.transpose(st, ints(tf, 0, 2, 1));
      return write(g, "multi.pb");
    }
  }

  /**
   * Keras' Conv2DTranspose (output shape packed from the input's batch size at run time), a dilated
   * convolution written the TF1 way (SpaceToBatchND, Conv2D, BatchToSpaceND) and an IdentityN.
   */
  Path upsampling() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x =
          tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 5, 5, 3)));
      var batch =
          tf.stridedSlice(
              tf.shape(x),
              ints(tf, 0),
              ints(tf, 1),
              ints(tf, 1),
              org.tensorflow.op.core.StridedSlice.shrinkAxisMask(1L));
      var outShape = tf.stack(List.of(batch, tf.constant(10), tf.constant(10), tf.constant(4)));
      var up =
          tf.nn.conv2dBackpropInput(
              outShape, c(tf, new long[] {3, 3, 4, 3}, 0.5f), x, List.of(1L, 2L, 2L, 1L), "SAME");
      var act = tf.nn.relu(tf.nn.biasAdd(up, c(tf, new long[] {4}, 0.1f)));
      var s2b = tf.spaceToBatchNd(act, ints(tf, 2, 2), tf.constant(new int[][] {{2, 2}, {2, 2}}));
      var conv =
          tf.nn.conv2d(s2b, c(tf, new long[] {3, 3, 4, 2}, 0.5f), List.of(1L, 1L, 1L, 1L), "VALID");
      var dilated =
          tf.batchToSpaceNd(conv, ints(tf, 2, 2), tf.constant(new int[][] {{0, 0}, {0, 0}}));
      var pair = tf.identityN(List.of(dilated, act));
      tf.withName("y").math.tanh(pair.output().get(0));
      return write(g, "upsampling.pb");
    }
  }

  private Path write(Graph g, String name) throws Exception {
    Path p = tmp.resolve(name);
    Files.write(p, g.toGraphDef().toByteArray());
    return p;
  }

  record Model(Path pb, List<String> inputs, List<String> outputs) {}

  @Test
  void builtModelsMatchTensorFlowFloatAndQuantized() throws Exception {
    List<Model> models =
        List.of(
            new Model(cnn(), List.of("x"), List.of("probs")),
            new Model(depthwise(), List.of("x"), List.of("y")),
            new Model(multiIo(), List.of("a", "b"), List.of("out1", "out2")),
            new Model(upsampling(), List.of("x"), List.of("y")));
    List<String> report = new ArrayList<>();
    for (Model m : models) {
      String label = m.pb().getFileName().toString();
      Path f32 = tmp.resolve(label + ".tflite");
      GraphOptions go = new GraphOptions(null, null, true, false, false, m.outputs());
      TfliteConverter.convertFrozen(
          m.pb(), f32, go, m.inputs(), Map.of(), TfliteOptions.defaults());
      Path f16 = tmp.resolve(label + ".f16.tflite");
      TfliteConverter.convertFrozen(
          m.pb(),
          f16,
          go,
          m.inputs(),
          Map.of(),
          TfliteOptions.defaults().withQuantization(TfliteQuantizationMode.FLOAT16));
      Path dr = tmp.resolve(label + ".dr.tflite");
      TfliteConverter.convertFrozen(
          m.pb(),
          dr,
          go,
          m.inputs(),
          Map.of(),
          TfliteOptions.defaults().withQuantization(TfliteQuantizationMode.DYNAMIC_RANGE));

      TfliteModel model = TfliteReader.read(f32);
      var sub = model.mainSubgraph();
      Map<String, TensorFlowOracle.Feed> feeds = new LinkedHashMap<>();
      List<TfliteOracle.Tensor> ins = new ArrayList<>();
      for (int i : sub.inputs()) {
        var t = sub.tensors().get(i);
        assertThat(t.shapeSignature()).as(label + " unknown batch").isNotNull();
        assertThat(t.shapeSignature().get(0)).isEqualTo(-1);
        int[] shape = t.shape().stream().mapToInt(Integer::intValue).toArray();
        shape[0] = 2;
        long[] ls = java.util.Arrays.stream(shape).asLongStream().toArray();
        float[] v = new float[java.util.Arrays.stream(shape).reduce(1, (p, q) -> p * q)];
        for (int k = 0; k < v.length; k++) {
          v[k] = rnd.nextFloat() * 2 - 1;
        }
        ins.add(TfliteOracle.Tensor.f32(shape, v));
        feeds.put(t.name(), new TensorFlowOracle.Feed(TfjsOracle.Input.f32(t.name(), ls, v), 1));
      }
      List<float[]> tf = TensorFlowOracle.runGraphDef(m.pb(), feeds, m.outputs());
      List<TfliteOracle.Tensor> o32 = TfliteOracle.run(f32, ins);
      List<TfliteOracle.Tensor> o16 = TfliteOracle.run(f16, ins);
      List<TfliteOracle.Tensor> odr = TfliteOracle.run(dr, ins);
      StringBuilder line = new StringBuilder(label);
      for (int k = 0; k < tf.size(); k++) {
        Comparison c32 = Comparison.of(tf.get(k), o32.get(k).floats(), 1e-5, 1e-4);
        Comparison c16 = Comparison.of(tf.get(k), o16.get(k).floats(), 1e-3, 1e-2);
        // Dynamic range: weights within scale/2 = max|w|/254 and inputs quantized per batch row
        // likewise, so each
        // dot product is off by about 2 * sqrt(K) * max|w| * max|x| / 254 before the head; through
        // these small
        // nets that stays under 0.05 absolute on softmax/sigmoid/tanh outputs and 0.05 + 5 %
        // elsewhere.
        Comparison cdr = Comparison.of(tf.get(k), odr.get(k).floats(), 5e-2, 5e-2);
        line.append(
            String.format(
                " | %s f32 %.2g f16 %.2g dr %.2g",
                m.outputs().get(k), c32.maxAbs(), c16.maxAbs(), cdr.maxAbs()));
        assertThat(c32.ok()).as(label + " float32 " + c32).isTrue();
        assertThat(c16.ok()).as(label + " float16 " + c16).isTrue();
        assertThat(cdr.ok()).as(label + " dynamic range " + cdr).isTrue();
      }
      long s32 = Files.size(f32);
      long s16 = Files.size(f16);
      long sdr = Files.size(dr);
      line.append(
          String.format(
              " | bytes f32 %d f16 %d dr %d (%.0f%%) | ops %s",
              s32,
              s16,
              sdr,
              100.0 * sdr / s32,
              model.operatorCodes().stream().map(c -> c.name() + "v" + c.version()).toList()));
      report.add(line.toString());
      TfliteModel q = TfliteReader.read(dr);
      boolean anyInt8 =
          q.mainSubgraph().tensors().stream().anyMatch(t -> t.type() == TfliteType.INT8);
      if (label.equals("cnn.pb")) {
        assertThat(anyInt8).isTrue();
        assertThat(sdr).as("dynamic range size").isLessThanOrEqualTo(s32 * 30 / 100);
      }
      assertThat(model.minRuntimeVersion()).isPresent();
      assertThat(model.conversionMetadata()).isPresent();
    }
    System.out.println("Built models:\n  " + String.join("\n  ", report));
  }
}
