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
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.ConversionCheck;
import org.tfport.convert.ConversionResult;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.core.ProgressListener;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.formats.keras.KerasLayerWeights;
import org.tfport.formats.keras.KerasModel;
import org.tfport.formats.keras.KerasWeight;
import org.tfport.formats.tfjs.TfjsReader;
import org.tfport.runtime.LoadOptions;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.IntegrationTest;

/**
 * Keras → TF.js layers → Keras, over every Keras HDF5 file of the corpus: the {@code .h5} and the
 * {@code .keras} written back hold the TF.js model's weights bit for bit (and, for Keras 2
 * TensorFlow-backend files, the original file's weights under the original names), and both run in
 * tfport's runtime with the same outputs as the TF.js model.
 */
@IntegrationTest
class TfjsToKerasCorpusTest {

  @Test
  void corpusRoundTripIsBitExact(@TempDir Path tmp) throws IOException {
    Path root = Corpus.require("keras_h5");
    List<Path> files;
    try (Stream<Path> s = Files.walk(root)) {
      files =
          s.filter(p -> p.toString().endsWith(".h5") || p.toString().endsWith(".hdf5"))
              .filter(p -> !p.getFileName().toString().endsWith("_inputs_and_outputs.h5"))
              .sorted()
              .toList();
    }
    int tfjsRefused = 0;
    int h5Exact = 0;
    int kerasExact = 0;
    int sameAsOriginal = 0;
    int runtimeCompared = 0;
    Map<String, String> kerasRefused = new TreeMap<>();
    List<String> failures = new ArrayList<>();
    int i = 0;
    for (Path file : files) {
      String label = root.relativize(file).toString();
      Path tfjs = tmp.resolve("m" + i);
      Path h5 = tmp.resolve("m" + i + ".h5");
      Path k3 = tmp.resolve("m" + i + ".keras");
      i++;
      try {
        KerasToTfjs.convert(file, tfjs, TfjsOutputOptions.defaults(), ProgressListener.NONE);
      } catch (TfportException e) {
        tfjsRefused++;
        continue;
      }
      Map<String, Tensor> manifest = TfjsReader.read(tfjs.resolve("model.json")).weightsByName();
      try {
        TfjsToKeras.convertH5(tfjs.resolve("model.json"), h5);
        String diff = diff(manifest, h5);
        if (diff != null) {
          failures.add(label + " .h5: " + diff);
        } else {
          h5Exact++;
        }
        if (sameRawWeights(file, h5)) {
          sameAsOriginal++;
        }
      } catch (TfportException e) {
        failures.add(label + " .h5: " + e.getMessage());
        continue;
      }
      boolean weightsOnly;
      try (KerasModel m = KerasModel.open(file)) {
        weightsOnly = m.weightsOnly();
      }
      if (weightsOnly) {
        continue;
      }
      try {
        TfjsToKeras.convertKeras3(tfjs.resolve("model.json"), k3);
      } catch (TfportException.UnsupportedModelException e) {
        kerasRefused.put(label, e.getMessage().replaceAll("^[^:]*: ", ""));
        continue;
      } catch (TfportException e) {
        failures.add(label + " .keras: " + e.getMessage());
        continue;
      }
      String diff = diff(manifest, k3);
      if (diff != null) {
        failures.add(label + " .keras: " + diff);
        continue;
      }
      kerasExact++;
      for (Path written : List.of(h5, k3)) {
        ConversionCheck.Report r =
            ConversionCheck.run(
                tfjs.resolve("model.json"),
                LoadOptions.defaults(),
                written,
                ConversionCheck.Precision.FLOAT32);
        if (r.compared()) {
          runtimeCompared++;
          if (!r.passed()) {
            failures.add(label + " " + written.getFileName() + " in the runtime: " + r.outputs());
          }
        }
      }
    }
    System.out.printf(
        "keras -> tfjs -> keras over %d corpus files: %d TF.js refuses; .h5 bit-exact %d (%d equal"
            + " to the original file's own weights); .keras bit-exact %d, refused %d %s;"
            + " runtime checks passed %d%n",
        files.size(),
        tfjsRefused,
        h5Exact,
        sameAsOriginal,
        kerasExact,
        kerasRefused.size(),
        kerasRefused,
        runtimeCompared);
    assertThat(failures).isEmpty();
    assertThat(h5Exact).isGreaterThanOrEqualTo(150);
    assertThat(kerasExact).isGreaterThanOrEqualTo(50);
    assertThat(runtimeCompared).isGreaterThanOrEqualTo(50);
  }

