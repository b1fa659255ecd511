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
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.ConversionResult;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.core.ProgressListener;
import org.tfport.core.TfportException;
import org.tfport.formats.savedmodel.SavedModelReader;
import org.tfport.formats.savedmodel.SignatureInfo;
import org.tfport.formats.savedmodel.TensorInfo;
import org.tfport.graph.GraphOptions;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;

/**
 * Every SavedModel of the corpus converts or is refused with a one-line reason; every converted
 * signature runs in TF.js 4.22 and matches TensorFlow 2.18 (TF Java) on the same random inputs.
 */
@OracleTest
class SavedModelCorpusTest {
  @TempDir Path tmp;

  /** Signatures other than the default worth converting, and what refusing ones must say. */
  record Case(String model, String signature, String refusal) {}

  static final List<Case> EXTRA =
      List.of(
          new Case("serving_saved_model_counter", "get_counter", null),
          new Case("serving_saved_model_counter", "incr_counter", "AssignAdd"),
          new Case("serving_saved_model_half_plus_two_cpu", "regress_x2_to_y3", null),
          new Case("serving_saved_model_half_plus_two_cpu", "classify_x_to_y", "ParseExample"),
          new Case("serving_saved_model_half_plus_two_tf2_cpu", "regress_x2_to_y3", null),
          new Case(
              "serving_saved_model_half_plus_two_tf2_cpu", "classify_x_to_y", "ParseExampleV2"),
          new Case("tfjava_saved_model", "regress_x2_to_y3", null),
          new Case("tfjava_saved_model_using_python", "add", null),
          new Case("tfjava_saved_model_using_python", "get_const_scalar", null),
          new Case("tfjava_saved_model_using_python", "get_const_vector", null),
          new Case("tfjava_saved_model_using_python", "get_const_matrix", null),
          new Case("tfjava_saved_model_using_python", "get_variable", null),
          new Case("tfjs-node_module_with_multiple_signatures", "timestwo", null));

  /** Default-signature refusals: folders that are not a SavedModel, or have no serving_default. */
  static final Map<String, String> DEFAULT_REFUSALS =
      Map.of(
          "serving_saved_model_counter", "no signature 'serving_default'",
          "tfjava_saved_model_using_python", "no signature 'serving_default'",
          "tf2onnx_regression_checkpoint", "no saved_model.pb");

  record Converted(
      String label,
      Path model,
      Path out,
      String signature,
      Map<String, TensorFlowOracle.Feed> feeds,
      String summary) {}

