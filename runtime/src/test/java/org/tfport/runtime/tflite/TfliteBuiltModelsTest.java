package org.tfport.runtime.tflite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.formats.tflite.TfliteBuiltin.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tfport.formats.tflite.TfliteOptionsType;
import org.tfport.formats.tflite.TfliteQuantization;
import org.tfport.formats.tflite.TfliteType;
import org.tfport.formats.tflite.TfliteWriter;
import org.tfport.testkit.OracleTest;

/**
 * Small models built here for the builtins the corpus does not run (CONV_3D and CONV_3D_TRANSPOSE,
 * LSTM with layer norm, projection and clipping, UNIDIRECTIONAL_SEQUENCE_LSTM with peepholes and a
 * projection to another size than the cells, BIDIRECTIONAL_SEQUENCE_LSTM with peepholes and CIFG,
 * the dynamic-range UNIDIRECTIONAL_SEQUENCE_LSTM, float SVDF, and the integer RESIZE_BILINEAR and
 * HARD_SWISH): each written as a {@code .tflite}, run by TFLite 2.18 and by tfport on the same
 * seeded inputs, compared as {@link TfliteCorpusImportTest} compares corpus files (float within
 * 1e-5 + 1e-4·|b|, dynamic-range within 2 % of the output's range, integer outputs within one
 * code).
 */
@OracleTest
class TfliteBuiltModelsTest {
  @TempDir Path tmp;

  private static final TfliteType F = TfliteType.FLOAT32;

