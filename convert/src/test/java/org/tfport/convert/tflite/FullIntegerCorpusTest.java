package org.tfport.convert.tflite;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.TfportException;
import org.tfport.formats.npy.Npy;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.formats.tflite.TfliteSubgraph;
import org.tfport.formats.tflite.TfliteType;
import org.tfport.graph.GraphOptions;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfliteOracle;

/**
 * Full int8 quantization of the corpus frozen graphs: the DL4J graphs with stored inputs
 * (representative samples = the stored input plus Gaussian noise of 10 % of its spread) and the
 * tf2onnx fully connected graph (uniform [-1, 1]). Each int8 file must load and run in TFLite 2.18;
 * the report gives max |float − int8| against two output quantization steps. Models tfport cannot
 * quantize must be refused in one line.
 */
@OracleTest
class FullIntegerCorpusTest {
  static final int SAMPLES = 32;
  @TempDir Path tmp;

  record Case(String label, Path pb, List<String> outputs, Map<String, float[]> stored) {}

  @Test
  void corpusFrozenGraphsQuantize() throws Exception {
    List<Case> cases = new ArrayList<>();
    Path root = Corpus.require("frozen_pb/dl4j-tf_graphs");
    try (Stream<Path> s = Files.walk(root)) {
      for (Path pb :
          s.filter(p -> p.getFileName().toString().equals("frozen_model.pb")).sorted().toList()) {
        Map<String, float[]> inputs = new LinkedHashMap<>();
        List<String> outputs = new ArrayList<>();
        try (Stream<Path> files = Files.list(pb.getParent())) {
          for (Path p : files.sorted().toList()) {
            String f = p.getFileName().toString();
            if (f.endsWith(".placeholder.csv")) {
              inputs.put(
                  f.substring(0, f.length() - ".placeholder.csv".length()), Corpus.dl4jCsv(p));
            } else if (f.endsWith(".prediction.csv")) {
              outputs.add(
                  f.substring(0, f.length() - ".prediction.csv".length())
                      .replaceFirst("\\.(\\d+)$", ":$1"));
            }
          }
        }
        if (!outputs.isEmpty()) {
          cases.add(new Case(root.relativize(pb.getParent()).toString(), pb, outputs, inputs));
        }
      }
    }
    cases.add(
        new Case(
            "tf2onnx/fc-layers",
            Corpus.require("frozen_pb/tf2onnx/fc-layers.pb"),
            List.of("output"),
            Map.of()));
    List<String> report = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    int within = 0;
    for (Case c : cases) {
      String name = c.label().replace('/', '_');
      GraphOptions go = GraphOptions.defaults().withOutputNodeNames(c.outputs());
      Path f32 = tmp.resolve(name + ".tflite");
      try {
        TfliteConverter.convertFrozen(
            c.pb(), f32, go, List.of(), Map.of(), TfliteOptions.defaults());
      } catch (TfportException e) {
        report.add(String.format("%-40s no float model either: %s", c.label(), e.getMessage()));
        continue;
      }
      TfliteSubgraph sub = TfliteReader.read(f32).mainSubgraph();
      if (sub.operators().isEmpty()) {
        // A graph that folds to constants (DL4J simple_cond: a tf.cond on constants) has nothing to
        // quantize.
        report.add(
            String.format("%-40s skipped: no operators, the outputs are constants", c.label()));
        continue;
      }
      if (sub.inputs().stream().anyMatch(i -> sub.tensors().get(i).type() != TfliteType.FLOAT32)) {
        report.add(String.format("%-40s skipped: non-float input", c.label()));
        continue;
      }
      Random rnd = new Random(c.label().hashCode());
      Path dir = Files.createDirectories(tmp.resolve(name + "-samples"));
      List<float[]> batch = new ArrayList<>();
      List<int[]> shapes = new ArrayList<>();
      for (int i : sub.inputs()) {
        int[] shape = TfliteChecks.concreteShape(sub.tensors().get(i));
        float[] base = c.stored().get(sub.tensors().get(i).name());
        int n = FullIntegerQuantizationTest.elements(shape);
        if (base != null && base.length != n) {
          shape[0] = base.length / (n / shape[0]);
          n = base.length;
        }
        shapes.add(shape);
        batch.add(new float[SAMPLES * n]);
      }
      for (int s = 0; s < SAMPLES; s++) {
        Path folder =
            sub.inputs().size() == 1 ? dir : Files.createDirectories(dir.resolve("s" + s));
        for (int k = 0; k < sub.inputs().size(); k++) {
          String in = sub.tensors().get(sub.inputs().get(k)).name();
          float[] base = c.stored().get(in);
          int n = batch.get(k).length / SAMPLES;
          float[] v = new float[n];
          double spread = base == null ? 1 : std(base);
          for (int j = 0; j < n; j++) {
            v[j] =
                base == null
                    ? rnd.nextFloat() * 2 - 1
                    : (float) (base[j] + 0.1 * spread * rnd.nextGaussian());
          }
          System.arraycopy(v, 0, batch.get(k), s * n, n);
          Path file =
              sub.inputs().size() == 1
                  ? folder.resolve("s" + s + ".npy")
                  : folder.resolve(RepresentativeData.fileName(in) + ".npy");
          Npy.writeFloat32(file, shapes.get(k), v);
        }
      }
      Path q8 = tmp.resolve(name + ".int8.tflite");
      try {
        TfliteConverter.convertFrozen(
            c.pb(),
            q8,
            go,
            List.of(),
            Map.of(),
            FullIntegerQuantizationTest.int8(dir, "float32", "float32"));
      } catch (TfportException e) {
        assertThat(e.getMessage()).doesNotContain("\n");
        assertThat(q8).doesNotExist();
        report.add(String.format("%-40s refused: %s", c.label(), e.getMessage()));
        continue;
      }
      String rejected = TfliteChecks.rejected(q8);
      if (rejected != null) {
        failures.add(c.label() + ": " + rejected);
        continue;
      }
      List<TfliteOracle.Tensor> ins = new ArrayList<>();
      boolean scalar = shapes.stream().anyMatch(sh -> sh.length == 0);
      for (int k = 0; k < shapes.size(); k++) {
        int[] shape = shapes.get(k).clone();
        if (scalar) {
          // A scalar input cannot stack samples: run the first sample of every input.
          ins.add(
              TfliteOracle.Tensor.f32(
                  shape, Arrays.copyOf(batch.get(k), batch.get(k).length / SAMPLES)));
          continue;
        }
        shape[0] *= SAMPLES;
        ins.add(TfliteOracle.Tensor.f32(shape, batch.get(k)));
      }
      List<TfliteOracle.Tensor> ref;
      List<TfliteOracle.Tensor> got;
      try {
        ref = TfliteOracle.run(f32, ins);
        got = TfliteOracle.run(q8, ins);
      } catch (RuntimeException e) {
        if (scalar) {
          throw e;
        }
        // Graphs with a fixed batch of 1 do not take the stacked samples; run the first sample
        // alone.
        ins =
            ins.stream()
                .map(
                    t -> {
                      int[] shape = t.shape();
                      shape[0] /= SAMPLES;
                      return TfliteOracle.Tensor.f32(
                          shape, Arrays.copyOf(t.floats(), t.elementCount() / SAMPLES));
                    })
                .toList();
        ref = TfliteOracle.run(f32, ins);
        got = TfliteOracle.run(q8, ins);
      }
      TfliteModel qm = TfliteReader.read(q8);
      // An output no DEQUANTIZE writes is an integer/bool result (a loop counter): it must match
      // exactly.
      float[] steps = FullIntegerQuantizationTest.outputScalesOrZero(qm);
      StringBuilder line = new StringBuilder(String.format("%-40s", c.label()));
      boolean ok = true;
      for (int k = 0; k < ref.size(); k++) {
        double err = FullIntegerQuantizationTest.maxAbs(ref.get(k).floats(), got.get(k).floats());
        ok &= err <= 2 * steps[k];
        line.append(
            String.format(
                " %s max|f-q| %.4g vs 2·scale %.4g%s;",
                c.outputs().get(k), err, 2 * steps[k], err <= 2 * steps[k] ? "" : " (over)"));
      }
      within += ok ? 1 : 0;
      line.append(String.format(" bytes %d -> %d", Files.size(f32), Files.size(q8)));
      report.add(line.toString());
    }
    TfliteChecks.finish(
        "Full int8 corpus (" + within + " within two output steps)", report, failures, within, 3);
  }

