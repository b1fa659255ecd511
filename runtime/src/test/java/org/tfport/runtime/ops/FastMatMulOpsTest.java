package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.runtime.ops.NnTesting.b;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.KernelRegistry.Mode;
import org.tfport.runtime.kernel.RunContext;
import org.tfport.runtime.kernel.Value;
import org.tfport.testkit.OracleTest;

/**
 * The optimized matrix products (FastMatMulOps) against the reference kernels (MatMulOps): random
 * sizes from 1 up (rows, depths and columns that do not fill a tile, a vector or a panel),
 * transposed operands, broadcast batches, constant and run-time right operands, fused bias and
 * activations. Tolerance |a−b| ≤ 1e-5 + 1e-4·|b|; results on two threads equal those on one bit for
 * bit.
 */
@OracleTest
class FastMatMulOpsTest {
  static final FastCheck CHECK = new FastCheck();

  @AfterAll
  static void report() {
    CHECK.close();
    System.out.print("FastMatMulOpsTest worst differences:\n" + CHECK.worst());
  }

  private static Map<String, AttrValue> attrs(String ta, boolean a, String tb, boolean bt) {
    Map<String, AttrValue> m = new LinkedHashMap<>();
    m.put("T", OpOracle.type(DType.FLOAT32));
    m.put(ta, b(a));
    m.put(tb, b(bt));
    return m;
  }

  private static long[] matrix(long[] batch, int rows, int cols, boolean transposed) {
    long[] s = java.util.Arrays.copyOf(batch, batch.length + 2);
    s[batch.length] = transposed ? cols : rows;
    s[batch.length + 1] = transposed ? rows : cols;
    return s;
  }

  @Test
  void matMulMatchesReference() {
    Random rnd = new Random(21);
    int[][] fixed = {{1, 1, 1}, {1, 300, 700}, {64, 100, 90}, {9, 33, 31}, {8, 0, 5}};
    for (int trial = 0; trial < 40; trial++) {
      int m;
      int k;
      int n;
      if (trial < fixed.length) {
        m = fixed[trial][0];
        k = fixed[trial][1];
        n = fixed[trial][2];
      } else {
        m = 1 + rnd.nextInt(trial % 2 == 0 ? 20 : 70);
        k = 1 + rnd.nextInt(70);
        n = 1 + rnd.nextInt(trial % 3 == 0 ? 100 : 40);
      }
      boolean ta = rnd.nextInt(4) == 0;
      boolean tb = rnd.nextInt(3) == 0;
      List<Integer> constants = trial % 4 == 3 ? List.of() : List.of(1);
      CHECK.check(
          "MatMul",
          "MatMul " + m + "x" + k + "x" + n + " ta " + ta + " tb " + tb + " const " + constants,
          "MatMul",
          attrs("transpose_a", ta, "transpose_b", tb),
          constants,
          OpOracle.randomFloats(rnd, matrix(new long[0], m, k, ta)),
          OpOracle.randomFloats(rnd, matrix(new long[0], k, n, tb)));
    }
  }

  @Test
  void batchMatMulMatchesReference() {
    Random rnd = new Random(22);
    long[][][] batches = {
      {{2, 3}, {}}, {{2, 1}, {3}}, {{}, {2}}, {{4}, {4}}, {{1}, {1}}, {{3}, {1}}, {{2, 2}, {2, 2}}
    };
    for (int trial = 0; trial < 28; trial++) {
      long[][] bb = batches[trial % batches.length];
      int m = 1 + rnd.nextInt(trial < 7 ? 40 : 12);
      int k = 1 + rnd.nextInt(40);
      int n = 1 + rnd.nextInt(50);
      boolean ta = rnd.nextInt(3) == 0;
      boolean tb = rnd.nextInt(3) == 0;
      String op = trial % 2 == 0 ? "BatchMatMulV2" : "BatchMatMulV3";
      Map<String, AttrValue> attrs = attrs("adj_x", ta, "adj_y", tb);
      if (op.equals("BatchMatMulV3")) {
        attrs.remove("T");
        attrs.put("Ta", OpOracle.type(DType.FLOAT32));
        attrs.put("Tb", OpOracle.type(DType.FLOAT32));
        attrs.put("Tout", OpOracle.type(DType.FLOAT32));
      }
      List<Integer> constants = trial % 3 == 2 ? List.of() : List.of(1);
      CHECK.check(
          op,
          op
              + " "
              + java.util.Arrays.toString(bb[0])
              + "x"
              + java.util.Arrays.toString(bb[1])
              + " "
              + m
              + "x"
              + k
              + "x"
              + n
              + " adj "
              + ta
              + ","
              + tb
              + " const "
              + constants,
          op,
          attrs,
          constants,
          OpOracle.randomFloats(rnd, matrix(bb[0], m, k, ta)),
          OpOracle.randomFloats(rnd, matrix(bb[1], k, n, tb)));
    }
    // BatchMatMul (v1): equal batch dimensions.
    CHECK.check(
        "BatchMatMul",
        "BatchMatMul [3] 5x7x9",
        "BatchMatMul",
        attrs("adj_x", false, "adj_y", true),
        List.of(1),
        OpOracle.randomFloats(rnd, 3, 5, 7),
        OpOracle.randomFloats(rnd, 3, 9, 7));
  }

