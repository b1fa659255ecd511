package org.tfport.convert.tflite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.tfport.convert.tflite.FullIntegerQuantizationTest.maxAbs;
import static org.tfport.convert.tflite.FullIntegerQuantizationTest.opNames;
import static org.tfport.convert.tflite.FullIntegerQuantizationTest.outputScales;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tfport.convert.TfliteQuantizationMode;
import org.tfport.core.TfportException;
import org.tfport.formats.tflite.BuiltinOptions;
import org.tfport.formats.tflite.ConversionMetadata;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteOperator;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.formats.tflite.TfliteSubgraph;
import org.tfport.formats.tflite.TfliteTensor;
import org.tfport.formats.tflite.TfliteType;
import org.tfport.graph.GraphOptions;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfliteOracle;

/**
 * 16x8 post-training quantization (int16 activations, int8 weights, int64 biases) of the models of
 * {@link FullIntegerQuantizationTest}, plus one with the elementwise and data-movement ops that
 * have int16 kernels: each converted float, int8 and 16x8 from the same 50 samples and run in
 * TFLite 2.18.
 *
 * <p>An int16 output step is 128 to 256 times smaller than an int8 one, smaller than what rounding
 * the weights to int8 changes in the outputs, so "within two output steps of float", which holds
 * for int8, cannot hold for 16x8. The activation quantization is therefore measured against the
 * float model run with the int8-rounded weights ({@link #withInt8Weights}): a few int16 steps.
 * Against the plain float model, 16x8 must beat int8.
 */
@OracleTest
class Int16x8QuantizationTest {
  @TempDir Path tmp;

  FullIntegerQuantizationTest helpers() {
    FullIntegerQuantizationTest t = new FullIntegerQuantizationTest();
    t.tmp = tmp;
    return t;
  }

  static TfliteOptions int16x8(Path dir, String in, String out) {
    return TfliteOptions.defaults().withFullInteger(TfliteQuantizationMode.INT16X8, dir, in, out);
  }

