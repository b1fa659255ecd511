package org.tfport.convert.tflite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tfport.convert.TfliteQuantizationMode;
import org.tfport.core.TfportException;
import org.tfport.formats.npy.Npy;
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
 * Full integer (int8) quantization of graphs built with TF Java (the ones of {@link
 * BuiltModelsTest} plus a dense MLP with tanh and sigmoid): 50 random representative samples as
 * .npy files, converted float and int8, both run in TFLite 2.18 on those samples; every int8 output
 * must be within two output quantization steps of the float model's, the file must hold INT8
 * weights, INT32 biases and INT8 activations, and int8/uint8 inference I/O must give the same
 * answers when the caller quantizes the inputs and dequantizes the outputs.
 */
@OracleTest
class FullIntegerQuantizationTest {
  @TempDir Path tmp;
  final Random rnd = new Random(11);
  static final int SAMPLES = 50;

  /** dense(12→32) + tanh + dense(32→16) + sigmoid + dense(16→3). */
  Path mlp() throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 12)));
      var h1 =
          tf.math.tanh(
              tf.nn.biasAdd(
                  tf.linalg.matMul(x, c(tf, new long[] {12, 32}, 0.5f)),
                  c(tf, new long[] {32}, 0.2f)));
      var h2 =
          tf.math.sigmoid(
              tf.math.add(
                  tf.linalg.matMul(h1, c(tf, new long[] {32, 16}, 0.5f)),
                  c(tf, new long[] {16}, 0.2f)));
      tf.withName("y")
          .math
          .add(tf.linalg.matMul(h2, c(tf, new long[] {16, 3}, 1f)), c(tf, new long[] {3}, 0.1f));
      Path p = tmp.resolve("mlp.pb");
      Files.write(p, g.toGraphDef().toByteArray());
      return p;
    }
  }

  private org.tensorflow.Operand<TFloat32> c(Ops tf, long[] shape, float scale) {
    return BuiltModelsTest.randomConstant(tf, rnd, scale, shape);
  }

  record Model(Path pb, List<String> inputs, List<String> outputs) {}

  /** The samples written, per input: a [SAMPLES, ...] batch for running the models. */
  record Samples(Path dir, List<TfliteOracle.Tensor> batch) {}

  /**
   * 50 samples in [-1, 1]: single-input models one file per sample (half with a leading batch dim
   * of 1, half without), multi-input models one sub-folder per sample with INPUT.npy files.
   */
  Samples samples(String label, TfliteSubgraph sub, List<String> names) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve(label + "-samples"));
    List<float[]> all = new ArrayList<>();
    List<int[]> shapes = new ArrayList<>();
    for (int i : sub.inputs()) {
      int[] shape = TfliteChecks.concreteShape(sub.tensors().get(i));
      shape[0] = 1;
      shapes.add(shape);
      all.add(
          new float
              [SAMPLES
                  * (int)
                      TfliteOracle.Tensor.f32(shape, new float[elements(shape)]).elementCount()]);
    }
    for (int sIdx = 0; sIdx < SAMPLES; sIdx++) {
      Path folder =
          names.size() == 1
              ? dir
              : Files.createDirectories(dir.resolve(String.format("s%03d", sIdx)));
      for (int k = 0; k < names.size(); k++) {
        int n = elements(shapes.get(k));
        float[] v = new float[n];
        for (int j = 0; j < n; j++) {
          v[j] = rnd.nextFloat() * 2 - 1;
        }
        System.arraycopy(v, 0, all.get(k), sIdx * n, n);
        int[] shape =
            sIdx % 2 == 0
                ? shapes.get(k)
                : Arrays.copyOfRange(shapes.get(k), 1, shapes.get(k).length);
        Path file =
            names.size() == 1
                ? folder.resolve(String.format("s%03d.npy", sIdx))
                : folder.resolve(names.get(k) + ".npy");
        Npy.writeFloat32(file, shape, v);
      }
    }
    List<TfliteOracle.Tensor> batch = new ArrayList<>();
    for (int k = 0; k < names.size(); k++) {
      int[] shape = shapes.get(k).clone();
      shape[0] = SAMPLES;
      batch.add(TfliteOracle.Tensor.f32(shape, all.get(k)));
    }
    return new Samples(dir, batch);
  }

  static int elements(int[] shape) {
    return Arrays.stream(shape).reduce(1, (a, b) -> a * b);
  }

  @Test
  void int8ModelsStayWithinTwoOutputStepsOfFloat() throws Exception {
    BuiltModelsTest built = new BuiltModelsTest();
    built.tmp = tmp;
    List<Model> models =
        List.of(
            new Model(built.cnn(), List.of("x"), List.of("probs")),
            new Model(built.depthwise(), List.of("x"), List.of("y")),
            new Model(built.multiIo(), List.of("a", "b"), List.of("out1", "out2")),
            new Model(mlp(), List.of("x"), List.of("y")));
    List<String> report = new ArrayList<>();
    for (Model m : models) {
      String label = m.pb().getFileName().toString().replace(".pb", "");
      GraphOptions go = new GraphOptions(null, null, true, false, false, m.outputs());
      Path f32 = tmp.resolve(label + ".tflite");
      TfliteConverter.convertFrozen(
          m.pb(), f32, go, m.inputs(), Map.of(), TfliteOptions.defaults());
      TfliteModel fm = TfliteReader.read(f32);
      Samples s = samples(label, fm.mainSubgraph(), m.inputs());

      Path q8 = tmp.resolve(label + ".int8.tflite");
      TfliteConverter.convertFrozen(
          m.pb(), q8, go, m.inputs(), Map.of(), int8(s.dir(), "float32", "float32"));
      TfliteModel qm = TfliteReader.read(q8);
      checkTypes(label, qm);
      assertThat(qm.conversionMetadata().orElseThrow().optimizationModes())
          .containsExactly(ConversionMetadata.PTQ_FULL_INTEGER);
      // int8 kernels of these ops (version 2 or 3, QUANTIZE 1, DEQUANTIZE 2) arrived in TFLite
      // 1.14.
      assertThat(qm.minRuntimeVersion()).hasValue("1.14.0");

      List<TfliteOracle.Tensor> ref = TfliteOracle.run(f32, s.batch());
      List<TfliteOracle.Tensor> got = TfliteOracle.run(q8, s.batch());
      float[] steps = outputScales(qm);
      StringBuilder line = new StringBuilder(label);
      for (int k = 0; k < ref.size(); k++) {
        double err = maxAbs(ref.get(k).floats(), got.get(k).floats());
        line.append(
            String.format(
                " | %s max|f-q| %.4f ≤ 2·scale %.4f", m.outputs().get(k), err, 2 * steps[k]));
        assertThat(err)
            .as(label + " output " + m.outputs().get(k))
            .isLessThanOrEqualTo(2 * steps[k]);
      }

      // int8 and uint8 inference I/O: the caller quantizes inputs and dequantizes outputs.
      for (String io : List.of("int8", "uint8")) {
        Path qi = tmp.resolve(label + "." + io + "io.tflite");
        TfliteConverter.convertFrozen(m.pb(), qi, go, m.inputs(), Map.of(), int8(s.dir(), io, io));
        TfliteOracle.Load load = TfliteOracle.load(qi);
        assertThat(load.accepted()).as(label + " " + io + " " + load.error()).isTrue();
        TfliteModel im = TfliteReader.read(qi);
        TfliteSubgraph sub = im.mainSubgraph();
        TfliteType want = io.equals("int8") ? TfliteType.INT8 : TfliteType.UINT8;
        List<TfliteOracle.Tensor> qin = new ArrayList<>();
        for (int k = 0; k < sub.inputs().size(); k++) {
          TfliteTensor t = sub.tensors().get(sub.inputs().get(k));
          assertThat(t.type()).isEqualTo(want);
          qin.add(quantizeInput(s.batch().get(k), t, io));
        }
        List<TfliteOracle.Tensor> qout = TfliteOracle.run(qi, qin);
        for (int k = 0; k < qout.size(); k++) {
          TfliteTensor t = sub.tensors().get(sub.outputs().get(k));
          assertThat(t.type()).isEqualTo(want);
          float scale = t.quantization().scale().get(0);
          long zp = t.quantization().zeroPoint().get(0);
          long[] raw = qout.get(k).longs();
          float[] deq = new float[raw.length];
          for (int j = 0; j < raw.length; j++) {
            deq[j] = scale * (raw[j] - zp);
          }
          double err = maxAbs(ref.get(k).floats(), deq);
          assertThat(err).as(label + " " + io + " I/O output " + k).isLessThanOrEqualTo(2 * scale);
          if (k == 0) {
            line.append(String.format(" | %s I/O %.4f", io, err));
          }
        }
        // int8 I/O: no float tensor left, so no DEQUANTIZE, and QUANTIZE only requantizes int8 to
        // int8 (concat).
        if (io.equals("int8")) {
          assertThat(opNames(im)).doesNotContain("DEQUANTIZE");
          assertThat(sub.tensors()).noneMatch(t -> t.type() == TfliteType.FLOAT32);
        }
      }
      long s32 = Files.size(f32);
      long s8 = Files.size(q8);
      line.append(
          String.format(
              " | bytes f32 %d int8 %d (%.0f%%) | ops %s",
              s32,
              s8,
              100.0 * s8 / s32,
              qm.operatorCodes().stream().map(c -> c.name() + "v" + c.version()).toList()));
      report.add(line.toString());
      if (label.equals("cnn")) {
        assertThat(s8).as("int8 size").isLessThanOrEqualTo(s32 * 35 / 100);
      }
    }
    System.out.println("Full integer quantization:\n  " + String.join("\n  ", report));
  }

  static TfliteOptions int8(Path dir, String in, String out) {
    return TfliteOptions.defaults().withFullInteger(TfliteQuantizationMode.INT8, dir, in, out);
  }

  /**
   * Weights INT8 per channel, biases INT32, every tensor between the I/O conversions INT8 or INT32.
   */
  static void checkTypes(String label, TfliteModel m) {
    TfliteSubgraph sub = m.mainSubgraph();
    int weighted = 0;
    for (TfliteOperator op : sub.operators()) {
      String name = m.opcode(op).name();
      weighted += checkWeightsAndBias(label, m, op, TfliteType.INT32) ? 1 : 0;
      if (!name.equals("QUANTIZE") && !name.equals("DEQUANTIZE")) {
        for (int t : op.outputs()) {
          assertThat(sub.tensors().get(t).type())
              .as(label + " output of " + name)
              .isIn(TfliteType.INT8, TfliteType.INT32);
        }
        TfliteTensor x = sub.tensors().get(op.inputs().get(0));
        if (x.buffer() == 0 || m.buffer(x).isEmpty()) {
          assertThat(x.type())
              .as(label + " input of " + name)
              .isIn(TfliteType.INT8, TfliteType.INT32);
        }
      }
    }
    assertThat(weighted).as(label + " weighted ops").isPositive();
  }

  /**
   * For a CONV_2D/DEPTHWISE_CONV_2D/FULLY_CONNECTED: weights INT8 symmetric (zero point 0), bias of
   * {@code biasType} with scale s_in · s_w per channel. Returns whether {@code op} is such an op.
   */
  static boolean checkWeightsAndBias(
      String label, TfliteModel m, TfliteOperator op, TfliteType biasType) {
    TfliteSubgraph sub = m.mainSubgraph();
    String name = m.opcode(op).name();
    if (!List.of("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED").contains(name)) {
      return false;
    }
    TfliteTensor w = sub.tensors().get(op.inputs().get(1));
    assertThat(w.type()).as(label + " weights of " + name).isEqualTo(TfliteType.INT8);
    assertThat(w.quantization().zeroPoint()).allMatch(z -> z == 0);
    if (op.inputs().size() > 2 && op.inputs().get(2) >= 0) {
      TfliteTensor b = sub.tensors().get(op.inputs().get(2));
      assertThat(b.type()).as(label + " bias of " + name).isEqualTo(biasType);
      float sIn = sub.tensors().get(op.inputs().get(0)).quantization().scale().get(0);
      for (int c = 0; c < b.quantization().scale().size(); c++) {
        assertThat(b.quantization().scale().get(c))
            .isCloseTo(
                sIn * w.quantization().scale().get(w.quantization().scale().size() == 1 ? 0 : c),
                org.assertj.core.data.Percentage.withPercentage(1e-3));
      }
    }
    return true;
  }

  /** Each float output's quantization step: the scale of the int8 tensor its DEQUANTIZE reads. */
  static float[] outputScales(TfliteModel m) {
    float[] out = outputScalesOrZero(m);
    for (int k = 0; k < out.length; k++) {
      assertThat(out[k]).as("output " + k + " has a DEQUANTIZE").isPositive();
    }
    return out;
  }

  /**
   * As {@link #outputScales}, 0 for an output no DEQUANTIZE writes (an integer or bool result,
   * never quantized).
   */
  static float[] outputScalesOrZero(TfliteModel m) {
    TfliteSubgraph sub = m.mainSubgraph();
    float[] out = new float[sub.outputs().size()];
    for (int k = 0; k < out.length; k++) {
      int t = sub.outputs().get(k);
      for (TfliteOperator op : sub.operators()) {
        if (op.outputs().contains(t) && m.opcode(op).name().equals("DEQUANTIZE")) {
          out[k] = sub.tensors().get(op.inputs().get(0)).quantization().scale().get(0);
        }
      }
    }
    return out;
  }

  static List<String> opNames(TfliteModel m) {
    return m.mainSubgraph().operators().stream().map(o -> m.opcode(o).name()).toList();
  }

  static TfliteOracle.Tensor quantizeInput(TfliteOracle.Tensor f, TfliteTensor t, String io) {
    float scale = t.quantization().scale().get(0);
    long zp = t.quantization().zeroPoint().get(0);
    float[] v = f.floats();
    byte[] q = new byte[v.length];
    int lo = io.equals("int8") ? -128 : 0;
    for (int i = 0; i < v.length; i++) {
      q[i] = (byte) Math.max(lo, Math.min(lo + 255, Math.round(v[i] / scale) + zp));
    }
    return io.equals("int8")
        ? TfliteOracle.Tensor.i8(f.shape(), q)
        : TfliteOracle.Tensor.u8(f.shape(), q);
  }

  static double maxAbs(float[] a, float[] b) {
    assertThat(b).hasSameSizeAs(a);
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  @Test
  void samplesThatDoNotFitTheInputAreNamed() throws Exception {
    Path pb = mlp();
    GraphOptions go = new GraphOptions(null, null, true, false, false, List.of("y"));
    Path dir = Files.createDirectories(tmp.resolve("bad"));
    Npy.writeFloat32(dir.resolve("a.npy"), new int[] {1, 12}, new float[12]);
    Npy.writeFloat32(dir.resolve("b.npy"), new int[] {1, 11}, new float[11]);
    Path out = tmp.resolve("bad.tflite");
    assertThatThrownBy(
            () ->
                TfliteConverter.convertFrozen(
                    pb, out, go, List.of("x"), Map.of(), int8(dir, "float32", "float32")))
        .isInstanceOf(TfportException.UsageException.class)
        .hasMessageContaining("b.npy")
        .hasMessageContaining("[1, 11]")
        .hasMessageContaining("'x'");
    assertThat(out).doesNotExist();
    assertThatThrownBy(
            () ->
                TfliteConverter.convertFrozen(
                    pb,
                    out,
                    go,
                    List.of("x"),
                    Map.of(),
                    int8(tmp.resolve("missing"), "float32", "float32")))
        .isInstanceOf(TfportException.UsageException.class)
        .hasMessageContaining("missing");
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    assertThatThrownBy(
            () ->
                TfliteConverter.convertFrozen(
                    pb, out, go, List.of("x"), Map.of(), int8(empty, "float32", "float32")))
        .hasMessageContaining("no .npy samples");
    // int8 models take float32, int8 or uint8 I/O; int16 is for 16x8.
    assertThatThrownBy(
            () ->
                TfliteConverter.convertFrozen(
                    pb, out, go, List.of("x"), Map.of(), int8(dir, "int16", "float32")))
        .isInstanceOf(TfportException.UsageException.class)
        .hasMessageContaining("int16")
        .hasMessageContaining("float32, int8 or uint8");
  }

  /**
   * Ops without int8 kernels here (EXP, DIV) stay float between DEQUANTIZE and QUANTIZE; int8-only
   * refuses them.
   */
  @Test
  void opsWithoutInt8KernelsStayFloatOrAreRefused() throws Exception {
    Path pb;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 6)));
      var h = tf.linalg.matMul(x, c(tf, new long[] {6, 8}, 0.4f));
      var d = tf.math.div(tf.math.exp(h), tf.math.add(tf.nn.relu(h), tf.constant(1f)));
      tf.withName("y").linalg.matMul(d, c(tf, new long[] {8, 2}, 0.5f));
      pb = tmp.resolve("fallback.pb");
      Files.write(pb, g.toGraphDef().toByteArray());
    }
    GraphOptions go = new GraphOptions(null, null, true, false, false, List.of("y"));
    Path f32 = tmp.resolve("fallback.tflite");
    TfliteConverter.convertFrozen(pb, f32, go, List.of("x"), Map.of(), TfliteOptions.defaults());
    Samples s = samples("fallback", TfliteReader.read(f32).mainSubgraph(), List.of("x"));
    Path q8 = tmp.resolve("fallback.int8.tflite");
    var summary =
        TfliteConverter.convertFrozen(
            pb, q8, go, List.of("x"), Map.of(), int8(s.dir(), "float32", "float32"));
    assertThat(String.join(" ", summary.notices()))
        .contains("2 ops stay float")
        .contains("EXP (Exp)")
        .contains("DIV (Div)");
    TfliteModel qm = TfliteReader.read(q8);
    assertThat(opNames(qm)).contains("EXP", "DIV", "FULLY_CONNECTED");
    List<TfliteOracle.Tensor> ref = TfliteOracle.run(f32, s.batch());
    List<TfliteOracle.Tensor> got = TfliteOracle.run(q8, s.batch());
    double err = maxAbs(ref.get(0).floats(), got.get(0).floats());
    float step = outputScales(qm)[0];
    System.out.printf("Float fallback (EXP, DIV): max|f-q| %.4f, 3·scale %.4f%n", err, 3 * step);
    // Three steps here, not two: the float ops' results are rounded to int8 twice more (after EXP
    // and DIV), and
    // EXP multiplies its input's rounding error by e^h before the last dense layer sums eight such
    // terms.
    assertThat(err).isLessThanOrEqualTo(3 * step);

    TfliteOptions only =
        new TfliteOptions(
            false, false, true, TfliteQuantizationMode.INT8, s.dir(), null, null, null, true);
    Path out = tmp.resolve("only.tflite");
    assertThatThrownBy(
            () -> TfliteConverter.convertFrozen(pb, out, go, List.of("x"), Map.of(), only))
        .isInstanceOf(TfportException.UnsupportedModelException.class)
        .hasMessageContaining("EXP (Exp)")
        .hasMessageContaining("DIV (Div)")
        .hasMessageContaining("no int8 kernel");
    assertThat(out).doesNotExist();
  }
}