  /**
   * A published quantized TF.js layers model (nsfwjs, uint8 weights, no {@code format} member, so
   * the runtime does not run it) comes back dequantized; its config is over what an HDF5 attribute
   * holds here, so .h5 is refused saying what to do instead.
   */
  @Test
  void publishedQuantizedLayersModelIsDequantized(@TempDir Path tmp) {
    Path json = Corpus.require("tfjs/layers/nsfwjs_mobilenet_v2/model.json");
    Map<String, Tensor> manifest = TfjsReader.read(json).weightsByName();
    assertThatThrownBy(() -> TfjsToKeras.convertH5(json, tmp.resolve("m.h5")))
        .hasMessageContaining("convert into ModelFormat.KERAS_KERAS (a .keras file) instead");
    assertThat(tmp.resolve("m.h5")).doesNotExist();
    Path out = tmp.resolve("m.keras");
    ConversionResult r = TfjsToKeras.convertKeras3(json, out);
    assertThat(r.notices()).anyMatch(n -> n.contains("dequantized to float32"));
    assertThat(r.weights()).isEqualTo(manifest.size());
    assertThat(diff(manifest, out)).isNull();
  }

  /**
   * uint8 weights made here come back as the values TF.js dequantizes them to, and run the same.
   */
  @Test
  void uint8LayersModelRunsTheSameAsKeras(@TempDir Path tmp) {
    Path h5 = Corpus.require("keras_h5/dl4j-konduit/examples/activations/ReLU_0_model.h5");
    Path tfjs = tmp.resolve("q");
    KerasToTfjs.convert(
        h5,
        tfjs,
        TfjsOutputOptions.builder().quantizeAll(TfjsOutputOptions.WeightQuantization.UINT8).build(),
        ProgressListener.NONE);
    Path json = tfjs.resolve("model.json");
    Map<String, Tensor> manifest = TfjsReader.read(json).weightsByName();
    for (Path out : List.of(tmp.resolve("q.h5"), tmp.resolve("q.keras"))) {
      ConversionResult r =
          out.toString().endsWith(".h5")
              ? TfjsToKeras.convertH5(json, out)
              : TfjsToKeras.convertKeras3(json, out);
      assertThat(r.notices()).anyMatch(n -> n.contains("2 quantized weights were dequantized"));
      assertThat(diff(manifest, out)).isNull();
      ConversionCheck.Report check =
          ConversionCheck.run(json, LoadOptions.defaults(), out, ConversionCheck.Precision.FLOAT32);
      System.out.println("uint8 ReLU model -> " + out.getFileName() + ": " + check.outputs());
      assertThat(check.compared()).isTrue();
      assertThat(check.outputs()).allMatch(o -> o.maxDiff() == 0);
    }
  }

  /** Null when the Keras file holds exactly the manifest's weights, else what differs. */
  static String diff(Map<String, Tensor> manifest, Path keras) {
    Map<String, Tensor> got;
    try (KerasModel m = KerasModel.open(keras)) {
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

  /** Whether the written file holds the original file's stored weights, name for name. */
  private static boolean sameRawWeights(Path original, Path written) {
    try (KerasModel a = KerasModel.open(original);
        KerasModel b = KerasModel.open(written)) {
      Map<String, Tensor> wa = raw(a);
      Map<String, Tensor> wb = raw(b);
      if (!wa.keySet().equals(wb.keySet())) {
        return false;
      }
      for (String k : wa.keySet()) {
        if (!wa.get(k).bytes().equals(wb.get(k).bytes())
            || !wa.get(k).shape().equals(wb.get(k).shape())) {
          return false;
        }
      }
      return true;
    }
  }

  private static Map<String, Tensor> raw(KerasModel m) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (KerasLayerWeights l : m.layers()) {
      for (KerasWeight w : l.weights()) {
        out.put(l.layerName() + ":" + w.name(), w.data().get());
      }
    }
    return out;
  }
}
