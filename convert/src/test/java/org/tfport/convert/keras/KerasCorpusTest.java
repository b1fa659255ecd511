package org.tfport.convert.keras;

import static org.assertj.core.api.Assertions.assertThat;

import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.core.ProgressListener;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.formats.keras.KerasModel;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfjsOracle.Input;
import org.tfport.testkit.TfjsOracle.Job;
import org.tfport.testkit.TfjsOracle.Result;
import tools.jackson.databind.JsonNode;

/**
 * Every Keras model in the corpus converts, or is refused naming the layer class and layer; every
 * converted model loads and predicts in real TensorFlow.js 4.22; and where Keras' own predictions
 * are stored beside a model (the DL4J fixtures), TF.js running our output reproduces them.
 */
@OracleTest
class KerasCorpusTest {
  private static final double ATOL = 1e-5;
  private static final double RTOL = 1e-4;

  @Test
  void everyKerasModelConvertsOrIsRefusedByNameAndRunsInTfjs(@TempDir Path tmp) throws IOException {
    Path root = Corpus.require("keras_h5");
    List<Path> files = new ArrayList<>();
    for (String dir : List.of("keras_h5", "keras_v3")) {
      try (Stream<Path> s = Files.walk(Corpus.require(dir))) {
        s.filter(p -> p.toString().matches(".*\\.(h5|hdf5|keras)$"))
            .filter(p -> !p.getFileName().toString().contains("inputs_and_outputs"))
            .sorted()
            .forEach(files::add);
      }
    }
    assertThat(files).hasSizeGreaterThan(200);
    Map<String, Integer> refusedByReason = new TreeMap<>();
    List<Path> converted = new ArrayList<>();
    List<Path> sources = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    int weightsOnly = 0;
    int keras1 = 0;
    int keras1Converted = 0;
    Map<String, String> keras1Refused = new TreeMap<>();
    for (int i = 0; i < files.size(); i++) {
      Path f = files.get(i);
      Path out = tmp.resolve("m" + i);
      boolean isKeras1 = kerasMajor(f) == 1;
      keras1 += isKeras1 ? 1 : 0;
      try {
        KerasToTfjs.convert(f, out, TfjsOutputOptions.defaults(), ProgressListener.NONE);
        keras1Converted += isKeras1 ? 1 : 0;
        JsonNode mj = org.tfport.core.Json.MAPPER.readTree(out.resolve("model.json").toFile());
        if (mj.path("modelTopology").isNull()) {
          weightsOnly++;
        } else {
          converted.add(out);
          sources.add(f);
        }
      } catch (UnsupportedModelException e) {
        assertThat(e.getMessage()).as(f.toString()).startsWith(f.toString() + ": ");
        assertThat(e.getMessage()).as(f.toString()).doesNotContain("\n");
        assertThat(out).as("nothing written for a refused model").doesNotExist();
        String reason =
            e.getMessage().matches(".*cannot load layer class.*\\(layer '.*")
                ? "layer "
                    + e.getMessage().replaceAll(".*cannot load layer class(es)? (\\w+).*", "$2")
                : e.getMessage().replaceAll("^[^:]*: ", "").replaceAll("[;(].*", "");
        refusedByReason.merge(reason, 1, Integer::sum);
        if (isKeras1) {
          keras1Refused.put(
              root.getParent().relativize(f).toString(), e.getMessage().replaceAll("^[^:]*: ", ""));
        }
      } catch (RuntimeException e) {
        failures.add(root.getParent().relativize(f) + ": " + e);
      }
    }
    System.out.printf(
        "keras corpus: %d files, %d converted full models, %d weights-only, refused %s%n",
        files.size(), converted.size(), weightsOnly, refusedByReason);
    System.out.printf(
        "keras 1: %d files, %d converted, refused %s%n", keras1, keras1Converted, keras1Refused);
    assertThat(failures).as("conversion failures").isEmpty();
    assertThat(keras1).isEqualTo(28);
    assertThat(keras1Converted).isGreaterThanOrEqualTo(27);
    assertThat(keras1Refused.values())
        .as("Keras 1 files are refused only for a named layer")
        .allMatch(m -> m.contains("cannot load layer class") || m.startsWith("Keras 1 layer '"));
    assertThat(converted).hasSizeGreaterThanOrEqualTo(191);

    List<Job> loads =
        converted.stream().map(p -> Job.load("layers", p.resolve("model.json"))).toList();
    List<Result> loaded = TfjsOracle.run(loads);
    List<Job> predicts = new ArrayList<>();
    List<String> loadFailures = new ArrayList<>();
    for (int i = 0; i < loaded.size(); i++) {
      Result r = loaded.get(i);
      if (!r.ok()) {
        loadFailures.add(sources.get(i) + ": " + r.error());
        continue;
      }
      predicts.add(
          new Job(
              "layers",
              converted.get(i).resolve("model.json"),
              randomInputs(r.info(), i),
              List.of()));
    }
    List<Result> ran = TfjsOracle.run(predicts);
    List<String> runFailures = new ArrayList<>();
    for (int i = 0; i < ran.size(); i++) {
      Result r = ran.get(i);
      if (!r.ok()) {
        runFailures.add(predicts.get(i).modelJson() + ": " + r.error());
      } else {
        for (var o : r.outputs()) {
          for (float v : o.data()) {
            if (!Float.isFinite(v)) {
              runFailures.add(predicts.get(i).modelJson() + ": non-finite output " + o.name());
              break;
            }
          }
        }
      }
    }
    System.out.printf(
        "tfjs 4.22: %d of %d converted models loaded, %d predicted%n",
        converted.size() - loadFailures.size(), converted.size(), ran.size() - runFailures.size());
    assertThat(loadFailures).as("models tf.loadLayersModel rejected").isEmpty();
    assertThat(runFailures).as("models that failed to predict").isEmpty();
  }

