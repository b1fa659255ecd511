package org.tfport.convert.tfjs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.core.ProgressListener;
import org.tfport.core.TfportException;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.formats.graphdef.GraphDefReader;
import org.tfport.formats.savedmodel.SavedModelReader;
import org.tfport.formats.savedmodel.TensorInfo;
import org.tfport.graph.GraphLoader;
import org.tfport.graph.GraphOptions;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;
import tools.jackson.databind.JsonNode;

/**
 * Every corpus model converted with and without the optimizer runs in TF.js 4.22 to the same
 * outputs (within the end-to-end tolerance), and the optimized graph never has more nodes. Prints
 * node counts and fused ops per model.
 */
@OracleTest
class OptimizationCorpusTest {
  @TempDir Path tmp;

  /** One model converted both ways, with what to feed each. */
  record Pair(
      String label,
      Path plain,
      Path optimized,
      List<TfjsOracle.Input> plainInputs,
      List<TfjsOracle.Input> optimizedInputs,
      List<String> outputs) {}

  interface Convert {
    void to(Path out, boolean optimize) throws Exception;
  }

  @Test
  void optimizingKeepsEveryCorpusModelsOutputs() throws Exception {
    List<Pair> pairs = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    savedModels(pairs, failures);
    frozenGraphs(pairs, failures);
    assertThat(pairs).hasSizeGreaterThan(30);

    List<TfjsOracle.Job> jobs = new ArrayList<>();
    for (Pair p : pairs) {
      jobs.add(TfjsOracle.Job.graph(p.plain().resolve("model.json"), p.plainInputs(), p.outputs()));
      jobs.add(
          TfjsOracle.Job.graph(
              p.optimized().resolve("model.json"), p.optimizedInputs(), p.outputs()));
    }
    List<TfjsOracle.Result> results = TfjsOracle.run(jobs);
    List<String> table = new ArrayList<>();
    int plainTotal = 0;
    int optimizedTotal = 0;
    Map<String, Integer> fusedTotal = new TreeMap<>();
    for (int i = 0; i < pairs.size(); i++) {
      Pair p = pairs.get(i);
      TfjsOracle.Result plain = results.get(2 * i);
      TfjsOracle.Result optimized = results.get(2 * i + 1);
      if (!plain.ok() || !optimized.ok()) {
        failures.add(
            p.label()
                + ": TF.js failed: "
                + (plain.ok() ? "" : "unoptimized: " + plain.error())
                + (optimized.ok() ? "" : " optimized: " + optimized.error()));
        continue;
      }
      double worst = 0;
      for (int k = 0; k < p.outputs().size(); k++) {
        Comparison c =
            Comparison.of(plain.output(k).data(), optimized.output(k).data(), E2e.ATOL, E2e.RTOL);
        worst = Math.max(worst, c.maxAbs());
        if (!c.ok()) {
          failures.add(
              p.label() + " output " + p.outputs().get(k) + ": optimized vs unoptimized: " + c);
        }
      }
      int before = nodes(p.plain());
      int after = nodes(p.optimized());
      if (after > before) {
        failures.add(
            p.label() + ": optimizing grew the graph from " + before + " to " + after + " nodes");
      }
      plainTotal += before;
      optimizedTotal += after;
      Map<String, Integer> fused = fused(p.optimized());
      fused.forEach((k, v) -> fusedTotal.merge(k, v, Integer::sum));
      table.add(
          String.format(
              "%-72s %5d -> %-5d %-32s max|d|=%.1g",
              p.label(), before, after, describe(fused), worst));
    }
    System.out.println(
        String.format(
                "Optimization on the corpus (%d models; nodes without -> with the"
                    + " optimizer; fused ops; largest output difference):%n  %-72s %5s    %-5s %s%n  ",
                pairs.size(), "model", "nodes", "", "fused")
            + String.join("\n  ", table)
            + String.format(
                "%n  %-72s %5d -> %-5d %s",
                "total", plainTotal, optimizedTotal, describe(fusedTotal)));
    assertThat(failures).isEmpty();
  }

