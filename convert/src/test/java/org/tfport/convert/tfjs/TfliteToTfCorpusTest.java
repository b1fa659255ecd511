package org.tfport.convert.tfjs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.TfportException;
import org.tfport.core.graph.TensorRef;
import org.tfport.formats.savedmodel.SavedModelReader;
import org.tfport.formats.savedmodel.SignatureInfo;
import org.tfport.formats.savedmodel.TensorInfo;
import org.tfport.runtime.tflite.TfliteImporter;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfliteOracle;

/**
 * Every corpus {@code .tflite} that TFLite 2.18 and tfport both run goes back to a SavedModel and a
 * frozen GraphDef; in TensorFlow 2.18 both give TFLite's outputs on the same random inputs within
 * 1e-5 + 1e-4·|b|. Integer-quantized models and custom ops are refused by name, nothing written.
 */
@OracleTest
class TfliteToTfCorpusTest {
  static final double ATOL = 1e-5;
  static final double RTOL = 1e-4;
  private static final Set<String> FEEDABLE = Set.of("float32", "int32", "int64");
  @TempDir Path tmp;

  @Test
  void floatModelsMatchTfliteInTensorFlow() throws Exception {
    Path root = Corpus.require("tflite");
    List<Path> files;
    try (Stream<Path> s = Files.walk(root)) {
      files = s.filter(p -> p.toString().endsWith(".tflite")).sorted().toList();
    }
    List<String> report = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    int matched = 0;
    int refused = 0;
    int skipped = 0;
    for (Path f : files) {
      String label = root.relativize(f).toString();
      String r;
      try {
        r = check(f, label);
      } catch (RuntimeException e) {
        r = "FAIL: " + e.toString().split("\n")[0];
      }
      if (r.startsWith("FAIL")) {
        failures.add(label + ": " + r);
      } else if (r.startsWith("matched")) {
        matched++;
      } else if (r.startsWith("refused")) {
        refused++;
      } else {
        skipped++;
      }
      report.add(String.format("%-60s %s", label, r));
    }
    String summary =
        String.format(
            "TFLite -> SavedModel/frozen corpus (%d files: %d matched in TensorFlow, %d refused, %d"
                + " skipped)",
            files.size(), matched, refused, skipped);
    System.out.println(summary);
    report.forEach(System.out::println);
    assertThat(failures).as(summary).isEmpty();
    assertThat(matched).as(summary).isGreaterThanOrEqualTo(5);
  }

  private String check(Path f, String label) throws Exception {
    TfliteOracle.Load load = TfliteOracle.load(f);
    if (!load.accepted()) {
      return "skipped: TFLite 2.18 does not load it";
    }
    TfliteImporter.ImportedModel im;
    try {
      im = TfliteImporter.importModel(f);
    } catch (TfportException e) {
      return "skipped: tfport does not run it";
    }
    String safe = label.replaceAll("[^A-Za-z0-9_.-]", "_");
    Path sm = tmp.resolve(safe + "_sm");
    Path pb = tmp.resolve(safe + ".pb");
    try {
      TfliteToTf.convertSavedModel(f, sm);
      TfliteToTf.convertFrozen(f, pb);
    } catch (TfportException e) {
      assertThat(e.getMessage()).doesNotContain("\n").contains(f.toString());
      assertThat(sm).doesNotExist();
      return "refused: " + e.getMessage().substring(f.toString().length() + 2);
    }
    for (TfliteOracle.TensorInfo t : load.inputs()) {
      if (!FEEDABLE.contains(t.dtype())) {
        return "skipped: input " + t.name() + " is " + t.dtype();
      }
    }
    List<TfliteOracle.Tensor> ins = TfliteOracle.randomInputs(load, label.hashCode());
    List<TfliteOracle.Tensor> want = TfliteOracle.run(f, ins);
    TfliteImporter.ImportedSubgraph main =
        im.tensorMap().stream()
            .filter(s -> s.subgraph() == 0 && s.function() == null)
            .findFirst()
            .orElseThrow();
    var sub = org.tfport.formats.tflite.TfliteReader.read(f).mainSubgraph();
    Map<String, TensorFlowOracle.Feed> byNode = new LinkedHashMap<>();
    for (int i = 0; i < sub.inputs().size(); i++) {
      String node = TensorRef.nodeOf(main.tensors().get(sub.inputs().get(i)));
      byNode.put(node, feed(node, ins.get(i)));
    }
    List<String> fetches = new ArrayList<>();
    for (int t : sub.outputs()) {
      fetches.add(TensorRef.parse(main.tensors().get(t)).tensorName());
    }
    List<float[]> frozen = TensorFlowOracle.runGraphDef(pb, byNode, fetches);

    // The SavedModel signature over subgraph 0: the one fed by the same placeholders.
    Set<String> placeholders = new HashSet<>();
    byNode.keySet().forEach(n -> placeholders.add(n + ":0"));
    SignatureInfo sig = null;
    for (SignatureInfo s : SavedModelReader.signatures(sm, Set.of("serve")).values()) {
      Set<String> names = new HashSet<>();
      s.inputs().values().forEach(t -> names.add(t.name()));
      if (names.equals(placeholders)) {
        sig = s;
      }
    }
    if (sig == null) {
      return "FAIL: no SavedModel signature is fed by " + placeholders;
    }
    Map<String, TensorFlowOracle.Feed> byKey = new LinkedHashMap<>();
    for (Map.Entry<String, TensorInfo> e : sig.inputs().entrySet()) {
      byKey.put(e.getKey(), byNode.get(TensorRef.nodeOf(e.getValue().name())));
    }
    Map<String, float[]> saved = TensorFlowOracle.runSavedModelAsIs(sm, "serve", sig.key(), byKey);
    Map<String, float[]> savedByTensor = new LinkedHashMap<>();
    sig.outputs().forEach((k, t) -> savedByTensor.put(t.name(), saved.get(k)));

    double worst = 0;
    for (int i = 0; i < fetches.size(); i++) {
      float[] b = want.get(i).floats();
      Comparison fz = Comparison.of(b, frozen.get(i), ATOL, RTOL);
      if (!fz.ok()) {
        return "FAIL frozen output " + fetches.get(i) + ": " + fz;
      }
      float[] s = savedByTensor.get(fetches.get(i));
      if (s != null) {
        Comparison c = Comparison.of(b, s, ATOL, RTOL);
        if (!c.ok()) {
          return "FAIL SavedModel output " + fetches.get(i) + ": " + c;
        }
        worst = Math.max(worst, c.maxAbs());
      }
      worst = Math.max(worst, fz.maxAbs());
    }
    return String.format(
        "matched TFLite: %d outputs max|d|=%.2g (signatures %s)",
        fetches.size(),
        worst,
        String.join(",", SavedModelReader.signatures(sm, Set.of("serve")).keySet()));
  }

