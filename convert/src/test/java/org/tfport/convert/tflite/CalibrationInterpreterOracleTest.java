package org.tfport.convert.tflite;

import org.tfport.graph.GraphLoader;
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
import org.tfport.graph.GraphOptions;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfliteOracle;

/**
 * The calibration interpreter against the TFLite 2.18 float interpreter on the same lowered model and inputs:
 * DL4J graphs that use the newly evaluated ops (conv_4: TRANSPOSE_CONV and atrous convolution through
 * SPACE_TO_BATCH_ND/BATCH_TO_SPACE_ND; simple_while: WHILE with LESS; simpleif_0: IF; the bidirectional RNN: a
 * WHILE over the time steps with REVERSE_V2). Outputs must agree within 1e-5 of the output's largest magnitude.
 */
@OracleTest
class CalibrationInterpreterOracleTest {
  @TempDir Path tmp;

  @Test
  void evaluatorMatchesTflite() throws Exception {
    Path root = Corpus.require("frozen_pb/dl4j-tf_graphs");
    List<String> report = new ArrayList<>();
    for (String name : List.of("conv_4", "simple_while", "simpleif_0",
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
            outputs.add(f.substring(0, f.length() - ".prediction.csv".length()).replaceFirst("\\.(\\d+)$", ":$1"));
          }
        }
      }
      GraphOptions go = GraphOptions.defaults().withOutputNodeNames(outputs);
      Path f32 = tmp.resolve(name.replace('/', '_') + ".tflite");
      TfliteConverter.convertFrozen(pb, f32, go, List.of(), Map.of(), TfliteOptions.defaults());
      // The same lowering the converter does, kept as a ModelBuilder for the evaluator.
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
      List<CalibrationInterpreter.V> ins = new ArrayList<>();
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
        ins.add(new CalibrationInterpreter.V(shape, v));
        oracleIns.add(TfliteOracle.Tensor.f32(shape, v));
      }
      CalibrationInterpreter.V[] got = new CalibrationInterpreter(mb, sub, null).run(ins);
      List<TfliteOracle.Tensor> ref = TfliteOracle.run(f32, oracleIns);
      StringBuilder line = new StringBuilder(String.format("%-55s", name));
      for (int k = 0; k < sub.outputs.size(); k++) {
        float[] r = ref.get(k).floats();
        float[] e = got[sub.outputs.get(k)].d();
        assertThat(e).as(name + " output " + k + " size").hasSameSizeAs(r);
        double scale = 0;
        for (float x : r) {
          scale = Math.max(scale, Math.abs(x));
        }
        double err = FullIntegerQuantizationTest.maxAbs(r, e);
        line.append(String.format(" out%d max|d| %.3g (rel %.3g);", k, err, err / Math.max(scale, 1e-30)));
        assertThat(err).as(name + " output " + k).isLessThanOrEqualTo(1e-5 * Math.max(scale, 1e-6));
      }
      report.add(line.toString());
    }
    System.out.println("Float evaluator vs TFLite float:\n  " + String.join("\n  ", report));
  }
}
