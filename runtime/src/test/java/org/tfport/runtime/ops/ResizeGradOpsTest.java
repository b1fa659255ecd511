package org.tfport.runtime.ops;

import static org.tfport.runtime.ops.NnTesting.b;
import static org.tfport.runtime.ops.NnTesting.random;

import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.NnTesting.Worst;
import org.tfport.testkit.OracleTest;

/**
 * ResizeBilinearGrad and ResizeNearestNeighborGrad against TensorFlow 2.18 on random gradients, in
 * every corner mode, up- and down-sampling (where several resized pixels add into one source pixel
 * and some source pixels get nothing). Within |a−b| ≤ 1e-6 + 1e-5·|b|: the sums are in float.
 */
@OracleTest
class ResizeGradOpsTest {
  static final Worst WORST = new Worst();

  @AfterAll
  static void report() {
    System.out.print("ResizeGradOpsTest worst differences:\n" + WORST);
  }

  @Test
  void resizeGradientsMatchTensorFlowForEveryCornerMode() {
    Random rnd = new Random(131);
    boolean[][] modes = {{false, false}, {true, false}, {false, true}};
    for (String op : new String[] {"ResizeBilinearGrad", "ResizeNearestNeighborGrad"}) {
      for (boolean[] mode : modes) {
        for (int rep = 0; rep < 8; rep++) {
          DType t = rep % 4 == 3 ? DType.FLOAT64 : DType.FLOAT32;
          int h = 1 + rnd.nextInt(9);
          int w = 1 + rnd.nextInt(9);
          int oh = rep % 2 == 0 ? 1 + rnd.nextInt(3 * h) : 1 + rnd.nextInt(h);
          int ow = rep % 3 == 0 ? 1 + rnd.nextInt(w) : 1 + rnd.nextInt(3 * w);
          long batch = 1 + rnd.nextInt(3);
          long channels = 1 + rnd.nextInt(3);
          Map<String, AttrValue> attrs =
              OpOracle.attrs(
                  "T",
                  OpOracle.type(t),
                  "align_corners",
                  b(mode[0]),
                  "half_pixel_centers",
                  b(mode[1]));
          Value second;
          Value dy;
          if (op.equals("ResizeBilinearGrad")) {
            dy = random(rnd, DType.FLOAT32, batch, oh, ow, channels);
            second = random(rnd, t, batch, h, w, channels);
          } else {
            dy = random(rnd, t, batch, oh, ow, channels);
            second = NnTesting.intVector(h, w);
          }
          String what =
              op + " " + dy + " -> " + h + "x" + w + " align=" + mode[0] + " half=" + mode[1];
          Value mine = OpOracle.runKernel(op, attrs, dy, second)[0];
          Value tf = OpOracle.runTensorFlow(op, attrs, 1, dy, second).get(0);
          WORST.check(op + " " + t.jsName(), what, mine, tf, 1e-6, 1e-5);
        }
      }
    }
  }
}
