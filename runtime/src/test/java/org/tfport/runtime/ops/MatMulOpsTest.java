package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.tfport.runtime.ops.NnTesting.b;
import static org.tfport.runtime.ops.NnTesting.random;
import static org.tfport.runtime.ops.NnTesting.str;

import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.FusedConvOpsTest.Fusion;
import org.tfport.runtime.ops.NnTesting.TfGraph;
import org.tfport.runtime.ops.NnTesting.Worst;
import org.tfport.testkit.OracleTest;

/**
 * MatMul, BatchMatMul/V2/V3, _FusedMatMul and Einsum against TensorFlow 2.18. Tolerance |a−b| ≤
 * 1e-5 + 1e-4·|b| (float32), 1e-12 + 1e-10·|b| (float64).
 */
@OracleTest
class MatMulOpsTest {
  static final Worst WORST = new Worst();

  @AfterAll
  static void report() {
    System.out.print("MatMulOpsTest worst differences:\n" + WORST);
  }

  static void check(String op, DType t, String what, Value actual, Value expected) {
    if (t == DType.FLOAT32) {
      WORST.check(op + " float32", what, actual, expected, 1e-5, 1e-4);
    } else {
      WORST.check(op + " float64", what, actual, expected, 1e-12, 1e-10);
    }
  }

  private static long[] matrix(long[] batch, long rows, long cols, boolean transposed) {
    long[] s = java.util.Arrays.copyOf(batch, batch.length + 2);
    s[batch.length] = transposed ? cols : rows;
    s[batch.length + 1] = transposed ? rows : cols;
    return s;
  }

  @Test
  void matMulMatchesTensorFlow() {
    Random rnd = new Random(31);
    for (int k = 0; k < 24; k++) {
      DType t = k % 4 == 3 ? DType.FLOAT64 : DType.FLOAT32;
      boolean ta = (k & 1) != 0;
      boolean tb = (k & 2) != 0;
      int m = 1 + rnd.nextInt(7);
      int inner = k == 0 ? 0 : 1 + rnd.nextInt(40);
      int n = 1 + rnd.nextInt(7);
      Value a = random(rnd, t, matrix(new long[0], m, inner, ta));
      Value bm = random(rnd, t, matrix(new long[0], inner, n, tb));
      Map<String, AttrValue> attrs =
          OpOracle.attrs("T", OpOracle.type(t), "transpose_a", b(ta), "transpose_b", b(tb));
      check(
          "MatMul",
          t,
          m + "x" + inner + "x" + n + " " + ta + " " + tb,
          OpOracle.runKernel("MatMul", attrs, a, bm)[0],
          OpOracle.runTensorFlow("MatMul", attrs, 1, a, bm).get(0));
    }
  }

  @Test
  void batchMatMulBroadcastsLikeTensorFlow() {
    Random rnd = new Random(32);
    long[][][] batches = {
      {{}, {}},
      {{3}, {3}},
      {{2, 1}, {3}},
      {{1}, {2, 4}},
      {{2, 3}, {2, 3}},
      {{4, 1, 2}, {3, 1}},
      {{0}, {1}}
    };
    int k = 0;
    for (String op : new String[] {"BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"}) {
      for (long[][] bb : batches) {
        boolean equal = java.util.Arrays.equals(bb[0], bb[1]);
        if (op.equals("BatchMatMul") && !equal) {
          continue;
        }
        DType t = k++ % 3 == 2 ? DType.FLOAT64 : DType.FLOAT32;
        boolean ax = rnd.nextBoolean();
        boolean ay = rnd.nextBoolean();
        int m = 1 + rnd.nextInt(5);
        int inner = 1 + rnd.nextInt(9);
        int n = 1 + rnd.nextInt(5);
        Value a = random(rnd, t, matrix(bb[0], m, inner, ax));
        Value bm = random(rnd, t, matrix(bb[1], inner, n, ay));
        Map<String, AttrValue> attrs =
            op.equals("BatchMatMulV3")
                ? OpOracle.attrs(
                    "Ta", OpOracle.type(t), "Tb", OpOracle.type(t), "Tout", OpOracle.type(t))
                : OpOracle.attrs("T", OpOracle.type(t));
        attrs.put("adj_x", b(ax));
        attrs.put("adj_y", b(ay));
        String what = a + " " + bm + " " + ax + " " + ay;
        check(
            op,
            t,
            what,
            OpOracle.runKernel(op, attrs, a, bm)[0],
            OpOracle.runTensorFlow(op, attrs, 1, a, bm).get(0));
      }
    }
  }

  @Test
  void batchMatMulRejectsUnbroadcastableBatches() {
    Random rnd = new Random(33);
    Value a = random(rnd, DType.FLOAT32, 2, 3, 4);
    Value bm = random(rnd, DType.FLOAT32, 3, 4, 5);
    assertThatThrownBy(
            () ->
                OpOracle.runKernel(
                    "BatchMatMulV2", OpOracle.attrs("T", OpOracle.type(DType.FLOAT32)), a, bm))
        .isInstanceOf(KernelException.class)
        .hasMessageContaining("do not broadcast");
  }

