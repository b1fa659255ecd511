package org.tfport.formats.fuzz;

import static org.tfport.formats.fuzz.FuzzFiles.check;
import static org.tfport.formats.fuzz.FuzzFiles.expectRefusalOrSuccess;
import static org.tfport.formats.fuzz.FuzzFiles.freshDir;
import static org.tfport.formats.fuzz.FuzzFiles.write;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import org.tfport.formats.graphdef.GraphDefReader;
import org.tfport.formats.keras.KerasLayerWeights;
import org.tfport.formats.keras.KerasModel;
import org.tfport.formats.keras.KerasWeight;
import org.tfport.formats.mlir.MlirBytecode;
import org.tfport.formats.npy.Npy;
import org.tfport.formats.savedmodel.SavedModelReader;
import org.tfport.formats.savedmodel.TensorBundle;
import org.tfport.formats.tfjs.ModelJsonParser;
import org.tfport.formats.tfjs.TfjsReader;
import org.tfport.formats.tflite.TfliteReader;

/**
 * One coverage-guided fuzz target per reader of outside bytes in this module (issue 16). Without
 * JAZZER_FUZZ each target runs once per file in {@code FormatsFuzzTestInputs/<method>/} (seeds the
 * project made and every finding, kept as regression inputs); {@code bin/fuzz} runs them as
 * campaigns, seeded from the corpus in place. A reader must answer every input with a result or a
 * {@link org.tfport.core.TfportException}, within 10 s for an input under 1 MB.
 */
class FormatsFuzzTest {
  /** Inputs that pack two files use this byte between them (model.json, then its shard). */
  static final byte SEPARATOR = 0;

  @FuzzTest
  void npy(byte[] data) {
    Path f = write(freshDir("npy"), "a.npy", data);
    check(data, () -> Npy.readTensor(f));
  }

  @FuzzTest
  void kerasH5(byte[] data) {
    Path f = write(freshDir("h5"), "model.h5", data);
    check(data, () -> readKeras(f));
  }

  @FuzzTest
  void kerasZip(byte[] data) {
    Path f = write(freshDir("keras"), "model.keras", data);
    check(data, () -> readKeras(f));
  }

  @FuzzTest
  void modelJson(byte[] data) {
    check(
        data,
        () -> ModelJsonParser.parse(ModelJsonParser.readTree(data, "model.json"), "model.json"));
  }

  /** model.json, a zero byte, then the bytes of the one shard its manifest should name. */
  @FuzzTest
  void tfjsWeights(byte[] data) {
    Path dir = freshDir("tfjs");
    int cut = indexOf(data, SEPARATOR);
    Path json = write(dir, "model.json", Arrays.copyOf(data, cut < 0 ? data.length : cut));
    if (cut >= 0) {
      write(dir, "group1-shard1of1.bin", Arrays.copyOfRange(data, cut + 1, data.length));
    }
    check(data, () -> TfjsReader.read(json).weightsByName());
  }

  @FuzzTest
  void savedModel(byte[] data) {
    Path dir = freshDir("savedmodel");
    write(dir, SavedModelReader.SAVED_MODEL_PB, data);
    check(data, () -> SavedModelReader.signatures(dir, Set.of("serve")));
    check(data, () -> SavedModelReader.read(dir, Set.of("serve"), "serving_default"));
  }

  /**
   * A 4-byte big-endian length, that many bytes of {@code variables.index}, then the bytes of its
   * one data shard: the SSTable (varints, block handles, CRC, Snappy) and the tensors it points at.
   */
  @FuzzTest
  void tensorBundle(byte[] data) {
    Path dir = freshDir("bundle");
    int indexLen =
        data.length < 4
            ? 0
            : Math.min(ByteBuffer.wrap(data).getInt() & 0x7fffffff, data.length - 4);
    int start = Math.min(4, data.length);
    Path prefix = dir.resolve("variables");
    write(dir, "variables.index", Arrays.copyOfRange(data, start, start + indexLen));
    write(
        dir,
        "variables.data-00000-of-00001",
        Arrays.copyOfRange(data, start + indexLen, data.length));
    check(
        data,
        () -> {
          TensorBundle b = TensorBundle.open(prefix);
          for (String key : b.keys()) {
            expectRefusalOrSuccess(() -> b.read(key));
          }
        });
  }

  @FuzzTest
  void graphDef(byte[] data) {
    Path f = write(freshDir("graphdef"), "frozen.pb", data);
    check(data, () -> GraphDefReader.read(f));
  }

  @FuzzTest
  void tflite(byte[] data) {
    check(data, () -> TfliteReader.read(data, "model.tflite"));
  }

  @FuzzTest
  void mlirBytecode(byte[] data) {
    check(data, () -> MlirBytecode.toGenericText(data, "module.mlirbc"));
  }

  /** Opens a Keras file and reads every weight, as a conversion does. */
  private static void readKeras(Path f) throws Exception {
    try (KerasModel m = KerasModel.open(f)) {
      m.modelConfig();
      for (KerasLayerWeights layer : m.layers()) {
        for (KerasWeight w : layer.weights()) {
          w.data().get();
        }
      }
    }
  }

  static int indexOf(byte[] data, byte b) {
    for (int i = 0; i < data.length; i++) {
      if (data[i] == b) {
        return i;
      }
    }
    return -1;
  }
}