  private static Map<String, Object> opts(Object... kv) {
    Map<String, Object> m = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  private String check(String name, TinyTflite m) throws Exception {
    Path p = tmp.resolve(name + ".tflite");
    TfliteWriter.write(m.model(), p);
    List<String> failures = new ArrayList<>();
    TfliteCorpusImportTest.Result r = TfliteCorpusImportTest.check(p, name, failures);
    assertThat(failures).as(name).isEmpty();
    assertThat(r.status()).as(name).startsWith("match");
    return name + ": " + r.kind() + " " + r.status();
  }

  @Test
  void conv3dAndTranspose() throws Exception {
    TinyTflite m = new TinyTflite();
    int x = m.input("x", F, new int[] {1, 4, 5, 6, 2}, null);
    int w = m.floats("w", 0.5f, 2, 3, 3, 2, 3);
    int bias = m.floats("b", 0.5f, 3);
    int y = m.output("y", F, new int[] {1, 2, 5, 3, 3}, null);
    m.op(
        CONV_3D,
        1,
        TfliteOptionsType.CONV_3D_OPTIONS,
        opts(
            "padding",
            0,
            "stride_d",
            2,
            "stride_h",
            1,
            "stride_w",
            2,
            "fused_activation_function",
            1),
        new int[] {x, w, bias},
        y);
    int wd = m.floats("wd", 0.5f, 2, 2, 3, 2, 3);
    int yd = m.output("yd", F, new int[] {1, 3, 3, 4, 3}, null);
    m.op(
        CONV_3D,
        1,
        TfliteOptionsType.CONV_3D_OPTIONS,
        opts(
            "padding",
            1,
            "dilation_d_factor",
            1,
            "dilation_h_factor",
            2,
            "stride_w",
            1,
            "stride_d",
            1,
            "stride_h",
            1),
        new int[] {x, wd, -1},
        yd);
    int shape = m.ints("shape", 1, 8, 5, 12, 4);
    int wt = m.floats("wt", 0.5f, 2, 3, 3, 4, 2);
    int bt = m.floats("bt", 0.5f, 4);
    int z = m.output("z", F, new int[] {1, 8, 5, 12, 4}, null);
    m.op(
        CONV_3D_TRANSPOSE,
        1,
        TfliteOptionsType.CONV_3D_OPTIONS,
        opts("padding", 0, "stride_d", 2, "stride_h", 1, "stride_w", 2),
        new int[] {shape, wt, x, bt},
        z);
    System.out.println(check("conv3d", m));
  }

  /** TFLite's 24 LSTM inputs for one direction; {@code cifg} drops the input gate. */
  private static int[] lstmWeights(
      TinyTflite m,
      String d,
      int nIn,
      int nCell,
      int nOut,
      boolean cifg,
      boolean peephole,
      boolean projection,
      boolean int8) {
    int[] t = new int[18];
    Arrays.fill(t, -1);
    for (int g = 0; g < 4; g++) {
      if (g == 0 && cifg) {
        continue;
      }
      t[1 + g] =
          int8
              ? m.int8(d + "wx" + g, 0.004f, nCell, nIn)
              : m.floats(d + "wx" + g, 0.5f, nCell, nIn);
      t[5 + g] =
          int8
              ? m.int8(d + "wh" + g, 0.004f, nCell, nOut)
              : m.floats(d + "wh" + g, 0.5f, nCell, nOut);
      t[12 + g] = m.floats(d + "b" + g, 0.5f, nCell);
    }
    if (peephole) {
      if (!cifg) {
        t[9] = m.floats(d + "pi", 0.5f, nCell);
      }
      t[10] = m.floats(d + "pf", 0.5f, nCell);
      t[11] = m.floats(d + "po", 0.5f, nCell);
    }
    if (projection) {
      t[16] = m.floats(d + "proj", 0.5f, nOut, nCell);
      t[17] = m.floats(d + "projb", 0.5f, nOut);
    }
    return t;
  }

  @Test
  void lstmWithLayerNormProjectionAndClipping() throws Exception {
    TinyTflite m = new TinyTflite();
    int x = m.input("x", F, new int[] {2, 4}, null);
    int[] w = lstmWeights(m, "", 4, 5, 3, false, true, true, false);
    w[0] = x;
    int[] ins = Arrays.copyOf(w, 24);
    ins[18] = m.variable("h", F, new int[] {2, 3}, null);
    ins[19] = m.variable("c", F, new int[] {2, 5}, null);
    for (int g = 0; g < 4; g++) {
      ins[20 + g] = m.floats("ln" + g, 1.5f, 5);
    }
    int y = m.output("y", F, new int[] {2, 3}, null);
    m.op(
        LSTM,
        1,
        TfliteOptionsType.LSTM_OPTIONS,
        opts("fused_activation_function", 4, "cell_clip", 0.7f, "proj_clip", 0.4f),
        ins,
        y);
    System.out.println(check("lstm", m));
  }

  @Test
  void bidirectionalLstmMerged() throws Exception {
    TinyTflite m = new TinyTflite();
    int x = m.input("x", F, new int[] {3, 2, 4}, null);
    int[] fw = lstmWeights(m, "fw", 4, 5, 5, false, true, false, false);
    int[] bw = lstmWeights(m, "bw", 4, 5, 5, true, false, false, false);
    int[] ins = new int[48];
    Arrays.fill(ins, -1);
    ins[0] = x;
    System.arraycopy(fw, 1, ins, 1, 17);
    System.arraycopy(bw, 1, ins, 18, 17);
    ins[35] = m.variable("fh", F, new int[] {2, 5}, null);
    ins[36] = m.variable("fc", F, new int[] {2, 5}, null);
    ins[37] = m.variable("bh", F, new int[] {2, 5}, null);
    ins[38] = m.variable("bc", F, new int[] {2, 5}, null);
    int y = m.output("y", F, new int[] {3, 2, 10}, null);
    m.op(
        BIDIRECTIONAL_SEQUENCE_LSTM,
        1,
        TfliteOptionsType.BIDIRECTIONAL_SEQUENCE_LSTM_OPTIONS,
        opts("fused_activation_function", 4, "merge_outputs", true, "time_major", true),
        ins,
        y);
    System.out.println(check("bilstm", m));
  }

  /**
   * Forward and backward directions of different sizes (5 cells projected to 3 outputs, 6 cells and
   * outputs), merged or not: TFLite 2.18 rejects the model (its Prepare checks both directions
   * against one size), and tfport refuses it at load, naming the operator and both sizes.
   */
  @Test
  void bidirectionalLstmWithUnequalDirectionsIsRefused() throws Exception {
    for (boolean merge : new boolean[] {true, false}) {
      TinyTflite m = new TinyTflite();
      int x = m.input("x", F, new int[] {2, 3, 4}, null);
      int[] fw = lstmWeights(m, "fw", 4, 5, 3, false, false, true, false);
      int[] bw = lstmWeights(m, "bw", 4, 6, 6, false, true, false, false);
      int[] ins = new int[48];
      Arrays.fill(ins, -1);
      ins[0] = x;
      System.arraycopy(fw, 1, ins, 1, 17);
      System.arraycopy(bw, 1, ins, 18, 17);
      ins[35] = m.variable("fh", F, new int[] {2, 3}, null);
      ins[36] = m.variable("fc", F, new int[] {2, 5}, null);
      ins[37] = m.variable("bh", F, new int[] {2, 6}, null);
      ins[38] = m.variable("bc", F, new int[] {2, 6}, null);
      int[] outs =
          merge
              ? new int[] {m.output("y", F, new int[] {2, 3, 9}, null)}
              : new int[] {
                m.output("yf", F, new int[] {2, 3, 3}, null),
                m.output("yb", F, new int[] {2, 3, 6}, null)
              };
      m.op(
          BIDIRECTIONAL_SEQUENCE_LSTM,
          1,
          TfliteOptionsType.BIDIRECTIONAL_SEQUENCE_LSTM_OPTIONS,
          opts("fused_activation_function", 4, "merge_outputs", merge, "time_major", false),
          ins,
          outs);
      Path p = tmp.resolve("bilstm_unequal_" + merge + ".tflite");
      TfliteWriter.write(m.model(), p);
      assertThat(org.tfport.testkit.TfliteOracle.load(p).accepted()).as("TFLite accepts").isFalse();
      List<String> failures = new ArrayList<>();
      TfliteCorpusImportTest.Result r = TfliteCorpusImportTest.check(p, "bilstm", failures);
      assertThat(failures).isEmpty();
      assertThat(r.status())
          .startsWith("refused")
          .contains("operator 0 BIDIRECTIONAL_SEQUENCE_LSTM")
          .contains("forward direction has 5 cells and 3 outputs, its backward one 6 and 6");
    }
  }

  @Test
  void hybridUnidirectionalLstm() throws Exception {
    TinyTflite m = new TinyTflite();
    int x = m.input("x", F, new int[] {2, 3, 4}, null);
    int[] w = lstmWeights(m, "", 4, 5, 5, false, false, false, true);
    w[0] = x;
    int[] ins = Arrays.copyOf(w, 20);
    ins[18] = m.variable("h", F, new int[] {2, 5}, null);
    ins[19] = m.variable("c", F, new int[] {2, 5}, null);
    int y = m.output("y", F, new int[] {2, 3, 5}, null);
    m.op(
        UNIDIRECTIONAL_SEQUENCE_LSTM,
        2,
        TfliteOptionsType.UNIDIRECTIONAL_SEQUENCE_LSTM_OPTIONS,
        opts("fused_activation_function", 4, "time_major", false),
        ins,
        y);
    System.out.println(check("hybrid_lstm", m));
  }

  /**
   * Peepholes with a projection, so the output (and the recurrent weights' width) has another size
   * than the cell state the peepholes read, over several time steps so that both states carry: with
   * and without CIFG, with and without a projection bias, output narrower and wider than the cells,
   * batch-major and time-major.
   */
  @ParameterizedTest
  @CsvSource({
    // cells, outputs, cifg, projection bias, time major, cell clip, projection clip
    "7, 3, false, true, false, 0, 0",
    "7, 3, true, false, true, 0.8, 0.3",
    "3, 6, false, false, false, 0, 0.5",
    "5, 2, true, true, false, 0, 0"
  })
  void peepholeLstmWithProjection(
      int nCell,
      int nOut,
      boolean cifg,
      boolean projectionBias,
      boolean timeMajor,
      float cellClip,
      float projClip)
      throws Exception {
    TinyTflite m = new TinyTflite();
    int batch = 2;
    int steps = 6;
    int nIn = 4;
    int[] xShape = timeMajor ? new int[] {steps, batch, nIn} : new int[] {batch, steps, nIn};
    int x = m.input("x", F, xShape, null);
    int[] w = lstmWeights(m, "", nIn, nCell, nOut, cifg, true, true, false);
    w[0] = x;
    if (!projectionBias) {
      w[17] = -1;
    }
    int[] ins = Arrays.copyOf(w, 20);
    ins[18] = m.variable("h", F, new int[] {batch, nOut}, null);
    ins[19] = m.variable("c", F, new int[] {batch, nCell}, null);
    int[] yShape = timeMajor ? new int[] {steps, batch, nOut} : new int[] {batch, steps, nOut};
    int y = m.output("y", F, yShape, null);
    m.op(
        UNIDIRECTIONAL_SEQUENCE_LSTM,
        1,
        TfliteOptionsType.UNIDIRECTIONAL_SEQUENCE_LSTM_OPTIONS,
        opts(
            "fused_activation_function",
            4,
            "cell_clip",
            cellClip,
            "proj_clip",
            projClip,
            "time_major",
            timeMajor),
        ins,
        y);
    System.out.println(
        check(
            String.format(
                "peephole_lstm_c%d_o%d_%s%s%s",
                nCell,
                nOut,
                cifg ? "cifg_" : "",
                projectionBias ? "pbias_" : "",
                timeMajor ? "time_major" : "batch_major"),
            m));
  }

  @Test
  void floatSvdf() throws Exception {
    TinyTflite m = new TinyTflite();
    int x = m.input("x", F, new int[] {2, 6}, null);
    int wf = m.floats("wf", 0.5f, 8, 6);
    int wt = m.floats("wt", 0.5f, 8, 5);
    int b = m.floats("b", 0.5f, 4);
    int state = m.variable("state", F, new int[] {2, 40}, null);
    int y = m.output("y", F, new int[] {2, 4}, null);
    m.op(
        SVDF,
        1,
        TfliteOptionsType.SVDF_OPTIONS,
        opts("rank", 2, "fused_activation_function", 1),
        new int[] {x, wf, wt, b, state},
        y);
    System.out.println(check("svdf", m));
  }

  @Test
  void integerResizeBilinearAndHardSwish() throws Exception {
    List<String> lines = new ArrayList<>();
    for (TfliteType t : List.of(TfliteType.INT8, TfliteType.UINT8)) {
      int zp = t == TfliteType.INT8 ? 3 : 130;
      for (String mode : List.of("none", "align_corners", "half_pixel_centers")) {
        TinyTflite m = new TinyTflite();
        TfliteQuantization q = TfliteQuantization.perTensor(0.1f, zp);
        int x = m.input("x", t, new int[] {1, 3, 4, 2}, q);
        int size = m.ints("size", 5, 7);
        int y = m.output("y", t, new int[] {1, 5, 7, 2}, q);
        m.op(
            RESIZE_BILINEAR,
            3,
            TfliteOptionsType.RESIZE_BILINEAR_OPTIONS,
            mode.equals("none") ? opts() : opts(mode, true),
            new int[] {x, size},
            y);
        lines.add(check("resize_" + t + "_" + mode, m));
      }
      TinyTflite m = new TinyTflite();
      int x =
          m.input(
              "x",
              t,
              new int[] {1, 64},
              TfliteQuantization.perTensor(0.05f, t == TfliteType.INT8 ? -10 : 118));
      int y =
          m.output(
              "y",
              t,
              new int[] {1, 64},
              TfliteQuantization.perTensor(0.03f, t == TfliteType.INT8 ? -100 : 28));
      m.op(HARD_SWISH, 1, null, null, new int[] {x}, y);
      lines.add(check("hard_swish_" + t, m));
    }
    System.out.println(String.join("\n", lines));
  }
}
