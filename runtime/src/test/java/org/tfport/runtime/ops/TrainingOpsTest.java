package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.OracleCases.Tol;
import org.tfport.testkit.OracleTest;

/**
 * BiasAddGrad, the softmax cross-entropies (both outputs), BroadcastGradientArgs and
 * UnsortedSegmentSum against TensorFlow 2.18. Integer results and UnsortedSegmentSum (rows added in
 * order) are bit-identical; the exponentials are within |a−b| ≤ 1e-6·(1 + |b|) for float32 and
 * 1e-13·(1 + |b|) for float64, BiasAddGrad's float32 sums within 2e-5 + 1e-6·|b| (see SUM32).
 */
@OracleTest
class TrainingOpsTest {
  private static final OracleCases.Worst WORST = new OracleCases.Worst();
  private static final Tol F32 = new Tol(1e-6, 1e-6);

  /**
   * BiasAddGrad's float32 sums: TensorFlow accumulates up to 300 values of ±4 in float32, off the
   * exact sum by a few 1e-6 (tfport sums in double and rounds once).
   */
  private static final Tol SUM32 = new Tol(2e-5, 1e-6);

  private static final Tol F64 = new Tol(1e-13, 1e-13);

  @AfterAll
  static void report() {
    System.out.print("TrainingOpsTest worst |a-b|/max(1,|b|):\n" + WORST.summary());
  }

  private static Tol tol(DType t) {
    return t == DType.FLOAT32 ? F32 : F64;
  }

  private static Map<String, AttrValue> attrs(DType t) {
    return OpOracle.attrs("T", OpOracle.type(t));
  }

