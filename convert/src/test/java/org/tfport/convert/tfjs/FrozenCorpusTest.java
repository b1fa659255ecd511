package org.tfport.convert.tfjs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.ConversionResult;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.core.ProgressListener;
import org.tfport.core.TfportException;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.formats.graphdef.GraphDefReader;
import org.tfport.graph.GraphLoader;
import org.tfport.graph.GraphOptions;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;

/**
 * Every frozen GraphDef of the corpus converts or is refused. The DL4J {@code tf_graphs} must
 * reproduce their stored TensorFlow predictions in TF.js 4.22; the others must match TensorFlow
 * 2.18 (TF Java) on random inputs.
 */
@OracleTest
class FrozenCorpusTest {
  @TempDir Path tmp;

  /**
   * A frozen graph without stored predictions: outputs, input shapes for unknown dimensions, fixed
   * feeds.
   */
  record Plain(
      String file,
      List<String> outputs,
      Map<String, long[]> shapes,
      Map<String, Float> fixed,
      String refusal) {}

  static final List<Plain> PLAIN =
      List.of(
          new Plain(
              "dl4j-tf_graphs/lenet_frozen.pb",
              List.of("output"),
              Map.of("input", new long[] {2, 784}),
              Map.of(),
              null),
          new Plain(
              "dl4j-tf_graphs/max_lstm.pb",
              List.of("lstm_1/TensorArrayReadV3"),
              Map.of(),
              Map.of(),
              "still has variable"),
          new Plain(
              "tf2onnx/ae0.pb",
              List.of("output"),
              Map.of("X", new long[] {2, 784}),
              Map.of(),
              null),
          new Plain(
              "tf2onnx/fc-layers.pb",
              List.of("output"),
              Map.of("X", new long[] {2, 784}),
              Map.of(),
              null),
          // Dropout is random: keep_prob 1 makes it the identity in both runtimes.
          new Plain(
              "tf2onnx/gru.pb",
              List.of("output"),
              Map.of("X", new long[] {2, 784}),
              Map.of("keep_prob", 1f),
              null),
          new Plain(
              "tf2onnx/lstm.pb",
              List.of("output"),
              Map.of("X", new long[] {2, 784}),
              Map.of("keep_prob", 1f),
              null),
          new Plain(
              "tf2onnx/regression.pb",
              List.of("pred"),
              Map.of("X", new long[] {5}),
              Map.of(),
              null));

  /**
   * Outputs that subtract values near 1e4 to get values near 0.5: float32 rounding of the large
   * terms (about 1e-3) dominates the small results, and TensorFlow 2.18 itself misses the stored
   * prediction by 1.2e-3 there. The absolute tolerance scales with the output's largest magnitude
   * (1e-6 of it).
   */
  static final java.util.Set<String> SCALED_ATOL = java.util.Set.of("dl4j-tf_graphs/conv_4");

  record Run(
      String label,
      Path out,
      List<String> outputs,
      List<TfjsOracle.Input> inputs,
      List<float[]> expected,
      String against,
      String summary) {}

