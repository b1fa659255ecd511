package org.tfport.runtime.tflite;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.zip.CRC32C;
import org.tfport.core.TfportException;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteReader;

/**
 * Fuzz target (issue 16) for the runtime's TFLite importer: a FlatBuffer that the reader accepts is
 * imported into the graph IR (operators, options, tensors, quantization and weights checked and
 * mapped), and some of the imported models are compiled into a runnable model (kernels bound,
 * weights packed, memory planned). Compiling costs many times the import and mostly repeats work on
 * weights the fuzzer changed without changing any branch, so while fuzzing only one imported input
 * in {@value #COMPILE_ONE_IN}, picked by a checksum of its bytes (so a replayed input is treated
 * the same), is compiled; without JAZZER_FUZZ (the regression run) every input is. Every input must
 * give a model or a {@link TfportException}, within 10 s; anything else thrown is a finding.
 * Regression inputs: {@code TfliteImportFuzzTestInputs/tfliteImport/}; campaigns: {@code bin/fuzz
 * --target tfliteImport}.
 */
class TfliteImportFuzzTest {
  static final int COMPILE_ONE_IN = 8;

  private static final boolean FUZZING = !System.getenv().getOrDefault("JAZZER_FUZZ", "").isBlank();

  @FuzzTest
  void tfliteImport(byte[] data) {
    // Over 10 s counts only if a second, warm run is as slow (class loading, a busy machine).
    if (timed(data) > 10_000_000_000L && data.length < 1 << 20 && timed(data) > 10_000_000_000L) {
      throw new AssertionError("an input of " + data.length + " bytes took over 10 s, twice");
    }
  }

  private static long timed(byte[] data) {
    long start = System.nanoTime();
    TfliteModel model;
    try {
      model = TfliteReader.read(data, "model.tflite");
    } catch (TfportException notTflite) {
      return System.nanoTime() - start; // the reader's own target covers what it refuses
    }
    try {
      TfliteImporter.ImportedModel imported = TfliteImporter.importModel(model, "model.tflite");
      if (compiles(data)) {
        imported.toModel();
      }
    } catch (TfportException expected) {
      // A refusal that names the operator or tensor is the right answer to a damaged model.
    }
    return System.nanoTime() - start;
  }

  static boolean compiles(byte[] data) {
    if (!FUZZING) {
      return true;
    }
    CRC32C crc = new CRC32C();
    crc.update(data);
    return crc.getValue() % COMPILE_ONE_IN == 0;
  }
}