  /**
   * SUB and MUL of two activations, a constant ADD, PAD, STRIDED_SLICE, a CONCATENATION of inputs
   * with different ranges (so one is requantized int16 to int16), MAXIMUM, LEAKY_RELU, MEAN, a
   * dense layer and a logistic.
   */
  Path elementwise(FullIntegerQuantizationTest h) throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 6, 4)));
      var a =
          tf.linalg.matMul(
              tf.reshape(x, tf.constant(new int[] {-1, 4})),
              tf.constant(
                  new float[][] {
                    {0.5f, -1f, 0.2f}, {1f, 0.3f, -0.4f}, {-0.6f, 0.8f, 1f}, {0.1f, 0.2f, 0.9f}
                  }));
      var r = tf.reshape(a, tf.constant(new int[] {-1, 6, 3}));
      var sub = tf.math.sub(r, tf.math.mul(r, r));
      var shifted = tf.math.add(sub, tf.constant(new float[] {0.5f, -0.25f, 1f}));
      var padded =
          tf.pad(shifted, tf.constant(new int[][] {{0, 0}, {1, 1}, {0, 0}}), tf.constant(0f));
      var sliced =
          tf.stridedSlice(
              padded,
              tf.constant(new int[] {0, 1, 0}),
              tf.constant(new int[] {0, 7, 3}),
              tf.constant(new int[] {1, 2, 1}),
              org.tensorflow.op.core.StridedSlice.beginMask(1L),
              org.tensorflow.op.core.StridedSlice.endMask(1L));
      var cat = tf.concat(List.of(sliced, tf.math.mul(sliced, tf.constant(4f))), tf.constant(2));
      var mx = tf.math.maximum(cat, tf.constant(-0.5f));
      var lr = tf.nn.leakyRelu(mx, org.tensorflow.op.nn.LeakyRelu.alpha(0.2f));
      var mean = tf.math.mean(lr, tf.constant(1));
      tf.withName("y")
          .math
          .sigmoid(
              tf.linalg.matMul(
                  mean,
                  tf.constant(
                      new float[][] {
                        {0.5f, -0.3f},
                        {0.2f, 0.8f},
                        {-1f, 0.4f},
                        {0.7f, 0.1f},
                        {-0.2f, -0.6f},
                        {0.3f, 0.9f}
                      })));
      Path p = tmp.resolve("elementwise.pb");
      Files.write(p, g.toGraphDef().toByteArray());
      return p;
    }
  }

  @Test
  void int16x8ModelsStayWithinTwoOutputStepsOfFloat() throws Exception {
    FullIntegerQuantizationTest h = helpers();
    BuiltModelsTest built = new BuiltModelsTest();
    built.tmp = tmp;
    List<FullIntegerQuantizationTest.Model> models =
        List.of(
            new FullIntegerQuantizationTest.Model(built.cnn(), List.of("x"), List.of("probs")),
            new FullIntegerQuantizationTest.Model(built.depthwise(), List.of("x"), List.of("y")),
            new FullIntegerQuantizationTest.Model(
                built.multiIo(), List.of("a", "b"), List.of("out1", "out2")),
            new FullIntegerQuantizationTest.Model(h.mlp(), List.of("x"), List.of("y")),
            new FullIntegerQuantizationTest.Model(elementwise(h), List.of("x"), List.of("y")));
    List<String> report = new ArrayList<>();
    org.assertj.core.api.SoftAssertions soft = new org.assertj.core.api.SoftAssertions();
    Map<String, Integer> versions = new TreeMap<>();
    for (FullIntegerQuantizationTest.Model m : models) {
      String label = m.pb().getFileName().toString().replace(".pb", "");
      GraphOptions go = new GraphOptions(null, null, true, false, false, m.outputs());
      Path f32 = tmp.resolve(label + ".tflite");
      TfliteConverter.convertFrozen(
          m.pb(), f32, go, m.inputs(), Map.of(), TfliteOptions.defaults());
      FullIntegerQuantizationTest.Samples s =
          h.samples(label, TfliteReader.read(f32).mainSubgraph(), m.inputs());

      Path q8 = tmp.resolve(label + ".int8.tflite");
      TfliteConverter.convertFrozen(
          m.pb(),
          q8,
          go,
          m.inputs(),
          Map.of(),
          FullIntegerQuantizationTest.int8(s.dir(), "float32", "float32"));
      Path q16 = tmp.resolve(label + ".16x8.tflite");
      var summary =
          TfliteConverter.convertFrozen(
              m.pb(), q16, go, m.inputs(), Map.of(), int16x8(s.dir(), "float32", "float32"));
      assertThat(summary.notices()).as(label + ": every op has an int16 kernel").isEmpty();
      assertThat(summary.detail()).contains("quantization int16x8");
      TfliteModel qm = TfliteReader.read(q16);
      checkTypes(label, qm);
      assertThat(qm.conversionMetadata().orElseThrow().optimizationModes())
          .containsExactly(ConversionMetadata.PTQ_INT16);
      qm.operatorCodes().forEach(c -> versions.merge(c.name(), c.version(), Math::max));

      List<TfliteOracle.Tensor> ref = TfliteOracle.run(f32, s.batch());
      List<TfliteOracle.Tensor> refW8 =
          TfliteOracle.run(withInt8Weights(f32, tmp.resolve(label + ".w8.tflite")), s.batch());
      List<TfliteOracle.Tensor> got8 = TfliteOracle.run(q8, s.batch());
      List<TfliteOracle.Tensor> got16 = TfliteOracle.run(q16, s.batch());
      float[] steps16 = outputScales(qm);
      float[] steps8 = outputScales(TfliteReader.read(q8));
      StringBuilder line = new StringBuilder(label);
      for (int k = 0; k < ref.size(); k++) {
        double act16 = maxAbs(clipped(refW8.get(k).floats(), steps16[k]), got16.get(k).floats());
        double err16 = maxAbs(ref.get(k).floats(), got16.get(k).floats());
        double err8 = maxAbs(ref.get(k).floats(), got8.get(k).floats());
        line.append(
            String.format(
                " | %s: max|f(w8)-16x8| %.6f = %.1f steps (2·scale %.6f); max|f-16x8| %.6f vs"
                    + " int8 %.4f (2·scale %.4f)",
                m.outputs().get(k),
                act16,
                act16 / steps16[k],
                2 * steps16[k],
                err16,
                err8,
                2 * steps8[k]));
        // Activation error alone: a few int16 steps. More than two because TFLite's int16
        // TANH/LOGISTIC kernels
        // look their input up on a 1/(3·4096) grid when its scale is not a power of two (about 3
        // output steps of
        // error on their own), and a following dense layer sums Σ|w| of those into one output.
        soft.assertThat(act16)
            .as(label + " output " + m.outputs().get(k))
            .isLessThanOrEqualTo(8 * steps16[k]);
        // Against plain float the int8 weights' rounding (the same as in the int8 model) dominates;
        // the int16
        // activations still leave 16x8 strictly closer to float than int8.
        soft.assertThat(err16).as(label + " 16x8 vs int8 error").isLessThan(err8);
      }

      // int16 inference I/O: the caller quantizes inputs and dequantizes outputs (symmetric, zero
      // point 0).
      Path qi = tmp.resolve(label + ".int16io.tflite");
      TfliteConverter.convertFrozen(
          m.pb(), qi, go, m.inputs(), Map.of(), int16x8(s.dir(), "int16", "int16"));
      TfliteOracle.Load load = TfliteOracle.load(qi);
      assertThat(load.accepted()).as(label + " int16 I/O " + load.error()).isTrue();
      TfliteModel im = TfliteReader.read(qi);
      TfliteSubgraph sub = im.mainSubgraph();
      List<TfliteOracle.Tensor> qin = new ArrayList<>();
      for (int k = 0; k < sub.inputs().size(); k++) {
        TfliteTensor t = sub.tensors().get(sub.inputs().get(k));
        assertThat(t.type()).isEqualTo(TfliteType.INT16);
        qin.add(quantize16(s.batch().get(k), t));
      }
      List<TfliteOracle.Tensor> qout = TfliteOracle.run(qi, qin);
      for (int k = 0; k < qout.size(); k++) {
        TfliteTensor t = sub.tensors().get(sub.outputs().get(k));
        assertThat(t.type()).isEqualTo(TfliteType.INT16);
        assertThat(qout.get(k).dtype()).isEqualTo("int16");
        assertThat(t.quantization().zeroPoint()).containsExactly(0L);
        float scale = t.quantization().scale().get(0);
        long[] raw = qout.get(k).longs();
        float[] deq = new float[raw.length];
        for (int j = 0; j < raw.length; j++) {
          deq[j] = scale * raw[j];
        }
        double err = maxAbs(clipped(refW8.get(k).floats(), scale), deq);
        soft.assertThat(err).as(label + " int16 I/O output " + k).isLessThanOrEqualTo(8 * scale);
        if (k == 0) {
          line.append(String.format(" | int16 I/O %.6f", err));
        }
      }
      assertThat(opNames(im)).doesNotContain("DEQUANTIZE");
      assertThat(sub.tensors()).noneMatch(t -> t.type() == TfliteType.FLOAT32);

      long s32 = Files.size(f32);
      long s8 = Files.size(q8);
      long s16 = Files.size(q16);
      line.append(
          String.format(
              " | bytes f32 %d int8 %d 16x8 %d | ops %s",
              s32,
              s8,
              s16,
              qm.operatorCodes().stream().map(c -> c.name() + "v" + c.version()).toList()));
      report.add(line.toString());
      if (label.equals("cnn")) {
        // Weights are int8 in both modes; 16x8 only adds 4 bytes per bias value.
        assertThat(s16).as("16x8 size").isLessThanOrEqualTo(s32 * 35 / 100);
      }
    }
    System.out.println("16x8 quantization:\n  " + String.join("\n  ", report));
    soft.assertAll();
    // The first versions with int16-activation kernels (tools/versioning/op_version.cc).
    assertThat(versions)
        .containsEntry("CONV_2D", 4)
        .containsEntry("DEPTHWISE_CONV_2D", 5)
        .containsEntry("FULLY_CONNECTED", 7)
        .containsEntry("ADD", 3)
        .containsEntry("SUB", 5)
        .containsEntry("MUL", 4)
        .containsEntry("SOFTMAX", 3)
        .containsEntry("LOGISTIC", 3)
        .containsEntry("TANH", 3)
        .containsEntry("MAX_POOL_2D", 3)
        .containsEntry("AVERAGE_POOL_2D", 3)
        .containsEntry("MEAN", 3)
        .containsEntry("CONCATENATION", 3)
        .containsEntry("PACK", 3)
        .containsEntry("TRANSPOSE", 5)
        .containsEntry("PADV2", 3)
        .containsEntry("MAXIMUM", 4)
        .containsEntry("LEAKY_RELU", 2)
        .containsEntry("QUANTIZE", 2)
        .containsEntry("DEQUANTIZE", 3);
  }

  /**
   * Weights INT8 symmetric (zero point 0), biases INT64 with scale s_in · s_w, every activation
   * between the I/O conversions INT16 with zero point 0, and ADD/SUB with pot_scale_int16 false.
   */
  static void checkTypes(String label, TfliteModel m) {
    TfliteSubgraph sub = m.mainSubgraph();
    for (TfliteOperator op : sub.operators()) {
      String name = m.opcode(op).name();
      FullIntegerQuantizationTest.checkWeightsAndBias(label, m, op, TfliteType.INT64);
      if (name.equals("ADD")) {
        assertThat(((BuiltinOptions.Add) op.builtinOptions()).potScaleInt16())
            .as(label + " ADD pot_scale_int16")
            .isFalse();
      }
      if (name.equals("SUB")) {
        assertThat(((BuiltinOptions.Sub) op.builtinOptions()).potScaleInt16())
            .as(label + " SUB pot_scale_int16")
            .isFalse();
      }
      if (!name.equals("QUANTIZE") && !name.equals("DEQUANTIZE")) {
        for (int t : op.outputs()) {
          TfliteTensor x = sub.tensors().get(t);
          assertThat(x.type())
              .as(label + " output of " + name)
              .isIn(TfliteType.INT16, TfliteType.INT32);
          if (x.type() == TfliteType.INT16) {
            assertThat(x.quantization().zeroPoint())
                .as(label + " zero point of " + x.name())
                .containsExactly(0L);
          }
        }
        TfliteTensor x = sub.tensors().get(op.inputs().get(0));
        if (x.buffer() == 0 || m.buffer(x).isEmpty()) {
          assertThat(x.type())
              .as(label + " input of " + name)
              .isIn(TfliteType.INT16, TfliteType.INT32);
        }
      }
    }
  }

  /**
   * The float model with each CONV_2D/DEPTHWISE_CONV_2D/FULLY_CONNECTED weight replaced by its int8
   * value dequantized (spec 3.2: symmetric per output channel, scale = max|w| / 127, q = round(w /
   * scale)): float arithmetic with the very weights the 16x8 model holds. Against it, the 16x8
   * model's error is the activation quantization alone, which is what the output step measures;
   * against the plain float model the int8 weights' rounding (the same in int8 and 16x8 models)
   * adds an error of its own, far larger than an int16 step.
   */
  static Path withInt8Weights(Path f32, Path out) throws Exception {
    TfliteModel m = TfliteReader.read(f32);
    TfliteSubgraph sub = m.mainSubgraph();
    List<org.tfport.formats.tflite.TfliteBuffer> buffers = new ArrayList<>(m.buffers());
    for (TfliteOperator op : sub.operators()) {
      String name = m.opcode(op).name();
      if (!List.of("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED").contains(name)) {
        continue;
      }
      TfliteTensor w = sub.tensors().get(op.inputs().get(1));
      int axis = name.equals("DEPTHWISE_CONV_2D") ? 3 : 0;
      int channels = w.shape().get(axis);
      int inner = 1;
      for (int i = axis + 1; i < w.shape().size(); i++) {
        inner *= w.shape().get(i);
      }
      java.nio.FloatBuffer fb =
          m.buffer(w).data().order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      float[] v = new float[fb.remaining()];
      fb.get(v);
      float[] max = new float[channels];
      for (int i = 0; i < v.length; i++) {
        max[(i / inner) % channels] = Math.max(max[(i / inner) % channels], Math.abs(v[i]));
      }
      java.nio.ByteBuffer nb =
          java.nio.ByteBuffer.allocate(4 * v.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < v.length; i++) {
        float scale = Math.max(max[(i / inner) % channels], 5e-7f) / 127f;
        nb.putFloat(scale * Math.round(v[i] / scale));
      }
      buffers.set(w.buffer(), org.tfport.formats.tflite.TfliteBuffer.of(nb.array()));
    }
    org.tfport.formats.tflite.TfliteWriter.write(
        new TfliteModel(
            m.version(),
            m.description(),
            m.operatorCodes(),
            m.subgraphs(),
            buffers,
            m.metadataBuffer(),
            m.metadata(),
            m.signatureDefs()),
        out);
    return out;
  }

  /**
   * {@code v} clipped to what an int16 tensor of this scale holds, [-32768·scale, 32767·scale]. The
   * calibrated range comes from the float model, so at the sample that set an output's extreme the
   * int8-weight model may land just outside it, and the 16x8 output clips there (by the weights'
   * rounding, not by a step).
   */
  static float[] clipped(float[] v, float scale) {
    float[] out = v.clone();
    for (int i = 0; i < out.length; i++) {
      out[i] = Math.max(-32768 * scale, Math.min(32767 * scale, out[i]));
    }
    return out;
  }

  static TfliteOracle.Tensor quantize16(TfliteOracle.Tensor f, TfliteTensor t) {
    float scale = t.quantization().scale().get(0);
    float[] v = f.floats();
    short[] q = new short[v.length];
    for (int i = 0; i < v.length; i++) {
      q[i] = (short) Math.max(-32768, Math.min(32767, Math.round(v[i] / scale)));
    }
    return TfliteOracle.Tensor.i16(f.shape(), q);
  }

  /**
   * EXP and DIV have no int16 kernel here: they stay float; with only the 16x8 ops set they are
   * refused.
   */
  @Test
  void opsWithoutInt16KernelsStayFloatOrAreRefused() throws Exception {
    FullIntegerQuantizationTest h = helpers();
    Path pb;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 6)));
      var hd =
          tf.linalg.matMul(
              x,
              tf.constant(
                  new float[][] {
                    {0.3f, -0.2f, 0.1f},
                    {0.4f, 0.1f, -0.3f},
                    {-0.1f, 0.2f, 0.3f},
                    {0.2f, -0.4f, 0.1f},
                    {0.1f, 0.1f, 0.1f},
                    {-0.3f, 0.2f, 0.2f}
                  }));
      var d = tf.math.div(tf.math.exp(hd), tf.math.add(tf.nn.relu(hd), tf.constant(1f)));
      tf.withName("y")
          .linalg
          .matMul(d, tf.constant(new float[][] {{0.5f, -0.5f}, {0.25f, 0.75f}, {-1f, 0.1f}}));
      pb = tmp.resolve("fallback.pb");
      Files.write(pb, g.toGraphDef().toByteArray());
    }
    GraphOptions go = new GraphOptions(null, null, true, false, false, List.of("y"));
    Path f32 = tmp.resolve("fallback.tflite");
    TfliteConverter.convertFrozen(pb, f32, go, List.of("x"), Map.of(), TfliteOptions.defaults());
    FullIntegerQuantizationTest.Samples s =
        h.samples("fallback", TfliteReader.read(f32).mainSubgraph(), List.of("x"));
    Path q16 = tmp.resolve("fallback.16x8.tflite");
    var summary =
        TfliteConverter.convertFrozen(
            pb, q16, go, List.of("x"), Map.of(), int16x8(s.dir(), "float32", "float32"));
    assertThat(String.join(" ", summary.notices()))
        .contains("2 ops stay float")
        .contains("no int16 kernel")
        .contains("EXP (Exp)")
        .contains("DIV (Div)");
    TfliteModel qm = TfliteReader.read(q16);
    assertThat(opNames(qm)).contains("EXP", "DIV", "FULLY_CONNECTED");
    List<TfliteOracle.Tensor> ref =
        TfliteOracle.run(withInt8Weights(f32, tmp.resolve("fallback.w8.tflite")), s.batch());
    List<TfliteOracle.Tensor> got = TfliteOracle.run(q16, s.batch());
    float step = outputScales(qm)[0];
    double err = maxAbs(clipped(ref.get(0).floats(), step), got.get(0).floats());
    Path q8 = tmp.resolve("fallback.int8.tflite");
    TfliteConverter.convertFrozen(
        pb,
        q8,
        go,
        List.of("x"),
        Map.of(),
        FullIntegerQuantizationTest.int8(s.dir(), "float32", "float32"));
    double err8 = maxAbs(ref.get(0).floats(), TfliteOracle.run(q8, s.batch()).get(0).floats());
    System.out.printf(
        "16x8 float fallback (EXP, DIV): max|f(w8)-16x8| %.6f (%.1f output steps), int8 %.6f%n",
        err, err / step, err8);
    // The float ops' results are requantized twice more, EXP multiplies its input's error by e^h
    // and the last
    // dense layer sums those: tens of int16 output steps, but still far below the int8 model's
    // error.
    assertThat(err).isLessThan(err8 / 4);

    TfliteOptions only =
        new TfliteOptions(
            false, false, true, TfliteQuantizationMode.INT16X8, s.dir(), null, null, null, true);
    Path out = tmp.resolve("only.tflite");
    assertThatThrownBy(
            () -> TfliteConverter.convertFrozen(pb, out, go, List.of("x"), Map.of(), only))
        .isInstanceOf(TfportException.UnsupportedModelException.class)
        .hasMessageContaining("EXP (Exp)")
        .hasMessageContaining("DIV (Div)")
        .hasMessageContaining("no int16 kernel");
    assertThat(out).doesNotExist();
    // 16x8 takes float32 or int16 I/O, as the reference converter.
    assertThatThrownBy(
            () ->
                TfliteConverter.convertFrozen(
                    pb, out, go, List.of("x"), Map.of(), int16x8(s.dir(), "int8", "float32")))
        .isInstanceOf(TfportException.UsageException.class)
        .hasMessageContaining("16x8")
        .hasMessageContaining("float32 or int16");
    assertThat(out).doesNotExist();
  }
}
