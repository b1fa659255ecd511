package org.tfport.runtime.tflite;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;

/**
 * The corpus files that use TFLite's recurrent and 3-D builtins (UNIDIRECTIONAL_SEQUENCE_LSTM,
 * int8 SVDF, CONV_3D), each imported, run and compared with TFLite 2.18 as {@link
 * TfliteCorpusImportTest} does (same inputs, same tolerances), on its own so a failure names the
 * builtin's file.
 */
@OracleTest
class TfliteRecurrentCorpusTest {
  @ParameterizedTest
  @ValueSource(
      strings = {
        "tflite-micro/trained_lstm.tflite",
        "tflite-micro/keyword_scrambled.tflite",
        "tflite-micro/keyword_scrambled_8bit.tflite",
        "litert/tflite__conv3d_huge_im2col.bin"
      })
  void matchesTflite(String file) {
    Path p = Corpus.require("tflite/" + file);
    List<String> failures = new ArrayList<>();
    TfliteCorpusImportTest.Result r = TfliteCorpusImportTest.check(p, file, failures);
    System.out.println(file + ": " + r);
    assertThat(failures).isEmpty();
    assertThat(r).isNotNull();
    assertThat(r.status()).startsWith("match");
  }
}
