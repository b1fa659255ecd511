package org.tfport.convert.keras;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.core.ProgressListener;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.formats.savedmodel.SavedModelReader;
import org.tfport.formats.savedmodel.SignatureInfo;
import org.tfport.formats.savedmodel.TensorInfo;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TensorFlowOracle.Feed;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfjsOracle.Input;
import org.tfport.testkit.TfjsOracle.Job;
import org.tfport.testkit.TfjsOracle.Result;

/**
 * {@code keras_saved_model → tfjs_layers_model}: every Keras SavedModel in the corpus converts or
 * is refused by name (subclassed models have no config for a layers model), and each converted
 * layers model, run in TF.js 4.22, gives what the SavedModel's serving signature gives in
 * TensorFlow 2.18.
 */
@OracleTest
class KerasSavedModelCorpusTest {
  private static final double ATOL = 1e-5;
  private static final double RTOL = 1e-4;

  @Test
  void keraSavedModelsConvertAndMatchTensorFlow(@TempDir Path tmp) throws IOException {
    Path root = Corpus.require("keras_savedmodel");
    List<Path> dirs;
    try (Stream<Path> s = Files.walk(root)) {
      dirs =
          s.filter(p -> p.getFileName().toString().equals("saved_model.pb"))
              .map(Path::getParent)
              .sorted()
              .toList();
    }
    assertThat(dirs).hasSizeGreaterThanOrEqualTo(6);
    Map<String, String> refused = new TreeMap<>();
    List<String> compared = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    List<String> loadedOnly = new ArrayList<>();
    for (int i = 0; i < dirs.size(); i++) {
      Path dir = dirs.get(i);
      Path out = tmp.resolve("m" + i);
      String name = root.relativize(dir).toString();
      try {
        KerasToTfjs.convertSavedModel(
            dir, out, TfjsOutputOptions.defaults(), ProgressListener.NONE);
      } catch (UnsupportedModelException e) {
        assertThat(e.getMessage()).startsWith(dir.toString());
        assertThat(Files.exists(out)).as("nothing written for refused " + name).isFalse();
        refused.put(name, e.getMessage());
        continue;
      }
      SignatureInfo sig = SavedModelReader.signatures(dir, Set.of("serve")).get("serving_default");
      if (sig == null
          || sig.inputs().size() != 1
          || sig.inputs().values().iterator().next().dtype() != 1) {
        // The TFX model's serving signature parses tf.Example: TensorFlow cannot run the Keras
        // call alone, so the layers model is only loaded.
        Result loaded = TfjsOracle.run(Job.load("layers", out.resolve("model.json")));
        if (!loaded.ok()) {
          failures.add(name + ": TF.js could not load the layers model: " + loaded.error());
        }
        loadedOnly.add(name);
        continue;
      }
      Map.Entry<String, TensorInfo> in = sig.inputs().entrySet().iterator().next();
      long[] shape = in.getValue().shape().dims().clone();
      for (int d = 0; d < shape.length; d++) {
        shape[d] = shape[d] > 0 ? shape[d] : (d == 0 ? 3 : 4);
      }
      Input x = TensorFlowOracle.random(null, shape, 1, new Random(7 + i));
      Map<String, Feed> feeds = new LinkedHashMap<>();
      feeds.put(in.getKey(), new Feed(x, 1));
      Map<String, float[]> tf =
          TensorFlowOracle.runSavedModel(dir, "serve", "serving_default", feeds);
      Result js = TfjsOracle.run(Job.layers(out.resolve("model.json"), x));
      if (!js.ok()) {
        failures.add(name + ": TF.js could not run the layers model: " + js.error());
        continue;
      }
      assertThat(tf).as(name + " outputs").hasSize(1);
      Comparison c = Comparison.of(tf.values().iterator().next(), js.output(0).data(), ATOL, RTOL);
      System.out.println("keras_saved_model " + name + ": TF.js vs TF " + c);
      if (!c.ok()) {
        failures.add(name + ": " + c);
      }
      compared.add(name);
    }
    System.out.println(
        "keras_saved_model: "
            + dirs.size()
            + " SavedModels, "
            + compared.size()
            + " converted and matched TensorFlow, "
            + loadedOnly.size()
            + " converted and loaded"
            + " in TF.js only "
            + loadedOnly
            + ", "
            + refused.size()
            + " refused: "
            + refused);
    assertThat(failures).isEmpty();
    assertThat(compared).contains("scisharp_simple_dense", "scisharp_lstm");
    assertThat(refused.get("scisharp_custom_transformer")).contains("Transformer");
    assertThat(refused.get("scisharp_conv1d_autoencoder_tf24"))
        .contains("subclassed", "a layers model needs the config");
    assertThat(refused.get("tfjava_subclassed_multisig_tf24/model"))
        .contains("subclassed", "a layers model needs the config");
    assertThat(refused.get("tfx_taxi_keras_tf23")).contains("TransformFeaturesLayer");
  }

  @Test
  void aSavedModelWithoutKerasMetadataIsRefusedByName(@TempDir Path tmp) {
    Path plain = Corpus.require("keras_savedmodel").getParent().resolve("savedmodel");
    Path dir;
    try (Stream<Path> s = Files.walk(plain)) {
      dir =
          s.filter(p -> p.getFileName().toString().equals("saved_model.pb"))
              .map(Path::getParent)
              .filter(p -> !Files.exists(p.resolve("keras_metadata.pb")))
              .sorted()
              .findFirst()
              .orElse(null);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(dir != null, "no plain SavedModel in the corpus");
    Path out = tmp.resolve("out");
    Path d = dir;
    assertThatThrownBy(
            () ->
                KerasToTfjs.convertSavedModel(
                    d, out, TfjsOutputOptions.defaults(), ProgressListener.NONE))
        .isInstanceOf(org.tfport.core.TfportException.class)
        .hasMessageStartingWith(dir.toString());
    assertThat(Files.exists(out)).isFalse();
  }
}
