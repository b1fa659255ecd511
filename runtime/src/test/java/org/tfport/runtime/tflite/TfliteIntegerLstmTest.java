package org.tfport.runtime.tflite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.formats.tflite.TfliteBuiltin.UNIDIRECTIONAL_SEQUENCE_LSTM;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.formats.tflite.TfliteOptionsType;
import org.tfport.formats.tflite.TfliteQuantization;
import org.tfport.formats.tflite.TfliteType;
import org.tfport.formats.tflite.TfliteWriter;
import org.tfport.testkit.OracleTest;

/**
 * The integer (8x8_16) UNIDIRECTIONAL_SEQUENCE_LSTM paths the corpus files do not take, on models
 * built here with random weights: layer norm with its quantized intermediate gate scales and a
 * projection with clipping; a CIFG cell with peepholes. Each is run by TFLite 2.18 and by tfport on
 * the same seeded int8 inputs, and must agree code for code.
 */
@OracleTest
class TfliteIntegerLstmTest {
  @TempDir Path tmp;

  private static final int BATCH = 2;
  private static final int STEPS = 3;
  private static final int IN = 4;
  private static final TfliteType I8 = TfliteType.INT8;

  private static TfliteQuantization q(float scale, int zeroPoint) {
    return TfliteQuantization.perTensor(scale, zeroPoint);
  }

  private static int[] random(TinyTflite m, int n, int lo, int hi) {
    int[] v = new int[n];
    for (int i = 0; i < n; i++) {
      v[i] = lo + m.random.nextInt(hi - lo + 1);
    }
    return v;
  }

  /** Builds one LSTM: {@code layerNorm} adds projection too; otherwise CIFG with peepholes. */
  private TfliteCorpusImportTest.Result run(String name, boolean layerNorm) throws Exception {
    int nCell = layerNorm ? 5 : 4;
    int nOut = layerNorm ? 3 : 4;
    TinyTflite m = new TinyTflite();
    int x = m.input("x", I8, new int[] {BATCH, STEPS, IN}, q(0.05f, 3));
    int[] ins = new int[24];
    Arrays.fill(ins, -1);
    ins[0] = x;
    TfliteQuantization biasQ = q(0.001f, 0);
    for (int g = layerNorm ? 0 : 1; g < 4; g++) {
      ins[1 + g] = m.int8("wx" + g, 0.02f, nCell, IN);
      ins[5 + g] = m.int8("wh" + g, 0.02f, nCell, nOut);
      ins[12 + g] =
          m.integers(
              "b" + g, TfliteType.INT32, biasQ, new int[] {nCell}, random(m, nCell, -600, 600));
      if (layerNorm) {
        ins[20 + g] =
            m.integers(
                "ln" + g,
                TfliteType.INT16,
                q(1e-4f, 0),
                new int[] {nCell},
                random(m, nCell, 4000, 16000));
      }
    }
    if (layerNorm) {
      ins[16] = m.int8("proj", 0.03f, nOut, nCell);
      ins[17] =
          m.integers(
              "projb", TfliteType.INT32, biasQ, new int[] {nOut}, random(m, nOut, -300, 300));
    } else {
      TfliteQuantization peepholeQ = q(0.001f, 0);
      int[] shape = {nCell};
      ins[10] = m.integers("pf", TfliteType.INT16, peepholeQ, shape, random(m, nCell, -3000, 3000));
      ins[11] = m.integers("po", TfliteType.INT16, peepholeQ, shape, random(m, nCell, -3000, 3000));
    }
    TfliteQuantization stateQ = q(0.01f, -2);
    ins[18] = m.variable("h", I8, new int[] {BATCH, nOut}, stateQ);
    ins[19] =
        m.variable("c", TfliteType.INT16, new int[] {BATCH, nCell}, q((float) Math.pow(2, -11), 0));
    int[] intermediates = new int[5];
    for (int g = 0; g < 4; g++) {
      intermediates[g] =
          layerNorm
              ? m.tensor("gate" + g, TfliteType.INT16, new int[] {0}, q(4e-4f + g * 1e-4f, 0))
              : m.tensor("gate" + g, TfliteType.FLOAT32, new int[] {0}, null);
    }
    intermediates[4] = m.tensor("hidden", I8, new int[] {0}, q(0.008f, 1));
    int y = m.output("y", I8, new int[] {BATCH, STEPS, nOut}, stateQ);
    m.opWithIntermediates(
        UNIDIRECTIONAL_SEQUENCE_LSTM,
        3,
        TfliteOptionsType.UNIDIRECTIONAL_SEQUENCE_LSTM_OPTIONS,
        Map.of(
            "fused_activation_function",
            4,
            "cell_clip",
            0.9f,
            "proj_clip",
            layerNorm ? 0.5f : 0f,
            "time_major",
            false),
        ins,
        intermediates,
        y);
    Path p = tmp.resolve(name + ".tflite");
    TfliteWriter.write(m.model(), p);
    List<String> failures = new ArrayList<>();
    TfliteCorpusImportTest.Result r = TfliteCorpusImportTest.check(p, name, failures);
    System.out.println(name + ": " + r);
    assertThat(failures).as(name).isEmpty();
    return r;
  }

  @Test
  void layerNormAndProjectionAreBitExact() throws Exception {
    TfliteCorpusImportTest.Result r = run("int8_lstm_layer_norm_projection", true);
    assertThat(r.status()).startsWith("match");
    assertThat(r.worst()).as("codes from TFLite").isZero();
  }

  @Test
  void cifgWithPeepholesIsBitExact() throws Exception {
    TfliteCorpusImportTest.Result r = run("int8_lstm_cifg_peephole", false);
    assertThat(r.status()).startsWith("match");
    assertThat(r.worst()).as("codes from TFLite").isZero();
  }
}
