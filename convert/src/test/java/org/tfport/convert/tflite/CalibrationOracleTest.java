package org.tfport.convert.tflite;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Tensor;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteType;
import org.tfport.formats.tflite.TfliteWriter;
import org.tfport.graph.GraphLoader;
import org.tfport.graph.GraphOptions;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfliteOracle;

/**
 * Calibration (the float model run on the runtime, {@link RangeCalibration}) against the TFLite
 * 2.18 float interpreter: every float activation of the lowered main subgraph is made a subgraph
 * output, so TFLite gives its value, and the range calibration recorded for it on the same single
 * sample must be that value's range. DL4J graphs covering convolutions (conv_4: TRANSPOSE_CONV,
 * atrous convolution through SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND), WHILE with LESS
 * (simple_while), IF (simpleif_0) and a WHILE over time steps with REVERSE_V2 (the bidirectional
 * RNN). Tolerance: 1e-5 of the tensor's largest magnitude for each end of the range.
 */
@OracleTest
class CalibrationOracleTest {
  @TempDir Path tmp;

  @Test
  void rangesAreThoseOfTfliteTensors() throws Exception {
    Path root = Corpus.require("frozen_pb/dl4j-tf_graphs");
    List<String> report = new ArrayList<>();
    for (String name :
        List.of(
            "conv_4",
            "simple_while",
            "simpleif_0",
            "rnn/bidir_basic/dynamic_b1_n5-3_ts4_relu_noIS_noTM_f32")) {
      Path folder = root.resolve(name);
      Path pb = folder.resolve("frozen_model.pb");
      Map<String, float[]> stored = new LinkedHashMap<>();
      List<String> outputs = new ArrayList<>();
      try (Stream<Path> files = Files.list(folder)) {
        for (Path p : files.sorted().toList()) {
          String f = p.getFileName().toString();
          if (f.endsWith(".placeholder.csv")) {
            stored.put(f.substring(0, f.length() - ".placeholder.csv".length()), Corpus.dl4jCsv(p));
          } else if (f.endsWith(".prediction.csv")) {
            outputs.add(
                f.substring(0, f.length() - ".prediction.csv".length())
                    .replaceFirst("\\.(\\d+)$", ":$1"));
          }
        }
      }
      // The lowering the converter does, kept as a ModelBuilder.
      GraphOptions go = GraphOptions.defaults().withOutputNodeNames(outputs);
      Graph g = GraphLoader.loadFrozen(pb, go).graph();
      TfliteConverter.prepare(g);
      ModelBuilder mb = new ModelBuilder();
      ModelBuilder.Sub sub = new ModelBuilder.Sub("main");
      mb.subgraphs.add(sub);
      List<String> placeholders = new ArrayList<>();
      for (Node n : g.nodes()) {
        if (n.op().equals("Placeholder")) {
          placeholders.add(n.name());
        }
      }
      Lowering low = new Lowering(g, sub, TfliteOptions.defaults());
      low.model = mb;
      low.run(placeholders);
      // Every float activation becomes an output too, so TFLite reports it.
      for (int t = 0; t < sub.tensors.size(); t++) {
        ModelBuilder.T x = sub.t(t);
        if (x.type == TfliteType.FLOAT32
            && x.data == null
            && !sub.inputs.contains(t)
            && !sub.outputs.contains(t)) {
          sub.outputs.add(t);
        }
      }
      ModelBuilder.Built b = mb.build("calibration oracle");
      Path file = tmp.resolve(name.replace('/', '_') + ".tflite");
      Files.write(
          file,
          TfliteWriter.write(
              new TfliteModel(
                  TfliteModel.SCHEMA_VERSION,
                  b.description(),
                  b.opcodes(),
                  b.subgraphs(),
                  b.buffers(),
                  List.of(),
                  List.of(),
                  List.of())));

      List<Tensor> sample = new ArrayList<>();
      List<TfliteOracle.Tensor> oracleIns = new ArrayList<>();
      for (int t : sub.inputs) {
        ModelBuilder.T tt = sub.t(t);
        float[] v = stored.get(tt.name);
        assertThat(v).as(name + " stored input " + tt.name).isNotNull();
        int[] shape = tt.shape.clone();
        int n = FullIntegerQuantizationTest.elements(shape);
        if (shape.length > 0 && n != v.length) {
          // The stored input's batch, where the graph's is unknown (1 in the tensor's shape).
          shape[0] = v.length / (n / shape[0]);
        }
        sample.add(RepresentativeData.tensor(TfliteType.FLOAT32, shape, v));
        oracleIns.add(TfliteOracle.Tensor.f32(shape, v));
      }
      RangeCalibration.Ranges ranges =
          RangeCalibration.calibrateAll(mb, sub, List.of(sample)).get(sub);
      List<TfliteOracle.Tensor> ref = TfliteOracle.run(file, oracleIns);
      double worst = 0;
      for (int k = 0; k < sub.outputs.size(); k++) {
        int t = sub.outputs.get(k);
        if (sub.t(t).type != TfliteType.FLOAT32) {
          continue;
        }
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        double scale = 0;
        for (float x : ref.get(k).floats()) {
          if (Float.isFinite(x)) {
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
            scale = Math.max(scale, Math.abs(x));
          }
        }
        String what = name + " tensor " + t + " '" + sub.t(t).name + "'";
        if (lo > hi) {
          assertThat(ranges.min()[t])
              .as(what + " (empty or non-finite)")
              .isGreaterThan(ranges.max()[t]);
          continue;
        }
        double err = Math.max(Math.abs(ranges.min()[t] - lo), Math.abs(ranges.max()[t] - hi));
        worst = Math.max(worst, err / Math.max(scale, 1e-30));
        assertThat(err)
            .as(
                what
                    + ": calibrated ["
                    + ranges.min()[t]
                    + ", "
                    + ranges.max()[t]
                    + "], TFLite ["
                    + lo
                    + ", "
                    + hi
                    + "]")
            .isLessThanOrEqualTo(1e-5 * Math.max(scale, 1e-6));
      }
      long floats = sub.outputs.stream().filter(t -> sub.t(t).type == TfliteType.FLOAT32).count();
      report.add(
          String.format(
              "%-55s %3d float tensors, worst range error %.3g of the tensor's magnitude",
              name, floats, worst));
    }
    System.out.println(
        "Calibrated ranges vs TFLite float tensors:\n  " + String.join("\n  ", report));
  }
}
