package org.tfport.runtime.ops;

import java.util.Arrays;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * Matrix products: MatMul, BatchMatMul (equal batch dims), BatchMatMulV2/V3 (broadcast batch dims),
 * _FusedMatMul (grappler and TF.js: the product then BiasAdd and an activation; TF.js also fuses
 * batched products). Each output element is one accumulator over k in ascending order. Einsum lives
 * in {@link EinsumOps}.
 */
final class MatMulOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("MatMul", b -> bind(b, "transpose_a", "transpose_b", false, false));
    r.reference("BatchMatMul", b -> bind(b, "adj_x", "adj_y", false, false));
    r.reference(b -> bind(b, "adj_x", "adj_y", true, false), "BatchMatMulV2", "BatchMatMulV3");
    r.reference("_FusedMatMul", b -> bind(b, "transpose_a", "transpose_b", true, true));
  }

  /** One product of an [m, k] by a [k, n] matrix at the given offsets. */
  @FunctionalInterface
  private interface Product {
    void run(int aOffset, int bOffset, int outOffset);
  }

  static Kernel bind(
      BindContext b, String transposeA, String transposeB, boolean broadcast, boolean fused) {
    DType t = b.op().equals("BatchMatMulV3") ? v3Type(b) : Reals.type(b, "T", Reals.FLOATS);
    boolean ta = b.boolAttr(transposeA, false);
    boolean tb = b.boolAttr(transposeB, false);
    boolean matrixOnly = b.op().equals("MatMul");
    FusedEpilogue epilogue = fused ? FusedEpilogue.of(b, 2, t) : null;
    if (!fused && b.inputCount() != 2) {
      throw new KernelException(b.op() + " takes 2 inputs, not " + b.inputCount());
    }
    return (in, ctx) -> {
      Value a = in[0];
      Value bm = in[1];
      ConvOps.checkType(a, t, "a");
      ConvOps.checkType(bm, t, "b");
      if (a.rank() < 2 || bm.rank() < 2 || (matrixOnly && (a.rank() != 2 || bm.rank() != 2))) {
        throw new KernelException(
            b.op()
                + " needs "
                + (matrixOnly ? "matrices" : "operands of rank 2 or more")
                + ", not "
                + a
                + " and "
                + bm);
      }
      int ar = a.rank();
      int br = bm.rank();
      int m = (int) a.dim(ta ? ar - 1 : ar - 2);
      int k = (int) a.dim(ta ? ar - 2 : ar - 1);
      int kb = (int) bm.dim(tb ? br - 1 : br - 2);
      int n = (int) bm.dim(tb ? br - 2 : br - 1);
      if (k != kb) {
        throw new KernelException(
            "inner dimensions differ: " + a + (ta ? "ᵀ" : "") + " × " + bm + (tb ? "ᵀ" : ""));
      }
      long[] aBatch = Arrays.copyOf(a.shape(), ar - 2);
      long[] bBatch = Arrays.copyOf(bm.shape(), br - 2);
      if (!broadcast && !Arrays.equals(aBatch, bBatch)) {
        throw new KernelException(b.op() + " batch dimensions differ: " + a + " and " + bm);
      }
      long[] batch = broadcastShape(aBatch, bBatch, a, bm);
      long[] shape = Arrays.copyOf(batch, batch.length + 2);
      shape[batch.length] = m;
      shape[batch.length + 1] = n;
      int size = (int) Value.elementCount(shape);
      // Element (i, kk) of a sits at i * ai + kk * ak; (kk, j) of b at kk * bk + j * bj.
      int ai = ta ? 1 : k;
      int ak = ta ? m : 1;
      int bk = tb ? 1 : n;
      int bj = tb ? k : 1;
      Object out;
      Product p;
      if (t == DType.FLOAT32) {
        float[] x = a.floats();
        float[] y = bm.floats();
        float[] z = new float[size];
        out = z;
        p =
            (ao, bo, oo) -> {
              for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                  float acc = 0;
                  for (int kk = 0; kk < k; kk++) {
                    acc += x[ao + i * ai + kk * ak] * y[bo + kk * bk + j * bj];
                  }
                  z[oo + i * n + j] = acc;
                }
              }
            };
      } else {
        double[] x = a.doubles();
        double[] y = bm.doubles();
        double[] z = new double[size];
        out = z;
        p =
            (ao, bo, oo) -> {
              for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                  double acc = 0;
                  for (int kk = 0; kk < k; kk++) {
                    acc += x[ao + i * ai + kk * ak] * y[bo + kk * bk + j * bj];
                  }
                  z[oo + i * n + j] = acc;
                }
              }
            };
      }
      int[] aIndex = batchIndex(aBatch, batch);
      int[] bIndex = batchIndex(bBatch, batch);
      for (int q = 0; q < aIndex.length; q++) {
        p.run(aIndex[q] * m * k, bIndex[q] * k * n, q * m * n);
      }
      Value result = Value.of(t, shape, out);
      if (epilogue != null) {
        result = epilogue.apply(result, shape.length - 1, in);
      }
      return new Value[] {result};
    };
  }

  private static DType v3Type(BindContext b) {
    DType t = Reals.type(b, "Ta", Reals.FLOATS);
    if (b.typeAttr("Tb", t) != t || b.typeAttr("Tout", t) != t) {
      throw new KernelException(
          "BatchMatMulV3 with Ta, Tb and Tout not all " + t.jsName() + " is not supported");
    }
    return t;
  }

  /** Numpy broadcasting of two batch shapes. */
  static long[] broadcastShape(long[] x, long[] y, Value a, Value b) {
    int rank = Math.max(x.length, y.length);
    long[] out = new long[rank];
    for (int i = 0; i < rank; i++) {
      long dx = i < rank - x.length ? 1 : x[i - (rank - x.length)];
      long dy = i < rank - y.length ? 1 : y[i - (rank - y.length)];
      if (dx != dy && dx != 1 && dy != 1) {
        throw new KernelException("batch dimensions of " + a + " and " + b + " do not broadcast");
      }
      out[i] = dx == 1 ? dy : dx;
    }
    return out;
  }

  /**
   * For each element of the broadcast batch {@code full}, the matching (row-major) element of
   * {@code part}.
   */
  static int[] batchIndex(long[] part, long[] full) {
    int n = (int) Value.elementCount(full);
    int[] out = new int[n];
    int rank = full.length;
    int[] strides = new int[rank];
    int stride = 1;
    for (int i = part.length - 1; i >= 0; i--) {
      int a = rank - part.length + i;
      strides[a] = part[i] == 1 ? 0 : stride;
      stride *= (int) part[i];
    }
    int[] index = new int[rank];
    int offset = 0;
    for (int q = 0; q < n; q++) {
      out[q] = offset;
      for (int a = rank - 1; a >= 0; a--) {
        offset += strides[a];
        if (++index[a] < full[a]) {
          break;
        }
        offset -= strides[a] * index[a];
        index[a] = 0;
      }
    }
    return out;
  }
}
