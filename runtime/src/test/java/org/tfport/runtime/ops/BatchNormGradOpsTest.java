package org.tfport.runtime.ops;

import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.OracleCases.Tol;
import org.tfport.testkit.OracleTest;

/**
 * FusedBatchNormGradV3 (and V1/V2 through the same kernel) against TensorFlow 2.18, training and
 * inference (TensorFlow's CPU kernel: NHWC only), NHWC and NCHW, ranks 4 and 5, on random float32
 * inputs with the batch statistics as reserve spaces. x_backprop, scale_backprop and
 * offset_backprop within |a−b| ≤ 1e-5·(1 + |b|).
 */
@OracleTest
class BatchNormGradOpsTest {
  private static final OracleCases.Worst WORST = new OracleCases.Worst();

  @AfterAll
  static void report() {
    System.out.print("BatchNormGradOpsTest worst |a-b|/max(1,|b|):\n" + WORST.summary());
  }

  @Test
  void fusedBatchNormGradMatchesTensorFlow() {
    Random rnd = new Random(171);
    GradCases cases = new GradCases(WORST);
    long[][] shapes = {{2, 3, 4, 5}, {4, 1, 1, 7}, {1, 6, 5, 3}, {3, 2, 2, 3, 4}};
    for (long[] shape : shapes) {
      for (boolean training : new boolean[] {true, false}) {
        for (boolean first : new boolean[] {false, true}) {
          if (!training && (first || shape.length == 5)) {
            continue; // TensorFlow's CPU kernel takes inference gradients in NHWC only
          }
          String format = shape.length == 5 ? (first ? "NCDHW" : "NDHWC") : first ? "NCHW" : "NHWC";
          int axis = first ? 1 : shape.length - 1;
          int channels = (int) shape[axis];
          Value x = OracleCases.random(rnd, DType.FLOAT32, -3, 5, shape);
          Value dy = OracleCases.random(rnd, DType.FLOAT32, -1, 1, shape);
          Value scale = OracleCases.random(rnd, DType.FLOAT32, 0.5, 2, channels);
          Value[] stats =
              training
                  ? batchStats(x, axis, channels)
                  : new Value[] {
                    OracleCases.random(rnd, DType.FLOAT32, -1, 1, channels),
                    OracleCases.random(rnd, DType.FLOAT32, 0.2, 3, channels)
                  };
          Map<String, AttrValue> a =
              OpOracle.attrs(
                  "T",
                  OpOracle.type(DType.FLOAT32),
                  "U",
                  OpOracle.type(DType.FLOAT32),
                  "epsilon",
                  NnTesting.f(0.001f),
                  "data_format",
                  NnTesting.str(format),
                  "is_training",
                  NnTesting.b(training));
          cases.add(
              "FusedBatchNormGradV3 " + format + " training=" + training + Arrays.toString(shape),
              "FusedBatchNormGradV3",
              a,
              3,
              new Tol(1e-5, 1e-5),
              dy,
              x,
              scale,
              stats[0],
              stats[1],
              Value.zeros(DType.FLOAT32, new long[] {0}));
        }
      }
    }
    cases.check();
  }

  /** The batch mean and biased variance per channel, as the forward op's reserve spaces. */
  private static Value[] batchStats(Value x, int axis, int channels) {
    int inner = 1;
    for (int a = axis + 1; a < x.rank(); a++) {
      inner *= (int) x.dim(a);
    }
    float[] v = x.floats();
    double[] mean = new double[channels];
    double[] var = new double[channels];
    int count = v.length / channels;
    for (int i = 0; i < v.length; i++) {
      mean[(i / inner) % channels] += v[i];
    }
    for (int c = 0; c < channels; c++) {
      mean[c] /= count;
    }
    for (int i = 0; i < v.length; i++) {
      double d = v[i] - mean[(i / inner) % channels];
      var[(i / inner) % channels] += d * d / count;
    }
    long[] s = {channels};
    return new Value[] {
      OracleCases.of(DType.FLOAT32, s, mean), OracleCases.of(DType.FLOAT32, s, var)
    };
  }
}