  @Test
  void everyFrozenGraphConvertsAndMatches() throws Exception {
    Path root = Corpus.require("frozen_pb");
    List<String> report = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    List<Run> runs = new ArrayList<>();
    Random rnd = new Random(42);

    List<Path> dl4j;
    try (Stream<Path> s = Files.walk(root.resolve("dl4j-tf_graphs"))) {
      dl4j = s.filter(p -> p.getFileName().toString().equals("frozen_model.pb")).sorted().toList();
    }
    for (Path pb : dl4j) {
      Path dir = pb.getParent();
      String label = root.relativize(dir).toString();
      Map<String, TfjsOracle.Input> inputs = new LinkedHashMap<>();
      Map<String, float[]> expected = new LinkedHashMap<>();
      try (Stream<Path> s = Files.walk(dir)) {
        for (Path p : s.sorted().toList()) {
          String rel = dir.relativize(p).toString();
          if (rel.endsWith(".placeholder.csv")) {
            String name = rel.substring(0, rel.length() - ".placeholder.csv".length());
            float[] v = csv(p);
            inputs.put(name, TfjsOracle.Input.f32(name, shape(p, v.length), v));
          } else if (rel.endsWith(".prediction.csv")) {
            String name =
                rel.substring(0, rel.length() - ".prediction.csv".length())
                    .replaceFirst("\\.(\\d+)$", ":$1");
            expected.put(name, csv(p));
          }
        }
      }
      if (expected.isEmpty()) {
        report.add(String.format("%-70s skipped: no stored predictions", label));
        continue;
      }
      List<String> outputs = new ArrayList<>(expected.keySet());
      Path out = tmp.resolve(label.replace('/', '_'));
      try {
        ConversionResult sum =
            TfGraphToTfjs.convertFrozen(
                pb,
                out,
                GraphOptions.defaults().withOutputNodeNames(outputs),
                TfjsOutputOptions.defaults(),
                ProgressListener.NONE);
        List<TfjsOracle.Input> ins = new ArrayList<>(inputs.values());
        if (ins.isEmpty()) {
          ins.add(E2e.constantFeed(out));
        }
        runs.add(
            new Run(
                label,
                out,
                outputs,
                ins,
                new ArrayList<>(expected.values()),
                "stored predictions",
                sum.detail()));
      } catch (TfportException e) {
        failures.add(label + ": refused: " + e.getMessage());
      }
    }

    for (Plain p : PLAIN) {
      Path pb = root.resolve(p.file());
      Path out = tmp.resolve(p.file().replace('/', '_'));
      try {
        ConversionResult sum =
            TfGraphToTfjs.convertFrozen(
                pb,
                out,
                GraphOptions.defaults().withOutputNodeNames(p.outputs()),
                TfjsOutputOptions.defaults(),
                ProgressListener.NONE);
        if (p.refusal() != null) {
          failures.add(p.file() + ": converted, but should be refused with '" + p.refusal() + "'");
          continue;
        }
        Graph g = GraphDefReader.read(pb);
        Map<String, TensorFlowOracle.Feed> feeds = new LinkedHashMap<>();
        for (String in : GraphLoader.placeholders(g)) {
          Node n = g.node(in);
          int dtype = n.typeAttr("dtype");
          long[] shape = p.shapes().getOrDefault(in, GraphLoader.shapeOf(n));
          TfjsOracle.Input input =
              p.fixed().containsKey(in)
                  ? TfjsOracle.Input.f32(in, shape, new float[] {p.fixed().get(in)})
                  : TensorFlowOracle.random(in, shape, dtype, rnd);
          feeds.put(in, new TensorFlowOracle.Feed(input, dtype));
        }
        List<String> fetches =
            p.outputs().stream().map(o -> o.contains(":") ? o : o + ":0").toList();
        List<float[]> tf = TensorFlowOracle.runGraphDef(pb, feeds, fetches);
        List<TfjsOracle.Input> ins =
            feeds.values().stream().map(TensorFlowOracle.Feed::input).toList();
        runs.add(new Run(p.file(), out, p.outputs(), ins, tf, "TensorFlow", sum.detail()));
      } catch (TfportException e) {
        report.add(String.format("%-70s refused: %s", p.file(), e.getMessage()));
        assertThat(e.getMessage()).doesNotContain("\n");
        if (p.refusal() == null || !e.getMessage().contains(p.refusal())) {
          failures.add(p.file() + ": refused: " + e.getMessage());
        }
      }
    }

    List<TfjsOracle.Job> jobs =
        runs.stream()
            .map(r -> TfjsOracle.Job.graph(r.out().resolve("model.json"), r.inputs(), r.outputs()))
            .toList();
    List<TfjsOracle.Result> results = TfjsOracle.run(jobs);
    for (int i = 0; i < runs.size(); i++) {
      Run run = runs.get(i);
      TfjsOracle.Result r = results.get(i);
      if (!r.ok()) {
        failures.add(run.label() + ": TF.js failed: " + r.error());
        report.add(String.format("%-70s TF.js failed: %s", run.label(), r.error()));
        continue;
      }
      StringBuilder sb = new StringBuilder();
      for (int k = 0; k < run.outputs().size(); k++) {
        float[] want = run.expected().get(k);
        double atol = E2e.ATOL;
        if (SCALED_ATOL.contains(run.label())) {
          double max = 0;
          for (float v : want) {
            max = Math.max(max, Math.abs(v));
          }
          atol = Math.max(atol, 1e-6 * max);
        }
        Comparison c = Comparison.of(want, r.output(k).data(), atol, E2e.RTOL);
        sb.append(String.format(" %s max|d|=%.2g", run.outputs().get(k), c.maxAbs()));
        if (!c.ok()) {
          failures.add(
              run.label() + " output " + run.outputs().get(k) + " vs " + run.against() + ": " + c);
        }
      }
      report.add(
          String.format("%-70s vs %s:%s; %s", run.label(), run.against(), sb, run.summary()));
    }
    System.out.println("Frozen graph corpus:\n  " + String.join("\n  ", new TreeSet<>(report)));
    assertThat(failures).isEmpty();
  }

  static float[] csv(Path p) throws Exception {
    return Corpus.dl4jCsv(p);
  }

  static long[] shape(Path csv, int values) throws Exception {
    return Corpus.dl4jShape(csv, values);
  }
}
