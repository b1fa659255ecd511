package org.tfport.convert.tfjs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Json;
import org.tfport.core.TfportException;
import org.tfport.core.graph.TensorRef;
import org.tfport.formats.savedmodel.SavedModelReader;
import org.tfport.formats.savedmodel.SignatureInfo;
import org.tfport.formats.savedmodel.TensorBundle;
import org.tfport.formats.savedmodel.TensorInfo;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;

/**
 * Every corpus TF.js graph model goes back to a SavedModel and a frozen GraphDef; both load in
 * TensorFlow 2.18 (the SavedModel restoring its variables from the checkpoint tfport wrote) and
 * give TF.js 4.22's outputs on the same random inputs within 1e-5 + 1e-4·|b|.
 */
@OracleTest
class TfjsGraphToTfCorpusTest {
  static final double ATOL = 1e-5;
  static final double RTOL = 1e-4;
  @TempDir Path tmp;

  record Case(
      String label,
      Path modelJson,
      Path savedModel,
      Path frozen,
      SignatureInfo sig,
      Map<String, TensorFlowOracle.Feed> feeds,
      Map<String, String> nodeOf) {}

  @Test
  void graphModelsLoadInTensorFlowAndMatchTfjs() throws Exception {
    Path root = Corpus.require("tfjs/graph");
    List<Path> models = new ArrayList<>();
    try (Stream<Path> s = Files.walk(root)) {
      s.filter(p -> p.toString().endsWith(".json"))
          .sorted()
          .forEach(
              p -> {
                if (Json.MAPPER
                    .readTree(p.toFile())
                    .path("format")
                    .asString("")
                    .equals("graph-model")) {
                  models.add(p);
                }
              });
    }
    List<String> report = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    List<Case> cases = new ArrayList<>();
    int refused = 0;
    for (Path mj : models) {
      String label = root.relativize(mj).toString();
      String safe = label.replaceAll("[^A-Za-z0-9_.-]", "_");
      Path sm = tmp.resolve(safe + "_sm");
      Path pb = tmp.resolve(safe + ".pb");
      try {
        TfjsGraphToTf.convertSavedModel(mj, sm);
        TfjsGraphToTf.convertFrozen(mj, pb);
      } catch (TfportException e) {
        refused++;
        assertThat(e.getMessage()).doesNotContain("\n").contains(mj.toString());
        assertThat(sm).doesNotExist();
        report.add(String.format("%-55s refused: %s", label, e.getMessage()));
        continue;
      }
      SignatureInfo sig = SavedModelReader.signatures(sm, Set.of("serve")).get("serving_default");
      Random rnd = new Random(label.hashCode());
      Map<String, TensorFlowOracle.Feed> feeds = new LinkedHashMap<>();
      Map<String, String> nodeOf = new LinkedHashMap<>();
      for (Map.Entry<String, TensorInfo> e : sig.inputs().entrySet()) {
        long[] shape =
            e.getValue().shape().unknownRank() ? new long[0] : e.getValue().shape().dims().clone();
        for (int i = 0; i < shape.length; i++) {
          shape[i] = shape[i] < 0 ? 1 : shape[i];
        }
        String node = TensorRef.nodeOf(e.getValue().name());
        nodeOf.put(e.getKey(), node);
        feeds.put(
            e.getKey(),
            new TensorFlowOracle.Feed(
                TensorFlowOracle.random(node, shape, e.getValue().dtype(), rnd),
                e.getValue().dtype()));
      }
      cases.add(new Case(label, mj, sm, pb, sig, feeds, nodeOf));
    }
    List<TfjsOracle.Job> jobs = new ArrayList<>();
    for (Case c : cases) {
      List<String> outNames = c.sig().outputs().values().stream().map(TensorInfo::name).toList();
      jobs.add(
          TfjsOracle.Job.graph(
              c.modelJson(),
              c.feeds().values().stream().map(TensorFlowOracle.Feed::input).toList(),
              outNames));
    }
    List<TfjsOracle.Result> js = TfjsOracle.run(jobs);
    int matched = 0;
    for (int k = 0; k < cases.size(); k++) {
      Case c = cases.get(k);
      String r;
      try {
        r = check(c, js.get(k));
      } catch (RuntimeException e) {
        r = "FAIL: " + e;
      }
      if (r.startsWith("FAIL")) {
        failures.add(c.label() + ": " + r);
      } else {
        matched++;
      }
      report.add(String.format("%-55s %s", c.label(), r));
    }
    String summary =
        "TF.js graph -> SavedModel/frozen corpus ("
            + models.size()
            + " models, "
            + matched
            + " matched in TensorFlow, "
            + refused
            + " refused)";
    System.out.println(summary);
    report.forEach(System.out::println);
    assertThat(failures).as(summary).isEmpty();
    assertThat(matched).as(summary).isGreaterThanOrEqualTo(5);
  }

  private static String check(Case c, TfjsOracle.Result js) throws Exception {
    if (!js.ok()) {
      return "skipped: TF.js 4.22 cannot run the source (" + js.error() + ")";
    }
    // The checkpoint reads back in tfport's reader as well as TensorFlow's.
    Path prefix = c.savedModel().resolve("variables/variables");
    int vars =
        Files.exists(TensorBundle.indexFile(prefix)) ? TensorBundle.open(prefix).keys().size() : 0;
    Map<String, float[]> tf =
        TensorFlowOracle.runSavedModelAsIs(c.savedModel(), "serve", "serving_default", c.feeds());
    Map<String, TensorFlowOracle.Feed> byNode = new LinkedHashMap<>();
    c.feeds().forEach((k, f) -> byNode.put(c.nodeOf().get(k), f));
    List<String> fetches = c.sig().outputs().values().stream().map(TensorInfo::name).toList();
    List<float[]> frozen = TensorFlowOracle.runGraphDef(c.frozen(), byNode, fetches);
    StringBuilder s = new StringBuilder("matched TF.js (" + vars + " variables):");
    int i = 0;
    for (String key : c.sig().outputs().keySet()) {
      TfjsOracle.Output o = js.output(i);
      float[] want = o.data() != null ? o.data() : toFloats(o.ints());
      Comparison sm = Comparison.of(want, tf.get(key), ATOL, RTOL);
      Comparison fz = Comparison.of(want, frozen.get(i), ATOL, RTOL);
      if (!sm.ok()) {
        return "FAIL SavedModel output " + key + ": " + sm;
      }
      if (!fz.ok()) {
        return "FAIL frozen output " + key + ": " + fz;
      }
      s.append(String.format(" %s max|d|=%.2g", key, Math.max(sm.maxAbs(), fz.maxAbs())));
      i++;
    }
    return s.toString();
  }

  private static float[] toFloats(int[] v) {
    float[] f = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      f[i] = v[i];
    }
    return f;
  }
}
