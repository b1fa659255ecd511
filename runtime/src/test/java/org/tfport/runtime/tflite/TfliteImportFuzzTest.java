package org.tfport.runtime.tflite;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.tfport.core.TfportException;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteReader;

/**
 * Fuzz target (issue 16) for the runtime's TFLite importer: a FlatBuffer that the reader accepts is
 * imported into the graph IR and compiled into a runnable model. Every input must give a model or a
 * {@link TfportException}, within 10 s; anything else thrown is a finding. Regression inputs:
 * {@code TfliteImportFuzzTestInputs/tfliteImport/}; campaigns: {@code bin/fuzz --target
 * tfliteImport}.
 */
class TfliteImportFuzzTest {
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
      TfliteImporter.importModel(model, "model.tflite").toModel();
    } catch (TfportException expected) {
      // A refusal that names the operator or tensor is the right answer to a damaged model.
    }
    return System.nanoTime() - start;
  }
}
