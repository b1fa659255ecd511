package org.tfport.convert.keras;

import static org.assertj.core.api.Assertions.assertThat;

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
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.formats.keras.KerasModel;
import org.tfport.formats.savedmodel.SavedModelReader;
import org.tfport.formats.savedmodel.SignatureInfo;
import org.tfport.formats.savedmodel.TensorBundle;
import org.tfport.formats.savedmodel.TensorInfo;
import org.tfport.formats.tfjs.TfjsReader;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;

/**
 * TF.js layers models (the corpus' own, and every corpus Keras HDF5 file converted to one) as Keras
 * SavedModels: {@code serving_default} in TensorFlow 2.18 (TF Java's SavedModelBundle, restoring
 * the variables through the saver) gives tfport's runtime outputs on the layers model within 1e-5 +
 * 1e-4·|b|, and tfport's Keras SavedModel reader reads the folder back as a layers model with the
 * manifest's weights bit for bit (through keras_metadata.pb and the checkpoint's object graph).
 */
@OracleTest
class TfjsToKerasSavedModelCorpusTest {
  @TempDir Path tmp;

  @Test
  void layersModelsServeInTensorFlow() throws Exception {
    List<Path> models = new ArrayList<>();
    Path layersRoot = Corpus.require("tfjs/layers");
    try (Stream<Path> s = Files.walk(layersRoot)) {
      s.filter(p -> p.toString().endsWith(".json")).sorted().forEach(models::add);
    }
    Path h5Root = Corpus.require("keras_h5");
    List<Path> h5;
    try (Stream<Path> s = Files.walk(h5Root)) {
      h5 =
          s.filter(p -> p.toString().endsWith(".h5") || p.toString().endsWith(".hdf5"))
              .filter(p -> !p.getFileName().toString().endsWith("_inputs_and_outputs.h5"))
              .sorted()
              .toList();
    }
    int k = 0;
    for (Path f : h5) {
      Path out = tmp.resolve("layers" + k++);
      try {
        KerasToTfjs.convert(f, out, TfjsOutputOptions.defaults(), ProgressListener.NONE);
        models.add(out.resolve("model.json"));
      } catch (TfportException e) {
        // not a layers model TF.js can hold: not a case here
      }
    }
    int matched = 0;
    int exact = 0;
    int skipped = 0;
    Map<String, String> refused = new TreeMap<>();
    List<String> failures = new ArrayList<>();
    int i = 0;
    for (Path mj : models) {
      String label =
          mj.startsWith(tmp) ? h5Label(mj, h5, h5Root) : layersRoot.relativize(mj).toString();
      Path sm = tmp.resolve("sm" + i++);
      try {
        TfjsToKerasSavedModel.convert(mj, sm);
      } catch (TfportException e) {
        assertThat(e.getMessage()).doesNotContain("\n");
        assertThat(sm).doesNotExist();
        refused.put(label, e.getMessage().replaceAll("^[^:]*: ", ""));
        continue;
      }
      try {
        String r = check(label, mj, sm);
        if (r == SKIP) {
          skipped++;
        } else if (r != null) {
          failures.add(label + ": " + r);
        } else {
          matched++;
        }
        Map<String, Tensor> manifest = TfjsReader.read(mj).weightsByName();
        String diff = diff(manifest, sm);
        if (diff != null) {
          failures.add(label + " read back: " + diff);
        } else {
          exact++;
        }
      } catch (RuntimeException e) {
        failures.add(label + ": " + e);
      }
    }
    String summary =
        String.format(
            "layers -> keras_saved_model over %d layers models: %d match in TensorFlow, %d read"
                + " back bit-exact, %d refused, %d not run by tfport's runtime",
            models.size(), matched, exact, refused.size(), skipped);
    System.out.println(summary);
    refused.forEach((m, why) -> System.out.println("  refused " + m + ": " + why));
    failures.forEach(f -> System.out.println("  FAIL " + f));
    assertThat(failures).as(summary).isEmpty();
    assertThat(matched).as(summary).isGreaterThanOrEqualTo(190);
    assertThat(exact).as(summary).isEqualTo(matched + skipped);
  }

  /** Where the weights tfport's Keras SavedModel reader reads differ from the manifest's. */
  private static String diff(Map<String, Tensor> manifest, Path sm) {
    Map<String, Tensor> got;
    try (KerasModel m = KerasModel.openSavedModel(sm)) {
      got = KerasToTfjs.weightsByName(m);
    }
    if (!got.keySet().equals(manifest.keySet())) {
      return "names " + got.keySet() + " != " + manifest.keySet();
    }
    for (Map.Entry<String, Tensor> e : manifest.entrySet()) {
      Tensor a = e.getValue();
      Tensor b = got.get(e.getKey());
      if (a.dtype() != b.dtype() || !a.shape().equals(b.shape()) || !a.bytes().equals(b.bytes())) {
        return e.getKey() + ": " + a + " != " + b;
      }
    }
    return null;
  }

  private static String h5Label(Path mj, List<Path> h5, Path root) {
    String dir = mj.getParent().getFileName().toString();
    int idx = Integer.parseInt(dir.substring("layers".length()));
    return root.relativize(h5.get(idx)).toString();
  }

  private static final String SKIP = "skipped";

  /** Null when every output matches, {@link #SKIP}, else what differs. */
  private static String check(String label, Path mj, Path sm) throws Exception {
    SignatureInfo sig = SavedModelReader.signatures(sm, Set.of("serve")).get("serving_default");
    Random rnd = new Random(label.hashCode());
    Map<String, TensorFlowOracle.Feed> feeds = new LinkedHashMap<>();
    Map<String, org.tfport.core.Tensor> ours = new LinkedHashMap<>();
    for (Map.Entry<String, TensorInfo> e : sig.inputs().entrySet()) {
      long[] shape = e.getValue().shape().dims().clone();
      for (int d = 0; d < shape.length; d++) {
        shape[d] = shape[d] < 0 ? (d == 0 ? 2 : 16) : shape[d];
      }
      TensorFlowOracle.Feed f =
          new TensorFlowOracle.Feed(
              TensorFlowOracle.random(e.getKey(), shape, e.getValue().dtype(), rnd),
              e.getValue().dtype());
      feeds.put(e.getKey(), f);
      try (var t = TensorFlowOracle.tensor(f)) {
        ours.put(e.getKey(), TensorFlowOracle.fromTf(t));
      }
    }
    Map<String, float[]> tf =
        TensorFlowOracle.runSavedModelAsIs(sm, "serve", "serving_default", feeds);
    Map<String, Tensor> want;
    try (Model m = Model.load(mj);
        Session s = m.newSession()) {
      want = s.run(ours);
    } catch (TfportException e) {
      return SKIP; // tfport's runtime cannot run the source: nothing to compare against
    }
    assertThat(
            TensorBundle.open(sm.resolve("variables/variables"))
                .has("_CHECKPOINTABLE_OBJECT_GRAPH"))
        .isTrue();
    for (String key : sig.outputs().keySet()) {
      Tensor w = want.get(key);
      if (w == null || tf.get(key) == null) {
        return "output " + key + " missing (runtime " + want.keySet() + ", TF " + tf.keySet() + ")";
      }
      Comparison c = Comparison.of(w.toFloatArray(), tf.get(key), 1e-5, 1e-4);
      if (!c.ok()) {
        return "output " + key + ": " + c;
      }
    }
    return null;
  }
}