  @Test
  void fusedMatMulMatchesReference() {
    Random rnd = new Random(23);
    String[] activations = FastConvOpsTest.ACTIVATIONS;
    for (int trial = 0; trial < 2 * activations.length; trial++) {
      int m = 1 + rnd.nextInt(trial % 4 == 0 ? 80 : 12);
      int k = 1 + rnd.nextInt(60);
      int n = 1 + rnd.nextInt(70);
      List<Value> inputs =
          new ArrayList<>(
              List.of(OpOracle.randomFloats(rnd, m, k), OpOracle.randomFloats(rnd, k, n)));
      Map<String, AttrValue> attrs =
          FastConvOpsTest.fusedAttrs(
              attrs("transpose_a", false, "transpose_b", trial % 2 == 1),
              rnd,
              inputs,
              n,
              false,
              activations[trial % activations.length],
              true);
      if (trial % 2 == 1) {
        inputs.set(1, OpOracle.randomFloats(rnd, n, k));
      }
      CHECK.check(
          "_FusedMatMul",
          "_FusedMatMul " + m + "x" + k + "x" + n + " " + attrs.get("fused_ops"),
          "_FusedMatMul",
          attrs,
          List.of(1),
          inputs.toArray(Value[]::new));
    }
  }

  @Test
  void float64RunsTheReferenceKernel() {
    Random rnd = new Random(24);
    Map<String, AttrValue> attrs = attrs("transpose_a", false, "transpose_b", false);
    attrs.put("T", OpOracle.type(DType.FLOAT64));
    Value a = NnTesting.random(rnd, DType.FLOAT64, 4, 6);
    Value w = NnTesting.random(rnd, DType.FLOAT64, 6, 3);
    Value ref = OpOracle.runKernel(Mode.REFERENCE, "MatMul", attrs, List.of(1), a, w)[0];
    Value opt = OpOracle.runKernel(Mode.OPTIMIZED, "MatMul", attrs, List.of(1), a, w)[0];
    OpOracle.assertClose("MatMul float64", opt, ref, 0, 0);
  }

  @Test
  void splitCoversEachIndexOnceOverSeveralThreads() throws InterruptedException {
    RunContext two = OpOracle.context(2);
    try {
      AtomicIntegerArray seen = new AtomicIntegerArray(1000);
      Set<String> threads = ConcurrentHashMap.newKeySet();
      CountDownLatch both = new CountDownLatch(1);
      FastKernels.split(
          two,
          1000,
          FastKernels.PARALLEL_MIN_WORK,
          (from, to) -> {
            threads.add(Thread.currentThread().getName());
            if (threads.size() >= 2) {
              both.countDown();
            }
            try {
              // The first thread in holds its chunk until a second thread has taken one (or 10 s
              // have passed).
              both.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            for (int q = from; q < to; q++) {
              seen.incrementAndGet(q);
            }
          });
      for (int q = 0; q < 1000; q++) {
        assertThat(seen.get(q)).as("index " + q).isEqualTo(1);
      }
      assertThat(threads).as("threads that took chunks").hasSize(2);
      AtomicIntegerArray calls = new AtomicIntegerArray(2);
      FastKernels.split(
          two,
          10,
          1,
          (from, to) -> {
            calls.incrementAndGet(0);
            calls.addAndGet(1, to - from);
          });
      assertThat(calls.get(0)).as("a tiny op runs as one call").isEqualTo(1);
      assertThat(calls.get(1)).isEqualTo(10);
    } finally {
      two.pool().shutdown();
    }
  }
}
