package org.tfport.runtime.tflite;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.formats.tflite.TfliteSubgraph;
import org.tfport.formats.tflite.TfliteWriter;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;

/**
 * The corpus files that use TFLite's recurrent and 3-D builtins: the float and int8
 * UNIDIRECTIONAL_SEQUENCE_LSTM and the int8 SVDF files imported, run and compared with TFLite 2.18
 * as {@link TfliteCorpusImportTest} does (same inputs, same tolerances), each on its own so a
 * failure names the builtin's file; the CONV_3D file imported; the TFLite Micro int8-state SVDF
 * refused by name.
 */
@OracleTest
class TfliteRecurrentCorpusTest {
  @ParameterizedTest
  @ValueSource(
      strings = {
        "tflite-micro/trained_lstm.tflite",
        "tflite-micro/keyword_scrambled.tflite",
        "tflite-micro/trained_lstm_int8.tflite",
        "tflite-micro/micro_speech_lstm.tflite",
        "tflite-micro/dtln_noise_suppression.tflite"
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

  /**
   * The fully integer LSTMs (TFLite's 8x8_16 kernel) are bit-exact: each
   * UNIDIRECTIONAL_SEQUENCE_LSTM output made the model's only output (no signature) and compared
   * code for code with TFLite 2.18 on the same seeded inputs. The whole models differ by at most
   * one step only in the FULLY_CONNECTED after them (TFLite's builtin kernel; the oracle applies no
   * XNNPACK delegate).
   */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "tflite-micro/trained_lstm_int8.tflite",
        "tflite-micro/micro_speech_lstm.tflite",
        "tflite-micro/dtln_noise_suppression.tflite"
      })
  void integerLstmOutputsAreBitExact(String file, @TempDir Path tmp) {
    TfliteModel m = TfliteReader.read(Corpus.require("tflite/" + file));
    TfliteSubgraph main = m.mainSubgraph();
    int checked = 0;
    for (var op : main.operators()) {
      if (!m.opcode(op).name().equals("UNIDIRECTIONAL_SEQUENCE_LSTM")) {
        continue;
      }
      int out = op.outputs().get(0);
      List<TfliteSubgraph> subgraphs = new ArrayList<>(m.subgraphs());
      subgraphs.set(
          0,
          new TfliteSubgraph(
              main.name(), main.tensors(), main.inputs(), List.of(out), main.operators()));
      Path cut = tmp.resolve("lstm_" + out + ".tflite");
      TfliteWriter.write(
          new TfliteModel(
              m.version(),
              m.description(),
              m.operatorCodes(),
              subgraphs,
              m.buffers(),
              m.metadataBuffer(),
              m.metadata(),
              List.of()),
          cut);
      List<String> failures = new ArrayList<>();
      TfliteCorpusImportTest.Result r =
          TfliteCorpusImportTest.check(cut, file + " tensor " + out, failures);
      System.out.println(file + " LSTM output " + out + ": " + r);
      assertThat(failures).isEmpty();
      assertThat(r.kind()).isEqualTo(TfliteRuns.Kind.FULL_INTEGER);
      assertThat(r.status()).startsWith("match");
      assertThat(r.worst()).as("steps from TFLite").isZero();
      checked++;
    }
    assertThat(checked).isPositive();
  }

  /**
   * The corpus's only CONV_3D file, with its 86-million-element input, runs and matches TFLite
   * ({@link TfliteBuiltModelsTest} runs CONV_3D against TFLite on small inputs too).
   */
  @org.junit.jupiter.api.Test
  void conv3dFileMatchesTflite() {
    Path p = Corpus.require("tflite/litert/tflite__conv3d_huge_im2col.bin");
    List<String> failures = new ArrayList<>();
    TfliteCorpusImportTest.Result r = TfliteCorpusImportTest.check(p, "conv3d", failures);
    assertThat(failures).isEmpty();
    assertThat(r.status()).startsWith("match");
  }

  /**
   * The int8-state SVDF of TFLite Micro (time weights and state int8), which TFLite's own kernel
   * does not take (TFLite 2.18 crashes on it), is refused by name at load.
   */
  @org.junit.jupiter.api.Test
  void microOnlySvdfIsRefused() {
    Path p = Corpus.require("tflite/tflite-micro/keyword_scrambled_8bit.tflite");
    List<String> failures = new ArrayList<>();
    TfliteCorpusImportTest.Result r = TfliteCorpusImportTest.check(p, "k8", failures);
    assertThat(r.status())
        .startsWith("refused")
        .contains("operator 1 SVDF")
        .contains("TFLite's integer SVDF takes INT16 for both");
  }
}
