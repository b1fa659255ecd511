package org.tfport.runtime.ops;

import static org.tfport.runtime.ops.NnTesting.b;
import static org.tfport.runtime.ops.NnTesting.f;
import static org.tfport.runtime.ops.NnTesting.i;
import static org.tfport.runtime.ops.NnTesting.random;
import static org.tfport.runtime.ops.NnTesting.str;

import java.util.List;
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
 * BiasAdd/BiasAddV1 (exact), FusedBatchNorm/V2/V3 in inference and training, LRN and L2Loss against
 * TensorFlow 2.18; float tolerance |a−b| ≤ 1e-5 + 1e-4·|b| unless stated.
 */
@OracleTest
class NormalizationOpsTest {
  static final Worst WORST = new Worst();

  @AfterAll
  static void report() {
    System.out.print("NormalizationOpsTest worst differences:\n" + WORST);
  }

  private static Value randomOf(Random rnd, DType t, long... shape) {
    if (t == DType.INT32 || t == DType.INT64) {
      long[] v = new long[(int) Value.elementCount(shape)];
      for (int k = 0; k < v.length; k++) {
        v[k] = rnd.nextInt(2001) - 1000;
      }
      return t == DType.INT64
          ? Value.longs(shape, v)
          : Value.ints(shape, java.util.Arrays.stream(v).mapToInt(x -> (int) x).toArray());
    }
    return random(rnd, t, shape);
  }

  @Test
  void biasAddMatchesTensorFlowExactly() {
    Random rnd = new Random(51);
    DType[] types = {DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64};
    int k = 0;
    for (String op : new String[] {"BiasAdd", "BiasAddV1"}) {
      for (int rank = 2; rank <= 5; rank++) {
        for (String format : new String[] {"NHWC", "NCHW"}) {
          if (op.equals("BiasAddV1") && format.equals("NCHW")) {
            continue;
          }
          DType t = types[k++ % types.length];
          long[] shape = new long[rank];
          for (int a = 0; a < rank; a++) {
            shape[a] = 1 + rnd.nextInt(4);
          }
          int axis = format.equals("NCHW") && rank >= 3 ? 1 : rank - 1;
          Value x = randomOf(rnd, t, shape);
          Value bias = randomOf(rnd, t, shape[axis]);
          Map<String, AttrValue> attrs = OpOracle.attrs("T", OpOracle.type(t));
          if (op.equals("BiasAdd")) {
            attrs.put("data_format", str(format));
          }
          WORST.check(
              op,
              x + " " + format,
              OpOracle.runKernel(op, attrs, x, bias)[0],
              OpOracle.runTensorFlow(op, attrs, 1, x, bias).get(0),
              0,
              0);
        }
      }
    }
  }

  @Test
  void fusedBatchNormMatchesTensorFlow() {
    Random rnd = new Random(52);
    int k = 0;
    for (String op : new String[] {"FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"}) {
      for (boolean training : new boolean[] {false, true}) {
        for (String format : new String[] {"NHWC", "NCHW", "NDHWC"}) {
          for (float factor : training ? new float[] {1f, 0.3f} : new float[] {1f}) {
            if (format.equals("NDHWC") && !op.equals("FusedBatchNormV3")) {
              continue;
            }
            int rank = format.length();
            long[] shape = new long[rank];
            for (int a = 0; a < rank; a++) {
              shape[a] = 1 + rnd.nextInt(k % 2 == 0 ? 3 : 5);
            }
            int channels = (int) shape[format.startsWith("NC") ? 1 : rank - 1];
            Value x = random(rnd, DType.FLOAT32, shape);
            Value scale = random(rnd, DType.FLOAT32, channels);
            Value offset = random(rnd, DType.FLOAT32, channels);
            Value mean = random(rnd, DType.FLOAT32, channels);
            float[] var = new float[channels];
            for (int c = 0; c < channels; c++) {
              var[c] = 0.1f + rnd.nextFloat();
            }
            Value variance = Value.floats(new long[] {channels}, var);
            Map<String, AttrValue> attrs =
                OpOracle.attrs(
                    "T",
                    OpOracle.type(DType.FLOAT32),
                    "epsilon",
                    f(k++ % 2 == 0 ? 0.001f : 1e-5f),
                    "is_training",
                    b(training),
                    "data_format",
                    str(format),
                    "exponential_avg_factor",
                    f(factor));
            if (!op.equals("FusedBatchNorm")) {
              attrs.put("U", OpOracle.type(DType.FLOAT32));
            }
            int outputs = op.equals("FusedBatchNormV3") ? 6 : 5;
            Value[] mine = OpOracle.runKernel(op, attrs, x, scale, offset, mean, variance);
            List<Value> tf =
                OpOracle.runTensorFlow(op, attrs, outputs, x, scale, offset, mean, variance);
            String what =
                op + " " + x + " " + format + " training=" + training + " factor=" + factor;
            String key = op + (training ? " training" : " inference");
            // The reserve spaces are TF's private scratch: for 5-D input its oneDNN kernel leaves
            // them zero (and
            // reserve_space_3 a scalar), so they are compared for 4-D input only, where TF gives
            // the batch (or input)
            // mean and variance and an empty reserve_space_3.
            for (int o = 0; o < (rank == 4 ? outputs : 3); o++) {
              WORST.check(
                  key + " output " + o, what + " output " + o, mine[o], tf.get(o), 1e-5, 1e-4);
            }
          }
        }
      }
    }
  }

