package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.tfport.runtime.ops.NnTesting.b;
import static org.tfport.runtime.ops.NnTesting.f;
import static org.tfport.runtime.ops.NnTesting.random;
import static org.tfport.runtime.ops.NnTesting.str;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.NnTesting.Worst;
import org.tfport.testkit.OracleTest;

/**
 * ResizeBilinear, ResizeNearestNeighbor, CropAndResize and NonMaxSuppressionV2–V5 against
 * TensorFlow 2.18. Nearest neighbour and NMS selections are exact; bilinear values are compared
 * within |a−b| ≤ 1e-6 + 1e-5·|b|.
 */
@OracleTest
class ImageOpsTest {
  static final Worst WORST = new Worst();

  @AfterAll
  static void report() {
    System.out.print("ImageOpsTest worst differences:\n" + WORST);
  }

  private static Value image(Random rnd, DType t, long... shape) {
    if (t == DType.FLOAT32 || t == DType.FLOAT64) {
      return random(rnd, t, shape);
    }
    double[] v = new double[(int) Value.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = rnd.nextInt(256);
    }
    return Reals.write(t, shape, v);
  }

  @Test
  void resizeMatchesTensorFlowForEveryCornerMode() {
    Random rnd = new Random(61);
    boolean[][] modes = {{false, false}, {true, false}, {false, true}};
    DType[] types = {DType.FLOAT32, DType.FLOAT64, DType.UINT8, DType.INT32};
    int k = 0;
    for (String op : new String[] {"ResizeBilinear", "ResizeNearestNeighbor"}) {
      for (boolean[] mode : modes) {
        for (int rep = 0; rep < 8; rep++, k++) {
          DType t = types[k % types.length];
          int h = 1 + rnd.nextInt(9);
          int w = 1 + rnd.nextInt(9);
          // Up- and down-sampling, including to and from a single pixel.
          int oh = rep % 2 == 0 ? 1 + rnd.nextInt(3 * h) : 1 + rnd.nextInt(h);
          int ow = rep % 3 == 0 ? 1 + rnd.nextInt(w) : 1 + rnd.nextInt(3 * w);
          Value x = image(rnd, t, 1 + rnd.nextInt(2), h, w, 1 + rnd.nextInt(3));
          Value size = NnTesting.intVector(oh, ow);
          Map<String, AttrValue> attrs =
              OpOracle.attrs(
                  "T",
                  OpOracle.type(t),
                  "align_corners",
                  b(mode[0]),
                  "half_pixel_centers",
                  b(mode[1]));
          String what =
              op + " " + x + " -> " + oh + "x" + ow + " align=" + mode[0] + " half=" + mode[1];
          Value mine = OpOracle.runKernel(op, attrs, x, size)[0];
          Value tf = OpOracle.runTensorFlow(op, attrs, 1, x, size).get(0);
          if (op.equals("ResizeBilinear")) {
            WORST.check(op, what, mine, tf, 1e-6, 1e-5);
          } else {
            WORST.check(op + " " + t.jsName(), what, mine, tf, 0, 0);
          }
        }
      }
    }
  }

  @Test
  void resizeRejectsAlignedHalfPixelCentres() {
    Value x = random(new Random(62), DType.FLOAT32, 1, 2, 2, 1);
    Map<String, AttrValue> attrs =
        OpOracle.attrs(
            "T",
            OpOracle.type(DType.FLOAT32),
            "align_corners",
            b(true),
            "half_pixel_centers",
            b(true));
    assertThatThrownBy(
            () -> OpOracle.runKernel("ResizeBilinear", attrs, x, NnTesting.intVector(3, 3)))
        .isInstanceOf(KernelException.class)
        .hasMessageContaining("align_corners");
  }

  @Test
  void cropAndResizeMatchesTensorFlow() {
    Random rnd = new Random(63);
    for (int k = 0; k < 16; k++) {
      DType t = k % 4 == 3 ? DType.UINT8 : DType.FLOAT32;
      int batch = 1 + rnd.nextInt(2);
      Value img = image(rnd, t, batch, 1 + rnd.nextInt(8), 1 + rnd.nextInt(8), 1 + rnd.nextInt(3));
      int n = 1 + rnd.nextInt(5);
      float[] boxes = new float[4 * n];
      int[] index = new int[n];
      for (int i = 0; i < n; i++) {
        for (int c = 0; c < 4; c++) {
          // Corners beyond the image (extrapolated) and flipped boxes included.
          boxes[4 * i + c] = rnd.nextFloat() * 1.6f - 0.3f;
        }
        index[i] = rnd.nextInt(batch);
      }
      Value crop = NnTesting.intVector(1 + rnd.nextInt(5), 1 + rnd.nextInt(5));
      Map<String, AttrValue> attrs =
          OpOracle.attrs(
              "T",
              OpOracle.type(t),
              "method",
              str(k % 2 == 0 ? "bilinear" : "nearest"),
              "extrapolation_value",
              f(k % 3 == 0 ? 0f : -0.5f));
      Value[] in = {
        img, Value.floats(new long[] {n, 4}, boxes), Value.ints(new long[] {n}, index), crop
      };
      WORST.check(
          "CropAndResize " + attrs.get("method"),
          img + " " + attrs,
          OpOracle.runKernel("CropAndResize", attrs, in)[0],
          OpOracle.runTensorFlow("CropAndResize", attrs, 1, in).get(0),
          1e-6,
          1e-5);
    }
  }

