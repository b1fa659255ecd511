package org.tfport.train;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * AdamW against Keras' update rule computed by hand in double (TF.js 4.22 has no AdamW to compare
 * with): decay first, then the Adam step with the bias corrections folded into the rate.
 */
class OptimizerTest {
  @Test
  void adamWFollowsKerasUpdateRule() {
    double lr = 0.01;
    double b1 = 0.9;
    double b2 = 0.999;
    double eps = 1e-7;
    double decay = 0.004;
    Optimizer o = Optimizer.of("AdamW", lr);
    float[] w = {0.5f, -1.25f, 2f, 0f, 3e-3f};
    float[][] grads = {
      {0.1f, -0.2f, 0f, 1.5f, 1e-4f},
      {-0.3f, 0.05f, 0.7f, 1.5f, -2e-4f},
      {0.2f, 0.2f, -0.4f, 0f, 5e-4f}
    };
    Optimizer.Slots slots = o.slots(w.length);
    double[] ew = new double[w.length];
    double[] m = new double[w.length];
    double[] v = new double[w.length];
    for (int i = 0; i < w.length; i++) {
      ew[i] = w[i];
    }
    for (int t = 1; t <= grads.length; t++) {
      o.step();
      slots.update(w, grads[t - 1]);
      double alpha = lr * Math.sqrt(1 - Math.pow(b2, t)) / (1 - Math.pow(b1, t));
      for (int i = 0; i < w.length; i++) {
        double g = grads[t - 1][i];
        ew[i] -= ew[i] * decay * lr;
        m[i] += (g - m[i]) * (1 - b1);
        v[i] += (g * g - v[i]) * (1 - b2);
        ew[i] -= m[i] * alpha / (Math.sqrt(v[i]) + eps);
      }
      for (int i = 0; i < w.length; i++) {
        assertThat((double) w[i])
            .as("step %d weight %d", t, i)
            .isCloseTo(ew[i], org.assertj.core.data.Offset.offset(1e-7 + 1e-5 * Math.abs(ew[i])));
      }
    }
    assertThat(o.learningRate()).isEqualTo(0.01f);
  }

  @Test
  void adamWDecaysWeightsWithZeroGradient() {
    Optimizer o = Optimizer.of("adamw", 0.1);
    Optimizer.Slots s = o.slots(2);
    float[] w = {2f, -4f};
    for (int t = 0; t < 3; t++) {
      o.step();
      s.update(w, new float[] {0f, 0f});
    }
    double f = Math.pow(1 - 0.1 * 0.004, 3);
    assertThat((double) w[0]).isCloseTo(2 * f, org.assertj.core.data.Offset.offset(1e-6));
    assertThat((double) w[1]).isCloseTo(-4 * f, org.assertj.core.data.Offset.offset(1e-6));
  }
}
