package org.tfport.runtime.tflite;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.tfport.core.TfportException;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteReader;

/**
 * Fuzz target (issue 16) for the runtime's TFLite importer: a FlatBuffer that the reader accepts
 * is imported into the graph IR and compiled into a runnable model. Every input must give a model
 * or a {@link TfportException}, within 10 s; anything else thrown is a finding. Regression inputs:
 * {@code TfliteImportFuzzTestInputs/tfliteImport/}; campaigns: {@code bin/fuzz --target
 * tfliteImport}.
 */
class TfliteImportFuzzTest {
  @FuzzTest
  void tfliteImport(byte[] data) {
    long start = System.nanoTime();
    TfliteModel model;
    try {
      model = TfliteReader.read(data, "model.tflite");
    } catch (TfportException notTflite) {
      return; // the reader's own target covers what it refuses
    }
    try {
      TfliteImporter.importModel(model, "model.tflite").toModel();
    } catch (TfportException expected) {
      // A refusal that names the operator or tensor is the right answer to a damaged model.
    }
    long ms = (System.nanoTime() - start) / 1_000_000;
    if (ms > 10_000 && data.length < 1 << 20) {
      // A JUnit @Timeout would bound the whole campaign too (one invocation), so time is checked here.
      throw new AssertionError("an input of " + data.length + " bytes took " + ms + " ms (limit 10 s)");
    }
  }
}
