package org.tfport.runtime.ops;

import java.util.Arrays;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.RunContext;
import org.tfport.runtime.kernel.Value;

/**
 * Optimized float32 matrix products (MatMul, _FusedMatMul, BatchMatMul, BatchMatMulV2/V3) on the
 * packed GEMM of {@link Gemm}: a constant right operand is packed once at bind time, a batched
 * product whose right operand has no batch of its own runs as one GEMM over all rows of the left
 * one, and the fused bias and activation are applied per finished tile. Other types run the
 * reference kernel of {@link MatMulOps}.
 */
final class FastMatMulOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.optimized("MatMul", b -> bind(b, "transpose_a", "transpose_b", false, false));
    r.optimized("BatchMatMul", b -> bind(b, "adj_x", "adj_y", false, false));
    r.optimized("BatchMatMulV2", b -> bind(b, "adj_x", "adj_y", true, false));
    r.optimized("BatchMatMulV3", b -> bind(b, "adj_x", "adj_y", true, false));
    r.optimized("_FusedMatMul", b -> bind(b, "transpose_a", "transpose_b", true, true));
  }

  private static Kernel bind(
      BindContext b, String transposeA, String transposeB, boolean broadcast, boolean fused) {
    Kernel reference = MatMulOps.bind(b, transposeA, transposeB, broadcast, fused);
    DType t =
        b.op().equals("BatchMatMulV3")
            ? b.typeAttr("Ta", DType.FLOAT32)
            : Reals.type(b, "T", Reals.FLOATS);
    if (t != DType.FLOAT32) {
      return reference;
    }
    boolean ta = b.boolAttr(transposeA, false);
    boolean tb = b.boolAttr(transposeB, false);
    FusedEpilogue epilogue = fused ? FusedEpilogue.of(b, 2, t) : null;
    Microkernel mk = FastKernels.microkernel();
    Value constant = b.constantInput(1);
    Gemm.Packed[] packed = null;
    long[] constantShape = null;
    if (constant != null && constant.dtype() == DType.FLOAT32 && constant.rank() >= 2) {
      packed = packAll(constant, tb, mk);
      constantShape = constant.shape();
      // The packed copy is the only one kept: the plan passes null for it, the fallback unpacks.
      b.keepsConstant(1);
    }
    return new Product(
            reference,
            ta,
            tb,
            b.op().equals("MatMul"),
            broadcast,
            epilogue,
            mk,
            constantShape,
            packed)
        ::run;
  }

  /** The right operand {@link #packAll} packed, as it was: the reference kernel's input. */
  private static Value unpackAll(Gemm.Packed[] packed, long[] shape, boolean tb) {
    int r = shape.length;
    int k = packed.length == 0 ? 0 : packed[0].k();
    int n = packed.length == 0 ? 0 : packed[0].n();
    float[] out = new float[(int) Value.elementCount(shape)];
    for (int q = 0; q < packed.length && k * n > 0; q++) {
      float[] m = Gemm.unpack(packed[q]);
      if (tb) {
        // Packed from [n, k]: unpack gives [k, n].
        for (int kk = 0; kk < k; kk++) {
          for (int j = 0; j < n; j++) {
            out[q * k * n + j * k + kk] = m[kk * n + j];
          }
        }
      } else {
        System.arraycopy(m, 0, out, q * k * n, k * n);
      }
    }
    return Value.of(DType.FLOAT32, shape.clone(), out);
  }

  /** Each matrix of a (batched) right operand, packed. */
  private static Gemm.Packed[] packAll(Value bm, boolean tb, Microkernel mk) {
    int r = bm.rank();
    int k = Math.toIntExact(bm.dim(tb ? r - 1 : r - 2));
    int n = Math.toIntExact(bm.dim(tb ? r - 2 : r - 1));
    int count =
        k * n == 0
            ? (int) Value.elementCount(Arrays.copyOf(bm.shape(), r - 2))
            : bm.size() / (k * n);
    Gemm.Packed[] out = new Gemm.Packed[count];
    for (int q = 0; q < count; q++) {
      out[q] = Gemm.pack(bm.floats(), q * k * n, k, n, tb, mk.nr());
    }
    return out;
  }

  private record Product(
      Kernel reference,
      boolean ta,
      boolean tb,
      boolean matrixOnly,
      boolean broadcast,
      FusedEpilogue epilogue,
      Microkernel mk,
      long[] constantShape,
      Gemm.Packed[] packed) {
    Value[] run(Value[] in, RunContext ctx) {
      Value a = in[0];
      Value bm = in[1];
      // A constant right operand was packed at bind; the plan passes null for it unless another
      // node reads it as a value.
      boolean constant = packed != null;
      long[] bShape = constant ? constantShape : bm.shape();
      if (a.dtype() != DType.FLOAT32
          || (bm != null && bm.dtype() != DType.FLOAT32)
          || a.rank() < 2
          || bShape.length < 2
          || (matrixOnly && (a.rank() != 2 || bShape.length != 2))) {
        return fallback(in, ctx);
      }
      int ar = a.rank();
      int br = bShape.length;
      int m = Math.toIntExact(a.dim(ta ? ar - 1 : ar - 2));
      int k = Math.toIntExact(a.dim(ta ? ar - 2 : ar - 1));
      int kb = Math.toIntExact(bShape[tb ? br - 1 : br - 2]);
      int n = Math.toIntExact(bShape[tb ? br - 2 : br - 1]);
      long[] aBatch = Arrays.copyOf(a.shape(), ar - 2);
      long[] bBatch = Arrays.copyOf(bShape, br - 2);
      if (k != kb || (!broadcast && !Arrays.equals(aBatch, bBatch))) {
        return fallback(in, ctx);
      }
      long[] batch;
      try {
        batch = MatMulOps.broadcastShape(aBatch, bBatch, a, bm);
      } catch (KernelException e) {
        if (constant) {
          return fallback(in, ctx); // the reference kernel words it, naming the operand
        }
        throw e;
      }
      long[] shape = Arrays.copyOf(batch, batch.length + 2);
      shape[batch.length] = m;
      shape[batch.length + 1] = n;
      // With k = 0 the product is zeros, which only a new array holds.
      int size = (int) Value.elementCount(shape);
      float[] z = k == 0 ? new float[size] : FastKernels.floats(ctx, size);
      RowEpilogue rows = epilogue == null ? null : RowEpilogue.of(epilogue, in, shape, n, mk);
      if (z.length > 0) {
        float[] x = ta ? transposeMatrices(a.floats(), k, m) : a.floats();
        Gemm.Packed[] bs = constant ? packed : new Gemm.Packed[(int) Value.elementCount(bBatch)];
        int[] aIndex = MatMulOps.batchIndex(aBatch, batch);
        int[] bIndex = MatMulOps.batchIndex(bBatch, batch);
        int[] tap = {0};
        if (bs.length == 1 && Value.elementCount(aBatch) == aIndex.length) {
          // One right matrix for every left one: a single GEMM over all their rows.
          Gemm.run(
              ctx,
              mk,
              x,
              Gemm.rows(0, k),
              aIndex.length * m,
              tap,
              1,
              k,
              packed(bs, 0, bm, k, n),
              z,
              0,
              rows);
        } else {
          for (int q = 0; q < aIndex.length; q++) {
            Gemm.run(
                ctx,
                mk,
                x,
                Gemm.rows(aIndex[q] * m * k, k),
                m,
                tap,
                1,
                k,
                packed(bs, bIndex[q], bm, k, n),
                z,
                q * m * n,
                rows);
          }
        }
      }
      return new Value[] {FastConvOps.finish(z, shape, epilogue, rows, in)};
    }

    /** The reference kernel, given the constant operand unpacked when this kernel holds it. */
    private Value[] fallback(Value[] in, RunContext ctx) {
      if (in[1] != null) {
        return reference.run(in, ctx);
      }
      Value[] args = in.clone();
      args[1] = unpackAll(packed, constantShape, tb);
      return reference.run(args, ctx);
    }

    private Gemm.Packed packed(Gemm.Packed[] bs, int index, Value bm, int k, int n) {
      if (bs[index] == null) {
        bs[index] = Gemm.pack(bm.floats(), index * k * n, k, n, tb, mk.nr());
      }
      return bs[index];
    }
  }

  /** Each [rows, cols] matrix of {@code x} transposed to [cols, rows]. */
  private static float[] transposeMatrices(float[] x, int rows, int cols) {
    float[] out = new float[x.length];
    int size = rows * cols;
    for (int base = 0; base < x.length; base += size) {
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
          out[base + c * rows + r] = x[base + r * cols + c];
        }
      }
    }
    return out;
  }
}
