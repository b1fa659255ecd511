package org.tfport.convert.tflite;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.ConversionResult;
import org.tfport.core.TfportException;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.graph.Functionalize;
import org.tfport.graph.GraphLoader;
import org.tfport.graph.GraphOptions;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfliteOracle;

/**
 * The DL4J frozen graphs with stored TensorFlow predictions: those the TFLite lowering expresses
 * convert, run in TFLite 2.18 on the stored inputs and match the stored predictions within 1e-5
 * (scaled by the output's magnitude) + 1e-4 |b|; the others are refused naming their ops. Those
 * with TF1 control flow (tf.cond, tf.while_loop) go through the If/While rewrite ({@link
 * Functionalize}) and run as TFLite IF/WHILE; TF1 TensorArrays (the bidirectional dynamic_rnn) are
 * rewritten to dense tensors first.
 */
@OracleTest
class Dl4jFrozenTfliteTest {
  static final double ATOL = 1e-5;
  static final double RTOL = 1e-4;
  @TempDir Path tmp;

  @Test
  void dl4jFrozenGraphsMatchStoredPredictions() throws Exception {
    Path root = Corpus.require("frozen_pb/dl4j-tf_graphs");
    List<Path> pbs;
    try (Stream<Path> s = Files.walk(root)) {
      pbs = s.filter(p -> p.getFileName().toString().equals("frozen_model.pb")).sorted().toList();
    }
    List<String> report = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    int matched = 0;
    int refused = 0;
    // Graphs with TF1 control flow (Switch/Merge, Enter/Exit): refused before the If/While rewrite.
    List<String> controlFlow = new ArrayList<>();
    List<String> controlFlowMatched = new ArrayList<>();
    for (Path pb : pbs) {
      Path dir = pb.getParent();
      String label = root.relativize(dir).toString();
      Map<String, float[]> inputs = new LinkedHashMap<>();
      Map<String, long[]> shapes = new LinkedHashMap<>();
      Map<String, float[]> expected = new LinkedHashMap<>();
      try (Stream<Path> s = Files.list(dir)) {
        for (Path p : s.sorted().toList()) {
          String f = p.getFileName().toString();
          if (f.endsWith(".placeholder.csv")) {
            String name = f.substring(0, f.length() - ".placeholder.csv".length());
            float[] v = csv(p);
            inputs.put(name, v);
            shapes.put(name, shape(p, v.length));
          } else if (f.endsWith(".prediction.csv")) {
            expected.put(
                f.substring(0, f.length() - ".prediction.csv".length())
                    .replaceFirst("\\.(\\d+)$", ":$1"),
                csv(p));
          }
        }
      }
      if (expected.isEmpty()) {
        report.add(String.format("%-45s skipped: no stored predictions", label));
        continue;
      }
      List<String> outputs = new ArrayList<>(expected.keySet());
      boolean tf1 =
          Functionalize.needed(
              GraphLoader.loadFrozen(pb, GraphOptions.defaults().withOutputNodeNames(outputs))
                  .graph());
      if (tf1) {
        controlFlow.add(label);
      }
      Path out = tmp.resolve(label.replace('/', '_') + ".tflite");
      ConversionResult sum;
      try {
        sum =
            TfliteConverter.convertFrozen(
                pb,
                out,
                GraphOptions.defaults().withOutputNodeNames(outputs),
                List.of(),
                Map.of(),
                TfliteOptions.defaults());
      } catch (TfportException e) {
        refused++;
        assertThat(e.getMessage()).doesNotContain("\n");
        report.add(
            String.format("%-45s refused: %s", label, e.getMessage().replace(pb.toString(), "")));
        continue;
      }
      String r = check(out, inputs, shapes, outputs, expected);
      if (TfliteChecks.tally(failures, label, r)) {
        matched++;
        if (tf1) {
          controlFlowMatched.add(label);
        }
      }
      report.add(String.format("%-45s %s; %s", label, r, sum.detail()));
    }
    report.add(
        String.format(
            "TF1 control flow: %d graphs %s; refused before the If/While rewrite %d, now %d;"
                + " now matched: %s",
            controlFlow.size(),
            controlFlow,
            refused + controlFlowMatched.size(),
            refused,
            controlFlowMatched));
    TfliteChecks.finish(
        "DL4J frozen graphs -> TFLite ("
            + pbs.size()
            + " graphs, "
            + matched
            + " matched, "
            + refused
            + " refused)",
        report,
        failures,
        matched,
        9);
    // tf.cond (two of them on constants, one on placeholders), tf.while_loop, and the bidirectional
    // dynamic_rnn, whose TensorArrays become dense tensors (TensorArrays) in its two WHILE loops.
    assertThat(controlFlowMatched)
        .containsExactlyInAnyOrder(
            "simple_cond",
            "simpleif_0",
            "simple_while",
            "rnn/bidir_basic/dynamic_b1_n5-3_ts4_relu_noIS_noTM_f32");
    assertThat(refused).isEqualTo(5);
  }

  static String check(
      Path tflite,
      Map<String, float[]> inputs,
      Map<String, long[]> shapes,
      List<String> outputs,
      Map<String, float[]> expected) {
    String rejected = TfliteChecks.rejected(tflite);
    if (rejected != null) {
      return rejected;
    }
    TfliteModel m = TfliteReader.read(tflite);
    var sub = m.mainSubgraph();
    List<TfliteOracle.Tensor> ins = new ArrayList<>();
    for (int t : sub.inputs()) {
      var tensor = sub.tensors().get(t);
      float[] v = inputs.get(tensor.name());
      if (v == null) {
        return "skipped: no stored value for input " + tensor.name();
      }
      long[] ls = shapes.get(tensor.name());
      int[] shape =
          ls.length == 0
              ? tensor.shape().stream().mapToInt(i -> i).toArray()
              : java.util.Arrays.stream(ls).mapToInt(x -> (int) x).toArray();
      switch (tensor.type()) {
        case FLOAT32 -> ins.add(TfliteOracle.Tensor.f32(shape, v));
        case FLOAT64 -> {
          ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
          for (float x : v) {
            b.putDouble(x);
          }
          ins.add(new TfliteOracle.Tensor("float64", shape, b.array()));
        }
        default -> {
          return "skipped: input type " + tensor.type();
        }
      }
    }
    return TfliteChecks.runThen(
        tflite,
        ins,
        outs -> {
          StringBuilder sb = new StringBuilder("matched stored predictions:");
          for (int k = 0; k < outputs.size(); k++) {
            float[] want = expected.get(outputs.get(k));
            float max = 0;
            for (float w : want) {
              max = Math.max(max, Math.abs(w));
            }
            Comparison c =
                Comparison.of(want, outs.get(k).floats(), Math.max(ATOL, 1e-6 * max), RTOL);
            sb.append(String.format(" %s max|d|=%.2g", outputs.get(k), c.maxAbs()));
            if (!c.ok()) {
              return "FAIL output " + outputs.get(k) + ": " + c;
            }
          }
          return sb.toString();
        });
  }

  static float[] csv(Path p) throws Exception {
    return Corpus.dl4jCsv(p);
  }

  static long[] shape(Path csv, int values) throws Exception {
    return Corpus.dl4jShape(csv, values);
  }
}