  private static String describe(Map<String, Integer> fused) {
    List<String> out = new ArrayList<>();
    fused.forEach((k, v) -> out.add(v + " " + k));
    return out.isEmpty() ? "-" : String.join(", ", out);
  }

  static int nodes(Path out) throws Exception {
    return E2e.modelJson(out).path("modelTopology").path("node").size();
  }

  static Map<String, Integer> fused(Path out) throws Exception {
    Map<String, Integer> m = new TreeMap<>();
    for (JsonNode n : E2e.modelJson(out).path("modelTopology").path("node")) {
      String op = n.path("op").stringValue();
      if (TfjsFusion.FUSED_OPS.contains(op) || op.equals("Prelu")) {
        m.merge(op, 1, Integer::sum);
      }
    }
    return m;
  }

  /**
   * Converts both ways; false when the converter refuses the model (the corpus tests check
   * refusals).
   */
  private boolean both(String label, Convert c, Path plain, Path optimized, List<String> failures)
      throws Exception {
    boolean plainOk = attempt(() -> c.to(plain, false));
    boolean optimizedOk = attempt(() -> c.to(optimized, true));
    if (plainOk != optimizedOk) {
      failures.add(
          label + ": converts " + (plainOk ? "only without" : "only with") + " the optimizer");
    }
    return plainOk && optimizedOk;
  }

  private interface Step {
    void run() throws Exception;
  }

  private static boolean attempt(Step s) throws Exception {
    try {
      s.run();
      return true;
    } catch (TfportException e) {
      return false;
    }
  }

