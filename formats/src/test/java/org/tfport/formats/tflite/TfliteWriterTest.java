package org.tfport.formats.tflite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.formats.tflite.BuiltinOptions.Activation;
import org.tfport.formats.tflite.BuiltinOptions.Padding;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfliteOracle;
import org.tfport.testkit.TfliteOracle.Tensor;

/**
 * Models built from records (as the converter will) load in TFLite and compute what they should.
 */
class TfliteWriterTest {
  @TempDir Path tmp;

  private static TfliteBuffer floats(float... v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    return new TfliteBuffer(b);
  }

  private static TfliteBuffer ints(int... v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asIntBuffer().put(v);
    return new TfliteBuffer(b);
  }

  private static float[] random(Random r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = r.nextFloat() - 0.5f;
    }
    return a;
  }

  /**
   * input [1,4,4,1] -> CONV_2D 2x3x3 SAME relu -> RESHAPE [1,32] -> FULLY_CONNECTED 3 -> SOFTMAX.
   */
  @OracleTest
  @Test
  void smallCnnBuiltFromRecordsRunsInTflite() {
    Random r = new Random(5);
    float[] filter = random(r, 2 * 3 * 3); // OHWI [2,3,3,1]
    float[] bias = {0.1f, -0.2f};
    float[] fc = random(r, 3 * 32); // [3,32]
    float[] fcBias = {0.05f, 0f, -0.05f};
    List<TfliteTensor> t =
        List.of(
            new TfliteTensor("x", TfliteType.FLOAT32, List.of(1, 4, 4, 1), 0, null),
            new TfliteTensor("filter", TfliteType.FLOAT32, List.of(2, 3, 3, 1), 1, null),
            new TfliteTensor("bias", TfliteType.FLOAT32, List.of(2), 2, null),
            new TfliteTensor("conv", TfliteType.FLOAT32, List.of(1, 4, 4, 2), 0, null),
            new TfliteTensor("shape", TfliteType.INT32, List.of(2), 3, null),
            new TfliteTensor("flat", TfliteType.FLOAT32, List.of(1, 32), 0, null),
            new TfliteTensor("fc_w", TfliteType.FLOAT32, List.of(3, 32), 4, null),
            new TfliteTensor("fc_b", TfliteType.FLOAT32, List.of(3), 5, null),
            new TfliteTensor("logits", TfliteType.FLOAT32, List.of(1, 3), 0, null),
            new TfliteTensor("probs", TfliteType.FLOAT32, List.of(1, 3), 0, null));
    List<TfliteOperator> ops =
        List.of(
            new TfliteOperator(
                0,
                List.of(0, 1, 2),
                List.of(3),
                new BuiltinOptions.Conv2D(Padding.SAME, 1, 1, Activation.RELU)),
            new TfliteOperator(1, List.of(3, 4), List.of(5), null),
            new TfliteOperator(
                2,
                List.of(5, 6, 7),
                List.of(8),
                new BuiltinOptions.FullyConnected(Activation.NONE, 0, false, false, 0)),
            new TfliteOperator(3, List.of(8), List.of(9), new BuiltinOptions.Softmax(1f)));
    TfliteModel m =
        new TfliteModel(
                3,
                "tfport test",
                List.of(
                    TfliteOperatorCode.of(TfliteBuiltin.CONV_2D, 1),
                    TfliteOperatorCode.of(TfliteBuiltin.RESHAPE, 1),
                    TfliteOperatorCode.of(TfliteBuiltin.FULLY_CONNECTED, 1),
                    TfliteOperatorCode.of(TfliteBuiltin.SOFTMAX, 1)),
                List.of(new TfliteSubgraph("main", t, List.of(0), List.of(9), ops)),
                List.of(
                    TfliteBuffer.EMPTY,
                    floats(filter),
                    floats(bias),
                    ints(1, 32),
                    floats(fc),
                    floats(fcBias)),
                List.of(),
                List.of(),
                List.of(
                    new TfliteSignatureDef(
                        "serving_default",
                        0,
                        List.of(new TfliteSignatureDef.TensorMap("x", 0)),
                        List.of(new TfliteSignatureDef.TensorMap("probs", 9)))))
            .withComputedMinRuntimeVersion()
            .withConversionMetadata(
                new ConversionMetadata(
                    "tfport", ConversionMetadata.MODEL_TYPE_TF_SAVED_MODEL, List.of()));
    assertThat(m.minRuntimeVersion()).contains("1.5.0");
    Path file = tmp.resolve("cnn.tflite");
    TfliteWriter.write(m, file);
    assertThat(TfliteReader.read(file)).isEqualTo(m);

    TfliteOracle.Load load = TfliteOracle.load(file);
    assertThat(load.accepted()).as(load.error()).isTrue();
    assertThat(load.signatureKeys()).containsExactly("serving_default");
    float[] x = random(r, 16);
    float[] got =
        TfliteOracle.run(file, List.of(Tensor.f32(new int[] {1, 4, 4, 1}, x))).get(0).floats();

    // Reference: the same network in plain Java.
    float[] conv = new float[32];
    for (int y = 0; y < 4; y++) {
      for (int xx = 0; xx < 4; xx++) {
        for (int o = 0; o < 2; o++) {
          float s = bias[o];
          for (int ky = 0; ky < 3; ky++) {
            for (int kx = 0; kx < 3; kx++) {
              int iy = y + ky - 1;
              int ix = xx + kx - 1;
              if (iy >= 0 && iy < 4 && ix >= 0 && ix < 4) {
                s += x[iy * 4 + ix] * filter[(o * 3 + ky) * 3 + kx];
              }
            }
          }
          conv[(y * 4 + xx) * 2 + o] = Math.max(0, s);
        }
      }
    }
    double[] logits = new double[3];
    double max = Double.NEGATIVE_INFINITY;
    for (int u = 0; u < 3; u++) {
      double s = fcBias[u];
      for (int k = 0; k < 32; k++) {
        s += conv[k] * fc[u * 32 + k];
      }
      logits[u] = s;
      max = Math.max(max, s);
    }
    double sum = 0;
    for (int u = 0; u < 3; u++) {
      logits[u] = Math.exp(logits[u] - max);
      sum += logits[u];
    }
    for (int u = 0; u < 3; u++) {
      assertThat((double) got[u])
          .isCloseTo(logits[u] / sum, org.assertj.core.data.Offset.offset(1e-5));
    }
  }

  @Test
  void inconsistentModelsAreRefusedBeforeWriting() {
    TfliteTensor x = new TfliteTensor("x", TfliteType.FLOAT32, List.of(1), 3, null);
    TfliteModel m =
        new TfliteModel(
            3,
            null,
            List.of(),
            List.of(new TfliteSubgraph(null, List.of(x), List.of(0), List.of(0), List.of())),
            List.of(TfliteBuffer.EMPTY),
            List.of(),
            List.of(),
            List.of());
    assertThatThrownBy(() -> TfliteWriter.write(m))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "cannot write the model: subgraph 0, tensor 0: buffer 3 out of range (1 buffers)");
    TfliteModel noSentinel =
        new TfliteModel(
            3,
            null,
            List.of(),
            List.of(),
            List.of(TfliteBuffer.of(new byte[4])),
            List.of(),
            List.of(),
            List.of());
    assertThatThrownBy(() -> TfliteWriter.write(noSentinel))
        .hasMessageContaining("buffers[0] must exist and be empty");
  }
}