  private static int kerasMajor(Path f) {
    try (KerasModel m = KerasModel.open(f)) {
      return m.kerasMajor();
    } catch (TfportException e) {
      return -1;
    }
  }

  private static List<Input> randomInputs(JsonNode info, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    List<Input> inputs = new ArrayList<>();
    for (JsonNode in : info.path("inputs")) {
      List<Long> dims = new ArrayList<>();
      int k = 0;
      for (JsonNode d : in.path("shape")) {
        long v = d.asLong(-1);
        dims.add(v > 0 ? v : (k == 0 ? 2 : 16));
        k++;
      }
      long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      float[] data = new float[Math.toIntExact(n)];
      for (int i = 0; i < data.length; i++) {
        data[i] = (float) r.nextDouble();
      }
      inputs.add(new Input(in.path("name").asString("input"), shape, data));
    }
    return inputs;
  }

  @Test
  void dl4jFixturesReproduceStoredKerasPredictions(@TempDir Path tmp) throws IOException {
    Path root = Corpus.require("keras_h5");
    List<Path> fixtures;
    try (Stream<Path> s = Files.walk(root)) {
      fixtures =
          s.filter(p -> p.getFileName().toString().endsWith("_inputs_and_outputs.h5"))
              .sorted()
              .toList();
    }
    assertThat(fixtures).hasSizeGreaterThanOrEqualTo(20);
    List<Job> jobs = new ArrayList<>();
    List<float[][]> expected = new ArrayList<>();
    List<String> names = new ArrayList<>();
    Map<String, String> notRun = new TreeMap<>();
    for (Path fx : fixtures) {
      String base = fx.getFileName().toString().replace("_inputs_and_outputs.h5", "");
      Path model = fx.resolveSibling(base + "_model.h5");
      String label = root.relativize(fx.getParent()) + "/" + base;
      if (!Files.exists(model)) {
        notRun.put(label, "no _model.h5 beside it");
        continue;
      }
      Path out = tmp.resolve(base);
      try {
        KerasToTfjs.convert(model, out, TfjsOutputOptions.defaults(), ProgressListener.NONE);
      } catch (TfportException e) {
        notRun.put(label, e.getMessage().replaceAll("^[^:]*: ", ""));
        continue;
      }
      try (HdfFile h5 = new HdfFile(fx)) {
        if (!(h5.getChild("predictions") instanceof Group)) {
          notRun.put(label, "no stored predictions (only training targets)");
          continue;
        }
        List<Input> inputs = new ArrayList<>();
        for (Node n : (Group) h5.getChild("inputs")) {
          Dataset d = (Dataset) n;
          inputs.add(new Input(n.getName(), d.getDimensionsAsLong(), floats(d)));
        }
        if (inputs.size() == 1) {
          // A single input goes by position: Keras 1 named a Sequential's input at run time
          // ('lstm_input_1'), not in the saved config, so TF.js names it the Keras 2 way
          // ('lstm_1_input').
          inputs.set(0, new Input(null, inputs.get(0).shape(), inputs.get(0).data()));
        }
        List<float[]> preds = new ArrayList<>();
        for (Node n : (Group) h5.getChild("predictions")) {
          preds.add(floats((Dataset) n));
        }
        jobs.add(new Job("layers", out.resolve("model.json"), inputs, List.of()));
        expected.add(preds.toArray(float[][]::new));
        names.add(label);
      }
    }
    List<Result> results = TfjsOracle.run(jobs);
    int matched = 0;
    List<String> mismatches = new ArrayList<>();
    for (int i = 0; i < results.size(); i++) {
      Result r = results.get(i);
      if (!r.ok()) {
        mismatches.add(names.get(i) + ": tfjs failed: " + r.error());
        continue;
      }
      boolean ok = r.outputs().size() == expected.get(i).length;
      StringBuilder detail = new StringBuilder();
      for (int k = 0; ok && k < expected.get(i).length; k++) {
        Comparison c = Comparison.of(expected.get(i)[k], r.outputs().get(k).data(), ATOL, RTOL);
        detail.append(c).append(' ');
        ok = c.ok();
      }
      if (ok) {
        matched++;
        System.out.println("match " + names.get(i) + ": " + detail);
      } else {
        mismatches.add(names.get(i) + ": " + detail);
      }
    }
    System.out.printf(
        "dl4j fixtures: %d of %d match Keras within %.0e + %.0e*|b|; not run: %s; mismatches: %s%n",
        matched, fixtures.size(), ATOL, RTOL, notRun, mismatches);
    assertThat(mismatches).isEmpty();
    assertThat(notRun.values())
        .allMatch(
            v ->
                v.contains("Keras 1") || v.contains("cannot load layer") || v.contains("no stored"),
            "only refusals with a stated reason");
    assertThat(matched).isGreaterThanOrEqualTo(16);
    assertThat(names.stream().filter(n -> n.endsWith("keras_1")).toList())
        .as("Keras 1 fixtures run")
        .contains(
            "dl4j/examples/simple_lstm/simple_lstm_tf_keras_1",
            "dl4j/examples/simple_lstm/simple_lstm_th_keras_1");
  }

  private static float[] floats(Dataset d) {
    Object flat = d.getDataFlat();
    if (flat instanceof float[] f) {
      return f;
    }
    double[] dd = (double[]) flat;
    float[] f = new float[dd.length];
    for (int i = 0; i < dd.length; i++) {
      f[i] = (float) dd[i];
    }
    return f;
  }
}
