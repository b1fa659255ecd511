package org.tfport.convert.keras;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.core.DType;
import org.tfport.core.ProgressListener;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.runtime.Signature;
import org.tfport.runtime.TensorSpec;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfjsOracle.Input;
import org.tfport.testkit.TfjsOracle.Job;
import org.tfport.testkit.TfjsOracle.Result;

/**
 * tfport's runtime runs Keras files (and the TF.js layers models made from them) as the TensorFlow
 * graph their layers compute, and gives TF.js 4.22's layers-model outputs on the same inputs.
 */
@OracleTest
class KerasGraphRuntimeTest {
  static final double ATOL = 1e-5;
  static final double RTOL = 1e-4;

  @Test
  void everyCorpusKerasFileTfjsLoadsRunsAsInTfjs(@TempDir Path tmp) throws IOException {
    List<Path> files = new ArrayList<>();
    for (String dir : List.of("keras_h5", "keras_v3")) {
      try (Stream<Path> s = Files.walk(Corpus.require(dir))) {
        s.filter(p -> p.toString().matches(".*\\.(h5|hdf5|keras)$"))
            .filter(p -> !p.getFileName().toString().contains("inputs_and_outputs"))
            .sorted()
            .forEach(files::add);
      }
    }
    Report r = compare(files, tmp);
    System.out.printf(
        "keras graph runtime: %d TF.js-loadable models, %d matched TF.js (worst %.3g), %d refused %s, %d mismatched%n",
        r.cases, r.matched, r.worst, r.refused.size(), r.refusedReasons(), r.mismatches.size());
    r.mismatches.forEach(m -> System.out.println("  mismatch: " + m));
    assertThat(r.mismatches).isEmpty();
    assertThat(r.matched).isGreaterThanOrEqualTo(191);
  }

  static final class Report {
    int cases;
    int matched;
    double worst;
    final Map<String, String> refused = new TreeMap<>();
    final List<String> mismatches = new ArrayList<>();

    Map<String, Integer> refusedReasons() {
      Map<String, Integer> m = new TreeMap<>();
      for (String why : refused.values()) {
        m.merge(
            why.replaceAll("\\(layer[^)]*\\)", "").replaceAll("^[^:]*: ", "").replaceAll(";.*", ""),
            1,
            Integer::sum);
      }
      return m;
    }
  }

  /**
   * Converts each file to a TF.js layers model (files TF.js cannot load are skipped), runs it in
   * TF.js and the original in tfport's runtime on the same random inputs.
   */
  static Report compare(List<Path> files, Path tmp) {
    Report rep = new Report();
    List<Job> jobs = new ArrayList<>();
    List<Map<String, Tensor>> ours = new ArrayList<>();
    List<String> labels = new ArrayList<>();
    for (int i = 0; i < files.size(); i++) {
      Path f = files.get(i);
      Path out = tmp.resolve("m" + i);
      try {
        KerasToTfjs.convert(f, out, TfjsOutputOptions.defaults(), ProgressListener.NONE);
      } catch (TfportException e) {
        continue;
      }
      Path mj = out.resolve("model.json");
      if (isWeightsOnly(mj)) {
        continue;
      }
      rep.cases++;
      Path label = Corpus.root().relativize(f);
      Model m;
      try {
        m = Model.load(f);
      } catch (UnsupportedModelException e) {
        if (e.getMessage().contains("Keras 1") || e.getMessage().contains("Theano")) {
          try {
            m = Model.load(mj);
          } catch (UnsupportedModelException e2) {
            rep.refused.put(label.toString(), e2.getMessage());
            continue;
          }
        } else {
          rep.refused.put(label.toString(), e.getMessage());
          continue;
        }
      } catch (RuntimeException e) {
        rep.mismatches.add(label + ": load failed: " + e);
        continue;
      }
      try (Model model = m;
          Session s = model.newSession()) {
        Signature sig = model.defaultSignature();
        SplittableRandom rnd = new SplittableRandom(i);
        boolean ids = hasEmbedding(mj);
        Map<String, Tensor> feed = new LinkedHashMap<>();
        List<Input> inputs = new ArrayList<>();
        for (TensorSpec in : sig.inputs()) {
          long[] shape = in.shape().clone();
          for (int k = 0; k < shape.length; k++) {
            shape[k] = shape[k] > 0 ? shape[k] : (k == 0 ? 2 : 16);
          }
          int n = Math.toIntExact(Shape.of(shape).size());
          String name = sig.inputs().size() == 1 ? null : in.name();
          if (in.dtype() == DType.INT32) {
            int[] v = new int[n];
            for (int k = 0; k < n; k++) {
              v[k] = rnd.nextInt(2);
            }
            feed.put(in.name(), Tensor.ofInts(Shape.of(shape), v));
            inputs.add(Input.i32(name, shape, v));
          } else {
            float[] v = new float[n];
            for (int k = 0; k < n; k++) {
              v[k] = ids ? rnd.nextInt(2) : (float) (rnd.nextDouble() * 2 - 1);
            }
            feed.put(in.name(), Tensor.ofFloats(Shape.of(shape), v));
            inputs.add(Input.f32(name, shape, v));
          }
        }
        ours.add(s.run(feed));
        jobs.add(new Job("layers", mj, inputs, List.of()));
        labels.add(label.toString());
      } catch (RuntimeException e) {
        rep.mismatches.add(label + ": run failed: " + e);
      }
    }
    List<Result> results = TfjsOracle.run(jobs);
    for (int i = 0; i < results.size(); i++) {
      Result r = results.get(i);
      if (!r.ok()) {
        // TF.js cannot run it on these inputs: not a comparison.
        rep.cases--;
        continue;
      }
      List<Tensor> mine = new ArrayList<>(ours.get(i).values());
      if (mine.size() != r.outputs().size()) {
        rep.mismatches.add(
            labels.get(i) + ": " + mine.size() + " outputs, TF.js " + r.outputs().size());
        continue;
      }
      boolean ok = true;
      for (int k = 0; k < mine.size(); k++) {
        float[] a = mine.get(k).toFloatArray();
        float[] b = r.outputs().get(k).data();
        if (a.length != b.length) {
          rep.mismatches.add(
              labels.get(i) + ": output " + k + " has " + a.length + " values, TF.js " + b.length);
          ok = false;
          continue;
        }
        Comparison c = Comparison.of(b, a, ATOL, RTOL);
        rep.worst = Math.max(rep.worst, c.maxAbs());
        if (!c.ok()) {
          rep.mismatches.add(labels.get(i) + ": output " + k + " " + c);
          ok = false;
        }
      }
      rep.matched += ok ? 1 : 0;
    }
    return rep;
  }

  /** Embedding inputs are ids: fed as small integers (in float inputs too). */
  private static boolean hasEmbedding(Path mj) {
    try {
      return Files.readString(mj).contains("\"Embedding\"");
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean isWeightsOnly(Path mj) {
    try {
      return org.tfport.core.Json.MAPPER.readTree(mj.toFile()).path("modelTopology").isNull();
    } catch (RuntimeException e) {
      return true;
    }
  }
}