  private void savedModels(List<Pair> pairs, List<String> failures) throws Exception {
    Path root = Corpus.require("savedmodel");
    List<SavedModelCorpusTest.Case> cases = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(root)) {
      dirs.filter(Files::isDirectory)
          .map(p -> p.getFileName().toString())
          .sorted()
          .filter(m -> !SavedModelCorpusTest.DEFAULT_REFUSALS.containsKey(m))
          .forEach(m -> cases.add(new SavedModelCorpusTest.Case(m, null, null)));
    }
    SavedModelCorpusTest.EXTRA.stream().filter(c -> c.refusal() == null).forEach(cases::add);
    for (SavedModelCorpusTest.Case c : cases) {
      String label = c.model() + (c.signature() == null ? "" : "[" + c.signature() + "]");
      Path plain = tmp.resolve("plain").resolve(label.replaceAll("[^A-Za-z0-9_.-]", "_"));
      Path optimized = tmp.resolve("optimized").resolve(label.replaceAll("[^A-Za-z0-9_.-]", "_"));
      GraphOptions go = new GraphOptions(c.signature(), null, true, false, false, List.of());
      Convert convert =
          (out, optimize) ->
              TfGraphToTfjs.convertSavedModel(
                  root.resolve(c.model()),
                  out,
                  go.withOptimize(optimize),
                  TfjsOutputOptions.defaults(),
                  ProgressListener.NONE);
      if (!both(label, convert, plain, optimized, failures)) {
        continue;
      }
      JsonNode plainSig = E2e.modelJson(plain).path("signature");
      if (!plainSig.equals(E2e.modelJson(optimized).path("signature"))) {
        failures.add(label + ": the optimizer changed the signature");
      }
      String sig = c.signature() == null ? "serving_default" : c.signature();
      Map<String, TensorInfo> infos =
          SavedModelReader.read(root.resolve(c.model()), java.util.Set.of("serve"), sig)
              .signature()
              .inputs();
      Random rnd = new Random(label.hashCode());
      List<TfjsOracle.Input> ins = new ArrayList<>();
      for (var e : plainSig.path("inputs").properties()) {
        var dims = e.getValue().path("tensorShape").path("dim");
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
          long d = Long.parseLong(dims.get(i).path("size").stringValue());
          shape[i] = d < 0 ? 2 : d;
        }
        TfjsOracle.Input in =
            TensorFlowOracle.random(e.getKey(), shape, infos.get(e.getKey()).dtype(), rnd);
        String name = e.getValue().path("name").stringValue();
        ins.add(
            in.data() != null
                ? TfjsOracle.Input.f32(name, shape, in.data())
                : TfjsOracle.Input.i32(name, shape, in.ints()));
      }
      pairs.add(
          new Pair(
              label,
              plain,
              optimized,
              ins.isEmpty() ? List.of(E2e.constantFeed(plain)) : ins,
              ins.isEmpty() ? List.of(E2e.constantFeed(optimized)) : ins,
              E2e.outputNames(plain)));
    }
  }

  private void frozenGraphs(List<Pair> pairs, List<String> failures) throws Exception {
    Path root = Corpus.require("frozen_pb");
    List<Path> dl4j;
    try (Stream<Path> s = Files.walk(root.resolve("dl4j-tf_graphs"))) {
      dl4j = s.filter(p -> p.getFileName().toString().equals("frozen_model.pb")).sorted().toList();
    }
    for (Path pb : dl4j) {
      Path dir = pb.getParent();
      String label = root.relativize(dir).toString();
      Map<String, TfjsOracle.Input> inputs = new LinkedHashMap<>();
      List<String> outputs = new ArrayList<>();
      try (Stream<Path> s = Files.walk(dir)) {
        for (Path p : s.sorted().toList()) {
          String rel = dir.relativize(p).toString();
          if (rel.endsWith(".placeholder.csv")) {
            String name = rel.substring(0, rel.length() - ".placeholder.csv".length());
            float[] v = FrozenCorpusTest.csv(p);
            inputs.put(name, TfjsOracle.Input.f32(name, FrozenCorpusTest.shape(p, v.length), v));
          } else if (rel.endsWith(".prediction.csv")) {
            outputs.add(
                rel.substring(0, rel.length() - ".prediction.csv".length())
                    .replaceFirst("\\.(\\d+)$", ":$1"));
          }
        }
      }
      if (outputs.isEmpty()) {
        continue;
      }
      addFrozen(pairs, failures, label, pb, outputs, new ArrayList<>(inputs.values()));
    }
    Random rnd = new Random(42);
    for (FrozenCorpusTest.Plain p : FrozenCorpusTest.PLAIN) {
      if (p.refusal() != null) {
        continue;
      }
      Path pb = root.resolve(p.file());
      Graph g = GraphDefReader.read(pb);
      List<TfjsOracle.Input> ins = new ArrayList<>();
      for (String in : GraphLoader.placeholders(g)) {
        Node n = g.node(in);
        long[] shape = p.shapes().getOrDefault(in, GraphLoader.shapeOf(n));
        ins.add(
            p.fixed().containsKey(in)
                ? TfjsOracle.Input.f32(in, shape, new float[] {p.fixed().get(in)})
                : TensorFlowOracle.random(in, shape, n.typeAttr("dtype"), rnd));
      }
      addFrozen(pairs, failures, p.file(), pb, p.outputs(), ins);
    }
  }

  private void addFrozen(
      List<Pair> pairs,
      List<String> failures,
      String label,
      Path pb,
      List<String> outputs,
      List<TfjsOracle.Input> inputs)
      throws Exception {
    Path plain = tmp.resolve("plain").resolve(label.replace('/', '_'));
    Path optimized = tmp.resolve("optimized").resolve(label.replace('/', '_'));
    Convert convert =
        (out, optimize) ->
            TfGraphToTfjs.convertFrozen(
                pb,
                out,
                GraphOptions.defaults().withOutputNodeNames(outputs).withOptimize(optimize),
                TfjsOutputOptions.defaults(),
                ProgressListener.NONE);
    if (!both(label, convert, plain, optimized, failures)) {
      return;
    }
    pairs.add(
        new Pair(
            label,
            plain,
            optimized,
            inputs.isEmpty() ? List.of(E2e.constantFeed(plain)) : inputs,
            inputs.isEmpty() ? List.of(E2e.constantFeed(optimized)) : inputs,
            outputs));
  }
}