  @Test
  void einsumNeedsAnExplicitOutput() {
    Random rnd = new Random(36);
    Value a = random(rnd, DType.FLOAT32, 3, 4);
    assertThatThrownBy(
            () ->
                OpOracle.runKernel(
                    "Einsum",
                    OpOracle.attrs("T", OpOracle.type(DType.FLOAT32), "equation", str("ij")),
                    a))
        .isInstanceOf(KernelException.class)
        .hasMessageContaining("exactly one '->'");
  }

  @Test
  void fusedMatMulMatchesComposition() {
    Random rnd = new Random(34);
    int k = 0;
    for (String act : FusedConvOpsTest.ACTIVATIONS) {
      for (int rep = 0; rep < 2; rep++, k++) {
        DType t = k % 4 == 3 ? DType.FLOAT64 : DType.FLOAT32;
        boolean ta = rnd.nextBoolean();
        boolean tb = rnd.nextBoolean();
        int m = 1 + rnd.nextInt(6);
        int inner = 1 + rnd.nextInt(20);
        int n = 1 + rnd.nextInt(6);
        Value a = random(rnd, t, matrix(new long[0], m, inner, ta));
        Value bm = random(rnd, t, matrix(new long[0], inner, n, tb));
        Fusion fusion = Fusion.random(rnd, t, n, false, act);
        Map<String, AttrValue> attrs =
            OpOracle.attrs("T", OpOracle.type(t), "transpose_a", b(ta), "transpose_b", b(tb));
        Value y = OpOracle.runTensorFlow("MatMul", attrs, 1, a, bm).get(0);
        fusion.addAttrs(attrs);
        Value mine = OpOracle.runKernel("_FusedMatMul", attrs, fusion.inputs(a, bm))[0];
        TfGraph g = new TfGraph();
        check(
            "_FusedMatMul",
            t,
            attrs.get("fused_ops").toString(),
            mine,
            g.run(fusion.compose(g, g.input(y), t)).get(0));
      }
    }
  }

  @Test
  void einsumMatchesTensorFlow() {
    Random rnd = new Random(35);
    Object[][] cases = {
      {"ij,jk->ik", new long[] {3, 4}, new long[] {4, 5}},
      {"ij,kj->ik", new long[] {3, 4}, new long[] {5, 4}},
      {"bij,bjk->bik", new long[] {2, 3, 4}, new long[] {2, 4, 5}},
      {"bhqd,bhkd->bhqk", new long[] {2, 2, 3, 4}, new long[] {2, 2, 5, 4}},
      {"abc,cd->abd", new long[] {2, 3, 4}, new long[] {4, 5}},
      {"i,i->", new long[] {7}, new long[] {7}},
      {"i,j->ij", new long[] {3}, new long[] {4}},
      {"ij->ji", new long[] {3, 4}},
      {"ij->", new long[] {3, 4}},
      {"ijk->ki", new long[] {2, 3, 4}},
      {"ii->i", new long[] {4, 4}},
      {"ii->", new long[] {4, 4}},
      {"ij,jk->", new long[] {3, 4}, new long[] {4, 2}},
      {"ba,ca->bc", new long[] {3, 4}, new long[] {2, 4}},
      {"ab,bc->a", new long[] {0, 4}, new long[] {4, 2}},
      {"...ij,...jk->...ik", new long[] {2, 3, 4}, new long[] {1, 4, 5}},
      {"...ij,jk->...ik", new long[] {2, 1, 3, 4}, new long[] {4, 5}},
      {"...ij,...jk->...ik", new long[] {2, 1, 3, 4}, new long[] {3, 4, 5}},
      {"i...,i...->...", new long[] {3, 2, 2}, new long[] {3, 2, 2}},
      {"ab,ab->ab", new long[] {3, 4}, new long[] {3, 4}},
      {"abcd,adbe->acbe", new long[] {2, 3, 2, 4}, new long[] {2, 4, 3, 2}},
    };
    int k = 0;
    for (Object[] c : cases) {
      DType t = k++ % 4 == 3 ? DType.FLOAT64 : DType.FLOAT32;
      Value[] in = new Value[c.length - 1];
      for (int i = 1; i < c.length; i++) {
        in[i - 1] = random(rnd, t, (long[]) c[i]);
      }
      Map<String, AttrValue> attrs =
          OpOracle.attrs(
              "T", OpOracle.type(t), "N", NnTesting.i(in.length), "equation", str((String) c[0]));
      check(
          "Einsum",
          t,
          (String) c[0],
          OpOracle.runKernel("Einsum", attrs, in)[0],
          OpOracle.runTensorFlow("Einsum", attrs, 1, in).get(0));
    }
  }
}
