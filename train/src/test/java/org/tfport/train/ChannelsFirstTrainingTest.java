package org.tfport.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;

/**
 * A CNN in channels_first (convolutions, batch normalization over axis 1, max and average pooling,
 * flatten) trains as the same network in channels_last fed the transposed data: Keras keeps the
 * same weights in both (a kernel is [kh, kw, in, out] either way; channels_first Flatten flattens
 * in channels_last order), so the loss of every epoch and the trained weights must agree.
 */
class ChannelsFirstTrainingTest {
  static final int N = 20;

  @TempDir Path dir;

  /** 8x8 → conv 3x3 SAME (4) → BN → max 2x2 → conv 3x3/2 SAME (3) → avg 2x2/1 SAME → dense. */
  static Path cnn(TestModels m, Path dir, String name, String activation) {
    return m.conv("conv", 2, 4, 3, 1, "same", activation)
        .batchNorm("bn", 4)
        .pool("MaxPooling2D", "pool")
        .conv("conv_1", 4, 3, 3, 2, "same", "tanh")
        .pool("AveragePooling2D", "avg", 2, 1, "same")
        .flatten()
        .dense("dense", 12, 3, "softmax")
        .write(dir.resolve(name + ".h5"));
  }

  /** [N, H, W, C] as [N, C, H, W]. */
  static Tensor toChannelsFirst(Tensor x) {
    long[] d = x.shape().dims();
    int n = (int) d[0];
    int h = (int) d[1];
    int w = (int) d[2];
    int c = (int) d[3];
    float[] v = x.toFloatArray();
    float[] out = new float[v.length];
    for (int i = 0; i < n; i++) {
      for (int y = 0; y < h; y++) {
        for (int z = 0; z < w; z++) {
          for (int k = 0; k < c; k++) {
            out[((i * c + k) * h + y) * w + z] = v[((i * h + y) * w + z) * c + k];
          }
        }
      }
    }
    return Tensor.ofFloats(Shape.of(n, c, h, w), out);
  }

  @ParameterizedTest
  @ValueSource(strings = {"sgd", "adam", "rmsprop"})
  void channelsFirstTrainsAsChannelsLastOnTransposedData(String optimizer) {
    Path last = cnn(new TestModels(71, 8, 8, 2), dir, "last", "relu");
    Path first = cnn(new TestModels(71, 2, 8, 8).channelsFirst(), dir, "first", "relu");
    Tensor x = TestModels.uniform(72, N, 8, 8, 2);
    Tensor y = TestModels.oneHot(N, 3, 1);
    Trainer.Settings s =
        Trainer.Settings.of(optimizer, "categorical_crossentropy")
            .withLearningRate(optimizer.equals("sgd") ? 0.1 : 0.01);
    Trainer.FitOptions o = new Trainer.FitOptions(3, 8, false, 0, 0, List.of());
    try (Trainer a = Trainer.open(last, s);
        Trainer b = Trainer.open(first, s)) {
      History ha = a.fit(Map.of("x", x), y, o);
      History hb = b.fit(Map.of("x", toChannelsFirst(x)), y, o);
      for (int e = 0; e < 3; e++) {
        double want = ha.get("loss").get(e);
        assertThat(hb.get("loss").get(e))
            .as("%s epoch %d loss", optimizer, e + 1)
            .isCloseTo(want, org.assertj.core.data.Offset.offset(1e-6 * Math.abs(want)));
      }
      assertThat(ha.get("loss").get(2)).isLessThan(ha.get("loss").get(0));
      Map<String, Tensor> wa = a.weights();
      Map<String, Tensor> wb = b.weights();
      assertThat(wb.keySet()).isEqualTo(wa.keySet());
      for (var e : wa.entrySet()) {
        float[] p = e.getValue().toFloatArray();
        float[] q = wb.get(e.getKey()).toFloatArray();
        assertThat(q).as(e.getKey()).hasSize(p.length);
        for (int k = 0; k < p.length; k++) {
          assertThat((double) q[k])
              .as("%s %s[%d]", optimizer, e.getKey(), k)
              .isCloseTo(p[k], org.assertj.core.data.Offset.offset(1e-6 + 1e-5 * Math.abs(p[k])));
        }
      }
      // The first weights moved: the comparison is of trained networks.
      assertThat(wa.get("conv/kernel").toFloatArray()).isNotEqualTo(p0(last));
    }
  }

  private static float[] p0(Path h5) {
    try (Trainer t = Trainer.open(h5, Trainer.Settings.of("sgd", "mse"))) {
      return t.weights().get("conv/kernel").toFloatArray();
    }
  }
}