  static double std(float[] v) {
    double m = 0;
    for (float x : v) {
      m += x;
    }
    m /= v.length;
    double s = 0;
    for (float x : v) {
      s += (x - m) * (x - m);
    }
    return Math.sqrt(s / v.length) + 1e-6;
  }

  /**
   * Corpus SavedModels with float inputs (default signature): samples named by signature input key;
   * after quantization every SignatureDef entry must still point at the float I/O tensors.
   */
  @Test
  void corpusSavedModelsQuantize() throws Exception {
    List<String> models =
        List.of(
            "tfjs-node_times_three_float",
            "tf2onnx_regression",
            "tfjava_saved_model",
            "tfjs-node_model_multi_output",
            "tfjs-node_model_single_input_multi_output",
            "serving_saved_model_half_plus_two_tf2_cpu");
    List<String> report = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    int within = 0;
    for (String model : models) {
      Path sm = Corpus.require("savedmodel/" + model);
      GraphOptions go = new GraphOptions(null, null, true, false, false, List.of());
      Path f32 = tmp.resolve(model + ".tflite");
      try {
        TfliteConverter.convertSavedModel(sm, f32, go, List.of(), false, TfliteOptions.defaults());
      } catch (TfportException e) {
        report.add(String.format("%-45s no float model either: %s", model, e.getMessage()));
        continue;
      }
      TfliteModel fm = TfliteReader.read(f32);
      TfliteSubgraph sub = fm.mainSubgraph();
      var sd = fm.signatureDefs().get(0);
      if (sub.inputs().stream().anyMatch(i -> sub.tensors().get(i).type() != TfliteType.FLOAT32)) {
        report.add(String.format("%-45s skipped: non-float input", model));
        continue;
      }
      Random rnd = new Random(model.hashCode());
      Path dir = Files.createDirectories(tmp.resolve(model + "-samples"));
      List<TfliteOracle.Tensor> ins = new ArrayList<>();
      List<float[]> values = new ArrayList<>();
      List<int[]> shapes = new ArrayList<>();
      for (int i : sub.inputs()) {
        int[] shape = TfliteChecks.concreteShape(sub.tensors().get(i));
        shapes.add(shape);
        values.add(new float[SAMPLES * FullIntegerQuantizationTest.elements(shape)]);
      }
      for (int s = 0; s < SAMPLES; s++) {
        for (int k = 0; k < sub.inputs().size(); k++) {
          int t = sub.inputs().get(k);
          String key =
              sd.inputs().stream()
                  .filter(m -> m.tensorIndex() == t)
                  .findFirst()
                  .orElseThrow()
                  .name();
          int n = FullIntegerQuantizationTest.elements(shapes.get(k));
          float[] v = new float[n];
          for (int j = 0; j < n; j++) {
            v[j] = rnd.nextFloat() * 4 - 2;
          }
          System.arraycopy(v, 0, values.get(k), s * n, n);
          Path folder =
              sub.inputs().size() == 1 ? dir : Files.createDirectories(dir.resolve("s" + s));
          Npy.writeFloat32(
              sub.inputs().size() == 1
                  ? folder.resolve("s" + s + ".npy")
                  : folder.resolve(key + ".npy"),
              shapes.get(k),
              v);
        }
      }
      for (int k = 0; k < shapes.size(); k++) {
        int[] shape = shapes.get(k).clone();
        if (shape.length == 0) {
          // A scalar input cannot stack samples: run the first one.
          ins.add(TfliteOracle.Tensor.f32(shape, values.get(k)[0]));
          continue;
        }
        shape[0] *= SAMPLES;
        ins.add(TfliteOracle.Tensor.f32(shape, values.get(k)));
      }
      Path q8 = tmp.resolve(model + ".int8.tflite");
      try {
        TfliteConverter.convertSavedModel(
            sm,
            q8,
            go,
            List.of(),
            false,
            FullIntegerQuantizationTest.int8(dir, "float32", "float32"));
      } catch (TfportException e) {
        assertThat(e.getMessage()).doesNotContain("\n");
        report.add(String.format("%-45s refused: %s", model, e.getMessage()));
        continue;
      }
      TfliteModel qm = TfliteReader.read(q8);
      var qsd = qm.signatureDefs().get(0);
      for (var m : qsd.outputs()) {
        assertThat(qm.mainSubgraph().outputs())
            .as(model + " signature output " + m.name())
            .contains(m.tensorIndex());
        assertThat(qm.mainSubgraph().tensors().get(m.tensorIndex()).type())
            .isEqualTo(TfliteType.FLOAT32);
      }
      for (var m : qsd.inputs()) {
        assertThat(qm.mainSubgraph().inputs())
            .as(model + " signature input " + m.name())
            .contains(m.tensorIndex());
      }
      String rejected = TfliteChecks.rejected(q8);
      if (rejected != null) {
        failures.add(model + ": " + rejected);
        continue;
      }
      List<TfliteOracle.Tensor> ref = TfliteOracle.run(f32, ins);
      List<TfliteOracle.Tensor> got = TfliteOracle.run(q8, ins);
      float[] steps = FullIntegerQuantizationTest.outputScales(qm);
      StringBuilder line = new StringBuilder(String.format("%-45s", model));
      boolean ok = true;
      for (int k = 0; k < ref.size(); k++) {
        double err = FullIntegerQuantizationTest.maxAbs(ref.get(k).floats(), got.get(k).floats());
        ok &= err <= 2 * steps[k];
        line.append(
            String.format(
                " out%d max|f-q| %.4g vs 2·scale %.4g%s;",
                k, err, 2 * steps[k], err <= 2 * steps[k] ? "" : " (over)"));
      }
      within += ok ? 1 : 0;
      report.add(
          line.append(String.format(" bytes %d -> %d", Files.size(f32), Files.size(q8)))
              .toString());
    }
    TfliteChecks.finish(
        "Full int8 SavedModel corpus (" + within + " within two output steps)",
        report,
        failures,
        within,
        2);
  }
}