  @Test
  void globalNormalizationMatchesTensorFlow() {
    Random rnd = new Random(55);
    for (int k = 0; k < 8; k++) {
      DType t = k % 4 == 3 ? DType.FLOAT64 : DType.FLOAT32;
      int channels = 1 + rnd.nextInt(5);
      Value x =
          random(rnd, t, 1 + rnd.nextInt(2), 1 + rnd.nextInt(3), 1 + rnd.nextInt(3), channels);
      Value mean = random(rnd, t, channels);
      float[] var = new float[channels];
      for (int c = 0; c < channels; c++) {
        var[c] = 0.1f + rnd.nextFloat();
      }
      Value variance = Value.floats(new long[] {channels}, var);
      if (t == DType.FLOAT64) {
        variance = Value.doubles(new long[] {channels}, Reals.read(variance));
      }
      Value beta = random(rnd, t, channels);
      Value gamma = random(rnd, t, channels);
      Map<String, AttrValue> attrs =
          OpOracle.attrs(
              "T",
              OpOracle.type(t),
              "variance_epsilon",
              f(k % 2 == 0 ? 0.001f : 1e-5f),
              "scale_after_normalization",
              b(k % 3 != 0));
      WORST.check(
          "BatchNormWithGlobalNormalization " + t.jsName(),
          x + " " + attrs,
          OpOracle.runKernel(
              "BatchNormWithGlobalNormalization", attrs, x, mean, variance, beta, gamma)[0],
          OpOracle.runTensorFlow(
                  "BatchNormWithGlobalNormalization", attrs, 1, x, mean, variance, beta, gamma)
              .get(0),
          1e-5,
          1e-4);
    }
  }

  @Test
  void lrnMatchesTensorFlow() {
    Random rnd = new Random(53);
    for (int k = 0; k < 10; k++) {
      Value x =
          random(
              rnd,
              DType.FLOAT32,
              1 + rnd.nextInt(2),
              1 + rnd.nextInt(3),
              1 + rnd.nextInt(3),
              1 + rnd.nextInt(12));
      Map<String, AttrValue> attrs =
          OpOracle.attrs(
              "T",
              OpOracle.type(DType.FLOAT32),
              "depth_radius",
              i(rnd.nextInt(4)),
              "bias",
              f(0.5f + rnd.nextFloat()),
              "alpha",
              f(rnd.nextFloat()),
              "beta",
              f(0.25f + rnd.nextFloat()));
      WORST.check(
          "LRN float32",
          x + " " + attrs,
          OpOracle.runKernel("LRN", attrs, x)[0],
          OpOracle.runTensorFlow("LRN", attrs, 1, x).get(0),
          1e-5,
          1e-4);
    }
  }

  @Test
  void l2LossMatchesTensorFlow() {
    Random rnd = new Random(54);
    for (int k = 0; k < 6; k++) {
      DType t = k % 2 == 0 ? DType.FLOAT32 : DType.FLOAT64;
      Value x =
          random(
              rnd,
              t,
              k == 0 ? new long[] {0} : new long[] {1 + rnd.nextInt(30), 1 + rnd.nextInt(30)});
      Map<String, AttrValue> attrs = OpOracle.attrs("T", OpOracle.type(t));
      WORST.check(
          "L2Loss " + t.jsName(),
          x.toString(),
          OpOracle.runKernel("L2Loss", attrs, x)[0],
          OpOracle.runTensorFlow("L2Loss", attrs, 1, x).get(0),
          1e-6,
          t == DType.FLOAT32 ? 1e-5 : 1e-12);
    }
  }
}