  @Test
  void everySavedModelConvertsAndMatchesTensorFlow() throws Exception {
    Path root = Corpus.require("savedmodel");
    List<Case> cases = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(root)) {
      dirs.filter(Files::isDirectory)
          .map(p -> p.getFileName().toString())
          .sorted()
          .forEach(m -> cases.add(new Case(m, null, DEFAULT_REFUSALS.get(m))));
    }
    cases.addAll(EXTRA);
    List<String> report = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    List<Converted> converted = new ArrayList<>();
    for (Case c : cases) {
      String label = c.model() + (c.signature() == null ? "" : "[" + c.signature() + "]");
      Path out = tmp.resolve(label.replaceAll("[^A-Za-z0-9_.-]", "_"));
      GraphOptions go = new GraphOptions(c.signature(), null, true, false, false, List.of());
      try {
        ConversionResult s =
            TfGraphToTfjs.convertSavedModel(
                root.resolve(c.model()),
                out,
                go,
                TfjsOutputOptions.defaults(),
                ProgressListener.NONE);
        if (c.refusal() != null) {
          failures.add(label + ": converted, but should be refused with '" + c.refusal() + "'");
          continue;
        }
        String sig = c.signature() == null ? "serving_default" : c.signature();
        SignatureInfo info =
            SavedModelReader.read(root.resolve(c.model()), Set.of("serve"), sig).signature();
        Map<String, TensorFlowOracle.Feed> feeds = new LinkedHashMap<>();
        Random rnd = new Random(label.hashCode());
        var convertedInputs = E2e.modelJson(out).path("signature").path("inputs");
        for (Map.Entry<String, TensorInfo> e : info.inputs().entrySet()) {
          long[] shape = e.getValue().shape().dims();
          if (convertedInputs.has(e.getKey())) {
            // The converted model's placeholder shape: old signatures can misdeclare it.
            var dims = convertedInputs.path(e.getKey()).path("tensorShape").path("dim");
            shape = new long[dims.size()];
            for (int i = 0; i < shape.length; i++) {
              shape[i] = Long.parseLong(dims.get(i).path("size").stringValue());
            }
          }
          for (int i = 0; i < shape.length; i++) {
            shape[i] = shape[i] < 0 ? 2 : shape[i];
          }
          feeds.put(
              e.getKey(),
              new TensorFlowOracle.Feed(
                  TensorFlowOracle.random(e.getKey(), shape, e.getValue().dtype(), rnd),
                  e.getValue().dtype()));
        }
        converted.add(new Converted(label, root.resolve(c.model()), out, sig, feeds, s.detail()));
      } catch (TfportException e) {
        String msg = e.getMessage();
        report.add(String.format("%-60s refused: %s", label, msg));
        assertThat(msg).as(label).doesNotContain("\n");
        if (c.refusal() == null) {
          failures.add(label + ": refused: " + msg);
        } else if (!msg.contains(c.refusal())) {
          failures.add(label + ": refused without naming '" + c.refusal() + "': " + msg);
        }
        assertThat(out).as(label + " wrote nothing").doesNotExist();
      }
    }

    List<TfjsOracle.Job> jobs = new ArrayList<>();
    for (Converted c : converted) {
      var sigInputs = E2e.modelJson(c.out()).path("signature").path("inputs");
      List<TfjsOracle.Input> ins = new ArrayList<>();
      c.feeds()
          .forEach(
              (key, f) -> {
                if (sigInputs.has(key)) {
                  TfjsOracle.Input i = f.input();
                  String name = sigInputs.path(key).path("name").stringValue();
                  ins.add(
                      i.data() != null
                          ? TfjsOracle.Input.f32(name, i.shape(), i.data())
                          : TfjsOracle.Input.i32(name, i.shape(), i.ints()));
                }
              });
      if (ins.isEmpty()) {
        ins.add(E2e.constantFeed(c.out()));
      }
      jobs.add(TfjsOracle.Job.graph(c.out().resolve("model.json"), ins, E2e.outputNames(c.out())));
    }
    List<TfjsOracle.Result> results = TfjsOracle.run(jobs);
    for (int j = 0; j < converted.size(); j++) {
      Converted c = converted.get(j);
      TfjsOracle.Result r = results.get(j);
      if (!r.ok()) {
        failures.add(c.label() + ": TF.js failed: " + r.error());
        continue;
      }
      Map<String, float[]> tf;
      try {
        tf = TensorFlowOracle.runSavedModel(c.model(), "serve", c.signature(), c.feeds());
      } catch (RuntimeException e) {
        failures.add(c.label() + ": TensorFlow failed: " + e);
        continue;
      }
      List<String> keys = E2e.outputKeys(c.out());
      StringBuilder worst = new StringBuilder();
      for (int k = 0; k < keys.size(); k++) {
        Comparison cmp = Comparison.of(tf.get(keys.get(k)), r.output(k).data(), E2e.ATOL, E2e.RTOL);
        worst.append(String.format(" %s max|d|=%.2g", keys.get(k), cmp.maxAbs()));
        if (!cmp.ok()) {
          failures.add(c.label() + " output " + keys.get(k) + ": " + cmp);
        }
      }
      report.add(String.format("%-60s matched TF:%s; %s", c.label(), worst, c.summary()));
    }
    System.out.println(
        "SavedModel corpus ("
            + cases.size()
            + " cases):\n  "
            + String.join("\n  ", new TreeSet<>(report)));
    assertThat(failures).isEmpty();
  }
}
