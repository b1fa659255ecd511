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
import org.tfport.runtime.ops.FixedPoint.Multiplier;
import org.tfport.runtime.ops.QuantizedConvOps.Quant;

/**
 * Optimized 8-bit TFLite ADD and SUB. Each input's rescaled term, m_i((q − zp_i)·2^20) in TFLite's
 * arithmetic, depends on one byte only: it is looked up in a 256-entry table made at bind time, so
 * an element costs one fixed-point multiply (the output's, on the Vector API with the integer
 * micro-kernels' requantization) instead of three, on the stored bytes directly. Same shapes, or
 * one input's shape a suffix of the other's (a per-channel term); anything else, and 16-bit models,
 * run {@link QuantizedOps}' reference kernel, bound alongside. Results are bit-identical to it.
 */
final class FastQuantizedAddOps implements OpFamily {
  /** Elements requantized per call. */
  private static final int BLOCK = 1024;

  /**
   * What an element costs in the GEMM multiply-adds {@link FastKernels#split}'s floors count: two
   * table loads and a requantization, measured (MobileNet V2 uint8, 1 thread) at well over ten
   * times a multiply-add. At 16, the model's adds of 20-140 µs are handed to the helpers (they ran
   * on the caller only) and one under about 8,000 elements stays on the caller.
   */
  static final long ELEMENT_WORK = 16;

  @Override
  public void register(KernelRegistry r) {
    r.optimized("TfliteQuantizedAdd", b -> bind(b, false));
    r.optimized("TfliteQuantizedSub", b -> bind(b, true));
  }

  private static Kernel bind(BindContext b, boolean sub) {
    Kernel reference = QuantizedOps.bindAddSub(b, sub);
    try {
      DType t = QuantizedConvOps.activationType(b);
      if (t == DType.INT16) {
        return reference;
      }
      Quant q1 = Quant.of(b, "input");
      Quant q2 = Quant.of(b, "input2");
      Quant qo = Quant.of(b, "output");
      int[] act = QuantizedConvOps.range(b, t, qo);
      // The reference kernel's constants for 8-bit inputs.
      int leftShift = 20;
      double twiceMax = 2 * (double) Math.max(q1.scale(), q2.scale());
      Multiplier m1 = Multiplier.of(q1.scale() / twiceMax);
      Multiplier m2 = Multiplier.of(q2.scale() / twiceMax);
      Multiplier mo = Multiplier.of(twiceMax / ((double) (1 << leftShift) * qo.scale()));
      int[] table1 = table(t, m1, q1.zeroPoint(), leftShift, false);
      int[] table2 = table(t, m2, q2.zeroPoint(), leftShift, sub);
      IntMicrokernel mk = IntMicrokernel.chosen();
      return new Add(reference, t, table1, table2, mo, qo.zeroPoint(), act[0], act[1], mk)::run;
    } catch (KernelException e) {
      return reference; // its own words, when it runs
    }
  }

  /** m((code − zp)·2^shift) for each byte (index = the byte as unsigned), negated for SUB's b. */
  private static int[] table(DType t, Multiplier m, int zeroPoint, int shift, boolean negate) {
    int[] table = new int[256];
    for (int i = 0; i < 256; i++) {
      int code = t == DType.UINT8 ? i : (byte) i;
      int v = m.apply((code - zeroPoint) * (1 << shift));
      table[i] = negate ? -v : v;
    }
    return table;
  }

  private record Add(
      Kernel reference,
      DType t,
      int[] table1,
      int[] table2,
      Multiplier out,
      int zeroPoint,
      int lo,
      int hi,
      IntMicrokernel mk,
      Requantizer block) {
    Add(
        Kernel reference,
        DType t,
        int[] table1,
        int[] table2,
        Multiplier out,
        int zeroPoint,
        int lo,
        int hi,
        IntMicrokernel mk) {
      this(reference, t, table1, table2, out, zeroPoint, lo, hi, mk, null);
    }

    Add {
      if (block == null) {
        block = requantizer(BLOCK, out, zeroPoint, lo, hi);
      }
    }

    private static Requantizer requantizer(
        int count, Multiplier out, int zeroPoint, int lo, int hi) {
      Multiplier[] m = new Multiplier[count];
      Arrays.fill(m, out);
      return Requantizer.of(m, zeroPoint, new int[] {lo, hi});
    }

    Value[] run(Value[] ins, RunContext ctx) {
      Value x1 = ins[0];
      Value x2 = ins[1];
      if (x1.dtype() != t || x2.dtype() != t) {
        return reference.run(ins, ctx);
      }
      boolean firstLarger = x1.size() >= x2.size();
      Value big = firstLarger ? x1 : x2;
      Value small = firstLarger ? x2 : x1;
      if (small.rank() > big.rank() || !isSuffix(small.shape(), big.shape()) || small.size() == 0) {
        return reference.run(ins, ctx);
      }
      byte[] a = big.bytes();
      byte[] c = small.bytes();
      int[] ta = firstLarger ? table1 : table2;
      int[] tc = firstLarger ? table2 : table1;
      int period = c.length;
      byte[] y = ctx.bytes(a.length);
      // The sums of looked-up terms go through the integer micro-kernel's requantization (one
      // output multiplier for every "channel"), a block of elements at a time; the blocks are
      // split over the session's threads.
      FastKernels.split(
          ctx,
          (a.length + BLOCK - 1) / BLOCK,
          ELEMENT_WORK * BLOCK,
          (from, to) -> {
            int[] sums = new int[BLOCK + IntMicrokernel.SLACK];
            int[] zeros = new int[BLOCK + IntMicrokernel.SLACK];
            for (int blk = from; blk < to; blk++) {
              int i0 = blk * BLOCK;
              int count = Math.min(BLOCK, a.length - i0);
              int j = i0 % period;
              for (int k = 0; k < count; k++) {
                sums[k] = ta[a[i0 + k] & 0xff] + tc[c[j] & 0xff];
                if (++j == period) {
                  j = 0;
                }
              }
              mk.requantize(block, count, sums, 0, zeros, y, i0);
            }
          });
      return new Value[] {Value.of(t, big.shape(), y)};
    }

    /**
     * Whether {@code small} without its leading 1s is {@code big}'s trailing dimensions (equal
     * shapes included): the broadcast then has big's shape and repeats small every small.size().
     */
    private static boolean isSuffix(long[] small, long[] big) {
      int from = 0;
      while (from < small.length && small[from] == 1) {
        from++;
      }
      int d = big.length - (small.length - from);
      return d >= 0 && Arrays.equals(small, from, small.length, big, d, big.length);
    }
  }
}
