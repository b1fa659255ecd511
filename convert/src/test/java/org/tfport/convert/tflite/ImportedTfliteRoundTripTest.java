package org.tfport.convert.tflite;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.TfliteQuantizationMode;
import org.tfport.convert.tfjs.BuiltControlFlowTest;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.graph.GraphOptions;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.runtime.Signature;
import org.tfport.runtime.tflite.TfliteImporter;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfliteOracle;

/**
 * Round trip through both halves of tfport: small TF graphs ({@link BuiltModelsTest}'s CNN,
 * depthwise, two-input and upsampling graphs, and {@link BuiltControlFlowTest}'s SavedModel with a
 * While loop and an If) converted by tfport to {@code .tflite} (float32, float16 and dynamic-range
 * int8), imported back by the runtime's {@link TfliteImporter}, run by tfport on a batch of 2 and
 * compared with TensorFlow 2.18 on the same inputs.
 *
 * <p>Bounds: float32 files within 1e-5 + 1e-4·|b| of TensorFlow; float16 files within 1e-3 +
 * 1e-2·|b| (the weights are rounded to half precision, then computed in float32) and within 1e-5 +
 * 1e-4·|b| of TFLite running the same file; dynamic-range files within 5e-2 + 5e-2·|b| of
 * TensorFlow (BuiltModelsTest's bound for int8 weights) and no further from TensorFlow than TFLite
 * is plus 1e-3 (tfport computes on the dequantized weights in float, TFLite's hybrid kernels also
 * round the activations to int8).
 */
@OracleTest
class ImportedTfliteRoundTripTest {
  @TempDir Path tmp;

  @Test
  void convertedModelsRunInTfportAsInTensorFlow() throws Exception {
    BuiltModelsTest built = new BuiltModelsTest();
    built.tmp = tmp;
    List<BuiltModelsTest.Model> models =
        List.of(
            new BuiltModelsTest.Model(built.cnn(), List.of("x"), List.of("probs")),
            new BuiltModelsTest.Model(built.depthwise(), List.of("x"), List.of("y")),
            new BuiltModelsTest.Model(built.multiIo(), List.of("a", "b"), List.of("out1", "out2")),
            new BuiltModelsTest.Model(built.upsampling(), List.of("x"), List.of("y")));
    Random rnd = new Random(5);
    List<String> report = new ArrayList<>();
    double[] worst = new double[3];
    for (BuiltModelsTest.Model m : models) {
      String label = m.pb().getFileName().toString();
      GraphOptions go = new GraphOptions(null, null, true, false, false, m.outputs());
      Path[] files = new Path[3];
      TfliteQuantizationMode[] kinds = {
        null, TfliteQuantizationMode.FLOAT16, TfliteQuantizationMode.DYNAMIC_RANGE
      };
      for (int k = 0; k < 3; k++) {
        files[k] = tmp.resolve(label + "." + k + ".tflite");
        TfliteConverter.convertFrozen(
            m.pb(),
            files[k],
            go,
            m.inputs(),
            Map.of(),
            kinds[k] == null
                ? TfliteOptions.defaults()
                : TfliteOptions.defaults().withQuantization(kinds[k]));
      }
      TfliteModel f32 = TfliteReader.read(files[0]);
      var sub = f32.mainSubgraph();
      Map<String, TensorFlowOracle.Feed> feeds = new LinkedHashMap<>();
      List<TfliteOracle.Tensor> ins = new ArrayList<>();
      for (int i : sub.inputs()) {
        var t = sub.tensors().get(i);
        int[] shape = t.shape().stream().mapToInt(Integer::intValue).toArray();
        shape[0] = 2;
        float[] v = new float[java.util.Arrays.stream(shape).reduce(1, (p, q) -> p * q)];
        for (int k = 0; k < v.length; k++) {
          v[k] = rnd.nextFloat() * 2 - 1;
        }
        ins.add(TfliteOracle.Tensor.f32(shape, v));
        feeds.put(
            t.name(),
            new TensorFlowOracle.Feed(
                TfjsOracle.Input.f32(
                    t.name(), java.util.Arrays.stream(shape).asLongStream().toArray(), v),
                1));
      }
      List<float[]> tf = TensorFlowOracle.runGraphDef(m.pb(), feeds, m.outputs());
      StringBuilder line = new StringBuilder(label);
      for (int k = 0; k < 3; k++) {
        List<float[]> ours = runTfport(files[k], ins);
        List<TfliteOracle.Tensor> lite = TfliteOracle.run(files[k], ins);
        for (int o = 0; o < tf.size(); o++) {
          Comparison vsTf =
              switch (k) {
                case 0 -> Comparison.of(tf.get(o), ours.get(o), 1e-5, 1e-4);
                case 1 -> Comparison.of(tf.get(o), ours.get(o), 1e-3, 1e-2);
                default -> Comparison.of(tf.get(o), ours.get(o), 5e-2, 5e-2);
              };
          assertThat(vsTf.ok()).as(label + " " + kinds[k] + " vs TensorFlow: " + vsTf).isTrue();
          if (k == 1) {
            Comparison vsLite = Comparison.of(lite.get(o).floats(), ours.get(o), 1e-5, 1e-4);
            assertThat(vsLite.ok()).as(label + " float16 vs TFLite: " + vsLite).isTrue();
          }
          if (k == 2) {
            double liteErr = Comparison.of(tf.get(o), lite.get(o).floats(), 1, 1).maxAbs();
            assertThat(vsTf.maxAbs())
                .as(label + " dynamic range: tfport vs TF, TFLite vs TF " + liteErr)
                .isLessThanOrEqualTo(liteErr + 1e-3);
          }
          worst[k] = Math.max(worst[k], vsTf.maxAbs());
          line.append(
              String.format(
                  Locale.ROOT,
                  " | %s %s %.2g",
                  m.outputs().get(o),
                  k == 0 ? "f32" : k == 1 ? "f16" : "dr",
                  vsTf.maxAbs()));
        }
      }
      report.add(line.toString());
    }
    report.add(controlFlow());
    report.add(
        String.format(
            Locale.ROOT,
            "worst |tfport - TF|: f32 %.3g, f16 %.3g, dynamic range %.3g",
            worst[0],
            worst[1],
            worst[2]));
    System.out.println(
        "Converted by tfport, imported and run by tfport:\n  " + String.join("\n  ", report));
  }

