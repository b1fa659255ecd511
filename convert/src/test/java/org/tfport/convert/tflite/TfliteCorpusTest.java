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
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.ConversionResult;
import org.tfport.core.TfportException;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.formats.tflite.TfliteSignatureDef;
import org.tfport.graph.GraphOptions;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfliteOracle;

/**
 * Every corpus SavedModel signature and frozen graph that TFLite builtins express converts; each
 * file loads in the real TFLite 2.18 interpreter and matches TensorFlow 2.18 (TF Java) on random
 * inputs within |a - b| <= 1e-5 + 1e-4 |b|.
 */
@OracleTest
class TfliteCorpusTest {
  static final double ATOL = 1e-5;
  static final double RTOL = 1e-4;
  @TempDir Path tmp;

  record Case(String model, String signature) {}

  static final List<Case> NAMED_SIGNATURES =
      List.of(
          new Case("serving_saved_model_counter", "get_counter"),
          new Case("serving_saved_model_half_plus_two_cpu", "regress_x2_to_y3"),
          new Case("tfjava_saved_model", "regress_x2_to_y3"),
          new Case("tfjava_saved_model_using_python", "add"),
          new Case("tfjs-node_module_with_multiple_signatures", "timestwo"));

  @Test
  void savedModelsConvertAndMatchTensorFlow() throws Exception {
    Path root = Corpus.require("savedmodel");
    List<Case> cases = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(root)) {
      dirs.filter(Files::isDirectory)
          .map(p -> p.getFileName().toString())
          .sorted()
          .forEach(m -> cases.add(new Case(m, null)));
    }
    cases.addAll(NAMED_SIGNATURES);
    List<String> report = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    int matched = 0;
    for (Case c : cases) {
      String label = c.model() + (c.signature() == null ? "" : "[" + c.signature() + "]");
      Path out = tmp.resolve(label.replaceAll("[^A-Za-z0-9_.-]", "_") + ".tflite");
      GraphOptions go = new GraphOptions(null, null, true, false, false, List.of());
      ConversionResult s;
      try {
        s =
            TfliteConverter.convertSavedModel(
                root.resolve(c.model()),
                out,
                go,
                c.signature() == null ? List.of() : List.of(c.signature()),
                false,
                TfliteOptions.defaults());
      } catch (RuntimeException e) {
        if (!(e instanceof TfportException)) {
          failures.add(label + ": crashed: " + e);
          e.printStackTrace();
          continue;
        }
        report.add(String.format("%-55s refused: %s", label, e.getMessage()));
        assertThat(e.getMessage()).doesNotContain("\n");
        assertThat(out).doesNotExist();
        continue;
      }
      String sig = c.signature() == null ? "serving_default" : c.signature();
      String r = check(root.resolve(c.model()), out, sig, label);
      if (TfliteChecks.tally(failures, label, r)) {
        matched++;
      }
      report.add(String.format("%-55s %s; %s", label, r, s.detail()));
    }
    TfliteChecks.finish(
        "TFLite SavedModel corpus (" + cases.size() + " cases, " + matched + " matched)",
        new TreeSet<>(report),
        failures,
        matched,
        10);
  }

  /** Runs the converted file and TF on the same random inputs; "matched ..." or "FAIL ...". */
  static String check(Path savedModel, Path tflite, String sig, String label) {
    TfliteModel m = TfliteReader.read(tflite);
    String rejected = TfliteChecks.rejected(tflite);
    if (rejected != null) {
      return rejected;
    }
    TfliteSignatureDef sd = m.signatureDefs().get(0);
    var sub = m.mainSubgraph();
    Random rnd = new Random(label.hashCode());
    Map<String, TensorFlowOracle.Feed> feeds = new LinkedHashMap<>();
    List<TfliteOracle.Tensor> ins = new ArrayList<>();
    for (int pos = 0; pos < sub.inputs().size(); pos++) {
      int t = sub.inputs().get(pos);
      String key = null;
      for (var tm : sd.inputs()) {
        if (tm.tensorIndex() == t) {
          key = tm.name();
        }
      }
      var tensor = sub.tensors().get(t);
      int[] shape = TfliteChecks.concreteShape(tensor);
      long[] lshape = Arrays.stream(shape).asLongStream().toArray();
      int n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
      float[] v = new float[n];
      switch (tensor.type()) {
        case FLOAT32 -> {
          for (int i = 0; i < n; i++) {
            v[i] = rnd.nextFloat() * 2 - 1;
          }
          ins.add(TfliteOracle.Tensor.f32(shape, v));
          feeds.put(key, new TensorFlowOracle.Feed(TfjsOracle.Input.f32(key, lshape, v), 1));
        }
        case INT32 -> {
          int[] iv = new int[n];
          for (int i = 0; i < n; i++) {
            iv[i] = rnd.nextInt(21) - 10;
            v[i] = iv[i];
          }
          ins.add(TfliteOracle.Tensor.i32(shape, iv));
          feeds.put(key, new TensorFlowOracle.Feed(TfjsOracle.Input.f32(key, lshape, v), 3));
        }
        case INT64 -> {
          long[] iv = new long[n];
          for (int i = 0; i < n; i++) {
            iv[i] = rnd.nextInt(21) - 10;
            v[i] = iv[i];
          }
          ins.add(TfliteOracle.Tensor.i64(shape, iv));
          feeds.put(key, new TensorFlowOracle.Feed(TfjsOracle.Input.f32(key, lshape, v), 9));
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
          Map<String, float[]> tf;
          try {
            tf = TensorFlowOracle.runSavedModelAsIs(savedModel, "serve", sig, feeds);
          } catch (RuntimeException e) {
            // Old TF1 files whose signature TF Java refuses to load (half_plus_three declares float
            // for a string).
            return "unchecked: TF Java cannot run the signature ("
                + e.getMessage().lines().findFirst().orElse("")
                + ")";
          }
          StringBuilder worst = new StringBuilder("matched TF:");
          for (var tm : sd.outputs()) {
            int pos = sub.outputs().indexOf(tm.tensorIndex());
            Comparison cmp = Comparison.of(tf.get(tm.name()), outs.get(pos).floats(), ATOL, RTOL);
            worst.append(String.format(" %s max|d|=%.2g", tm.name(), cmp.maxAbs()));
            if (!cmp.ok()) {
              return "FAIL output " + tm.name() + ": " + cmp;
            }
          }
          return worst.toString();
        });
  }
}