  /** Random boxes with corners in either order, and scores with some ties. */
  private static Value[] detections(Random rnd, int n) {
    float[] boxes = new float[4 * n];
    float[] scores = new float[n];
    for (int i = 0; i < n; i++) {
      float cy = rnd.nextFloat();
      float cx = rnd.nextFloat();
      float h = 0.05f + rnd.nextFloat() * 0.4f;
      float w = 0.05f + rnd.nextFloat() * 0.4f;
      boolean flip = rnd.nextInt(4) == 0;
      boxes[4 * i] = flip ? cy + h / 2 : cy - h / 2;
      boxes[4 * i + 1] = cx - w / 2;
      boxes[4 * i + 2] = flip ? cy - h / 2 : cy + h / 2;
      boxes[4 * i + 3] = cx + w / 2;
      scores[i] = rnd.nextInt(5) == 0 && i > 0 ? scores[rnd.nextInt(i)] : rnd.nextFloat();
    }
    return new Value[] {
      Value.floats(new long[] {n, 4}, boxes), Value.floats(new long[] {n}, scores)
    };
  }

  private static void compareNms(
      String op, int outputs, Map<String, AttrValue> attrs, Value... in) {
    Value[] mine = OpOracle.runKernel(op, attrs, in);
    List<Value> tf = OpOracle.runTensorFlow(op, attrs, outputs, in);
    String what = op + " " + in[0] + " " + attrs;
    for (int o = 0; o < outputs; o++) {
      WORST.check(op + " output " + o, what + " output " + o, mine[o], tf.get(o), 1e-6, 1e-5);
    }
  }

  @Test
  void nonMaxSuppressionMatchesTensorFlow() {
    Random rnd = new Random(64);
    Map<String, AttrValue> plain =
        OpOracle.attrs(
            "T", OpOracle.type(DType.FLOAT32), "T_threshold", OpOracle.type(DType.FLOAT32));
    for (int k = 0; k < 24; k++) {
      int n = k == 0 ? 0 : 1 + rnd.nextInt(40);
      Value[] d = detections(rnd, n);
      Value max = Value.scalar(rnd.nextInt(n + 5));
      Value iou = Value.scalar(k % 6 == 0 ? 0f : k % 6 == 1 ? 1f : rnd.nextFloat());
      Value threshold = Value.scalar(k % 3 == 0 ? Float.NEGATIVE_INFINITY : rnd.nextFloat() * 0.5f);
      compareNms("NonMaxSuppressionV2", 1, plain, d[0], d[1], max, iou);
      compareNms("NonMaxSuppressionV3", 1, plain, d[0], d[1], max, iou, threshold);
      Map<String, AttrValue> padded = new java.util.LinkedHashMap<>(plain);
      padded.put("pad_to_max_output_size", b(k % 2 == 0));
      compareNms("NonMaxSuppressionV4", 2, padded, d[0], d[1], max, iou, threshold);
      Map<String, AttrValue> v5 =
          OpOracle.attrs(
              "T", OpOracle.type(DType.FLOAT32), "pad_to_max_output_size", b(k % 2 == 1));
      Value sigma = Value.scalar(k % 4 == 0 ? 0f : 0.1f + rnd.nextFloat() * 0.5f);
      compareNms("NonMaxSuppressionV5", 3, v5, d[0], d[1], max, iou, threshold, sigma);
    }
  }

  @Test
  void nonMaxSuppressionKeepsABoxWhoseIouEqualsTheThreshold() {
    // IoU of these two boxes is exactly 0.5: TF suppresses only above the threshold.
    Value boxes = Value.floats(new long[] {3, 4}, 0, 0, 1, 1, 0, 0, 1, 0.5f, 0, 0, 1, 0.25f);
    Value scores = Value.floats(new long[] {3}, 0.9f, 0.8f, 0.8f);
    Map<String, AttrValue> attrs =
        OpOracle.attrs(
            "T", OpOracle.type(DType.FLOAT32), "T_threshold", OpOracle.type(DType.FLOAT32));
    compareNms(
        "NonMaxSuppressionV3",
        1,
        attrs,
        boxes,
        scores,
        Value.scalar(3),
        Value.scalar(0.5f),
        Value.scalar(Float.NEGATIVE_INFINITY));
  }
}