  /** The While/If SavedModel: its WHILE and IF subgraphs become library functions again. */
  private String controlFlow() throws Exception {
    Path saved = BuiltControlFlowTest.export(tmp.resolve("cf_savedmodel"), true);
    Path file = tmp.resolve("cf.tflite");
    TfliteConverter.convertSavedModel(
        saved, file, GraphOptions.defaults(), List.of(), false, TfliteOptions.defaults());
    TfliteModel m = TfliteReader.read(file);
    assertThat(m.subgraphs()).hasSizeGreaterThan(1);
    Random rnd = new Random(3);
    StringBuilder line = new StringBuilder("while/if SavedModel");
    try (Model model = TfliteImporter.load(file);
        Session session = model.newSession()) {
      Signature sig = model.signatures().get(0);
      for (int run = 0; run < 6; run++) {
        float[] v = new float[8];
        for (int j = 0; j < v.length; j++) {
          v[j] = (float) rnd.nextGaussian();
        }
        String in = sig.inputs().get(0).name();
        Map<String, TensorFlowOracle.Feed> feeds =
            Map.of(
                in, new TensorFlowOracle.Feed(TfjsOracle.Input.f32(in, new long[] {2, 4}, v), 1));
        Map<String, float[]> tf = TensorFlowOracle.runSavedModel(saved, "serve", sig.key(), feeds);
        Map<String, Tensor> ours =
            session.run(sig.key(), Map.of(in, Tensor.ofFloats(Shape.of(2, 4), v)));
        for (String out : sig.outputNames()) {
          Comparison c = Comparison.of(tf.get(out), ours.get(out).toFloatArray(), 1e-5, 1e-4);
          assertThat(c.ok()).as("while/if output " + out + ": " + c).isTrue();
          if (run == 0) {
            line.append(String.format(Locale.ROOT, " | %s %.2g", out, c.maxAbs()));
          }
        }
      }
    }
    return line.toString();
  }

  /**
   * Runs the imported file on TFLite-format float inputs, in subgraph-0 input order (no
   * SignatureDefs).
   */
  private static List<float[]> runTfport(Path file, List<TfliteOracle.Tensor> ins) {
    try (Model model = TfliteImporter.load(file);
        Session session = model.newSession()) {
      Signature sig = model.signatures().get(0);
      Map<String, Tensor> feed = new LinkedHashMap<>();
      for (int k = 0; k < ins.size(); k++) {
        TfliteOracle.Tensor t = ins.get(k);
        feed.put(
            sig.inputs().get(k).name(),
            new Tensor(
                DType.FLOAT32,
                Shape.of(java.util.Arrays.stream(t.shape()).asLongStream().toArray()),
                ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN)));
      }
      Map<String, Tensor> out = session.run(sig.key(), feed);
      List<float[]> list = new ArrayList<>();
      for (String name : sig.outputNames()) {
        list.add(out.get(name).toFloatArray());
      }
      return list;
    }
  }
}