  /** A sample of float files as TF.js graph models, run in TF.js 4.22 against TFLite 2.18. */
  @Test
  void graphModelsOfTfliteFilesMatchTfliteInTfjs() throws Exception {
    List<String> sample =
        List.of(
            "tflite-micro/hello_world_float.tflite",
            "tflite-support/mobilenet_v1_0.25_224_1_default_1.tflite",
            "tfjs-tflite/cartoongan_fp16.tflite",
            "serving/half_plus_two_with_sigdef.tflite");
    List<TfjsOracle.Job> jobs = new ArrayList<>();
    List<List<TfliteOracle.Tensor>> expected = new ArrayList<>();
    for (String rel : sample) {
      Path f = Corpus.require("tflite/" + rel);
      Path out = tmp.resolve(rel.replaceAll("[^A-Za-z0-9_.-]", "_"));
      TfliteToTf.convertTfjs(
          f,
          out,
          null,
          sig ->
              new org.tfport.graph.GraphOptions(
                  sig, Set.of("serve"), true, false, false, List.of(), true),
          org.tfport.convert.TfjsOutputOptions.defaults(),
          org.tfport.core.ProgressListener.NONE);
      TfliteOracle.Load load = TfliteOracle.load(f);
      List<TfliteOracle.Tensor> ins = TfliteOracle.randomInputs(load, rel.hashCode());
      expected.add(TfliteOracle.run(f, ins));
      TfliteImporter.ImportedModel im = TfliteImporter.importModel(f);
      TfliteImporter.ImportedSubgraph main =
          im.tensorMap().stream()
              .filter(s -> s.subgraph() == 0 && s.function() == null)
              .findFirst()
              .orElseThrow();
      var sub = org.tfport.formats.tflite.TfliteReader.read(f).mainSubgraph();
      List<TfjsOracle.Input> jsIns = new ArrayList<>();
      for (int i = 0; i < sub.inputs().size(); i++) {
        String node = TensorRef.nodeOf(main.tensors().get(sub.inputs().get(i)));
        jsIns.add(feed(node, ins.get(i)).input());
      }
      List<String> outs = new ArrayList<>();
      for (int t : sub.outputs()) {
        outs.add(TensorRef.parse(main.tensors().get(t)).tensorName());
      }
      jobs.add(TfjsOracle.Job.graph(out.resolve("model.json"), jsIns, outs));
    }
    List<TfjsOracle.Result> js = TfjsOracle.run(jobs);
    for (int k = 0; k < sample.size(); k++) {
      assertThat(js.get(k).ok()).as(sample.get(k) + ": " + js.get(k).error()).isTrue();
      for (int i = 0; i < expected.get(k).size(); i++) {
        Comparison.of(expected.get(k).get(i).floats(), js.get(k).output(i).data(), ATOL, RTOL)
            .assertOk(sample.get(k) + " output " + i + " in TF.js");
      }
    }
  }

  private static TensorFlowOracle.Feed feed(String name, TfliteOracle.Tensor t) {
    long[] shape = Arrays.stream(t.shape()).asLongStream().toArray();
    return switch (t.dtype()) {
      case "float32" -> new TensorFlowOracle.Feed(TfjsOracle.Input.f32(name, shape, t.floats()), 1);
      case "int32", "int64" -> {
        long[] v = t.longs();
        int[] iv = new int[v.length];
        for (int i = 0; i < v.length; i++) {
          iv[i] = (int) v[i];
        }
        yield new TensorFlowOracle.Feed(
            TfjsOracle.Input.i32(name, shape, iv), t.dtype().equals("int32") ? 3 : 9);
      }
      default -> throw new IllegalArgumentException("cannot feed " + t.dtype());
    };
  }
}
