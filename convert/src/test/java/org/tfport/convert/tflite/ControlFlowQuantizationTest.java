package org.tfport.convert.tflite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.TfliteQuantizationMode;
import org.tfport.convert.tfjs.BuiltControlFlowTest;
import org.tfport.core.TfportException;
import org.tfport.formats.npy.Npy;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.graph.GraphOptions;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfliteOracle;

/**
 * Full integer quantization of a model with control flow: a SavedModel whose While loop runs {@code
 * h <- tanh(h @ w + x @ u)} three times, followed by an If on the sign of sum(h). The loop and the
 * conditional stay float with their subgraphs (DEQUANTIZE of x·u before, QUANTIZE of the results
 * after, with the calibrated ranges of the WHILE/IF outputs); the rest of the main subgraph is
 * integer.
 *
 * <p>Bound asserted: the loop input x·u differs from float by the int8 weight rounding of u (≤
 * Σ|x_i|·s_u/2 ≤ 4·max|x|·s_u/2) plus its rounding to the activation grid (≤ s_in/2). The float
 * loop carries that error through three tanh steps (tanh is 1-Lipschitz; h @ w grows it by at most
 * w's largest absolute column sum, ≤ 4·0.5 = 2 for the test's weights in [-0.5, 0.5), so by ≤ 1 + 2
 * + 4 = 7 in total), and the result is rounded to the output grid once more: max |float −
 * quantized| ≤ 7·(s_in/2 + 2·max|x|·s_u) + 2·s_out.
 */
@OracleTest
class ControlFlowQuantizationTest {
  static final int SAMPLES = 24;
  @TempDir Path tmp;

  @Test
  void whileAndIfQuantizeToInt8And16x8() throws Exception {
    Path saved = BuiltControlFlowTest.export(tmp.resolve("cf_savedmodel"), true);
    Random rnd = new Random(11);
    Path dir = Files.createDirectories(tmp.resolve("samples"));
    float[] all = new float[SAMPLES * 8];
    for (int s = 0; s < SAMPLES; s++) {
      float[] v = new float[8];
      for (int j = 0; j < 8; j++) {
        v[j] = (float) rnd.nextGaussian();
      }
      System.arraycopy(v, 0, all, s * 8, 8);
      Npy.writeFloat32(dir.resolve("s" + s + ".npy"), new int[] {2, 4}, v);
    }
    GraphOptions go = GraphOptions.defaults();
    Path f32 = tmp.resolve("cf.tflite");
    TfliteConverter.convertSavedModel(saved, f32, go, List.of(), false, TfliteOptions.defaults());
    List<String> report = new ArrayList<>();
    for (TfliteQuantizationMode q :
        List.of(TfliteQuantizationMode.INT8, TfliteQuantizationMode.INT16X8)) {
      Path out = tmp.resolve("cf." + q + ".tflite");
      TfliteConverter.convertSavedModel(
          saved,
          out,
          go,
          List.of(),
          false,
          TfliteOptions.defaults().withFullInteger(q, dir, "float32", "float32"));
      TfliteModel m = TfliteReader.read(out);
      List<String> ops = FullIntegerQuantizationTest.opNames(m);
      assertThat(ops).as(q + " main ops").contains("WHILE", "IF", "QUANTIZE", "DEQUANTIZE");
      assertThat(m.subgraphs()).as(q + " subgraphs kept").hasSize(5);
      // The loop-input grid: the DEQUANTIZEs in front of the WHILE (scale 1 marks an always-zero
      // tensor, exact).
      float inStep = 0;
      float weightStep = 0;
      var sub = m.mainSubgraph();
      for (var op : sub.operators()) {
        String name = m.opcode(op).name();
        if (name.equals("DEQUANTIZE")) {
          float sc = sub.tensors().get(op.inputs().get(0)).quantization().scale().get(0);
          inStep = Math.max(inStep, sc == 1f ? 0 : sc);
        } else if (name.equals("FULLY_CONNECTED") || name.equals("BATCH_MATMUL")) {
          for (float sc : sub.tensors().get(op.inputs().get(1)).quantization().scale()) {
            weightStep = Math.max(weightStep, sc);
          }
        }
      }
      double maxX = 0;
      for (float v : all) {
        maxX = Math.max(maxX, Math.abs(v));
      }
      float[] steps = FullIntegerQuantizationTest.outputScales(m);
      double bound0 = 7 * (inStep / 2 + 2 * maxX * weightStep) + 2 * steps[0];
      double err0 = 0;
      double err1 = 0;
      int compared = 0;
      // One sample (2 rows) per run: the If predicate sums h over the whole batch, so each sample
      // picks a branch.
      for (int sIdx = 0; sIdx < SAMPLES; sIdx++) {
        float[] v = java.util.Arrays.copyOfRange(all, sIdx * 8, sIdx * 8 + 8);
        List<TfliteOracle.Tensor> one = List.of(TfliteOracle.Tensor.f32(new int[] {2, 4}, v));
        List<TfliteOracle.Tensor> r = TfliteOracle.run(f32, one);
        List<TfliteOracle.Tensor> got = TfliteOracle.run(out, one);
        err0 =
            Math.max(
                err0, FullIntegerQuantizationTest.maxAbs(r.get(0).floats(), got.get(0).floats()));
        // y is discontinuous where sum(h) crosses 0: compare it only when the branch is certainly
        // the same,
        // |Σh| larger than the summed error bound of h (8 elements).
        double sum = 0;
        for (float x : r.get(0).floats()) {
          sum += x;
        }
        if (Math.abs(sum) > 8 * bound0) {
          err1 =
              Math.max(
                  err1, FullIntegerQuantizationTest.maxAbs(r.get(1).floats(), got.get(1).floats()));
          compared++;
        }
      }
      // y = relu(h @ w) (|w| entries < 0.5: error ≤ 4·0.5·err_h) or 2h − 1 (error 2·err_h), plus
      // its own rounding.
      double bound1 = 2 * bound0 + 2 * steps[1];
      report.add(
          String.format(
              "%s h max|f-q| %.4g vs bound %.4g (2·scale %.4g, s_in %.3g, s_u %.3g); y max|f-q|"
                  + " %.4g vs bound %.4g (2·scale %.4g) on %d/%d samples with a clear branch",
              q,
              err0,
              bound0,
              2 * steps[0],
              inStep,
              weightStep,
              err1,
              bound1,
              2 * steps[1],
              compared,
              SAMPLES));
      assertThat(err0).as(q + " h").isLessThanOrEqualTo(bound0);
      assertThat(err1).as(q + " y").isLessThanOrEqualTo(bound1);
      assertThat(compared).as(q + " samples with a clear branch").isPositive();
      // Integer-only: WHILE/IF have no integer kernel here, so the conversion is refused, naming
      // them.
      Path only = tmp.resolve("cf.only." + q + ".tflite");
      TfliteOptions io =
          new TfliteOptions(false, false, true, q, dir, "float32", "float32", null, true);
      assertThatThrownBy(
              () -> TfliteConverter.convertSavedModel(saved, only, go, List.of(), false, io))
          .isInstanceOf(TfportException.class)
          .hasMessageContaining("WHILE")
          .hasMessageNotContaining("\n");
    }
    System.out.println("Control flow, full integer:\n  " + String.join("\n  ", report));
  }
}