  @Test
  void biasAddGradMatchesTensorFlow() {
    Random rnd = new Random(141);
    GradCases cases = new GradCases(WORST);
    long[][] shapes = {{5, 3}, {2, 4, 3}, {2, 5, 6, 7}, {1, 3, 2, 4, 5}, {3, 0, 2}, {300, 17}};
    for (long[] shape : shapes) {
      for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
        for (String format : new String[] {"NHWC", "NCHW"}) {
          Map<String, AttrValue> a = attrs(t);
          a.put("data_format", NnTesting.str(format));
          cases.add(
              "BiasAddGrad " + format + " " + t.jsName() + Arrays.toString(shape),
              "BiasAddGrad",
              a,
              1,
              t == DType.FLOAT32 ? SUM32 : F64,
              OracleCases.random(rnd, t, -4, 4, shape));
        }
      }
    }
    cases.check();
  }

  @Test
  void softmaxCrossEntropiesMatchTensorFlow() {
    Random rnd = new Random(142);
    GradCases cases = new GradCases(WORST);
    long[][][] pairs = {
      {{4, 5}, {4, 5}}, {{1, 7}, {3, 7}}, {{3, 7}, {1, 7}}, {{6, 1}, {6, 1}}, {{2, 40}, {2, 40}}
    };
    for (long[][] pair : pairs) {
      for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
        Value logits = OracleCases.random(rnd, t, -20, 20, pair[0]);
        // Labels are rows of probabilities, except one case of arbitrary (negative) weights.
        Value labels = OracleCases.random(rnd, t, pair == pairs[4] ? -1 : 0, 1, pair[1]);
        cases.add(
            "SoftmaxCrossEntropyWithLogits " + t.jsName() + Arrays.deepToString(pair),
            "SoftmaxCrossEntropyWithLogits",
            attrs(t),
            2,
            tol(t),
            logits,
            labels);
      }
    }
    for (long[] shape : new long[][] {{4, 5}, {1, 1}, {9, 33}, {3, 1000}}) {
      for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
        for (DType tl : new DType[] {DType.INT32, DType.INT64}) {
          Value logits = OracleCases.random(rnd, t, -30, 30, shape);
          double[] ids = new double[(int) shape[0]];
          for (int i = 0; i < ids.length; i++) {
            ids[i] = rnd.nextInt((int) shape[1]);
          }
          Map<String, AttrValue> a = attrs(t);
          a.put("Tlabels", OpOracle.type(tl));
          cases.add(
              "SparseSoftmaxCrossEntropyWithLogits " + t.jsName() + Arrays.toString(shape),
              "SparseSoftmaxCrossEntropyWithLogits",
              a,
              2,
              tol(t),
              logits,
              OracleCases.of(tl, new long[] {ids.length}, ids));
        }
      }
    }
    cases.check();
  }

  @Test
  void outOfRangeSparseLabelIsRefused() {
    Map<String, AttrValue> a = attrs(DType.FLOAT32);
    a.put("Tlabels", OpOracle.type(DType.INT32));
    Value logits = Value.floats(new long[] {1, 3}, 1, 2, 3);
    Value labels = Value.ints(new long[] {1}, 3);
    assertThatThrownBy(
            () -> OpOracle.runKernel("SparseSoftmaxCrossEntropyWithLogits", a, logits, labels))
        .isInstanceOf(KernelException.class)
        .hasMessageContaining("label value of 3");
  }

  @Test
  void broadcastGradientArgsMatchesTensorFlow() {
    GradCases cases = new GradCases(WORST);
    long[][][] pairs = {
      {{2, 3, 5}, {1}},
      {{2, 3, 5}, {5}},
      {{2, 1, 5}, {3, 1}},
      {{1, 1}, {1, 1}},
      {{}, {4, 4}},
      {{4, 1, 1}, {1, 1}},
      {{7}, {7}},
      {{1, 4, 1, 3}, {5, 1, 4, 1, 3}},
      {{0, 1}, {1, 6}},
      {{1, 1}, {1}},
      {{3, 1}, {3, 1}}
    };
    for (long[][] pair : pairs) {
      for (DType t : new DType[] {DType.INT32, DType.INT64}) {
        cases.add(
            "BroadcastGradientArgs " + Arrays.deepToString(pair),
            "BroadcastGradientArgs",
            attrs(t),
            2,
            Tol.EXACT,
            shape(t, pair[0]),
            shape(t, pair[1]));
      }
    }
    cases.check();
  }

  private static Value shape(DType t, long[] dims) {
    return OracleCases.of(
        t, new long[] {dims.length}, Arrays.stream(dims).asDoubleStream().toArray());
  }

  @Test
  void unsortedSegmentSumMatchesTensorFlow() {
    Random rnd = new Random(143);
    GradCases cases = new GradCases(WORST);
    long[][] dataShapes = {{6}, {10, 4}, {3, 4, 5}, {0, 3}, {200, 16}};
    for (long[] shape : dataShapes) {
      for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64}) {
        // ids of the first axis or, for rank 3, of the first two; -1 drops a row.
        int idRank = shape.length == 3 ? 2 : 1;
        long[] idShape = Arrays.copyOf(shape, idRank);
        int rows = (int) Value.elementCount(idShape);
        int segments = 1 + rnd.nextInt(6);
        double[] ids = new double[rows];
        for (int i = 0; i < rows; i++) {
          ids[i] = rnd.nextInt(segments + 1) - 1;
        }
        DType ti = rnd.nextBoolean() ? DType.INT32 : DType.INT64;
        Map<String, AttrValue> a = attrs(t);
        a.put("Tindices", OpOracle.type(ti));
        a.put("Tnumsegments", OpOracle.type(DType.INT32));
        Value data =
            t == DType.INT32 || t == DType.INT64
                ? OracleCases.smallInts(rnd, t, -1000, 1000, shape)
                : OracleCases.random(rnd, t, -1, 1, shape);
        cases.add(
            "UnsortedSegmentSum " + t.jsName() + Arrays.toString(shape),
            "UnsortedSegmentSum",
            a,
            1,
            Tol.EXACT,
            data,
            OracleCases.of(ti, idShape, ids),
            Value.scalar(segments));
      }
    }
    cases.check();
  }
}
