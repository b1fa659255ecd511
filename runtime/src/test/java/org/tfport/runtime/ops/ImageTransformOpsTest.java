package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.runtime.ops.NnTesting.str;
import static org.tfport.runtime.ops.OpOracle.attrs;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.Value;
import org.tfport.testkit.OracleTest;

/**
 * ImageProjectiveTransformV3 against TensorFlow 2.18: rotations, shears, zooms, translations and
 * perspective terms that reach far outside the image, under every fill mode and both
 * interpolations; float32 within |a−b| ≤ 1e-5 + 1e-5·|b| (the same float32 steps, so in practice
 * exact), uint8 exact.
 */
@OracleTest
class ImageTransformOpsTest {
  private static float[] transform(Random rnd) {
    double angle = rnd.nextDouble() * 2 * Math.PI;
    double zoom = 0.5 + rnd.nextDouble() * 1.5;
    float[] t = new float[8];
    t[0] = (float) (Math.cos(angle) * zoom);
    t[1] = (float) (-Math.sin(angle) * zoom + rnd.nextGaussian() * 0.2);
    t[2] = (float) (rnd.nextGaussian() * 6);
    t[3] = (float) (Math.sin(angle) * zoom);
    t[4] = (float) (Math.cos(angle) * zoom);
    t[5] = (float) (rnd.nextGaussian() * 6);
    if (rnd.nextBoolean()) {
      t[6] = (float) (rnd.nextGaussian() * 0.02);
      t[7] = (float) (rnd.nextGaussian() * 0.02);
    }
    return t;
  }

  @Test
  void matchesTensorFlowUnderEveryFillModeAndInterpolation() {
    Random rnd = new Random(5);
    List<OpOracle.Call> calls = new ArrayList<>();
    List<Value> mine = new ArrayList<>();
    List<DType> types = new ArrayList<>();
    for (String fill : new String[] {"CONSTANT", "REFLECT", "WRAP", "NEAREST"}) {
      for (String interpolation : new String[] {"NEAREST", "BILINEAR"}) {
        for (int k = 0; k < 4; k++) {
          DType t = k == 3 ? DType.UINT8 : DType.FLOAT32;
          int batch = 1 + rnd.nextInt(2);
          int h = 1 + rnd.nextInt(9);
          int w = 1 + rnd.nextInt(9);
          int ch = 1 + rnd.nextInt(3);
          Value images = OpOracle.randomFloats(rnd, batch, h, w, ch);
          if (t == DType.UINT8) {
            byte[] u = new byte[images.size()];
            for (int i = 0; i < u.length; i++) {
              u[i] = (byte) rnd.nextInt(256);
            }
            images = Value.of(DType.UINT8, images.shape(), u);
          }
          int rows = k == 1 ? batch : 1;
          float[] tr = new float[rows * 8];
          for (int r = 0; r < rows; r++) {
            System.arraycopy(transform(rnd), 0, tr, r * 8, 8);
          }
          Map<String, AttrValue> a =
              attrs(
                  "dtype", OpOracle.type(t),
                  "interpolation", str(interpolation),
                  "fill_mode", str(fill));
          Value[] in = {
            images,
            Value.floats(new long[] {rows, 8}, tr),
            Value.ints(new long[] {2}, 1 + rnd.nextInt(10), 1 + rnd.nextInt(10)),
            Value.floats(new long[0], k == 2 ? 0.75f : 3f)
          };
          mine.add(OpOracle.runKernel("ImageProjectiveTransformV3", a, in)[0]);
          calls.add(new OpOracle.Call("ImageProjectiveTransformV3", a, 1, in));
          types.add(t);
        }
      }
    }
    List<List<Value>> tf = OpOracle.runTensorFlow(calls);
    for (int k = 0; k < calls.size(); k++) {
      double tol = types.get(k) == DType.UINT8 ? 0 : 1e-5;
      OpOracle.assertClose(
          "ImageProjectiveTransformV3 case " + k, mine.get(k), tf.get(k).get(0), tol, tol);
    }
    assertThat(calls).hasSize(32);
  }
}
